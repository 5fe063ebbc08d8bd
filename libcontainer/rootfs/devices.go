package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultDevices are the nodes every container gets (runtime-spec
// config-linux.md, "Default Devices").
func defaultDevices() []specs.LinuxDevice {
	mode := os.FileMode(0o666)
	dev := func(path string, major, minor int64) specs.LinuxDevice {
		return specs.LinuxDevice{Path: path, Type: "c", Major: major, Minor: minor, FileMode: &mode}
	}
	return []specs.LinuxDevice{
		dev("/dev/null", 1, 3), dev("/dev/zero", 1, 5), dev("/dev/full", 1, 7),
		dev("/dev/random", 1, 8), dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0),
	}
}

// makeDevices creates the default devices, config.json's linux.devices
// and the usual /dev links.
func makeDevices(cfg *Config, root handle) error {
	devs := defaultDevices()
	seen := map[string]int{}
	for i, d := range devs {
		seen[d.Path] = i
	}
	for _, d := range cfg.Spec.Linux.Devices {
		if i, ok := seen[filepath.Clean(d.Path)]; ok {
			devs[i] = d
			continue
		}
		devs = append(devs, d)
	}
	// One handle per parent directory (nearly always just /dev).
	parents := map[string]handle{}
	defer func() {
		for _, h := range parents {
			h.Close()
		}
	}()
	for _, d := range devs {
		dir, base := filepath.Split(filepath.Clean(d.Path))
		parent, ok := parents[dir]
		if !ok {
			var err error
			if parent, err = mkdirAllInRoot(root, dir, 0o755); err != nil {
				return fmt.Errorf("create device %s: %w", d.Path, err)
			}
			parents[dir] = parent
		}
		if err := makeDevice(cfg, root, parent, base, d); err != nil {
			return fmt.Errorf("create device %s: %w", d.Path, err)
		}
	}
	dev, ok := parents["/dev/"]
	if !ok {
		var err error
		if dev, err = mkdirAllInRoot(root, "/dev", 0o755); err != nil {
			return fmt.Errorf("open /dev: %w", err)
		}
		parents["/dev/"] = dev
	}
	links := [][2]string{
		{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "core"})
	}
	if ptmx, err := openInRoot(root, "/dev/pts/ptmx"); err == nil {
		ptmx.Close()
		// The container's ptmx must be its own devpts instance's.
		_ = unix.Unlinkat(int(dev), "ptmx", 0)
		links = append(links, [2]string{"pts/ptmx", "ptmx"})
	}
	for _, l := range links {
		if err := unix.Symlinkat(l[0], int(dev), l[1]); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink /dev/%s: %w", l[1], err)
		}
	}
	return nil
}

// makeDevice makes the node d as base in the directory parent.
func makeDevice(cfg *Config, root, parent handle, base string, d specs.LinuxDevice) error {
	pfd := int(parent)
	if cfg.UserNS {
		return bindDevice(root, pfd, base, d)
	}
	var typ uint32
	switch d.Type {
	case "c", "u":
		typ = unix.S_IFCHR
	case "b":
		typ = unix.S_IFBLK
	case "p":
		typ = unix.S_IFIFO
	default:
		return fmt.Errorf("unknown device type %q", d.Type)
	}
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	devnum := int(unix.Mkdev(uint32(d.Major), uint32(d.Minor)))
	err := unix.Mknodat(pfd, base, typ|perm, devnum)
	if errors.Is(err, unix.EEXIST) {
		// The image ships something there: replace it, never write through it.
		if err := unix.Unlinkat(pfd, base, 0); err != nil {
			return fmt.Errorf("remove existing %s: %w", d.Path, err)
		}
		err = unix.Mknodat(pfd, base, typ|perm, devnum)
	}
	if err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if uid != -1 || gid != -1 {
		if err := unix.Fchownat(pfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
	}
	return nil
}

// bindDevice binds the host's node onto an empty file: inside a user
// namespace mknod is not allowed.
func bindDevice(root handle, pfd int, base string, d specs.LinuxDevice) error {
	fd, err := unix.Openat(pfd, base, unix.O_CREAT|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("create bind target: %w", err)
	}
	unix.Close(fd)
	dst, err := openInRoot(root, d.Path)
	if err != nil {
		return err
	}
	defer dst.Close()
	src, err := openHost(d.Path, 0)
	if err != nil {
		return fmt.Errorf("open host device: %w", err)
	}
	defer src.Close()
	return bindFd(src, dst, false, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC, 0)
}
