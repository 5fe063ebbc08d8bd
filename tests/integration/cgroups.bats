#!/usr/bin/env bats
# linux.resources and linux.cgroupsPath: limits written to the right
# cgroup files and enforced by the kernel, cgroup placement as seen from
# inside, clean removal, and the cgroup v2 code path (in a private mount
# namespace with cgroup2 mounted on /sys/fs/cgroup).

load helpers

V1_CONTROLLERS="blkio cpu cpuacct cpuset devices freezer memory pids"

setup() { setup_bundle; }

teardown() {
	# Test-made cgroups holding the test's own processes (cg-frozen,
	# cg-busy): thawed and emptied first.
	cg_busy_cleanup ${CG_BUSY:-}
	teardown_bundle
	# Test-owned parent cgroups (custom paths, the v2 test's tree).
	for d in ${CG_CLEANUP:-}; do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# cg_dir CONTROLLER ID: the container's cgroup directory for CONTROLLER
# ("" = the cgroup2 directory, the only one on a cgroup v2 only host),
# from state.json.
cg_dir() {
	local c=$1
	cgroup_v2 && c=
	jq -r --arg c "$c" '.cgroup_paths[$c] // empty' "$STATE_ROOT/$2/state.json"
}

# requires_controller NAME: skips when this kernel's cgroups have no NAME
# controller (a v1 hierarchy, or the cgroup2 root's controllers).
requires_controller() {
	if cgroup_v2; then
		grep -qw "$1" /sys/fs/cgroup/cgroup.controllers || skip "no $1 cgroup controller in this kernel"
	else
		[ -d "/sys/fs/cgroup/$1" ] || skip "no $1 cgroup hierarchy on this host"
	fi
}

# cg_read CONTROLLER ID FILE
cg_read() {
	local d
	d=$(cg_dir "$1" "$2")
	[ -n "$d" ] || { echo "no $1 cgroup for $2" >&2; return 1; }
	cat "$d/$3"
}

# no_cgroup_left ID: nothing named after the container under any
# hierarchy's default parent.
no_cgroup_left() {
	local left
	left=$(ls -d /sys/fs/cgroup/*/berth/"$1" 2>/dev/null || true)
	[ -z "$left" ] || { echo "cgroup left behind: $left" >&2; return 1; }
}

@test "cg-mem: memory limit, reservation and swap are written to the v1 memory cgroup" {
	requires_cgroup_v1
	update_config '.linux.resources.memory = {"limit": 33554432, "reservation": 16777216, "swap": 67108864}'
	berth create --bundle "$BUNDLE" cg-mem
	[ "$(cg_read memory cg-mem memory.limit_in_bytes)" = 33554432 ]
	[ "$(cg_read memory cg-mem memory.soft_limit_in_bytes)" = 16777216 ]
	[ "$(cg_read memory cg-mem memory.memsw.limit_in_bytes)" = 67108864 ]
	# init is really in that cgroup
	pid=$(init_pid cg-mem)
	grep -qx "$pid" "$(cg_dir memory cg-mem)/cgroup.procs"
}

@test "cg-oom: a process above the memory limit is killed by the OOM killer" {
	requires_cgroup_v1
	# limit == swap: no swap to escape to (this host has zram swap).
	update_config '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
	# dd allocates and fills a 64 MiB buffer.
	set_args sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=1; echo survived'
	berth create --bundle "$BUNDLE" cg-oom
	berth start cg-oom
	wait_status cg-oom stopped 30
	grep -q '^oom_kill [1-9]' <(cg_read memory cg-oom memory.oom_control)

	# And through run: the status says SIGKILL (128+9) when init itself
	# is the victim.
	set_args dd if=/dev/zero of=/dev/null bs=64M count=1
	run berth run --bundle "$BUNDLE" cg-oom2
	[ "$status" -eq 137 ]
}

@test "cg-oom-init: a memory limit too low for init's set-up fails create saying so (runc's 'OOM-killed' where the kill happens), leaving nothing" {
	requires_controller memory
	# limit == swap: nothing to swap to. The kernel rounds 1 byte up to a
	# page; the first charge init makes in its cgroup hits the limit.
	update_config '.linux.resources.memory = {"limit": 1, "swap": 1}'
	set_args true
	run berth create --bundle "$BUNDLE" cg-oom-init
	echo "$output"
	[ "$status" -eq 1 ]
	# Before: "... error during container init: container init exited
	# during set-up" (v1), "nsenter: process N exited without reporting a
	# pid" (v2). On cgroup v2 init is cloned into its cgroup sharing
	# berth's memory, which the OOM killer spares: the limit fails its
	# allocations instead, and memory.events counts an "oom" event.
	local why='container init was OOM-killed'
	cgroup_v2 && why='container init (was OOM-killed|ran out of memory at its cgroup.s limit)'
	[[ "$output" =~ "unable to start container process: "$why" (memory limit too low?)" ]]
	[ ! -e "$STATE_ROOT/cg-oom-init" ]
	no_cgroup_left cg-oom-init
	# --debug keeps the error the limit caused, as runc's does
	run berth --debug run --bundle "$BUNDLE" cg-oom-init2
	[ "$status" -eq 1 ]
	[[ "$output" =~ $why" (memory limit too low?): " ]]
	no_cgroup_left cg-oom-init2
}

@test "cg-pids: pids.limit stops a fork bomb" {
	update_config '.linux.resources.pids = {"limit": 10}'
	berth create --bundle "$BUNDLE" cg-pids
	[ "$(cg_read pids cg-pids pids.max)" = 10 ]
	berth delete --force cg-pids
	# Each successful fork prints "forked"; busybox sh gives up at the
	# first refused fork. sh itself is one of the 10.
	set_args sh -c 'for i in $(seq 40); do sleep 1000 & echo forked; done; wait'
	run berth run --bundle "$BUNDLE" cg-pids2
	forks=$(grep -c '^forked$' <<<"$output" || true)
	echo "successful forks: $forks"
	[[ "$output" == *"can't fork"* ]]
	[ "$forks" -le 9 ]
	[ "$forks" -ge 5 ]
}

@test "cg-cpu: cpu shares, quota and period are set and the quota throttles" {
	requires_cgroup_v1
	update_config '.linux.resources.cpu = {"shares": 512, "quota": 20000, "period": 100000}'
	set_args sh -c 'while :; do :; done'
	berth create --bundle "$BUNDLE" cg-cpu
	[ "$(cg_read cpu cg-cpu cpu.shares)" = 512 ]
	[ "$(cg_read cpu cg-cpu cpu.cfs_quota_us)" = 20000 ]
	[ "$(cg_read cpu cg-cpu cpu.cfs_period_us)" = 100000 ]
	berth start cg-cpu
	# A busy loop gets at most 20% of one CPU; allow slack for accounting.
	before=$(cg_read cpuacct cg-cpu cpuacct.usage)
	sleep 2
	after=$(cg_read cpuacct cg-cpu cpuacct.usage)
	used=$(((after - before) / 1000000))
	echo "used ${used}ms of CPU in 2000ms"
	[ "$used" -lt 700 ]
	grep -q '^nr_throttled [1-9]' <(cg_read cpu cg-cpu cpu.stat)
}

# A cgroup's real-time runtime must fit in its parent's, and a new parent
# starts with none. runc's default cgroup is directly under the hierarchy's
# root, which has the whole budget; berth's is under its own parent
# (/berth), which berth gives what its containers ask for and takes back
# when they go (libcontainer/cgroups/rtbudget.go). A cgroupsPath elsewhere
# is the caller's: its parent is left alone and the refusal says why.
@test "cg-rt: realtimeRuntime under berth's parent is lent from the root and given back; elsewhere it needs the parent's budget" {
	requires_cgroup_v1
	[ -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] || skip "no real-time group scheduling (CONFIG_RT_GROUP_SCHED) in this kernel"
	local parent=/sys/fs/cgroup/cpu/berth
	[ "$(cat "$parent/cpu.rt_runtime_us" 2>/dev/null || echo 0)" = 0 ] # nothing lent before
	update_config '.linux.resources.cpu = {"realtimeRuntime": 1000, "realtimePeriod": 1000000}'
	# run: the process runs under the budget, and it is given back.
	# (its cgroup namespace's root is its own cgroup)
	set_args cat /sys/fs/cgroup/cpu/cpu.rt_runtime_us
	run berth run --bundle "$BUNDLE" cg-rt
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 1000 ]
	[ "$(cat "$parent/cpu.rt_runtime_us")" = 0 ]
	no_cgroup_left cg-rt
	# Two containers: the parent holds both, update raises it, and each
	# delete gives back its part. The kernel counts each share in
	# 1/1048576ths of its period, rounded down, so 1000/1000000 and
	# 500/100000 of runtime/period take 5999 µs of the parent's 1000000
	# (rounded up), 3000/1000000 and 500/100000 take 7999, 500/100000
	# alone 5000.
	set_args sleep 100
	berth create --bundle "$BUNDLE" cg-rt
	[ "$(cg_read cpu cg-rt cpu.rt_runtime_us)" = 1000 ]
	[ "$(cg_read cpu cg-rt cpu.rt_period_us)" = 1000000 ]
	update_config '.linux.resources.cpu = {"realtimeRuntime": 500, "realtimePeriod": 100000}'
	berth create --bundle "$BUNDLE" cg-rt2
	[ "$(cg_read cpu cg-rt2 cpu.rt_runtime_us)" = 500 ]
	[ "$(cat "$parent/cpu.rt_runtime_us")" = 5999 ]
	berth update --cpu-rt-runtime 3000 cg-rt
	[ "$(cg_read cpu cg-rt cpu.rt_runtime_us)" = 3000 ]
	[ "$(cat "$parent/cpu.rt_runtime_us")" = 7999 ]
	berth delete -f cg-rt
	[ "$(cat "$parent/cpu.rt_runtime_us")" = 5000 ]
	berth delete cg-rt2
	[ "$(cat "$parent/cpu.rt_runtime_us")" = 0 ]
	no_cgroup_left cg-rt
	no_cgroup_left cg-rt2
	# More than the root has to give: refused naming both, nothing left.
	update_config '.linux.resources.cpu = {"realtimeRuntime": 990000, "realtimePeriod": 1000000}'
	run berth run --bundle "$BUNDLE" cg-rt
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"give berth's parent cgroup $parent the real-time runtime its containers need (990000 µs of 1000000): "*"invalid argument (more than /sys/fs/cgroup/cpu has to give)"* ]]
	[ ! -e "$STATE_ROOT/cg-rt" ]
	no_cgroup_left cg-rt
	[ "$(cat "$parent/cpu.rt_runtime_us")" = 0 ]
	# A cgroupsPath elsewhere: its parent is the caller's.
	update_config '.linux.resources.cpu = {"realtimeRuntime": 1000, "realtimePeriod": 1000000}'
	CG_CLEANUP=$(for c in $V1_CONTROLLERS systemd unified; do echo "/sys/fs/cgroup/$c/berth-test-rt-$$"; done)
	update_config --arg p "/berth-test-rt-$$/c" '.linux.cgroupsPath = $p'
	run berth run --bundle "$BUNDLE" cg-rt
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"more than the parent cgroup /sys/fs/cgroup/cpu/berth-test-rt-$$ has to give"* ]]
	[ "$(cat "/sys/fs/cgroup/cpu/berth-test-rt-$$/cpu.rt_runtime_us")" = 0 ]
	echo 2000 >"/sys/fs/cgroup/cpu/berth-test-rt-$$/cpu.rt_runtime_us"
	berth create --bundle "$BUNDLE" cg-rt
	[ "$(cg_read cpu cg-rt cpu.rt_runtime_us)" = 1000 ]
	berth delete -f cg-rt
	[ "$(cat "/sys/fs/cgroup/cpu/berth-test-rt-$$/cpu.rt_runtime_us")" = 2000 ]
}

@test "cg-cpuset: cpuset cpus and mems confine the container" {
	requires_controller cpuset
	update_config '.linux.resources.cpu = {"cpus": "0", "mems": "0"}'
	set_args sh -c 'grep Cpus_allowed_list /proc/self/status'
	berth create --bundle "$BUNDLE" cg-cpuset
	[ "$(cg_read cpuset cg-cpuset cpuset.cpus)" = 0 ]
	[ "$(cg_read cpuset cg-cpuset cpuset.mems)" = 0 ]
	berth delete --force cg-cpuset
	run berth run --bundle "$BUNDLE" cg-cpuset2
	[ "$status" -eq 0 ]
	[[ "$output" == *"Cpus_allowed_list:"*"0" ]]
}

@test "cg-blkio: blkio weight and throttling" {
	requires_cgroup_v1
	dev=$(lsblk -dno MAJ:MIN | head -1 | tr -d ' ')
	major=${dev%:*} minor=${dev#*:}
	update_config --argjson ma "$major" --argjson mi "$minor" \
		'.linux.resources.blockIO = {"throttleReadBpsDevice": [{"major": $ma, "minor": $mi, "rate": 1048576}]}'
	berth create --bundle "$BUNDLE" cg-blk
	grep -qx "$dev 1048576" <(cg_read blkio cg-blk blkio.throttle.read_bps_device)

	d=$(cg_dir blkio cg-blk)
	if [ -e "$d/blkio.weight" ]; then wfile=blkio.weight
	elif [ -e "$d/blkio.bfq.weight" ]; then wfile=blkio.bfq.weight
	else skip "this kernel has no blkio weight (no CFQ/BFQ): throttling tested only"; fi
	berth delete --force cg-blk
	update_config '.linux.resources.blockIO.weight = 300'
	berth create --bundle "$BUNDLE" cg-blk2
	grep -qE '^(default )?300$' <(cg_read blkio cg-blk2 "$wfile")
}

@test "cg-dev: the device cgroup denies what is not allowed" {
	requires_cgroup_v1
	[ -e /dev/loop0 ] || skip "no /dev/loop0 on this host"
	# Host device nodes bound in: a mount gives no cgroup permission.
	update_config '.mounts += [
		{"destination": "/dev/kmsg-t", "type": "bind", "source": "/dev/kmsg", "options": ["bind"]},
		{"destination": "/dev/loop-t", "type": "bind", "source": "/dev/loop0", "options": ["bind"]}]
	| .linux.resources.devices = [{"allow": false, "access": "rwm"},
		{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
	# (set_args splits on newlines: one line)
	script='echo berth-cg-dev-test >/dev/kmsg-t && echo kmsg-write-ok;'
	script+=' head -c1 </dev/kmsg-t >/dev/null 2>&1 || echo kmsg-read-denied;'
	script+=' head -c1 </dev/loop-t >/dev/null 2>&1 || echo loop-denied;'
	script+=' head -c1 </dev/zero >/dev/null && echo zero-ok'
	set_args sh -c "$script"
	run berth run --bundle "$BUNDLE" cg-dev
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *kmsg-write-ok* ]]
	[[ "$output" == *kmsg-read-denied* ]]
	[[ "$output" == *loop-denied* ]]
	[[ "$output" == *zero-ok* ]]
	# The rules are in the cgroup: only the explicit and default allows.
	berth create --bundle "$BUNDLE" cg-dev2
	list=$(cg_read devices cg-dev2 devices.list)
	[[ "$list" == *"c 1:11 w"* ]]
	[[ "$list" != *"a *:* rwm"* ]]
	[[ "$list" != *"b 7:0"* ]]
	# Nor the host's console: runc's default list leaves it out, and with
	# mknod allowed a container with CAP_MKNOD could open it.
	[ -z "$(grep -x 'c 5:1 .*' <<<"$list")" ]
	grep -qx 'c 5:0 rwm' <<<"$list"
}

@test "cg-huge: hugepage limits are applied or refused clearly, never dropped" {
	ls -d /sys/kernel/mm/hugepages/hugepages-2048kB >/dev/null 2>&1 || skip "no 2MB hugepages on this host"
	has_v1=$([ -d /sys/fs/cgroup/hugetlb ] && echo y || true)
	has_v2=$(grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null && echo y || true)
	[ -n "$has_v1$has_v2" ] || skip "no hugetlb cgroup controller on this host at all"
	update_config '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
	run berth create --bundle "$BUNDLE" cg-huge
	if [ -n "$has_v1" ]; then
		[ "$status" -eq 0 ]
		[ "$(cg_read hugetlb cg-huge hugetlb.2MB.limit_in_bytes)" = 4194304 ]
	elif grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.subtree_control; then
		# Hybrid host delegating hugetlb in its cgroup2 tree.
		[ "$status" -eq 0 ]
		[ "$(cg_read '' cg-huge hugetlb.2MB.max)" = 4194304 ]
	else
		# Hybrid host (this one): hugetlb exists only in cgroup2 and its
		# root does not delegate it. berth must not write the root's
		# subtree_control (the host's), nor silently ignore the limit.
		echo "$output"
		[ "$status" -eq 1 ]
		[ "$(wc -l <<<"$output")" -eq 1 ]
		[[ "$output" == *"hugetlb"*"not delegated"* ]]
		[ ! -e "$STATE_ROOT/cg-huge" ]
		no_cgroup_left cg-huge
		! grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.subtree_control || false
	fi
}

@test "cg-abs: an absolute cgroupsPath is used in every hierarchy" {
	requires_cgroup_v1
	parent=cg-abs-parent-$$
	CG_CLEANUP=$(for c in $V1_CONTROLLERS systemd unified; do echo /sys/fs/cgroup/$c/$parent; done)
	update_config --arg p "/$parent/box" '.linux.cgroupsPath = $p | .linux.resources.pids = {"limit": 42}'
	berth create --bundle "$BUNDLE" cg-abs
	pid=$(init_pid cg-abs)
	for c in $V1_CONTROLLERS; do
		[ "$(cg_dir "$c" cg-abs)" = "/sys/fs/cgroup/$c/$parent/box" ]
		grep -qx "$pid" "/sys/fs/cgroup/$c/$parent/box/cgroup.procs"
	done
	grep -qx "$pid" "/sys/fs/cgroup/unified/$parent/box/cgroup.procs"
	[ "$(cat /sys/fs/cgroup/pids/$parent/box/pids.max)" = 42 ]
	grep -q "^4:memory:/$parent/box$" "/proc/$pid/cgroup"
	no_cgroup_left cg-abs
	berth delete --force cg-abs
	for c in $V1_CONTROLLERS unified; do [ ! -e "/sys/fs/cgroup/$c/$parent/box" ]; done
}

@test "cg-rel: a relative cgroupsPath lands under berth's own cgroup, in the v1 hierarchies and the unified one" {
	requires_cgroup_v1
	parent=cg-rel-parent-$$
	CG_CLEANUP=$(for c in $V1_CONTROLLERS systemd unified; do echo /sys/fs/cgroup/$c/$parent; done)
	for c in $V1_CONTROLLERS systemd unified; do mkdir -p "/sys/fs/cgroup/$c/$parent"; done
	cat /sys/fs/cgroup/cpuset/cpuset.cpus >/sys/fs/cgroup/cpuset/$parent/cpuset.cpus
	cat /sys/fs/cgroup/cpuset/cpuset.mems >/sys/fs/cgroup/cpuset/$parent/cpuset.mems
	update_config '.linux.cgroupsPath = "rel/box"'
	# berth runs from a subshell moved into the test's own cgroups (not
	# the host's), so "relative to berth's cgroup" is a known place.
	(
		for c in $V1_CONTROLLERS systemd unified; do
			echo "$BASHPID" >"/sys/fs/cgroup/$c/$parent/cgroup.procs"
		done
		berth create --bundle "$BUNDLE" cg-rel
	)
	pid=$(init_pid cg-rel)
	for c in $V1_CONTROLLERS; do
		[ "$(cg_dir "$c" cg-rel)" = "/sys/fs/cgroup/$c/$parent/rel/box" ]
		grep -qx "$pid" "/sys/fs/cgroup/$c/$parent/rel/box/cgroup.procs"
	done
	# the cgroup2 directory of a hybrid host too (not /unified/rel/box)
	if [ -d /sys/fs/cgroup/unified ]; then
		[ "$(cg_dir '' cg-rel)" = "/sys/fs/cgroup/unified/$parent/rel/box" ]
		grep -qx "$pid" "/sys/fs/cgroup/unified/$parent/rel/box/cgroup.procs"
		[ ! -e /sys/fs/cgroup/unified/rel/box ]
	fi
	berth delete --force cg-rel
	for c in $V1_CONTROLLERS unified; do [ ! -e "/sys/fs/cgroup/$c/$parent/rel/box" ]; done
}

@test "cg-self: /proc/self/cgroup inside shows the container's cgroup" {
	requires_cgroup_v1
	update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
	set_args cat /proc/self/cgroup
	run berth run --bundle "$BUNDLE" cg-self
	echo "$output"
	[ "$status" -eq 0 ]
	for c in memory pids devices freezer; do
		grep -Eq "^[0-9]+:([a-z,]+,)?$c(,[a-z,]+)?:/berth/cg-self$" <<<"$output"
	done
	grep -qx '0::/berth/cg-self' <<<"$output"
}

@test "cg-ns: with a cgroup namespace the container sees its cgroups as root" {
	requires_cgroup_v1
	update_config '.linux.namespaces |= map(select(.type != "cgroup")) + [{"type": "cgroup"}]'
	set_args sh -c 'cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup'
	run berth run --bundle "$BUNDLE" cg-ns
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx '0::/' <<<"$output"
	grep -q '^[0-9]*:memory:/$' <<<"$output"
	grep -q '^[0-9]*:pids:/$' <<<"$output"
	! grep -q 'berth' <<<"$output"
}

@test "cg-del: every cgroup directory (v1 and unified) is gone after delete" {
	requires_cgroup_v1
	berth create --bundle "$BUNDLE" cg-del
	berth start cg-del
	n=0
	for c in $V1_CONTROLLERS systemd unified; do
		[ -d "/sys/fs/cgroup/$c/berth/cg-del" ] && n=$((n + 1))
	done
	[ "$n" -eq 10 ]
	[ "$(cg_dir '' cg-del)" = /sys/fs/cgroup/unified/berth/cg-del ]
	berth kill cg-del KILL
	wait_status cg-del stopped
	berth delete cg-del
	no_cgroup_left cg-del
	[ ! -e "$STATE_ROOT/cg-del" ]
}

@test "rt-del-idle: delete of a stopped container removes its idle cgroup by rmdir alone, without a walk for processes to kill" {
	berth create --bundle "$BUNDLE" rt-del-idle
	berth start rt-del-idle
	berth kill rt-del-idle KILL
	wait_status rt-del-idle stopped
	strace -f -qq -o "$TEST_TMP/strace" -e trace=openat,rmdir,unlinkat \
		"$BERTH" --root "$STATE_ROOT" delete rt-del-idle
	grep -q '/sys/fs/cgroup/.*rt-del-idle.*AT_REMOVEDIR' "$TEST_TMP/strace"
	if grep -E 'cgroup\.procs|freezer\.state|cgroup\.freeze' "$TEST_TMP/strace"; then
		cat "$TEST_TMP/strace"
		false
	fi
	no_cgroup_left rt-del-idle
	[ ! -e "$STATE_ROOT/rt-del-idle" ]
	# A busy cgroup (processes left after init) still has them killed
	# first: cg-hostpid-delete, cg-subcg-delete.
}

@test "cg-systemd: --systemd-cgroup fails clearly without systemd and leaves nothing" {
	[ ! -d /run/systemd/system ] || skip "systemd is running here"
	run berth --systemd-cgroup create --bundle "$BUNDLE" cg-sd
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	[[ "$output" == *"systemd not running on this host"* ]]
	[ ! -e "$STATE_ROOT/cg-sd" ]
	no_cgroup_left cg-sd
	[ -z "$(ls -d /sys/fs/cgroup/*/system.slice/berth-cg-sd.scope 2>/dev/null)" ]
	! pgrep -f "berth.*cg-sd" >/dev/null
}

@test "cg-v2: on a pure cgroup v2 host init is cloned into its cgroup2 directory" {
	requires_cgroup_v1
	# A test-owned cgroup2 directory becomes the root of a cgroup
	# namespace, so the cgroup2 mount in the private mount namespace
	# shows it as /sys/fs/cgroup; the host's root (whose subtree_control
	# belongs to PID 1) is never touched.
	top=/sys/fs/cgroup/unified/cg-v2-$$
	CG_CLEANUP=$top
	mkdir -p "$top"
	cat >"$TEST_TMP/v2.sh" <<-'EOF'
		set -eu
		mount --make-rprivate /
		umount -l /sys/fs/cgroup
		mount -t cgroup2 cgroup2 /sys/fs/cgroup
		[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]
		B="$BERTH --root $STATE_ROOT"
		strace -f -b execve -qq -e trace=clone3 -o "$TEST_TMP/strace" $B create --bundle "$BUNDLE" cg-v2 </dev/null >/dev/null
		pid=$($B state cg-v2 | jq -r .pid)
		echo "paths=$(jq -c .cgroup_paths "$STATE_ROOT/cg-v2/state.json")"
		echo "procs=$(cat /sys/fs/cgroup/berth/cg-v2/cgroup.procs)"
		echo "pid=$pid"
		echo "created=$($B state cg-v2 | jq -r .status)"
		$B start cg-v2 </dev/null >/dev/null
		echo "running=$($B state cg-v2 | jq -r .status)"
		echo "selfcg=$(grep '^0::' /proc/$pid/cgroup)"
		$B kill cg-v2 KILL
		for i in $(seq 200); do [ "$($B state cg-v2 | jq -r .status)" = stopped ] && break; sleep 0.05; done
		$B delete cg-v2
		echo "after=$(ls -d /sys/fs/cgroup/berth/cg-v2 2>/dev/null)"
		echo "statedir=$(ls "$STATE_ROOT" 2>&1)"
	EOF
	run env BERTH="$BERTH" STATE_ROOT="$STATE_ROOT" BUNDLE="$BUNDLE" TEST_TMP="$TEST_TMP" \
		sh -c 'echo $$ >"$1/cgroup.procs" && exec unshare -m -C sh "$2"' sh "$top" "$TEST_TMP/v2.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'paths={"":"/sys/fs/cgroup/berth/cg-v2"}'* ]]
	pid=$(sed -n 's/^pid=//p' <<<"$output")
	[ -n "$pid" ]
	[ "$pid" != null ]
	grep -qx "procs=$pid" <<<"$output"
	grep -qx "created=created" <<<"$output"
	grep -qx "running=running" <<<"$output"
	grep -qx "selfcg=0::/berth/cg-v2" <<<"$output"
	# gone on delete, in the namespace and on the host
	grep -qx "after=" <<<"$output"
	grep -qx "statedir=" <<<"$output"
	[ ! -e "$top/berth/cg-v2" ]
	# born inside: clone3 with CLONE_INTO_CGROUP, no later migration
	cat "$TEST_TMP/strace"
	grep -q 'clone3(.*CLONE_INTO_CGROUP' "$TEST_TMP/strace"
}

@test "cg-hybrid-born: on a hybrid host exec is cloned into the unified cgroup; a container joining a namespace by path starts there too" {
	requires_cgroup_v1
	[ -d /sys/fs/cgroup/unified ] || skip "no cgroup2 tree on this v1 host"
	update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
	berth create --bundle "$BUNDLE" cg-hba
	berth start cg-hba
	pid=$(init_pid cg-hba)
	# exec: born in the container's cgroup2 directory, then joins the v1
	# hierarchies itself
	strace -f -qq -e trace=clone,clone3 -o "$TEST_TMP/strace" \
		"$BERTH" --root "$STATE_ROOT" exec cg-hba cat /proc/self/cgroup >"$TEST_TMP/out" </dev/null
	cat "$TEST_TMP/out"
	grep 'clone3(.*CLONE_INTO_CGROUP' "$TEST_TMP/strace"
	grep -qx '0::/berth/cg-hba' "$TEST_TMP/out"
	for c in memory pids devices freezer; do
		grep -Eq "^[0-9]+:([a-z,]+,)?$c(,[a-z,]+)?:/berth/cg-hba$" "$TEST_TMP/out"
	done
	# a namespace joined by path (nsenter's clone) keeps the clone into
	# the cgroup2 directory
	update_config '.linux.namespaces |= map(if .type == "ipc" then .path = "'"/proc/$pid/ns/ipc"'" else . end)'
	berth create --bundle "$BUNDLE" cg-hbb
	bpid=$(init_pid cg-hbb)
	[ "$(readlink "/proc/$bpid/ns/ipc")" = "$(readlink "/proc/$pid/ns/ipc")" ]
	grep -qx '0::/berth/cg-hbb' "/proc/$bpid/cgroup"
	grep -qx "$bpid" "$(cg_dir '' cg-hbb)/cgroup.procs"
	grep -Eq '^[0-9]+:pids:/berth/cg-hbb$' "/proc/$bpid/cgroup"
}

# cg_busy_cleanup DIR...: ends the test's own processes in the given
# cgroups, thaws them and removes them.
cg_busy_cleanup() {
	local d p
	for d in "$@"; do
		[ -d "$d" ] || continue
		[ -e "$d/freezer.state" ] && echo THAWED >"$d/freezer.state"
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
	done
	for d in "$@"; do
		for _ in $(seq 50); do [ -d "$d" ] || break; rmdir "$d" 2>/dev/null && break; sleep 0.05; done
	done
}

@test "cg-frozen: a pre-existing frozen cgroup is refused at create and left as it was" {
	requires_cgroup_v1
	parent=cg-frozen-$$
	CG_CLEANUP=$(for c in $V1_CONTROLLERS systemd unified; do echo /sys/fs/cgroup/$c/$parent; done)
	CG_BUSY=/sys/fs/cgroup/freezer/$parent
	mkdir /sys/fs/cgroup/freezer/$parent
	echo FROZEN >/sys/fs/cgroup/freezer/$parent/freezer.state
	update_config --arg p "/$parent" '.linux.cgroupsPath = $p'
	# A berth that waits for the frozen init is bounded; output goes to
	# a file, as a frozen init would hold a pipe open.
	status=0
	timeout 20 "$BERTH" --root "$STATE_ROOT" create --bundle "$BUNDLE" cg-frozen >"$TEST_TMP/out" 2>&1 </dev/null || status=$?
	output=$(cat "$TEST_TMP/out")
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"container's cgroup unexpectedly frozen: /sys/fs/cgroup/freezer/$parent is frozen"* ]]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	[ ! -e "$STATE_ROOT/cg-frozen" ]
	[ -z "$("$BERTH" --root "$STATE_ROOT" list -q)" ]
	# the cgroup was not berth's: still there, still frozen; nothing made
	[ "$(cat /sys/fs/cgroup/freezer/$parent/freezer.state)" = FROZEN ]
	for c in memory pids devices unified; do [ ! -e "/sys/fs/cgroup/$c/$parent" ]; done
}

@test "cg-busy: a pre-existing cgroup with processes is refused at create; they and it stay" {
	requires_cgroup_v1
	parent=cg-busy-$$
	CG_CLEANUP=$(for c in $V1_CONTROLLERS systemd unified; do echo /sys/fs/cgroup/$c/$parent; done)
	CG_BUSY=/sys/fs/cgroup/pids/$parent
	mkdir /sys/fs/cgroup/pids/$parent
	(echo "$BASHPID" >/sys/fs/cgroup/pids/$parent/cgroup.procs && exec sleep 1000) &
	busy=$!
	for _ in $(seq 100); do grep -qx "$busy" /sys/fs/cgroup/pids/$parent/cgroup.procs && break; sleep 0.05; done
	update_config --arg p "/$parent" '.linux.cgroupsPath = $p'
	run berth create --bundle "$BUNDLE" cg-busy
	echo "$output"
	alive=0; kill -0 "$busy" 2>/dev/null && alive=1
	kill -9 "$busy" 2>/dev/null || true
	wait "$busy" 2>/dev/null || true
	[ "$status" -eq 1 ]
	[[ "$output" == *"container's cgroup is not empty: /sys/fs/cgroup/pids/$parent: 1 process(es) found"* ]]
	[ ! -e "$STATE_ROOT/cg-busy" ]
	[ "$alive" -eq 1 ]
	[ -d /sys/fs/cgroup/pids/$parent ]
	for c in memory freezer devices unified; do [ ! -e "/sys/fs/cgroup/$c/$parent" ]; done
}

@test "cg-dev-access: device rules take every access string runc takes (rwa is rw)" {
	requires_cgroup_v1
	update_config '.linux.resources.devices = [
		{"allow": false, "access": "rwm"},
		{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rwa"},
		{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "mw"}]'
	berth create --bundle "$BUNDLE" cg-dev-access 2>"$TEST_TMP/err"
	cat "$TEST_TMP/err"
	grep -q 'device access .*rwa.*only r, w and m have a meaning' "$TEST_TMP/err"
	grep -qx 'c 1:11 rw' <(cg_read devices cg-dev-access devices.list)
	grep -qx 'c 10:229 wm' <(cg_read devices cg-dev-access devices.list)
	berth delete --force cg-dev-access
	# nothing of r, w, m: refused, nothing left
	update_config '.linux.resources.devices = [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "a"}]'
	run berth create --bundle "$BUNDLE" cg-dev-access2
	[ "$status" -eq 1 ]
	[[ "$output" == *'devices[0]: invalid access '*a*'(want a combination of r, w, m)'* ]]
	[ ! -e "$STATE_ROOT/cg-dev-access2" ]
	no_cgroup_left cg-dev-access2
}

# hostpid_container ID: creates and starts ID without a pid namespace of
# its own; init forks two sleeps (outliving it) and becomes a third. Waits
# until the three are in the container's cgroup.
hostpid_container() {
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args sh -c 'sleep 1001 & sleep 1002 & exec sleep 1003'
	berth create --bundle "$BUNDLE" "$1"
	berth start "$1"
	for _ in $(seq 100); do [ "$(cg_procs "$1" | wc -l)" -eq 3 ] && break; sleep 0.05; done
	[ "$(cg_procs "$1" | wc -l)" -eq 3 ]
}

# cg_procs ID: the pids in the container's pids cgroup, sub-cgroups too.
cg_procs() {
	local d
	d=$(cg_dir pids "$1")
	[ -d "$d" ] || return 0
	find "$d" -name cgroup.procs -exec cat {} +
}

# cg_wait_empty ID: polls until no process is left in the cgroup.
cg_wait_empty() {
	for _ in $(seq 100); do [ -z "$(cg_procs "$1")" ] && return 0; sleep 0.05; done
	echo "left in the cgroup of $1: $(cg_procs "$1" | tr '\n' ' ')" >&2
	return 1
}

@test "cg-hostpid-kill: kill KILL without a pid namespace reaches every process of the cgroup, also after init is gone" {
	hostpid_container cg-hpk
	berth kill cg-hpk KILL
	cg_wait_empty cg-hpk
	wait_status cg-hpk stopped
	# nothing left: a stopped container says so
	run berth kill cg-hpk KILL
	[ "$status" -eq 1 ]
	[[ "$output" == *"container not running"* ]]
	berth delete cg-hpk

	# init gone (TERM reaches init only), its children still there
	hostpid_container cg-hpk2
	berth kill cg-hpk2 TERM
	wait_status cg-hpk2 stopped
	[ "$(cg_procs cg-hpk2 | wc -l)" -eq 2 ]
	berth kill cg-hpk2 KILL
	cg_wait_empty cg-hpk2
	berth delete cg-hpk2

	# and kill --all, after init is gone too
	hostpid_container cg-hpk3
	berth kill cg-hpk3 TERM
	wait_status cg-hpk3 stopped
	berth kill --all cg-hpk3 KILL
	cg_wait_empty cg-hpk3
}

@test "cg-hostpid-delete: delete and delete --force of a host-pid container whose init is gone kill the rest and remove the cgroup" {
	for force in "" --force; do
		id=cg-hpd$force
		hostpid_container "$id"
		pids=$(cg_procs "$id")
		berth kill "$id" TERM
		wait_status "$id" stopped
		[ "$(cg_procs "$id" | wc -l)" -eq 2 ]
		# bounded: a berth that waits for the busy cgroup fails here
		timeout 20 "$BERTH" --root "$STATE_ROOT" delete $force "$id" </dev/null
		[ ! -e "$STATE_ROOT/$id" ]
		no_cgroup_left "$id"
		for p in $pids; do
			for _ in $(seq 100); do [ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] || break; sleep 0.05; done
			! { [ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ]; } || false
		done
	done
}

@test "cg-subcg-delete: delete --force removes v1 sub-cgroups and kills their processes, frozen ones too" {
	requires_cgroup_v1
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	berth create --bundle "$BUNDLE" cg-sub
	berth start cg-sub
	berth exec -d cg-sub sleep 2001
	berth exec -d cg-sub sleep 2002
	for _ in $(seq 100); do [ "$(cg_procs cg-sub | wc -l)" -eq 3 ] && break; sleep 0.05; done
	mapfile -t p < <(cg_procs cg-sub | sort -n | tail -2)
	[ "${#p[@]}" -eq 2 ]
	for c in memory pids freezer cpu devices; do
		d=$(cg_dir $c cg-sub)
		mkdir -p "$d/sub/deeper" "$d/other"
		echo "${p[0]}" >"$d/sub/cgroup.procs"
		echo "${p[1]}" >"$d/sub/deeper/cgroup.procs"
	done
	fz=$(cg_dir freezer cg-sub)
	CG_BUSY="$fz/sub/deeper $fz/sub $fz/other"
	echo FROZEN >"$fz/sub/deeper/freezer.state"
	timeout 60 "$BERTH" --root "$STATE_ROOT" delete --force cg-sub </dev/null
	[ ! -e "$STATE_ROOT/cg-sub" ]
	no_cgroup_left cg-sub
	for pid in "${p[@]}"; do
		for _ in $(seq 100); do [ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || break; sleep 0.05; done
		! { [ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; } || false
	done
}

@test "cg-affinity: the container's CPU affinity is its cpuset's CPUs, not the one berth runs with" {
	requires_cgroup_v1
	[ "$(nproc --all)" -ge 2 ] || skip "needs two CPUs"
	command -v taskset >/dev/null || skip "no taskset"
	all=$(cat /sys/fs/cgroup/cpuset/cpuset.effective_cpus)
	set_args grep -F Cpus_allowed_list: /proc/self/status
	# no cpuset: every CPU of the parent cpuset, although berth has one
	run taskset -c 0 "$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" cg-aff1 </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "Cpus_allowed_list:	$all" ]
	# a cpuset that does not overlap berth's affinity
	update_config '.linux.resources.cpu = {"cpus": "1", "mems": "0"}'
	run taskset -c 0 "$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" cg-aff2 </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "Cpus_allowed_list:	1" ]
	# exec too
	update_config '.linux.resources.cpu = {"cpus": "0-1", "mems": "0"}'
	set_args sleep 1000
	taskset -c 1 "$BERTH" --root "$STATE_ROOT" create --bundle "$BUNDLE" cg-aff3 </dev/null >/dev/null 2>&1
	berth start cg-aff3
	run taskset -c 1 "$BERTH" --root "$STATE_ROOT" exec cg-aff3 grep -F Cpus_allowed_list: /proc/self/status </dev/null
	echo "$output"
	[ "$output" = "Cpus_allowed_list:	0-1" ]
	pid=$(init_pid cg-aff3)
	grep -qx "Cpus_allowed_list:	0-1" "/proc/$pid/status"
}

# berth run inside a pid namespace (in a container) reads a process of
# another pid namespace in the container's cgroup2 cgroup.procs as 0
# (cgroup v1 leaves it out); kill(0) would signal berth's own process
# group. On the previous build kill --all failed on it ('bad id "0"').
@test "cg-killall-foreign: kill --all skips a process another pid namespace lists as 0, never berth's own group" {
	requires_cgroup_v1
	set_args sleep 1000
	sleep 1000 &
	foreign=$!
	cat >"$TEST_TMP/inpid.sh" <<-'EOS'
		"$BERTH" --root "$STATE_ROOT" create --bundle "$BUNDLE" cg-kaf </dev/null >/dev/null 2>&1 || { echo CREATE-FAILED; exit 0; }
		touch "$TEST_TMP/created"
		for _ in $(seq 200); do [ -e "$TEST_TMP/moved" ] && break; sleep 0.05; done
		for d in $(jq -r '.cgroup_paths[]' "$STATE_ROOT/cg-kaf/state.json" | sort -u); do echo "procs: $(tr '\n' ' ' <"$d/cgroup.procs")"; done
		"$BERTH" --root "$STATE_ROOT" kill --all cg-kaf KILL
		echo "kill: $?"
		echo survived
	EOS
	(env BERTH="$BERTH" STATE_ROOT="$STATE_ROOT" BUNDLE="$BUNDLE" TEST_TMP="$TEST_TMP" \
		timeout 60 unshare -p -f --mount-proc bash "$TEST_TMP/inpid.sh" >"$TEST_TMP/out" 2>&1) &
	runner=$!
	for _ in $(seq 200); do [ -e "$TEST_TMP/created" ] && break; sleep 0.05; done
	[ -e "$TEST_TMP/created" ] || { cat "$TEST_TMP/out"; kill "$foreign"; false; }
	if ! jq -e '.cgroup_paths[""]' "$STATE_ROOT/cg-kaf/state.json" >/dev/null; then
		touch "$TEST_TMP/moved"
		wait "$runner" || true
		kill -9 "$foreign"
		skip "no cgroup2 part on this host (cgroup v1 leaves such a process out of cgroup.procs)"
	fi
	for d in $(jq -r '.cgroup_paths[]' "$STATE_ROOT/cg-kaf/state.json" | sort -u); do
		[ -d "$d" ] && echo "$foreign" >"$d/cgroup.procs"
	done
	touch "$TEST_TMP/moved"
	wait "$runner" || true
	kill -9 "$foreign" 2>/dev/null || true
	cat "$TEST_TMP/out"
	grep -q '^procs: .*\b0\b' "$TEST_TMP/out"
	grep -qx 'kill: 0' "$TEST_TMP/out"
	grep -qx survived "$TEST_TMP/out"
	berth delete --force cg-kaf
}
