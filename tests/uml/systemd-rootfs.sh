#!/usr/bin/env bash
# Builds (once) the Debian rootfs with systemd that make test-systemd boots
# as PID 1 in user-mode-linux, outside the repository:
#
#   tests/uml/systemd-rootfs.sh [DIR]    (default $UML_SYSTEMD_ROOTFS)
#
# debootstrap from the mirror apt is configured with; kmod so that
# kmod-static-nodes.service does not fail; the UML kernel's modules; root
# without a password; an empty fstab. UML_ROOTFS_EXTRA names more packages
# (runc's suite, tests/runc-suite/run.sh -s, wants a compiler and xz in a
# rootfs of its own). A marker file says it is complete and holds the
# package list, so that a cached rootfs made with another list is made
# again.
set -euo pipefail
dir=${1:-${UML_SYSTEMD_ROOTFS:-/var/cache/berth-debootstrap/bookworm}}
packages=systemd,systemd-sysv,dbus,kmod,procps,jq,util-linux,bats
for p in ${UML_ROOTFS_EXTRA:-}; do packages+=,$p; done
marker=$dir/.berth-rootfs
[ "$(cat "$marker" 2>/dev/null)" = "$packages" ] && exit 0
[ "$(id -u)" -eq 0 ] || { echo "systemd-rootfs: needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "systemd-rootfs: no debootstrap (apt-get install debootstrap)" >&2; exit 1; }
mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
rm -rf "$dir"
mkdir -p "$dir"
debootstrap --variant=minbase --include="$packages" \
	bookworm "$dir" "$mirror" >"$dir.log" 2>&1 || { tail -20 "$dir.log" >&2; exit 1; }
mkdir -p "$dir/lib/modules"
cp -a /usr/lib/uml/modules/* "$dir/lib/modules/"
chroot "$dir" passwd -d root >/dev/null
: >"$dir/etc/fstab"
echo berth-uml >"$dir/etc/hostname"
# Units that only slow the boot of a console-less test machine down.
for u in getty@tty1.service serial-getty@ttyS0.service apt-daily.timer apt-daily-upgrade.timer \
	dpkg-db-backup.timer e2scrub_all.timer fstrim.timer systemd-timesyncd.service; do
	ln -sf /dev/null "$dir/etc/systemd/system/$u"
done
echo "$packages" >"$marker"
