package libcontainer

import (
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	bcgroups "github.com/berth-runtime/berth/libcontainer/cgroups"
)

// cgroupKillTimeout bounds the wait for a cgroup's processes to die
// after SIGKILL (what waitGone allows init).
const cgroupKillTimeout = 10 * time.Second

// ownPidNS reports whether the container's init made a pid namespace of
// its own. Then init is that namespace's init, and the kernel kills every
// other process in it when init dies. Otherwise (the host's pid
// namespace, or one joined by path) the container's other processes
// outlive init, and only its cgroup still finds them.
func (c *Container) ownPidNS() bool {
	var ns []specs.LinuxNamespace
	if c.state.spec != nil {
		if c.state.spec.Linux != nil {
			ns = c.state.spec.Linux.Namespaces
		}
	} else {
		var v struct {
			Linux *struct {
				Namespaces []specs.LinuxNamespace `json:"namespaces"`
			} `json:"linux"`
		}
		// An undecodable config: assume the worst (processes may
		// outlive init), which only makes a SIGKILL reach further
		// within the container's own cgroup.
		if err := json.Unmarshal(c.state.RawSpec, &v); err != nil || v.Linux == nil {
			return false
		}
		ns = v.Linux.Namespaces
	}
	for _, n := range ns {
		if n.Type == specs.PIDNamespace {
			return n.Path == ""
		}
	}
	return false
}

// signalCgroup handles the SIGKILLs that must reach the whole cgroup, as
// runc does: `kill KILL` of a container without a pid namespace of its
// own (its processes outlive init; after init is gone they are all that
// is left of it), and `kill --all KILL`, which also thaws frozen
// sub-cgroups so that their processes die. It reports whether it handled
// the signal; the caller sends any other signal itself. With nothing left
// to kill, a plain kill says the container is not running.
func (c *Container) signalCgroup(sig unix.Signal, all bool) (bool, error) {
	if sig != unix.SIGKILL || len(c.state.CgroupPaths) == 0 || c.state.InitPid == 0 {
		return false, nil
	}
	if !all && c.ownPidNS() {
		return false, nil
	}
	n, err := bcgroups.KillAll(c.state.CgroupPaths)
	if err != nil {
		return true, fmt.Errorf("kill the container's processes: %w", err)
	}
	if n == 0 && !all {
		return true, ErrNotRunning
	}
	return true, nil
}

// killCgroup SIGKILLs every process of the container's cgroup, frozen
// sub-cgroups included, and waits until none is left: init's death does
// not end processes outside a pid namespace of its own, nor (on cgroup
// v1) frozen ones.
func (c *Container) killCgroup() error {
	if len(c.state.CgroupPaths) == 0 {
		return c.signalInit(unix.SIGKILL)
	}
	if err := bcgroups.KillAllAndWait(c.state.CgroupPaths, cgroupKillTimeout); err != nil {
		return fmt.Errorf("container %s: %w", c.state.ID, err)
	}
	return nil
}

// destroyCgroup removes the container's cgroup with its sub-cgroups,
// killing what is still in it first (processes that outlived init in a
// shared pid namespace, or frozen in a sub-cgroup): the library's removal
// of a busy cgroup only retries, for about a second per hierarchy.
func destroyCgroup(mgr cgroups.Manager) error {
	parent := bcgroups.RtLent(mgr) // before the removal empties the manager's paths
	err := removeCgroup(mgr)
	if err == nil {
		bcgroups.ReturnRt(parent) // the real-time runtime it was lent, if any
	}
	return err
}

// removeCgroup is destroyCgroup's removal.
func removeCgroup(mgr cgroups.Manager) error {
	if rmdirIdle(mgr) {
		// Nothing was in it, and nothing is left: the cgroupfs
		// managers' Destroy is these rmdirs (systemd's never gets here).
		return nil
	}
	var err error
	for range 3 {
		// The library's Destroy deletes the entries it removed from
		// the map it holds: kill through a copy.
		if err = bcgroups.KillAllAndWait(maps.Clone(mgr.GetPaths()), cgroupKillTimeout); err != nil {
			return err
		}
		// A process forked just before the kill can make this fail
		// once; the next round kills it.
		if err = mgr.Destroy(); err == nil {
			return nil
		}
	}
	return err
}

// rmdirIdle tries to remove the cgroup's directories with one rmdir
// each, and reports whether they are all gone. The kernel removes a
// cgroup only when it holds no process and no sub-cgroup, so then there
// was nothing to kill, and the walk over every hierarchy that finds the
// processes to kill is not needed; a directory that stays (a process or
// a sub-cgroup in it, or any other error) leaves the whole removal to
// the kill-then-remove path, as before. A hierarchy's root, which a
// tampered state could name, is a mount point: rmdir refuses it (EBUSY),
// and that path refuses it in turn. Not with systemd, which removes its
// unit's directory itself when it stops the unit.
func rmdirIdle(mgr cgroups.Manager) bool {
	if cg, err := mgr.GetCgroups(); err != nil || cg == nil || cg.Systemd {
		return false
	}
	idle := true
	for _, dir := range bcgroups.DistinctDirs(mgr.GetPaths(), true) {
		if err := rmdirOnce(dir); err != nil {
			idle = false
		}
	}
	return idle
}

// rmdirOnce removes one empty cgroup directory; one already gone counts
// as removed.
func rmdirOnce(dir string) error {
	for {
		err := unix.Rmdir(dir)
		switch err {
		case nil, unix.ENOENT:
			return nil
		case unix.EINTR:
			continue
		}
		return err
	}
}
