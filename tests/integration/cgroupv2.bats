#!/usr/bin/env bats
# berth on a pure cgroup v2 host: limits written to the cgroup2 files and
# enforced, update of each, freezing through cgroup.freeze, OOM and stats
# from memory.events and *.stat, the eBPF device filter, exec placement,
# the cgroup namespace, kill --all, removal on delete (a threaded
# sub-cgroup too), relative and nested
# cgroupsPath, and a busy or frozen cgroup refused at create.
#
# CI runs this suite inside a user-mode-linux kernel booted on a pure
# cgroup2 hierarchy (make test-cgroup2, tests/uml/run.sh); on a hybrid or
# v1 host every test skips.

load helpers

setup() {
	requires_cgroup_v2
	setup_bundle
}

teardown() {
	teardown_bundle
	for d in ${CG_CLEANUP:-}; do
		[ -d "$d" ] || continue
		find "$d" -depth -type d -exec sh -c 'echo 0 >"$1/cgroup.freeze" 2>/dev/null; for p in $(cat "$1/cgroup.procs"); do kill -9 "$p"; done; true' sh {} \; 2>/dev/null
		for _ in $(seq 50); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; [ -d "$d" ] || break; sleep 0.1; done
	done
}

# cg ID: the container's cgroup2 directory, from state.json.
cg() {
	local d
	d=$(jq -r '.cgroup_paths[""] // empty' "$STATE_ROOT/$1/state.json")
	[ -n "$d" ] || { echo "no cgroup2 path for $1" >&2; return 1; }
	echo "$d"
}

# cgr ID FILE: a file of the container's cgroup.
cgr() { cat "$(cg "$1")/$2"; }

# start_ct ID: create and start the bundle as ID.
start_ct() {
	berth create --bundle "$BUNDLE" "$1"
	berth start "$1"
}

@test "cg2-mem: memory limit, reservation, swap and memory.high land in memory.max, .low, .swap.max, .high" {
	update_config '.linux.resources.memory = {"limit": 33554432, "reservation": 16777216, "swap": 67108864}
		| .linux.resources.unified = {"memory.high": "29360128"}'
	berth create --bundle "$BUNDLE" cg2-mem
	[ "$(cgr cg2-mem memory.max)" = 33554432 ]
	[ "$(cgr cg2-mem memory.low)" = 16777216 ]
	# OCI's swap is memory+swap; cgroup2's swap.max is the swap alone
	[ "$(cgr cg2-mem memory.swap.max)" = 33554432 ]
	[ "$(cgr cg2-mem memory.high)" = 29360128 ]
	grep -qx "$(init_pid cg2-mem)" "$(cg cg2-mem)/cgroup.procs"
	[ "$(cg cg2-mem)" = /sys/fs/cgroup/berth/cg2-mem ]
}

@test "cg2-oom: past memory.max the process is OOM-killed; memory.events and events say so" {
	update_config '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
	start_ct cg2-oom
	run berth exec cg2-oom dd if=/dev/zero of=/dev/null bs=64M count=1
	[ "$status" -eq $((128 + 9)) ]
	grep -Eq '^oom_kill [1-9]' "$(cg cg2-oom)/memory.events"
	run berth events --stats cg2-oom
	[ "$status" -eq 0 ]
	[ "$(jq '.data.memory.usage.limit' <<<"$output")" = 16777216 ]
	# memory.stat's keys, as cgroup2 names them
	[ "$(jq '.data.memory.raw | has("anon")' <<<"$output")" = true ]
}

@test "cg2-events-oom: events streams an oom event from memory.events" {
	update_config '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
	start_ct cg2-evoom
	"$BERTH" --root "$STATE_ROOT" events --interval 1s cg2-evoom >"$TEST_TMP/ev.out" 2>&1 &
	ev=$!
	for _ in $(seq 200); do [ -s "$TEST_TMP/ev.out" ] && break; sleep 0.1; done
	run berth exec cg2-evoom dd if=/dev/zero of=/dev/null bs=64M count=1
	[ "$status" -eq $((128 + 9)) ]
	for _ in $(seq 200); do grep -q '"oom"' "$TEST_TMP/ev.out" && break; sleep 0.1; done
	kill "$ev"
	cat "$TEST_TMP/ev.out"
	[ "$(grep '"oom"' "$TEST_TMP/ev.out" | head -1 | jq -c .)" = '{"type":"oom","id":"cg2-evoom"}' ]
}

@test "cg2-pids: pids.max is set, stops a fork bomb, and update changes it" {
	update_config '.linux.resources.pids = {"limit": 10}'
	start_ct cg2-pids
	[ "$(cgr cg2-pids pids.max)" = 10 ]
	run berth exec cg2-pids sh -c 'for i in $(seq 30); do sleep 100 & done 2>/dev/null; wait'
	[ "$(cgr cg2-pids pids.current)" -le 10 ]
	grep -Eq '^max [1-9]' "$(cg cg2-pids)/pids.events"
	berth update --pids-limit 20 cg2-pids
	[ "$(cgr cg2-pids pids.max)" = 20 ]
	berth update --pids-limit -1 cg2-pids
	[ "$(cgr cg2-pids pids.max)" = max ]
}

@test "cg2-cpu: shares, quota, period and burst land in cpu.weight, cpu.max, cpu.max.burst; the quota throttles" {
	update_config '.linux.resources.cpu = {"shares": 512, "quota": 10000, "period": 100000, "burst": 5000}'
	set_args sh -c 'while :; do :; done'
	start_ct cg2-cpu
	# the library's (and runc's) quadratic map of shares to weight, which
	# takes 2, 1024 and 262144 to 1, 100 and 10000
	[ "$(cgr cg2-cpu cpu.weight)" = 59 ]
	[ "$(cgr cg2-cpu cpu.max)" = "10000 100000" ]
	[ "$(cgr cg2-cpu cpu.max.burst)" = 5000 ]
	for _ in $(seq 300); do
		[ "$(awk '$1 == "nr_throttled" {print $2}' "$(cg cg2-cpu)/cpu.stat")" -gt 0 ] && break
		sleep 0.1
	done
	[ "$(awk '$1 == "nr_throttled" {print $2}' "$(cg cg2-cpu)/cpu.stat")" -gt 0 ]
}

@test "cg2-cpu-update: update changes cpu.weight, cpu.max, cpu.max.burst and cpu.idle" {
	start_ct cg2-cpuup
	berth update --cpu-share 2048 --cpu-period 50000 --cpu-quota 25000 --cpu-burst 1000 cg2-cpuup
	[ "$(cgr cg2-cpuup cpu.weight)" = 174 ]
	[ "$(cgr cg2-cpuup cpu.max)" = "25000 50000" ]
	[ "$(cgr cg2-cpuup cpu.max.burst)" = 1000 ]
	berth update --cpu-quota -1 cg2-cpuup
	[ "$(cgr cg2-cpuup cpu.max)" = "max 50000" ]
	berth update --cpu-idle 1 cg2-cpuup
	[ "$(cgr cg2-cpuup cpu.idle)" = 1 ]
	berth update --cpu-idle 0 --cpu-share 1024 cg2-cpuup
	[ "$(cgr cg2-cpuup cpu.idle)" = 0 ]
	[ "$(cgr cg2-cpuup cpu.weight)" = 100 ]
}

@test "cg2-idle: cpu.idle from config.json" {
	update_config '.linux.resources.cpu = {"idle": 1}'
	berth create --bundle "$BUNDLE" cg2-idle
	[ "$(cgr cg2-idle cpu.idle)" = 1 ]
}

# cgroup v2 has no interface for real-time group scheduling, the CFQ leaf
# weights, swappiness, the OOM killer switch or the network classes: the
# library leaves them out in silence, as runc does.
# berth runs the container as runc does and names them, once: not again
# on an update that does not name them (the previous build said nothing).
@test "cg2-unapplied: fields cgroup v2 has no interface for are named in a warning; the container runs" {
	update_config '.linux.resources.cpu = {"realtimeRuntime": 1000, "realtimePeriod": 100000} | .linux.resources.blockIO = {"leafWeight": 300}
		| .linux.resources.memory = {"swappiness": 10, "disableOOMKiller": true} | .linux.resources.network = {"classID": 7}'
	set_args sleep 100
	run berth run -d --bundle "$BUNDLE" cg2-unap
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == *"linux.resources: cgroup v2 has no interface for memory.swappiness, memory.disableOOMKiller, cpu.realtimeRuntime, cpu.realtimePeriod, blockIO.leafWeight, network.classID: not applied"* ]] || { echo "$output"; false; }
	run berth update --pids-limit 50 cg2-unap
	[ "$status" -eq 0 ]
	[ -z "$output" ] || { echo "$output"; false; }
	run berth update --cpu-rt-runtime 500 cg2-unap
	[ "$status" -eq 0 ]
	[[ "$output" == *"cgroup v2 has no interface for cpu.realtimeRuntime: not applied"* ]] || { echo "$output"; false; }
	berth delete -f cg2-unap
}

@test "cg2-mem-update: update changes memory.max, .low and .swap.max; -r with unified changes memory.high" {
	start_ct cg2-memup
	berth update --memory 64m --memory-swap 128m --memory-reservation 8m cg2-memup
	[ "$(cgr cg2-memup memory.max)" = $((64 << 20)) ]
	[ "$(cgr cg2-memup memory.swap.max)" = $((64 << 20)) ]
	[ "$(cgr cg2-memup memory.low)" = $((8 << 20)) ]
	berth update --memory 32m --memory-swap 32m cg2-memup
	[ "$(cgr cg2-memup memory.max)" = $((32 << 20)) ]
	[ "$(cgr cg2-memup memory.swap.max)" = 0 ]
	echo '{"unified": {"memory.high": "20971520", "pids.max": "33"}}' >"$TEST_TMP/r.json"
	berth update -r "$TEST_TMP/r.json" cg2-memup
	[ "$(cgr cg2-memup memory.high)" = 20971520 ]
	[ "$(cgr cg2-memup pids.max)" = 33 ]
	[ "$(cgr cg2-memup memory.max)" = $((32 << 20)) ]
}

@test "cg2-unified: the unified map is written as is; an unknown file or a bad value fails create clearly and leaves nothing" {
	update_config '.linux.resources.unified = {"pids.max": "7", "memory.high": "max", "cpu.weight": "300"}'
	berth create --bundle "$BUNDLE" cg2-uni
	[ "$(cgr cg2-uni pids.max)" = 7 ]
	[ "$(cgr cg2-uni memory.high)" = max ]
	[ "$(cgr cg2-uni cpu.weight)" = 300 ]
	berth delete cg2-uni
	update_config '.linux.resources.unified = {"pids.nonsense": "1"}'
	run berth create --bundle "$BUNDLE" cg2-uni2
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *pids.nonsense* ]]
	[ ! -e /sys/fs/cgroup/berth/cg2-uni2 ]
	[ ! -e "$STATE_ROOT/cg2-uni2" ]
	update_config '.linux.resources.unified = {"pids.max": "lots"}'
	run berth create --bundle "$BUNDLE" cg2-uni3
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *pids.max* ]]
	[ ! -e /sys/fs/cgroup/berth/cg2-uni3 ]
}

@test "cg2-io: throttling lands in io.max and is updated; a weight is written or refused naming the field" {
	dev=$(blockdev) || skip "no block device in this kernel"
	major=${dev%:*} minor=${dev#*:}
	update_config --argjson ma "$major" --argjson mi "$minor" \
		'.linux.resources.blockIO = {"throttleReadBpsDevice": [{"major": $ma, "minor": $mi, "rate": 1048576}],
			"throttleWriteIOPSDevice": [{"major": $ma, "minor": $mi, "rate": 100}]}'
	start_ct cg2-io
	grep -qx "$dev rbps=1048576 wbps=max riops=max wiops=100" "$(cg cg2-io)/io.max"
	echo "{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": $major, \"minor\": $minor, \"rate\": 2097152}]}}" >"$TEST_TMP/r.json"
	berth update -r "$TEST_TMP/r.json" cg2-io
	grep -q "^$dev rbps=2097152 " "$(cg cg2-io)/io.max"
	run berth update --blkio-weight 300 cg2-io
	echo "$output"
	if [ -e "$(cg cg2-io)/io.bfq.weight" ] || [ -e "$(cg cg2-io)/io.weight" ]; then
		[ "$status" -eq 0 ]
		grep -Eq '(^| )(default )?[0-9]+$' "$(cg cg2-io)/io.bfq.weight" "$(cg cg2-io)/io.weight" 2>/dev/null
	else
		[ "$status" -ne 0 ]
		[[ "$output" == *"linux.resources.blockIO.weight is not supported by this kernel"* ]]
	fi
}

@test "cg2-nocpuset: a cpuset in a kernel whose cgroup2 has no cpuset controller is refused naming the field, leaving nothing" {
	! grep -qw cpuset /sys/fs/cgroup/cgroup.controllers || skip "this kernel's cgroup2 has the cpuset controller"
	update_config '.linux.resources.cpu = {"cpus": "0"}'
	run berth create --bundle "$BUNDLE" cg2-nocs
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.resources.cpu.cpus is not supported by this kernel"* ]]
	[ ! -e /sys/fs/cgroup/berth/cg2-nocs ]
	[ ! -e "$STATE_ROOT/cg2-nocs" ]
}

@test "cg2-freeze: pause freezes through cgroup.freeze, resume thaws" {
	start_ct cg2-frz
	berth pause cg2-frz
	[ "$(cgr cg2-frz cgroup.freeze)" = 1 ]
	grep -qx 'frozen 1' "$(cg cg2-frz)/cgroup.events"
	[ "$(container_status cg2-frz)" = paused ]
	berth resume cg2-frz
	[ "$(cgr cg2-frz cgroup.freeze)" = 0 ]
	grep -qx 'frozen 0' "$(cg cg2-frz)/cgroup.events"
	[ "$(container_status cg2-frz)" = running ]
}

@test "cg2-stats: events --stats reads cpu.stat, memory.stat, pids and io.stat" {
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 99}'
	start_ct cg2-stats
	berth exec cg2-stats sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'
	run berth events --stats cg2-stats
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(jq '.data.cpu.usage.total > 0' <<<"$output")" = true ]
	[ "$(jq '.data.memory.usage.usage > 0' <<<"$output")" = true ]
	[ "$(jq .data.memory.usage.limit <<<"$output")" = 67108864 ]
	[ "$(jq .data.pids.current <<<"$output")" = 1 ]
	[ "$(jq .data.pids.limit <<<"$output")" = 99 ]
	[ "$(jq '.data.blkio | type' <<<"$output")" = '"object"' ]
}

@test "cg2-dev: the eBPF device filter denies an mknod'ed device not allowed, allows one that is" {
	# major 42 has no driver: opening an allowed node fails with ENXIO
	# (past the filter), a denied one with EPERM (at the filter).
	update_config '.linux.resources.devices = [{"allow": false, "access": "rwm"},
		{"allow": true, "type": "c", "major": 42, "minor": 1, "access": "rw"}]
		| .process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
	set_args sh -c 'mknod /dev/d0 c 42 0 && mknod /dev/d1 c 42 1 &&
		{ echo x >/dev/d0; } 2>&1; { echo x >/dev/d1; } 2>&1; echo null >/dev/null && echo done'
	run berth run --bundle "$BUNDLE" cg2-dev
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'd0.*Operation not permitted' <<<"$output"
	grep -q 'd1.*No such device' <<<"$output"
	grep -qx done <<<"$output"
}

@test "cg2-exec: exec and exec --cgroup land in the container's cgroup and in a sub-cgroup" {
	start_ct cg2-exec
	dir=$(cg cg2-exec)
	berth exec -d --pid-file "$TEST_TMP/x.pid" cg2-exec sleep 100
	grep -qx "$(cat "$TEST_TMP/x.pid")" "$dir/cgroup.procs"
	mkdir "$dir/sub"
	berth exec -d --pid-file "$TEST_TMP/y.pid" --cgroup sub cg2-exec sleep 100
	ypid=$(cat "$TEST_TMP/y.pid")
	grep -qx "$ypid" "$dir/sub/cgroup.procs"
	grep -qx '0::/berth/cg2-exec/sub' "/proc/$ypid/cgroup"
	# the container's cgroup namespace: the sub-cgroup as seen inside
	[ "$(berth exec --cgroup sub cg2-exec cat /proc/self/cgroup)" = '0::/sub' ]
	run berth exec --cgroup nope cg2-exec true
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *nope* ]]
}

# pids_refused ID: how many forks the container's cgroup has refused
# (the "max" count of pids.events).
pids_refused() { awk '$1 == "max" {print $2}' "$(cg "$1")/pids.events"; }

@test "cg2-exec-full: exec into a container at its pids.max fails at the clone with one line naming the cgroup, and leaves nothing" {
	update_config '.linux.resources.pids = {"limit": 100}'
	start_ct cg2-xfull
	dir=$(cg cg2-xfull)
	mkdir "$dir/sub"
	procs=$(cat "$dir/cgroup.procs")
	cat "$dir/pids.current" >"$dir/pids.max"
	refused=$(pids_refused cg2-xfull)
	run berth exec --pid-file "$TEST_TMP/x.pid" cg2-xfull sh -c 'echo ran'
	echo "$output"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"cgroup $dir has no room for another process: pids.max reached"* ]]
	# the one fork the cgroup refused is the clone of the exec process
	# itself: it was to be born there, and nothing of it ran elsewhere
	[ "$(pids_refused cg2-xfull)" -eq $((refused + 1)) ]
	[ "$(cat "$dir/cgroup.procs")" = "$procs" ]
	[ ! -e "$TEST_TMP/x.pid" ]
	[ -z "$(pgrep -fx 'berth init')" ]
	# a sub-cgroup counts against the container's limit: refused, named
	run berth exec --cgroup sub cg2-xfull true
	echo "$output"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"cgroup $dir/sub has no room for another process: pids.max reached there or in a parent cgroup"* ]]
	[ -z "$(cat "$dir/sub/cgroup.procs")" ]
	[ "$(pids_refused cg2-xfull)" -eq $((refused + 2)) ]
	# with room again, the same exec runs
	echo 100 >"$dir/pids.max"
	[ "$(berth exec cg2-xfull sh -c 'echo ran')" = ran ]
	[ "$(berth exec --cgroup sub cg2-xfull cat /proc/self/cgroup)" = '0::/sub' ]
}

@test "cg2-exec-born: exec is cloned into its cgroup (CLONE_INTO_CGROUP), never moved there, also with --cgroup" {
	start_ct cg2-xborn
	dir=$(cg cg2-xborn)
	mkdir "$dir/sub"
	for sub in "" sub; do
		args=()
		[ -n "$sub" ] && args=(--cgroup "$sub")
		strace -f -qq -e trace=clone,clone3,openat -o "$TEST_TMP/strace" \
			"$BERTH" --root "$STATE_ROOT" exec "${args[@]}" cg2-xborn cat /proc/self/cgroup >"$TEST_TMP/out" </dev/null
		cat "$TEST_TMP/out"
		[ "$(cat "$TEST_TMP/out")" = "0::/$sub" ]
		# the runtime's clone of the process names the cgroup; nothing
		# writes a pid into a cgroup.procs afterwards
		grep 'clone3(.*CLONE_INTO_CGROUP' "$TEST_TMP/strace"
		[ -z "$(grep cgroup.procs "$TEST_TMP/strace")" ]
	done
}

@test "cg2-exec-nested: a container whose cgroup hands controllers to its sub-cgroups gets exec in init's cgroup; a named one is refused clearly" {
	start_ct cg2-xnest
	dir=$(cg cg2-xnest)
	pid=$(init_pid cg2-xnest)
	# what Docker-in-Docker's entrypoint does: init into a sub-cgroup,
	# controllers handed down, so the container's own cgroup can hold no
	# process (EBUSY)
	mkdir "$dir/init" "$dir/mid" "$dir/mid/leaf"
	echo "$pid" >"$dir/init/cgroup.procs"
	echo "+memory +pids" >"$dir/cgroup.subtree_control"
	echo "+memory +pids" >"$dir/mid/cgroup.subtree_control"
	[ "$(berth exec cg2-xnest cat /proc/self/cgroup)" = '0::/init' ]
	berth exec -d --pid-file "$TEST_TMP/x.pid" cg2-xnest sleep 100
	grep -qx "$(cat "$TEST_TMP/x.pid")" "$dir/init/cgroup.procs"
	[ "$(berth exec --cgroup init cg2-xnest cat /proc/self/cgroup)" = '0::/init' ]
	[ "$(berth exec --cgroup mid/leaf cg2-xnest cat /proc/self/cgroup)" = '0::/mid/leaf' ]
	run berth exec --cgroup mid cg2-xnest true
	echo "$output"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"cgroup $dir/mid cannot hold processes: it enables controllers for its sub-cgroups (cgroup.subtree_control); adding pid of the new process to cgroups: device or resource busy"* ]]
	[ -z "$(cat "$dir/mid/cgroup.procs")" ]
}

@test "cg2-exec-nspath: a container that joins a namespace by path starts in its cgroup; its exec and exec --cgroup too" {
	start_ct cg2-npa
	pid=$(init_pid cg2-npa)
	update_config '.linux.namespaces |= map(if .type == "ipc" then .path = "'"/proc/$pid/ns/ipc"'" else . end)'
	start_ct cg2-npb
	dir=$(cg cg2-npb)
	bpid=$(init_pid cg2-npb)
	[ "$(readlink "/proc/$bpid/ns/ipc")" = "$(readlink "/proc/$pid/ns/ipc")" ]
	grep -qx "$bpid" "$dir/cgroup.procs"
	[ "$(berth exec cg2-npb cat /proc/self/cgroup)" = '0::/' ]
	mkdir "$dir/sub"
	[ "$(berth exec --cgroup sub cg2-npb cat /proc/self/cgroup)" = '0::/sub' ]
}

@test "cg2-ns: with a cgroup namespace the container sees its cgroup as / and mounts it on /sys/fs/cgroup" {
	set_args sh -c 'cat /proc/self/cgroup; cat /sys/fs/cgroup/cgroup.procs | wc -l; ls /sys/fs/cgroup/ | grep -c "^memory.max$"'
	run berth run --bundle "$BUNDLE" cg2-ns
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '0::/' ]
	[ "${lines[2]}" = 1 ]
	# without one, as under runc and crun: the hierarchy as the runtime
	# sees it (where /proc/self/cgroup points), read-only
	update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
	set_args sh -c 'cat /proc/self/cgroup; grep -qx 1 /sys/fs/cgroup/berth/cg2-nons/cgroup.procs && echo INIT; [ -e /sys/fs/cgroup/cgroup.subtree_control ] && echo ROOT; mkdir /sys/fs/cgroup/berth/cg2-nons/x 2>/dev/null && echo WROTE; true'
	run berth run --bundle "$BUNDLE" cg2-nons
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '0::/berth/cg2-nons' ]
	[ "${lines[1]}" = INIT ]
	[ "${lines[2]}" = ROOT ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "cg2-exec-moved: exec into a container whose init moved itself to another cgroup, the old one removed, starts in init's cgroup (as runc)" {
	new=/sys/fs/cgroup/cg2-moved-$$
	mkdir "$new"
	CG_CLEANUP="$new"
	update_config '.linux.namespaces |= map(select(.type != "cgroup"))
		| (.mounts[] | select(.destination == "/sys/fs/cgroup") | .options) |= map(select(. != "ro"))'
	set_args sh -c "echo 1 >$new/cgroup.procs && exec sleep 1000"
	start_ct cg2-mv
	old=$(cg cg2-mv)
	pid=$(init_pid cg2-mv)
	for _ in $(seq 100); do grep -qx "$pid" "$new/cgroup.procs" && break; sleep 0.1; done
	grep -qx "$pid" "$new/cgroup.procs"
	rmdir "$old"
	run berth exec cg2-mv cat /proc/self/cgroup
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "0::/cg2-moved-$$" ]
	# a sub-cgroup asked for must still exist
	run berth exec --cgroup sub cg2-mv true
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"cgroup"*"no such file or directory"* ]]
	berth delete --force cg2-mv
	[ ! -e "$STATE_ROOT/cg2-mv" ]
}

@test "cg2-killall: kill --all reaches every process of the cgroup, also paused" {
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args sh -c 'trap "" TERM; sleep 1001 & sleep 1002 & wait'
	start_ct cg2-kall
	dir=$(cg cg2-kall)
	for _ in $(seq 100); do [ "$(wc -l <"$dir/cgroup.procs")" -ge 3 ] && break; sleep 0.1; done
	[ "$(wc -l <"$dir/cgroup.procs")" -eq 3 ]
	berth pause cg2-kall
	berth kill --all cg2-kall KILL
	wait_status cg2-kall stopped 30
	for _ in $(seq 100); do [ -s "$dir/cgroup.procs" ] || break; sleep 0.1; done
	[ ! -s "$dir/cgroup.procs" ]
	berth delete cg2-kall
	[ ! -e "$dir" ]
}

@test "cg2-threaded: a process in a threaded sub-cgroup is listed by ps and killed by delete --force" {
	set_args sleep 1000
	start_ct cg2-thr
	dir=$(cg cg2-thr)
	berth exec -d cg2-thr sleep 1001
	ipid=$(init_pid cg2-thr)
	pid=
	for _ in $(seq 100); do
		pid=$(grep -vx "$ipid" "$dir/cgroup.procs" | head -n1)
		[ -n "$pid" ] && [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 1001 " ] && break
		sleep 0.1
	done
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 1001 " ]
	# what runc's delete.bats does from inside the container: a threaded
	# sub-cgroup (its cgroup.procs refuses a read: EOPNOTSUPP) holding
	# exec's process
	echo +pids >"$dir/cgroup.subtree_control"
	mkdir "$dir/thr"
	echo threaded >"$dir/thr/cgroup.type"
	echo "$pid" >"$dir/thr/cgroup.threads"
	run cat "$dir/thr/cgroup.procs"
	[ "$status" -ne 0 ]
	run berth ps cg2-thr -o pid,args
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$pid "*"sleep 1001"* ]]
	run berth delete --force cg2-thr
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$dir" ]
	[ ! -e "$STATE_ROOT/cg2-thr" ]
	for _ in $(seq 100); do
		[ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || break
		sleep 0.1
	done
	[ ! -d "/proc/$pid" ] || [ "$(awk '{print $3}' "/proc/$pid/stat")" = Z ]
}

@test "cg2-del: delete removes the cgroup, also after a create killed midway" {
	start_ct cg2-del
	dir=$(cg cg2-del)
	[ -d "$dir" ]
	berth delete --force cg2-del
	[ ! -e "$dir" ]
	# create killed (SIGKILL) while a createRuntime hook runs: its cgroup
	# exists and holds init
	update_config '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "echo $PPID >'"$TEST_TMP"'/creator; sleep 100"]}]'
	"$BERTH" --root "$STATE_ROOT" create --bundle "$BUNDLE" cg2-del2 </dev/null >/dev/null 2>&1 &
	for _ in $(seq 300); do [ -s "$TEST_TMP/creator" ] && break; sleep 0.1; done
	[ -d /sys/fs/cgroup/berth/cg2-del2 ]
	kill -9 "$(cat "$TEST_TMP/creator")"
	pkill -9 -f "sleep 100$" -P "$$" 2>/dev/null || true
	berth delete --force cg2-del2
	[ ! -e /sys/fs/cgroup/berth/cg2-del2 ]
	[ ! -e "$STATE_ROOT/cg2-del2" ]
}

@test "cg2-rel: a relative cgroupsPath goes under the parent of berth's cgroup; an absolute nested one is taken as is" {
	top=/sys/fs/cgroup/cg2-rel-$$
	CG_CLEANUP=$top
	mkdir -p "$top/runner"
	update_config '.linux.cgroupsPath = "rel/box"'
	# (stdio to files: init would hold a pipe of bats' open)
	rc=0
	sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --root "$3" create --bundle "$4" cg2-rel' sh \
		"$top/runner" "$BERTH" "$STATE_ROOT" "$BUNDLE" </dev/null >"$TEST_TMP/rel.out" 2>&1 || rc=$?
	cat "$TEST_TMP/rel.out"
	[ "$rc" -eq 0 ]
	[ "$(cg cg2-rel)" = "$top/rel/box" ]
	grep -qx "$(init_pid cg2-rel)" "$top/rel/box/cgroup.procs"
	berth delete --force cg2-rel
	[ ! -e "$top/rel/box" ]
	update_config --arg p "/cg2-rel-$$/a/b/c" '.linux.cgroupsPath = $p | .linux.resources.pids = {"limit": 5}'
	berth create --bundle "$BUNDLE" cg2-nest
	[ "$(cg cg2-nest)" = "$top/a/b/c" ]
	[ "$(cat "$top/a/b/c/pids.max")" = 5 ]
	berth delete --force cg2-nest
	[ ! -e "$top/a/b/c" ]
}

@test "cg2-busy: a cgroup with processes, or a frozen one, is refused at create and left as it was" {
	top=/sys/fs/cgroup/cg2-busy-$$
	CG_CLEANUP=$top
	mkdir -p "$top/busy" "$top/frozen"
	(echo "$BASHPID" >"$top/busy/cgroup.procs" && exec sleep 1000) &
	for _ in $(seq 100); do [ -s "$top/busy/cgroup.procs" ] && break; sleep 0.1; done
	update_config --arg p "/cg2-busy-$$/busy" '.linux.cgroupsPath = $p'
	run berth create --bundle "$BUNDLE" cg2-busy
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"is not empty"* ]]
	[ "$(wc -l <"$top/busy/cgroup.procs")" -eq 1 ]
	[ ! -e "$STATE_ROOT/cg2-busy" ]
	echo 1 >"$top/frozen/cgroup.freeze"
	update_config --arg p "/cg2-busy-$$/frozen" '.linux.cgroupsPath = $p'
	run berth create --bundle "$BUNDLE" cg2-frozen
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"is frozen"* ]]
	[ "$(cat "$top/frozen/cgroup.freeze")" = 1 ]
	[ -z "$(cat "$top/frozen/cgroup.procs")" ]
	[ ! -e "$STATE_ROOT/cg2-frozen" ]
}
