package cgroups

import (
	"path/filepath"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// v1Subsystems names the hierarchies the library's cgroup v1 manager
// places a container in, in its order (the subsystems list of
// github.com/opencontainers/cgroups/fs); TestKnownV1PathsAreTheLibrarys
// fails when the paths made from it differ from the library's own.
var v1Subsystems = [...]string{
	"cpuset", "devices", "memory", "cpu", "cpuacct", "pids", "blkio", "hugetlb",
	"net_cls", "net_prio", "perf_event", "freezer", "rdma", "name=systemd", "misc",
}

// knownV1Paths returns the cgroup v1 manager's directories for an
// absolute cgroup path, the ones the library would compute itself
// (fs.initPaths), without its read of /proc/self/mountinfo. The library
// takes /sys/fs/cgroup as the hierarchies' root only when the first
// entry it reads there is a cgroup v1 mount; on a hybrid host that entry
// is the cgroup2 mount ("unified"), so every create parsed mountinfo,
// whose size grows with the host's mounts. Here the hierarchies that
// exist are read from /proc/self/cgroup and each one's mount point is
// found as the library finds it. ok is false for anything but that
// layout (a systemd or relative path, a cgroup v2 host, a hierarchy not
// mounted at /sys/fs/cgroup/<name>, no devices hierarchy): the library
// then computes the paths itself.
func knownV1Paths(cg *cgroups.Cgroup) (paths map[string]string, ok bool) {
	if cg.Systemd || cg.Name != "" || cg.Parent != "" || !filepath.IsAbs(cg.Path) || cgroups.IsCgroup2UnifiedMode() {
		return nil, false
	}
	if !isMountedTmpfs(cgroupRoot) {
		return nil, false
	}
	own, err := cgroups.ParseCgroupFile("/proc/self/cgroup")
	if err != nil {
		return nil, false
	}
	inner := filepath.Clean(cg.Path)
	paths = make(map[string]string, len(v1Subsystems)+1)
	for _, name := range v1Subsystems {
		if _, ok := own[name]; !ok {
			if name == "devices" {
				return nil, false // the library's error to give
			}
			continue
		}
		mnt, err := cgroups.FindCgroupMountpoint(cgroupRoot, name)
		if err != nil || filepath.Dir(mnt) != cgroupRoot {
			return nil, false
		}
		paths[name] = filepath.Join(cgroupRoot, filepath.Base(mnt), inner)
	}
	if cgroups.IsCgroup2HybridMode() {
		paths[""] = filepath.Join(hybridUnified, inner)
	}
	return paths, true
}

// isMountedTmpfs reports whether dir is a tmpfs mount point, as the
// library requires of the hierarchies' root.
func isMountedTmpfs(dir string) bool {
	var st, parent unix.Stat_t
	var fs unix.Statfs_t
	if unix.Lstat(dir, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || unix.Lstat(filepath.Dir(dir), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev && unix.Statfs(dir, &fs) == nil && fs.Type == unix.TMPFS_MAGIC
}
