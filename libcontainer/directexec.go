package libcontainer

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/libcontainer/caps"
	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/lsm"
	"github.com/berth-runtime/berth/libcontainer/nsenter"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// A direct exec is an exec process whose set-up the nsenter constructor
// runs in C from a program the runtime compiles (nsenter/direct.go,
// direct_exec.c): no Go runtime starts in it, which is most of the work
// of an exec. It takes the same steps as the Go exec process (sync.go:
// config, cgroup-join, enter, execve), with the config as the program in
// nsenter's request, cgroup-join as the go-ahead that carries the cgroup
// v1 files, and the outcome as EOF or an error report on nsenter's
// socket. What the program cannot express goes to the Go exec process
// (directBlocker says why), whose set-up is the reference: both apply
// the same things in the same order and fail with the same words, those
// of execerr.go (and of caps, seccomp, utils and os/exec for what they
// do), which directFailureError picks for each kind of report.

// directBlocker returns why the exec process o cannot be a direct exec,
// or "" if it can.
func directBlocker(spec *specs.Spec, p *specs.Process, debug bool) string {
	switch {
	case debug:
		return "--debug (the Go process logs its steps)"
	case p.Terminal:
		return "a terminal"
	case configs.HasNamespace(spec, specs.UserNamespace):
		return "a user namespace"
	case !configs.HasNamespace(spec, specs.MountNamespace):
		return "no mount namespace"
	case spec.Linux.Seccomp != nil && spec.Linux.Seccomp.ListenerPath != "":
		return "a seccomp listener"
	case lsm.RequestOf(spec, p) != lsm.Request{}:
		return "an LSM label"
	case p.IOPriority != nil || p.Scheduler != nil || spec.Linux.MemoryPolicy != nil || spec.Linux.Personality != nil:
		return "a process attribute"
	case p.ExecCPUAffinity != nil:
		return "execCPUAffinity"
	case p.User.UID == 1<<32-1 || p.User.GID == 1<<32-1:
		return "an invalid user"
	case len(p.Args) == 0:
		return "no arguments"
	}
	return ""
}

// directProgram compiles the exec process o into a direct exec's program;
// nil when it cannot be one (the caller starts the Go exec process). An
// error is one the Go exec process would have reported the same way.
func directProgram(spec *specs.Spec, o *ExecOpts, debug bool) (*nsenter.ExecProgram, error) {
	if directBlocker(spec, o.Process, debug) != "" {
		return nil, nil
	}
	return compileProgram(spec, o.Process, o.PreserveFds)
}

// compileProgram compiles the process p of the container spec into a
// direct exec's program (nil when it cannot be one); preserveFds is
// --preserve-fds.
func compileProgram(spec *specs.Spec, p *specs.Process, preserveFds int) (*nsenter.ExecProgram, error) {
	cands, slash := programCandidates(p)
	if len(cands) == 0 {
		return nil, nil
	}
	env, needHome := dedupeEnv(p.Env)
	prog := &nsenter.ExecProgram{
		Args: p.Args, Name: p.Args[0], Env: env, NeedHome: needHome,
		Candidates: cands, Slash: slash, Cwd: p.Cwd,
		UID: p.User.UID, GID: p.User.GID, Groups: p.User.AdditionalGids,
		Umask: 0o022, CloseFrom: uint32(3 + preserveFds), NNP: p.NoNewPrivileges,
	}
	if p.User.Umask != nil {
		// umask(2) keeps only the permission bits, and runc passes the
		// value as it is: the same mask (ValidateProcess warned).
		prog.Umask = *p.User.Umask & 0o777
	}
	for _, r := range p.Rlimits {
		res, err := configs.RlimitResource(r.Type)
		if err != nil {
			return nil, nil // the Go process reports it
		}
		prog.Rlimits = append(prog.Rlimits, nsenter.Rlimit{Type: r.Type, Resource: uint32(res), Soft: r.Soft, Hard: r.Hard})
	}
	// The runtime logged what Parse leaves out (caps.Warn).
	if c, _ := caps.Parse(p.Capabilities); c != nil {
		var m nsenter.CapMasks
		var err error
		m.Bounding, m.Effective, m.Permitted, m.Inheritable, m.Ambient, prog.LastCap, err = c.Masks()
		if err != nil {
			return nil, nil
		}
		prog.Caps = &m
	}
	sc, err := seccomp.Compile(spec.Linux.Seccomp)
	if err != nil {
		return nil, errLoadSeccomp(err)
	}
	insns, flags, listener := sc.BPF()
	if listener {
		return nil, nil
	}
	prog.Seccomp, prog.SeccompFlags = insns, uint32(flags)
	return prog, nil
}

// waitDirect waits for the direct exec d to execve its program, and words
// a failure it reports as the Go exec process's set-up would.
func waitDirect(d *nsenter.Direct) error {
	err := d.Wait()
	var f *nsenter.DirectFailure
	if errors.As(err, &f) {
		return directFailureError(d.Program(), f)
	}
	return err
}

// directFailureError words the report f of a direct exec of p with the Go
// exec process's own errors (execerr.go) for the same step and values;
// the index picks the rlimit or the candidate. A report this does not
// know (a kind unknown here, an index out of range) is returned raw.
func directFailureError(p *nsenter.ExecProgram, f *nsenter.DirectFailure) error {
	errno := f.Errno
	switch f.Kind {
	case nsenter.DirectProtocol:
		if errno == 0 {
			return fmt.Errorf("direct exec: protocol error %d", f.Index)
		}
		return fmt.Errorf("direct exec: protocol error %d: %w", f.Index, errno)
	case nsenter.DirectJoinCgroup:
		return errJoinCgroup(errno)
	case nsenter.DirectPdeathsig:
		return errPdeathsig(errno)
	case nsenter.DirectRlimit:
		if int(f.Index) < len(p.Rlimits) {
			r := p.Rlimits[f.Index]
			return errRlimit(r.Type, r.Soft, r.Hard, errno)
		}
	case nsenter.DirectLookupNotFound:
		return errNotFound(p.Name)
	case nsenter.DirectLookupStat, nsenter.DirectLookupErr, nsenter.DirectLookupPerm:
		return directLookupError(p, f)
	case nsenter.DirectChdir:
		if f.Index == 1 { // a direct init into its new root
			return errChdir("/", errno)
		}
		return errChdir(p.Cwd, errno)
	case nsenter.DirectCwdOutside:
		return errCwdOutside(p.Cwd)
	case nsenter.DirectGetcwd:
		return errGetcwd(p.Cwd, errno)
	case nsenter.DirectCloseExec:
		if f.Index == 0 {
			return utils.CloseRangeError(int(p.CloseFrom), errno)
		}
		return utils.CloseExecDirError(int(p.CloseFrom), &fs.PathError{Op: "open", Path: "/proc/self/fd", Err: errno})
	case nsenter.DirectSeccomp:
		return errLoadSeccomp(seccomp.LoadError(uintptr(p.SeccompFlags), errno))
	case nsenter.DirectCapget:
		return caps.ReadError(errno)
	case nsenter.DirectKeyring:
		return errKeyring(f.Index, errno)
	case nsenter.DirectStart:
		return errStart(f.Index, errno)
	case nsenter.DirectBounding:
		return caps.BoundingError(errno)
	case nsenter.DirectKeepcapsSet:
		return errKeepcapsSet(errno)
	case nsenter.DirectSetgroups:
		return errSetgroups(intGroups(p.Groups), errno)
	case nsenter.DirectSetgid:
		return errSetgid(int(p.GID), errno)
	case nsenter.DirectSetuid:
		return errSetuid(int(p.UID), errno)
	case nsenter.DirectKeepcapsClear:
		return errKeepcapsClear(errno)
	case nsenter.DirectCapset:
		return caps.ApplyError(errno)
	case nsenter.DirectAmbient:
		return caps.AmbientError(errno)
	case nsenter.DirectNNP:
		return errNoNewPrivs(errno)
	case nsenter.DirectStdioOwner:
		return errStdioOwner(int(f.Index), errno)
	case nsenter.DirectExec:
		if int(f.Index) < len(p.Candidates) {
			return errExecve(p.Candidates[f.Index], errno)
		}
	}
	return f
}

// directLookupError is the error exec.LookPath returns for a program path
// with a slash (prepareExec), from what the C lookup (os/exec's
// findExecutable) found: stat failed, a call failed or the file is a
// directory, or no execute bit.
func directLookupError(p *nsenter.ExecProgram, f *nsenter.DirectFailure) error {
	file := p.Candidates[0] // a path with a slash is the one candidate
	var err error = f.Errno
	switch f.Kind {
	case nsenter.DirectLookupStat:
		err = &fs.PathError{Op: "stat", Path: file, Err: f.Errno}
	case nsenter.DirectLookupPerm:
		err = fs.ErrPermission
	}
	return &exec.Error{Name: file, Err: err}
}
