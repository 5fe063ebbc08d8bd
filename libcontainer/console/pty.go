// Package console sets up a container's terminal: allocating a pty pair,
// making the peer the controlling terminal of the container's process, and
// relaying a foreground container's terminal to the user's own.
package console

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// NewPty allocates a pseudo-terminal from the ptmx device at ptmxPath (inside
// the container, once its /dev/pts is mounted, "/dev/ptmx" or
// "/dev/pts/ptmx") and returns its master and peer, both close-on-exec.
//
// The peer is opened from the master with TIOCGPTPEER rather than by its
// /dev/pts/N path: a path can be swapped for something else by whoever
// controls the mount namespace (CVE-2025-52565), whereas the ioctl always
// yields the peer of this very master. The peer is opened O_NOCTTY so that
// opening it never steals a controlling terminal by accident; SetupPeer makes
// that choice explicitly.
//
// The master's Name() is the peer's /dev/pts/N path, for display and for the
// console-socket payload.
func NewPty(ptmxPath string) (master, peer *os.File, err error) {
	masterFd, err := unix.Open(ptmxPath, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", ptmxPath, err)
	}
	defer func() {
		if err != nil {
			_ = unix.Close(masterFd)
		}
	}()
	// unlockpt(3): the peer cannot be opened while the pty is locked.
	if err := unix.IoctlSetPointerInt(masterFd, unix.TIOCSPTLCK, 0); err != nil {
		return nil, nil, fmt.Errorf("unlock pty %s: %w", ptmxPath, err)
	}
	ptyNum, err := unix.IoctlGetUint32(masterFd, unix.TIOCGPTN)
	if err != nil {
		return nil, nil, fmt.Errorf("get pty number of %s: %w", ptmxPath, err)
	}
	name := "/dev/pts/" + strconv.FormatUint(uint64(ptyNum), 10)
	peerFd, err := openPeer(masterFd)
	if err != nil {
		return nil, nil, fmt.Errorf("open pty peer %s of %s: %w", name, ptmxPath, err)
	}
	return os.NewFile(uintptr(masterFd), name), os.NewFile(uintptr(peerFd), name), nil
}

// openPeer opens the peer of the pty master masterFd via TIOCGPTPEER.
func openPeer(masterFd int) (int, error) {
	for {
		fd, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(masterFd), unix.TIOCGPTPEER,
			uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return -1, errno
		}
		return int(fd), nil
	}
}

// SetupPeer makes peer the controlling terminal of the calling process and
// installs it as stdin, stdout and stderr. It starts a new session first,
// since only a session leader without a terminal may acquire one; a process
// that is already a session leader (e.g. started with Setsid) is accepted.
// The caller may close peer afterwards: fds 0-2 hold their own references.
func SetupPeer(peer *os.File) error {
	if _, err := unix.Setsid(); err != nil {
		// EPERM means we lead a process group; fine only if we lead a session.
		sid, sidErr := unix.Getsid(0)
		if !errors.Is(err, unix.EPERM) || sidErr != nil || sid != unix.Getpid() {
			return fmt.Errorf("setsid: %w", err)
		}
	}
	conn, err := peer.SyscallConn()
	if err != nil {
		return fmt.Errorf("setup pty peer %s: %w", peer.Name(), err)
	}
	var setupErr error
	if err := conn.Control(func(fd uintptr) {
		setupErr = installPeer(int(fd))
	}); err != nil {
		return fmt.Errorf("setup pty peer %s: %w", peer.Name(), err)
	}
	if setupErr != nil {
		return fmt.Errorf("setup pty peer %s: %w", peer.Name(), setupErr)
	}
	return nil
}

func installPeer(fd int) error {
	// arg 0: do not steal the terminal from another session.
	if err := unix.IoctlSetInt(fd, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("TIOCSCTTY: %w", err)
	}
	for target := 0; target <= 2; target++ {
		if fd == target {
			// dup3 rejects equal fds; just make sure it survives exec.
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
				return fmt.Errorf("clear close-on-exec on fd %d: %w", fd, err)
			}
			continue
		}
		// dup3 without O_CLOEXEC: fds 0-2 must survive the exec of the
		// container's process.
		if err := unix.Dup3(fd, target, 0); err != nil {
			return fmt.Errorf("dup3 onto fd %d: %w", target, err)
		}
	}
	return nil
}

// Resize sets the window size of the pty behind master, in character cells.
func Resize(master *os.File, width, height uint16) error {
	return setWinsize(master, &unix.Winsize{Col: width, Row: height})
}

// ResizeFrom copies the window size of the terminal from (e.g. os.Stdin) to
// the terminal to (e.g. a pty master).
func ResizeFrom(to, from *os.File) error {
	ws, err := getWinsize(from)
	if err != nil {
		return err
	}
	return setWinsize(to, ws)
}

func getWinsize(f *os.File) (*unix.Winsize, error) {
	conn, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("get window size of %s: %w", f.Name(), err)
	}
	var ws *unix.Winsize
	var ioctlErr error
	if err := conn.Control(func(fd uintptr) {
		ws, ioctlErr = unix.IoctlGetWinsize(int(fd), unix.TIOCGWINSZ)
	}); err != nil {
		return nil, fmt.Errorf("get window size of %s: %w", f.Name(), err)
	}
	if ioctlErr != nil {
		return nil, fmt.Errorf("get window size of %s: %w", f.Name(), ioctlErr)
	}
	return ws, nil
}

func setWinsize(f *os.File, ws *unix.Winsize) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("set window size of %s: %w", f.Name(), err)
	}
	var ioctlErr error
	if err := conn.Control(func(fd uintptr) {
		ioctlErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws)
	}); err != nil {
		return fmt.Errorf("set window size of %s: %w", f.Name(), err)
	}
	if ioctlErr != nil {
		return fmt.Errorf("set window size of %s to %dx%d: %w", f.Name(), ws.Col, ws.Row, ioctlErr)
	}
	return nil
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	conn, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var ioctlErr error
	if err := conn.Control(func(fd uintptr) {
		_, ioctlErr = unix.IoctlGetTermios(int(fd), unix.TCGETS)
	}); err != nil {
		return false
	}
	return ioctlErr == nil
}

// ClearONLCR turns off the "\n" to "\r\n" translation of the pty behind
// master (set on the master, it applies to the peer's output), as runc
// does for a terminal it relays in the foreground.
func ClearONLCR(master *os.File) error {
	conn, err := master.SyscallConn()
	if err != nil {
		return fmt.Errorf("clear ONLCR on %s: %w", master.Name(), err)
	}
	var ioctlErr error
	if err := conn.Control(func(fd uintptr) {
		var t *unix.Termios
		if t, ioctlErr = unix.IoctlGetTermios(int(fd), unix.TCGETS); ioctlErr == nil {
			t.Oflag &^= unix.ONLCR
			ioctlErr = unix.IoctlSetTermios(int(fd), unix.TCSETS, t)
		}
	}); err != nil {
		return fmt.Errorf("clear ONLCR on %s: %w", master.Name(), err)
	}
	if ioctlErr != nil {
		return fmt.Errorf("clear ONLCR on %s: %w", master.Name(), ioctlErr)
	}
	return nil
}
