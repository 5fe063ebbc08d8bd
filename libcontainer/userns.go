package libcontainer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/nsenter"
)

// In a user namespace, new or joined, init becomes the namespace's root
// before it builds the rootfs (see becomeNamespaceRoot): what it opens
// before dropping to the process's user must belong to that root's host
// IDs.

// rootMapped reports whether container uid 0 and gid 0 are both mapped.
func rootMapped(l *specs.Linux) bool {
	_, uok := configs.HostID(l.UIDMappings, 0)
	_, gok := configs.HostID(l.GIDMappings, 0)
	return uok && gok
}

// procUserNSPid returns PID when path is /proc/PID/ns/user: a joined
// user namespace named through a process. (No package-level regexp: its
// compile would run in every berth process, init included.)
func procUserNSPid(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/proc/")
	if !ok {
		return "", false
	}
	pid, ok := strings.CutSuffix(rest, "/ns/user")
	if !ok || pid == "" || strings.Trim(pid, "0123456789") != "" {
		return "", false
	}
	return pid, true
}

// userNSMaps returns the uid and gid maps of the container's user
// namespace: the config's for a new one, the holder process's for one
// joined as /proc/PID/ns/user, and for any other namespace file (a bind
// mount) those nsenter.UserNSMaps reads by joining it. ok is false
// without a user namespace.
func userNSMaps(spec *specs.Spec) (uids, gids []specs.LinuxIDMapping, ok bool, err error) {
	ns, has := configs.FindNamespace(spec, specs.UserNamespace)
	if !has {
		return nil, nil, false, nil
	}
	if ns.Path == "" {
		return spec.Linux.UIDMappings, spec.Linux.GIDMappings, true, nil
	}
	pid, isProc := procUserNSPid(ns.Path)
	if !isProc {
		uids, gids, err := nsenter.UserNSMaps(ns.Path)
		if err != nil {
			return nil, nil, false, err
		}
		return uids, gids, true, nil
	}
	read := func(name string) ([]specs.LinuxIDMapping, error) {
		data, err := os.ReadFile("/proc/" + pid + "/" + name)
		if err != nil {
			return nil, fmt.Errorf("read %s of user namespace %s: %w", name, ns.Path, err)
		}
		return configs.ParseIDMap(string(data))
	}
	if uids, err = read("uid_map"); err != nil {
		return nil, nil, false, err
	}
	if gids, err = read("gid_map"); err != nil {
		return nil, nil, false, err
	}
	return uids, gids, true, nil
}

// standInID is the ID (in the namespace) init takes in a user namespace
// with maps before it builds the rootfs: the namespace's root, or where
// it maps no 0, the process's own ID (own) if mapped, else the lowest
// mapped one. ok is false when nothing is mapped.
func standInID(maps []specs.LinuxIDMapping, own uint32) (id uint32, ok bool) {
	if _, ok := configs.HostID(maps, 0); ok {
		return 0, true
	}
	if _, ok := configs.HostID(maps, own); ok {
		return own, true
	}
	for _, m := range maps {
		if m.Size > 0 && (!ok || m.ContainerID < id) {
			id, ok = m.ContainerID, true
		}
	}
	return id, ok
}

// chownFifoToRoot gives exec.fifo to the host IDs of the user
// namespace's root (or its stand-in, standInID): init opens it for
// writing as that user.
func chownFifoToRoot(path string, spec *specs.Spec) error {
	uids, gids, ok, err := userNSMaps(spec)
	if err != nil || !ok {
		return err
	}
	var user specs.User
	if spec.Process != nil {
		user = spec.Process.User
	}
	cuid, uok := standInID(uids, user.UID)
	cgid, gok := standInID(gids, user.GID)
	if !uok || !gok {
		return nil
	}
	uid, _ := configs.HostID(uids, cuid)
	gid, _ := configs.HostID(gids, cgid)
	if err := os.Chown(path, int(uid), int(gid)); err != nil {
		return fmt.Errorf("chown exec fifo to container root %d:%d: %w", uid, gid, err)
	}
	return nil
}

// cgroupOwner is the host uid a container's cgroup is given to, by runc's
// rule: with a cgroup namespace and a writable cgroup mount on
// /sys/fs/cgroup, the user of the container's process (its host uid,
// through the user namespace if there is one) owns its cgroup, so that it
// can manage the subtree delegated to it. nil when the rule does not
// apply, or the uid is not mapped (the config's other checks speak of
// that).
func cgroupOwner(spec *specs.Spec) *int {
	if !configs.HasNamespace(spec, specs.CgroupNamespace) || !rwCgroupMount(spec.Mounts) {
		return nil
	}
	uid := uint32(0)
	if spec.Process != nil {
		uid = spec.Process.User.UID
	}
	if uids, _, ok, err := userNSMaps(spec); err != nil {
		return nil
	} else if ok {
		host, mapped := configs.HostID(uids, uid)
		if !mapped {
			return nil
		}
		uid = host
	}
	owner := int(uid)
	return &owner
}

// rwCgroupMount says whether mounts put a writable cgroup filesystem on
// /sys/fs/cgroup, its options read as the mount reads them.
func rwCgroupMount(mounts []specs.Mount) bool {
	for _, m := range mounts {
		if m.Source != "cgroup" || filepath.Clean(m.Destination) != "/sys/fs/cgroup" {
			continue
		}
		if mf, err := configs.ParseMountOptions(m.Options); err == nil && mf.Flags&unix.MS_RDONLY == 0 {
			return true
		}
	}
	return false
}
