#!/usr/bin/env bats
# berth ps: the container's processes as a JSON array of host pids (what
# containerd's shim reads) or as ps's table filtered to them.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "ps-json: --format json lists every host pid in the container" {
	berth create --bundle "$BUNDLE" ps-j
	berth start ps-j
	pid=$(init_pid ps-j)
	berth exec -d --pid-file "$TEST_TMP/x.pid" ps-j sleep 100
	xpid=$(cat "$TEST_TMP/x.pid")
	run berth ps --format json ps-j
	[ "$status" -eq 0 ]
	[ "$(jq -c 'sort' <<<"$output")" = "$(jq -cn --argjson a "$pid" --argjson b "$xpid" '[$a, $b] | sort')" ]
}

@test "ps-table: the table has ps's header and only the container's rows" {
	set_args sleep 4242
	berth create --bundle "$BUNDLE" ps-t
	berth start ps-t
	pid=$(init_pid ps-t)
	run berth ps ps-t
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *PID* ]]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == *"sleep 4242"* ]]
	# ps options after the id go to ps
	run berth ps ps-t -o pid,comm
	[ "${lines[0]}" = "$(ps -o pid,comm | head -1)" ]
	[ "$(echo ${lines[1]})" = "$pid sleep" ]
	run berth ps ps-t -o comm
	[ "$status" -eq 1 ]
	[[ "$output" == *"PID"* ]]
}

@test "ps-errors: a missing container, a bad format, and ps's own error in the message" {
	run berth ps --format json ps-none
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
	berth create --bundle "$BUNDLE" ps-f
	run berth ps --format yaml ps-f
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid format"* ]]
	# the first line ps printed on its stderr is in the error (runc shows it all)
	run berth ps ps-f -- --no-such-ps-option
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" =~ "run ps --no-such-ps-option: exit status 1: "[a-z] ]]
}
