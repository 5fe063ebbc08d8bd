#!/bin/bash
# PID 1 of the user-mode-linux guest that tests/uml/run.sh boots. The root
# is the host's / through hostfs, read-only; everything the guest writes
# goes to its own tmpfs mounts, except the results (TAP, exit status) in
# the host directory $berth_results, mounted read-write by hostfs.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
results=${berth_results:?no berth_results on the kernel command line}

finish() {
	sync
	echo o >/proc/sysrq-trigger
	sleep 60
}

set -e
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
# What udev or the host's init would add to the devtmpfs.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
for i in 0 1 2; do
	n=$(echo stdin stdout stderr | cut -d' ' -f$((i + 1)))
	[ -e /dev/$n ] || ln -s /proc/self/fd/$i /dev/$n
done
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# The results directory first: /tmp, /run or /var/tmp may be its parent.
mount -t tmpfs -o mode=0755 tmpfs /mnt
mkdir /mnt/results
mount -t hostfs -o "$results" hostfs /mnt/results
. /mnt/results/env
# A checkout under /tmp, /run or /var/tmp stays reachable under /mnt/repo.
mkdir /mnt/repo /mnt/suite
mount --bind "$REPO" /mnt/repo
[ -z "$SUITE_DIR" ] || mount --bind "$SUITE_DIR" /mnt/suite
for d in /tmp /run /var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "$d"; done
exec >/mnt/results/log 2>&1 </dev/null
set +e

# berth's processes are the only ones here: the root's controllers are
# all given to the children.
echo "+cpu +io +memory +pids" >/sys/fs/cgroup/cgroup.subtree_control
ip link set lo up 2>/dev/null
# Loop devices, for the tests that limit a block device's I/O: the host's
# / has the UML kernel's modules under /usr/lib/uml, where modprobe does
# not look (insmod: kmod, tests/install-deps.sh).
insmod "/usr/lib/uml/modules/$(uname -r)/kernel/drivers/block/loop.ko" ||
	echo "guest: no loop driver: block I/O tests have no device"
echo "guest: $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"

# shellcheck source=tests/uml/guest-bats.bash
. /mnt/repo/tests/uml/guest-bats.bash
uml_run_bats
finish
