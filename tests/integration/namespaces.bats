#!/usr/bin/env bats
# linux.namespaces: every type made new (the container's inode differs from
# the host's) and joined by path (the container sees the holder's inode).

load helpers

setup() {
	setup_bundle
	HOLDER_PIDS=()
}

teardown() {
	teardown_bundle
	local pid
	for pid in "${HOLDER_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
}

# host_ns TYPE: the host's (this shell's) namespace link, e.g. net:[4026531840].
host_ns() {
	readlink "/proc/self/ns/$1"
}

# ns_inside ID TYPE...: runs a one-off container printing the namespace
# links of its process, one a line.
ns_inside() {
	local id=$1
	shift
	local cmd=""
	for t in "$@"; do cmd+="readlink /proc/self/ns/$t; "; done
	set_args sh -c "$cmd"
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
}

# start_holder UNSHARE-ARGS...: starts `unshare ARGS sleep` as a namespace
# holder, killed in teardown; sets HOLDER to the pid that is inside the
# namespaces (unshare execs sleep, so it is $! itself).
start_holder() {
	unshare "$@" sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	HOLDER=$!
	HOLDER_PIDS+=("$HOLDER")
	# unshare has exec'ed sleep once its comm is sleep.
	local deadline=$((SECONDS + 10))
	while [ "$(cat /proc/$HOLDER/comm 2>/dev/null)" != sleep ]; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}

# join TYPE PATH: points the namespace of TYPE in config.json at PATH.
join() {
	update_config --arg t "$1" --arg p "$2" \
		'.linux.namespaces = ([.linux.namespaces[] | select(.type != $t)] + [{type: $t, path: $p}])'
}

@test "ns: the default config gets new pid, net, ipc, uts, mnt and cgroup namespaces" {
	ns_inside ns-new pid net ipc uts mnt cgroup
	local i=0 t
	for t in pid net ipc uts mnt cgroup; do
		inside=${lines[$i]}
		[[ "$inside" == "$t:["* ]]
		[ "$inside" != "$(host_ns "$t")" ]
		i=$((i + 1))
	done
	# Not listed: user and time are the host's.
	ns_inside ns-new2 user time
	[ "${lines[0]}" = "$(host_ns user)" ]
	[ "${lines[1]}" = "$(host_ns time)" ]
}

@test "ns: a namespace left out of the config is the host's" {
	update_config '.linux.namespaces = [{type: "mount"}, {type: "pid"}] | del(.hostname)'
	ns_inside ns-none net ipc uts cgroup
	[ "${lines[0]}" = "$(host_ns net)" ]
	[ "${lines[1]}" = "$(host_ns ipc)" ]
	[ "${lines[2]}" = "$(host_ns uts)" ]
	[ "${lines[3]}" = "$(host_ns cgroup)" ]
}

@test "ns: a new pid namespace makes the container's process pid 1" {
	set_args sh -c 'echo $$; ls /proc | grep -c "^[0-9]"'
	run berth run --bundle "$BUNDLE" ns-pid1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	# only sh, ls and grep are in it
	[ "${lines[1]}" -le 3 ]
}

@test "ns: a new network namespace has only lo" {
	set_args sh -c 'ls /sys/class/net'
	run berth run --bundle "$BUNDLE" ns-net
	[ "$status" -eq 0 ]
	[ "$output" = lo ]
}

@test "ns-lo: a network namespace made for the container has lo up, as under runc (made ahead, and by init's clone with a user namespace); a joined one is left as it is" {
	# IFF_UP|IFF_LOOPBACK is 0x9; a new namespace's lo is 0x8 (down)
	set_args sh -c 'cat /sys/class/net/lo/flags; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo reached'
	update_config '.process.capabilities |= with_entries(.value += ["CAP_NET_RAW"])' # ping's raw socket
	run berth run --bundle "$BUNDLE" ns-lo
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0x9 ]
	[ "${lines[1]}" = reached ]
	cp "$BUNDLE/config.json" "$TEST_TMP/orig.json"
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	chmod 711 "$TEST_TMP"
	set_args cat /sys/class/net/lo/flags
	run berth run --bundle "$BUNDLE" ns-lo-user
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 0x9 ]
	cp "$TEST_TMP/orig.json" "$BUNDLE/config.json"
	start_holder --net
	join network "/proc/$HOLDER/ns/net"
	set_args cat /sys/class/net/lo/flags
	run berth run --bundle "$BUNDLE" ns-lo-join
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 0x8 ]
}

@test "ns: the new network namespace is the one /proc/PID/ns/net names, from create on" {
	# berth makes the namespace ahead of the clone and init joins it:
	# what a prestart hook (CNI) and clients read at /proc/PID/ns/net
	# must be the container's from create on, and stay the process's.
	update_config --arg out "$TEST_TMP/hook-netns" \
		'.hooks.prestart = [{"path": "/bin/sh", "args": ["sh", "-c", "readlink /proc/$(jq -r .pid)/ns/net > \"$0\"", $out],
			"env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}]'
	set_args sleep 1000
	berth create --bundle "$BUNDLE" ns-netns
	pid=$(init_pid ns-netns)
	created=$(readlink /proc/$pid/ns/net)
	[ "$created" != "$(readlink /proc/self/ns/net)" ]
	[ "$(cat "$TEST_TMP/hook-netns")" = "$created" ]
	berth start ns-netns
	[ "$(readlink /proc/$pid/ns/net)" = "$created" ]
	# the process itself is in it, and it has only lo
	run berth exec ns-netns sh -c 'readlink /proc/1/ns/net; ls /sys/class/net'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$created" ]
	[ "${lines[1]}" = lo ]
	berth delete -f ns-netns
}

@test "ns: a new cgroup namespace is rooted at the container's cgroup" {
	set_args cat /proc/self/cgroup
	run berth run --bundle "$BUNDLE" ns-cg
	[ "$status" -eq 0 ]
	# every hierarchy's path is / inside its own namespace
	while IFS= read -r line; do
		[ "${line##*:}" = / ]
	done <<<"$output"
}

@test "ns: a new user namespace applies uidMappings and gidMappings" {
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	# Root in the container is 100000 on the host: give it its rootfs.
	# Root in the container is uid 100000 on the host: it must reach the
	# bundle (mktemp -d made it 0700) and own its rootfs to write to it.
	chmod 711 "$TEST_TMP"
	chown -R 100000:100000 "$BUNDLE/rootfs"
	set_args sh -c 'readlink /proc/self/ns/user; cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/w && echo wrote'
	update_config '.root.readonly = false'
	run berth run --bundle "$BUNDLE" ns-user
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "user:["* ]]
	[ "${lines[0]}" != "$(host_ns user)" ]
	read -r c h s <<<"${lines[1]}"
	[ "$c $h $s" = "0 100000 65536" ]
	read -r c h s <<<"${lines[2]}"
	[ "$c $h $s" = "0 100000 65536" ]
	[ "${lines[3]}" = 0 ]
	[ "${lines[4]}" = wrote ]
	# the file the container made belongs to the mapped host uid
	[ "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/w")" = 100000:100000 ]
}

@test "ns: the user-namespaced init runs as the mapped host uid" {
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	# Root in the container is uid 100000 on the host: it must reach the
	# bundle (mktemp -d made it 0700) and own its rootfs to write to it.
	chmod 711 "$TEST_TMP"
	chown -R 100000:100000 "$BUNDLE/rootfs"
	berth create --bundle "$BUNDLE" ns-userpid
	pid=$(init_pid ns-userpid)
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = 100000 ]
	[ "$(readlink "/proc/$pid/ns/user")" != "$(host_ns user)" ]
}

# A user namespace that maps no root (runc issue 1800; runc main and crun
# run it): init cannot become the namespace's root, so it takes the
# process's own user as its stand-in, keeping its capabilities, and builds
# the rootfs as that user.
@test "ns-noroot: a user namespace that maps no root runs the process as its user: run, create/start/exec, a Go init, a joined namespace" {
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 1000, hostID: 100000, size: 1}]
		| .linux.gidMappings = [{containerID: 1000, hostID: 200000, size: 1}]
		| .process.user = {uid: 1000, gid: 1000}
		| (.mounts[] | select(.destination == "/dev/pts") | .options) -= ["gid=5"]
		| .root.readonly = false'
	chmod 711 "$TEST_TMP"
	chown -R 100000:200000 "$BUNDLE/rootfs"
	set_args sh -c 'id -u; id -g; cat /proc/self/uid_map; touch /tmp/w && echo wrote'
	for go_init in "" 1; do
		rm -f "$BUNDLE/rootfs/tmp/w"
		run env ${go_init:+BERTH_GO_INIT=1} "$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" ns-noroot
		echo "$output"
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = 1000 ]
		[ "${lines[1]}" = 1000 ]
		read -r c h s <<<"${lines[2]}"
		[ "$c $h $s" = "1000 100000 1" ]
		[ "${lines[3]}" = wrote ]
		[ "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/w")" = 100000:200000 ]
	done
	# create (exec.fifo opened by the stand-in), start, exec
	set_args sleep 1000
	berth create --bundle "$BUNDLE" ns-noroot
	berth start ns-noroot
	pid=$(init_pid ns-noroot)
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = 100000 ]
	run berth exec ns-noroot sh -c 'id -u; id -g'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1000 ]
	berth delete -f ns-noroot
	# a joined namespace that maps no root
	start_holder --user
	echo "1000 100000 1" >"/proc/$HOLDER/uid_map"
	echo "1000 200000 1" >"/proc/$HOLDER/gid_map"
	update_config 'del(.linux.uidMappings, .linux.gidMappings)'
	join user "/proc/$HOLDER/ns/user"
	set_args sh -c 'id -u; cat /proc/self/uid_map'
	run berth run --bundle "$BUNDLE" ns-noroot-join
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	read -r c h s <<<"${lines[1]}"
	[ "$c $h $s" = "1000 100000 1" ]
}

@test "ns: a new time namespace applies linux.timeOffsets" {
	update_config '.linux.namespaces += [{type: "time"}]
		| .linux.timeOffsets = {boottime: {secs: 864000, nanosecs: 0}, monotonic: {secs: 432000, nanosecs: 0}}'
	set_args sh -c 'readlink /proc/self/ns/time; cut -d. -f1 /proc/uptime; cat /proc/self/timens_offsets'
	host_up=$(cut -d. -f1 /proc/uptime)
	run berth run --bundle "$BUNDLE" ns-time
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "time:["* ]]
	[ "${lines[0]}" != "$(host_ns time)" ]
	# uptime is the boottime clock: 10 days ahead of the host's
	[ "${lines[1]}" -ge $((host_up + 864000)) ]
	[ "${lines[1]}" -lt $((host_up + 864000 + 60)) ]
	offsets=$(printf '%s\n' "${lines[@]:2}" | tr -s ' ' | sort)
	[ "$offsets" = "$(printf 'boottime 864000 0\nmonotonic 432000 0')" ]
}

@test "ns: net, ipc and uts namespaces joined by path" {
	start_holder --net --ipc --uts
	join network "/proc/$HOLDER/ns/net"
	join ipc "/proc/$HOLDER/ns/ipc"
	join uts "/proc/$HOLDER/ns/uts"
	# a hostname needs a private UTS namespace
	update_config 'del(.hostname)'
	ns_inside ns-join net ipc uts
	[ "${lines[0]}" = "$(readlink "/proc/$HOLDER/ns/net")" ]
	[ "${lines[1]}" = "$(readlink "/proc/$HOLDER/ns/ipc")" ]
	[ "${lines[2]}" = "$(readlink "/proc/$HOLDER/ns/uts")" ]
	[ "${lines[0]}" != "$(host_ns net)" ]
}

@test "ns: a pid namespace joined by path" {
	unshare --pid --fork --mount-proc sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	HOLDER_PIDS+=($!)
	local deadline=$((SECONDS + 10)) child=""
	while [ -z "$child" ] && [ $SECONDS -lt $deadline ]; do
		child=$(pgrep -P $! sleep || true)
		[ -n "$child" ] || sleep 0.05
	done
	HOLDER_PIDS+=("$child")
	join pid "/proc/$child/ns/pid"
	set_args sh -c 'readlink /proc/self/ns/pid; echo $$'
	run berth run --bundle "$BUNDLE" ns-joinpid
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(readlink "/proc/$child/ns/pid")" ]
	# the holder's sleep is pid 1 there, so the container's process is not
	[ "${lines[1]}" -gt 1 ]
}

@test "ns: a mount namespace joined by path" {
	start_holder --mount --propagation private
	join mount "/proc/$HOLDER/ns/mnt"
	ns_inside ns-joinmnt mnt
	[ "${lines[0]}" = "$(readlink "/proc/$HOLDER/ns/mnt")" ]
	[ "${lines[0]}" != "$(host_ns mnt)" ]
}

@test "ns: a cgroup namespace joined by path" {
	start_holder --cgroup
	join cgroup "/proc/$HOLDER/ns/cgroup"
	ns_inside ns-joincg cgroup
	[ "${lines[0]}" = "$(readlink "/proc/$HOLDER/ns/cgroup")" ]
	[ "${lines[0]}" != "$(host_ns cgroup)" ]
}

@test "ns: a user namespace joined by path" {
	start_holder --user
	echo "0 100000 65536" >"/proc/$HOLDER/uid_map"
	echo "0 100000 65536" >"/proc/$HOLDER/gid_map"
	# Root in the container is uid 100000 on the host: it must reach the
	# bundle (mktemp -d made it 0700) and own its rootfs to write to it.
	chmod 711 "$TEST_TMP"
	chown -R 100000:100000 "$BUNDLE/rootfs"
	join user "/proc/$HOLDER/ns/user"
	set_args sh -c 'readlink /proc/self/ns/user; cat /proc/self/uid_map'
	run berth run --bundle "$BUNDLE" ns-joinuser
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(readlink "/proc/$HOLDER/ns/user")" ]
	read -r c h s <<<"${lines[1]}"
	[ "$c $h $s" = "0 100000 65536" ]
}

@test "ns: a time namespace joined by path" {
	# The holder's own ns/time stays the host's; its children's is new.
	unshare --time --boottime 86400 sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	HOLDER=$!
	HOLDER_PIDS+=("$HOLDER")
	local deadline=$((SECONDS + 10))
	while [ "$(cat /proc/$HOLDER/comm 2>/dev/null)" != sleep ]; do
		[ $SECONDS -lt $deadline ]
		sleep 0.05
	done
	tns=$(readlink "/proc/$HOLDER/ns/time_for_children")
	[ "$tns" != "$(host_ns time)" ]
	join time "/proc/$HOLDER/ns/time_for_children"
	set_args sh -c 'readlink /proc/self/ns/time; cut -d. -f1 /proc/uptime'
	host_up=$(cut -d. -f1 /proc/uptime)
	run berth run --bundle "$BUNDLE" ns-jointime
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$tns" ]
	[ "${lines[1]}" -ge $((host_up + 86400)) ]
}

@test "ns: exec joins every namespace of the container" {
	update_config '.linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {boottime: {secs: 1000}}'
	berth run -d --bundle "$BUNDLE" ns-exec
	wait_status ns-exec running
	pid=$(init_pid ns-exec)
	run berth exec ns-exec sh -c 'for t in pid net ipc uts mnt cgroup time; do readlink /proc/self/ns/$t; done'
	[ "$status" -eq 0 ]
	local i=0 t
	for t in pid net ipc uts mnt cgroup time; do
		[ "${lines[$i]}" = "$(readlink "/proc/$pid/ns/$t")" ]
		i=$((i + 1))
	done
}

@test "ns: a namespace path that does not exist fails create with its path" {
	join network /proc/999999999/ns/net
	run berth create --bundle "$BUNDLE" ns-badpath
	[ "$status" -ne 0 ]
	[[ "$output" == *"/proc/999999999/ns/net"* ]]
}

@test "ns: a path to a namespace of another type fails create" {
	start_holder --net
	join ipc "/proc/$HOLDER/ns/net"
	run berth create --bundle "$BUNDLE" ns-wrongtype
	[ "$status" -ne 0 ]
	[[ "$output" == *"/proc/$HOLDER/ns/net"* ]]
	[ "$(container_status ns-wrongtype)" = "" ]
}

@test "ns: timeOffsets without a time namespace fail create" {
	update_config '.linux.timeOffsets = {boottime: {secs: 10}}'
	run berth create --bundle "$BUNDLE" ns-offs
	[ "$status" -ne 0 ]
	[[ "$output" == *"time namespace"* ]]
}

@test "ns: new user and time namespaces together (made by nsenter), and exec into them" {
	update_config '.linux.namespaces += [{type: "user"}, {type: "time"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.timeOffsets = {boottime: {secs: 86400}}
		| .root.readonly = false'
	chmod 711 "$TEST_TMP"
	chown -R 100000:100000 "$BUNDLE/rootfs"
	berth run -d --bundle "$BUNDLE" ns-usertime
	wait_status ns-usertime running
	pid=$(init_pid ns-usertime)
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = 100000 ]
	run berth exec ns-usertime sh -c 'readlink /proc/self/ns/user; readlink /proc/self/ns/time; id -u; touch /tmp/e && echo wrote'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(readlink "/proc/$pid/ns/user")" ]
	[ "${lines[0]}" != "$(host_ns user)" ]
	[ "${lines[1]}" = "$(readlink "/proc/$pid/ns/time")" ]
	[ "${lines[1]}" != "$(host_ns time)" ]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" = wrote ]
	[ "$(stat -c %u "$BUNDLE/rootfs/tmp/e")" = 100000 ]
}

@test "ns-own: namespaces joined by the runtime's own /proc/self/ns paths are the host's, for run and exec" {
	# /proc/self is berth itself when it reads the config: each is the
	# namespace berth runs in, which the container shares (runc does the
	# same). The mount namespace is left out: without one of its own a
	# container would change the caller's (issue 10).
	local t n
	for t in user ipc network uts pid cgroup; do
		n=$t
		[ "$t" = network ] && n=net
		join "$t" "/proc/self/ns/$n"
	done
	update_config 'del(.hostname)'
	berth run -d --bundle "$BUNDLE" ns-own
	wait_status ns-own running
	pid=$(init_pid ns-own)
	for n in user ipc net uts pid cgroup; do
		[ "$(readlink "/proc/$pid/ns/$n")" = "$(host_ns $n)" ] || { echo "$n is not the host's"; false; }
	done
	run berth exec ns-own sh -c 'for n in user ipc net uts cgroup; do readlink /proc/self/ns/$n; done'
	[ "$status" -eq 0 ]
	[ "$output" = "$(for n in user ipc net uts cgroup; do host_ns $n; done)" ]
}

@test "ns-uts: a hostname is set in a UTS namespace joined by path" {
	start_holder --uts
	join uts "/proc/$HOLDER/ns/uts"
	update_config '.hostname = "ns-joined-uts" | .domainname = "ns.example"'
	set_args sh -c 'hostname; readlink /proc/self/ns/uts'
	local before
	before=$(hostname)
	run berth run --bundle "$BUNDLE" ns-utsjoin
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = ns-joined-uts ]
	[ "${lines[1]}" = "$(readlink "/proc/$HOLDER/ns/uts")" ]
	# Set in the joined namespace, the holder's, not the host's.
	[ "$(nsenter -t "$HOLDER" -u hostname)" = ns-joined-uts ]
	[ "$(nsenter -t "$HOLDER" -u domainname)" = ns.example ]
	[ "$(hostname)" = "$before" ]
}

@test "ns-uts: a hostname with the runtime's own UTS namespace joined is refused, the host's name untouched" {
	join uts /proc/self/ns/uts
	update_config '.hostname = "ns-not-the-host"'
	local before
	before=$(hostname)
	run berth create --bundle "$BUNDLE" ns-utsown
	[ "$status" -ne 0 ]
	[[ "$output" == *"unable to set hostname: the UTS namespace joined by path /proc/self/ns/uts is the runtime's own"* ]]
	[ "$(hostname)" = "$before" ]
	[ ! -e "$STATE_ROOT/ns-utsown" ]
}

# share_with_a: runs container A (ns-share-a) with a user namespace of its
# own (root is host uid/gid 100000) and its own net/ipc/uts namespaces,
# sets APID to its init, then points the bundle's config (B's) at A's net,
# ipc and uts namespaces by path; the test joins A's user namespace.
share_with_a() {
	chmod 711 "$TEST_TMP"
	chown -R 100000:100000 "$BUNDLE/rootfs"
	cp "$BUNDLE/config.json" "$TEST_TMP/base.json"
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	berth run -d --bundle "$BUNDLE" ns-share-a
	wait_status ns-share-a running
	APID=$(init_pid ns-share-a)
	cp "$TEST_TMP/base.json" "$BUNDLE/config.json"
	update_config '.root.readonly = false | del(.hostname)'
	join network "/proc/$APID/ns/net"
	join ipc "/proc/$APID/ns/ipc"
	join uts "/proc/$APID/ns/uts"
}

# check_b ID: B's process is in A's namespaces, sees A's id maps, and its
# root is A's (host uid 100000): what it writes in its rootfs is 100000's.
check_b() {
	[ "${lines[0]}" = "$(readlink "/proc/$APID/ns/user")" ]
	[ "${lines[1]}" = "$(readlink "/proc/$APID/ns/net")" ]
	read -r c h s <<<"${lines[2]}"
	[ "$c $h $s" = "0 100000 65536" ]
	read -r c h s <<<"${lines[3]}"
	[ "$c $h $s" = "0 100000 65536" ]
	[ "${lines[4]}" = 0 ]
	[ "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/$1")" = 100000:100000 ]
}

@test "ns-share: a container joins another container's namespaces by /proc path, user namespace included (create, start, exec)" {
	share_with_a
	join user "/proc/$APID/ns/user"
	set_args sh -c 'readlink /proc/self/ns/user; readlink /proc/self/ns/net; cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/b1; sleep 1000'
	berth create --bundle "$BUNDLE" ns-share-b
	berth start ns-share-b
	wait_status ns-share-b running
	run berth exec ns-share-b sh -c 'readlink /proc/self/ns/user; readlink /proc/self/ns/net; cat /proc/self/uid_map /proc/self/gid_map; id -u'
	[ "$status" -eq 0 ]
	# The init's touch runs right after start; give it a deadline.
	local deadline=$((SECONDS + 10))
	until [ -e "$BUNDLE/rootfs/tmp/b1" ] || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
	check_b b1
}

@test "ns-share: a container joins another container's user namespace through a bind-mounted namespace file" {
	share_with_a
	touch "$TEST_TMP/userns"
	mount --bind "/proc/$APID/ns/user" "$TEST_TMP/userns"
	join user "$TEST_TMP/userns"
	# create + start: the created init opens exec.fifo as the joined
	# namespace's root, so berth must know that namespace's maps.
	set_args sh -c 'readlink /proc/self/ns/user; readlink /proc/self/ns/net; cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/b2'
	berth create --bundle "$BUNDLE" ns-share-bind
	run berth start ns-share-bind
	[ "$status" -eq 0 ]
	wait_status ns-share-bind stopped
	[ -e "$BUNDLE/rootfs/tmp/b2" ]
	[ "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/b2")" = 100000:100000 ]
	# And run shows what it sees.
	run berth run --bundle "$BUNDLE" ns-share-bind2
	[ "$status" -eq 0 ]
	check_b b2
}

@test "ns-fullid: root of a user namespace whose map is the full identity is in a user namespace (systemd's PrivateUsers=full): host devices bound, device rules left alone, as runc 1.5.2" {
	# That map reads as the initial namespace's; berth once took it for
	# that, made device nodes and wrote the devices cgroup (EPERM there).
	set_args sh -c 'echo x >/dev/null && echo null-ok; grep -c " /dev/null " /proc/self/mountinfo'
	run "$TESTBIN/fullidns" sh -c 'cat /proc/self/uid_map; exec "$@"' sh "$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" ns-fullid
	[ "$status" -eq 0 ]
	[ "$(echo ${lines[0]})" = "0 0 4294967295" ]
	[ "${lines[1]}" = null-ok ]
	# /dev/null is a bind of the host's, not a node berth made
	[ "${lines[2]}" = 1 ]
	run "$BERTH" --root "$STATE_ROOT" list -q
	[ -z "$output" ]
}
