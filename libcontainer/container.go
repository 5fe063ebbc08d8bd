// Package libcontainer is berth's core: it creates containers from OCI
// bundles, persists their state per ID, and drives them through the OCI
// lifecycle.
package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	bcgroups "github.com/berth-runtime/berth/libcontainer/cgroups"
	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/hooks"
	"github.com/berth-runtime/berth/libcontainer/rootfs"
	"github.com/berth-runtime/berth/libcontainer/sdnotify"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// Container is one container's persisted state under a state root.
type Container struct {
	root  string
	state *State
	// written is the state.json this process saved (Create) or read the
	// state from (Load): while it is still the one at the path, nobody
	// changed the state since, and lockState need not read it back.
	written fileID
	// notify is the sd_notify relay a run's Create bound (notify.go),
	// and notifyHost the socket it forwards to.
	notify     *sdnotify.Relay
	notifyHost string
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
	return loadIn(root, id, nil)
}

func loadIn(root, id string, l *lister) (*Container, error) {
	d := &stateDir{path: root + "/" + id}
	s, err := d.loadWith(id, l)
	if err != nil {
		return nil, err
	}
	return &Container{root: root, state: s, written: s.file}, nil
}

// treeGone reports whether the container a HostTree of this one covers
// is gone, leaving its tree, which its own delete could not reach, to
// this one: no container of that name, or one whose tree is another (the
// name was used again). A state that cannot be read keeps the tree.
func (c *Container) treeGone(t rootfs.CoveredTree) bool {
	o, err := loadIn(c.root, t.Container, nil)
	if errors.Is(err, ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	h := o.state.HostTree
	return h == nil || h.MountRef != t.MountRef
}

// List returns every container under root, skipping entries that are
// not (or no longer) containers. Their states carry their configs'
// summaries (Summary), not the configs (FullSpec refuses them); acting
// on one reads its state whole again (lockState).
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
	// One read buffer for every state.json, and each config decoded only
	// as far as its summary (decodeListed): fresh heap is fresh pages in
	// a command too short for a collection.
	var l lister
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if configs.ValidateID(e.Name()) != nil {
			continue
		}
		c, err := loadIn(root, e.Name(), &l)
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
	if _, err := os.Lstat(c.dir() + "/" + fifoFile); err == nil && !s.initExecd() {
		// A start killed between opening exec.fifo and removing it
		// leaves the fifo behind an init that went on: running.
		return Created
	}
	return Running
}

func (c *Container) dir() string { return c.root + "/" + c.state.ID }

// frozen reads the freezer state straight from the cgroup files: cheap,
// and needs no manager.
func (c *Container) frozen() bool {
	if p, ok := c.state.CgroupPaths["freezer"]; ok {
		data, err := utils.ReadSmallFile(p+"/freezer.state", 64)
		return err == nil && strings.TrimSpace(string(data)) == "FROZEN"
	}
	if p, ok := c.state.CgroupPaths[""]; ok {
		data, err := utils.ReadSmallFile(p+"/cgroup.freeze", 64)
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

// lockState takes the container's lock and re-reads its state under it:
// a command loads the state without the lock, and another may have
// changed it since. The container must still be the one loaded: a delete
// and a create of the same ID in the meantime make it another, which the
// command was not asked to act on; it gets ErrNotExist. A state this
// process saved or read itself is current while its file is still the
// one at the path (one lstat instead of a read and a decode; the config
// already decoded from it is kept): every save replaces the file. Every method that acts on a
// container goes through here, and only the stateDir it returns, its
// exclusive lock held, saves or removes the state (stateDir.save).
func (c *Container) lockState() (*stateDir, error) {
	return c.lockStateHow(unix.LOCK_EX)
}

// lockStateHow is lockState with the kind of lock: LOCK_SH for what may
// run beside its like and changes no state (exec, kill).
func (c *Container) lockStateHow(how int) (*stateDir, error) {
	dir, err := lockStateDir(c.root, c.state.ID, false, how)
	if err != nil {
		return nil, err
	}
	if c.written != (fileID{}) {
		var st unix.Stat_t
		if unix.Lstat(dir.file(stateFile), &st) == nil && statID(&st) == c.written {
			dir.written = c.written
			return dir, nil
		}
		c.written = fileID{}
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

// passSeccompFd hands the seccomp notify fd of a container process
// (seccomp-fd step) to the filter's listener, with the container's state.
func passSeccompFd(fd, pid int, sc *specs.LinuxSeccomp, state specs.State) error {
	err := seccomp.SendToListener(sc.ListenerPath, fd, &specs.ContainerProcessState{
		Version: specs.Version, Fds: []string{specs.SeccompFdName}, Pid: pid,
		Metadata: sc.ListenerMetadata, State: state,
	})
	if err != nil {
		return fmt.Errorf("seccomp listener %s: %w", sc.ListenerPath, err)
	}
	return nil
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
// does; after Create with StartNow the caller does). Spec 1.3.0's rule,
// which is runc's too: a failing poststart hook is an error that stops
// the container (its processes are killed and init is waited for); the
// hooks after it do not run, and the container is left stopped for its
// delete (run deletes it at once), as after a failing startContainer hook.
// Spec 1.1.0 made it a warning instead.
func (c *Container) Poststart() error {
	sum, err := c.state.Summary()
	if err != nil {
		return err
	}
	hs := hooks.List(sum.Hooks, hooks.Poststart)
	if len(hs) == 0 {
		return nil
	}
	state := c.specState(Running)
	if err := hooks.Run(hooks.Poststart, hs, &state); err != nil {
		if kerr := c.killAndWait(); kerr != nil {
			return fmt.Errorf("%w (and stopping the container: %v)", err, kerr)
		}
		return err
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
	waiting := func() bool {
		// init gone, or gone past the fifo (released by an earlier start
		// killed before it removed the fifo): nothing will be written.
		return processAlive(c.state.InitPid, c.state.InitStartTime) && !c.state.initExecd()
	}
	data, err := readFifo(fd, waiting)
	if err != nil {
		return err
	}
	if len(data) == 0 && c.state.initExecd() && processAlive(c.state.InitPid, c.state.InitStartTime) {
		return nil
	}
	if len(data) == 0 {
		return errors.New("container init exited before start")
	}
	if msg := strings.TrimPrefix(string(data), "0"); msg != "" {
		if err, ok := c.directInitFailure([]byte(msg)); ok { // directinit.go
			return fmt.Errorf("start container: %w", err)
		}
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

// signalAll signals every process in the container's cgroup (its
// sub-cgroups and every hierarchy included: bcgroups.Procs, the one
// reader of cgroup.procs). A frozen cgroup is thawed after SIGKILL so the
// processes can die.
func (c *Container) signalAll(sig unix.Signal) error {
	if len(c.state.CgroupPaths) == 0 {
		// Init is all that can be reached without a cgroup. Gone, it
		// leaves nothing to signal, which --all does not call an error
		// (as runc's kill -a of a stopped container; with a cgroup, an
		// empty one).
		if err := c.signalInit(sig); !errors.Is(err, ErrNotRunning) {
			return err
		}
		return nil
	}
	pids, err := bcgroups.Procs(c.state.CgroupPaths)
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signal %d: %w", pid, err)
		}
	}
	if sig == unix.SIGKILL && c.frozen() {
		mgr, err := c.manager()
		if err != nil {
			return err
		}
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
	if sum, err := c.state.Summary(); err == nil && sum.Linux != nil {
		removeIntelRdt(c.state, sum.Linux.IntelRdt) // intelrdt_linux.go
	}
	if t := c.state.HostTree; t != nil {
		// The container's mounts in the caller's namespace; kept on
		// record until they are gone.
		if err := t.Remove(c.state.Rootfs, c.treeGone); err != nil {
			return err
		}
	}
	if err := dir.remove(); err != nil {
		return fmt.Errorf("remove state directory: %w", err)
	}
	// Poststop hooks run for a container that was created (the spec:
	// after it is deleted); one whose create never finished ran none of
	// its other hooks either.
	if sum, err := c.state.Summary(); err == nil && c.state.CreatorPid == 0 {
		c.runPoststop(sum.Hooks)
	}
	return nil
}

// runPoststop runs the poststop hooks of h for the destroyed container;
// their failures are warnings (spec).
func (c *Container) runPoststop(h *specs.Hooks) {
	if hs := hooks.List(h, hooks.Poststop); len(hs) > 0 {
		state := c.specState(Stopped)
		hooks.RunWarn(hooks.Poststop, hs, &state)
	}
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

// HoldMounts keeps the mount namespace of the container's (running) init
// open until the returned function is called. When init is the last
// process in it, its exit otherwise tears the namespace down: every mount
// unmounted, and the kernel's wait for an RCU grace period, on init's exit
// path, which a foreground run waits for. Held, the teardown happens when
// the function closes the handle, on a goroutine of its own while the
// caller cleans up. A namespace that cannot be opened (init already gone)
// is not held, and the function does nothing.
func (c *Container) HoldMounts() (release func()) {
	path := "/proc/" + strconv.Itoa(c.state.InitPid) + "/ns/mnt"
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return func() {}
	}
	return func() { go unix.Close(fd) }
}
