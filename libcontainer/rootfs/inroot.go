package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// handle is a descriptor the rootfs code owns: an O_PATH handle on a
// path in the container's root, or on a host path. A bare fd, not an
// *os.File: os.NewFile and os.OpenFile probe every descriptor (fcntl, an
// attempt at non-blocking mode, fstat), a good part of the syscalls of a
// container's rootfs set-up, for files no poller ever sees.
type handle int

func (h handle) Close() error { return unix.Close(int(h)) }

// openHost opens a host path (a bind source, the rootfs itself) as an
// O_PATH handle; flags adds e.g. O_DIRECTORY.
func openHost(path string, flags int) (handle, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC|flags, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return handle(fd), nil
}

// fromFile takes over the descriptor of f (made by pathrs-lite).
func fromFile(f *os.File, err error) (handle, error) {
	if err != nil {
		return -1, err
	}
	defer f.Close()
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("dup %s: %w", f.Name(), err)
	}
	return handle(fd), nil
}

// asFile lends h to an API that wants an *os.File, as a duplicate the
// caller closes.
func asFile(h handle, name string) (*os.File, error) {
	fd, err := unix.FcntlInt(uintptr(h), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup %s: %w", name, err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

// openInRoot resolves unsafePath inside root with the kernel's in-root
// resolution: one openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) call,
// so ".." and absolute symlinks stay inside root. pathrs-lite resolves the
// same way but then re-reads every handle's name through procfs (for its
// error messages): five more syscalls a path, measured at about 40% of
// the rootfs set-up. Where openat2 is missing, or the kernel asks for a
// retry (a rename raced the lookup), pathrs-lite does the work.
func openInRoot(root handle, unsafePath string) (handle, error) {
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(int(root), unsafePath, &how)
	if err == nil {
		return handle(fd), nil
	}
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EAGAIN) {
		rf, err := asFile(root, "rootfs")
		if err != nil {
			return -1, err
		}
		defer rf.Close()
		return fromFile(pathrs.OpenatInRoot(rf, unsafePath))
	}
	return -1, &os.PathError{Op: "openat2", Path: unsafePath, Err: err}
}

// mkdirAllInRoot returns a handle to the directory unsafePath inside root,
// creating it and its parents (in-root) when missing. The common miss, a
// mount point the image lacks under a directory it has, takes one mkdirat
// beside the in-root lookup (mkdirLastInRoot); deeper misses go through
// pathrs-lite.
func mkdirAllInRoot(root handle, unsafePath string, mode os.FileMode) (handle, error) {
	h, err := openInRoot(root, unsafePath)
	if err == nil {
		var st unix.Stat_t
		if unix.Fstat(int(h), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return h, nil
		}
		// Not a directory: pathrs-lite reports that properly.
		h.Close()
	} else if errors.Is(err, unix.ENOENT) {
		if h, ok := mkdirLastInRoot(root, unsafePath, mode); ok {
			return h, nil
		}
	}
	rf, err := asFile(root, "rootfs")
	if err != nil {
		return -1, err
	}
	defer rf.Close()
	return fromFile(pathrs.MkdirAllHandle(rf, unsafePath, mode))
}

// mkdirLastInRoot creates the last component of unsafePath when its
// parent exists: the parent is resolved in-root, the name (one plain
// component: it cannot leave the parent) made with mkdirat, and the new
// directory opened beneath the parent refusing symlinks, magic links and
// mount crossings, so a directory swapped for a symlink in between is
// refused rather than followed. ok=false leaves the work to pathrs-lite:
// a missing parent, "..", a race, or an old kernel.
func mkdirLastInRoot(root handle, unsafePath string, mode os.FileMode) (handle, bool) {
	for _, part := range strings.Split(unsafePath, "/") {
		if part == ".." {
			return -1, false // lexical and in-root ".." may differ
		}
	}
	clean := filepath.Clean("/" + unsafePath)
	dir, base := filepath.Split(clean)
	if base == "" || base == "." {
		return -1, false
	}
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	pfd, err := unix.Openat2(int(root), dir, &how)
	if err != nil {
		return -1, false
	}
	defer unix.Close(pfd)
	h, err := mkdirBeneath(handle(pfd), base, mode)
	return h, err == nil
}

// mkdirBeneath creates the directory name (one plain component) in the
// directory parent, if missing, and opens it beneath parent refusing
// symlinks, magic links and mount crossings.
func mkdirBeneath(parent handle, name string, mode os.FileMode) (handle, error) {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return -1, fmt.Errorf("%q is not one path component", name)
	}
	if err := unix.Mkdirat(int(parent), name, uint32(mode.Perm())); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("mkdir %s: %w", name, err)
	}
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	fd, err := unix.Openat2(int(parent), name, &how)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", name, err)
	}
	return handle(fd), nil
}
