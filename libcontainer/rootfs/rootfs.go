// Package rootfs builds a container's root filesystem inside its new mount
// namespace: the bind of the rootfs onto itself, every mount of
// config.json, /dev, pivot_root, and the masked and read-only paths.
// Every path inside the rootfs is resolved with in-root resolution
// (pathrs-lite) and acted on by fd.
package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

// Config is what the rootfs set-up needs to know.
type Config struct {
	Rootfs string // absolute host path of the root filesystem
	Bundle string // relative bind sources resolve against it
	Spec   *specs.Spec
	// NoPivot uses MS_MOVE + chroot instead of pivot_root (--no-pivot).
	NoPivot bool
	// CgroupPaths are the container's cgroup directories per controller
	// ("" for the cgroup2 hierarchy) and CgroupPath its path inside each
	// hierarchy: type "cgroup" mounts bind those directories.
	CgroupPaths map[string]string
	CgroupPath  string
	// CgroupNS says the container has its own cgroup namespace.
	CgroupNS bool
	// UserNS says the container runs in a new user namespace: devices are
	// bind-mounted from the host instead of made with mknod.
	UserNS bool
	// MountNS says the container has a mount namespace (new or joined).
	// Without one init is in the caller's mount namespace: the mounts are
	// made under the runtime's HostTree and the root is entered with
	// chroot (see nomountns.go).
	MountNS bool
	// OpenSource asks the runtime for a detached clone of the source of
	// Spec.Mounts[i] (a bind), for a source init cannot reach from its
	// user namespace. Nil: no runtime to ask.
	OpenSource func(i int) (int, error)
	// MountInNS, when set, mounts the filesystems that take their
	// namespace from the mounting task (proc: its pid namespace; cgroup2
	// in a cgroup namespace) on dst, in the container's process: the
	// caller then builds the rootfs from outside those namespaces (a
	// direct init's thread). Nil: mounted here, with mountAt.
	MountInNS func(source, fstype string, flags uintptr, data string, dst int) error
	// ProcPidNS, when set with MountInNS, is an fd of the process's pid
	// namespace: its proc is then mounted here (mountProcOf), without a
	// round trip to the process, where the kernel can. Not for a process
	// in a user namespace of its own, whose proc that namespace owns.
	ProcPidNS *os.File
	// AwaitCgroup and AwaitCgroupJoin, when set, are called by a "cgroup"
	// mount, the one mount that needs the container's cgroup: a direct
	// init's rootfs is built while the runtime still makes it. The first
	// returns once the cgroup's directories exist (they are bound), with
	// CgroupPaths and CgroupPath set; the second, before a cgroup
	// namespace's own cgroup2 is mounted (by the process, MountInNS), once
	// the process is in its cgroup and namespace. Either returns why that
	// will never be, if so.
	AwaitCgroup     func() error
	AwaitCgroupJoin func() error
}

// mountOwn mounts a filesystem that takes its namespace from the
// mounting task (Config.MountInNS).
func (cfg *Config) mountOwn(source, fstype string, flags uintptr, data string, dst handle) error {
	if cfg.MountInNS == nil {
		return mountAt(source, fstype, flags, data, dst)
	}
	if fstype == "proc" && cfg.ProcPidNS != nil {
		// Whatever is refused here (a kernel without pidns=, an
		// option) the process's own mount reports, as before.
		if mountProcOf(int(cfg.ProcPidNS.Fd()), source, flags, data, dst) == nil {
			return nil
		}
	}
	if err := cfg.MountInNS(source, fstype, flags, data, int(dst)); err != nil {
		return fmt.Errorf("mount: %w", err)
	}
	return nil
}

// Prepare does everything that happens before pivot_root.
func Prepare(cfg *Config) error {
	if !cfg.MountNS {
		return prepareNoMountNS(cfg)
	}
	// Every mount of the new namespace starts as a slave of the caller's,
	// unless rootfsPropagation is shared or rshared: then the copy takes
	// that mode first, as under runc. rshared keeps the copies of the
	// caller's shared mounts in their peer groups: a bind of one of them
	// (a volume) is then a peer of the caller's mount, and what the
	// container mounts under it reaches the caller, as Kubernetes'
	// Bidirectional mount propagation asks (containerd sets
	// rootfsPropagation rshared for it). The other modes are not applied
	// to the copy (runc does): an unbindable one could not be bound (runc
	// fails every bind then), and a private or slave "/" alone would
	// leave the other copies peers of the caller's. Finish applies
	// rootfsPropagation to the container's "/" after pivot_root.
	flags := uintptr(unix.MS_SLAVE | unix.MS_REC)
	asked, _ := configs.PropagationFlags(cfg.Spec.Linux.RootfsPropagation) // 0 if unset; Validate refused others
	if asked&unix.MS_SHARED != 0 {
		flags = asked
	}
	if err := unix.Mount("", "/", "", flags, ""); err != nil {
		return fmt.Errorf("set propagation of / : %w", err)
	}
	if !cfg.NoPivot {
		// On an initramfs pivot_root needs a root with a parent.
		if err := leaveNamespaceRoot(); err != nil {
			return err
		}
	}
	// The mount the rootfs is on, made private, makes the bind below a
	// mount of its own, with no master and no peer: the bind does not
	// appear in the caller's namespace, and the container's "/" does not
	// receive what the caller mounts under the rootfs later, as under
	// runc. rootfsPropagation slave or rslave asks for those mounts: that
	// mount is made a slave then (a shared one would pass the bind on).
	// Finish applies rootfsPropagation to the container's "/", after
	// pivot_root.
	parent := uintptr(unix.MS_PRIVATE)
	if asked&unix.MS_SLAVE != 0 {
		parent = unix.MS_SLAVE
	}
	if err := parentMountPropagation(cfg.Rootfs, parent); err != nil {
		return err
	}
	// pivot_root needs the new root to be a mount point.
	if err := unix.Mount(cfg.Rootfs, cfg.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind mount rootfs %s: %w", cfg.Rootfs, err)
	}
	root, err := openHost(cfg.Rootfs, unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("open rootfs: %w", err)
	}
	defer root.Close()
	return fillRoot(cfg, root)
}

// parentMountPropagation gives the mount that path is on the propagation
// flags (MS_PRIVATE or MS_SLAVE): path's own if it is a mount point, else
// that of the nearest parent that is one (mount(2) says EINVAL for a path
// that is not a mount point).
func parentMountPropagation(path string, flags uintptr) error {
	for p := path; ; p = filepath.Dir(p) {
		err := unix.Mount("", p, "", flags, "")
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EINVAL) || p == "/" {
			return fmt.Errorf("set the propagation of the mount of rootfs %s (at %s): %w", path, p, err)
		}
	}
}

// fillRoot makes config.json's mounts under root, in order, then the
// device nodes (unless /dev is a bind, which stands for them) and the
// process's cwd.
func fillRoot(cfg *Config, root handle) error {
	devBound := false
	for i, m := range cfg.Spec.Mounts {
		if filepath.Clean(m.Destination) == "/dev" && configs.IsBind(m) {
			devBound = true
		}
		if err := mountOne(cfg, root, i, m); err != nil {
			return fmt.Errorf("error mounting %q to rootfs at %q: %w", mountSource(m), m.Destination, err)
		}
	}
	if !devBound {
		if err := makeDevices(cfg, root); err != nil {
			return err
		}
	}
	return makeCwd(root, cfg.Spec.Process)
}

// makeCwd creates the process's cwd when the image lacks it, as runc
// does, while the root is still writable; a cwd that exists but is not
// a directory fails create rather than start.
func makeCwd(root handle, p *specs.Process) error {
	if p == nil || p.Cwd == "" {
		return nil
	}
	h, err := mkdirAllInRoot(root, p.Cwd, 0o755)
	if err != nil {
		return fmt.Errorf("create cwd %q: %w", p.Cwd, err)
	}
	return h.Close()
}

func mountSource(m specs.Mount) string {
	if m.Source != "" {
		return m.Source
	}
	return m.Type
}

// resolveDest resolves dest inside root, creating it (a directory, or an
// empty file when file is true) when missing.
//
// A destination through a dangling symlink (an image's /etc/hosts that
// points at a file not there yet) is made where the link points, inside
// the root, as runc does: the symlinks are read lexically (securejoin)
// only to name that candidate path, which is then resolved and created
// in-root by fd like any other.
func resolveDest(root handle, dest string, file bool) (handle, error) {
	h, err := resolveDestPath(root, dest, file)
	if err == nil {
		return h, nil
	}
	alt, ok := danglingTarget(root, dest)
	if !ok {
		return -1, err
	}
	if h, aerr := resolveDestPath(root, alt, file); aerr == nil {
		return h, nil
	}
	return -1, err
}

// danglingTarget is dest with its symlinks followed inside root, dangling
// ones included; ok is false when that names nothing new.
func danglingTarget(root handle, dest string) (string, bool) {
	rootPath, err := os.Readlink(procFdPath(root))
	if err != nil {
		return "", false
	}
	alt, ok := InRootPath(rootPath, dest)
	return alt, ok && alt != filepath.Clean("/"+dest)
}

// InRootPath is p (a path inside the root filesystem at rootPath) with
// the symlinks under rootPath followed inside it, dangling ones included:
// where a mount at p lands. It reads the links lexically (securejoin), so
// it only names a path; whatever is done there is still resolved in-root
// by fd.
func InRootPath(rootPath, p string) (string, bool) {
	joined, err := securejoin.SecureJoin(rootPath, p)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(rootPath, joined)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return filepath.Clean("/" + rel), true
}

func resolveDestPath(root handle, dest string, file bool) (handle, error) {
	if !file {
		h, err := mkdirAllInRoot(root, dest, 0o755)
		if err != nil {
			return -1, fmt.Errorf("create mount point: %w", err)
		}
		return h, nil
	}
	if h, err := openInRoot(root, dest); err == nil {
		return h, nil
	}
	dir, base := filepath.Split(filepath.Clean(dest))
	parent, err := mkdirAllInRoot(root, dir, 0o755)
	if err != nil {
		return -1, fmt.Errorf("create mount point parent: %w", err)
	}
	defer parent.Close()
	// O_NOFOLLOW|O_EXCL: never create through a symlink planted in the rootfs.
	fd, err := unix.Openat(int(parent), base, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("create mount point file %s: %w", dest, err)
	}
	if err == nil {
		unix.Close(fd)
	}
	h, err := openInRoot(root, dest)
	if err != nil {
		return -1, fmt.Errorf("open mount point: %w", err)
	}
	return h, nil
}

func mountOne(cfg *Config, root handle, i int, m specs.Mount) error {
	mf, err := configs.ParseMountOptions(m.Options)
	if err != nil {
		return err
	}
	if deferredReadonly(m, mf) {
		mf.Flags &^= unix.MS_RDONLY // made read-only by Finish
	}
	atProc, err := checkProcDest(cfg, root, m)
	if err != nil {
		return err
	}
	var dst handle
	switch {
	case configs.IsBind(m):
		dst, err = mountBind(cfg, root, i, m, mf, atProc)
	case m.Type == "cgroup" || m.Type == "cgroup2":
		dst, err = mountCgroup(cfg, root, m, mf)
	default:
		dst, err = mountFilesystem(cfg, root, m, mf)
	}
	if err != nil {
		return err
	}
	defer dst.Close()
	if len(mf.Propagation) == 0 && mf.RecAttrSet == 0 && mf.RecAttrClr == 0 {
		return nil
	}
	// dst names the directory under the new mount; reopen to get the mount.
	top, err := openInRoot(root, m.Destination)
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	defer top.Close()
	for _, p := range mf.Propagation {
		if err := unix.Mount("", procFdPath(top), "", p, ""); err != nil {
			return fmt.Errorf("set propagation: %w", err)
		}
	}
	if mf.RecAttrSet != 0 || mf.RecAttrClr != 0 {
		return setattr(int(top), true, mf.RecAttrSet, mf.RecAttrClr, 0)
	}
	return nil
}

func mountFilesystem(cfg *Config, root handle, m specs.Mount, mf configs.MountFlags) (handle, error) {
	if m.Type == "tmpfs" {
		return mountTmpfs(root, m, mf)
	}
	procfs := m.Type == "proc" || m.Type == "sysfs"
	if procfs {
		if err := checkOrdinaryDir(root, m); err != nil {
			return -1, err
		}
	}
	dst, err := resolveDest(root, m.Destination, false)
	if err != nil {
		return -1, err
	}
	if procfs {
		// CVE-2023-27561: a /proc or /sys that is a symlink in the image
		// could point the mount somewhere it hides host files.
		if err := checkNoSymlink(cfg.Rootfs, root, m, dst); err != nil {
			dst.Close()
			return -1, err
		}
	}
	flags := mf.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
	data := strings.Join(mf.Data, ",")
	if m.Type == "proc" {
		err = cfg.mountOwn(m.Source, m.Type, flags, data, dst)
	} else {
		err = mountAt(m.Source, m.Type, flags, data, dst)
	}
	if err != nil && m.Type == "sysfs" && cfg.UserNS && errors.Is(err, unix.EPERM) {
		// Without its own network namespace a user-namespaced container
		// may not mount sysfs: bind the host's read-only instead.
		var hostSys handle
		if hostSys, err = openHost("/sys", 0); err == nil {
			err = bindFd(hostSys, dst, true, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC, 0)
			hostSys.Close()
		}
	}
	if err != nil {
		dst.Close()
		return -1, err
	}
	return dst, nil
}

// checkProcDest applies configs.CheckProcDest to where m lands in root,
// symlinks followed: a destination that exists on a procfs (the
// container's /proc, mounted before it) is checked at its real path. One
// that does not exist yet is made later, which procfs refuses; a lexical
// /proc is checked by the config's validation too. atProc says that m
// covers /proc itself, where a bind's source must be a procfs
// (checkProcSource).
func checkProcDest(cfg *Config, root handle, m specs.Mount) (atProc bool, err error) {
	dest := filepath.Clean("/" + m.Destination)
	h, err := openInRoot(root, dest)
	if err != nil {
		return dest == "/proc", configs.CheckProcDest(dest, m)
	}
	defer h.Close()
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(h), &fs); err != nil {
		return false, fmt.Errorf("statfs mount point %s: %w", dest, err)
	}
	if fs.Type == unix.PROC_SUPER_MAGIC {
		real, err := mountPointPath(h, dest)
		if err != nil {
			return false, err
		}
		rel, err := filepath.Rel(cfg.Rootfs, real)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return false, fmt.Errorf("mount point %s resolves to %s, outside the rootfs", dest, real)
		}
		dest = filepath.Clean("/" + rel)
	}
	if err := configs.CheckProcDest(dest, m); err != nil {
		return false, err
	}
	return dest == "/proc", nil
}

// checkProcSource refuses a bind onto /proc whose source is not a procfs.
func checkProcSource(src int, m specs.Mount) error {
	var fs unix.Statfs_t
	if err := unix.Fstatfs(src, &fs); err != nil {
		return fmt.Errorf("statfs source: %w", err)
	}
	if fs.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("only a proc filesystem or a bind of one may be mounted on /proc, and %s is not one", m.Source)
	}
	return nil
}

// errNotOrdinaryDir is runc's refusal of a proc or sysfs mount point
// that is not a plain directory of the image.
func errNotOrdinaryDir(fstype string) error {
	return fmt.Errorf("filesystem %q must be mounted on ordinary directory", fstype)
}

// checkOrdinaryDir refuses a proc or sysfs mount point whose last
// component exists and is not a directory (a symlink, a file), as runc
// does; a missing one is created later.
func checkOrdinaryDir(root handle, m specs.Mount) error {
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(int(root), m.Destination, &how)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open mount point: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat mount point: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return errNotOrdinaryDir(m.Type)
	}
	return nil
}

// checkNoSymlink refuses a mount point whose in-root resolution went
// through a symlink (on the way to its last component, which
// checkOrdinaryDir checked): its real path must be exactly rootfs+dest.
// The usual case is settled without /proc: dest reached from root with
// no symlink at all (openat2's RESOLVE_NO_SYMLINKS) and the same inode
// as h. Only otherwise is h's real path read (procfs, which the first
// use sets up: a private procfs instance), for the check and its words.
func checkNoSymlink(rootfs string, root handle, m specs.Mount, h handle) error {
	dest := m.Destination
	if rel := strings.TrimLeft(filepath.Clean(dest), "/"); rel != "" {
		fd, err := unix.Openat2(int(root), rel, &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_CLOEXEC | unix.O_NOFOLLOW,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err == nil {
			same := sameInode(fd, int(h))
			unix.Close(fd)
			if same {
				return nil
			}
		}
	}
	real, err := mountPointPath(h, dest)
	if err != nil {
		return err
	}
	want := filepath.Join(rootfs, dest)
	if real != want {
		return fmt.Errorf("%w (%s resolves to %s through a symlink)", errNotOrdinaryDir(m.Type), dest, real)
	}
	return nil
}

// mountPointPath reads where the mount point h (dest in the container)
// really is, from its /proc/self/fd link: the one answer that accounts
// for every symlink its resolution followed.
func mountPointPath(h handle, dest string) (string, error) {
	f, err := asFile(h, dest)
	if err != nil {
		return "", err
	}
	defer f.Close()
	real, err := procfs.ProcSelfFdReadlink(f)
	if err != nil {
		return "", fmt.Errorf("readlink mount point %s: %w", dest, err)
	}
	return real, nil
}

// sameInode says whether the fds a and b are the same file.
func sameInode(a, b int) bool {
	var sa, sb unix.Stat_t
	return unix.Fstat(a, &sa) == nil && unix.Fstat(b, &sb) == nil && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// mountCgroup gives the container a view of its own cgroups. On a v2 host
// with a cgroup namespace that is a fresh cgroup2 mount; otherwise the
// container's own cgroup directories are bound: a tmpfs holding one bind
// per v1 hierarchy (and "unified" on a hybrid host).
func mountCgroup(cfg *Config, root handle, m specs.Mount, mf configs.MountFlags) (handle, error) {
	if cfg.AwaitCgroup != nil {
		if err := cfg.AwaitCgroup(); err != nil {
			return -1, err
		}
	}
	dst, err := resolveDest(root, m.Destination, false)
	if err != nil {
		return -1, err
	}
	attrs := msToAttr(mf.Flags)
	unified, isV2 := cfg.CgroupPaths[""]
	if isV2 && len(cfg.CgroupPaths) == 1 {
		if err := mountCgroup2(cfg, unified, dst, mf, attrs); err != nil {
			dst.Close()
			return -1, err
		}
		return dst, nil
	}
	if err := mountAt("tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755", dst); err != nil {
		dst.Close()
		return -1, err
	}
	dst.Close()
	// The fresh tmpfs, opened once: each hierarchy's mount point is made
	// in it (mkdirBeneath), not resolved again from the root. Anything
	// else (a name two hierarchies share, whose directory is already a
	// mount point) takes the general path, as before.
	top, err := openInRoot(root, m.Destination)
	if err != nil {
		return -1, err
	}
	for key, path := range cfg.CgroupPaths {
		mountpoint := strings.TrimSuffix(path, cfg.CgroupPath)
		name := filepath.Base(mountpoint)
		if key == "" {
			name = "unified"
		}
		sub, err := mkdirBeneath(top, name, 0o755)
		if err != nil {
			sub, err = resolveDest(root, filepath.Join(m.Destination, name), false)
		}
		if err != nil {
			top.Close()
			return -1, err
		}
		err = bindHostDir(path, sub, attrs)
		sub.Close()
		if err != nil {
			top.Close()
			return -1, fmt.Errorf("bind cgroup %s: %w", path, err)
		}
	}
	// Leave the tmpfs itself read-only, as the container must not add to it.
	if err := setattr(int(top), false, unix.MOUNT_ATTR_RDONLY, 0, 0); err != nil {
		top.Close()
		return -1, err
	}
	return top, nil
}

// mountCgroup2 mounts the container's cgroup2 view on dst, as runc and
// crun do. With a cgroup namespace: a fresh cgroup2 mount in it (the
// container's cgroup is its root). Without one: a fresh cgroup2 mount
// here, in the runtime's cgroup namespace, so the container sees the
// hierarchy its /proc/self/cgroup names (read-only unless the config
// says otherwise). The mount fails with EBUSY when dst already is the
// root of the host's cgroup2 mount (a rootless /sys is a bind of the
// host's), and with EPERM in a user namespace that does not own the
// cgroup namespace: the same view is then bound from the host, the
// container's own directory with a cgroup namespace, the hierarchy's
// root without.
func mountCgroup2(cfg *Config, unified string, dst handle, mf configs.MountFlags, attrs uint64) error {
	flags := mf.Flags &^ (unix.MS_BIND | unix.MS_REC)
	if cfg.CgroupNS {
		if cfg.AwaitCgroupJoin != nil {
			if err := cfg.AwaitCgroupJoin(); err != nil {
				return err
			}
		}
		err := cfg.mountOwn("cgroup2", "cgroup2", flags, "", dst)
		if !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.EPERM) {
			return err
		}
		return bindHostDir(unified, dst, attrs)
	}
	err := mountAt("cgroup2", "cgroup2", flags, "", dst)
	if !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.EPERM) {
		return err
	}
	return bindHostDir(hierarchyRoot(unified, cfg.CgroupPath), dst, attrs)
}

// hierarchyRoot is the mount point of the cgroup2 hierarchy that holds
// the cgroup directory dir, whose path in the hierarchy is path; the
// usual mount point when path does not end dir.
func hierarchyRoot(dir, path string) string {
	if path != "" && path != "/" {
		if root, ok := strings.CutSuffix(dir, path); ok && root != "" {
			return root
		}
	}
	return "/sys/fs/cgroup"
}

func bindHostDir(path string, dst handle, attrs uint64) error {
	src, err := openHost(path, unix.O_DIRECTORY)
	if err != nil {
		return err
	}
	defer src.Close()
	return bindFd(src, dst, false, attrs, 0)
}
