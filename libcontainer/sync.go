package libcontainer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// The sync protocol runs over a SOCK_STREAM socketpair between the runtime
// (parent) and a container process it is setting up (init or exec). Each
// frame is a 4-byte big-endian length followed by that many bytes of JSON
// encoding a syncMsg. A frame may carry file descriptors (SCM_RIGHTS) on its
// first byte. Frames above maxSyncFrame are refused: the peer is a process
// we started, but it runs inside an untrusted rootfs and must not be able
// to make the runtime allocate without bound.
const maxSyncFrame = 16 << 20

// maxSyncFds bounds the descriptors one frame carries: the most sent is
// one "tasks" file per cgroup v1 hierarchy.
const maxSyncFds = 32

// Message types. Each side checks it got the type it expects next.
const (
	msgConfig      = "config"       // parent → child: initConfig
	msgCgroupJoin  = "cgroup-join"  // parent → child: join these cgroups (fds)
	msgCgroupReady = "cgroup-ready" // parent → child: now in its cgroup
	msgHooks       = "hooks"        // child → parent: run prestart/createRuntime now
	msgHooksDone   = "hooks-done"   // parent → child
	msgSeccompFd   = "seccomp-fd"   // child → parent, with the notify fd
	msgSeccompDone = "seccomp-done" // parent → child
	msgConsole     = "console"      // child → parent, with the pty master
	msgReady       = "ready"        // child → parent: set up, waiting for start
	msgStart       = "start"        // parent → child: run the process now (run)
	msgError       = "error"        // child → parent: set-up failed
)

// A bind source init cannot reach from its user namespace: the runtime
// opens it and sends the detached clone (mountsource.go).
const (
	msgMountSource   = "mount-source"    // child → parent: open mounts[i]'s source
	msgMountSourceFd = "mount-source-fd" // parent → child, with the clone or an error
)

type syncMsg struct {
	Type    string          `json:"type"`
	Error   string          `json:"error,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// syncConn is one end of the sync socket.
type syncConn struct {
	f   *os.File
	fds []int // received and not yet taken
}

func newSyncConn(f *os.File) *syncConn { return &syncConn{f: f} }

func (c *syncConn) Close() error {
	closeFds(c.takeFds())
	return c.f.Close()
}

// pending reports whether a read would not block: a message or the peer's
// hang-up is waiting.
func (c *syncConn) pending() bool {
	raw, err := c.f.SyscallConn()
	if err != nil {
		return false
	}
	ready := false
	_ = raw.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		ready = err == nil && n > 0
	})
	return ready
}

// closeFds closes received descriptors nobody took.
func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// send writes one frame, with fds attached (SCM_RIGHTS).
func (c *syncConn) send(typ string, payload any, fds ...int) error {
	m := syncMsg{Type: typ}
	if payload != nil {
		raw, err := json.Marshal(payload)
		if err != nil {
			return fmt.Errorf("encode %s message: %w", typ, err)
		}
		m.Payload = raw
	}
	return c.sendMsg(m, fds)
}

func (c *syncConn) sendError(err error) error {
	return c.sendMsg(syncMsg{Type: msgError, Error: err.Error()}, nil)
}

func (c *syncConn) sendMsg(m syncMsg, fds []int) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", m.Type, err)
	}
	frame, err := encodeFrame(body)
	if err != nil {
		return err
	}
	if len(fds) > maxSyncFds {
		return fmt.Errorf("send %s message: %d descriptors, at most %d", m.Type, len(fds), maxSyncFds)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	raw, err := c.f.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	sent := 0
	cerr := raw.Write(func(s uintptr) bool {
		for sent < len(frame) {
			n, err := unix.SendmsgN(int(s), frame[sent:], oob, nil, 0)
			if err == unix.EAGAIN {
				return false
			}
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				werr = err
				return true
			}
			sent += n
			oob = nil
		}
		return true
	})
	if cerr != nil {
		return fmt.Errorf("send %s message: %w", m.Type, cerr)
	}
	if werr != nil {
		return fmt.Errorf("send %s message: %w", m.Type, werr)
	}
	return nil
}

func encodeFrame(body []byte) ([]byte, error) {
	if len(body) > maxSyncFrame {
		return nil, fmt.Errorf("sync message of %d bytes is larger than %d", len(body), maxSyncFrame)
	}
	frame := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(frame, uint32(len(body)))
	copy(frame[4:], body)
	return frame, nil
}

// recv reads one frame. io.EOF means the peer closed the socket cleanly
// between frames (for a child that is how a successful execve looks: the
// socket is close-on-exec).
func (c *syncConn) recv() (syncMsg, error) {
	var hdr [4]byte
	if err := c.readFull(hdr[:]); err != nil {
		return syncMsg{}, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxSyncFrame {
		return syncMsg{}, fmt.Errorf("sync message of %d bytes is larger than %d", n, maxSyncFrame)
	}
	body := make([]byte, n)
	if err := c.readFull(body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return syncMsg{}, err
	}
	return decodeSyncMsg(body)
}

func decodeSyncMsg(body []byte) (syncMsg, error) {
	var m syncMsg
	if err := json.Unmarshal(body, &m); err != nil {
		return m, fmt.Errorf("decode sync message: %w", err)
	}
	switch m.Type {
	case msgConfig, msgCgroupJoin, msgCgroupReady, msgHooks, msgHooksDone, msgSeccompFd, msgSeccompDone, msgConsole, msgReady, msgStart, msgError:
	case msgMountSource, msgMountSourceFd:
	default:
		return m, fmt.Errorf("decode sync message: unknown type %q", m.Type)
	}
	return m, nil
}

func (c *syncConn) readFull(buf []byte) error {
	raw, err := c.f.SyscallConn()
	if err != nil {
		return err
	}
	got := 0
	oob := make([]byte, unix.CmsgSpace(4*maxSyncFds))
	var rerr error
	cerr := raw.Read(func(s uintptr) bool {
		for got < len(buf) {
			n, oobn, _, _, err := unix.Recvmsg(int(s), buf[got:], oob, unix.MSG_CMSG_CLOEXEC)
			if err == unix.EAGAIN {
				return false
			}
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				rerr = err
				return true
			}
			if oobn > 0 {
				if err := c.takeRights(oob[:oobn]); err != nil {
					rerr = err
					return true
				}
			}
			if n == 0 {
				if got == 0 {
					rerr = io.EOF
				} else {
					rerr = io.ErrUnexpectedEOF
				}
				return true
			}
			got += n
		}
		return true
	})
	if cerr != nil {
		return cerr
	}
	return rerr
}

func (c *syncConn) takeRights(oob []byte) error {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return fmt.Errorf("parse control message: %w", err)
	}
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			return fmt.Errorf("parse SCM_RIGHTS: %w", err)
		}
		c.fds = append(c.fds, fds...)
	}
	return nil
}

// takeFds returns every fd received since the last take.
func (c *syncConn) takeFds() []int {
	fds := c.fds
	c.fds = nil
	return fds
}

// takeFd returns the one fd that arrived with the last frame; any other
// number of fds is an error (and they are closed).
func (c *syncConn) takeFd() (int, error) {
	fds := c.takeFds()
	if len(fds) != 1 {
		closeFds(fds)
		return -1, fmt.Errorf("expected one file descriptor, got %d", len(fds))
	}
	return fds[0], nil
}

// expect reads the next frame and checks its type. A msgError frame
// becomes a Go error carrying the child's message.
func (c *syncConn) expect(want string) (syncMsg, error) {
	m, err := c.recv()
	if err != nil {
		return m, err
	}
	if m.Type == msgError {
		return m, &childError{msg: m.Error}
	}
	if m.Type != want {
		return m, fmt.Errorf("sync: expected %q message, got %q", want, m.Type)
	}
	return m, nil
}

// childError is an error reported by the container process itself.
type childError struct{ msg string }

func (e *childError) Error() string { return e.msg }

// isChildError reports whether err came from the container process.
func isChildError(err error) bool {
	var ce *childError
	return errors.As(err, &ce)
}
