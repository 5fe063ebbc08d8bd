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
	"strings"
	"time"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/caps"
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
	if err := checkRoot(root, false); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errNotExist(id)
		}
		return nil, err
	}
	return loadIn(root, id)
}

func loadIn(root, id string) (*Container, error) {
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
	if err := checkRoot(root, false); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("read state root %s: %w", root, err)
	}
	var out []*Container
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if configs.ValidateID(e.Name()) != nil {
			continue
		}
		c, err := loadIn(root, e.Name())
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
	if s.partial {
		// Its create holds the lock until the first save; a free lock
		// means that create died.
		if (&stateDir{path: c.dir()}).lockHeld() {
			return Creating
		}
		return Stopped
	}
	if s.CreatorPid != 0 {
		// create has not finished: while the berth that runs it lives,
		// the container is being created; if it died, the container is
		// abandoned, and delete clears what it made.
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
	caps.Warn(o.Spec.Process.Capabilities)
	if sc := o.Spec.Linux.Seccomp; sc != nil {
		if err := seccomp.Validate(sc); err != nil {
			return nil, fmt.Errorf("seccomp: %w", err)
		}
		seccomp.SetDefaultFlags(sc)
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
	// newManager makes the manager and saves the state (still
	// "creating", with the cgroup's paths and init's pid once known)
	// before the cgroup exists: a create killed from then on leaves a
	// state from which delete finds and removes what it made.
	newManager := func() error {
		m, err := cgChecked.Manager()
		if err != nil {
			return fmt.Errorf("cgroup: %w", err)
		}
		if err := bcgroups.CheckUnused(m); err != nil { // before mgr is set: a refused cgroup is not ours to remove
			return err
		}
		mgr = m
		st.CgroupPaths = maps.Clone(mgr.GetPaths())
		return dir.save(st)
	}
	// newCgroup makes the cgroup, and with limits also writes them (see
	// setCgroup).
	newCgroup := func(limits bool) error {
		if err := applyCgroup(mgr, -1, o.Spec); err != nil {
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
	// reported ready, which may be before this process has gone on. init
	// gets an O_PATH handle of the fifo alone, which it reopens to
	// write: a handle of the state directory (or anything else of the
	// host's) in a process of the container would lead out of it.
	var fifo *os.File
	if !o.StartNow {
		if err := unix.Mkfifo(dir.file(fifoFile), 0o600); err != nil {
			return nil, fmt.Errorf("create exec fifo: %w", err)
		}
		if err := chownFifoToRoot(dir.file(fifoFile), o.Spec); err != nil {
			return nil, err
		}
		if fifo, err = os.OpenFile(dir.file(fifoFile), unix.O_PATH|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0); err != nil {
			return nil, fmt.Errorf("open exec fifo: %w", err)
		}
		defer fifo.Close()
	}
	// Where init joins its cgroup itself, the cgroup is made while init's
	// runtime starts up (the two overlap; init waits for its config,
	// which comes after the limits are written). A cgroup2 fd to clone
	// into must exist before the clone; the systemd manager places init
	// through systemd, from here, after the clone.
	selfJoin, mode := !o.Systemd, bcgroups.Mode()
	early := !selfJoin || mode != bcgroups.ModeV1
	if early {
		if err := newManager(); err != nil {
			return nil, err
		}
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
	extra, err := preservedFiles(o.PreserveFds)
	if err != nil {
		return nil, err
	}
	proc, err = startProcess(&launch{
		Spec: o.Spec, Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr,
		ExtraFiles: extra, Fifo: fifo, Console: o.ConsoleSocket, CgroupFD: cgfd,
		Seal: seal.Take(), NetNSAhead: netns != nil,
	})
	if err != nil {
		return nil, err
	}
	pst, err := readProcStat(proc.pid)
	if err != nil {
		return nil, fmt.Errorf("init process %d: %w", proc.pid, err)
	}
	st.InitPid, st.InitStartTime = proc.pid, pst.StartTime
	if !early {
		if err := newManager(); err != nil {
			return nil, err
		}
		// Directories now, limits after the config is on its way: init
		// decodes it meanwhile, and joins only once the limits are set.
		if err := newCgroup(false); err != nil {
			return nil, err
		}
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
		if err := sendCgroupJoin(proc.conn, bcgroups.DistinctDirs(st.CgroupPaths, false)); err != nil {
			return nil, childFailure(proc.conn, err)
		}
	}
	if parentJoins {
		if err := applyCgroup(mgr, proc.pid, o.Spec); err != nil {
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
		ClearONLCR:     o.RelayConsole,
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
		case msgMountSource:
			if err := serveMountSource(proc.conn, spec, cfg.Bundle, m); err != nil {
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
// changed it since. The container must still be the one loaded: a delete
// and a create of the same ID in the meantime make it another, which the
// command was not asked to act on; it gets ErrNotExist. A state this
// process wrote itself (fresh) is current. Every method that acts on a
// container goes through here.
func (c *Container) lockState() (*stateDir, error) {
	return c.lockStateHow(unix.LOCK_EX)
}

func (c *Container) lockStateHow(how int) (*stateDir, error) {
	dir, err := lockStateDir(c.root, c.state.ID, false, how)
	if err != nil {
		return nil, err
	}
	if c.fresh {
		return dir, nil
	}
	s, err := dir.load(c.state.ID)
	if err != nil {
		dir.unlock()
		return nil, err
	}
	if !sameContainer(c.state, s) {
		dir.unlock()
		return nil, errNotExist(c.state.ID)
	}
	c.state = s
	return dir, nil
}

// sameContainer reports whether cur, read under the lock, is the
// container old was read as: made at the same time, with the same init.
func sameContainer(old, cur *State) bool {
	if old.partial {
		return true // nothing to tell it by yet
	}
	if cur.partial || !old.Created.Equal(cur.Created) {
		return false
	}
	return old.InitStartTime == 0 || old.InitStartTime == cur.InitStartTime
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
// poststart hook is logged as a warning and the rest, and the container,
// go on (runc kills the container instead; the spec is followed here).
func (c *Container) Poststart() error {
	sum, err := c.state.Summary()
	if err != nil {
		return err
	}
	if hs := hooks.List(sum.Hooks, hooks.Poststart); len(hs) > 0 {
		state := c.specState(Running)
		hooks.RunWarn(hooks.Poststart, hs, &state)
	}
	return nil
}

// releaseInit lets the created init go. init is blocked opening
// exec.fifo for writing: opening it for reading here releases it; init
// writes one byte and then either execve's (closing its close-on-exec
// end: we read EOF) or writes an error. The fifo is unlinked as soon as
// it is open, so the container counts as started from then on even if
// this process dies; and nothing here blocks without a deadline, for the
// lock is held.
func (c *Container) releaseInit(dir *stateDir) error {
	path := dir.file(fifoFile)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Unlink(path); err != nil {
		return fmt.Errorf("remove exec fifo: %w", err)
	}
	data, err := readFifo(fd, func() bool { return processAlive(c.state.InitPid, c.state.InitStartTime) })
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return errors.New("container init exited before start")
	}
	if msg := strings.TrimPrefix(string(data), "0"); msg != "" {
		return fmt.Errorf("start container: %s", msg)
	}
	return nil
}

// startTimeout bounds how long start waits for a live init to answer on
// exec.fifo. A created init is blocked opening it already, so it answers
// at once; one that does not has gone past the fifo (a start killed
// between opening and removing it).
const startTimeout = 30 * time.Second

// maxFifoData bounds what init may write to exec.fifo: one byte, or an
// error message.
const maxFifoData = 64 << 10

// readFifo reads exec.fifo (fd, non-blocking) until its writer closes it.
// poll reports no hang-up before a writer has opened it, so it waits for
// init's open; alive says whether init still lives, checked between
// waits.
func readFifo(fd int, alive func() bool) ([]byte, error) {
	var data []byte
	buf := make([]byte, 4096)
	deadline := time.Now().Add(startTimeout)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 50)
		if err != nil && err != unix.EINTR {
			return nil, fmt.Errorf("wait for container init: %w", err)
		}
		if n == 0 || err == unix.EINTR {
			if !alive() {
				return data, nil
			}
			if time.Now().After(deadline) {
				return nil, errors.New("container init did not answer on exec.fifo")
			}
			continue
		}
		r, err := unix.Read(fd, buf)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			continue
		case err != nil:
			return nil, fmt.Errorf("read exec fifo: %w", err)
		case r == 0:
			return data, nil
		}
		if len(data)+r > maxFifoData {
			return nil, errors.New("container init wrote too much to exec.fifo")
		}
		data = append(data, buf[:r]...)
	}
}

// Signal sends sig to the container's init, or with all to every process
// in its cgroup.
func (c *Container) Signal(sig unix.Signal, all bool) error {
	dir, err := c.lockStateHow(unix.LOCK_SH)
	if err != nil {
		return err
	}
	defer dir.unlock()
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
	dir, err := c.lockState()
	if err != nil {
		return err
	}
	defer dir.unlock()
	if c.state.partial {
		// Its create died before its first save: it made nothing but
		// this directory (and maybe the fifo), and a process that died
		// with it (parent-death signal).
		if err := dir.remove(); err != nil {
			return fmt.Errorf("remove state directory: %w", err)
		}
		return nil
	}
	st := c.Status()
	// Like runc, a created container that never started may be deleted
	// without --force: nothing of the user's is running in it yet. An
	// abandoned create (its berth died) counts as stopped, but what it
	// started may still run.
	if st != Stopped || c.state.CreatorPid != 0 {
		if !force && st != Created && st != Stopped {
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
	// Poststop hooks run for a container that was created (the spec:
	// after it is deleted); one whose create never finished ran none of
	// its other hooks either.
	if sum, err := c.state.Summary(); err == nil && c.state.CreatorPid == 0 {
		if hs := hooks.List(sum.Hooks, hooks.Poststop); len(hs) > 0 {
			state := c.specState(Stopped)
			hooks.RunWarn(hooks.Poststop, hs, &state)
		}
	}
	return nil
}

// killAndWait SIGKILLs everything in the container and waits until init
// is gone (a zombie counts as gone: here the reaper may take its time).
func (c *Container) killAndWait() error {
	s := c.state
	if s.CreatorPid != 0 && processAlive(s.CreatorPid, s.CreatorStartTime) {
		// Still being created (delete waited for create's lock, so this
		// is a create that lost its lock some other way): end it; its
		// init dies with it or below.
		unix.Kill(s.CreatorPid, unix.SIGKILL)
		if err := waitGone(s.CreatorPid, s.CreatorStartTime); err != nil {
			return err
		}
	}
	if s.InitPid == 0 {
		return nil
	}
	if err := c.killCgroup(); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	c.signalInit(unix.SIGKILL)
	if err := waitGone(s.InitPid, s.InitStartTime); err != nil {
		return fmt.Errorf("container %s: %w", s.ID, err)
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
