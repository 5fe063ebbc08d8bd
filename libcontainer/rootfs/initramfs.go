package rootfs

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// A host that runs from its initramfs (no switch_root: a small appliance,
// a VM booted with only an initrd) has "/" on its mount namespace's root
// mount, the rootfs, which has no parent. pivot_root(2) refuses to move
// such a mount (EINVAL), and so does every mount namespace cloned from
// that host's. As runc does, the container's init first stands on a
// recursive clone of "/" stacked on the rootfs and chroots into it; the
// clone has a parent, so the usual pivot_root runs from there.
//
// The clone is stacked on "/" itself, not made anywhere else: a process
// that later joins the mount namespace (exec's setns) starts at the
// namespace's root mount and follows only mounts stacked on its root,
// which after the pivot is the container's root. The rootfs's own mounts
// (the host's /proc, /sys, ...) are detached from under it first: left
// there, unreachable, they would still count for the kernel as full proc
// and sysfs mounts of the namespace (mount_too_revealing), as under
// --no-pivot (nopivot.go).
//
// Only the Go init takes this step: a direct init's rootfs is built by a
// runtime thread, and its chroot would move the thread's root, not the
// init's (directInitBlocker asks OnNamespaceRoot). With a user namespace
// nsenter has stacked the clone already, before entering it (nsenter.c's
// stack_root_clone: there the clone is locked, as a root copied into a
// less privileged user namespace is, and pivot_root hands the lock to the
// container's root); init then finds "/" with a parent and does nothing
// here. Made here, in the container's own namespace, the root would be
// unlocked: that is left to a rootless caller, who cannot make the mount
// namespace nsenter needs, and whose container sees no more of the host
// than the caller.

// OnNamespaceRoot says whether the caller's "/" is its mount namespace's
// root mount (an initramfs), where pivot_root fails.
func OnNamespaceRoot() bool {
	_, id, _ := namespaceRoot()
	return id != ""
}

// namespaceRoot returns the id of the caller's root mount when it is its
// namespace's root mount, "" otherwise, and the mountinfo text it read.
// The statfs spares every other host the read: a rootfs is a ramfs or a
// tmpfs.
func namespaceRoot() (info, id string, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil || (st.Type != unix.RAMFS_MAGIC && st.Type != unix.TMPFS_MAGIC) {
		return "", "", nil
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", "", fmt.Errorf("read mountinfo: %w", err)
	}
	info = string(data)
	id, _ = namespaceRootID(info)
	return info, id, nil
}

// leaveNamespaceRoot stacks a clone of "/" on the namespace's root mount
// and chroots into it, when "/" is that root mount; otherwise it does
// nothing. Every mount is a slave or private by now (Prepare), so neither
// the clone nor the detaching reaches the caller's namespace.
func leaveNamespaceRoot() error {
	info, id, err := namespaceRoot()
	if err != nil || id == "" {
		return err
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, "/", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return fmt.Errorf("clone / (the namespace's root mount, an initramfs): %w", err)
	}
	defer unix.Close(tree)
	for _, mp := range childMountPoints(info, id) {
		if err := hideMount(mp); err != nil {
			return err
		}
	}
	if err := unix.Fchdir(tree); err != nil {
		return fmt.Errorf("chdir to the clone of /: %w", err)
	}
	if err := unix.MoveMount(tree, "", unix.AT_FDCWD, "/", unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("stack the clone of / on the initramfs: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot to the clone of /: %w", err)
	}
	return unix.Chdir("/")
}

// namespaceRootID finds, in mountinfo text, the mount at "/" that is its
// own parent: the namespace's root mount, visible only when it is the
// caller's root.
func namespaceRootID(mountinfo string) (string, bool) {
	for _, line := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == f[1] && f[4] == "/" {
			return f[0], true
		}
	}
	return "", false
}

// childMountPoints lists, from mountinfo text, the mount points of the
// mounts whose parent is the mount id (not id itself).
func childMountPoints(mountinfo, id string) []string {
	var out []string
	for _, line := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[1] == id && f[0] != id {
			out = append(out, unescapeMountinfo(f[4]))
		}
	}
	return out
}
