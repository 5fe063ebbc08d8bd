package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Pivot makes the rootfs the process's root: pivot_root, or with NoPivot
// a move of the rootfs onto / and chroot (for hosts where pivot_root is
// impossible, e.g. a ramfs root).
func Pivot(cfg *Config) error {
	if !cfg.MountNS {
		return chrootInto(cfg.Rootfs)
	}
	if cfg.NoPivot {
		if err := unix.Chdir(cfg.Rootfs); err != nil {
			return fmt.Errorf("chdir %s: %w", cfg.Rootfs, err)
		}
		if err := unix.Mount(cfg.Rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
			return fmt.Errorf("move %s to /: %w", cfg.Rootfs, err)
		}
		if err := unix.Chroot("."); err != nil {
			return fmt.Errorf("chroot: %w", err)
		}
		return unix.Chdir("/")
	}
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /: %w", err)
	}
	defer unix.Close(oldroot)
	newroot, err := unix.Open(cfg.Rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", cfg.Rootfs, err)
	}
	defer unix.Close(newroot)
	if err := unix.Fchdir(newroot); err != nil {
		return fmt.Errorf("chdir %s: %w", cfg.Rootfs, err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one, so
	// no directory for it is needed inside the container's rootfs.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", cfg.Rootfs, err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return fmt.Errorf("chdir old root: %w", err)
	}
	// Keep the unmount from propagating to the host.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount old root: %w", err)
	}
	return unix.Chdir("/")
}

// Finish runs after pivot_root: masked and read-only paths, a read-only
// root, and the final rootfs propagation.
func Finish(cfg *Config) error {
	if !cfg.MountNS {
		// Validation refused everything Finish would mount.
		return nil
	}
	root, err := openHost("/", unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer root.Close()
	l := cfg.Spec.Linux
	for _, p := range l.ReadonlyPaths {
		if err := readonlyPath(root, p); err != nil {
			return fmt.Errorf("make %s read-only: %w", p, err)
		}
	}
	if len(l.MaskedPaths) > 0 {
		null, err := openInRoot(root, "/dev/null")
		if err != nil {
			return fmt.Errorf("open /dev/null for masking: %w", err)
		}
		defer null.Close()
		if err := verifyDevNull(null); err != nil {
			return err
		}
		for _, p := range l.MaskedPaths {
			if err := maskPath(root, null, p); err != nil {
				return fmt.Errorf("mask %s: %w", p, err)
			}
		}
	}
	if cfg.Spec.Root.Readonly {
		if err := setattr(int(root), false, unix.MOUNT_ATTR_RDONLY, 0, 0); err != nil {
			return fmt.Errorf("make / read-only: %w", err)
		}
	}
	if p := l.RootfsPropagation; p != "" {
		var prop uint64
		switch p {
		case "shared", "rshared":
			prop = unix.MS_SHARED
		case "slave", "rslave":
			prop = unix.MS_SLAVE
		case "private", "rprivate":
			prop = unix.MS_PRIVATE
		case "unbindable", "runbindable":
			prop = unix.MS_UNBINDABLE
		}
		if err := setattr(int(root), p[0] == 'r', 0, 0, prop); err != nil {
			return fmt.Errorf("set rootfs propagation %s: %w", p, err)
		}
	}
	return nil
}

func readonlyPath(root handle, p string) error {
	h, err := openInRoot(root, p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	defer h.Close()
	return bindFd(h, h, true, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC, 0)
}

func maskPath(root, null handle, p string) error {
	h, err := openInRoot(root, p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	defer h.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(h), &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return emptyReadonlyTmpfs(h)
	}
	return bindFd(null, h, false, unix.MOUNT_ATTR_RDONLY, 0)
}

// emptyReadonlyTmpfs covers dir with an empty read-only tmpfs, made with
// the fd-based mount API (no path is resolved after pivot_root).
func emptyReadonlyTmpfs(dir handle) error {
	fs, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(fs)
	if err := unix.FsconfigSetString(fs, "size", "0"); err != nil {
		return fmt.Errorf("fsconfig: %w", err)
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return fmt.Errorf("fsconfig create: %w", err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return fmt.Errorf("fsmount: %w", err)
	}
	defer unix.Close(mnt)
	if err := unix.MoveMount(mnt, "", int(dir), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}
