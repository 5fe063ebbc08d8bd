// Package sdnotify relays systemd's readiness notification (sd_notify(3))
// from a container's process to the notify socket the runtime was started
// with ($NOTIFY_SOCKET), as runc does for a container run as a systemd
// service (Type=notify) or by podman --sdnotify=container.
//
// The container's process cannot reach the host's socket: create binds a
// directory of the container's state directory read-only at /run/notify
// in the container and points the process's NOTIFY_SOCKET at a socket
// there (SetupSpec); run, or start for a created container, binds that
// socket (Listen), waits for a "READY=" line from the container
// (WaitReady) and passes it on to the host with the container's init as
// MAINPID (Notify). runc's order, and its wait: `run -d` and `start`
// return once the container is ready or its init is gone.
package sdnotify

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	// DirInContainer is where the relay's directory is bound.
	DirInContainer = "/run/notify"
	socketName     = "notify.sock"
	dirName        = "notify"
	// barrierTimeout bounds the wait for the host's acknowledgement: a
	// listener that does not know BARRIER=1 never closes the pipe.
	barrierTimeout = 30 * time.Second
)

// Dir is the relay's directory of the container whose state directory
// is stateDir.
func Dir(stateDir string) string { return filepath.Join(stateDir, dirName) }

// SetupSpec makes spec's process find the relay: dir bound read-only at
// DirInContainer and NOTIFY_SOCKET naming the socket there (in place of
// one the config sets).
func SetupSpec(spec *specs.Spec, dir string) {
	spec.Mounts = append(spec.Mounts, specs.Mount{
		Destination: DirInContainer, Source: dir, Type: "bind",
		Options: []string{"bind", "nosuid", "noexec", "nodev", "ro"},
	})
	p := spec.Process
	env := p.Env[:0:0]
	for _, kv := range p.Env {
		if !strings.HasPrefix(kv, "NOTIFY_SOCKET=") {
			env = append(env, kv)
		}
	}
	p.Env = append(env, "NOTIFY_SOCKET="+DirInContainer+"/"+socketName)
}

// MakeDir makes the relay's directory before the container's init binds
// it: a world-readable directory, so that a process of any user in the
// container reaches the socket.
func MakeDir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("notify socket directory: %w", err)
	}
	return nil
}

// Relay is the relay's bound socket.
type Relay struct {
	fd int
}

// Listen binds the relay's socket in dir (MakeDir's). The socket's mode
// is 0777: the container's process may be any user. It is bound through
// the directory's descriptor: a socket's path may not be longer than 107
// bytes, and a state directory named after a 64-character ID under
// containerd's root is longer than that.
func Listen(dir string) (*Relay, error) {
	path := filepath.Join(dir, socketName)
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("notify socket: open %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("notify socket: %w", err)
	}
	// A socket left by an earlier start that failed: bind would refuse.
	_ = unix.Unlinkat(dfd, socketName, 0)
	short := "/proc/self/fd/" + strconv.Itoa(dfd) + "/" + socketName
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: short}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("notify socket: bind %s: %w", path, err)
	}
	if err := unix.Fchmodat(dfd, socketName, 0o777, 0); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("notify socket: chmod %s: %w", path, err)
	}
	return &Relay{fd: fd}, nil
}

// Close closes the socket (its file stays in the state directory, which
// delete removes).
func (r *Relay) Close() error { return unix.Close(r.fd) }

// WaitReady reads what the container's processes send until a line that
// starts with "READY=", and returns that line. It returns nil, nil once
// the process whose pidfd is pidfd has exited and nothing ready came; a
// pidfd of -1 is a process already gone (reaped, or its pid reused):
// only what it sent before is read. The other notifications (STATUS=,
// ...) are not passed on, as under runc.
func (r *Relay) WaitReady(pidfd int) ([]byte, error) {
	buf := make([]byte, 4096)
	exited := pidfd < 0
	for {
		fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
		timeout := -1
		if exited {
			fds, timeout = fds[:1], 0 // what the process sent before it exited
		}
		n, err := unix.Poll(fds, timeout)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("notify socket: poll: %w", err)
		}
		if n == 0 {
			return nil, nil // exited, nothing left
		}
		if !exited && fds[1].Revents != 0 {
			exited = true
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			continue
		}
		m, _, err := unix.Recvfrom(r.fd, buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("notify socket: read: %w", err)
		}
		if line := readyLine(buf[:m]); line != nil {
			return line, nil
		}
	}
}

// readyLine is the first line of a notification that starts with
// "READY=", or nil.
func readyLine(msg []byte) []byte {
	for _, line := range bytes.Split(msg, []byte{'\n'}) {
		if bytes.HasPrefix(line, []byte("READY=")) {
			return append([]byte(nil), line...)
		}
	}
	return nil
}

// Message is what Notify sends the host: the container's init as the
// service's main process, and its readiness.
func Message(ready []byte, pid int) []byte {
	return []byte("MAINPID=" + strconv.Itoa(pid) + "\n" + string(ready) + "\n")
}

// Notify tells the host's notify socket (host: a path, or "@name" for an
// abstract one) that the container whose init is pid is ready, then
// waits for the host to have processed it (sd_notify's BARRIER=1: a
// pipe's write end goes with it, and the host closes it; at most
// barrierTimeout), so that MAINPID is known before `start` returns.
func Notify(host string, ready []byte, pid int) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("notify %s: %w", host, err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrUnix{Name: host}
	if err := unix.Sendmsg(fd, Message(ready, pid), nil, to, 0); err != nil {
		return fmt.Errorf("notify %s: %w", host, err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("notify %s: barrier: %w", host, err)
	}
	defer unix.Close(p[0])
	err = unix.Sendmsg(fd, []byte("BARRIER=1"), unix.UnixRights(p[1]), to, 0)
	unix.Close(p[1])
	if err != nil {
		return fmt.Errorf("notify %s: barrier: %w", host, err)
	}
	return awaitClose(p[0], barrierTimeout)
}

// awaitClose waits until the pipe's read end fd reads EOF (every write
// end closed), or timeout passes: a host that does not know BARRIER=1
// (nothing is lost, it just does not say so).
func awaitClose(fd int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		_, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("notify barrier: poll: %w", err)
		}
		if fds[0].Revents&(unix.POLLHUP|unix.POLLIN) != 0 {
			var b [1]byte
			n, err := unix.Read(fd, b[:])
			if n == 0 && err == nil {
				return nil
			}
			if n > 0 {
				return errors.New("notify barrier: the host wrote to the barrier's pipe")
			}
			if err != nil && !errors.Is(err, unix.EINTR) {
				return fmt.Errorf("notify barrier: %w", err)
			}
		}
	}
}
