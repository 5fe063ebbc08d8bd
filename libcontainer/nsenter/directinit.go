//go:build linux

package nsenter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// A direct init is a direct exec whose program has InitOptions: a new
// container's init, cloned into its new namespaces, whose rootfs the
// runtime builds on a thread of its own that joins them
// (libcontainer/directinit.go). The process does only what the runtime's
// thread cannot do from outside its pid and cgroup namespaces, on
// request, and then the exec process's program. After the pid report:
//
//	runtime -> process  'N' + fd        join this network namespace (made ahead)
//	                    'J' + fds       join the cgroup v1 "tasks" files, then
//	                                    (CgroupNS) unshare a cgroup namespace
//	                    'M' + fd + u32 flags + source\0 fstype\0 data\0
//	                                    mount(2) that filesystem on fd's directory
//	                    'T' + fd        make the pty peer fd its controlling
//	                                    terminal and its stdio
//	process -> runtime  'O' + i32 errno + u32 index   the answer to each (0: done;
//	                                    'J': index 0 the join, 1 the unshare)
//	runtime -> process  'G'             go on: the rootfs is built
//	process -> runtime  'R'             ready: the program is found, its rlimits
//	                                    set, the parent-death signal cleared;
//	                                    with InitOptions.Fifo, then EOF: the
//	                                    process closed its end
//	runtime -> process  'S'             start (without InitOptions.Fifo; with it,
//	                                    `berth start` opens exec.fifo instead)
//	process -> runtime  EOF | 'X' ...   as a direct exec; after a start through
//	                                    exec.fifo, '\0' + the 'X' report goes to
//	                                    the fifo (FifoFailure reads it back)
//
// An 'X' report may come instead of any answer or of 'R'.

const (
	msgJoinNet  = 'N'
	msgJoinCg   = 'J'
	msgMount    = 'M'
	msgTerminal = 'T'
	msgAnswer   = 'O'
	msgReady    = 'R'
	msgStart    = 'S'
	answerSize  = 9
	reportSize  = 13
	maxMountMsg = 4096
)

// ErrInitGone is a direct init that ended (EOF) without a report.
var ErrInitGone = errors.New("direct init: the process exited during set-up")

// JoinNetNS has the process join the network namespace fd.
func (d *Direct) JoinNetNS(fd int) error {
	_, err := d.request([]byte{msgJoinNet}, []int{fd})
	if err != nil {
		return fmt.Errorf("join network namespace: %w", err)
	}
	return nil
}

// JoinCgroups has the process write "0" to each of the cgroup v1
// "tasks" files tasks and then, with InitOptions.CgroupNS, unshare its
// cgroup namespace. A *CgroupJoinError says which failed.
func (d *Direct) JoinCgroups(tasks []int) error {
	idx, err := d.request([]byte{msgJoinCg}, tasks)
	var errno unix.Errno
	if errors.As(err, &errno) {
		return &CgroupJoinError{Unshare: idx == 1, Errno: errno}
	}
	return err
}

// CgroupJoinError is a failed JoinCgroups: the join, or the unshare of
// the cgroup namespace after it.
type CgroupJoinError struct {
	Unshare bool
	Errno   unix.Errno
}

func (e *CgroupJoinError) Error() string {
	if e.Unshare {
		return "unshare cgroup namespace: " + e.Errno.Error()
	}
	return "join cgroup: " + e.Errno.Error()
}

func (e *CgroupJoinError) Unwrap() error { return e.Errno }

// Mount has the process mount(2) a filesystem on the directory dst (an
// O_PATH fd of the runtime's): the errno of a failed mount is returned
// bare, as unix.Mount's.
func (d *Direct) Mount(source, fstype string, flags uintptr, data string, dst int) error {
	msg := binary.NativeEndian.AppendUint32([]byte{msgMount}, uint32(flags))
	for _, s := range []string{source, fstype, data} {
		msg = append(append(msg, s...), 0)
	}
	if len(msg) > maxMountMsg {
		return fmt.Errorf("mount %s: request too long", fstype)
	}
	_, err := d.request(msg, []int{dst})
	return err
}

// SetTerminal makes the pty peer (named name in errors) the process's
// controlling terminal and its stdio, as console.SetupPeer does for the
// Go init, in the same words.
func (d *Direct) SetTerminal(peer int, name string) error {
	idx, err := d.request([]byte{msgTerminal}, []int{peer})
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return err
	}
	if idx == 0 {
		err = fmt.Errorf("TIOCSCTTY: %w", errno)
	} else {
		err = fmt.Errorf("dup3 onto fd %d: %w", idx-1, errno)
	}
	return fmt.Errorf("setup pty peer %s: %w", name, err)
}

// request sends one request and reads its answer: the answer's index,
// and its errno (a unix.Errno) when the request failed. A report that
// came instead is a *DirectFailure. Requests may come from two
// goroutines at once (Direct.mu).
func (d *Direct) request(msg []byte, fds []int) (uint32, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.send("send to", msg, fds); err != nil {
		return 0, err
	}
	buf, err := d.read()
	if err != nil {
		return 0, err
	}
	if len(buf) != answerSize || buf[0] != msgAnswer {
		return 0, fmt.Errorf("direct init: bad answer from process %d (%d bytes)", d.Pid, len(buf))
	}
	ne := binary.NativeEndian
	errno, idx := unix.Errno(ne.Uint32(buf[1:])), ne.Uint32(buf[5:])
	if errno != 0 {
		return idx, errno
	}
	return idx, nil
}

// read reads one message: an 'X' report becomes its *DirectFailure,
// EOF ErrInitGone.
func (d *Direct) read() ([]byte, error) {
	buf := make([]byte, 64)
	n, err := d.sock.Read(buf)
	if err == io.EOF || (err == nil && n == 0) {
		return nil, ErrInitGone
	}
	if err != nil {
		return nil, fmt.Errorf("direct init: read from process %d: %w", d.Pid, err)
	}
	if buf[0] == msgDirectError {
		return nil, parseReport(buf[:n])
	}
	return buf[:n], nil
}

// send sends msg with fds; after a failure (what: "send X to"), the
// report the process left before it died, if any.
func (d *Direct) send(what string, msg []byte, fds []int) error {
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(int(d.sock.Fd()), msg, oob, nil, 0); err != nil {
		if rerr := d.pendingReport(); rerr != nil {
			return rerr
		}
		return fmt.Errorf("direct init: %s process %d: %w", what, d.Pid, err)
	}
	return nil
}

// pendingReport is the report a process that died left in the socket
// (after a failed send), if any.
func (d *Direct) pendingReport() error {
	buf := make([]byte, 64)
	n, _, err := unix.Recvfrom(int(d.sock.Fd()), buf, unix.MSG_DONTWAIT)
	if err != nil || n == 0 || buf[0] != msgDirectError {
		return nil
	}
	return parseReport(buf[:n])
}

// GoInit lets the process go on once its rootfs is built and waits for
// it to report ready.
func (d *Direct) GoInit() error {
	if err := d.send("send go-ahead to", []byte{msgGo}, nil); err != nil {
		return err
	}
	buf, err := d.read()
	if err != nil {
		return err
	}
	if len(buf) != 1 || buf[0] != msgReady {
		return fmt.Errorf("direct init: bad ready report from process %d (%d bytes)", d.Pid, len(buf))
	}
	if d.prog.Init != nil && d.prog.Init.Fifo {
		// It closes its end to wait on exec.fifo: once create returns,
		// the process holds no handle of the runtime's.
		if _, err := d.read(); !errors.Is(err, ErrInitGone) {
			return fmt.Errorf("direct init: process %d did not close its socket after ready (%v)", d.Pid, err)
		}
	}
	return nil
}

// Start starts a ready process (without InitOptions.Fifo); Wait then
// returns its execve's outcome.
func (d *Direct) Start() error {
	return d.send("send start to", []byte{msgStart}, nil)
}

// parseReport reads an 'X' report.
func parseReport(b []byte) error {
	if len(b) != reportSize || b[0] != msgDirectError {
		return fmt.Errorf("direct exec: bad report (%d bytes)", len(b))
	}
	ne := binary.NativeEndian
	return &DirectFailure{Kind: DirectKind(ne.Uint32(b[1:])), Errno: unix.Errno(ne.Uint32(b[5:])), Index: ne.Uint32(b[9:])}
}

// FifoFailure reads what a direct init wrote to exec.fifo after its
// "0" (data without it): its report after a NUL, which no error text of
// the Go init holds. ok is false when data is not such a report.
func FifoFailure(data []byte) (f *DirectFailure, ok bool) {
	if len(data) != 1+reportSize || data[0] != 0 {
		return nil, false
	}
	err := parseReport(data[1:])
	f, ok = err.(*DirectFailure)
	return f, ok
}
