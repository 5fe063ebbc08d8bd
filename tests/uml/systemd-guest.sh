#!/bin/bash
# The test unit of the systemd guest that tests/uml/run-systemd.sh boots:
# mounts the repository (read-only) and the results directory from the
# host, runs the suites with bats, writes the TAP and the exit status,
# and powers the guest off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p"; }
results=$(arg berth_results)
repo=$(arg berth_repo)
mkdir -p /mnt/results /mnt/repo
mount -t hostfs -o "$results" hostfs /mnt/results || { systemctl poweroff --no-block; exit 1; }
exec >/mnt/results/log 2>&1
mount -t hostfs -o "$repo" -r hostfs /mnt/repo
# the tests' bundles and state on a tmpfs, not in the cached rootfs
mount -t tmpfs -o mode=1777 tmpfs /tmp
echo "system $(systemctl is-system-running --wait), $(systemctl --version | head -1)" | tee /mnt/results/system
systemctl --failed --no-legend
files=()
for s in $(cat /mnt/results/suites); do files+=("tests/integration/$s.bats"); done
cd /mnt/repo
bats --tap --print-output-on-failure "${files[@]}" >/mnt/results/tap.tmp
echo $? >/mnt/results/rc.tmp
mv /mnt/results/tap.tmp /mnt/results/tap
mv /mnt/results/rc.tmp /mnt/results/rc
sync
systemctl poweroff --no-block
