// Package libcontainer is berth's core: it creates containers from OCI
// bundles, persists their state per ID, and drives them through the OCI
// lifecycle.
package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	bcgroups "github.com/berth-runtime/berth/libcontainer/cgroups"
	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/hooks"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// Container is one container's persisted state under a state root.
type Container struct {
	root  string
	state *State
	// fresh: state was written by this process (Create) and is current,
	// so lockState need not read it back.
	fresh bool
}

// ID returns the container's ID.
func (c *Container) ID() string { return c.state.ID }

// State returns the persisted state (not the live status).
func (c *Container) State() *State { return c.state }

// Spec returns the container's config (decoded on first use).
func (c *Container) Spec() (*specs.Spec, error) { return c.state.FullSpec() }

// Load reads a container's state without taking its lock: state.json is
// replaced atomically, so a reader sees a whole old or a whole new state.
func Load(root, id string) (*Container, error) {
	if err := configs.ValidateID(id); err != nil {
		return nil, err
	}
	d := &stateDir{path: root + "/" + id}
	s, err := d.load(id)
	if err != nil {
		return nil, err
	}
	return &Container{root: root, state: s}, nil
}

// List returns every container under root, skipping entries that are
// not (or no longer) containers.
func List(root string) ([]*Container, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read state root %s: %w", root, err)
	}
	var out []*Container
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		c, err := Load(root, e.Name())
		if err != nil {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// Status recomputes the container's status from the live system: the
// stored status is never trusted.
func (c *Container) Status() Status {
	s := c.state
	if s.InitPid == 0 {
		if processAlive(s.CreatorPid, s.CreatorStartTime) {
			return Creating
		}
		return Stopped
	}
	if !processAlive(s.InitPid, s.InitStartTime) {
		return Stopped
	}
	if c.frozen() {
		return Paused
	}
	if _, err := os.Lstat(c.dir() + "/" + fifoFile); err == nil {
		return Created
	}
	return Running
}

func (c *Container) dir() string { return c.root + "/" + c.state.ID }

// frozen reads the freezer state straight from the cgroup files: cheap,
// and needs no manager.
func (c *Container) frozen() bool {
	if p, ok := c.state.CgroupPaths["freezer"]; ok {
		data, err := os.ReadFile(p + "/freezer.state")
		return err == nil && strings.TrimSpace(string(data)) == "FROZEN"
	}
	if p, ok := c.state.CgroupPaths[""]; ok {
		data, err := os.ReadFile(p + "/cgroup.freeze")
		return err == nil && strings.TrimSpace(string(data)) == "1"
	}
	return false
}

// OCIState is the state as `berth state` prints it: the OCI fields plus
// runc's extras.
type OCIState struct {
	specs.State
	// Pid is printed even when 0 (stopped), as runc does.
	Pid     int       `json:"pid"`
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner"`
}

// OCIState returns the OCI state with a freshly computed status.
func (c *Container) OCIState() *OCIState {
	st := c.Status()
	s := c.specState(st)
	return &OCIState{State: s, Pid: s.Pid, Rootfs: c.state.Rootfs, Created: c.state.Created, Owner: ""}
}

func (c *Container) specState(st Status) specs.State {
	s := specs.State{
		Version: specs.Version,
		ID:      c.state.ID,
		Status:  specs.ContainerState(st),
		Bundle:  c.state.Bundle,
	}
	if sum, err := c.state.Summary(); err == nil {
		s.Annotations = sum.Annotations
	}
	if st != Stopped {
		s.Pid = c.state.InitPid
	}
	return s
}

// CreateOpts are the inputs of `berth create` / `berth run`.
type CreateOpts struct {
	Root          string
	ID            string
	Bundle        string
	Spec          *specs.Spec
	PidFile       string
	ConsoleSocket *os.File // connected console socket, or nil
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFds   int
	Systemd       bool
	Rootless      bool
	Stdin         *os.File
	Stdout        *os.File
	Stderr        *os.File
	// StartNow (`berth run`) starts the process as soon as it is set up:
	// no exec.fifo, no `start`. Background, when set, runs once the
	// runtime's part of the set-up is done and init is still at work;
	// BeforeStart just before init is told to go. Poststart hooks are
	// the caller's (Poststart).
	StartNow    bool
	Background  func()
	BeforeStart func()
	// Seal, when set, is berth's binary being sealed for init
	// (StartSealing); Create takes it over, used or not.
	Seal Sealing
}

// Create makes a container and leaves its init waiting for start. On any
// failure everything made so far is undone: no process, cgroup or state
// directory is left behind.
func Create(o *CreateOpts) (c *Container, retErr error) {
	// Sealing berth's binary overlaps the set-up below (and, when the
	// caller started it, the reading of the bundle before it).
	seal := OwnSeal(o.Seal)
	defer seal.Release()
	if err := configs.ValidateID(o.ID); err != nil {
		return nil, err
	}
	if err := configs.Validate(o.Spec, o.Bundle); err != nil {
		return nil, err
	}
	if sc := o.Spec.Linux.Seccomp; sc != nil {
		if err := seccomp.Validate(sc); err != nil {
			return nil, fmt.Errorf("seccomp: %w", err)
		}
	}
	if o.Spec.Process.Terminal && o.ConsoleSocket == nil {
		return nil, errors.New("process.terminal is true but no console socket was given (--console-socket)")
	}
	if !o.Spec.Process.Terminal && o.ConsoleSocket != nil {
		return nil, errors.New("--console-socket given but process.terminal is false")
	}
	// The network namespace is made in the background too (netnsAhead)
	// and sent to init with its config.
	var netns netNS
	netnsFd := -1
	if netnsAhead(o.Spec) {
		netns = newNetNS()
		defer func() {
			if netns != nil { // not waited for yet
				if fd, err := netns.wait(); err == nil {
					unix.Close(fd)
				}
			}
			if netnsFd >= 0 {
				unix.Close(netnsFd)
			}
		}()
	}
	cgCfg := bcgroups.Config{
		ID: o.ID, CgroupsPath: o.Spec.Linux.CgroupsPath, Resources: o.Spec.Linux.Resources,
		Systemd: o.Systemd, Rootless: o.Rootless,
	}
	// The manager itself (on cgroup v1 a walk over every hierarchy) may
	// be made after the clone, but its config is checked now.
	cgChecked, err := bcgroups.Check(cgCfg)
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}

	dir, err := openStateDir(o.Root, o.ID, true)
	if err != nil {
		return nil, err
	}
	defer dir.unlock()
	self, _ := readProcStat(os.Getpid())
	st := &State{
		ID: o.ID, Bundle: o.Bundle, Rootfs: configs.RootfsPath(o.Spec, o.Bundle),
		Created: time.Now().UTC(), Status: Creating, Owner: os.Geteuid(),
		CreatorPid: os.Getpid(), CreatorStartTime: self.StartTime,
		Systemd: o.Systemd, Rootless: o.Rootless,
	}
	st.setSpec(o.Spec)
	c = &Container{root: o.Root, state: st}
	var mgr cgroups.Manager
	// newCgroup makes the manager and the cgroup, and with limits also
	// writes them (see setCgroup).
	newCgroup := func(limits bool) error {
		m, err := cgChecked.Manager()
		if err != nil {
			return fmt.Errorf("cgroup: %w", err)
		}
		if err := bcgroups.CheckUnused(m); err != nil { // before mgr is set: a refused cgroup is not ours to remove
			return err
		}
		mgr = m
		if err := mgr.Apply(-1); err != nil {
			return fmt.Errorf("create cgroup: %w", err)
		}
		st.CgroupPaths = maps.Clone(mgr.GetPaths())
		if limits {
			return setCgroup(mgr)
		}
		return nil
	}
	var proc *started
	defer func() {
		if retErr == nil {
			return
		}
		if proc != nil {
			proc.kill()
		}
		if mgr != nil { // nil: never made, nothing created
			if err := mgr.Destroy(); err != nil {
				logrus.Warnf("remove cgroup of %s: %v", o.ID, err)
			}
		}
		os.RemoveAll(dir.path)
	}()
	// exec.fifo exists before init does: init opens it as soon as it has
	// reported ready, which may be before this process has gone on.
	if !o.StartNow {
		if err := unix.Mkfifo(dir.file(fifoFile), 0o600); err != nil {
			return nil, fmt.Errorf("create exec fifo: %w", err)
		}
		if err := chownFifoToRoot(dir.file(fifoFile), o.Spec); err != nil {
			return nil, err
		}
	}
	// Where init joins its cgroup itself, the cgroup is made while init's
	// runtime starts up (the two overlap; init waits for its config,
	// which comes after the limits are written). A cgroup2 fd to clone
	// into must exist before the clone; the systemd manager places init
	// through systemd, from here, after the clone.
	selfJoin, mode := !o.Systemd, bcgroups.Mode()
	early := !selfJoin || mode != bcgroups.ModeV1
	if early {
		if err := newCgroup(true); err != nil {
			return nil, err
		}
	}
	cgfd := -1
	if selfJoin && early {
		if cgfd, err = bcgroups.OpenUnified(mgr); err != nil {
			return nil, fmt.Errorf("open cgroup: %w", err)
		}
		if cgfd >= 0 {
			defer unix.Close(cgfd)
		}
	}
	parentJoins := !selfJoin || (cgfd < 0 && mode == bcgroups.ModeV2)
	// init gets a parent-death signal until it is ready; it fires when
	// the thread that started it exits, so keep this goroutine on one
	// thread until then.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var extra []*os.File
	for i := 0; i < o.PreserveFds; i++ {
		extra = append(extra, os.NewFile(uintptr(3+i), "preserved"))
	}
	proc, err = startProcess(&launch{
		Spec: o.Spec, Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr,
		ExtraFiles: extra, StateDir: dir.path, Console: o.ConsoleSocket, CgroupFD: cgfd,
		Seal: seal.Take(), NetNSAhead: netns != nil,
	})
	if err != nil {
		return nil, err
	}
	if !early {
		// Directories now, limits after the config is on its way: init
		// decodes it meanwhile, and joins only once the limits are set.
		if err := newCgroup(false); err != nil {
			return nil, err
		}
	}
	pst, err := readProcStat(proc.pid)
	if err != nil {
		return nil, fmt.Errorf("init process %d: %w", proc.pid, err)
	}
	cfg := c.initConfig(o, proc, mgr, parentJoins)
	var cfgFds []int
	if netns != nil {
		fd, err := netns.wait()
		netns = nil
		if err != nil {
			return nil, err
		}
		netnsFd = fd
		cfgFds = []int{fd}
		cfg.JoinNetNS = true
	}
	// Config first: where we must move init ourselves, it builds the
	// rootfs meanwhile (see initConfig.WaitCgroup).
	if err := proc.conn.send(msgConfig, cfg, cfgFds...); err != nil {
		return nil, fmt.Errorf("send config to init: %w", err)
	}
	if netnsFd >= 0 {
		unix.Close(netnsFd)
		netnsFd = -1
	}
	if !early {
		if err := setCgroup(mgr); err != nil {
			return nil, err
		}
	}
	if !parentJoins {
		// cgroup v1 hierarchies init joins itself (joinCgroups), through
		// "tasks" files opened here.
		if err := sendCgroupJoin(proc.conn, v1Dirs(st.CgroupPaths)); err != nil {
			return nil, childFailure(proc.conn, err)
		}
	}
	// The state ("creating": no init pid yet) is saved while init builds
	// the rootfs.
	if err := dir.save(st); err != nil {
		return nil, err
	}
	if parentJoins {
		if err := mgr.Apply(proc.pid); err != nil {
			err = fmt.Errorf("add init to cgroup: %w", err)
			if errors.Is(err, unix.ESRCH) { // init died building the rootfs
				err = childFailure(proc.conn, err)
			}
			return nil, err
		}
		if err := proc.conn.send(msgCgroupReady, nil); err != nil {
			return nil, childFailure(proc.conn, fmt.Errorf("tell init its cgroup is ready: %w", err))
		}
	}
	if o.Background != nil {
		o.Background()
	}
	if err := c.serveInit(proc, cfg); err != nil {
		return nil, err
	}
	st.InitPid, st.InitStartTime = proc.pid, pst.StartTime
	st.Status = Created
	st.CreatorPid, st.CreatorStartTime = 0, 0
	if o.StartNow {
		// Go first; the state and pid file are written while init
		// finishes and execve's.
		if o.BeforeStart != nil {
			o.BeforeStart()
		}
		if err := proc.conn.send(msgStart, nil); err != nil {
			return nil, childFailure(proc.conn, fmt.Errorf("start container: %w", err))
		}
		st.Status = Running
	}
	if err := dir.save(st); err != nil {
		return nil, err
	}
	if o.PidFile != "" {
		if err := utils.WriteFileAtomic(o.PidFile, []byte(fmt.Sprint(proc.pid)), 0o644); err != nil {
			return nil, fmt.Errorf("write pid file: %w", err)
		}
	}
	if o.StartNow {
		if err := waitExec(proc.conn); err != nil {
			return nil, fmt.Errorf("start container: %w", err)
		}
	}
	proc.conn.Close()
	if proc.cmd != nil {
		// init stays our child until we exit; it is reparented then.
		proc.cmd.Process.Release()
	}
	c.fresh = true
	return c, nil
}

// waitExec waits for a released process's outcome on the sync socket:
// EOF once its execve succeeded (the socket is close-on-exec), or the
// error it sends.
func waitExec(conn *syncConn) error {
	m, err := conn.recv()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return fmt.Errorf("read from container process: %w", err)
	case m.Type == msgError:
		return errors.New(m.Error)
	default:
		return fmt.Errorf("unexpected %q message from container process", m.Type)
	}
}

// childFailure returns the error frame a container process left in the
// sync socket before it died, if there is one, and err otherwise: after
// a failed send to a dead process, its own message says what went wrong.
func childFailure(conn *syncConn, err error) error {
	if _, rerr := conn.expect(msgReady); isChildError(rerr) {
		return rerr
	}
	return err
}

func fileFds(files []*os.File) []int {
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	return fds
}

// v1Dirs lists the cgroup v1 directories among a manager's paths ("" is
// the cgroup2 one), each once (co-mounted controllers share one).
func v1Dirs(paths map[string]string) []string {
	var dirs []string
	seen := map[string]bool{}
	for key, dir := range paths {
		if key == "" || seen[dir] {
			continue
		}
		seen[dir] = true
		dirs = append(dirs, dir)
	}
	sort.Strings(dirs)
	return dirs
}

// setCgroup writes the container's limits to its cgroup.
func setCgroup(mgr cgroups.Manager) error {
	if err := bcgroups.SetResources(mgr); err != nil {
		return fmt.Errorf("set cgroup resources: %w", err)
	}
	return nil
}

// sendCgroupJoin sends the process the "tasks" files of its cgroup v1
// directories (none on a v2 host), opened here: it may already be in
// namespaces where the host's cgroup tree is out of sight and reach, and
// the kernel checks a v1 migration against the opener.
func sendCgroupJoin(conn *syncConn, dirs []string) error {
	tasks, err := openCgroupTasks(dirs)
	if err != nil {
		return err
	}
	defer closeFiles(tasks)
	if err := conn.send(msgCgroupJoin, nil, fileFds(tasks)...); err != nil {
		return fmt.Errorf("send cgroup to container process: %w", err)
	}
	return nil
}

// initConfig builds the config message for a new container's init.
// waitCgroup: the runtime moves init into its cgroup after the config
// (initConfig.WaitCgroup).
func (c *Container) initConfig(o *CreateOpts, proc *started, mgr cgroups.Manager, waitCgroup bool) *initConfig {
	spec := o.Spec
	hookState := c.specState(Creating)
	hookState.Pid = proc.pid
	runtimeHooks := len(hooks.List(spec.Hooks, hooks.Prestart))+len(hooks.List(spec.Hooks, hooks.CreateRuntime)) > 0
	cgPath := ""
	if cg, _ := mgr.GetCgroups(); cg != nil {
		cgPath = cg.Path
	}
	cfg := &initConfig{
		ID: o.ID, Bundle: o.Bundle, Rootfs: c.state.Rootfs, Spec: spec, // Process: the spec's
		NoPivot: o.NoPivot, NoNewKeyring: o.NoNewKeyring, PreserveFds: o.PreserveFds,
		CgroupPaths: c.state.CgroupPaths, CgroupPath: cgPath,
		WaitCgroup:     waitCgroup,
		StartNow:       o.StartNow,
		CgroupWaitLate: !runtimeHooks && len(hooks.List(spec.Hooks, hooks.CreateContainer)) == 0,
		UserNS:         configs.HasNamespace(spec, specs.UserNamespace),
		RuntimeHooks:   runtimeHooks,
		State:          &hookState,
	}
	if ns, ok := configs.FindNamespace(spec, specs.CgroupNamespace); ok && ns.Path == "" {
		cfg.CgroupNS = true
	}
	if sc := spec.Linux.Seccomp; sc != nil && sc.ListenerPath != "" {
		cfg.SeccompToParent = true
	}
	return cfg
}

// serveInit serves init's requests until it reports ready.
func (c *Container) serveInit(proc *started, cfg *initConfig) error {
	spec := cfg.Spec
	hookState := *cfg.State
	for {
		m, err := proc.conn.recv()
		if err != nil {
			if err == io.EOF {
				return errors.New("container init exited during set-up")
			}
			return fmt.Errorf("read from init: %w", err)
		}
		switch m.Type {
		case msgError:
			return errors.New(m.Error)
		case msgHooks:
			for _, kind := range []string{hooks.Prestart, hooks.CreateRuntime} {
				if err := hooks.Run(kind, hooks.List(spec.Hooks, kind), &hookState); err != nil {
					return err
				}
			}
			if err := proc.conn.send(msgHooksDone, nil); err != nil {
				return err
			}
		case msgSeccompFd:
			if err := passSeccompFd(proc, spec.Linux.Seccomp, hookState); err != nil {
				return err
			}
		case msgReady:
			return nil
		default:
			return fmt.Errorf("unexpected %q message from init", m.Type)
		}
	}
}

// lockState takes the container's lock and re-reads its state under it:
// a command loads the state without the lock, and another may have
// changed it since. A state this process wrote itself (fresh) is current.
func (c *Container) lockState() (*stateDir, error) {
	dir, err := openStateDir(c.root, c.state.ID, false)
	if err != nil {
		return nil, err
	}
	if !c.fresh {
		if s, err := dir.load(c.state.ID); err == nil {
			c.state = s
		}
	}
	return dir, nil
}

// passSeccompFd hands the seccomp notify fd a container process sent
// (msgSeccompFd) to the filter's listener, with the container's state,
// and tells the process it may go on.
func passSeccompFd(proc *started, sc *specs.LinuxSeccomp, state specs.State) error {
	fd, err := proc.conn.takeFd()
	if err != nil {
		return fmt.Errorf("seccomp notify fd: %w", err)
	}
	err = seccomp.SendToListener(sc.ListenerPath, fd, &specs.ContainerProcessState{
		Version: specs.Version, Fds: []string{specs.SeccompFdName}, Pid: proc.pid,
		Metadata: sc.ListenerMetadata, State: state,
	})
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("seccomp listener %s: %w", sc.ListenerPath, err)
	}
	return proc.conn.send(msgSeccompDone, nil)
}

// Start releases a created container's init and runs the poststart hooks.
func (c *Container) Start() error {
	dir, err := c.lockState()
	if err != nil {
		return err
	}
	defer dir.unlock()
	switch st := c.Status(); st {
	case Created:
	case Stopped:
		return errors.New("cannot start a container that has stopped")
	default:
		return fmt.Errorf("cannot start an already %s container", st)
	}
	if err := c.releaseInit(dir); err != nil {
		return err
	}
	// No state write: the stored status is informational and every load
	// recomputes "running" from the live process and the gone exec.fifo.
	return c.Poststart()
}

// Poststart runs the poststart hooks of a container just started (Start
// does; after Create with StartNow the caller does). The spec: a failed
// poststart hook stops the container.
func (c *Container) Poststart() error {
	sum, err := c.state.Summary()
	if err != nil {
		return err
	}
	if hs := hooks.List(sum.Hooks, hooks.Poststart); len(hs) > 0 {
		state := c.specState(Running)
		if err := hooks.Run(hooks.Poststart, hs, &state); err != nil {
			c.signalInit(unix.SIGKILL)
			return err
		}
	}
	return nil
}

// releaseInit opens exec.fifo for reading, which lets init's blocked open
// for writing return. init writes one byte and then either execve's
// (closing its close-on-exec end: we read EOF) or writes an error.
func (c *Container) releaseInit(dir *stateDir) error {
	path := dir.file(fifoFile)
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, 64<<10))
		done <- result{data, err}
	}()
	// If init dies before opening its end, the open above blocks forever:
	// watch init while waiting.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r := <-done:
			os.Remove(path)
			if r.err != nil {
				return fmt.Errorf("open exec fifo: %w", r.err)
			}
			msg := strings.TrimPrefix(string(r.data), "0")
			if len(r.data) == 0 {
				return errors.New("container init exited before start")
			}
			if msg != "" {
				return fmt.Errorf("start container: %s", msg)
			}
			return nil
		case <-tick.C:
			if !processAlive(c.state.InitPid, c.state.InitStartTime) {
				os.Remove(path)
				return errors.New("container init exited before start")
			}
		}
	}
}

// Signal sends sig to the container's init, or with all to every process
// in its cgroup.
func (c *Container) Signal(sig unix.Signal, all bool) error {
	if done, err := c.signalCgroup(sig, all); done { // SIGKILLs that must reach the whole cgroup (cgkill.go)
		return err
	}
	if all {
		return c.signalAll(sig)
	}
	if st := c.Status(); st == Stopped || st == Creating {
		return ErrNotRunning
	}
	return c.signalInit(sig)
}

// signalInit signals init through a pidfd, checked against the stored
// start time, so a recycled pid is never hit.
func (c *Container) signalInit(sig unix.Signal) error {
	pidfd, err := unix.PidfdOpen(c.state.InitPid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return ErrNotRunning
		}
		return fmt.Errorf("pidfd_open %d: %w", c.state.InitPid, err)
	}
	defer unix.Close(pidfd)
	if !processAlive(c.state.InitPid, c.state.InitStartTime) {
		return ErrNotRunning
	}
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return ErrNotRunning
		}
		return fmt.Errorf("signal %d: %w", c.state.InitPid, err)
	}
	return nil
}

func (c *Container) manager() (cgroups.Manager, error) {
	sum, err := c.state.Summary()
	if err != nil {
		return nil, err
	}
	return bcgroups.Load(bcgroups.Config{
		ID: c.state.ID, CgroupsPath: sum.CgroupsPath(),
		Systemd: c.state.Systemd, Rootless: c.state.Rootless,
	}, c.state.CgroupPaths)
}

// signalAll signals every process in the container's cgroup. A frozen
// cgroup is thawed after SIGKILL so the processes can die.
func (c *Container) signalAll(sig unix.Signal) error {
	if len(c.state.CgroupPaths) == 0 {
		return c.signalInit(sig)
	}
	mgr, err := c.manager()
	if err != nil {
		return err
	}
	pids, err := mgr.GetAllPids()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("list cgroup processes: %w", err)
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signal %d: %w", pid, err)
		}
	}
	if sig == unix.SIGKILL && c.frozen() {
		if err := mgr.Freeze(cgroups.Thawed); err != nil {
			return fmt.Errorf("thaw cgroup: %w", err)
		}
	}
	return nil
}

// Destroy removes a stopped container, or with force any container
// (killing it first). Poststop hooks run last; their failures are
// warnings, as the spec says.
func (c *Container) Destroy(force bool) error {
	dir, err := openStateDir(c.root, c.state.ID, false)
	if err != nil {
		return err
	}
	defer dir.unlock()
	st := c.Status()
	// Like runc, a created container that never started may be deleted
	// without --force: nothing of the user's is running in it yet.
	if st != Stopped {
		if !force && st != Created {
			return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.state.ID, st)
		}
		if err := c.killAndWait(); err != nil {
			return err
		}
	}
	if len(c.state.CgroupPaths) > 0 {
		mgr, err := c.manager()
		if err != nil {
			return err
		}
		if err := destroyCgroup(mgr); err != nil {
			return fmt.Errorf("remove cgroup: %w", err)
		}
	}
	if err := dir.remove(); err != nil {
		return fmt.Errorf("remove state directory: %w", err)
	}
	if sum, err := c.state.Summary(); err == nil && c.state.InitPid != 0 {
		if hs := hooks.List(sum.Hooks, hooks.Poststop); len(hs) > 0 {
			state := c.specState(Stopped)
			if err := hooks.Run(hooks.Poststop, hs, &state); err != nil {
				logrus.Warnf("%v", err)
			}
		}
	}
	return nil
}

// killAndWait SIGKILLs everything in the container and waits until init
// is gone (a zombie counts as gone: here the reaper may take its time).
func (c *Container) killAndWait() error {
	if c.state.InitPid == 0 {
		// Still being created: the creating berth holds init; end it.
		if processAlive(c.state.CreatorPid, c.state.CreatorStartTime) {
			unix.Kill(c.state.CreatorPid, unix.SIGKILL)
		}
		return waitGone(c.state.CreatorPid, c.state.CreatorStartTime)
	}
	if err := c.killCgroup(); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	c.signalInit(unix.SIGKILL)
	if err := waitGone(c.state.InitPid, c.state.InitStartTime); err != nil {
		return fmt.Errorf("container %s: %w", c.state.ID, err)
	}
	return nil
}

// waitGone waits for a process to exit, through its pidfd (readable once
// it has exited) rather than by polling /proc.
func waitGone(pid int, startTime uint64) error {
	deadline := time.Now().Add(10 * time.Second)
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil // already gone
	}
	defer unix.Close(pidfd)
	for processAlive(pid, startTime) {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("process %d did not die after SIGKILL", pid)
		}
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && err != unix.EINTR {
			return fmt.Errorf("wait for process %d: %w", pid, err)
		}
	}
	return nil
}

// MarshalState encodes the `berth state` output.
func (c *Container) MarshalState() ([]byte, error) {
	return json.MarshalIndent(c.OCIState(), "", "  ")
}
