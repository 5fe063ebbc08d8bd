#!/usr/bin/env bash
# make test-systemd: boots a Debian rootfs with systemd (systemd-rootfs.sh,
# cached outside the repository) as PID 1 of a user-mode-linux kernel on
# pure cgroup v2, and runs tests/integration/systemd.bats there against
# the real systemd (berth --systemd-cgroup). The guest's root is the
# cached rootfs; the repository is mounted read-only by hostfs, and the
# TAP and exit status come back through a results directory.
#
#   tests/uml/run-systemd.sh [SUITE...]     (default: systemd)
#
# UML_SUITE_DIR, UML_BATS_ENV and UML_FILTER: harness.bash (runc's own
# suite under its systemd driver is tests/runc-suite/run.sh -s; its
# directory is mounted read-write at /mnt/suite). UML_HOST_DIRS: host
# directories bound read-only at the same paths in the guest (the Go
# toolchain that runc's suite asks its GOARCH). UML_SYSTEMD_ROOTFS and
# UML_ROOTFS_EXTRA: which cached rootfs, with which more packages
# (systemd-rootfs.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
rootfs=${UML_SYSTEMD_ROOTFS:-/var/cache/berth-debootstrap/bookworm}
UML_TIMEOUT=${UML_TIMEOUT:-900}
UML_MEM=${UML_MEM:-1G}
UML_HOST_DIRS=${UML_HOST_DIRS:-}
# shellcheck source=tests/uml/harness.bash
. "$here/harness.bash"

die() { echo "test-systemd: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root"
command -v linux.uml >/dev/null || die "no linux.uml: apt-get install user-mode-linux (make deps)"
[ -x "$repo/berth" ] || die "no $repo/berth: make build"
[ -d "$repo/tests/rootfs/busybox" ] || die "no busybox rootfs: make rootfs"
case $repo in *" "*) die "the checkout's path has a space: the guest cannot be told it" ;; esac
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(systemd)
uml_check_suites "$repo" "${suites[@]}"
for d in $UML_HOST_DIRS; do [ -d "$d" ] || die "no host directory $d"; done

"$here/systemd-rootfs.sh" "$rootfs"

results=$(mktemp -d /var/tmp/berth-uml-sd.XXXXXX)
trap 'uml_stop_guest "$results"; rm -rf "$results"' EXIT
trap 'exit 130' INT TERM
{
	uml_env "${suites[@]}"
	printf 'HOST_DIRS=%q\n' "$UML_HOST_DIRS"
} >"$results/env"

# The test unit, started once the system is up; it powers the guest off.
install -m 0755 "$here/systemd-guest.sh" "$rootfs/usr/local/sbin/berth-uml-test"
cat >"$rootfs/etc/systemd/system/berth-uml-test.service" <<-UNIT
	[Unit]
	Description=berth systemd driver tests
	After=multi-user.target dbus.service
	Wants=dbus.service
	[Service]
	Type=exec
	ExecStart=/usr/local/sbin/berth-uml-test
	StandardOutput=journal+console
	StandardError=journal+console
	[Install]
	WantedBy=multi-user.target
UNIT
mkdir -p "$rootfs/etc/systemd/system/multi-user.target.wants"
ln -sf ../berth-uml-test.service "$rootfs/etc/systemd/system/multi-user.target.wants/berth-uml-test.service"

umltmp=$(uml_prepare "$results")
echo "test-systemd: booting systemd in user-mode-linux (suites: ${suites[*]})" >&2
start=$SECONDS
rc=0
TMPDIR=$umltmp timeout --kill-after=10 "$UML_TIMEOUT" linux.uml \
	mem="$UML_MEM" root=/dev/root rootfstype=hostfs rootflags="$rootfs" rw \
	init=/lib/systemd/systemd systemd.unified_cgroup_hierarchy=1 \
	berth_repo="$repo" berth_results="$results" quiet \
	ubd0="$results/disk.img" con=null con0=fd:0,fd:1 </dev/null >"$results/console" 2>&1 || rc=$?
elapsed=$((SECONDS - start))

[ -f "$results/tap" ] && cat "$results/tap"
if [ ! -f "$results/rc" ]; then
	echo "test-systemd: the guest did not finish (linux.uml exit $rc after ${elapsed}s); its console:" >&2
	tail -n 60 "$results/console" >&2
	exit 1
fi
guest_rc=$(cat "$results/rc")
echo "test-systemd: $(cat "$results/system" 2>/dev/null); guest exit status $guest_rc after ${elapsed}s" >&2
if [ "$guest_rc" != 0 ]; then
	tail -n 40 "$results/log" >&2
	exit 1
fi
