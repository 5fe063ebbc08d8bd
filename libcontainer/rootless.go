package libcontainer

import (
	"errors"
	"maps"
	"os"
	"strings"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	bcgroups "github.com/berth-runtime/berth/libcontainer/cgroups"
	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// applyCgroup makes the container's cgroup and, with pid > 0, moves pid
// into it, and returns the cgroup's paths (a copy, for the state). A
// rootless manager (--rootless, or auto for a caller that is not root)
// skips the hierarchies the caller may not write when no cgroupsPath was
// asked for: the library reports cgroups.ErrRootless, which is no
// failure here, as under runc, and the paths it did not make are left
// out. Limits asked for in those hierarchies fail with the library's
// error ("cannot set ... limit" on v1, "rootless needs no limits" on
// v2); an explicit cgroupsPath the caller may not write fails here.
func applyCgroup(mgr cgroups.Manager, pid int, spec *specs.Spec) (map[string]string, error) {
	// The v1 managers write a real-time runtime as they make the cgroup:
	// berth's default parent is given its share first.
	var res *cgroups.Resources
	if cg, err := mgr.GetCgroups(); err == nil && cg != nil {
		res = cg.Resources
	}
	unlock, err := bcgroups.LendRt(mgr, res)
	if err != nil {
		return nil, err
	}
	err = mgr.Apply(pid)
	unlock()
	if err == nil {
		return maps.Clone(mgr.GetPaths()), nil
	}
	if !errors.Is(err, cgroups.ErrRootless) {
		return nil, bcgroups.ExplainRt(err)
	}
	// The v1 managers hand out their own map, which their later calls
	// use: pruned in place; the v2 one a new map each time.
	dropMissingCgroups(mgr.GetPaths())
	paths := maps.Clone(mgr.GetPaths())
	dropMissingCgroups(paths)
	if !configs.HasNamespace(spec, specs.PIDNamespace) {
		// Without a cgroup or a pid namespace of its own nothing can
		// find every process of the container to kill it.
		logrus.Warn("rootless container without a cgroup of its own and without a pid namespace. Such configuration is strongly discouraged: its processes cannot all be found again (kill --all, delete --force)")
	}
	return paths, nil
}

// rootlessMaps says the runtime is not root, so the maps of a new user
// namespace must be written the way the kernel lets an unprivileged
// user (or newuidmap/newgidmap on its behalf) write them, which the
// nsenter map step does (nsenter's idMaps.writeRootless). The plain
// clone path cannot: Go's os/exec writes the maps itself, without
// denying setgroups and without the helpers.
func rootlessMaps() bool { return os.Geteuid() != 0 }

// dropMissingCgroups removes from the manager's paths (the library's own
// map, which its Apply prunes the same way) the directories that were not
// made: the library keeps the named hierarchies (name=systemd, misc, the
// hybrid cgroup2 tree) whose joins it tries best-effort, and a rootless
// caller could not make them. Nothing may later open or join them.
func dropMissingCgroups(paths map[string]string) {
	for key, dir := range paths {
		if _, err := os.Stat(dir); err != nil {
			delete(paths, key)
		}
	}
}

// procUserInitIno is the inode number of the initial user namespace's
// nsfs file (PROC_USER_INIT_INO in the kernel's uapi linux/nsfs.h), fixed
// by the kernel: the one sure sign of the initial namespace.
const procUserInitIno = 0xEFFFFFFD

// RunningInUserNS reports whether this process is in a user namespace
// other than the initial one. The uid_map alone cannot tell: a namespace
// whose map is the full identity, "0 0 4294967295" as the initial one's
// (systemd's PrivateUsers=full), is still not the initial one, and in it
// berth cannot make device nodes or write a devices cgroup. So the
// namespace's inode decides, and the map only where the inode says
// nothing: a kernel without /proc/self/ns/user, or OpenVZ, which numbers
// namespaces its own way. moby/sys/userns (the devices driver's) decides
// the same way, but reads the map through an *os.File (see below).
func RunningInUserNS() bool {
	var st unix.Stat_t
	err := unix.Stat("/proc/self/ns/user", &st)
	switch {
	case err == nil && st.Ino == procUserInitIno:
		return false
	case err == nil && !openVZ():
		return true
	}
	// A bare read, no *os.File: init calls this, and an os.File would
	// start the Go runtime's poller (an epoll and an eventfd that the
	// created init would then hold).
	data, err := utils.ReadSmallFile("/proc/self/uid_map", 64<<10)
	if err != nil {
		return false
	}
	return !isInitialUIDMap(string(data))
}

// openVZ reports an OpenVZ container (its /proc/vz without the host's
// /proc/bc).
func openVZ() bool {
	return unix.Access("/proc/vz", unix.F_OK) == nil && unix.Access("/proc/bc", unix.F_OK) != nil
}

func isInitialUIDMap(m string) bool {
	lines := strings.Split(strings.TrimSpace(m), "\n")
	if len(lines) != 1 {
		return false
	}
	f := strings.Fields(lines[0])
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
}

// rootfsInUserNS says whether the rootfs is built inside a user namespace,
// new (the config's) or inherited (the runtime already ran in one, as
// under rootless Podman): either way device nodes cannot be made with
// mknod, only bound from the host.
func rootfsInUserNS(configured bool) bool {
	return configured || RunningInUserNS()
}
