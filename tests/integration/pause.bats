#!/usr/bin/env bats
# pause/resume through the cgroup freezer, and kill --all reaching every
# process of the cgroup, paused or not.

load helpers

setup() {
	setup_bundle
	update_config '.root.readonly = false'
}
teardown() { teardown_bundle; }

count() { cat "$BUNDLE/rootfs/count" 2>/dev/null || echo 0; }

# wait_count_above N: the counter passes N.
wait_count_above() {
	local deadline=$((SECONDS + 10))
	while [ "$(count)" -le "$1" ]; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}

@test "pz-freeze: a paused container stops counting and resumes where it was" {
	# rename, not truncate-and-write: frozen mid-write, /count would read empty
	set_args sh -c 'i=0; while :; do i=$((i+1)); echo $i > /count.new; mv /count.new /count; usleep 10000; done'
	berth create --bundle "$BUNDLE" pz-1
	berth start pz-1
	wait_count_above 3
	berth pause pz-1
	[ "$(container_status pz-1)" = paused ]
	[ "$(cgroup_frozen pz-1)" = FROZEN ]
	before=$(count)
	sleep 0.5
	[ "$(count)" -eq "$before" ]
	berth resume pz-1
	[ "$(container_status pz-1)" = running ]
	wait_count_above "$before"
}

@test "pz-states: pause and resume in the wrong state fail with runc's words" {
	berth create --bundle "$BUNDLE" pz-2
	run berth resume pz-2
	[ "$status" -eq 1 ]
	[[ "$output" == *"container not paused"* ]]
	berth start pz-2
	berth pause pz-2
	run berth pause pz-2
	[ "$status" -eq 1 ]
	[[ "$output" == *"container not running"* ]]
	berth resume pz-2
	berth kill pz-2 KILL
	wait_status pz-2 stopped
	run berth pause pz-2
	[ "$status" -eq 1 ]
	[[ "$output" == *"container not running"* ]]
	run berth resume pz-none
	[[ "$output" == *"does not exist"* ]]
}

@test "pz-created: a created container can be paused and resumed" {
	berth create --bundle "$BUNDLE" pz-3
	berth pause pz-3
	[ "$(container_status pz-3)" = paused ]
	berth resume pz-3
	[ "$(container_status pz-3)" = created ]
}

# children_of_cgroup ID: the pids in the container's pids cgroup.
cgroup_pids() { cat "$(cgroup_path pids "$1")/cgroup.procs"; }

@test "pz-killall: kill --all reaches forked children in a shared pid namespace" {
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args sh -c 'trap "" TERM; sleep 1001 & sleep 1002 & wait'
	berth create --bundle "$BUNDLE" pz-4
	berth start pz-4
	for _ in $(seq 100); do [ "$(cgroup_pids pz-4 | wc -l)" -ge 3 ] && break; sleep 0.05; done
	pids=$(cgroup_pids pz-4)
	[ "$(echo $pids | wc -w)" -eq 3 ]
	berth kill --all pz-4 KILL
	for p in $pids; do
		for _ in $(seq 100); do [ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" = Z ] || [ ! -d /proc/$p ] && break; sleep 0.05; done
		[ ! -d /proc/$p ] || [ "$(awk '{print $3}' /proc/$p/stat)" = Z ]
	done
	wait_status pz-4 stopped
	# kill --all on a stopped container succeeds, as the shim expects
	run berth kill --all pz-4 KILL
	[ "$status" -eq 0 ]
}

@test "pz-killall-paused: kill --all KILL ends every process of a paused container" {
	set_args sh -c 'sleep 1001 & sleep 1002 & wait'
	berth create --bundle "$BUNDLE" pz-5
	berth start pz-5
	for _ in $(seq 100); do [ "$(cgroup_pids pz-5 | wc -l)" -ge 3 ] && break; sleep 0.05; done
	pids=$(cgroup_pids pz-5)
	# the directories, while init runs
	pcg=$(cgroup_path pids pz-5)
	fz=$(cgroup_path freezer pz-5)
	[ -n "$pcg" ] && [ -n "$fz" ]
	berth pause pz-5
	berth kill --all pz-5 KILL
	wait_status pz-5 stopped
	for _ in $(seq 100); do [ -z "$(cgroup_pids pz-5)" ] && break; sleep 0.05; done
	[ -z "$(cgroup_pids pz-5)" ]
	[ "$(cgroup_frozen pz-5)" = THAWED ]
}
