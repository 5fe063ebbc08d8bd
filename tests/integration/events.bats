#!/usr/bin/env bats
# berth events: a stats snapshot in runc's format, a stream of stats, and
# OOM events; the stream ends when the container stops.

load helpers

setup() { setup_bundle; }
teardown() {
	[ -n "${EV:-}" ] && kill "$EV" 2>/dev/null
	teardown_bundle
}

@test "ev-stats: --stats prints one snapshot with cpu, memory, pids and blkio" {
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 99}'
	berth create --bundle "$BUNDLE" ev-1
	berth start ev-1
	berth exec ev-1 sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'
	run berth events --stats ev-1
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$(jq -r .type <<<"$output")" = stats ]
	[ "$(jq -r .id <<<"$output")" = ev-1 ]
	[ "$(jq '.data.cpu.usage.total > 0' <<<"$output")" = true ]
	# per-CPU usage: cgroup v1's cpuacct only (cgroup v2 has none)
	cgroup_v2 || [ "$(jq '.data.cpu.usage.percpu | length' <<<"$output")" -ge 1 ]
	[ "$(jq '.data.memory.usage.usage > 0' <<<"$output")" = true ]
	[ "$(jq .data.memory.usage.limit <<<"$output")" = 67108864 ]
	# memory.stat's keys: rss on cgroup v1, anon on v2
	[ "$(jq '.data.memory.raw | has("rss") or has("anon")' <<<"$output")" = true ]
	[ "$(jq .data.pids.current <<<"$output")" = 1 ]
	[ "$(jq .data.pids.limit <<<"$output")" = 99 ]
	[ "$(jq '.data.blkio | type' <<<"$output")" = '"object"' ]
	[ "$(jq '.data.hugetlb | type' <<<"$output")" = '"object"' ]
}

# PSI: from the cgroup2 directory's *.pressure files (on a hybrid host the
# container's unified cgroup), as runc reports it on cgroup v2.
@test "ev-psi: --stats reports cpu and io pressure from the container's cgroup2 directory" {
	local dir
	dir=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
	[ -f "/sys/fs/cgroup/unified$dir/cpu.pressure" ] || [ -f "/sys/fs/cgroup$dir/cpu.pressure" ] ||
		skip "this kernel has no PSI (no cpu.pressure in the cgroup2 hierarchy)"
	berth create --bundle "$BUNDLE" ev-psi
	berth start ev-psi
	berth exec ev-psi sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'
	run berth events --stats ev-psi
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq '.data.cpu.psi.some | has("avg10") and has("total")' <<<"$output")" = true ]
	[ "$(jq '.data.cpu.psi.some.total > 0' <<<"$output")" = true ]
	[ "$(jq '.data.blkio.psi | type' <<<"$output")" = '"object"' ]
	[ "$(jq '.data.memory.psi | type' <<<"$output")" = '"object"' ]
}

@test "ev-stream: events prints stats every --interval and exits when the container stops" {
	berth create --bundle "$BUNDLE" ev-2
	berth start ev-2
	"$BERTH" --root "$STATE_ROOT" events --interval 100ms ev-2 >"$TEST_TMP/ev.out" 2>&1 &
	EV=$!
	for _ in $(seq 100); do [ "$(wc -l <"$TEST_TMP/ev.out")" -ge 3 ] && break; sleep 0.05; done
	[ "$(wc -l <"$TEST_TMP/ev.out")" -ge 3 ]
	[ "$(head -1 "$TEST_TMP/ev.out" | jq -r .type)" = stats ]
	berth kill ev-2 KILL
	wait_status ev-2 stopped
	for _ in $(seq 100); do kill -0 "$EV" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$EV" 2>/dev/null || false
	rc=0
	wait "$EV" || rc=$?
	[ "$rc" -eq 0 ]
	EV=
}

@test "ev-oom: a process exceeding the memory limit produces an oom event" {
	update_config '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
	berth create --bundle "$BUNDLE" ev-3
	berth start ev-3
	"$BERTH" --root "$STATE_ROOT" events --interval 100ms ev-3 >"$TEST_TMP/ev.out" 2>&1 &
	EV=$!
	# the first stats line comes after the OOM notification is registered
	for _ in $(seq 100); do [ -s "$TEST_TMP/ev.out" ] && break; sleep 0.05; done
	# dd's 64M buffer cannot fit in 16M
	run berth exec ev-3 dd if=/dev/zero of=/dev/null bs=64M count=1
	[ "$status" -eq $((128 + 9)) ]
	for _ in $(seq 100); do grep -q oom "$TEST_TMP/ev.out" && break; sleep 0.05; done
	cat "$TEST_TMP/ev.out"
	[ "$(grep '"oom"' "$TEST_TMP/ev.out" | head -1 | jq -c .)" = '{"type":"oom","id":"ev-3"}' ]
}

@test "ev-errors: events on a stopped or missing container" {
	run berth events --stats ev-none
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
	set_args true
	berth create --bundle "$BUNDLE" ev-4
	berth start ev-4
	wait_status ev-4 stopped
	run berth events --stats ev-4
	[ "$status" -eq 1 ]
	[[ "$output" == *"container not running"* ]]
	run berth events --interval 0s ev-4
	[ "$status" -eq 1 ]
}

@test "ev-now: events prints stats at once, then per --interval, and exits when the container is deleted" {
	berth create --bundle "$BUNDLE" ev-5
	berth start ev-5
	# an interval far longer than the test: the first line cannot wait for it
	"$BERTH" --root "$STATE_ROOT" events --interval 1h ev-5 >"$TEST_TMP/ev.out" 2>&1 &
	EV=$!
	for _ in $(seq 100); do [ -s "$TEST_TMP/ev.out" ] && break; sleep 0.05; done
	cat "$TEST_TMP/ev.out"
	[ "$(wc -l <"$TEST_TMP/ev.out")" -eq 1 ]
	[ "$(jq -r .type "$TEST_TMP/ev.out")" = stats ]
	[ "$(jq -r .id "$TEST_TMP/ev.out")" = ev-5 ]
	[ "$(jq '.data.pids.current' "$TEST_TMP/ev.out")" -ge 1 ]
	berth delete --force ev-5
	for _ in $(seq 100); do kill -0 "$EV" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$EV" 2>/dev/null || false
	rc=0
	wait "$EV" || rc=$?
	[ "$rc" -eq 0 ]
	EV=
}
