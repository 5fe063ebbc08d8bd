package utils

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// WriteFileAtomic replaces path with data, synced to disk before it
// takes the old file's place (ReplaceFile): a reader (e.g. a tool polling
// a pid file) sees either the old content or the complete new content,
// never a partial write.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	_, err := ReplaceFile(path, data, perm, true)
	return err
}

// ReplaceFile writes data to a temporary file in path's directory and
// renames it over path, so that a reader sees a whole old or a whole new
// file. With sync the data is on disk before the rename. It returns the
// new file's stat, taken after the rename: a later save replaces the
// file, so the same identity at path means nothing was saved since. The
// temporary file is a bare fd: an *os.File would be made non-blocking,
// offered to Go's poller (refused for a regular file) and made blocking
// again for its stat.
func ReplaceFile(path string, data []byte, perm os.FileMode, sync bool) (st unix.Stat_t, retErr error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	fd, tmpName, err := createTemp(filepath.Join(dir, "."+base+".tmp-"))
	if err != nil {
		return st, fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if cerr := unix.Close(fd); retErr == nil && cerr != nil {
			retErr = fmt.Errorf("write %s: close %s: %w", path, tmpName, cerr)
		}
		if retErr != nil {
			_ = unix.Unlink(tmpName)
		}
	}()
	// The file is made 0600; another mode is applied explicitly so the
	// umask does not narrow it.
	if perm != 0o600 {
		if err := unix.Fchmod(fd, uint32(perm.Perm())); err != nil {
			return st, fmt.Errorf("write %s: %w", path, &os.PathError{Op: "chmod", Path: tmpName, Err: err})
		}
	}
	if err := writeAll(fd, data); err != nil {
		return st, fmt.Errorf("write %s: %w", path, &os.PathError{Op: "write", Path: tmpName, Err: err})
	}
	if sync {
		if err := ignoringEINTR(func() error { return unix.Fsync(fd) }); err != nil {
			return st, fmt.Errorf("write %s: fsync %s: %w", path, tmpName, err)
		}
	}
	if err := unix.Rename(tmpName, path); err != nil {
		return st, fmt.Errorf("write %s: %w", path, &os.LinkError{Op: "rename", Old: tmpName, New: path, Err: err})
	}
	// After the rename, which may change the file's ctime.
	if err := unix.Fstat(fd, &st); err != nil {
		return st, fmt.Errorf("write %s: stat: %w", path, err)
	}
	return st, nil
}

// createTemp makes a new file prefix+<number>, 0600, close-on-exec, as
// os.CreateTemp does, and returns its fd and name.
func createTemp(prefix string) (int, string, error) {
	seed := uint64(time.Now().UnixNano()) ^ uint64(os.Getpid())<<32
	for try := uint64(0); ; try++ {
		name := prefix + strconv.FormatUint(uint64(uint32(seed+try*2654435761)), 10)
		fd, err := unix.Open(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
		switch {
		case err == nil:
			return fd, name, nil
		case err == unix.EINTR:
		case err == unix.EEXIST && try < 10000:
		default:
			return -1, "", &os.PathError{Op: "open", Path: name, Err: err}
		}
	}
}

// writeAll writes data to fd, going on after a short write.
func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}

// NewSockPair returns a connected pair of unix stream sockets, both
// close-on-exec, named name+"-p" (parent end) and name+"-c" (child end).
func NewSockPair(name string) (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair %s: %w", name, err)
	}
	return os.NewFile(uintptr(fds[1]), name+"-p"), os.NewFile(uintptr(fds[0]), name+"-c"), nil
}

// CloseExecFrom marks every open descriptor >= minFd close-on-exec, so that
// nothing the runtime happens to hold open leaks into the container's
// process when it execs. It uses close_range(2) where the kernel has it (and
// a seccomp filter allows it) and walks /proc/self/fd otherwise.
func CloseExecFrom(minFd int) error {
	if minFd < 0 {
		return fmt.Errorf("close-exec from %d: negative fd", minFd)
	}
	err := unix.CloseRange(uint(minFd), math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	// EPERM: a seccomp profile written before close_range existed refuses
	// it; the walk below uses only calls every profile allows.
	if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EPERM) {
		return CloseRangeError(minFd, err)
	}
	return closeExecFromProc(minFd)
}

// CloseRangeError is CloseExecFrom's error when close_range fails, and
// CloseExecDirError its error when the fallback cannot read
// /proc/self/fd. A direct exec, which does the same in C, fails with
// them too (libcontainer/execerr.go).
func CloseRangeError(minFd int, err error) error {
	return fmt.Errorf("close-exec from %d: close_range: %w", minFd, err)
}

// CloseExecDirError: see CloseRangeError. err is os.ReadDir's.
func CloseExecDirError(minFd int, err error) error {
	return fmt.Errorf("close-exec from %d: %w", minFd, err)
}

// closeExecFromProc is the close_range fallback: it walks /proc/self/fd.
func closeExecFromProc(minFd int) error {
	const fdDir = "/proc/self/fd"
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		return CloseExecDirError(minFd, err)
	}
	for _, entry := range entries {
		fd, err := strconv.Atoi(entry.Name())
		if err != nil || fd < minFd {
			continue
		}
		// The directory's own fd is listed too and is already closed by
		// now; EBADF for it is expected.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && !errors.Is(err, unix.EBADF) {
			return fmt.Errorf("close-exec fd %d: %w", fd, err)
		}
	}
	return nil
}

// ReadSmallFile reads a small file (a /proc or cgroup file) with bare
// open and read calls: os.ReadFile wraps the fd in an *os.File, which
// costs an fstat, four fcntl calls and an epoll registration per file,
// several times the read itself for the per-container files that
// `state` and `list` read. It reads at most limit bytes (more is an error).
func ReadSmallFile(path string, limit int) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, min(512, limit+1))
	for {
		if len(buf) == cap(buf) {
			if len(buf) > limit {
				return nil, fmt.Errorf("read %s: more than %d bytes", path, limit)
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			if len(buf) > limit {
				return nil, fmt.Errorf("read %s: more than %d bytes", path, limit)
			}
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
