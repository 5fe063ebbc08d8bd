//go:build linux

// Package exeseal gives the runtime a handle on its own binary that a
// container cannot write through (CVE-2019-5736).
//
// The process that enters a container is berth itself, re-executed as
// `berth init`. While it runs inside the container's namespaces its
// /proc/PID/exe is reachable from the container; if that link led to the
// host's berth file, a container process could open it for writing (or
// keep an O_PATH handle and reopen it later) and replace the runtime on the
// host. So the child is never started from the host file, but from one of
// these, tried in this order:
//
//  1. berth already runs sealed: /proc/self/exe is a memfd carrying the
//     write/grow/shrink seals (e.g. an operator pinned one copy for all
//     containers). It is used as is; nothing is copied.
//  2. overlayfs: a private, never-attached, read-only overlay mount whose
//     top layer is the directory holding the binary and whose bottom layer
//     is an empty directory. An overlay with only lower layers has no upper
//     layer to copy up into, so every write through it fails with EROFS and
//     the mount cannot be made writable again (unlike a read-only bind,
//     whose flag a privileged container could clear on the same inode).
//     Nothing is copied and the page cache is shared with the host file.
//     Needs CAP_SYS_ADMIN and fsopen(2) (Linux 5.2).
//  3. a sealed memfd copy (memfd_create + copy_file_range/sendfile +
//     F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE): works anywhere
//     memfd_create does, at the price of copying the binary (a few
//     milliseconds and its size in memory until the child execs).
//
// If none is possible, Open fails: the host file is never a fallback.
//
// The environment variable BERTH_EXE_SEAL=overlayfs|memfd forces one
// method (for tests and measurements); anything else means auto.
package exeseal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Method names a way the binary was sealed.
type Method string

const (
	// AlreadySealed means berth runs from a sealed memfd.
	AlreadySealed Method = "sealed-memfd-self"
	// Overlayfs is a lower-only private overlay mount.
	Overlayfs Method = "overlayfs"
	// Memfd is a sealed in-memory copy.
	Memfd Method = "memfd"
)

// EnvMode forces one method: "overlayfs" or "memfd".
const EnvMode = "BERTH_EXE_SEAL"

// requiredSeals are the seals that make a memfd immutable for good.
const requiredSeals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE

// selfExe is the running binary.
const selfExe = "/proc/self/exe"

// Exe is a sealed handle on berth's binary. File is open close-on-exec;
// the child must get it through exec.Cmd.ExtraFiles (or keep the
// self-sealed path) and execute /proc/self/fd/N.
type Exe struct {
	// File is nil for AlreadySealed: /proc/self/exe is used directly.
	File   *os.File
	Method Method
	// mount is the overlay mount's own fd (Overlayfs), dropped by Close.
	mount *os.File
}

// Close releases the handle; call it once the child has started.
func (e *Exe) Close() error {
	if e == nil || e.File == nil {
		return nil
	}
	if e.mount != nil {
		// Dropping the mount's fd detaches the mount (File keeps what
		// it needs), and the kernel then waits for an RCU grace period:
		// ~1 ms on a virtualised host, which create's clone waited for
		// when the seal dropped it. A goroutine of its own drops it now,
		// nothing waiting. The child has exec'd by the time Close is
		// called, so its copy of the fd (inherited at the clone,
		// close-on-exec) is gone and this one is the last.
		go e.mount.Close()
		e.mount = nil
	}
	return e.File.Close()
}

// Open returns a sealed handle on the running binary, by the first method
// that works (see the package comment for the order).
func Open() (*Exe, error) {
	mode := os.Getenv(EnvMode)
	if mode != string(Overlayfs) && mode != string(Memfd) {
		sealed, err := RunningSealed()
		if err != nil {
			return nil, err
		}
		if sealed {
			return &Exe{Method: AlreadySealed}, nil
		}
	}
	var errs []error
	if mode != string(Memfd) {
		f, mount, err := sealOverlayfs(selfExe)
		if err == nil {
			return &Exe{File: f, Method: Overlayfs, mount: mount}, nil
		}
		errs = append(errs, fmt.Errorf("overlayfs: %w", err))
		if mode == string(Overlayfs) {
			return nil, fmt.Errorf("seal berth binary: %w", errors.Join(errs...))
		}
	}
	f, err := sealMemfd(selfExe)
	if err == nil {
		return &Exe{File: f, Method: Memfd}, nil
	}
	errs = append(errs, fmt.Errorf("memfd: %w", err))
	return nil, fmt.Errorf("seal berth binary (refusing to run the host file in a container): %w", errors.Join(errs...))
}

// RunningSealed reports whether the running binary is a memfd that can
// no longer change.
func RunningSealed() (bool, error) {
	f, err := os.OpenFile(selfExe, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", selfExe, err)
	}
	defer f.Close()
	return hasSeals(f), nil
}

// hasSeals reports whether f carries every seal in requiredSeals. Files
// that do not support sealing (EINVAL) are not sealed.
func hasSeals(f *os.File) bool {
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	return err == nil && seals&requiredSeals == requiredSeals
}

// sealMemfd copies the binary into a memfd and seals it.
func sealMemfd(binPath string) (*os.File, error) {
	src, err := os.OpenFile(binPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", binPath, err)
	}
	defer src.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", binPath, err)
	}
	return sealedMemfd("berth-sealed", func(memfd *os.File) error {
		if err := copyAll(memfd, src, st.Size); err != nil {
			return fmt.Errorf("copy %s into memfd: %w", binPath, err)
		}
		return nil
	})
}

// SealImage returns a sealed memfd named name holding what image reads: an
// executable that no one can change, to run as /proc/self/fd/N.
func SealImage(name string, image io.Reader) (*os.File, error) {
	return sealedMemfd(name, func(memfd *os.File) error {
		// A small buffer, reused: image may be read-only data of
		// berth's binary, and a copy of it all would be new heap pages.
		var buf [16 << 10]byte
		for {
			n, err := image.Read(buf[:])
			if n > 0 {
				if _, werr := memfd.Write(buf[:n]); werr != nil {
					return fmt.Errorf("write memfd %s: %w", name, werr)
				}
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
		}
	})
}

// sealedMemfd makes an executable memfd, has fill write it, and seals it.
func sealedMemfd(name string, fill func(*os.File) error) (*os.File, error) {
	// MFD_EXEC: a host whose vm.memfd_noexec asks for it explicitly
	// (Linux 6.3 and later); an older kernel refuses the flag.
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create %s: %w", name, err)
	}
	memfd := os.NewFile(uintptr(fd), "memfd:"+name)
	if err := fill(memfd); err != nil {
		memfd.Close()
		return nil, err
	}
	if _, err := unix.FcntlInt(memfd.Fd(), unix.F_ADD_SEALS, requiredSeals); err != nil {
		memfd.Close()
		return nil, fmt.Errorf("seal memfd %s: %w", name, err)
	}
	return memfd, nil
}

// copyAll copies size bytes from src to dst in the kernel:
// copy_file_range where the filesystems allow it, sendfile otherwise.
func copyAll(dst, src *os.File, size int64) error {
	var done int64
	useSendfile := false
	for done < size {
		var n int
		var err error
		if !useSendfile {
			n, err = unix.CopyFileRange(int(src.Fd()), nil, int(dst.Fd()), nil, int(size-done), 0)
			if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
				useSendfile = true
				continue
			}
		} else {
			n, err = unix.Sendfile(int(dst.Fd()), int(src.Fd()), nil, int(size-done))
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("short copy: %d of %d bytes", done, size)
		}
		done += int64(n)
	}
	return nil
}

// sealOverlayfs opens the binary through a private lower-only overlay
// mount, and returns the mount's fd too (Exe.Close drops it). The mount
// is never attached anywhere: it lives as long as a reference to it (the
// returned O_PATH fd, later the child's exe) does.
func sealOverlayfs(binPath string) (*os.File, *os.File, error) {
	ctx, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(ctx)
	real, err := os.Readlink(binPath)
	if err != nil {
		return nil, nil, fmt.Errorf("readlink %s: %w", binPath, err)
	}
	if strings.HasSuffix(real, " (deleted)") {
		return nil, nil, fmt.Errorf("binary %s was deleted", real)
	}
	binDir, binName := filepath.Split(real)
	empty, err := emptyLowerDir()
	if err != nil {
		return nil, nil, err
	}
	// Two lower layers and no upper: overlayfs runs read-only. The
	// binary's directory is on top so that nothing in the empty layer
	// could shadow the binary.
	lower := escapeLowerDir(binDir) + ":" + escapeLowerDir(empty)
	if err := unix.FsconfigSetString(ctx, "lowerdir", lower); err != nil {
		return nil, nil, fmt.Errorf("fsconfig lowerdir=%s: %w", lower, err)
	}
	// xino only matters for inode numbers we never look at; turning it
	// off avoids kernel log noise when the layers are on different
	// filesystems. Old kernels without the option are fine too.
	_ = unix.FsconfigSetString(ctx, "xino", "off")
	if err := unix.FsconfigCreate(ctx); err != nil {
		return nil, nil, fmt.Errorf("fsconfig create overlay: %w", err)
	}
	mnt, err := unix.Fsmount(ctx, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
	if err != nil {
		return nil, nil, fmt.Errorf("fsmount overlay: %w", err)
	}
	fd, err := unix.Openat(mnt, binName, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(mnt)
		return nil, nil, fmt.Errorf("open %s in overlay (lowerdir=%s): %w", binName, lower, err)
	}
	return os.NewFile(uintptr(fd), "overlay:"+real), os.NewFile(uintptr(mnt), "overlay mount"), nil
}

// emptyDirPath is the bottom overlay layer. It sits in /run (root-owned,
// a tmpfs on most hosts) rather than /tmp, where another user could plant
// it first.
const emptyDirPath = "/run/berth-exeseal-empty"

// emptyLowerDir makes sure emptyDirPath is a real directory owned by us.
// Its content does not matter for safety (the binary's layer is on top),
// but it is kept empty and unwritable by others.
func emptyLowerDir() (string, error) {
	if err := os.Mkdir(emptyDirPath, 0o500); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("create overlay lower dir %s: %w", emptyDirPath, err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(emptyDirPath, &st); err != nil {
		return "", fmt.Errorf("stat overlay lower dir %s: %w", emptyDirPath, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 {
		return "", fmt.Errorf("overlay lower dir %s is not a directory owned by uid %d and writable only by it", emptyDirPath, os.Geteuid())
	}
	return emptyDirPath, nil
}

// escapeLowerDir escapes the characters overlayfs treats specially in a
// lowerdir list.
func escapeLowerDir(path string) string {
	path = strings.ReplaceAll(path, `\`, `\\`)
	return strings.ReplaceAll(path, `:`, `\:`)
}
