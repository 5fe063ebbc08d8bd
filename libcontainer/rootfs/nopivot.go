package rootfs

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// With --no-pivot the container's root is a chroot: the mount namespace
// still holds the host's procfs and sysfs, outside the chroot. The kernel
// lets a process mount a new procfs or sysfs (in a user namespace of its
// own) only while a full mount of it is visible in its mount namespace
// (mount_too_revealing): the host's would be that one, and the new mount
// would show what the container's masked and read-only paths hide. As
// runc does, every full proc and sysfs mount outside the rootfs is
// detached before the move (or covered by an empty tmpfs where it cannot
// be detached).

// moveRootNoPivot moves the rootfs onto "/" and chroots into it.
func moveRootNoPivot(rootfs string) error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	// Detaching /proc first would also detach what is mounted under it:
	// later entries that are gone are skipped.
	for _, mp := range revealingMounts(string(data), rootfs) {
		if err := hideMount(mp); err != nil {
			return err
		}
	}
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir %s: %w", rootfs, err)
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move %s to /: %w", rootfs, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return unix.Chdir("/")
}

// hideMount detaches the mount at mp (made a slave first, so that the
// unmount does not reach the host), or covers it with an empty tmpfs.
func hideMount(mp string) error {
	if err := unix.Mount("", mp, "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) {
			return nil // gone with a parent detached before it
		}
		return fmt.Errorf("make %s slave: %w", mp, err)
	}
	err := unix.Unmount(mp, unix.MNT_DETACH)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EPERM) {
		err = unix.Mount("tmpfs", mp, "tmpfs", unix.MS_RDONLY, "size=0")
	}
	if err != nil {
		return fmt.Errorf("hide %s: %w", mp, err)
	}
	return nil
}

// revealingMounts lists, from mountinfo text, the mount points of full
// (root "/") proc and sysfs mounts that are not inside rootfs.
func revealingMounts(mountinfo, rootfs string) []string {
	var out []string
	for _, line := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 1 || f[3] != "/" || (g[0] != "proc" && g[0] != "sysfs") {
			continue
		}
		mp := unescapeMountinfo(f[4])
		if mp == rootfs || strings.HasPrefix(mp, strings.TrimSuffix(rootfs, "/")+"/") {
			continue
		}
		out = append(out, mp)
	}
	return out
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
