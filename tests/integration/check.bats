#!/usr/bin/env bats
# berth check: each row is compared with the host, and a missing system
# call is simulated by running berth check inside a container whose
# seccomp filter answers ENOSYS for it.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

# row NAME: the status of one item in the JSON report in $json.
row() { jq -r --arg i "$1" '.items[] | select(.item == $i) | .status' <<<"$json"; }

@test "check: passes on this host and prints a table and matching JSON" {
	run "$BERTH" check
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^ITEM\ +STATUS\ +DETAIL$ ]]
	run "$BERTH" check --format json
	[ "$status" -eq 0 ]
	json=$output
	[ "$(jq -r .ok <<<"$json")" = true ]
	# Same rows, same statuses, in both formats.
	table=$("$BERTH" check | tail -n +2 | awk '{print $NF == "" ? "" : $0}' | sed -E 's/  +/\t/g' | cut -f1,2)
	[ "$table" = "$(jq -r '.items[] | [.item, .status] | @tsv' <<<"$json")" ]
	# No required item is missing (that is what exit 0 means).
	[ "$(jq '[.items[] | select(.status == "missing")] | length' <<<"$json")" -eq 0 ]
	run "$BERTH" check --format yaml
	[ "$status" -ne 0 ]
}

@test "check: rows agree with the host" {
	json=$("$BERTH" check --format json)
	for ns in user pid network ipc uts cgroup time mount; do
		f=$ns
		[ $ns = network ] && f=net
		[ $ns = mount ] && f=mnt
		if [ -e "/proc/self/ns/$f" ]; then
			[ "$(row "namespace $ns")" = ok ]
		else
			[ "$(row "namespace $ns")" != ok ]
		fi
	done
	if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then mode=v2
	elif [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then mode=hybrid
	else mode=v1; fi
	[ "$(jq -r '.items[] | select(.item == "cgroup mode") | .detail' <<<"$json")" = "$mode" ]
	if [ $mode != v2 ]; then
		for c in memory pids cpu freezer devices hugetlb; do
			if [ -d "/sys/fs/cgroup/$c" ]; then
				[ "$(row "cgroup $c")" = ok ]
			else
				[ "$(row "cgroup $c")" != ok ]
			fi
		done
	fi
	if grep -qw overlay /proc/filesystems; then [ "$(row overlayfs)" = ok ]; else [ "$(row overlayfs)" = optional-missing ]; fi
	n=$(cat /proc/sys/user/max_user_namespaces)
	[[ "$(jq -r '.items[] | select(.item == "user namespaces") | .detail' <<<"$json")" == *"= $n" ]]
	if grep -q '^Seccomp:' /proc/self/status; then [ "$(row seccomp)" = ok ]; fi
}

# check_in_container SYSCALL...: runs berth check --format json in a
# container (berth bind-mounted at /berth, all capabilities so that it
# can probe namespaces) whose seccomp filter fails SYSCALL... with ENOSYS.
# clone fails only when it would make a namespace (one rule per CLONE_NEW*
# flag): berth, like any threaded program, needs clone for its threads
# (musl's pthread_create has no clone3), so a filter that took all of
# clone would stop berth, not its namespace probes.
check_in_container() {
	local names
	names=$(printf '%s\n' "$@" | grep -vx clone | jq -R . | jq -cs .)
	local clone=false
	printf '%s\n' "$@" | grep -qx clone && clone=true
	update_config --arg b "$BERTH" --argjson names "$names" --argjson clone "$clone" '
		.mounts += [{"destination": "/berth", "type": "bind", "source": $b, "options": ["rbind", "ro"]}] |
		.process.capabilities.bounding = .process.capabilities.bounding + ["CAP_SYS_ADMIN"] |
		.process.capabilities.effective = .process.capabilities.bounding |
		.process.capabilities.permitted = .process.capabilities.bounding |
		.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
			"syscalls": ((if ($names | length) > 0 then [{"names": $names, "action": "SCMP_ACT_ERRNO", "errnoRet": 38}] else [] end) +
				if $clone then [128, 131072, 33554432, 67108864, 134217728, 268435456, 536870912, 1073741824] |
					map({"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
						"args": [{"index": 0, "value": ., "valueTwo": ., "op": "SCMP_CMP_MASKED_EQ"}]})
				else [] end)}'
	set_args /berth check --format json
	run berth run --bundle "$BUNDLE" "check-$BATS_TEST_NUMBER"
	json=$(sed -n '/^{/,/^}/p' <<<"$output")
}

@test "check: a missing mount API call is required, so check fails" {
	check_in_container open_tree pidfd_open
	[ "$status" -ne 0 ]
	[ "$(row open_tree)" = missing ]
	[ "$(row pidfd_open)" = optional-missing ]
	[ "$(jq -r .ok <<<"$json")" = false ]
	[[ "$output" == *"required host support missing: open_tree"* ]]
}

@test "check: a missing optional call is reported but check passes" {
	check_in_container pidfd_open clone3
	[ "$(row pidfd_open)" = optional-missing ]
	[ "$(row clone3)" = optional-missing ]
	[ "$(row CLONE_INTO_CGROUP)" = optional-missing ]
	[ "$(row open_tree)" = ok ]
	[ "$(jq -r .ok <<<"$json")" = true ]
	[ "$status" -eq 0 ]
}

@test "check: namespaces that cannot be created are missing" {
	check_in_container unshare clone
	[ "$status" -ne 0 ]
	[ "$(row "namespace mount")" = missing ]
	[ "$(row "namespace pid")" = missing ]
	[ "$(row "namespace user")" = optional-missing ]
}
