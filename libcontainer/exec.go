package libcontainer

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/caps"
	bcgroups "github.com/berth-runtime/berth/libcontainer/cgroups"
	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/nsenter"
)

// ExecOpts are the inputs of `berth exec`.
type ExecOpts struct {
	// Process is the process to run, already merged with the container's
	// defaults (see ExecDefaults).
	Process *specs.Process
	Stdin   *os.File
	Stdout  *os.File
	Stderr  *os.File
	// ConsoleSocket receives the pty master when Process.Terminal.
	ConsoleSocket *os.File
	// PidfdSocket, a connected unix socket, receives a pidfd of the process.
	PidfdSocket *os.File
	// RelayConsole: berth relays the terminal itself (a foreground exec);
	// the pty then does not turn "\n" into "\r\n", as under runc.
	RelayConsole bool
	// PreserveFds extra fds (from fd 3) are passed to the process.
	PreserveFds int
	// IgnorePaused allows exec into a paused (frozen) container.
	IgnorePaused bool
	// SubCgroups maps a controller ("" for every one) to a sub-cgroup
	// (which must exist) of the container's cgroup to run the process in,
	// relative to it.
	SubCgroups map[string]string
	// ExecWaitFifo, a fifo's path (runc's --exec-wait-fifo): the process,
	// once set up, waits before its execve until a reader opens the fifo,
	// and writes one byte to it; Exec returns before that wait.
	ExecWaitFifo string
	// Signals, when set, gets the signals a foreground exec forwards
	// (ForwardedSignals): registered once the process exists, before it
	// runs its program.
	Signals chan<- os.Signal
}

// ErrExecStopped and ErrExecPaused keep runc's wording, which clients
// match on (the CLI adds the flag that overrides the second).
var (
	ErrExecStopped = fmt.Errorf("cannot exec in a stopped container: %w", ErrNotRunning)
	ErrExecPaused  = errors.New("cannot exec in a paused container")
)

// ExecDefaults fills what an exec process leaves unset from the
// container's own process, as runc does: capabilities, rlimits, the
// AppArmor profile, the SELinux label and oomScoreAdj (runc writes the
// container's to every exec process; one the exec process names itself
// is kept). The container's seccomp filter always applies (it lives in
// linux.seccomp, not in the process).
func (c *Container) ExecDefaults(p *specs.Process) error {
	spec, err := c.state.FullSpec()
	if err != nil {
		return err
	}
	base := spec.Process
	if base == nil {
		return nil
	}
	if p.Capabilities == nil {
		p.Capabilities = base.Capabilities
	}
	if len(p.Rlimits) == 0 {
		p.Rlimits = base.Rlimits
	}
	if p.ApparmorProfile == "" {
		p.ApparmorProfile = base.ApparmorProfile
	}
	if p.SelinuxLabel == "" {
		p.SelinuxLabel = base.SelinuxLabel
	}
	if p.OOMScoreAdj == nil {
		p.OOMScoreAdj = base.OOMScoreAdj
	}
	return nil
}

// ExecProcess is a started exec process.
type ExecProcess struct {
	// Pid is the host pid of the process (already past execve).
	Pid int
	// Direct is true when Pid is berth's own child; otherwise it is a
	// grandchild (the nsenter intermediate forked to enter the pid
	// namespace) and only a subreaper can wait for it.
	Direct bool
}

// Exec starts a new process in a running container: it joins every
// namespace of the container's init and its cgroup, and gets the same
// hardening as init. load loads the container and returns the options:
// Exec calls it while berth's binary is sealed for the process in the
// background. Exec returns once the process has execve'd.
func Exec(load func() (*Container, *ExecOpts, error)) (*ExecProcess, error) {
	seal := ownSeal(nil)
	defer seal.Release()
	c, o, err := load()
	if err != nil {
		return nil, err
	}
	return c.exec(o, seal)
}

func (c *Container) exec(o *ExecOpts, seal *sealOwner) (*ExecProcess, error) {
	if err := configs.ValidateProcess(o.Process); err != nil {
		return nil, err
	}
	caps.Warn(o.Process.Capabilities)
	// Shared: execs run beside each other, not beside a delete, start,
	// pause or update of the container.
	dir, err := c.lockStateHow(unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	defer dir.unlock()
	spec, err := c.state.FullSpec()
	if err != nil {
		return nil, err
	}
	status := c.Status()
	if err := checkExecStatus(status, o.IgnorePaused); err != nil {
		return nil, err
	}
	if o.Process.Terminal && o.ConsoleSocket == nil {
		return nil, errors.New("process.terminal is true but no console socket was given")
	}
	cgPaths, err := execCgroupPaths(c.state.CgroupPaths, o.SubCgroups)
	if err != nil {
		return nil, err
	}
	var waitFifo *os.File
	if o.ExecWaitFifo != "" {
		if waitFifo, err = openExecWaitFifo(o.ExecWaitFifo); err != nil {
			return nil, err
		}
		defer waitFifo.Close()
	}
	stdin, stdout, stderr := o.Stdin, o.Stdout, o.Stderr
	if stdin == nil || stdout == nil || stderr == nil {
		// A terminal process replaces its stdio with the pty; until then
		// it holds /dev/null (the nsenter fork needs real files).
		null, err := os.OpenFile(os.DevNull, os.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		defer null.Close()
		stdin, stdout, stderr = orFile(stdin, null), orFile(stdout, null), orFile(stderr, null)
	}
	// The process gets a parent-death signal until it has execve'd
	// (forkThread).
	fork := newForkThread()
	defer fork.release()
	extra := preservedFiles(o.PreserveFds)
	debug := logrus.IsLevelEnabled(logrus.DebugLevel)
	var direct *nsenter.ExecProgram
	if waitFifo == nil { // the wait is a step of the Go exec process's
		if direct, err = directProgram(spec, o, debug); err != nil { // directexec.go
			return nil, err
		}
		if direct != nil && !c.state.NoNewKeyring {
			direct.Keyring = &nsenter.Keyring{Name: sessionKeyring(c.state.ID)} // keyring.go
		}
	}
	initPid := 0
	if len(o.SubCgroups) == 0 {
		initPid = c.state.InitPid
	}
	place := execPlacement(cgPaths, status == Paused, initPid)
	cloneFD, err := place.beforeClone()
	if err != nil {
		return nil, err
	}
	if cloneFD >= 0 {
		defer unix.Close(cloneFD)
	}
	l := &launch{
		Spec: spec, InitPid: c.state.InitPid,
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		ExtraFiles: extra, Fifo: waitFifo, Console: o.ConsoleSocket, CgroupFD: cloneFD, Seal: seal.Take(),
		OOMScoreAdj: o.Process.OOMScoreAdj, Direct: direct,
	}
	// Every error from here on is the start's, and reads as runc's does.
	proc, err := c.startExec(l, o, fork, place, cloneFD, cgPaths)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", errStartProcess, err)
	}
	if proc.cmd != nil {
		// Reaped by the caller's wait loop (foreground) or reparented.
		proc.cmd.Process.Release()
	}
	if debug {
		if o.ExecWaitFifo != "" {
			logrus.Debugf("exec %s: process %d set up; it runs %q once %s has a reader", c.state.ID, proc.pid, o.Process.Args[0], o.ExecWaitFifo)
		} else {
			logrus.Debugf("exec %s: process %d set up and executed %q", c.state.ID, proc.pid, o.Process.Args[0])
		}
	}
	return &ExecProcess{Pid: proc.pid, Direct: proc.cmd != nil}, nil
}

// startExec starts the exec process l describes, in its cgroup (place),
// and runs its set-up to its execve; a process that fails half-way is
// killed.
func (c *Container) startExec(l *launch, o *ExecOpts, fork *forkThread, place cgroupPlacement, cloneFD int, cgPaths map[string]string) (*started, error) {
	var proc *started
	var err, affinityErr error
	fork.do(func() {
		var restoreCPUs func()
		if restoreCPUs, affinityErr = setInitialCPUAffinity(o.Process.ExecCPUAffinity); affinityErr != nil { // affinity_linux.go
			return
		}
		proc, err = startProcess(l)
		switch {
		case err == nil || cloneFD < 0:
		case len(o.SubCgroups) == 0:
			proc, err = startExecInInitCgroup(l, cgPaths[""], err) // placement.go
		default:
			err = cloneIntoError(cgPaths[""], err)
		}
		restoreCPUs()
	})
	if affinityErr != nil {
		return nil, affinityErr
	}
	if err != nil {
		return nil, err
	}
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("exec %s: process %d started (berth's child: %t), joining the namespaces of init %d; cgroups %v", c.state.ID, proc.pid, proc.cmd != nil, c.state.InitPid, cgPaths)
	}
	if err := joinIntelRdt(l.Spec, c.state.ID, proc.pid); err != nil { // intelrdt_linux.go
		proc.kill()
		return nil, err
	}
	if err := sendPidfd(o.PidfdSocket, proc.pid); err != nil { // pidfd_linux.go
		proc.kill()
		return nil, err
	}
	// Signals are registered while the process's runtime starts.
	notifyLater(o.Signals).wait()
	x := &execution{c: c, o: o, proc: proc, place: place}
	run := x.runDirect
	if proc.direct == nil {
		x.r = &runtimeEnd{syncConn: proc.conn, who: "exec process"}
		run = x.run
	}
	if err := run(); err != nil {
		proc.kill()
		return nil, err
	}
	return proc, nil
}

func checkExecStatus(status Status, ignorePaused bool) error {
	switch status {
	case Stopped, Creating:
		return ErrExecStopped
	case Paused:
		if !ignorePaused {
			return ErrExecPaused
		}
	}
	return nil
}

// execution is the runtime's side of one exec process's set-up, from
// its start to its execve.
type execution struct {
	c     *Container
	o     *ExecOpts
	proc  *started
	place cgroupPlacement
	r     *runtimeEnd
	cfg   *initConfig
}

// run places the process in its cgroup (cgroupPlacement) and walks its
// steps (sync.go) up to its execve.
func (x *execution) run() error {
	defer x.proc.conn.Close()
	if err := x.place.afterClone(x.proc.pid); err != nil {
		return err
	}
	x.cfg = x.c.execConfig(x.o, x.place.step())
	for _, s := range x.cfg.Steps {
		if err := x.step(s); err != nil {
			return err
		}
	}
	return x.place.afterExecve(x.proc.pid)
}

// runDirect is run for a direct exec (directexec.go): the same placement,
// the cgroup-join step's files in the go-ahead, then the outcome.
func (x *execution) runDirect() error {
	d := x.proc.direct
	defer d.Close()
	if err := x.place.afterClone(x.proc.pid); err != nil {
		return err
	}
	var tasks []int
	if j, ok := x.place.(*execJoin); ok {
		var err error
		if tasks, err = openCgroupTasks(bcgroups.DistinctDirs(j.paths, false)); err != nil {
			return err
		}
	}
	err := d.Go(tasks)
	closeFds(tasks)
	if err != nil {
		return err
	}
	if err := waitDirect(d); err != nil { // directexec.go
		return err
	}
	return x.place.afterExecve(x.proc.pid)
}

// step is the runtime's side of one step of the process's set-up.
func (x *execution) step(s step) error {
	switch s {
	case stepConfig:
		if err := x.r.sendConfig(x.cfg); err != nil {
			return err
		}
		if logrus.IsLevelEnabled(logrus.DebugLevel) {
			logrus.Debugf("exec %s: config sent to process %d (steps %v)", x.c.state.ID, x.proc.pid, x.cfg.Steps)
		}
	case stepCgroupJoin:
		return x.place.join(x.r, x.proc.pid)
	case stepSeccompFd:
		sc := x.cfg.Spec.Linux.Seccomp
		return x.r.seccompFd(func(fd int) error {
			logrus.Debugf("exec %s: passing the seccomp notify fd of process %d to %s", x.c.state.ID, x.proc.pid, sc.ListenerPath)
			return passSeccompFd(fd, x.proc.pid, sc, *x.cfg.State)
		})
	case stepExecve:
		// EOF: execve succeeded, or the process closed the socket to
		// wait for the reader of its exec wait fifo (exec-wait-fifo).
		return x.r.awaitExecve()
	}
	return nil // the process's own work
}

// openExecWaitFifo opens an O_PATH handle of the fifo at path, which the
// exec process reopens for writing (init_linux.go, reopenFifo): opening
// it here neither blocks nor counts as a writer. Anything but a fifo is
// refused, in runc's words.
func openExecWaitFifo(path string) (*os.File, error) {
	f, err := os.OpenFile(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("failed to open exec wait fifo: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("exec wait fifo: stat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFIFO {
		f.Close()
		return nil, fmt.Errorf("exec wait fifo %s is not a fifo", path)
	}
	return f, nil
}

// execConfig builds the config message for an exec process, with the
// plan of its set-up; cgroup is its placement's step.
func (c *Container) execConfig(o *ExecOpts, cgroup step) *initConfig {
	spec := c.state.spec // decoded by Exec
	state := c.specState(Running)
	sc := spec.Linux.Seccomp
	return &initConfig{
		ID: c.state.ID, Bundle: c.state.Bundle, Rootfs: c.state.Rootfs, Exec: true,
		Spec: spec, Process: o.Process, PreserveFds: o.PreserveFds,
		NoNewKeyring: c.state.NoNewKeyring,
		CgroupPaths:  c.state.CgroupPaths,
		UserNS:       configs.HasNamespace(spec, specs.UserNamespace),
		State:        &state,
		ClearONLCR:   o.RelayConsole,
		Steps:        plan(planInput{Exec: true, Cgroup: cgroup, SeccompListener: sc != nil && sc.ListenerPath != "", ExecWait: o.ExecWaitFifo != ""}),
		Debug:        logrus.IsLevelEnabled(logrus.DebugLevel),
	}
}

// execCgroupPaths returns the cgroup directories an exec process joins:
// the container's own (base), with the existing sub-cgroups of sub in
// place of the ones it names. A path for every controller ("" key)
// applies to each of the container's hierarchies; on cgroup v2 the only
// controller name is "".
func execCgroupPaths(base map[string]string, sub map[string]string) (map[string]string, error) {
	paths := maps.Clone(base)
	if paths == nil {
		paths = map[string]string{}
	}
	expanded := maps.Clone(sub)
	if rel, all := sub[""]; all {
		for ctl := range base {
			expanded[ctl] = rel
		}
	}
	for ctl, rel := range expanded {
		dir, ok := base[ctl]
		if !ok {
			if ctl == "" {
				continue // "all" on a v1-only host: expanded above
			}
			return nil, fmt.Errorf("sub-cgroup %s:%s: unknown controller %q: the container has no such cgroup", ctl, rel, ctl)
		}
		// The container's own cgroup or one below it; ".." that climbs
		// out (to the parent, or a sibling sharing the name's prefix) is
		// refused in runc's words.
		p := filepath.Join(dir, rel)
		if p != dir && !strings.HasPrefix(p, dir+"/") {
			return nil, fmt.Errorf("sub-cgroup %s:%s: bad sub cgroup path: %s", ctl, rel, rel)
		}
		if st, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("sub-cgroup %q: adding pid to cgroup %s: %w", rel, p, errors.Unwrap(err))
		} else if !st.IsDir() {
			return nil, fmt.Errorf("sub-cgroup %q: adding pid to cgroup %s: %w", rel, p, unix.ENOTDIR)
		}
		paths[ctl] = p
	}
	return paths, nil
}

func orFile(f, def *os.File) *os.File {
	if f == nil {
		return def
	}
	return f
}
