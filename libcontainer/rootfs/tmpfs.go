package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

// mountTmpfs mounts a tmpfs at m.Destination. As runc does, a tmpfs over
// a directory the image has takes that directory's mode (its permission,
// setuid, setgid and sticky bits) unless the config gives a mode= of its
// own; a mount point berth had to create keeps tmpfs's default (1777).
// With tmpcopyup the image's files at the mount point are copied into
// the new tmpfs before it is attached (copyUpTmpfs).
func mountTmpfs(root handle, m specs.Mount, mf configs.MountFlags) (handle, error) {
	dst, existing, err := tmpfsMountPoint(root, m.Destination)
	if err != nil {
		return -1, err
	}
	data := tmpfsData(existing, mf.Data)
	if mf.CopyUp {
		err = copyUpTmpfs(dst, m.Source, mf, data)
	} else {
		flags := mf.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
		err = mountAt(m.Source, "tmpfs", flags, strings.Join(data, ","), dst)
	}
	if err != nil {
		dst.Close()
		return -1, err
	}
	return dst, nil
}

// tmpfsMountPoint resolves dest in root, creating it when missing; the
// Stat_t of the directory is returned only when it was already there.
func tmpfsMountPoint(root handle, dest string) (handle, *unix.Stat_t, error) {
	if h, err := openInRoot(root, dest); err == nil {
		var st unix.Stat_t
		if unix.Fstat(int(h), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return h, &st, nil
		}
		h.Close()
	}
	h, err := resolveDest(root, dest, false)
	return h, nil, err
}

// tmpfsData puts the mode of the directory a tmpfs covers first in its
// options, so that a mode= of the config's, later, wins.
func tmpfsData(existing *unix.Stat_t, data []string) []string {
	if existing == nil {
		return data
	}
	return append([]string{fmt.Sprintf("mode=%04o", existing.Mode&07777)}, data...)
}

// sbFlagNames are the superblock flags fsconfig takes by name, for the
// MS_* flags a tmpfs mount option can carry besides the per-mount ones.
var sbFlagNames = []struct {
	ms   uintptr
	name string
}{
	{unix.MS_SYNCHRONOUS, "sync"}, {unix.MS_DIRSYNC, "dirsync"},
	{unix.MS_LAZYTIME, "lazytime"}, {unix.MS_MANDLOCK, "mand"},
	{unix.MS_SILENT, "silent"}, {unix.MS_I_VERSION, "iversion"},
}

// fsconfigOptions gives the filesystem context fs (of a fstype) the
// options data, "key=value" or "flag", as mount(2)'s data would, and the
// superblock flags among flags (sbFlagNames).
func fsconfigOptions(fs int, fstype string, data []string, flags uintptr) error {
	for _, o := range data {
		var err error
		if k, v, hasValue := strings.Cut(o, "="); hasValue {
			err = unix.FsconfigSetString(fs, k, v)
		} else {
			err = unix.FsconfigSetFlag(fs, k)
		}
		if err != nil {
			return fmt.Errorf("%s option %q: %w", fstype, o, err)
		}
	}
	for _, f := range sbFlagNames {
		if flags&f.ms != 0 {
			if err := unix.FsconfigSetFlag(fs, f.name); err != nil {
				return fmt.Errorf("%s option %q: %w", fstype, f.name, err)
			}
		}
	}
	return nil
}

// copyUpTmpfs makes a detached tmpfs (fsopen/fsmount: nothing of it is
// visible anywhere while it is filled), copies the directory dst into
// it, applies read-only last and attaches it onto dst.
func copyUpTmpfs(dst handle, source string, mf configs.MountFlags, data []string) error {
	mnt, err := newDetachedTmpfs(source, mf, data)
	if err != nil {
		return err
	}
	defer unix.Close(mnt)
	if err := copyDirInto(dst, mnt); err != nil {
		return fmt.Errorf("tmpcopyup: %w", err)
	}
	if mf.Flags&unix.MS_RDONLY != 0 {
		if err := setattr(mnt, false, unix.MOUNT_ATTR_RDONLY, 0, 0); err != nil {
			return err
		}
	}
	if err := unix.MoveMount(mnt, "", int(dst), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// newDetachedTmpfs creates a tmpfs with the filesystem options data and
// the superblock flags of mf, and mounts it detached with mf's per-mount
// attributes except read-only (the copy must write to it first).
func newDetachedTmpfs(source string, mf configs.MountFlags, data []string) (int, error) {
	fs, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(fs)
	if source != "" {
		if err := unix.FsconfigSetString(fs, "source", source); err != nil {
			return -1, fmt.Errorf("tmpfs source %q: %w", source, err)
		}
	}
	if err := fsconfigOptions(fs, "tmpfs", data, mf.Flags); err != nil {
		return -1, err
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, fmt.Errorf("create tmpfs: %w", err)
	}
	attrs := msToAttr(mf.Flags) &^ unix.MOUNT_ATTR_RDONLY
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, int(attrs))
	if err != nil {
		return -1, fmt.Errorf("fsmount tmpfs: %w", err)
	}
	return mnt, nil
}

// copyDirInto copies the contents of the directory src (a handle in the
// rootfs) into the root of the detached mount mnt, and gives that root
// src's owner and extended attributes (its mode comes from mode=).
func copyDirInto(src handle, mnt int) error {
	s, err := unix.Openat(int(src), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open mount point: %w", err)
	}
	defer unix.Close(s)
	d, err := unix.Openat(mnt, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open new tmpfs: %w", err)
	}
	defer unix.Close(d)
	var st unix.Stat_t
	if err := unix.Fstat(s, &st); err != nil {
		return fmt.Errorf("stat mount point: %w", err)
	}
	c := copier{dev: st.Dev}
	if err := c.dir(s, d, "/"); err != nil {
		return err
	}
	if err := unix.Fchown(d, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown /: %w", err)
	}
	return copyXattrs(s, d, "/")
}

// copier copies a directory tree between two directory fds, never
// following a symlink (every entry is opened relative to its parent with
// O_NOFOLLOW) and not descending into other mounts (dev): a mount under
// the mount point is not the image's content. Hard links become copies,
// as in runc.
type copier struct {
	dev uint64
}

func (c copier) dir(src, dst int, rel string) error {
	f := os.NewFile(uintptr(mustDup(src)), rel)
	if f == nil {
		return fmt.Errorf("dup %s", rel)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("read directory %s: %w", rel, err)
	}
	for _, name := range names {
		if err := c.entry(src, dst, name, path.Join(rel, name)); err != nil {
			return err
		}
	}
	return nil
}

// mustDup duplicates fd close-on-exec; -1 on failure (os.NewFile gives nil).
func mustDup(fd int) int {
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return nfd
}

// entry copies name from the directory src to the directory dst.
func (c copier) entry(src, dst int, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(src, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("stat %s: %w", rel, err)
	}
	var err error
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		err = c.copyDir(src, dst, name, rel, &st)
	case unix.S_IFREG:
		err = copyFile(src, dst, name, rel, &st)
	case unix.S_IFLNK:
		err = copySymlink(src, dst, name, rel, &st)
	default: // devices, fifos, sockets
		err = copyNode(dst, name, rel, &st)
	}
	if err != nil {
		return err
	}
	// Last: making the entries of a directory changes its times.
	ts := []unix.Timespec{unix.NsecToTimespec(st.Atim.Nano()), unix.NsecToTimespec(st.Mtim.Nano())}
	if err := unix.UtimesNanoAt(dst, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", rel, err)
	}
	return nil
}

func (c copier) copyDir(src, dst int, name, rel string, st *unix.Stat_t) error {
	if err := unix.Mkdirat(dst, name, 0o700); err != nil {
		return fmt.Errorf("mkdir %s: %w", rel, err)
	}
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	d, err := unix.Openat(dst, name, flags, 0)
	if err != nil {
		return fmt.Errorf("open copy of %s: %w", rel, err)
	}
	defer unix.Close(d)
	s, err := unix.Openat(src, name, flags, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", rel, err)
	}
	defer unix.Close(s)
	if st.Dev == c.dev {
		if err := c.dir(s, d, rel); err != nil {
			return err
		}
	}
	return copyMeta(s, d, rel, st)
}

func copyFile(src, dst int, name, rel string, st *unix.Stat_t) error {
	s, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", rel, err)
	}
	sf := os.NewFile(uintptr(s), rel)
	defer sf.Close()
	d, err := unix.Openat(dst, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create copy of %s: %w", rel, err)
	}
	df := os.NewFile(uintptr(d), rel)
	defer df.Close()
	// io.Copy lets the kernel move the data (copy_file_range, splice).
	if _, err := io.Copy(df, sf); err != nil {
		return fmt.Errorf("copy %s: %w", rel, err)
	}
	return copyMeta(s, d, rel, st)
}

func copySymlink(src, dst int, name, rel string, st *unix.Stat_t) error {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(src, name, buf)
	if err != nil {
		return fmt.Errorf("readlink %s: %w", rel, err)
	}
	if err := unix.Symlinkat(string(buf[:n]), dst, name); err != nil {
		return fmt.Errorf("symlink %s: %w", rel, err)
	}
	if err := unix.Fchownat(dst, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %s: %w", rel, err)
	}
	return nil
}

// copyNode remakes a device node, fifo or socket; init's umask is 0, so
// the mode given is the mode made.
func copyNode(dst int, name, rel string, st *unix.Stat_t) error {
	if err := unix.Mknodat(dst, name, st.Mode, int(st.Rdev)); err != nil {
		return fmt.Errorf("mknod %s: %w", rel, err)
	}
	if err := unix.Fchownat(dst, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %s: %w", rel, err)
	}
	return nil
}

// copyMeta gives the open copy d the owner, mode and extended attributes
// of s; the mode after the owner, as chown clears setuid and setgid.
func copyMeta(s, d int, rel string, st *unix.Stat_t) error {
	if err := unix.Fchown(d, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", rel, err)
	}
	if err := unix.Fchmod(d, st.Mode&07777); err != nil {
		return fmt.Errorf("chmod %s: %w", rel, err)
	}
	return copyXattrs(s, d, rel)
}

// copyXattrs copies the extended attributes of s to d. One the new
// tmpfs cannot hold or the process may not set (trusted.* in a user
// namespace, an LSM's label) is left out: tmpcopyup copies "where
// possible", as runc and crun do.
func copyXattrs(s, d int, rel string) error {
	names, err := listXattrs(s)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return nil
		}
		return fmt.Errorf("list xattrs of %s: %w", rel, err)
	}
	for _, name := range names {
		val, err := getXattr(s, name)
		if err != nil {
			return fmt.Errorf("read xattr %s of %s: %w", name, rel, err)
		}
		if err := unix.Fsetxattr(d, name, val, 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				continue
			}
			return fmt.Errorf("set xattr %s of %s: %w", name, rel, err)
		}
	}
	return nil
}

func listXattrs(fd int) ([]string, error) {
	size, err := unix.Flistxattr(fd, nil)
	if err != nil || size == 0 {
		return nil, err
	}
	buf := make([]byte, size)
	n, err := unix.Flistxattr(fd, buf)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if name != "" {
			names = append(names, name)
		}
	}
	return names, nil
}

func getXattr(fd int, name string) ([]byte, error) {
	size, err := unix.Fgetxattr(fd, name, nil)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	n, err := unix.Fgetxattr(fd, name, buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}
