#!/usr/bin/env bats
# A host that runs from its initramfs: "/" is the mount namespace's root
# mount, which pivot_root(2) cannot move. berth stacks a clone of "/" on
# it and pivots from there (libcontainer/rootfs/initramfs.go), as runc
# main does (its initramfs.bats boots qemu-kvm; here Debian's
# user-mode-linux kernel boots the same kind of initrd: busybox, berth and
# a bundle, with a shell script as /init that runs berth and powers off).

load helpers

setup() {
	command -v linux.uml >/dev/null || skip "no linux.uml (apt-get install user-mode-linux)"
	command -v cpio >/dev/null || skip "no cpio (apt-get install cpio: make deps)"
	TEST_TMP=$(mktemp -d /tmp/berth-test.XXXXXX)
	INITRD=$TEST_TMP/initrd
	cp -a "$ROOTFS_SRC" "$INITRD"
	touch "$INITRD/initrd-marker"
	cp "$BERTH" "$INITRD/bin/berth"
	B=$INITRD/run/bundle
	mkdir -p "$B"
	cp -a "$ROOTFS_SRC" "$B/rootfs"
	touch "$B/rootfs/container-marker"
	(cd "$B" && "$BERTH" spec)
	# The check every container runs: its root is the bundle's, not the
	# initramfs.
	jq '.process.terminal = false
		| .process.args = ["sh", "-c", "[ -e /container-marker ] && [ ! -e /initrd-marker ] && echo \"in-container $0\"", "run"]' \
		"$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
	mkdir "$INITRD/run/configs"
}

# config NAME FILTER: a config for the guest, /run/configs/NAME.json: the
# bundle's, changed by the jq FILTER.
config() {
	jq "$2" "$B/config.json" >"$INITRD/run/configs/$1.json"
}

teardown() {
	local p
	for p in $(pgrep -f "initrd=$TEST_TMP/" || true); do kill -9 "$p" 2>/dev/null || true; done
	remove_tree "$TEST_TMP"
}

# boot: boots the initrd with an /init that mounts what an initramfs's
# init mounts (runc's test's), runs the commands on stdin between
# ==START== and ==END==, and powers off; under a deadline. The console
# is in $output.
boot() {
	{
		printf '#!/bin/sh\necho ==START==\n'
		cat <<-'EOF'
			mount -t proc proc /proc
			mount -t sysfs sysfs /sys
			mkdir -p /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup
			mount -t tmpfs tmpfs /tmp
			mount -t devtmpfs devtmpfs /dev
			mkdir -p /dev/pts /dev/shm && mount -t devpts -o newinstance devpts /dev/pts
		EOF
		cat
		printf 'echo ==END==\npoweroff -f\n'
	} >"$INITRD/init"
	chmod +x "$INITRD/init"
	(cd "$INITRD" && find . | cpio -o -H newc --quiet >"$TEST_TMP/initrd.cpio")
	run timeout --kill-after=10 120 env TMPDIR="$TEST_TMP" linux.uml mem=256M \
		initrd="$TEST_TMP/initrd.cpio" con=null con0=fd:0,fd:1 </dev/null
	echo "$output" | sed -n '/==START==/,$p'
}

# A user namespace, root mapped to 100000.
userns='.linux.namespaces += [{"type": "user"}]
	| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'

@test "initramfs-run: run, run -d and exec from an initramfs root pivot into the bundle's rootfs; exec lands in it too" {
	config detach '.process.args = ["sleep", "100"]'
	boot <<-'EOF'
		berth run -b /run/bundle c1; echo "run-status $?"
		BERTH_GO_INIT=1 berth run -b /run/bundle c2; echo "goinit-status $?"
		cp /run/configs/detach.json /run/bundle/config.json
		berth run -d -b /run/bundle c3 </dev/null >/dev/null 2>&1; echo "detach-status $?"
		berth exec c3 sh -c '[ -e /container-marker ] && [ ! -e /initrd-marker ] && echo in-container exec'
		berth delete -f c3; echo "delete-status $?"
	EOF
	[[ "$output" == *"==END=="* ]]
	[[ "$output" == *"in-container run"* ]]
	[[ "$output" == *"run-status 0"* ]]
	# Either way the Go init pivots from the clone (a direct init's rootfs
	# is built by a runtime thread, whose chroot would not move the init's
	# root: the first run would see the initramfs).
	[[ "$output" == *"goinit-status 0"* ]]
	[[ "$output" == *"detach-status 0"* ]]
	[[ "$output" == *"in-container exec"* ]]
	[[ "$output" == *"delete-status 0"* ]]
	[[ "$output" != *"pivot_root"* ]]
}

@test "initramfs-userns: a container with a user namespace (its root locked, as on any host), a read-write root and --no-pivot work from an initramfs root too" {
	config userns "$userns"' | .process.args[-1] = "userns"'
	# Root in the user namespace with CAP_SYS_ADMIN there may not detach
	# the container's root, as on any host (it is locked): detached, a
	# join of the container's own mount namespace would stand on the
	# host's initramfs.
	config userns-admin "$userns"' | .process.capabilities[] += ["CAP_SYS_ADMIN", "CAP_SYS_CHROOT"]
		| .process.args = ["sh", "-c", "umount -l /; echo \"umount-status $?\"; nsenter --mount=/proc/self/ns/mnt sh -c \"[ -e /container-marker ] && echo joined-container\""]'
	config rw '.root.readonly = false | .process.args[-1] = "rw"'
	config nopivot '.process.args[-1] = "nopivot"'
	boot <<-'EOF'
		cp /run/configs/userns.json /run/bundle/config.json
		berth run -b /run/bundle u1; echo "userns-status $?"
		cp /run/configs/userns-admin.json /run/bundle/config.json
		berth run -b /run/bundle u2; echo "admin-status $?"
		cp /run/configs/rw.json /run/bundle/config.json
		berth run -b /run/bundle w1; echo "rw-status $?"
		cp /run/configs/nopivot.json /run/bundle/config.json
		berth run --no-pivot -b /run/bundle n1; echo "nopivot-status $?"
	EOF
	[[ "$output" == *"==END=="* ]]
	[[ "$output" == *"in-container userns"* ]]
	[[ "$output" == *"userns-status 0"* ]]
	[[ "$output" == *"umount: can't unmount /: Invalid argument"* ]]
	[[ "$output" == *"umount-status 1"* ]]
	[[ "$output" == *"joined-container"* ]]
	[[ "$output" == *"admin-status 0"* ]]
	[[ "$output" == *"in-container rw"* ]]
	[[ "$output" == *"rw-status 0"* ]]
	[[ "$output" == *"in-container nopivot"* ]]
	[[ "$output" == *"nopivot-status 0"* ]]
}
