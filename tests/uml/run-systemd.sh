#!/usr/bin/env bash
# make test-systemd: boots a Debian rootfs with systemd (systemd-rootfs.sh,
# cached outside the repository) as PID 1 of a user-mode-linux kernel on
# pure cgroup v2, and runs tests/integration/systemd.bats there against
# the real systemd (berth --systemd-cgroup). The guest's root is the
# cached rootfs; the repository is mounted read-only by hostfs, and the
# TAP and exit status come back through a results directory.
#
#   tests/uml/run-systemd.sh [SUITE...]     (default: systemd)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
rootfs=${UML_SYSTEMD_ROOTFS:-/var/cache/berth-debootstrap/bookworm}
UML_TIMEOUT=${UML_TIMEOUT:-900}
UML_MEM=${UML_MEM:-1G}

die() { echo "test-systemd: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root"
command -v linux.uml >/dev/null || die "no linux.uml: apt-get install user-mode-linux (make deps)"
[ -x "$repo/berth" ] || die "no $repo/berth: make build"
[ -d "$repo/tests/rootfs/busybox" ] || die "no busybox rootfs: make rootfs"
case $repo in *" "*) die "the checkout's path has a space: the guest cannot be told it" ;; esac
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(systemd)

"$here/systemd-rootfs.sh" "$rootfs"

results=$(mktemp -d /var/tmp/berth-uml-sd.XXXXXX)
stop_guest() {
	local p
	for p in $(pgrep -f "berth_results=$results " || true); do kill -9 "$p" 2>/dev/null || true; done
}
trap 'stop_guest; rm -rf "$results"' EXIT
trap 'exit 130' INT TERM
echo "${suites[*]}" >"$results/suites"

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

umltmp=/dev/shm
[ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] || umltmp=$results
echo "test-systemd: booting systemd in user-mode-linux (suites: ${suites[*]})" >&2
start=$SECONDS
rc=0
TMPDIR=$umltmp timeout --kill-after=10 "$UML_TIMEOUT" linux.uml \
	mem="$UML_MEM" root=/dev/root rootfstype=hostfs rootflags="$rootfs" rw \
	init=/lib/systemd/systemd systemd.unified_cgroup_hierarchy=1 \
	berth_repo="$repo" berth_results="$results" quiet \
	con=null con0=fd:0,fd:1 </dev/null >"$results/console" 2>&1 || rc=$?
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
