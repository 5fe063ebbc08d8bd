# shellcheck shell=bash
# The host side that tests/uml/run.sh (pure cgroup v2, the host's / as the
# guest's root) and tests/uml/run-systemd.sh (a Debian rootfs, systemd as
# PID 1) share. Both read the same knobs:
#   UML_SUITE_DIR  another directory of .bats files (runc's own suite:
#                  tests/runc-suite/run.sh -2 or -s), whose SUITE arguments
#                  are file names in it; else SUITE is tests/integration/SUITE.bats
#   UML_BATS_ENV   the NAME=VALUE words bats runs with in the guest
#   UML_FILTER     a bats -f filter, for running a subset by hand
# and hand them to the guest in RESULTS/env, which the guest's side
# (guest-bats.bash) reads. die is the caller's.

UML_SUITE_DIR=${UML_SUITE_DIR:-}
UML_BATS_ENV=${UML_BATS_ENV:-}
UML_FILTER=${UML_FILTER:-}

# uml_check_suites REPO SUITE...: dies unless every SUITE is there.
uml_check_suites() {
	local repo=$1 s
	shift
	for s in "$@"; do
		if [ -n "$UML_SUITE_DIR" ]; then
			[ -f "$UML_SUITE_DIR/$s" ] || die "no suite $UML_SUITE_DIR/$s"
		else
			[ -f "$repo/tests/integration/$s.bats" ] || die "no suite tests/integration/$s.bats"
		fi
	done
	case $UML_SUITE_DIR in *" "*) die "the suite's path has a space: the guest cannot be told it" ;; esac
}

# uml_env SUITE...: the env file's lines for the guest's bats run.
uml_env() {
	printf 'SUITES=%q\nSUITE_DIR=%q\nBATS_ENV=%q\nFILTER=%q\n' "$*" "$UML_SUITE_DIR" "$UML_BATS_ENV" "$UML_FILTER"
}

# uml_stop_guest RESULTS: the guest is a tree of host processes (one per
# guest address space), all with the run's results directory on their
# command line; none may outlive the run, whatever ends it.
uml_stop_guest() {
	local p
	for p in $(pgrep -f "berth_results=$1 " || true); do kill -9 "$p" 2>/dev/null || true; done
}

# uml_prepare RESULTS: makes RESULTS/disk.img, a small sparse disk that the
# guest gets as /dev/ubda (ubd0=), so that it has a block device for the
# tests that limit a device's I/O (its root is hostfs, not a disk); prints
# the directory UML keeps the guest's memory in (a file, only the pages
# the guest touches used): best a tmpfs.
uml_prepare() {
	truncate -s 64M "$1/disk.img"
	if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
		echo /dev/shm
	else
		echo "$1"
	fi
}
