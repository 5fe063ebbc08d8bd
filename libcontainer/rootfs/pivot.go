package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

// Pivot makes the rootfs the process's root: pivot_root, or with NoPivot
// a move of the rootfs onto / and chroot (for hosts where pivot_root is
// impossible, e.g. a ramfs root).
func Pivot(cfg *Config) error {
	if !cfg.MountNS {
		return chrootInto(cfg.Rootfs)
	}
	if cfg.NoPivot {
		return moveRootNoPivot(cfg.Rootfs)
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
	if err := finishReadonlyMounts(root, cfg.Spec.Mounts); err != nil {
		return err
	}
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
		if err := maskPaths(root, null, l.MaskedPaths); err != nil {
			return err
		}
	}
	if cfg.Spec.Root.Readonly {
		if err := setattr(int(root), false, unix.MOUNT_ATTR_RDONLY, 0, 0); err != nil {
			return fmt.Errorf("make / read-only: %w", err)
		}
	}
	if flags, ok := configs.PropagationFlags(l.RootfsPropagation); ok {
		if err := setattr(int(root), flags&unix.MS_REC != 0, 0, 0, uint64(flags&^unix.MS_REC)); err != nil {
			return fmt.Errorf("set rootfs propagation %s: %w", l.RootfsPropagation, err)
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

// maskPaths hides each path: a file behind /dev/null, a directory
// behind an empty read-only tmpfs. As runc does, a path listed twice is
// masked once, and every directory shares one tmpfs (the first one made,
// bound onto the others): a superblock per masked directory is costly to
// tear down when the list is long (per-CPU sysfs directories).
func maskPaths(root, null handle, paths []string) error {
	shared := handle(-1)
	defer func() {
		if shared >= 0 {
			shared.Close()
		}
	}()
	seen := make(map[string]bool, len(paths))
	for _, p := range paths {
		clean := filepath.Clean(p)
		if seen[clean] {
			continue
		}
		seen[clean] = true
		mounted, err := maskPath(root, null, shared, clean)
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
		if mounted >= 0 {
			shared = mounted
		}
	}
	return nil
}

// maskPath masks p; when it is a directory and no shared tmpfs exists
// yet (shared < 0) it makes one and returns a handle on it.
func maskPath(root, null, shared handle, p string) (handle, error) {
	h, err := openInRoot(root, p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return -1, nil
		}
		return -1, err
	}
	defer h.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(h), &st); err != nil {
		return -1, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return -1, bindFd(null, h, false, unix.MOUNT_ATTR_RDONLY, 0)
	}
	if shared >= 0 {
		// The clone has the shared tmpfs's attributes (maskAttrs).
		return -1, bindFd(shared, h, false, 0, 0)
	}
	if err := emptyReadonlyTmpfs(h); err != nil {
		return -1, err
	}
	// h names the directory under the new tmpfs: reopen to get the tmpfs.
	return openInRoot(root, p)
}

// maskAttrs are the attributes of the masking tmpfs.
const maskAttrs = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC

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
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, maskAttrs)
	if err != nil {
		return fmt.Errorf("fsmount: %w", err)
	}
	defer unix.Close(mnt)
	if err := unix.MoveMount(mnt, "", int(dir), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// deferredReadonly says whether m's "ro" waits for Finish: as in runc, a
// tmpfs and whatever is mounted on /dev are made read-write, so that the
// mounts, device nodes and console under them can still be made, and
// read-only once the container's root is complete.
func deferredReadonly(m specs.Mount, mf configs.MountFlags) bool {
	if mf.Flags&unix.MS_RDONLY == 0 {
		return false
	}
	return m.Type == "tmpfs" || filepath.Clean(m.Destination) == "/dev"
}

// finishReadonlyMounts makes the mounts whose "ro" was deferred
// read-only (the top mount at each destination, as runc's remount).
func finishReadonlyMounts(root handle, mounts []specs.Mount) error {
	for _, m := range mounts {
		mf, err := configs.ParseMountOptions(m.Options)
		if err != nil || !deferredReadonly(m, mf) {
			continue
		}
		h, err := openInRoot(root, m.Destination)
		if err != nil {
			return fmt.Errorf("make %s read-only: %w", m.Destination, err)
		}
		err = setattr(int(h), false, unix.MOUNT_ATTR_RDONLY, 0, 0)
		h.Close()
		if err != nil {
			return fmt.Errorf("make %s read-only: %w", m.Destination, err)
		}
	}
	return nil
}
