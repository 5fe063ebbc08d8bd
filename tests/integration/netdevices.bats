#!/usr/bin/env bats
# linux.netDevices: host interfaces moved into the container's network
# namespace (renamed, addresses kept, up), read back from inside. Every
# test runs berth in a network namespace of its own (unshare --net) with
# a veth pair it makes there (this kernel has no dummy links): the host's
# network is never touched.

load helpers

setup() {
	setup_bundle
	set_args sh -c 'ip -o link show; ip -o addr show'
}
teardown() { teardown_bundle; }

# in_netns SCRIPT: runs SCRIPT with bash in a new network namespace,
# with BERTH, STATE_ROOT, BUNDLE and TEST_TMP set; berth's stdio goes
# through files (see the berth wrapper).
in_netns() {
	BERTH=$BERTH STATE_ROOT=$STATE_ROOT BUNDLE=$BUNDLE TEST_TMP=$TEST_TMP \
		unshare --net -- bash -euc "b() { local rc=0; \"\$BERTH\" --root \"\$STATE_ROOT\" \"\$@\" >\"\$TEST_TMP/b.out\" 2>&1 </dev/null || rc=\$?; cat \"\$TEST_TMP/b.out\"; return \$rc; }
$1" 3>&-
}

@test "nd-move: a device moves in renamed, with its permanent addresses, and up; the host has it no more" {
	update_config '.linux.netDevices = {"nd-peer": {"name": "ctr0"}}'
	run in_netns '
		ip link add nd-host type veth peer name nd-peer
		ip addr add 10.199.1.2/24 dev nd-peer
		ip -6 addr add fd00:199::2/64 dev nd-peer nodad
		b run --bundle "$BUNDLE" nd-move
		echo "host after: $(ip -o link show | grep -c nd-peer || true)"'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *": ctr0@"*"UP"* ]]
	[[ "$output" == *"ctr0    inet 10.199.1.2/24"* ]]
	[[ "$output" == *"ctr0    inet6 fd00:199::2/64"* ]]
	# nodad carried over: the address is not tentative
	! grep -q 'fd00:199::2.*tentative' <<<"$output" || false
	[[ "$output" != *"nd-peer"*"mtu"* ]]
	[[ "$output" == *"host after: 0"* ]]
}

@test "nd-name: without a name the device keeps its own; a %d template gets a number" {
	update_config '.linux.netDevices = {"nd-a": {}, "nd-b": {"name": "eth%d"}}'
	run in_netns '
		ip link add nd-ha type veth peer name nd-a
		ip link add nd-hb type veth peer name nd-b
		b run --bundle "$BUNDLE" nd-name'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *": nd-a@"*"UP"* ]]
	[[ "$output" == *": eth0@"*"UP"* ]]
}

@test "nd-create: the device is in place for createRuntime hooks, create and exec, and goes with the namespace on delete (not moved back)" {
	# The hook looks into the container's network namespace by the pid
	# in the state it reads on stdin.
	cat >"$TEST_TMP/hook.sh" <<-EOF
		#!/bin/sh
		pid=\$(jq -r .pid)
		nsenter -t "\$pid" -n ip -o link show >"$TEST_TMP/hook.out" 2>&1
	EOF
	chmod +x "$TEST_TMP/hook.sh"
	update_config --arg hook "$TEST_TMP/hook.sh" '.linux.netDevices = {"nd-c": {"name": "eth1"}}
		| .hooks.createRuntime = [{"path": $hook}]'
	set_args sleep 1000
	run in_netns '
		ip link add nd-hc type veth peer name nd-c
		b create --bundle "$BUNDLE" nd-create
		pid=$("$BERTH" --root "$STATE_ROOT" state nd-create | jq -r .pid)
		echo "inside at create: $(nsenter -t "$pid" -n ip -o link show | grep -o "eth1@[^:]*" || true)"
		b start nd-create
		b exec nd-create ip -o link show eth1
		b delete --force nd-create
		for i in $(seq 100); do ip link show nd-hc >/dev/null 2>&1 || break; sleep 0.1; done
		echo "host side after delete: $(ip -o link show | grep -c nd-h || true)"'
	echo "$output"
	cat "$TEST_TMP/hook.out"
	[ "$status" -eq 0 ]
	grep -q ': eth1@' "$TEST_TMP/hook.out"
	[[ "$output" == *"inside at create: eth1@"* ]]
	[[ "$output" == *": eth1@"*"UP"* ]]
	# A veth is destroyed with the namespace, its host end with it.
	[[ "$output" == *"host side after delete: 0"* ]]
}

@test "nd-errors: a missing device, a name taken inside, no network namespace and bad names fail create clearly and leave nothing" {
	update_config '.linux.netDevices = {"nd-missing": {}}'
	run in_netns 'b run --bundle "$BUNDLE" nd-err1'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *'linux.netDevices: device '*nd-missing*': no such device'* ]]
	[ -z "$("$BERTH" --root "$STATE_ROOT" list -q)" ]

	# "lo" exists in every new network namespace; the device stays on
	# the host as it was, address and all.
	update_config '.linux.netDevices = {"nd-e": {"name": "lo"}}'
	run in_netns '
		ip link add nd-he type veth peer name nd-e
		ip addr add 10.199.2.2/24 dev nd-e
		b run --bundle "$BUNDLE" nd-err2 || echo "rc=$?"
		ip -o addr show nd-e'
	echo "$output"
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *nd-e*lo*': a device of that name exists there'* ]]
	[[ "$output" == *"nd-e    inet 10.199.2.2/24"* ]]
	[ -z "$("$BERTH" --root "$STATE_ROOT" list -q)" ]

	update_config '.linux.netDevices = {"nd-x": {}} | .linux.namespaces |= map(select(.type != "network"))'
	run berth run --bundle "$BUNDLE" nd-err3
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.netDevices: needs a network namespace"* ]]

	update_config '.linux.netDevices = {"nd-x": {"name": "a/b"}} | .linux.namespaces += [{"type": "network"}]'
	run berth run --bundle "$BUNDLE" nd-err4
	[ "$status" -ne 0 ]
	[[ "$output" == *'linux.netDevices['*nd-x*'].name: interface name '*a/b* ]]
	[ -z "$("$BERTH" --root "$STATE_ROOT" list -q)" ]
}

@test "nd-userns: devices move into a network namespace owned by the container's user namespace" {
	update_config '.linux.netDevices = {"nd-u": {"name": "eth0"}}
		| .linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	# Root in the container is uid 100000 on the host: it must reach the
	# bundle (mktemp -d made it 0700).
	chmod 711 "$TEST_TMP"
	chown -R 100000:100000 "$BUNDLE/rootfs"
	run in_netns '
		ip link add nd-hu type veth peer name nd-u
		ip addr add 10.199.3.2/24 dev nd-u
		b run --bundle "$BUNDLE" nd-userns'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *": eth0@"*"UP"* ]]
	[[ "$output" == *"eth0    inet 10.199.3.2/24"* ]]
}

@test "nd-events: events --stats reports the container's interfaces and their counters, loopback left out" {
	update_config '.linux.netDevices = {"nd-v": {"name": "eth0"}}'
	set_args sleep 1000
	run in_netns '
		ip link add nd-hv type veth peer name nd-v
		ip addr add 10.199.4.1/24 dev nd-hv
		ip link set nd-hv up
		ip addr add 10.199.4.2/24 dev nd-v
		b run -d --bundle "$BUNDLE" nd-events
		# Traffic through the veth: pings from the container to the host
		# end (ping needs CAP_NET_RAW), answered before the stats are read.
		b exec --cap CAP_NET_RAW nd-events ping -c 3 -W 2 10.199.4.1 >&2
		"$BERTH" --root "$STATE_ROOT" events --stats nd-events
		b delete --force nd-events'
	echo "$output"
	[ "$status" -eq 0 ]
	json=$(grep '"type":"stats"' <<<"$output")
	[ "$(jq -r '[.data.network_interfaces[].name] | join(",")' <<<"$json")" = eth0 ]
	[ "$(jq '.data.network_interfaces[0].tx_packets > 0' <<<"$json")" = true ]
	[ "$(jq '.data.network_interfaces[0].rx_bytes > 0' <<<"$json")" = true ]
}
