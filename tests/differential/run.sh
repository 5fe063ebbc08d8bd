#!/usr/bin/env bash
# make differential: berth against runc main, case by case (diff.py).
# runc is built, with seccomp, from the release in RUNC_DIFF_VERSION as
# the Go module proxy serves it (the same source as make runc-suite), or
# taken from RUNC=PATH. The check runs in a private mount namespace, with
# its own state roots and a private copy of the busybox rootfs, and its
# containers' cgroups under /berth-differential. Usage:
#   tests/differential/run.sh [NAME-SUBSTRING...]   (as root, after make build rootfs)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH

version=${RUNC_DIFF_VERSION:-v1.6.0-rc.1}
runc=${RUNC:-}
if [ -z "$runc" ]; then
	runc=/var/tmp/berth-runc-main-$version/runc
	if [ ! -x "$runc" ]; then
		# shellcheck source=tests/runc-suite/source.bash
		. "$repo/tests/runc-suite/source.bash"
		runc_source "$version" "${runc%/runc}.tmp"
		(cd "${runc%/runc}.tmp" && GOFLAGS=-mod=mod go build -tags seccomp -o runc .)
		rm -rf "${runc%/runc}"
		mv "${runc%/runc}.tmp" "${runc%/runc}"
	fi
fi
echo "differential: $repo/berth against $("$runc" --version | head -1) ($runc)"
work=$(mktemp -d /tmp/berth-differential.XXXXXX)
# Searchable by all: a user namespace's processes (host uids 100000 and
# up) must reach the bundles' rootfs, as in a bundle under /run or /var.
chmod 711 "$work"
status=0
# Twice: in a mount namespace whose "/" is private, as on this host, and
# in one whose "/" is shared, as systemd makes it on most hosts (a case
# runc's rootfsPropagation test caught that the first run alone missed).
for prop in private shared; do
	echo "differential: the runtimes' / is $prop"
	unshare -m --propagation "$prop" python3 -u "$here/diff.py" "$repo/berth" "$runc" "$work/$prop" "$@" || status=$?
done
rm -rf "$work"
# Also what runc leaves: the cgroupsPath cases' parents (diffrel,
# diffabs), and the cgroup of a case whose runc hung and was timed out
# (its default cgroup is /ID; berth's are under /berth and deleted). A
# cgroup that still holds runc's init, a zombie until PID 1 reaps it,
# stays: the check's result is the cases', not the clean-up's.
for d in /sys/fs/cgroup/*/berth-differential /sys/fs/cgroup/*/diffrel /sys/fs/cgroup/*/diffabs /sys/fs/cgroup/*/dfr-*; do
	[ -d "$d" ] || continue
	find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
done
exit "$status"
