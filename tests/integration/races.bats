#!/usr/bin/env bats
# Lifecycle races and interrupted commands: a command that waited for a
# container's lock must act on the container it was asked about, and a
# create or start killed at any point must leave nothing that delete
# --force cannot remove, and no wrong status.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

# rand_sleep: 1 to 20 ms.
rand_sleep() {
	sleep "$(printf '0.%03d' $((RANDOM % 20 + 1)))"
}

# flock(2)'s number on this architecture, from the C library's headers
# (73 on x86_64).
FLOCK_NR=$(printf '#include <sys/syscall.h>\nSYS_flock\n' | cpp -P 2>/dev/null | tail -n1)

# wait_at_flock STRACE_PID: waits until the berth that strace runs is held
# at its flock(2), so it has read the state it will act on. A fixed sleep
# let a slow start (CI's load) read the new container's state instead.
# Any of its threads: the command runs on a goroutine, not necessarily on
# the main thread.
wait_at_flock() {
	local deadline=$((SECONDS + 20)) child
	[[ "$FLOCK_NR" =~ ^[0-9]+$ ]] || { echo "no flock syscall number from cpp: '$FLOCK_NR'"; return 1; }
	while :; do
		child=$(pgrep -P "$1" | head -n1)
		if [ -n "$child" ] && cat /proc/"$child"/task/*/syscall 2>/dev/null | grep -q "^$FLOCK_NR "; then
			return 0
		fi
		[ $SECONDS -lt $deadline ] || { echo "berth never reached its flock"; return 1; }
		sleep 0.02
	done
}

# cgroup_dirs ID: the container's cgroup directories left in any hierarchy
# (default cgroupsPath: /berth/ID).
cgroup_dirs() {
	ls -d /sys/fs/cgroup/*/berth/"$1" /sys/fs/cgroup/berth/"$1" 2>/dev/null || true
}

# A plain delete that waited for the lock while the container was
# deleted, made anew and started under the same ID killed the new one and
# removed its cgroup and state. It must find it is another container.
@test "race-delete: a delete that waited for the lock leaves a new container of the same ID alone" {
	berth create --bundle "$BUNDLE" race1
	# The slow delete reads race1's state, then waits 5 s at its first flock.
	strace -f -qq -o /dev/null -e trace=flock -e inject=flock:delay_enter=5000000:when=1 \
		"$BERTH" --root "$STATE_ROOT" delete race1 >"$TEST_TMP/slow.out" 2>&1 </dev/null 3>&- &
	slow=$!
	wait_at_flock "$slow"
	berth delete --force race1
	berth create --bundle "$BUNDLE" race1
	berth start race1
	pid=$(init_pid race1)
	rc=0
	wait "$slow" || rc=$?
	echo "slow delete: $rc $(cat "$TEST_TMP/slow.out")"
	[ "$rc" -ne 0 ]
	grep -q "does not exist" "$TEST_TMP/slow.out"
	[ "$(container_status race1)" = running ]
	[ "$(init_pid race1)" = "$pid" ]
	kill -0 "$pid"
	[ -n "$(cgroup_dirs race1)" ]
}

# The same for kill and start: each re-reads the state under the lock.
@test "race-kill: a kill that waited for the lock does not signal a new container of the same ID" {
	berth create --bundle "$BUNDLE" race2
	strace -f -qq -o /dev/null -e trace=flock -e inject=flock:delay_enter=5000000:when=1 \
		"$BERTH" --root "$STATE_ROOT" kill race2 KILL >"$TEST_TMP/slow.out" 2>&1 </dev/null 3>&- &
	slow=$!
	wait_at_flock "$slow"
	berth delete --force race2
	berth create --bundle "$BUNDLE" race2
	pid=$(init_pid race2)
	rc=0
	wait "$slow" || rc=$?
	echo "slow kill: $rc $(cat "$TEST_TMP/slow.out")"
	[ "$rc" -ne 0 ]
	[ "$(container_status race2)" = created ]
	kill -0 "$pid"
}

# An exec that waited for the lock while the container was deleted, made
# anew and started under the same ID must not run in the new one: it
# re-reads the state under the lock and finds another container.
@test "race-exec-delete: an exec that waited for the lock runs in no container made anew" {
	berth create --bundle "$BUNDLE" race-ed
	berth start race-ed
	strace -f -qq -o /dev/null -e trace=flock -e inject=flock:delay_enter=5000000:when=1 \
		"$BERTH" --root "$STATE_ROOT" exec -d race-ed sleep 999 >"$TEST_TMP/slow.out" 2>&1 </dev/null 3>&- &
	slow=$!
	wait_at_flock "$slow"
	berth delete --force race-ed
	berth create --bundle "$BUNDLE" race-ed
	berth start race-ed
	rc=0
	wait "$slow" || rc=$?
	echo "slow exec: $rc $(cat "$TEST_TMP/slow.out")"
	[ "$rc" -ne 0 ]
	grep -q "does not exist" "$TEST_TMP/slow.out"
	# only the new init in the new container
	run berth ps --format json race-ed
	echo "$output"
	[ "$(jq length <<<"$output")" -eq 1 ]
	berth delete --force race-ed
}

# The same with the container gone for good: exec fails cleanly, and
# leaves no process and no state behind.
@test "race-exec-gone: an exec that waited for the lock of a deleted container fails cleanly" {
	berth create --bundle "$BUNDLE" race-eg
	berth start race-eg
	strace -f -qq -o /dev/null -e trace=flock -e inject=flock:delay_enter=5000000:when=1 \
		"$BERTH" --root "$STATE_ROOT" exec -d race-eg sleep 998 >"$TEST_TMP/slow.out" 2>&1 </dev/null 3>&- &
	slow=$!
	wait_at_flock "$slow"
	berth delete --force race-eg
	rc=0
	wait "$slow" || rc=$?
	echo "slow exec: $rc $(cat "$TEST_TMP/slow.out")"
	[ "$rc" -eq 255 ]
	grep -q "does not exist" "$TEST_TMP/slow.out"
	[ ! -e "$STATE_ROOT/race-eg" ]
	! pgrep -f "sleep 998"
}

# A delete that waited behind a create acts on the state the create left
# (created), not on the "creating" snapshot it read before the lock: it
# kills the container's init, removes its cgroup and runs the poststop
# hooks.
@test "race-delete-create: a delete that waited behind a create deletes what it made, poststop hooks too" {
	update_config --arg f "$TEST_TMP/poststop" '.hooks = {
		"prestart": [{"path": "/bin/sleep", "args": ["sleep", "1"]}],
		"poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "echo ran > \($f)"]}]}'
	"$BERTH" --root "$STATE_ROOT" create --bundle "$BUNDLE" --pid-file "$TEST_TMP/init.pid" race-dc >"$TEST_TMP/create.out" 2>&1 </dev/null 3>&- &
	creator=$!
	deadline=$((SECONDS + 10))
	until [ -e "$STATE_ROOT/race-dc" ]; do
		[ $SECONDS -lt $deadline ] || { echo "no state directory"; false; }
		sleep 0.01
	done
	run "$BERTH" --root "$STATE_ROOT" delete race-dc
	echo "delete: $status $output"
	rc=0
	wait "$creator" || rc=$?
	echo "create: $rc $(cat "$TEST_TMP/create.out")"
	[ "$rc" -eq 0 ]
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/poststop")" = ran ]
	[ ! -e "$STATE_ROOT/race-dc" ]
	[ -z "$(cgroup_dirs race-dc)" ]
	pid=$(cat "$TEST_TMP/init.pid")
	# gone, or a zombie its reaper has not taken yet
	[ ! -e "/proc/$pid" ] || grep -q ') Z' "/proc/$pid/stat"
}

# kill -9 of `berth create` at a random point: the container is either
# fully there (created) or removable; delete --force removes everything
# (state directory, cgroups, processes) and the ID can be used again.
@test "race-create-kill9: a create killed at any point leaves nothing delete --force cannot remove" {
	for i in $(seq 1 30); do
		id=kc$i
		"$BERTH" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 3>&- &
		creator=$!
		rand_sleep
		kill -9 "$creator" 2>/dev/null || true
		wait "$creator" 2>/dev/null || true
		pid=
		if [ -d "$STATE_ROOT/$id" ]; then
			# Visible, with a status that says what is there.
			"$BERTH" --root "$STATE_ROOT" list -q | grep -qx "$id"
			st=$("$BERTH" --root "$STATE_ROOT" state "$id" | jq -r .status)
			pid=$("$BERTH" --root "$STATE_ROOT" state "$id" | jq -r .pid)
			echo "round $i: $st (pid $pid)"
			case "$st" in
			created) kill -0 "$pid" ;;
			stopped | creating) ;;
			*) false ;;
			esac
		fi
		"$BERTH" --root "$STATE_ROOT" delete --force "$id"
		[ ! -e "$STATE_ROOT/$id" ]
		[ -z "$(cgroup_dirs "$id")" ]
		if [ -n "$pid" ] && [ "$pid" != 0 ]; then
			! kill -0 "$pid" 2>/dev/null || grep -q '^State:.*Z' "/proc/$pid/status"
		fi
		# The ID is free again.
		"$BERTH" --root "$STATE_ROOT" create --bundle "$BUNDLE" "$id" </dev/null
		"$BERTH" --root "$STATE_ROOT" delete --force "$id"
		[ -z "$(cgroup_dirs "$id")" ]
	done
	[ -z "$(ls -A "$STATE_ROOT")" ]
}

# init_exec_done PID: whether the container's init has run its process
# (berth's init is "berth init" until execve).
init_cmd() {
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# kill -9 of `berth start` at a random point: the status is never wrong
# (created only while init waits, running once it has gone on), a second
# start does not hang, and delete --force removes everything.
@test "race-start-kill9: a start killed at any point never leaves a wrong status or a hung start" {
	for i in $(seq 1 25); do
		id=ks$i
		berth create --bundle "$BUNDLE" "$id"
		pid=$(init_pid "$id")
		"$BERTH" --root "$STATE_ROOT" start "$id" </dev/null >/dev/null 2>&1 3>&- &
		starter=$!
		rand_sleep
		kill -9 "$starter" 2>/dev/null || true
		wait "$starter" 2>/dev/null || true
		# Once settled (init may still be on its way to execve), the
		# status matches what init is doing.
		deadline=$((SECONDS + 10))
		while :; do
			st=$(container_status "$id")
			cmd=$(init_cmd "$pid")
			case "$st:$cmd" in
			"created:berth init ") break ;;
			"running:sleep 1000 ") break ;;
			stopped:*) break ;;
			esac
			[ $SECONDS -lt $deadline ] || { echo "round $i: status $st with init running '$cmd'"; false; }
			sleep 0.05
		done
		echo "round $i: $st"
		if [ "$st" = created ]; then
			run timeout 40 "$BERTH" --root "$STATE_ROOT" start "$id"
			echo "second start: $status $output"
			[ "$status" -eq 0 ]
			wait_status "$id" running
		fi
		run timeout 40 "$BERTH" --root "$STATE_ROOT" delete --force "$id"
		[ "$status" -eq 0 ]
		[ ! -e "$STATE_ROOT/$id" ]
		[ -z "$(cgroup_dirs "$id")" ]
	done
}

# The window race-start-kill9 hits only now and then, made certain: a
# start that opened exec.fifo (so init went on to execve) and died before
# removing it. The container is running, and a second start says so at
# once instead of waiting for an answer init will never write.
@test "race-start-fifo-left: a start that died before removing exec.fifo leaves a running container" {
	berth create --bundle "$BUNDLE" ksf
	pid=$(init_pid ksf)
	# Reads init's byte and then EOF at its execve, as start would.
	timeout 10 cat "$STATE_ROOT/ksf/exec.fifo" >/dev/null
	[ -p "$STATE_ROOT/ksf/exec.fifo" ]
	deadline=$((SECONDS + 10))
	until [ "$(init_cmd "$pid")" = "sleep 1000 " ]; do
		[ $SECONDS -lt $deadline ] || { echo "init is '$(init_cmd "$pid")'"; false; }
		sleep 0.05
	done
	[ "$(container_status ksf)" = running ]
	run timeout 20 "$BERTH" --root "$STATE_ROOT" start ksf
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"already running"* ]]
	berth delete --force ksf
	[ ! -e "$STATE_ROOT/ksf" ]
}

# A cgroup removed under a create (another tool's clean-up rmdir'ing an
# empty cgroup between its mkdir and the join) made opening its tasks
# file fail; create then waited for init to report, while init waited
# for its cgroup: both read the sync socket forever. Injected here as
# ENODEV on opening the pids "tasks" file, which only the runtime opens.
@test "race-cgroup-gone: a cgroup that fails under create ends it with an error, not a hang, and leaves nothing" {
	[ -d /sys/fs/cgroup/pids ] && [ -f /sys/fs/cgroup/pids/tasks ] || skip "needs the cgroup v1 pids hierarchy (init joins v1 cgroups through tasks files)"
	run timeout 60 strace -f -qq -o /dev/null -P "/sys/fs/cgroup/pids/berth/cggone/tasks" \
		-e trace=openat -e inject=openat:error=ENODEV \
		"$BERTH" --root "$STATE_ROOT" create --bundle "$BUNDLE" cggone </dev/null 3>&-
	echo "$output"
	[ "$status" -ne 124 ]
	[ "$status" -eq 1 ]
	[[ "$output" == *"tasks"*"no such device"* ]]
	[ -z "$("$BERTH" --root "$STATE_ROOT" list -q)" ]
	[ -z "$(cgroup_dirs cggone)" ]
}
