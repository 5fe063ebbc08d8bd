//go:build linux

package nsenter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Direct exec: an exec process that the constructor sets up and execve's
// itself (direct_exec.c), so that no Go runtime starts in it. The runtime
// compiles what the Go exec process would do in its enter and execve steps
// into an ExecProgram and sends it in the request; after the pid report:
//
//	runtime -> process  'G' [+ fds]  go on; the fds are the cgroup v1 "tasks"
//	                                 files to join (written "0" and closed)
//	process -> runtime  EOF          execve succeeded
//	                    'X' + u32 kind + i32 errno + u32 index
//	                                 failed; Direct.Wait returns it raw, as a
//	                                 *DirectFailure (kinds: DirectKind)
//
// This package does not word a failure: the runtime does
// (libcontainer/execerr.go), with the functions the Go exec process's own
// set-up fails with, so that both paths fail with the same words. The
// index says which of the program's lists failed: its Rlimits (rlimit),
// its Candidates (exec), what went wrong (protocol: 0 the go-ahead, 1
// too many fds, 2 the socket's close-on-exec), which close-exec step (0
// close_range, 1 opening /proc/self/fd), the capability dropped or
// raised (bounding, ambient); it is 0 otherwise.
//
// Request attributes of the program (direct.h):
//
//	EXEC_FIXED   (16) u32 flags, uid, gid, umask, close_from, last_cap,
//	                  seccomp_flags; u64 bounding, effective, permitted,
//	                  inheritable, ambient
//	EXEC_ARG     (17) one argument, in order (at least one)
//	EXEC_ENV     (18) one environment string, in order
//	EXEC_CAND    (19) one candidate path of the program, in order
//	EXEC_CWD     (20) the working directory
//	EXEC_GROUPS  (21) u32 supplementary gids (possibly none; always sent)
//	EXEC_RLIMIT  (22) u32 resource, u32 0, u64 soft, u64 hard
//	EXEC_SECCOMP (23) the BPF program (struct sock_filter array)
//	EXEC_INIT    (24) u32 init flags (a direct init)
//	EXEC_KEYRING (25) u32 permission bits to add, then the session
//	                  keyring's name (joined, made if missing)
const (
	attrExecFixed   = 16
	attrExecArg     = 17
	attrExecEnv     = 18
	attrExecCand    = 19
	attrExecCwd     = 20
	attrExecGroups  = 21
	attrExecRlimit  = 22
	attrExecSeccomp = 23
	attrExecInit    = 24
	attrExecKeyring = 25

	execFlagCaps    = 1 << 0
	execFlagNNP     = 1 << 1
	execFlagHome    = 1 << 2
	execFlagSlash   = 1 << 3
	execFlagSeccomp = 1 << 4

	initFlagCgroupNS = 1 << 0
	initFlagFifo     = 1 << 1

	msgGo          = 'G'
	msgDirectError = 'X'
)

// DirectKind is the step an 'X' report says failed (direct.h: XK_*, in
// the same order).
type DirectKind uint32

const (
	DirectProtocol DirectKind = iota + 1
	DirectJoinCgroup
	DirectRlimit
	DirectLookupNotFound
	DirectLookupStat
	DirectLookupErr
	DirectLookupPerm
	DirectChdir
	DirectCwdOutside
	DirectGetcwd
	DirectCloseExec
	DirectSeccomp
	DirectBounding
	DirectKeepcapsSet
	DirectKeepcapsClear
	DirectSetgroups
	DirectSetgid
	DirectSetuid
	DirectCapset
	DirectAmbient
	DirectNNP
	DirectExec
	DirectPdeathsig
	DirectCapget
	DirectKeyring
	// DirectStart: the start did not come (index 0: the 'S' message,
	// 1: reopening exec.fifo, 2: writing it).
	DirectStart
	// DirectStdioOwner: the process's stdio could not be made its user's
	// (index: the fd).
	DirectStdioOwner
	// DirectKinds follows the last kind (a new kind goes above it): the
	// runtime's tests word every kind below it.
	DirectKinds
)

// DirectFailure is a direct exec's 'X' report, as the process sent it.
type DirectFailure struct {
	Kind DirectKind
	// Errno is the failed call's errno; 0 when the failure is no call's.
	Errno unix.Errno
	Index uint32
}

// Error is the report's raw form, for a kind the runtime does not word.
func (f *DirectFailure) Error() string {
	s := fmt.Sprintf("direct exec: unknown failure %d (index %d)", f.Kind, f.Index)
	if f.Errno != 0 {
		s += ": " + f.Errno.Error()
	}
	return s
}

// Unwrap is the errno, if any.
func (f *DirectFailure) Unwrap() error {
	if f.Errno == 0 {
		return nil
	}
	return f.Errno
}

// ExecProgram is what a direct exec process applies to itself, in the
// order of the Go exec process's finalizeAndExec.
type ExecProgram struct {
	// Args is the argv; Name (Args[0] as the config gives it) names the
	// program in lookup errors.
	Args []string
	Name string
	// Env is the environment, without duplicates; NeedHome appends HOME
	// from the container's /etc/passwd (or "/").
	Env      []string
	NeedHome bool
	// Candidates are the paths tried in order; Slash: Name has a slash
	// and is the one candidate (its lookup error is reported as is).
	Candidates []string
	Slash      bool
	Cwd        string
	UID, GID   uint32
	Groups     []uint32
	Umask      uint32
	// CloseFrom: descriptors from here on are closed at execve.
	CloseFrom uint32
	// Caps, when set, are applied (bounding set first, the rest after
	// the uid change); LastCap is the kernel's highest capability.
	Caps    *CapMasks
	LastCap uint32
	NNP     bool
	Rlimits []Rlimit
	// Seccomp is the filter's BPF, loaded with SeccompFlags; none if empty.
	Seccomp      []unix.SockFilter
	SeccompFlags uint32
	// Keyring, when set, is the session keyring the process joins.
	Keyring *Keyring
	// Init, when set, makes the program a container's init (a direct
	// init): see Init.
	Init *InitOptions
}

// Keyring is a session keyring to join by name (made if there is none the
// process may search); Search, when not 0, is added to its permissions
// once joined (KEYCTL_SETPERM): a direct init's, so that exec processes
// find it.
type Keyring struct {
	Name   string
	Search uint32
}

// InitOptions are a direct init's: the process serves the runtime's
// requests (JoinNetNS, JoinCgroups, Mount) until GoInit, reports ready
// and waits for its start (Start, or exec.fifo).
type InitOptions struct {
	// CgroupNS: unshare a cgroup namespace once in the cgroups.
	CgroupNS bool
	// Fifo: start is `berth start` opening exec.fifo, whose O_PATH
	// handle the process has at the fd its _BERTH_FIFO_FD names.
	Fifo bool
}

// CapMasks are the capability sets as bit masks.
type CapMasks struct {
	Bounding, Effective, Permitted, Inheritable, Ambient uint64
}

// Rlimit is one limit; Type names it in errors (RLIMIT_NOFILE).
type Rlimit struct {
	Type       string
	Resource   uint32
	Soft, Hard uint64
}

// encode appends the program's attributes.
func (p *ExecProgram) encode(attr func(uint16, ...[]byte) error) error {
	ne := binary.NativeEndian
	var flags uint32
	var caps CapMasks
	if p.Caps != nil {
		flags |= execFlagCaps
		caps = *p.Caps
	}
	if p.NNP {
		flags |= execFlagNNP
	}
	if p.NeedHome {
		flags |= execFlagHome
	}
	if p.Slash {
		flags |= execFlagSlash
	}
	if len(p.Seccomp) > 0 {
		flags |= execFlagSeccomp
	}
	var fixed []byte
	for _, v := range []uint32{flags, p.UID, p.GID, p.Umask, p.CloseFrom, p.LastCap, p.SeccompFlags} {
		fixed = ne.AppendUint32(fixed, v)
	}
	for _, v := range []uint64{caps.Bounding, caps.Effective, caps.Permitted, caps.Inheritable, caps.Ambient} {
		fixed = ne.AppendUint64(fixed, v)
	}
	if err := attr(attrExecFixed, fixed); err != nil {
		return err
	}
	strs := []struct {
		typ  uint16
		list []string
	}{{attrExecArg, p.Args}, {attrExecEnv, p.Env}, {attrExecCand, p.Candidates}, {attrExecCwd, []string{p.Cwd}}}
	for _, s := range strs {
		for _, v := range s.list {
			if err := attr(s.typ, []byte(v)); err != nil {
				return err
			}
		}
	}
	var groups []byte
	for _, g := range p.Groups {
		groups = ne.AppendUint32(groups, g)
	}
	if err := attr(attrExecGroups, groups); err != nil {
		return err
	}
	for _, r := range p.Rlimits {
		b := ne.AppendUint32(nil, r.Resource)
		b = ne.AppendUint32(b, 0)
		b = ne.AppendUint64(b, r.Soft)
		b = ne.AppendUint64(b, r.Hard)
		if err := attr(attrExecRlimit, b); err != nil {
			return err
		}
	}
	if in := p.Init; in != nil {
		var f uint32
		if in.CgroupNS {
			f |= initFlagCgroupNS
		}
		if in.Fifo {
			f |= initFlagFifo
		}
		if err := attr(attrExecInit, ne.AppendUint32(nil, f)); err != nil {
			return err
		}
	}
	if k := p.Keyring; k != nil {
		if err := attr(attrExecKeyring, ne.AppendUint32(nil, k.Search), []byte(k.Name)); err != nil {
			return err
		}
	}
	if len(p.Seccomp) > 0 {
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&p.Seccomp[0])), len(p.Seccomp)*int(unsafe.Sizeof(p.Seccomp[0])))
		if err := attr(attrExecSeccomp, raw); err != nil {
			return err
		}
	}
	return nil
}

// check refuses what the C side would refuse, with the reason.
func (p *ExecProgram) check() error {
	switch {
	case len(p.Args) == 0:
		return errors.New("direct exec: no arguments")
	case len(p.Candidates) == 0 || (p.Slash && len(p.Candidates) != 1):
		return errors.New("direct exec: bad program candidates")
	case p.Cwd == "":
		return errors.New("direct exec: no cwd")
	case p.CloseFrom < 3 || p.Umask > 0o777 || p.LastCap > 63:
		return errors.New("direct exec: bad values")
	case len(p.Seccomp) > bpfMaxInsns:
		return errors.New("direct exec: seccomp filter too long")
	case p.Keyring != nil && (p.Keyring.Name == "" || strings.ContainsRune(p.Keyring.Name, 0)):
		return errors.New("direct exec: bad keyring name")
	}
	return nil
}

// bpfMaxInsns is the kernel's BPF_MAXINSNS.
const bpfMaxInsns = 4096

// ErrProgramTooLarge: the program does not fit in one request; the caller
// starts the Go exec process instead.
var ErrProgramTooLarge = errors.New("direct exec: program too large for one request")

// Direct is a started direct exec process, between its pid report and its
// execve.
type Direct struct {
	Pid    int
	Forked bool
	sock   *os.File
	prog   *ExecProgram
	// mu keeps each request of a direct init with its answer: the
	// runtime's rootfs thread asks for its mounts while the main
	// goroutine may be asking for the cgroup join (directinit.go).
	mu sync.Mutex
}

// DirectRequest is a direct exec's request, encoded: PrepareDirect has
// checked that it fits before anything is started.
type DirectRequest struct {
	msg  []byte
	prog *ExecProgram
}

// PrepareDirect checks and encodes req with prog run by the constructor in
// place of the Go exec process. req may only join namespaces. A program
// that does not fit in one request is ErrProgramTooLarge: the caller
// starts the Go exec process instead, with nothing consumed.
func PrepareDirect(req *Request, prog *ExecProgram) (*DirectRequest, error) {
	if req.Unshare != 0 || len(req.UIDMappings) > 0 || len(req.GIDMappings) > 0 || len(req.TimeOffsets) > 0 {
		return nil, errors.New("nsenter: a direct exec only joins namespaces")
	}
	if err := prog.check(); err != nil {
		return nil, fmt.Errorf("nsenter: %w", err)
	}
	joins, err := resolveJoins(req.Join)
	if err != nil {
		return nil, fmt.Errorf("nsenter: %w", err)
	}
	msg, err := encodeRequestWith(joins, 0, "", req.OOMScoreAdj, false, prog)
	if err != nil {
		return nil, err
	}
	return &DirectRequest{msg: msg, prog: prog}, nil
}

// StartDirect starts cmd as Start does, with PrepareDirect's program in
// place of the Go exec process. The caller places the process, then
// calls Go and Wait, and Close in every case.
func StartDirect(cmd *exec.Cmd, req *DirectRequest) (*Direct, error) {
	if !(isFileOrNil(cmd.Stdin) && isFileOrNil(cmd.Stdout) && isFileOrNil(cmd.Stderr)) {
		return nil, errors.New("nsenter: a direct exec needs *os.File (or nil) stdio")
	}
	// A process cloned into a new pid namespace (a direct init) reports
	// pid 1: it is the clone itself.
	ownPidNS := cmd.SysProcAttr != nil && cmd.SysProcAttr.Cloneflags&unix.CLONE_NEWPID != 0
	pid, forked, sock, err := startKeepIn(cmd, req.msg, nil, true, ownPidNS)
	if err != nil {
		return nil, err
	}
	return &Direct{Pid: pid, Forked: forked, sock: sock, prog: req.prog}, nil
}

// Go lets the process go on; tasks are the cgroup v1 "tasks" files it
// joins first.
func (d *Direct) Go(tasks []int) error {
	var oob []byte
	if len(tasks) > 0 {
		oob = unix.UnixRights(tasks...)
	}
	if err := unix.Sendmsg(int(d.sock.Fd()), []byte{msgGo}, oob, nil, 0); err != nil {
		return fmt.Errorf("direct exec: send go-ahead to process %d: %w", d.Pid, err)
	}
	return nil
}

// Wait returns nil once the process has execve'd its program, or the
// *DirectFailure it reported (or an error reading the report).
func (d *Direct) Wait() error {
	buf := make([]byte, 64)
	n, err := d.sock.Read(buf)
	if err == io.EOF || (err == nil && n == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("direct exec: read the outcome of process %d: %w", d.Pid, err)
	}
	if n != reportSize || buf[0] != msgDirectError {
		return fmt.Errorf("direct exec: bad report from process %d (%d bytes)", d.Pid, n)
	}
	return parseReport(buf[:n]) // directinit.go
}

// Program is the program the process runs, which a *DirectFailure's
// index refers to.
func (d *Direct) Program() *ExecProgram { return d.prog }

// Close releases the socket.
func (d *Direct) Close() error { return d.sock.Close() }
