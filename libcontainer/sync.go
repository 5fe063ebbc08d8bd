package libcontainer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/utils"
	"github.com/berth-runtime/berth/libcontainer/wire"
)

// The runtime ↔ container process protocol. A container process (the init
// of a new container, or an exec process) is set up in the steps below.
// plan gives their order for one process: the runtime computes it once,
// from the config, and sends it in the config (initConfig.Steps); each side
// then walks that list and makes one call per step, the runtime in
// creation.step (create.go) or execution.step (exec.go), the process in
// processSide.step (init_linux.go). The typed calls of each side are the
// methods of runtimeEnd and processEnd at the end of this file. Steps
// marked "local" exchange nothing: they are the process's own work, named
// here so that a container's whole start reads on this page, in order.
//
//	step          direction            frames                        payload, and what happens
//	------------  -------------------  ----------------------------  ----------------------------------------------
//	(start)       before any step                                    process.oomScoreAdj is set as the process
//	                                                                 starts: nsenter writes its own while it is still
//	                                                                 dumpable, or the runtime a cloned one's by pid
//	                                                                 (setOOMScoreAdj): runc's order; see there why
//	config        runtime → process    config                        initConfig, with the network namespace's fd
//	                                                                 (JoinNetNS); the process joins it, checks the
//	                                                                 LSM, becomes root of its user namespace
//	cgroup-join   runtime → process    cgroup-join                   the v1 "tasks" files, opened by the runtime
//	                                                                 once the limits are written; the process
//	                                                                 writes "0" to each (selfJoin, execJoin)
//	rootfs        local (init)         mount-source → mount-source-fd  on demand: {index}; the runtime answers with
//	                                                                 a detached clone of the source, or an error
//	cgroup-ready  runtime → process    cgroup-ready                  none: the runtime moved the process into its
//	                                                                 cgroup (runtimeMoves); it unshares cgroupns.
//	                                                                 Sent while init builds its rootfs, it may
//	                                                                 overtake a mount-source-fd (processEnd keeps it)
//	hooks         process ⇄ runtime    hooks → hooks-done            none: prestart and createRuntime hooks ran in
//	                                                                 the runtime, with init's pid in the state
//	pivot         local (init)                                       createContainer hooks, pivot_root
//	finish        local (init)                                       terminal, hostname, sysctls, read-only paths,
//	                                                                 the program resolved, rlimits
//	enter         local (exec)                                       the container's session keyring, into its
//	                                                                 root, terminal, the program resolved, rlimits
//	seccomp-fd    process ⇄ runtime    seccomp-fd → seccomp-done     the notify fd, which the runtime hands to the
//	                                                                 listener (none: the filter has no notify rule)
//	ready         process → runtime    ready                         none: set up; the runtime saves "created"
//	start         runtime → process    start                         none (`berth run`)
//	start-fifo    `berth start` → init exec.fifo                     (`berth create`) init writes "0" once start
//	                                                                 opens the fifo; the runtime is gone by then
//	exec-wait-    local (exec)                                       (exec --exec-wait-fifo) the process is set up and
//	fifo                                                             closes the socket early: the runtime's execve step
//	                                                                 reads that EOF, and exec returns. It then reopens
//	                                                                 the caller's fifo for writing, which blocks until
//	                                                                 a reader opens it, and writes "0"; errors from
//	                                                                 then on go to the process's stderr
//	execve        process → runtime    EOF | error                   EOF on the close-on-exec socket (or exec.fifo,
//	                                                                 after start-fifo) once execve succeeded
//
// Any frame the process sends may be an "error" frame instead: set-up
// failed, and why; the runtime kills the process and undoes the rest.
// With --debug (initConfig.Debug) the process also sends "log" frames,
// each a line of what it does (the step it enters), at any point before
// ready (or execve, for an exec process); the runtime's reads log them at
// debug level and read on: they belong to no step.
// Where the process gets into its cgroup (which of cgroup-join,
// cgroup-ready or neither is planned) is the placement's choice
// (placement.go). What a process applies to itself before execve without
// the runtime (a new process attribute) belongs in processSide's
// prepareProcess or applyAttrs, or in finalizeAndExec, not in a step.
//
// A direct exec (directexec.go) is an exec process whose set-up the nsenter
// constructor runs in C, from a program the runtime compiles; it walks the
// same exec steps over nsenter's socket, not this one: config is the
// program in nsenter's request, cgroup-join is the go-ahead ('G') that
// carries the "tasks" files, enter and execve are the program's own work,
// and the outcome is EOF or an error report ('X': kind, errno, index;
// nsenter/direct.go has the table), which nsenter returns raw
// (nsenter.DirectFailure) and the runtime words with the very functions
// the Go process fails with (execerr.go; directexec.go maps each kind),
// so its error reads as the Go process's error frame would.
// Configs the program cannot express (a terminal, a user namespace, an
// LSM label, a seccomp listener, process attributes, --debug) keep the Go
// exec process.
// A direct init (directinit.go) is a container's init run the same way:
// the runtime walks init's steps itself, building the rootfs on a thread
// in init's namespaces, and init serves the few requests that thread
// cannot do (nsenter/directinit.go has that protocol); its table maps
// each step above to what replaces it.
//
// Adding a step (the runtime writing a rootless process's uid/gid maps,
// opening idmapped mount sources, moving netDevices into the network
// namespace) -- none of those three needed one: the maps are nsenter's
// own step, idmapped sources come through mount-source, and the devices
// move in the config step -- a step constant and a row above, its place in plan (with a
// case in TestPlan), one method on runtimeEnd and one on processEnd if it
// has frames of its own, and one case in each side's step switch calling
// them. Nothing else orders the steps.
type step string

const (
	stepConfig      step = "config"
	stepCgroupJoin  step = "cgroup-join"
	stepRootfs      step = "rootfs"
	stepCgroupReady step = "cgroup-ready"
	stepHooks       step = "hooks"
	stepPivot       step = "pivot"
	stepFinish      step = "finish"
	stepEnter       step = "enter"
	stepSeccompFd   step = "seccomp-fd"
	stepReady       step = "ready"
	stepStart       step = "start"
	stepStartFifo   step = "start-fifo"
	stepExecWait    step = "exec-wait-fifo"
	stepExecve      step = "execve"
)

// planInput is what of the config decides the steps.
type planInput struct {
	// Exec: an exec process joining a running container, not an init.
	Exec bool
	// Cgroup is the placement's step (cgroupPlacement.step): cgroup-join,
	// cgroup-ready, or none (born in its cgroup, or joining it after
	// execve).
	Cgroup step
	// RuntimeHooks: prestart or createRuntime hooks, which run in the
	// runtime while init waits before pivot_root.
	RuntimeHooks bool
	// ContainerHooks: createContainer hooks, which init runs.
	ContainerHooks bool
	// SeccompListener: the filter has a listener to hand the notify fd.
	SeccompListener bool
	// StartNow (`berth run`): start over the socket, not exec.fifo.
	StartNow bool
	// ExecWait (`exec --exec-wait-fifo`): the exec process waits for a
	// reader of the caller's fifo before its execve.
	ExecWait bool
}

// plan orders the steps of one process's set-up.
func plan(in planInput) []step {
	s := []step{stepConfig}
	if in.Cgroup == stepCgroupJoin {
		s = append(s, stepCgroupJoin)
	}
	if in.Exec {
		s = append(s, stepEnter)
	} else {
		s = append(s, stepRootfs)
		// Hooks must find init in its cgroup; without any, init does the
		// whole rootfs first (nothing of it depends on the cgroup: v1
		// cgroup mounts are binds of its directories, made by path), and
		// the runtime's move overlaps it.
		hooksFirst := in.RuntimeHooks || in.ContainerHooks
		if in.Cgroup == stepCgroupReady && hooksFirst {
			s = append(s, stepCgroupReady)
		}
		if in.RuntimeHooks {
			s = append(s, stepHooks)
		}
		s = append(s, stepPivot, stepFinish)
		if in.Cgroup == stepCgroupReady && !hooksFirst {
			s = append(s, stepCgroupReady)
		}
	}
	if in.SeccompListener {
		s = append(s, stepSeccompFd)
	}
	if !in.Exec {
		s = append(s, stepReady)
		if in.StartNow {
			s = append(s, stepStart)
		} else {
			s = append(s, stepStartFifo)
		}
	} else if in.ExecWait {
		s = append(s, stepExecWait)
	}
	return append(s, stepExecve)
}

// has reports whether steps holds st.
func has(steps []step, st step) bool {
	for _, s := range steps {
		if s == st {
			return true
		}
	}
	return false
}

// The sync protocol runs over a SOCK_STREAM socketpair between the runtime
// (parent) and a container process it is setting up (init or exec). Each
// frame is a 4-byte big-endian length followed by that many bytes encoding
// a syncMsg (encodeSyncMsg: its type and error as strings in package
// wire's encoding, wire.AppendString and wire.CutString, then the payload,
// a value in package wire's encoding). Not JSON: a container process would
// pay encoding/json's first-use set-up (its code, caches and per-type
// tables) for a handful of frames. A frame may carry file descriptors
// (SCM_RIGHTS) on its first byte. Frames above maxSyncFrame are refused:
// the peer is a process we started, but it runs inside an untrusted rootfs
// and must not be able to make the runtime allocate without bound.
const maxSyncFrame = 16 << 20

// maxSyncFds bounds the descriptors one frame carries: the most sent is
// one "tasks" file per cgroup v1 hierarchy.
const maxSyncFds = 32

// Message types: the frames of the steps below. "error" may come instead
// of any frame the container process sends: set-up failed, here is why.
const (
	msgConfig        = "config"          // runtime → process: initConfig
	msgCgroupJoin    = "cgroup-join"     // runtime → process: join these cgroups (fds)
	msgCgroupReady   = "cgroup-ready"    // runtime → process: now in its cgroup
	msgMountSource   = "mount-source"    // process → runtime: open mounts[i]'s source
	msgMountSourceFd = "mount-source-fd" // runtime → process, with the clone or an error
	msgHooks         = "hooks"           // process → runtime: run prestart/createRuntime now
	msgHooksDone     = "hooks-done"      // runtime → process
	msgSeccompFd     = "seccomp-fd"      // process → runtime, with the notify fd
	msgSeccompDone   = "seccomp-done"    // runtime → process
	msgReady         = "ready"           // process → runtime: set up, waiting for start
	msgStart         = "start"           // runtime → process: run the process now (run)
	msgError         = "error"           // process → runtime: set-up failed
	msgLog           = "log"             // process → runtime: a debug line (--debug)
)

type syncMsg struct {
	Type  string
	Error string
	// Shown (with an error): the process also wrote it to its stderr
	// (shownError). On the wire, one byte after the error, in error
	// frames only (they have no payload).
	Shown bool
	// Payload is the step's value in package wire's encoding.
	Payload []byte
}

// encodeSyncMsg is a frame's body: the type and the error, each a string
// in package wire's encoding (wire.AppendString: a uvarint length and the
// bytes, kept as they are), then the payload.
func encodeSyncMsg(m syncMsg) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen64+len(m.Type)+len(m.Error)+len(m.Payload))
	b = wire.AppendString(b, m.Type)
	b = wire.AppendString(b, m.Error)
	if m.Type == msgError {
		shown := byte(0)
		if m.Shown {
			shown = 1
		}
		return append(b, shown)
	}
	return append(b, m.Payload...)
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
func closeFds(fds []int) { utils.CloseFds(fds) }

// send writes one frame, with fds attached (SCM_RIGHTS).
func (c *syncConn) send(typ string, payload any, fds ...int) error {
	m := syncMsg{Type: typ}
	if payload != nil {
		raw, err := wire.Marshal(payload)
		if err != nil {
			return fmt.Errorf("encode %s message: %w", typ, err)
		}
		m.Payload = raw
	}
	return c.sendMsg(m, fds)
}

func (c *syncConn) sendError(err error) error {
	var se *shownError
	return c.sendMsg(syncMsg{Type: msgError, Error: err.Error(), Shown: errors.As(err, &se)}, nil)
}

// shownError is a set-up failure the process has already written to its
// own stderr: an init's failed execve, which the container's user (or a
// client's container log) sees there, as with runc's init.
type shownError struct{ err error }

func (e *shownError) Error() string { return e.err.Error() }
func (e *shownError) Unwrap() error { return e.err }

func (c *syncConn) sendMsg(m syncMsg, fds []int) error {
	frame, err := encodeFrame(encodeSyncMsg(m))
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
	for {
		m, err := c.recvFrame()
		if err != nil || m.Type != msgLog {
			return m, err
		}
		logrus.Debugf("container process: %s", m.Error)
	}
}

// recvFrame reads one frame.
func (c *syncConn) recvFrame() (syncMsg, error) {
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
	var err error
	if m.Type, body, err = wire.CutString(body); err == nil {
		m.Error, body, err = wire.CutString(body)
	}
	if err != nil {
		return syncMsg{}, fmt.Errorf("decode sync message: %w", err)
	}
	if m.Type == msgError {
		if len(body) != 1 || body[0] > 1 {
			return syncMsg{}, errors.New("decode sync message: bad error frame")
		}
		m.Shown, body = body[0] == 1, nil
	}
	if len(body) > 0 {
		m.Payload = body
	}
	switch m.Type {
	case msgConfig, msgCgroupJoin, msgCgroupReady, msgMountSource, msgMountSourceFd,
		msgHooks, msgHooksDone, msgSeccompFd, msgSeccompDone, msgReady, msgStart, msgError, msgLog:
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
	fds, err := utils.ParseRights(oob)
	c.fds = append(c.fds, fds...)
	return err
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
	return m, checkType(m, want)
}

// checkType checks a frame is of type want; an error frame becomes a
// childError.
func checkType(m syncMsg, want string) error {
	if m.Type == msgError {
		return childError(m.Error)
	}
	if m.Type != want {
		return fmt.Errorf("sync: expected %q message, got %q", want, m.Type)
	}
	return nil
}

// childError is an error the container process reported itself.
func childError(msg string) error { return &utils.ChildError{Msg: msg} }

// isChildError reports whether err came from the container process.
func isChildError(err error) bool { return utils.IsChildError(err) }

// runtimeEnd is the runtime's end of a container process's sync socket:
// one call per step that has frames (see the table at the top).
type runtimeEnd struct {
	*syncConn
	// who names the process in errors: "init" or "exec process".
	who string
	// mountSource answers a mount-source request, which comes while the
	// runtime waits for the process's next frame (rootfs step).
	mountSource func(syncMsg) error
}

// await reads the process's next frame, which must be want, answering
// mount-source requests on the way. An error frame becomes a childError.
func (r *runtimeEnd) await(want string) (syncMsg, error) {
	for {
		m, err := r.recv()
		switch {
		case err == io.EOF:
			return m, fmt.Errorf("container %s exited during set-up", r.who)
		case err != nil:
			return m, fmt.Errorf("read from %s: %w", r.who, err)
		case m.Type == msgError:
			return m, childError(m.Error)
		case m.Type == msgMountSource && r.mountSource != nil:
			if err := r.mountSource(m); err != nil {
				return m, err
			}
		case m.Type != want:
			return m, fmt.Errorf("unexpected %q message from %s", m.Type, r.who)
		default:
			return m, nil
		}
	}
}

// failure is the error of a send that failed: the error frame the
// process left in the socket before it died, if there is one, and err
// otherwise: after a failed send to a dead process, its own message says
// what went wrong. It reads only what is there already: a failure on
// this side (say, a cgroup removed under us) leaves a live process
// waiting for its next message, and a blocking read would wait for it
// forever.
func (r *runtimeEnd) failure(err error) error {
	if !r.syncConn.pending() {
		return err
	}
	if _, rerr := r.syncConn.expect(msgReady); isChildError(rerr) {
		return rerr
	}
	return err
}

// sendConfig: config step. fds ride along (the network namespace).
func (r *runtimeEnd) sendConfig(cfg *initConfig, fds ...int) error {
	if err := r.send(msgConfig, cfg, fds...); err != nil {
		return fmt.Errorf("send config to %s: %w", r.who, err)
	}
	return nil
}

// sendCgroupJoin: cgroup-join step, the "tasks" files to join.
func (r *runtimeEnd) sendCgroupJoin(tasks []int) error {
	if err := r.send(msgCgroupJoin, nil, tasks...); err != nil {
		return r.failure(fmt.Errorf("send cgroup to container process: %w", err))
	}
	return nil
}

// sendCgroupReady: cgroup-ready step, once the runtime moved the process.
func (r *runtimeEnd) sendCgroupReady() error {
	if err := r.send(msgCgroupReady, nil); err != nil {
		return r.failure(fmt.Errorf("tell init its cgroup is ready: %w", err))
	}
	return nil
}

// hooks: hooks step; run runs the runtime's hooks between the frames.
func (r *runtimeEnd) hooks(run func() error) error {
	if _, err := r.await(msgHooks); err != nil {
		return err
	}
	if err := run(); err != nil {
		return err
	}
	return r.send(msgHooksDone, nil)
}

// seccompFd: seccomp-fd step; pass hands the notify fd (closed after) to
// the listener; a frame without one (no notify rule) skips it.
func (r *runtimeEnd) seccompFd(pass func(fd int) error) error {
	if _, err := r.await(msgSeccompFd); err != nil {
		return err
	}
	if fds := r.takeFds(); len(fds) > 0 {
		if len(fds) != 1 {
			closeFds(fds)
			return fmt.Errorf("seccomp notify fd: expected one file descriptor, got %d", len(fds))
		}
		err := pass(fds[0])
		unix.Close(fds[0])
		if err != nil {
			return err
		}
	}
	return r.send(msgSeccompDone, nil)
}

// awaitReady: ready step.
func (r *runtimeEnd) awaitReady() error {
	_, err := r.await(msgReady)
	return err
}

// sendStart: start step.
func (r *runtimeEnd) sendStart() error {
	if err := r.send(msgStart, nil); err != nil {
		return r.failure(fmt.Errorf("start container: %w", err))
	}
	return nil
}

// awaitExecve: execve step: EOF once the process's execve succeeded (the
// socket is close-on-exec), or its error.
func (r *runtimeEnd) awaitExecve() error {
	m, err := r.recv()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return fmt.Errorf("read from %s: %w", r.who, err)
	case m.Type == msgError:
		return &utils.ChildError{Msg: m.Error, Shown: m.Shown}
	default:
		return fmt.Errorf("unexpected %q message from %s", m.Type, r.who)
	}
}

// processEnd is the container process's end of the sync socket: one call
// per step that has frames.
type processEnd struct {
	*syncConn
	// cgroupReady: the cgroup-ready frame came early, while a
	// mount-source request of the rootfs step waited for its answer (the
	// runtime sends it as soon as it has moved the process, which it
	// does while the process builds its rootfs).
	cgroupReady bool
	// debug: send log frames (initConfig.Debug).
	debug bool
}

// logf sends a debug line (a log frame; the text rides in its Error
// field) when the runtime asked for them. A failure to send is left to
// the next frame of a step to report.
func (p *processEnd) logf(format string, args ...any) {
	if p.debug {
		_ = p.sendMsg(syncMsg{Type: msgLog, Error: fmt.Sprintf(format, args...)}, nil)
	}
}

// recvConfig: config step. The fds that came with it are returned.
func (p *processEnd) recvConfig() (*initConfig, []int, error) {
	m, err := p.expect(msgConfig)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	fds := p.takeFds()
	var cfg initConfig
	if err := wire.Unmarshal(m.Payload, &cfg); err != nil {
		closeFds(fds)
		return nil, nil, fmt.Errorf("decode config: %w", err)
	}
	return &cfg, fds, nil
}

// recvCgroupJoin: cgroup-join step; the "tasks" files are the caller's.
func (p *processEnd) recvCgroupJoin() ([]int, error) {
	if _, err := p.expect(msgCgroupJoin); err != nil {
		return nil, fmt.Errorf("wait for cgroup: %w", err)
	}
	return p.takeFds(), nil
}

// recvCgroupReady: cgroup-ready step.
func (p *processEnd) recvCgroupReady() error {
	if p.cgroupReady {
		return nil
	}
	_, err := p.expect(msgCgroupReady)
	return err
}

// mountSource: a request of the rootfs step, for mounts[i]'s source.
func (p *processEnd) mountSource(i int) (int, error) {
	if err := p.send(msgMountSource, mountSourceRequest{Index: i}); err != nil {
		return -1, err
	}
	m, err := p.recv()
	if err == nil && m.Type == msgCgroupReady && !p.cgroupReady {
		p.cgroupReady = true
		m, err = p.recv()
	}
	if err == nil {
		err = checkType(m, msgMountSourceFd)
	}
	if err != nil {
		return -1, err
	}
	if m.Error != "" {
		closeFds(p.takeFds())
		return -1, errors.New(m.Error)
	}
	return p.takeFd()
}

// hooks: hooks step; returns once the runtime ran them.
func (p *processEnd) hooks() error {
	if err := p.send(msgHooks, nil); err != nil {
		return err
	}
	_, err := p.expect(msgHooksDone)
	return err
}

// seccompFd: seccomp-fd step; fd < 0 when the filter has no notify rule.
func (p *processEnd) seccompFd(fd int) error {
	var fds []int
	if fd >= 0 {
		fds = []int{fd}
	}
	if err := p.send(msgSeccompFd, nil, fds...); err != nil {
		return err
	}
	_, err := p.expect(msgSeccompDone)
	return err
}

// ready: ready step.
func (p *processEnd) ready() error { return p.send(msgReady, nil) }

// awaitStart: start step.
func (p *processEnd) awaitStart() error {
	if _, err := p.expect(msgStart); err != nil {
		return fmt.Errorf("wait for start: %w", err)
	}
	return nil
}
