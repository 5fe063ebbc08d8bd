//go:build linux

package nsenter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
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
//	                                 failed; Direct.Wait words it as the Go
//	                                 exec process would (DirectError)
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
const (
	attrExecFixed   = 16
	attrExecArg     = 17
	attrExecEnv     = 18
	attrExecCand    = 19
	attrExecCwd     = 20
	attrExecGroups  = 21
	attrExecRlimit  = 22
	attrExecSeccomp = 23

	execFlagCaps    = 1 << 0
	execFlagNNP     = 1 << 1
	execFlagHome    = 1 << 2
	execFlagSlash   = 1 << 3
	execFlagSeccomp = 1 << 4

	msgGo          = 'G'
	msgDirectError = 'X'
)

// Error kinds of an 'X' report (direct.h: XK_*).
const (
	directErrProtocol = iota + 1
	directErrJoinCgroup
	directErrRlimit
	directErrLookupNotFound
	directErrLookupStat
	directErrLookupErr
	directErrLookupPerm
	directErrChdir
	directErrCwdOutside
	directErrGetcwd
	directErrCloseExec
	directErrSeccomp
	directErrBounding
	directErrKeepcapsSet
	directErrKeepcapsClear
	directErrSetgroups
	directErrSetgid
	directErrSetuid
	directErrCapset
	directErrAmbient
	directErrNNP
	directErrExec
	directErrPdeathsig
	directErrCapget
)

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
	msg, err := encodeRequestWith(joins, 0, "", req.OOMScoreAdj, prog)
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
	pid, forked, sock, err := startKeep(cmd, req.msg, nil, true)
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

// Wait returns nil once the process has execve'd its program, or its
// error worded as the Go exec process words it.
func (d *Direct) Wait() error {
	buf := make([]byte, 64)
	n, err := d.sock.Read(buf)
	if err == io.EOF || (err == nil && n == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("direct exec: read the outcome of process %d: %w", d.Pid, err)
	}
	if n != 13 || buf[0] != msgDirectError {
		return fmt.Errorf("direct exec: bad report from process %d (%d bytes)", d.Pid, n)
	}
	ne := binary.NativeEndian
	return d.prog.errorOf(ne.Uint32(buf[1:]), unix.Errno(ne.Uint32(buf[5:])), ne.Uint32(buf[9:]))
}

// Close releases the socket.
func (d *Direct) Close() error { return d.sock.Close() }

// errorOf words a failure as the Go exec process's set-up does
// (init_linux.go), so that both paths fail alike.
func (p *ExecProgram) errorOf(kind uint32, errno unix.Errno, index uint32) error {
	errOr := func(format string, args ...any) error {
		if errno == 0 {
			return fmt.Errorf(format, args...)
		}
		return fmt.Errorf(format+": %w", append(args, errno)...)
	}
	switch kind {
	case directErrJoinCgroup:
		return errOr("join cgroup")
	case directErrRlimit:
		if int(index) >= len(p.Rlimits) {
			break
		}
		r := p.Rlimits[index]
		if errno == unix.EPERM {
			return fmt.Errorf("set rlimit %s (soft %d, hard %d): %w (raising a hard limit needs CAP_SYS_RESOURCE)", r.Type, r.Soft, r.Hard, errno)
		}
		return fmt.Errorf("set rlimit %s (soft %d, hard %d): %w", r.Type, r.Soft, r.Hard, errno)
	case directErrLookupNotFound:
		return &exec.Error{Name: p.Name, Err: exec.ErrNotFound}
	case directErrLookupStat:
		return &exec.Error{Name: p.Name, Err: &fs.PathError{Op: "stat", Path: p.Name, Err: errno}}
	case directErrLookupErr:
		return &exec.Error{Name: p.Name, Err: errno}
	case directErrLookupPerm:
		return &exec.Error{Name: p.Name, Err: fs.ErrPermission}
	case directErrChdir:
		return fmt.Errorf("chdir to cwd %q: %w", p.Cwd, errno)
	case directErrCwdOutside:
		return fmt.Errorf("cwd %q is outside the container root", p.Cwd)
	case directErrGetcwd:
		return fmt.Errorf("getcwd after chdir %q: %w", p.Cwd, errno)
	case directErrCloseExec:
		if index == 0 {
			return fmt.Errorf("close-exec from %d: close_range: %w", p.CloseFrom, errno)
		}
		return fmt.Errorf("close-exec from %d: open /proc/self/fd: %w", p.CloseFrom, errno)
	case directErrSeccomp:
		if errno == unix.EACCES {
			return errors.New("load seccomp filter: seccomp: load filter: permission denied (needs no_new_privs or CAP_SYS_ADMIN)")
		}
		return fmt.Errorf("load seccomp filter: seccomp: load filter (flags %#x): %w", p.SeccompFlags, errno)
	case directErrBounding:
		return fmt.Errorf("capabilities: apply bounding set: %w", errno)
	case directErrCapget:
		return fmt.Errorf("capabilities: %w", errno)
	case directErrKeepcapsSet:
		return fmt.Errorf("set keepcaps: %w", errno)
	case directErrKeepcapsClear:
		return fmt.Errorf("clear keepcaps: %w", errno)
	case directErrSetgroups:
		groups := make([]int, 0, len(p.Groups))
		for _, g := range p.Groups {
			groups = append(groups, int(g))
		}
		return fmt.Errorf("setgroups %v: %w", groups, errno)
	case directErrSetgid:
		return fmt.Errorf("setgid %d: %w", p.GID, errno)
	case directErrSetuid:
		return fmt.Errorf("setuid %d: %w", p.UID, errno)
	case directErrCapset:
		return fmt.Errorf("capabilities: apply: %w", errno)
	case directErrAmbient:
		return fmt.Errorf("capabilities: apply ambient set: %w", errno)
	case directErrNNP:
		return fmt.Errorf("set no_new_privs: %w", errno)
	case directErrExec:
		if int(index) >= len(p.Candidates) {
			break
		}
		return &os.PathError{Op: "exec", Path: p.Candidates[index], Err: errno}
	case directErrPdeathsig:
		return fmt.Errorf("clear parent death signal: %w", errno)
	case directErrProtocol:
		return errOr("direct exec: protocol error %d", index)
	}
	return errOr("direct exec: unknown failure %d (index %d)", kind, index)
}
