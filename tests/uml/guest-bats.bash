# shellcheck shell=bash
# The guest side that tests/uml/guest-init.sh and tests/uml/systemd-guest.sh
# share, with the checkout at /mnt/repo, the results directory at
# /mnt/results and another suite directory (if any) at /mnt/suite.

# uml_run_bats: runs the suites that the host named in /mnt/results/env
# (harness.bash's uml_env, read by the caller), then moves the TAP and
# bats's exit status into place, so that the host finds either both or
# neither.
uml_run_bats() {
	local args=() files=() s
	[ -n "$FILTER" ] && args+=(-f "$FILTER")
	if [ -n "$SUITE_DIR" ]; then
		cd /mnt/suite || return
		for s in $SUITES; do files+=("$s"); done
		args+=(-T)
	else
		cd /mnt/repo || return
		for s in $SUITES; do files+=("tests/integration/$s.bats"); done
	fi
	# shellcheck disable=SC2086 # BATS_ENV is NAME=VALUE words
	env $BATS_ENV bats --tap --print-output-on-failure "${args[@]}" "${files[@]}" >/mnt/results/tap.tmp
	echo $? >/mnt/results/rc.tmp
	mv /mnt/results/tap.tmp /mnt/results/tap
	mv /mnt/results/rc.tmp /mnt/results/rc
}
