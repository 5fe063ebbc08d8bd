package rootfs

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

// A bind mount's flags follow runc's rules, not mount(8)'s:
//   - "bind"/"rbind" alone keeps every flag of the source mount;
//   - any other flag, set or cleared, makes the mount's flags exactly the
//     ones asked for (ro, nosuid, nodev, noexec, nosymfollow, nodiratime):
//     a flag of the source that is not asked for is cleared. The atime
//     mode is the one asked for, relatime when only nodiratime is, and
//     otherwise stays the source's (as a remount without atime flags
//     does: "atime" or "norelatime" alone change nothing);
//   - where the source's flags are locked (a mount inherited into a user
//     namespace), the locked ones set on the source stay set, unless the
//     config clears one explicitly or asks for another atime mode: that
//     is refused.
// The flags apply to the top mount only, as runc's MS_REMOUNT|MS_BIND;
// the r* options (rro, rnosuid, ...) reach every submount of an rbind.

// perMountAttrs are the flags a bind mount can have of its own.
const perMountAttrs = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV |
	unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NOSYMFOLLOW | unix.MOUNT_ATTR_NODIRATIME

// lockableAttrs are the flags the kernel locks on mounts inherited into
// a less privileged mount namespace (MNT_LOCK_*).
const lockableAttrs = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV |
	unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR__ATIME | unix.MOUNT_ATTR_NODIRATIME

// msAtimeFlags are the MS_* flags that choose an atime mode.
const msAtimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_NODIRATIME

// bindAttrs works out the mount_setattr change for a bind mount with the
// options flags (set) and cleared; change is false for a plain bind.
func bindAttrs(flags, cleared uintptr) (set, clr uint64, change bool) {
	if flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) == 0 && cleared == 0 {
		return 0, 0, false
	}
	set = msToAttr(flags)
	clr = perMountAttrs &^ set
	if flags&msAtimeFlags != 0 {
		clr |= unix.MOUNT_ATTR__ATIME
	} else {
		clr &^= unix.MOUNT_ATTR_NODIRATIME
	}
	return set, clr, true
}

// lockedRetry is the second try when the first was refused: the
// source's lockable flags (src, MOUNT_ATTR_*) are kept, unless the config
// cleared one of them or asked for another atime mode (ok=false).
func lockedRetry(set, clr uint64, flags, cleared uintptr, src uint64) (uint64, uint64, bool) {
	locked := src & lockableAttrs
	if msToAttr(cleared)&locked&^unix.MOUNT_ATTR__ATIME != 0 {
		return 0, 0, false
	}
	if cleared&unix.MS_NOATIME != 0 && src&unix.MOUNT_ATTR__ATIME == unix.MOUNT_ATTR_NOATIME {
		return 0, 0, false
	}
	if flags&msAtimeFlags != 0 && set&(unix.MOUNT_ATTR__ATIME|unix.MOUNT_ATTR_NODIRATIME) != locked&(unix.MOUNT_ATTR__ATIME|unix.MOUNT_ATTR_NODIRATIME) {
		return 0, 0, false
	}
	set |= locked &^ unix.MOUNT_ATTR__ATIME
	clr &^= locked | unix.MOUNT_ATTR__ATIME
	return set, clr, true
}

// statfsAttrs converts statfs(2) f_flags to MOUNT_ATTR_* bits.
func statfsAttrs(f int64) uint64 {
	const stNoSymfollow = 0x2000 // ST_NOSYMFOLLOW, <linux/statfs.h>
	var a uint64
	for _, m := range []struct {
		st   int64
		attr uint64
	}{
		{unix.ST_RDONLY, unix.MOUNT_ATTR_RDONLY}, {unix.ST_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.ST_NODEV, unix.MOUNT_ATTR_NODEV}, {unix.ST_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.ST_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME}, {stNoSymfollow, unix.MOUNT_ATTR_NOSYMFOLLOW},
	} {
		if f&m.st != 0 {
			a |= m.attr
		}
	}
	switch {
	case f&unix.ST_NOATIME != 0:
		a |= unix.MOUNT_ATTR_NOATIME
	case f&unix.ST_RELATIME != 0:
		a |= unix.MOUNT_ATTR_RELATIME
	default:
		a |= unix.MOUNT_ATTR_STRICTATIME
	}
	return a
}

func mountBind(cfg *Config, root handle, i int, m specs.Mount, mf configs.MountFlags, atProc bool) (handle, error) {
	src := configs.InBundle(cfg.Bundle, m.Source)
	if configs.IDMapped(m) {
		if cfg.OpenSource == nil {
			return -1, errors.New("an idmapped mount needs the runtime to open its source")
		}
		return bindFromRuntime(cfg, root, i, m, mf, atProc)
	}
	srcf, err := openHost(src, 0)
	if err != nil && cfg.UserNS && cfg.OpenSource != nil && (errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)) {
		return bindFromRuntime(cfg, root, i, m, mf, atProc)
	}
	if err != nil {
		return -1, fmt.Errorf("open source: %w", err)
	}
	defer srcf.Close()
	if atProc {
		if err := checkProcSource(int(srcf), m); err != nil {
			return -1, err
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(srcf), &st); err != nil {
		return -1, fmt.Errorf("stat source: %w", err)
	}
	dst, err := resolveDest(root, m.Destination, st.Mode&unix.S_IFMT != unix.S_IFDIR)
	if err != nil {
		return -1, err
	}
	if err := bindWithFlags(srcf, dst, mf); err != nil {
		dst.Close()
		return -1, err
	}
	return dst, nil
}

// bindFromRuntime binds the detached clone of mounts[i]'s source that
// the runtime opened for init (Config.OpenSource).
func bindFromRuntime(cfg *Config, root handle, i int, m specs.Mount, mf configs.MountFlags, atProc bool) (handle, error) {
	tree, err := cfg.OpenSource(i)
	if err != nil {
		return -1, fmt.Errorf("open source through the runtime: %w", err)
	}
	defer unix.Close(tree)
	if atProc {
		if err := checkProcSource(tree, m); err != nil {
			return -1, err
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(tree, &st); err != nil {
		return -1, fmt.Errorf("stat source: %w", err)
	}
	dst, err := resolveDest(root, m.Destination, st.Mode&unix.S_IFMT != unix.S_IFDIR)
	if err != nil {
		return -1, err
	}
	if err := attachTree(tree, dst, mf); err != nil {
		dst.Close()
		return -1, err
	}
	return dst, nil
}

// bindWithFlags clones src (recursively for rbind) and attaches the
// clone onto dst with its flags (attachTree).
func bindWithFlags(src, dst handle, mf configs.MountFlags) error {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH)
	if mf.Flags&unix.MS_REC != 0 {
		flags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(int(src), "", flags)
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	defer unix.Close(tree)
	return attachTree(tree, dst, mf)
}

// attachTree gives the detached mount tree its flags (so a read-only
// bind is never writable, not even for an instant) and attaches it onto
// dst.
func attachTree(tree int, dst handle, mf configs.MountFlags) error {
	if set, clr, change := bindAttrs(mf.Flags, mf.ClearFlags); change {
		err := setattr(tree, false, set, clr, 0)
		if errors.Is(err, unix.EPERM) {
			err = retryLocked(tree, set, clr, mf, err)
		}
		if err != nil {
			return err
		}
	}
	if err := unix.MoveMount(tree, "", int(dst), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// retryLocked applies the flags again with the source's locked ones
// kept (read from the clone, which has the source's flags); first is the
// refusal returned when that cannot give what the config asked for.
func retryLocked(tree int, set, clr uint64, mf configs.MountFlags, first error) error {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(tree, &sfs); err != nil {
		return fmt.Errorf("statfs source: %w", err)
	}
	set, clr, ok := lockedRetry(set, clr, mf.Flags, mf.ClearFlags, statfsAttrs(sfs.Flags))
	if !ok {
		return fmt.Errorf("%w (the config clears a flag locked on the source mount)", first)
	}
	return setattr(tree, false, set, clr, 0)
}
