package rootfs

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// procAttrFlags are the MS_* flags a procfs made here carries as mount
// attributes (msToAttr); the others it takes are the superblock's
// (sbFlagNames, and read-only). A proc mount with any other flag is left
// to the process (mountOwn).
const procAttrFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME |
	unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_NOSYMFOLLOW

// mountProcOf mounts on dst a procfs of the pid namespace pidns (an fd),
// from this process, which is not in it: fsconfig's "pidns" (Linux
// 6.17) names the namespace that mount(2) would take from the mounting
// task. What it makes is what the process's own mount(2) of source with
// flags and data makes: the same options, the superblock read-only with
// the mount, the per-mount flags as attributes. An error leaves dst as
// it was.
func mountProcOf(pidns int, source string, flags uintptr, data string, dst handle) error {
	other := flags &^ procAttrFlags
	for _, f := range sbFlagNames {
		other &^= f.ms
	}
	if other != 0 {
		return fmt.Errorf("proc: flags %#x", other)
	}
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen proc: %w", err)
	}
	defer unix.Close(fs)
	if err := unix.FsconfigSetFd(fs, "pidns", pidns); err != nil {
		return fmt.Errorf("proc option pidns: %w", err)
	}
	if source != "" {
		if err := unix.FsconfigSetString(fs, "source", source); err != nil {
			return fmt.Errorf("proc source %q: %w", source, err)
		}
	}
	var opts []string
	if data != "" {
		opts = strings.Split(data, ",")
	}
	if err := fsconfigOptions(fs, "proc", opts, flags); err != nil {
		return err
	}
	if flags&unix.MS_RDONLY != 0 {
		if err := unix.FsconfigSetFlag(fs, "ro"); err != nil {
			return fmt.Errorf("proc option ro: %w", err)
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return fmt.Errorf("create proc: %w", err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, int(msToAttr(flags)))
	if err != nil {
		return fmt.Errorf("fsmount proc: %w", err)
	}
	defer unix.Close(mnt)
	if err := unix.MoveMount(mnt, "", int(dst), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount proc: %w", err)
	}
	return nil
}
