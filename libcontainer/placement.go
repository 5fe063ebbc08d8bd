package libcontainer

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"

	"github.com/opencontainers/cgroups"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	bcgroups "github.com/berth-runtime/berth/libcontainer/cgroups"
)

// cgroupPlacement puts one container process in its cgroup. There is one
// implementation per strategy; create picks one with initPlacement, exec
// with execPlacement, and both drive it through the same calls, in this
// order:
//
//	beforeClone  what must exist before the process: the cgroup, when the
//	             process is cloned into it (its cgroup2 fd, or -1)
//	afterClone   the process exists; its config is not sent yet
//	step         the protocol step through which the process gets into
//	             its cgroup (sync.go), or "" when it needs none
//	join         the runtime's side of that step
//	afterExecve  what is left once the process has execve'd
//
// Nothing of the process runs the container's program outside its
// cgroup, and the limits are written before the process joins.
type cgroupPlacement interface {
	beforeClone() (cloneFD int, err error)
	afterClone(pid int) error
	step() step
	join(r cgroupJoiner, pid int) error
	afterExecve(pid int) error
}

// cgroupJoiner is the process's end of the cgroup step: the sync socket
// (runtimeEnd), or a direct init (directJoiner, directinit.go).
type cgroupJoiner interface {
	// sendCgroupJoin: the "tasks" files the process joins (cgroup-join).
	sendCgroupJoin(tasks []int) error
	// sendCgroupReady: the runtime moved the process (cgroup-ready).
	sendCgroupReady() error
	// failure is the error of a send that failed (runtimeEnd.failure).
	failure(err error) error
}

// newCgroup makes a new container's cgroup (create), recording its paths
// in the container's state.
type newCgroup struct {
	checked *bcgroups.Checked
	st      *State
	dir     *stateDir
	// mgr is set once the cgroup is ours to remove on failure.
	mgr cgroups.Manager
}

// manager makes the manager and saves the state (still "creating", with
// the cgroup's paths and init's pid once known) before the cgroup exists:
// a create killed from then on leaves a state from which delete finds and
// removes what it made.
func (g *newCgroup) manager() error {
	m, err := g.checked.Manager()
	if err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	if err := bcgroups.CheckUnused(m); err != nil { // before mgr is set: a refused cgroup is not ours to remove
		return err
	}
	g.mgr = m
	g.st.CgroupPaths = maps.Clone(m.GetPaths())
	return g.dir.save(g.st)
}

// create makes the cgroup's directories, and with limits writes them too.
func (g *newCgroup) create(limits bool) error {
	paths, err := applyCgroup(g.mgr, -1, g.st.spec) // rootless.go
	if err != nil {
		return fmt.Errorf("create cgroup: %w", err)
	}
	g.st.CgroupPaths = paths
	if limits {
		return setCgroup(g.mgr)
	}
	return nil
}

// early makes the manager, the cgroup and its limits, before the clone.
func (g *newCgroup) early() error {
	if err := g.manager(); err != nil {
		return err
	}
	return g.create(true)
}

// path is the cgroup's path as the manager names it (rootfs's cgroup
// mount on cgroup2).
func (g *newCgroup) path() string {
	if g.mgr == nil {
		return ""
	}
	if cg, _ := g.mgr.GetCgroups(); cg != nil {
		return cg.Path
	}
	return ""
}

// destroy removes the cgroup of a create that failed, if it made one.
func (g *newCgroup) destroy() {
	if g.mgr == nil {
		return
	}
	parent := bcgroups.RtLent(g.mgr)
	if err := g.mgr.Destroy(); err != nil {
		logrus.Warnf("remove cgroup of %s: %v", g.st.ID, err)
		return
	}
	bcgroups.ReturnRt(parent)
}

// initPlacement picks a new container's strategy: systemd places init
// itself, from the runtime; otherwise init is cloned into its cgroup2
// directory and joins the v1 hierarchies itself.
func initPlacement(g *newCgroup, systemd bool) cgroupPlacement {
	switch mode := bcgroups.Mode(); {
	case systemd:
		return &runtimeMoves{g: g}
	case mode == bcgroups.ModeV2:
		return &cloneInto{g: g}
	default:
		return &selfJoin{g: g, hybrid: mode == bcgroups.ModeHybrid}
	}
}

// cloneInto (cgroup v2): the cgroup and its limits are made before the
// clone, and clone3 starts init in it (CLONE_INTO_CGROUP): it needs no
// step. Without a directory to open it falls back to runtimeMoves.
type cloneInto struct {
	g        *newCgroup
	fallback *runtimeMoves
}

func (p *cloneInto) beforeClone() (int, error) {
	if err := p.g.early(); err != nil {
		return -1, err
	}
	if _, ok := p.g.st.CgroupPaths[""]; !ok {
		// A rootless caller's cgroup that could not be made: there is
		// nothing to clone into nor to join.
		return -1, nil
	}
	fd, err := bcgroups.OpenUnified(p.g.mgr)
	if err != nil {
		return -1, fmt.Errorf("open cgroup: %w", err)
	}
	if fd < 0 {
		p.fallback = &runtimeMoves{g: p.g}
	}
	return fd, nil
}

func (p *cloneInto) afterClone(int) error { return nil }

func (p *cloneInto) step() step {
	if p.fallback != nil {
		return p.fallback.step()
	}
	return ""
}

func (p *cloneInto) join(r cgroupJoiner, pid int) error {
	if p.fallback != nil {
		return p.fallback.join(r, pid)
	}
	return nil
}

func (p *cloneInto) afterExecve(int) error { return nil }

// selfJoin (cgroup v1, hybrid): init joins each v1 hierarchy itself by
// writing "0" to its "tasks" file, opened by the runtime and sent in the
// cgroup-join step (see joinCgroups for why). On a v1 host the cgroup is
// made while init's runtime starts up, its limits written while init
// decodes its config; on a hybrid host it is made before the clone, and
// init is cloned into its cgroup2 directory as well.
type selfJoin struct {
	g      *newCgroup
	hybrid bool
}

func (p *selfJoin) beforeClone() (int, error) {
	if !p.hybrid {
		return -1, nil
	}
	if err := p.g.early(); err != nil {
		return -1, err
	}
	fd, err := bcgroups.OpenUnified(p.g.mgr)
	if err != nil {
		return -1, fmt.Errorf("open cgroup: %w", err)
	}
	return fd, nil
}

func (p *selfJoin) afterClone(int) error {
	if p.hybrid {
		return nil
	}
	if err := p.g.manager(); err != nil {
		return err
	}
	// Directories now, limits after the config is on its way (join).
	return p.g.create(false)
}

func (p *selfJoin) step() step { return stepCgroupJoin }

func (p *selfJoin) join(r cgroupJoiner, _ int) error {
	if !p.hybrid {
		if err := setCgroup(p.g.mgr); err != nil {
			return err
		}
	}
	return sendTasks(r, bcgroups.DistinctDirs(p.g.st.CgroupPaths, false))
}

func (p *selfJoin) afterExecve(int) error { return nil }

// runtimeMoves (the systemd manager): the manager is made before the
// clone; the runtime moves init into its cgroup after sending the config,
// while init builds its rootfs, and tells it in the cgroup-ready step.
// systemd makes the scope with init in it (it refuses a scope without
// processes), so the paths are read and the limits written only then.
// (As cloneInto's fallback the cgroup exists already, with its limits.)
type runtimeMoves struct{ g *newCgroup }

func (p *runtimeMoves) beforeClone() (int, error) { return -1, p.g.manager() }
func (p *runtimeMoves) afterClone(int) error      { return nil }
func (p *runtimeMoves) step() step                { return stepCgroupReady }

func (p *runtimeMoves) join(r cgroupJoiner, pid int) error {
	paths, err := applyCgroup(p.g.mgr, pid, p.g.st.spec) // rootless.go
	if err != nil {
		err = fmt.Errorf("add init to cgroup: %w", err)
		if errors.Is(err, unix.ESRCH) { // init died building the rootfs
			err = r.failure(err)
		}
		return err
	}
	p.g.st.CgroupPaths = paths
	if err := setCgroup(p.g.mgr); err != nil {
		return err
	}
	return r.sendCgroupReady()
}

func (p *runtimeMoves) afterExecve(int) error { return nil }

// execPlacement picks an exec process's strategy for the directories
// paths (execCgroupPaths): execJoin, or execAfter when the cgroup is
// frozen. initPid is the container's init when paths are its own cgroup
// (no exec --cgroup), 0 otherwise.
func execPlacement(paths map[string]string, frozen bool, initPid int) cgroupPlacement {
	if frozen {
		return &execAfter{paths: paths}
	}
	return &execJoin{paths: paths, initPid: initPid}
}

// execJoin: the process is cloned into its cgroup2 directory (the
// container's, or its exec --cgroup sub-cgroup) by CLONE_INTO_CGROUP, and
// nsenter's fork inherits it: nothing of the process runs outside, and a
// cgroup at its pids.max refuses it at the clone (cloneIntoError) instead
// of taking it in past the limit. It joins the v1 hierarchies (a v1 or
// hybrid host) itself in the cgroup-join step, as init does; on a pure v2
// host there is nothing left to join and the step is left out.
//
// On cgroup v2, a container cgroup that is gone (init moved itself to
// another cgroup, through a writable /sys/fs/cgroup, and the old one was
// removed) gives way to init's own cgroup, as under runc: the process
// goes where the container's program is. Only with no exec --cgroup
// (initPid set): a sub-cgroup asked for must exist.
type execJoin struct {
	paths   map[string]string
	initPid int
}

func (p *execJoin) beforeClone() (int, error) {
	dir, ok := p.paths[""]
	if !ok {
		return -1, nil
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) && !cgroups.IsCgroup2UnifiedMode() {
			// Hybrid: create makes the cgroup2 directory best-effort
			// (bcgroups.OpenUnified), and so exec joins it.
			return -1, nil
		}
		if errors.Is(err, unix.ENOENT) && p.initPid > 0 {
			if fd, initDir, ok := openInitCgroup(p.initPid, dir); ok {
				logrus.Debugf("exec: the container's cgroup %s is gone: starting the process in init's cgroup %s", dir, initDir)
				return fd, nil
			}
		}
		return -1, fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	return fd, nil
}

func (p *execJoin) afterClone(int) error { return nil }

func (p *execJoin) step() step {
	if len(bcgroups.DistinctDirs(p.paths, false)) == 0 {
		return ""
	}
	return stepCgroupJoin
}

func (p *execJoin) join(r cgroupJoiner, _ int) error {
	return sendTasks(r, bcgroups.DistinctDirs(p.paths, false))
}

func (p *execJoin) afterExecve(int) error { return nil }

// startExecInInitCgroup starts l again, after a clone into the
// container's own cgroup2 directory dir failed with err, in the cgroup2
// directory init is in now, where that is elsewhere and dir can hold no
// process: it hands controllers to sub-cgroups (EBUSY) or is a domain
// invalid (EOPNOTSUPP), as when a container makes its own sub-cgroups
// and moves its init into one (Docker-in-Docker's entrypoint does). runc
// lands such an exec in init's cgroup the same way. Not for a sub-cgroup
// the caller named (exec --cgroup): that one is refused, and so is every
// other failure.
func startExecInInitCgroup(l *launch, dir string, err error) (*started, error) {
	busy := errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EOPNOTSUPP)
	if !busy || !cgroups.IsCgroup2UnifiedMode() {
		return nil, cloneIntoError(dir, err)
	}
	fd, initDir, ok := openInitCgroup(l.InitPid, dir)
	if !ok {
		return nil, cloneIntoError(dir, err)
	}
	defer unix.Close(fd)
	logrus.Debugf("exec: cgroup %s can hold no process (%v): starting the process in init's cgroup %s", dir, err, initDir)
	retry := *l
	retry.CgroupFD = fd
	retry.Seal = startSealing() // the first start took the seal
	proc, err := startProcess(&retry)
	if err != nil {
		return nil, cloneIntoError(initDir, err)
	}
	return proc, nil
}

// openInitCgroup opens (O_PATH, for CLONE_INTO_CGROUP) the cgroup2
// directory init is in, when it is another than dir; ok is false when it
// is dir, or cannot be found or opened.
func openInitCgroup(initPid int, dir string) (fd int, initDir string, ok bool) {
	initDir, err := cgroup2DirOf(initPid)
	if err != nil || initDir == dir {
		return -1, "", false
	}
	fd, err = unix.Open(initDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", false
	}
	return fd, initDir, true
}

// cgroup2DirOf returns the cgroup2 directory process pid is in (cgroup v2).
func cgroup2DirOf(pid int) (string, error) {
	cg, err := cgroups.ParseCgroupFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	rel, ok := cg[""]
	if !ok {
		return "", fmt.Errorf("process %d: no cgroup2 line in its /proc/%d/cgroup", pid, pid)
	}
	return filepath.Join(cgroup2Root, rel), nil
}

// cgroup2Root is where the cgroup v2 hierarchy is mounted.
const cgroup2Root = "/sys/fs/cgroup"

// cloneIntoError words a failed clone of a process into the cgroup2
// directory dir ("" when it was not cloned into one). The kernel refuses
// the clone with EAGAIN when dir, or a cgroup above it, is at its
// pids.max, and with EBUSY when dir hands controllers to sub-cgroups
// (cgroup.subtree_control) and so may hold no process itself.
func cloneIntoError(dir string, err error) error {
	switch {
	case dir == "":
	case errors.Is(err, unix.EAGAIN):
		return fmt.Errorf("cgroup %s has no room for another process: pids.max reached there or in a parent cgroup", dir)
	case errors.Is(err, unix.EBUSY):
		// The last words are runc's, which its tests match.
		return fmt.Errorf("cgroup %s cannot hold processes: it enables controllers for its sub-cgroups (cgroup.subtree_control); adding pid of the new process to cgroups: %w", dir, unix.EBUSY)
	}
	return err
}

// execAfter (exec into a frozen cgroup, --ignore-paused): a process in
// the frozen cgroup would freeze before its execve, and the runtime would
// wait for it until the container is resumed; it joins right after its
// execve instead, and is frozen from then on.
type execAfter struct{ paths map[string]string }

func (p *execAfter) beforeClone() (int, error) { return -1, nil }
func (p *execAfter) afterClone(int) error      { return nil }
func (p *execAfter) step() step                { return "" }

func (p *execAfter) join(cgroupJoiner, int) error { return nil }

func (p *execAfter) afterExecve(pid int) error {
	if len(p.paths) == 0 {
		return nil
	}
	err := enterCgroups(p.paths, pid)
	if errors.Is(err, unix.ESRCH) {
		// It ran its program and is gone already (`exec -d ... true`):
		// nothing is left to place.
		return nil
	}
	return err
}

// sendTasks opens the "tasks" files of the cgroup v1 directories (none
// on a v2 host) and sends them in the cgroup-join step. They are opened
// here: the process may already be in namespaces where the host's cgroup
// tree is out of sight and reach, and the kernel checks a v1 migration
// against the opener.
func sendTasks(r cgroupJoiner, dirs []string) error {
	tasks, err := openCgroupTasks(dirs)
	if err != nil {
		return r.failure(err)
	}
	defer closeFds(tasks)
	return r.sendCgroupJoin(tasks)
}

// setCgroup writes the container's limits to its cgroup.
func setCgroup(mgr cgroups.Manager) error {
	if err := bcgroups.SetResources(mgr); err != nil {
		return fmt.Errorf("set cgroup resources: %w", err)
	}
	return nil
}

// enterCgroups writes pid into every cgroup directory of paths.
func enterCgroups(paths map[string]string, pid int) error {
	done := map[string]bool{}
	for ctl, dir := range paths {
		if done[dir] {
			continue
		}
		done[dir] = true
		if err := cgroups.WriteCgroupProc(dir, pid); err != nil {
			return fmt.Errorf("add process %d to %s cgroup %s: %w", pid, ctl, dir, err)
		}
	}
	return nil
}
