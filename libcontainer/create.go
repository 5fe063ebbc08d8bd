package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/caps"
	bcgroups "github.com/berth-runtime/berth/libcontainer/cgroups"
	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/hooks"
	"github.com/berth-runtime/berth/libcontainer/rootfs"
	"github.com/berth-runtime/berth/libcontainer/sdnotify"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// CreateOpts are the inputs of `berth create` / `berth run`.
type CreateOpts struct {
	Root          string
	ID            string
	Bundle        string
	Spec          *specs.Spec
	PidFile       string
	ConsoleSocket *os.File // connected console socket, or nil
	// RelayConsole: berth relays the terminal itself (a foreground run);
	// the pty then does not turn "\n" into "\r\n", as under runc.
	RelayConsole bool
	NoPivot      bool
	NoNewKeyring bool
	PreserveFds  int
	Systemd      bool
	Rootless     bool
	Stdin        *os.File
	Stdout       *os.File
	Stderr       *os.File
	// StartNow (`berth run`) starts the process as soon as it is set up:
	// no exec.fifo, no `start`. Poststart hooks are the caller's
	// (Poststart).
	StartNow bool
	// Signals, when set, gets the signals a foreground run forwards
	// (ForwardedSignals): registered while init sets up, before the
	// process runs its program.
	Signals chan<- os.Signal
	// OrphansToHost (run --no-subreaper): the caller made itself the
	// reaper of the processes the container orphans, which it must be to
	// wait for an init that is not its own child (forked into a pid
	// namespace it joined). When init is its own child, it stops being
	// their reaper before init is told to start, so that none of them
	// comes to it: without a pid namespace of the container's own, they
	// go to the host's reaper, as under runc with the flag.
	OrphansToHost bool
	// BeforeStart (StartNow) runs once init is ready, before it is told
	// to start: a foreground run sizes the terminal it relays then (the
	// pty master came before "ready"), so the program never sees 0x0.
	BeforeStart func() error
	// PidfdSocket, a connected unix socket, receives a pidfd of init.
	PidfdSocket *os.File
	// NotifySocket is the runtime's $NOTIFY_SOCKET: the container gets the
	// sd_notify relay (package sdnotify), which a StartNow create binds at
	// once (ForwardReady then waits on it) and a later start binds itself
	// (StartNotified).
	NotifySocket string
	// ExtraEnv is added to init's environment (replacing the same
	// variables) but not to the saved config, which exec's processes
	// start from: socket activation's LISTEN_FDS and LISTEN_PID.
	ExtraEnv []string
}

// Create makes a container and leaves its init waiting for start (or,
// with StartNow, running). load reads the bundle and returns the
// options: Create calls it while berth's binary is sealed for init in
// the background. On any failure everything made so far is undone: no
// process, cgroup or state directory is left behind.
func Create(load func() (*CreateOpts, error)) (_ *Container, retErr error) {
	seal := ownSeal(nil)
	defer seal.Release()
	o, err := load()
	if err != nil {
		return nil, err
	}
	cr, err := newCreation(o, seal)
	if err != nil {
		return nil, err
	}
	defer func() { cr.finish(retErr) }()
	// init gets a parent-death signal until it is ready (forkThread).
	cr.fork = newForkThread()
	defer cr.fork.release()
	if err := cr.makeHostTree(); err != nil {
		return nil, err
	}
	if err := cr.startInit(); err != nil {
		return nil, cr.startError(err)
	}
	if cr.proc.direct != nil {
		if err := cr.runDirectInit(); err != nil { // directinit.go
			return nil, cr.startError(err)
		}
		return cr.c, nil
	}
	for _, s := range cr.cfg.Steps {
		if err := cr.step(s); err != nil {
			return nil, cr.startError(err)
		}
	}
	return cr.c, nil
}

// A failed start of a container process reads as runc's does, whose
// words its users and their tools know ("unable to start container
// process: error during container init: error mounting ..."): every
// error from the start of the process on is errStartProcess, and one of
// the process's own set-up (a child error, or initSideError) is
// errDuringInit too. What the caller did wrong (an invalid config, an ID
// in use) is reported before any process starts, in its own words.
const (
	errStartProcess = "unable to start container process"
	errDuringInit   = "error during container init"
)

// startError words an error of a container process's start (see above).
func startError(err error) error {
	var side *initSideError
	if isChildError(err) || errors.As(err, &side) {
		return fmt.Errorf("%s: %s: %w", errStartProcess, errDuringInit, err)
	}
	return fmt.Errorf("%s: %w", errStartProcess, err)
}

// errInitOOM is runc's words for a start that failed with an OOM kill in
// the new cgroup: whatever error the runtime met then (init gone, a
// broken pipe), the kill is the cause, and a limit too low for init's
// set-up the likely mistake.
const errInitOOM = "container init was OOM-killed (memory limit too low?)"

// errInitAtLimit is the same diagnosis where the limit failed init's
// allocations without a kill (cgroup v2's memory.events counts an "oom"
// event then): the OOM killer spares a process that still shares the
// runtime's memory, as init does until its exec.
const errInitAtLimit = "container init ran out of memory at its cgroup's limit (memory limit too low?)"

// startError is startError(err), or errInitOOM when the kernel's OOM
// killer struck in the container's cgroup during the start, or
// errInitAtLimit when the limit failed allocations there without a kill.
// The counts are read before finish removes the cgroup; the error they
// replace is kept under --debug, as runc keeps it.
func (cr *creation) startError(err error) error {
	m := cr.cg.mgr
	if m == nil {
		return startError(err)
	}
	why := ""
	if n, cerr := m.OOMKillCount(); cerr == nil && n > 0 {
		why = errInitOOM
	} else if p := m.GetPaths()[""]; p != "" {
		if n, cerr := readMemoryEvent(filepath.Join(p, "memory.events"), "oom"); cerr == nil && n > 0 {
			why = errInitAtLimit
		}
	}
	switch {
	case why == "":
		return startError(err)
	case logrus.IsLevelEnabled(logrus.DebugLevel):
		return fmt.Errorf("%s: %s: %w", errStartProcess, why, err)
	default:
		return fmt.Errorf("%s: %s", errStartProcess, why)
	}
}

// initSideError is an error of init's own set-up that the runtime met
// for a direct init (directinit.go), where a Go init reports the same
// failure itself: both read as errDuringInit.
type initSideError struct{ err error }

func (e *initSideError) Error() string { return e.err.Error() }
func (e *initSideError) Unwrap() error { return e.err }

// creation is the runtime's side of one create, from the validated
// options to init's execve (run) or its wait for start (create).
type creation struct {
	o     *CreateOpts
	c     *Container
	st    *State
	dir   *stateDir
	seal  *sealOwner
	cg    *newCgroup
	place cgroupPlacement
	// netns is the network namespace being made ahead (netnsAhead).
	netns netNS
	// fifo is the O_PATH handle of exec.fifo init waits on (create).
	fifo    *os.File
	cloneFD int
	proc    *started
	r       *runtimeEnd
	cfg     *initConfig
	sigs    *signalsLater
	// mountThread opens the Go init's mount sources (serveMountSource).
	mountThread *nsThread
	// fork is the thread init is forked from (forkThread).
	fork *forkThread
}

// cgroupConfig is the cgroup config of a container made from spec
// (create, restore). The annotations carry the systemd driver's unit
// properties (org.systemd.property.*), which a restored container's
// scope gets as a created one's does.
func cgroupConfig(id string, spec *specs.Spec, systemd, rootless bool) bcgroups.Config {
	cfg := bcgroups.Config{
		ID: id, CgroupsPath: spec.Linux.CgroupsPath, Resources: spec.Linux.Resources,
		Systemd: systemd, Rootless: rootless, Annotations: spec.Annotations,
	}
	if systemd { // the only driver that applies it
		cfg.OwnerUID = cgroupOwner(spec) // userns.go
	}
	return cfg
}

// newCreation validates the options, starts what runs in the background
// (the network namespace), and takes the new container's state
// directory, locked.
func newCreation(o *CreateOpts, seal *sealOwner) (*creation, error) {
	if err := validateCreate(o); err != nil {
		return nil, err
	}
	// The manager itself (on cgroup v1 a walk over every hierarchy) may
	// be made after the clone, but its config is checked now.
	checked, err := bcgroups.Check(cgroupConfig(o.ID, o.Spec, o.Systemd, o.Rootless))
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	cr := &creation{o: o, seal: seal, cloneFD: -1, sigs: notifyLater(o.Signals)}
	// The network namespace is made in the background and sent to init
	// with its config.
	if netnsAhead(o.Spec) {
		cr.netns = newNetNS()
	}
	if cr.dir, err = openStateDir(o.Root, o.ID, true); err != nil {
		cr.closeNetNS()
		return nil, err
	}
	self, _ := readProcStat(os.Getpid())
	cr.st = &State{
		ID: o.ID, Bundle: o.Bundle, Rootfs: configs.RootfsPath(o.Spec, o.Bundle),
		Created: time.Now().UTC(), Status: Creating, Owner: os.Geteuid(),
		CreatorPid: os.Getpid(), CreatorStartTime: self.StartTime,
		Systemd: o.Systemd, Rootless: o.Rootless, NoNewKeyring: o.NoNewKeyring,
	}
	var relay *sdnotify.Relay
	if o.NotifySocket != "" {
		if relay, err = setUpNotify(o, cr.dir.path); err != nil {
			os.RemoveAll(cr.dir.path)
			cr.dir.unlock()
			cr.closeNetNS()
			return nil, err
		}
	}
	cr.st.setSpec(o.Spec)
	cr.c = &Container{root: o.Root, state: cr.st, notify: relay, notifyHost: o.NotifySocket}
	cr.cg = &newCgroup{checked: checked, st: cr.st, dir: cr.dir}
	cr.place = initPlacement(cr.cg, o.Systemd)
	return cr, nil
}

// validateCreate checks what Create is given. The ID is the CLI's to
// check (and ValidateID's): it names the state directory, which
// openStateDir makes under the root, so it is checked once more there.
func validateCreate(o *CreateOpts) error {
	if err := configs.ValidateID(o.ID); err != nil {
		return err
	}
	if err := configs.Validate(o.Spec, o.Bundle); err != nil {
		return err
	}
	if o.NoPivot && !configs.HasNamespace(o.Spec, specs.MountNamespace) {
		// Before anything is made (init refuses it again).
		return configs.ErrNoPivotNoMountNS
	}
	if err := caps.Warn(o.Spec.Process.Capabilities).Grantable(configs.HasNamespace(o.Spec, specs.UserNamespace)); err != nil {
		return err
	}
	if sc := o.Spec.Linux.Seccomp; sc != nil {
		if err := seccomp.Validate(sc); err != nil {
			return fmt.Errorf("seccomp: %w", err)
		}
		if sc.ListenerPath != "" && !seccomp.UsesNotify(sc) {
			// Accepted as runc accepts it (its seccomp-notify.bats runs
			// such a config), but not in silence: the agent gets nothing.
			logrus.Warnf("seccomp listenerPath %s is not used: no rule has %s, so no notify fd is sent", sc.ListenerPath, specs.ActNotify)
		}
		seccomp.SetDefaultFlags(sc)
		if logrus.IsLevelEnabled(logrus.DebugLevel) {
			if f, err := seccomp.FilterFlags(sc); err == nil {
				logrus.Debugf("seccomp filter flags: %d", f)
			}
			if slices.Contains(sc.Flags, seccomp.FlagTsync) {
				logrus.Debug("seccomp: SECCOMP_FILTER_FLAG_TSYNC met without it: the thread that loads the filter is the one that execs the container's program")
			}
		}
	}
	if o.Spec.Process.Terminal && o.ConsoleSocket == nil {
		return errors.New("process.terminal is true but no console socket was given")
	}
	if !o.Spec.Process.Terminal && o.ConsoleSocket != nil {
		return errors.New("a console socket was given but process.terminal is false")
	}
	return nil
}

// startInit makes exec.fifo and what the placement needs first, starts
// init, and (Go init) places it and plans its set-up.
func (cr *creation) startInit() error {
	if !cr.o.StartNow {
		if err := cr.makeFifo(); err != nil {
			return err
		}
	}
	var err error
	if cr.cloneFD, err = cr.place.beforeClone(); err != nil {
		return err
	}
	extra := preservedFiles(cr.o.PreserveFds)
	o := cr.o
	direct, err := directInitProgram(o, cr.initProcess(), logrus.IsLevelEnabled(logrus.DebugLevel)) // directinit.go
	if err != nil {
		return err
	}
	l := &launch{
		Spec: o.Spec, Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr,
		ExtraFiles: extra, Fifo: cr.fifo, Console: o.ConsoleSocket, CgroupFD: cr.cloneFD,
		Seal: cr.seal.Take(), NetNSAhead: cr.netns != nil, OOMScoreAdj: o.Spec.Process.OOMScoreAdj,
		Direct: direct,
	}
	cr.fork.do(func() { cr.proc, err = startProcess(l) })
	if err != nil {
		return err
	}
	if cr.proc.conn != nil {
		cr.r = &runtimeEnd{syncConn: cr.proc.conn, who: "init", mountSource: cr.serveMountSource}
	}
	pst, err := readProcStat(cr.proc.pid)
	if err != nil {
		return fmt.Errorf("init process %d: %w", cr.proc.pid, err)
	}
	cr.st.InitPid, cr.st.InitStartTime = cr.proc.pid, pst.StartTime
	// The binary init runs until execve (see State.InitExe). A rootless
	// runtime may not look at its non-dumpable init's exe: without it,
	// the status rests on exec.fifo alone, as before.
	if cr.st.InitExe, err = exeID(cr.proc.pid); err != nil && !errors.Is(err, unix.EACCES) && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("init process %d: %w", cr.proc.pid, err)
	}
	if cr.proc.direct != nil {
		return nil // runDirectInit places it while its rootfs is built
	}
	return cr.placeInit()
}

// makeHostTree binds the rootfs onto itself in the caller's mount
// namespace when the container has none of its own and has mounts
// (rootfs/nomountns.go), before init exists; finish or delete removes it.
// The bind's mount ID is on record before it is attached: a create killed
// at any point leaves delete what to remove.
func (cr *creation) makeHostTree() error {
	if !rootfs.NeedsHostTree(cr.o.Spec) {
		return nil
	}
	c, err := rootfs.CloneHostTree(cr.st.Rootfs)
	if err != nil {
		return err
	}
	defer c.Close()
	c.Tree.Covers = coveredTrees(cr.o.Root, cr.st.Rootfs, c.Beneath)
	cr.st.HostTree = &c.Tree
	if err := cr.dir.save(cr.st); err != nil {
		return err
	}
	return c.Attach()
}

// coveredTrees is what a HostTree attached on rootfsPath covers when the
// mount there now, beneath, is the HostTree of another container under
// root: that container's tree, then what it covers in turn. Anything else
// beneath (the rootfs's own mount) is not berth's.
func coveredTrees(root, rootfsPath string, beneath rootfs.MountRef) []rootfs.CoveredTree {
	cs, err := List(root)
	if err != nil {
		return nil
	}
	for _, c := range cs {
		if t := c.state.HostTree; t != nil && c.state.Rootfs == rootfsPath && t.MountRef == beneath {
			return append([]rootfs.CoveredTree{{Container: c.state.ID, MountRef: t.MountRef}}, t.Covers...)
		}
	}
	return nil
}

// placeInit is what follows init's clone before its config: the
// placement's part (the cgroup made, the state saved), Intel RDT, the
// pidfd for the caller, and the config itself.
func (cr *creation) placeInit() error {
	o := cr.o
	if err := cr.place.afterClone(cr.proc.pid); err != nil {
		return err
	}
	if err := applyIntelRdt(cr.st, o.Spec, cr.proc.pid); err != nil { // intelrdt_linux.go
		return err
	}
	if cr.st.IntelRdt != nil {
		// What was made is on record before anything else can fail: a
		// create killed from here on leaves delete what to remove.
		if err := cr.dir.save(cr.st); err != nil {
			return err
		}
	}
	if err := sendPidfd(o.PidfdSocket, cr.proc.pid); err != nil { // pidfd_linux.go
		return err
	}
	cr.cfg = cr.initConfig()
	return nil
}

// makeFifo makes exec.fifo before init exists: init opens it as soon as
// it has reported ready, which may be before this process has gone on.
// init gets an O_PATH handle of the fifo alone, which it reopens to
// write: a handle of the state directory (or anything else of the
// host's) in a process of the container would lead out of it.
func (cr *creation) makeFifo() error {
	path := cr.dir.file(fifoFile)
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return fmt.Errorf("create exec fifo: %w", err)
	}
	if err := chownFifoToRoot(path, cr.o.Spec); err != nil {
		return err
	}
	f, err := os.OpenFile(path, unix.O_PATH|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	cr.fifo = f
	return nil
}

// initConfig builds the config message for a new container's init, with
// the plan of its set-up.
func (cr *creation) initConfig() *initConfig {
	o, spec := cr.o, cr.o.Spec
	hookState := cr.c.specState(Creating)
	hookState.Pid = cr.proc.pid
	cfg := &initConfig{
		ID: o.ID, Bundle: o.Bundle, Rootfs: cr.st.Rootfs, Spec: spec, // Process: the spec's
		NoPivot: o.NoPivot, NoNewKeyring: o.NoNewKeyring, PreserveFds: o.PreserveFds,
		CgroupPaths: cr.st.CgroupPaths, CgroupPath: cr.cg.path(),
		ClearONLCR: o.RelayConsole,
		UserNS:     configs.HasNamespace(spec, specs.UserNamespace),
		JoinNetNS:  cr.netns != nil,
		State:      &hookState,
	}
	cfg.Process = withEnv(spec.Process, o.ExtraEnv) // socket.go
	if ns, ok := configs.FindNamespace(spec, specs.CgroupNamespace); ok && ns.Path == "" {
		cfg.CgroupNS = true
	}
	cfg.Debug = logrus.IsLevelEnabled(logrus.DebugLevel)
	cfg.Steps = plan(planInput{
		Cgroup:          cr.place.step(),
		RuntimeHooks:    hasRuntimeHooks(spec),
		ContainerHooks:  len(hooks.List(spec.Hooks, hooks.CreateContainer)) > 0,
		SeccompListener: spec.Linux.Seccomp != nil && spec.Linux.Seccomp.ListenerPath != "",
		StartNow:        o.StartNow,
	})
	return cfg
}

// step is the runtime's side of one step of init's set-up (sync.go).
func (cr *creation) step(s step) error {
	switch s {
	case stepConfig, stepCgroupJoin, stepCgroupReady:
	default:
		// The runtime's part is done; init is at work.
		cr.sigs.start()
	}
	switch s {
	case stepConfig:
		return cr.sendConfig()
	case stepCgroupJoin, stepCgroupReady:
		return cr.place.join(cr.r, cr.proc.pid)
	case stepHooks:
		return cr.r.hooks(cr.runtimeHooks)
	case stepSeccompFd:
		return cr.r.seccompFd(func(fd int) error {
			return passSeccompFd(fd, cr.proc.pid, cr.o.Spec.Linux.Seccomp, *cr.cfg.State)
		})
	case stepReady:
		if err := cr.r.awaitReady(); err != nil {
			return err
		}
		cr.st.Status = Created
		cr.st.CreatorPid, cr.st.CreatorStartTime = 0, 0
		return nil
	case stepStart:
		// Go first; the state and pid file are written while init
		// finishes and execve's.
		cr.sigs.wait()
		cr.orphansToHost()
		if cr.o.BeforeStart != nil {
			if err := cr.o.BeforeStart(); err != nil {
				return err
			}
		}
		if err := cr.r.sendStart(); err != nil {
			return err
		}
		cr.st.Status = Running
		return cr.record()
	case stepStartFifo:
		// `berth start` takes it from here.
		return cr.record()
	case stepExecve:
		if !cr.o.StartNow {
			return nil // start reads the outcome from exec.fifo
		}
		if err := cr.r.awaitExecve(); err != nil {
			return fmt.Errorf("start container: %w", err)
		}
	}
	return nil // init's own work
}

// sendConfig is the config step, with the network namespace made ahead.
// linux.netDevices are moved into the container's network namespace
// before: init's hooks and process find them there (netdevices.go).
func (cr *creation) sendConfig() error {
	aheadFd, err := cr.takeNetNS()
	if err != nil {
		return err
	}
	var fds []int
	if aheadFd >= 0 {
		defer unix.Close(aheadFd)
		fds = []int{aheadFd}
	}
	if err := setUpNetNS(cr.o.Spec, cr.o.Rootless, aheadFd, cr.proc.pid); err != nil {
		return err
	}
	return cr.r.sendConfig(cr.cfg, fds...)
}

// takeNetNS takes the network namespace made ahead (its fd, the
// caller's to close), or -1 when there is none.
func (cr *creation) takeNetNS() (int, error) {
	if cr.netns == nil {
		return -1, nil
	}
	fd, err := cr.netns.wait()
	cr.netns = nil
	if err != nil {
		return -1, err
	}
	return fd, nil
}

// initProcess is the container's process as init runs it: with the
// socket activation environment (socket.go), and without execCPUAffinity,
// which the spec says is not applicable to init (affinity_linux.go).
func (cr *creation) initProcess() *specs.Process {
	p := cr.o.Spec.Process
	if q := withEnv(p, cr.o.ExtraEnv); q != nil {
		p = q
	}
	if p.ExecCPUAffinity != nil {
		q := *p
		q.ExecCPUAffinity = nil
		p = &q
	}
	return p
}

// hasRuntimeHooks: spec has prestart or createRuntime hooks, which run in
// the runtime while init waits before pivot_root (the hooks step).
func hasRuntimeHooks(spec *specs.Spec) bool {
	return len(hooks.List(spec.Hooks, hooks.Prestart))+len(hooks.List(spec.Hooks, hooks.CreateRuntime)) > 0
}

// runtimeHooks runs the prestart and createRuntime hooks (hooks step).
func (cr *creation) runtimeHooks() error {
	for _, kind := range []string{hooks.Prestart, hooks.CreateRuntime} {
		if err := hooks.Run(kind, hooks.List(cr.o.Spec.Hooks, kind), cr.cfg.State); err != nil {
			return err
		}
	}
	return nil
}

// serveMountSource answers init's mount-source requests (rootfs step),
// from a thread in init's mount namespace started on the first one.
func (cr *creation) serveMountSource(m syncMsg) error {
	in := func(f func() error) error {
		if cr.mountThread == nil {
			onlyMount := func(t specs.LinuxNamespaceType) bool { return t == specs.MountNamespace }
			t, err := startNSThreadIn(cr.proc.pid, onlyMount)
			if err != nil {
				return fmt.Errorf("join init's mount namespace: %w", err)
			}
			cr.mountThread = t
		}
		return cr.mountThread.do(f)
	}
	return serveMountSource(cr.proc.conn, cr.o.Spec, cr.o.Bundle, m, in)
}

// record saves the state and writes the pid file.
func (cr *creation) record() error {
	if err := cr.dir.save(cr.st); err != nil {
		return err
	}
	if cr.o.PidFile != "" {
		if err := utils.WriteFileAtomic(cr.o.PidFile, []byte(fmt.Sprint(cr.proc.pid)), 0o644); err != nil {
			return fmt.Errorf("write pid file: %w", err)
		}
	}
	return nil
}

// finish releases what the creation holds; after a failure (err) it
// first undoes everything it made.
func (cr *creation) finish(err error) {
	if cr.mountThread != nil {
		cr.mountThread.close()
	}
	if cr.cloneFD >= 0 {
		unix.Close(cr.cloneFD)
	}
	if cr.fifo != nil {
		cr.fifo.Close()
	}
	if err != nil {
		if cr.proc != nil {
			cr.proc.kill()
		}
		removeIntelRdt(cr.st, cr.o.Spec.Linux.IntelRdt) // what applyIntelRdt made
		if t := cr.st.HostTree; t != nil {
			if rerr := t.Remove(cr.st.Rootfs, cr.c.treeGone); rerr != nil {
				logrus.Warnf("%v", rerr)
			}
		}
		cr.c.closeNotify()
		cr.cg.destroy()
		os.RemoveAll(cr.dir.path)
		// The container is destroyed: its poststop hooks run, as the
		// spec's lifecycle goes on after a failed prestart,
		// createRuntime or createContainer hook (its steps 12 and 13),
		// and as runc does after any failed create.
		cr.c.runPoststop(cr.o.Spec.Hooks)
	} else {
		if cr.proc.conn != nil {
			cr.proc.conn.Close()
		}
		if cr.proc.direct != nil {
			cr.proc.direct.Close()
		}
		if cr.proc.cmd != nil {
			// init stays our child until we exit; it is reparented then.
			cr.proc.cmd.Process.Release()
		}
		cr.c.written = cr.dir.written
	}
	cr.dir.unlock()
	cr.closeNetNS()
}

// orphansToHost is OrphansToHost's step, right before the start.
func (cr *creation) orphansToHost() {
	if cr.o.OrphansToHost && cr.proc.cmd != nil {
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	}
}

// closeNetNS closes a network namespace made ahead and never sent.
func (cr *creation) closeNetNS() {
	if fd, err := cr.takeNetNS(); err == nil && fd >= 0 {
		unix.Close(fd)
	}
}
