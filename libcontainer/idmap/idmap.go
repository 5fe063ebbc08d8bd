// Package idmap makes idmapped mounts (mounts[].uidMappings/gidMappings,
// the idmap and ridmap options): a user namespace holding the mount's
// mappings, attached to a detached mount tree with mount_setattr
// (MOUNT_ATTR_IDMAP). A file owned by id N on disk then shows as the host
// id the mapping gives N, and through the container's user namespace as
// whatever that id is there.
package idmap

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// procIDMaps converts OCI mappings to the form os/exec writes to
// uid_map/gid_map: "ContainerID HostID Size" per line, the mount's
// "containerID" being the id on disk.
func procIDMaps(maps []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(maps))
	for i, m := range maps {
		out[i] = syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)}
	}
	return out
}

// Userns returns a handle on a new user namespace with the given
// mappings. The kernel makes a user namespace only for a process, so a
// child is started in one (os/exec writes its maps) and stopped by
// ptrace at its execve, before it runs anything; the namespace outlives
// it through the returned handle. The child is berth's own binary, never
// run, and it is killed and reaped before Userns returns.
func Userns(uids, gids []specs.LinuxIDMapping) (*os.File, error) {
	if len(uids) == 0 || len(gids) == 0 {
		return nil, errors.New("idmap: a user namespace needs uid and gid mappings")
	}
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{"berth-idmap-userns"},
		Env:  []string{},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER,
			UidMappings: procIDMaps(uids),
			GidMappings: procIDMaps(gids),
			Ptrace:      true,
			Pdeathsig:   syscall.SIGKILL,
		},
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("idmap: start a process in a user namespace with the mount's mappings: %w", err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	path := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/user"
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("idmap: open %s: %w", path, err)
	}
	return f, nil
}

// Apply makes the detached mount tree an idmapped mount through userns:
// its top mount, or with recursive every mount in it.
func Apply(tree int, userns *os.File, recursive bool) error {
	flags := uint(unix.AT_EMPTY_PATH)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := unix.MountSetattr(tree, "", flags, attr); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("mount_setattr MOUNT_ATTR_IDMAP: %w (%s)", err, unsupportedFS(tree))
		}
		return fmt.Errorf("mount_setattr MOUNT_ATTR_IDMAP: %w", err)
	}
	return nil
}

// unsupportedFS names the likely cause of EINVAL from mount_setattr: a
// filesystem the kernel does not idmap (overlayfs, for one, takes
// idmapped layers but cannot be an idmapped mount itself).
func unsupportedFS(tree int) string {
	var st unix.Statfs_t
	if err := unix.Fstatfs(tree, &st); err == nil && st.Type == unix.OVERLAYFS_SUPER_MAGIC {
		return "overlayfs does not support idmapped mounts: idmap its layers instead"
	}
	return "the filesystem may not support idmapped mounts"
}
