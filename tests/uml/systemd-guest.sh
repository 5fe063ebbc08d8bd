#!/bin/bash
# The test unit of the systemd guest that tests/uml/run-systemd.sh boots:
# mounts the repository (read-only), the results directory and, when the
# host names them in the results' env file, another suite directory and
# host directories (read-only, at their own paths) from the host, runs
# the suites with bats (guest-bats.bash), and powers the guest off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p"; }
results=$(arg berth_results)
repo=$(arg berth_repo)
mkdir -p /mnt/results /mnt/repo
mount -t hostfs -o "$results" hostfs /mnt/results || { systemctl poweroff --no-block; exit 1; }
exec >/mnt/results/log 2>&1
mount -t hostfs -o "$repo" -r hostfs /mnt/repo
. /mnt/results/env
if [ -n "$SUITE_DIR" ]; then
	mkdir -p /mnt/suite
	mount -t hostfs -o "$SUITE_DIR" hostfs /mnt/suite
fi
for d in $HOST_DIRS; do
	mkdir -p "$d"
	mount -t hostfs -o "$d" -r hostfs "$d"
done
# the tests' bundles and state on a tmpfs, not in the cached rootfs
mount -t tmpfs -o mode=1777 tmpfs /tmp
echo "system $(systemctl is-system-running --wait), $(systemctl --version | head -1)" | tee /mnt/results/system
systemctl --failed --no-legend
# shellcheck source=tests/uml/guest-bats.bash
. /mnt/repo/tests/uml/guest-bats.bash
uml_run_bats
sync
systemctl poweroff --no-block
