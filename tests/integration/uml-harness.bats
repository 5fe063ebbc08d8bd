#!/usr/bin/env bats
# The user-mode-linux harness itself (tests/uml/run.sh, make test-cgroup2):
# a guest that never comes up ends the run by its deadline, with a clear
# message, and leaves no process and no temp directory behind.

load helpers

setup() {
	command -v linux.uml >/dev/null || skip "no linux.uml (apt-get install user-mode-linux)"
	TEST_TMP=$(mktemp -d /tmp/berth-test.XXXXXX)
}

teardown() {
	# whatever a failed run left: its guest's processes name its results
	# directory, under this test's own temp directory
	local p
	for p in $(pgrep -f "berth_results=$TEST_TMP/" || true); do kill -9 "$p" 2>/dev/null || true; done
	remove_tree "$TEST_TMP"
}

@test "uml-deadline: a guest that never finishes fails the run by the deadline, with a clear message, leaving nothing" {
	# PID 1 of the guest: hangs, as a boot that never comes up would
	cat >"$TEST_TMP/hang-init.sh" <<-'EOF'
		#!/bin/sh
		while :; do sleep 1000; done
	EOF
	chmod +x "$TEST_TMP/hang-init.sh"
	mkdir "$TEST_TMP/tmp"
	# the outer timeout only keeps a broken harness from hanging the suite
	run timeout 120 env UML_TIMEOUT=5 UML_INIT="$TEST_TMP/hang-init.sh" UML_TMPDIR="$TEST_TMP/tmp" \
		"$REPO/tests/uml/run.sh" cgroupv2
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"test-cgroup2: the guest did not finish within its deadline (UML_TIMEOUT=5s)"* ]]
	# no guest process, no results directory
	[ -z "$(pgrep -f "berth_results=$TEST_TMP/" || true)" ]
	[ -z "$(ls -A "$TEST_TMP/tmp")" ]
}
