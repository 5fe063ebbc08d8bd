package rootfs

import (
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// This file holds the fd-based mount primitives. berth resolves every
// destination inside the rootfs to an O_PATH fd first and then mounts onto
// that fd, so a symlink swapped in after resolution cannot redirect the
// mount (CVE-2021-30465, CVE-2024-45310).

// procFdPath is the magic link for fd. Before pivot_root, /proc is the
// host's procfs, which the container cannot have touched.
func procFdPath(h handle) string {
	return "/proc/self/fd/" + strconv.Itoa(int(h))
}

// bindFd clones the mount tree at src (recursively when rec) and attaches
// the clone onto dst. attrSet/attrClr are MOUNT_ATTR_* applied to the
// detached clone first, so a read-only bind is never writable, not even
// for an instant.
func bindFd(src, dst handle, rec bool, attrSet, attrClr uint64) error {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH)
	if rec {
		flags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(int(src), "", flags)
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	defer unix.Close(tree)
	if attrSet != 0 || attrClr != 0 {
		if err := setattr(tree, rec, attrSet, attrClr, 0); err != nil {
			return err
		}
	}
	if err := unix.MoveMount(tree, "", int(dst), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// setattr changes mount attributes of the mount at fd.
func setattr(fd int, rec bool, set, clr, propagation uint64) error {
	flags := uint(unix.AT_EMPTY_PATH)
	if rec {
		flags |= unix.AT_RECURSIVE
	}
	// Atime modes are one field: clearing it is required to set another,
	// and the kernel refuses a partial clear (e.g. "atime" clears NOATIME).
	if (set|clr)&unix.MOUNT_ATTR__ATIME != 0 {
		clr |= unix.MOUNT_ATTR__ATIME
	}
	attr := unix.MountAttr{Attr_set: set, Attr_clr: clr, Propagation: propagation}
	if err := unix.MountSetattr(fd, "", flags, &attr); err != nil {
		return fmt.Errorf("mount_setattr: %w", err)
	}
	return nil
}

// msToAttr converts the per-mount MS_* flags to MOUNT_ATTR_* bits.
func msToAttr(ms uintptr) uint64 {
	var a uint64
	if ms&unix.MS_RDONLY != 0 {
		a |= unix.MOUNT_ATTR_RDONLY
	}
	if ms&unix.MS_NOSUID != 0 {
		a |= unix.MOUNT_ATTR_NOSUID
	}
	if ms&unix.MS_NODEV != 0 {
		a |= unix.MOUNT_ATTR_NODEV
	}
	if ms&unix.MS_NOEXEC != 0 {
		a |= unix.MOUNT_ATTR_NOEXEC
	}
	if ms&unix.MS_NODIRATIME != 0 {
		a |= unix.MOUNT_ATTR_NODIRATIME
	}
	if ms&unix.MS_NOSYMFOLLOW != 0 {
		a |= unix.MOUNT_ATTR_NOSYMFOLLOW
	}
	switch {
	case ms&unix.MS_NOATIME != 0:
		a |= unix.MOUNT_ATTR_NOATIME
	case ms&unix.MS_STRICTATIME != 0:
		a |= unix.MOUNT_ATTR_STRICTATIME
	case ms&unix.MS_RELATIME != 0:
		a |= unix.MOUNT_ATTR_RELATIME
	}
	return a
}

// mountAt mounts a new filesystem onto dst with mount(2), naming the
// target by its fd's magic link.
func mountAt(source, fstype string, flags uintptr, data string, dst handle) error {
	if err := unix.Mount(source, procFdPath(dst), fstype, flags, data); err != nil {
		return fmt.Errorf("mount: %w", err)
	}
	return nil
}

// verifyDevNull checks that f is the real /dev/null character device
// (1:3) before it is used to mask paths (CVE-2025-31133: a /dev/null
// replaced by a symlink or another file would turn masking into a bind
// of attacker-chosen content).
func verifyDevNull(h handle) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(h), &st); err != nil {
		return fmt.Errorf("stat /dev/null: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		return fmt.Errorf("/dev/null is not the null device (mode %o, rdev %d:%d)", st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	return nil
}
