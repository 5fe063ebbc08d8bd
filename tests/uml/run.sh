#!/usr/bin/env bash
# make test-cgroup2: boots Debian's user-mode-linux kernel (a 6.1 Linux
# that runs as an ordinary process) on a pure cgroup v2 hierarchy and runs
# bats suites inside it, so berth's cgroup v2 code runs end to end on a
# hybrid or v1 host too. TAP comes back through a results directory, the
# only host directory the guest can write.
#
#   tests/uml/run.sh [SUITE...]     (default: $UML_SUITES)
#
# The guest's root is the host's / through hostfs, mounted READ-ONLY: the
# guest init (guest-init.sh) mounts its own /proc, /sys, cgroup2, /dev,
# and tmpfs on /tmp, /run and /var/tmp (berth's state and the test bundles
# live there), and the results directory read-write through a second
# hostfs mount. The boot runs under a deadline; a boot that does not
# produce an exit status fails the run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

# The suites that touch cgroups, freezing, OOM, exec placement, update,
# events, the lifecycle and rootless on a delegated subtree. Not
# checkpoint: CRIU cannot run in this 6.1 UML kernel, whose ptrace has no
# PTRACE_GETREGSET (EIO for NT_PRSTATUS, NT_PRFPREG and NT_X86_XSTATE
# alike), which CRIU reads every task's registers with; its feature probe
# already fails there ("Can't obtain FPU registers ... Input/output error").
# exec and lifecycle are not among them by default: their cgroup cases
# (exec placement and --cgroup, delete's removal) are cgroupv2.bats's too,
# and on a machine where a page costs ~11 µs they took ~360 of the run's
# ~950 s alone, and more than the deadline left beside the host suites
# in make test (tests/bench/WORK.md, "A second machine"). They still run
# here by hand: tests/uml/run.sh exec lifecycle.
UML_SUITES=${UML_SUITES:-"cgroupv2 cgroups pause update events rootless-cgroupv2 directinit"}
# Whole-boot deadline, seconds (UML system calls are slow: ~0.5 s a run).
UML_TIMEOUT=${UML_TIMEOUT:-1500}
UML_MEM=${UML_MEM:-1G}
# UML_SUITE_DIR, UML_BATS_ENV, UML_FILTER: harness.bash.
# shellcheck source=tests/uml/harness.bash
. "$here/harness.bash"
# The guest's PID 1, and where the run's results directory is made: the
# harness's own test (uml-harness.bats) boots a guest that never finishes
# and checks that the run ends by the deadline and leaves nothing.
UML_INIT=${UML_INIT:-$here/guest-init.sh}
UML_TMPDIR=${UML_TMPDIR:-/var/tmp}

die() { echo "test-cgroup2: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root"
command -v linux.uml >/dev/null || die "no linux.uml: apt-get install user-mode-linux (make deps)"
command -v bats >/dev/null || die "no bats"
[ -x "$repo/berth" ] || die "no $repo/berth: make build"
[ -d "$repo/tests/rootfs/busybox" ] || die "no busybox rootfs: make rootfs"

suites=("$@")
[ ${#suites[@]} -gt 0 ] || read -r -a suites <<<"$UML_SUITES"
uml_check_suites "$repo" "${suites[@]}"

results=$(mktemp -d "$UML_TMPDIR/berth-uml.XXXXXX")
trap 'uml_stop_guest "$results"; rm -rf "$results"' EXIT
trap 'exit 130' INT TERM
{
	printf 'REPO=%q\n' "$repo"
	uml_env "${suites[@]}"
} >"$results/env"
umltmp=$(uml_prepare "$results")
echo "test-cgroup2: booting user-mode-linux (suites: ${suites[*]})" >&2
start=$SECONDS
rc=0
# con0 is the guest's console (the init's stdout until it switches to the
# results log); con=null keeps the other consoles quiet.
TMPDIR=$umltmp timeout --kill-after=10 "$UML_TIMEOUT" linux.uml \
	mem="$UML_MEM" root=/dev/root rootfstype=hostfs rootflags=/ ro \
	ubd0="$results/disk.img" \
	init="$UML_INIT" berth_results="$results" quiet \
	con=null con0=fd:0,fd:1 </dev/null >"$results/console" 2>&1 || rc=$?
elapsed=$((SECONDS - start))

[ -f "$results/tap" ] && cat "$results/tap"
if [ ! -f "$results/rc" ]; then
	case $rc in
	124 | 137) echo "test-cgroup2: the guest did not finish within its deadline (UML_TIMEOUT=${UML_TIMEOUT}s): stopped after ${elapsed}s; its console:" >&2 ;;
	*) echo "test-cgroup2: the guest did not finish (linux.uml exit $rc after ${elapsed}s); its console:" >&2 ;;
	esac
	tail -n 60 "$results/console" >&2
	exit 1
fi
guest_rc=$(cat "$results/rc")
echo "test-cgroup2: guest exit status $guest_rc after ${elapsed}s" >&2
if [ "$guest_rc" != 0 ]; then
	tail -n 30 "$results/log" >&2
	exit 1
fi
