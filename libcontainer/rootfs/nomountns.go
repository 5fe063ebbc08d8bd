package rootfs

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

// A container without a mount namespace of its own shares the caller's
// mount table: a pivot_root or an MS_MOVE there would change what every
// process of the caller's namespace sees (on a host, the whole machine).
// runc enters such a container's root with chroot and makes config.json's
// mounts in the caller's namespace; berth does the same, with three
// differences that keep the caller's namespace as it was once the
// container is deleted:
//   - the runtime binds the rootfs onto itself first (HostTree), private,
//     so the container's mounts sit under one mount of berth's own and are
//     not copied into the namespaces that receive the caller's mounts;
//     runc makes the caller's whole "/" a slave instead;
//   - delete (or a failed create) detaches that mount, and every mount of
//     the container with it, once its mount ID says it is still berth's;
//     runc leaves them (its host-mntns.bats unmounts them itself);
//   - a tree covered by a later container's on the same rootfs cannot be
//     reached by its path when its own container is deleted first: the
//     later container records it (HostTree.Covers) and its delete takes
//     it too, once the container it was made for is gone;
//   - nothing is ever mounted on the caller's own "/" (a rootfs that is
//     "/"), and a user namespace, which may not mount in the caller's
//     namespace, is refused.
// configs.Validate refuses what would need a remount of the container's
// "/" or its paths (masked and read-only paths, root.readonly,
// rootfsPropagation), as runc does for the first two.

// NeedsHostTree reports whether a container of spec gets a HostTree: no
// mount namespace of its own, and mounts to make.
func NeedsHostTree(spec *specs.Spec) bool {
	return !configs.HasNamespace(spec, specs.MountNamespace) && len(spec.Mounts) > 0
}

// MountRef names a mount by its mount ID: the unique 64-bit one where the
// kernel has it (STATX_MNT_ID_UNIQUE, never reused), else the reusable one.
type MountRef struct {
	MountID uint64 `json:"mnt_id"`
	Unique  bool   `json:"unique,omitempty"`
}

// HostTree is the runtime's bind of a rootfs onto itself in the caller's
// mount namespace, named by its mount ID.
type HostTree struct {
	MountRef
	// Covers lists the trees of other containers without a mount
	// namespace that were beneath this one on the same rootfs when it was
	// attached, the nearest first: the container's own tree and, in turn,
	// what that one covered.
	Covers []CoveredTree `json:"covers,omitempty"`
}

// CoveredTree is the HostTree of another container that a later one
// covers.
type CoveredTree struct {
	Container string `json:"container"`
	MountRef
}

// HostTreeClone is a HostTree not attached yet: a detached, private,
// recursive clone of the rootfs, whose mount ID is known before it is
// mounted anywhere. A create records that ID and then attaches the
// clone: killed before, it leaves nothing; after, its record.
type HostTreeClone struct {
	Tree HostTree
	// Beneath is the mount at the rootfs the clone was made from, which
	// the attached clone covers.
	Beneath MountRef
	rootfs  string
	fd      int
	// lock is the rootfs directory, flock'ed from the clone to Close:
	// creates on one rootfs take turns from clone to attach, so that a
	// later one always clones, and so knows, the tree it covers.
	lock int
}

// CloneHostTree clones the mount tree at rootfs, detached and private.
// Until Close, other clones of rootfs wait.
func CloneHostTree(rootfs string) (*HostTreeClone, error) {
	if err := refuseHostRoot(rootfs); err != nil {
		return nil, err
	}
	lock, err := unix.Open(rootfs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("clone rootfs %s: %w", rootfs, &os.PathError{Op: "open", Path: rootfs, Err: err})
	}
	if err := unix.Flock(lock, unix.LOCK_EX); err != nil {
		// A file system without locks (some FUSE ones) only loses the
		// ordering of creates that race on one rootfs.
		unix.Close(lock)
		lock = -1
	}
	c := &HostTreeClone{rootfs: rootfs, fd: -1, lock: lock}
	if err := c.clone(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *HostTreeClone) clone() error {
	rootfs := c.rootfs
	h, err := openHost(rootfs, unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("clone rootfs %s: %w", rootfs, err)
	}
	defer h.Close()
	if c.Beneath, err = mountID(h, true); err != nil {
		return err
	}
	// The clone is of the mount h is on: the same lookup, through h.
	if c.fd, err = unix.OpenTree(int(h), "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH); err != nil {
		c.fd = -1
		return fmt.Errorf("clone rootfs %s: open_tree: %w", rootfs, err)
	}
	if err := setattr(c.fd, true, 0, 0, unix.MS_PRIVATE); err != nil {
		return fmt.Errorf("clone rootfs %s: %w", rootfs, err)
	}
	c.Tree.MountRef, err = mountID(handle(c.fd), true)
	return err
}

// Attach mounts the clone onto the rootfs. Under a shared parent the
// attached tree joins a peer group: it is made private again, so the
// container's mounts made under it stay in the caller's namespace.
func (c *HostTreeClone) Attach() error {
	if err := unix.MoveMount(c.fd, "", unix.AT_FDCWD, c.rootfs, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind mount rootfs %s: move_mount: %w", c.rootfs, err)
	}
	if err := setattr(c.fd, true, 0, 0, unix.MS_PRIVATE); err != nil {
		return fmt.Errorf("make rootfs %s private: %w", c.rootfs, err)
	}
	return nil
}

// Close drops the clone's handle (a clone never attached goes with it)
// and lets the next clone of the rootfs go on.
func (c *HostTreeClone) Close() {
	if c == nil {
		return
	}
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
	if c.lock >= 0 {
		unix.Close(c.lock)
		c.lock = -1
	}
}

// Remove detaches t, with every mount under it, if rootfs's top mount is
// still t; when it is not (covered by a later container's tree, or
// unmounted by someone else) it leaves everything as it is. Once t is
// gone, the trees it covered come to the top in turn: each is detached
// too while gone says its container no longer exists (its delete could
// not reach it) and it is the top mount, and the first that is not ends
// the walk.
func (t *HostTree) Remove(rootfs string, gone func(CoveredTree) bool) error {
	removed, err := removeTop(rootfs, t.MountRef)
	for _, c := range t.Covers {
		if err != nil || !removed || gone == nil || !gone(c) {
			break
		}
		removed, err = removeTop(rootfs, c.MountRef)
	}
	return err
}

// removeTop detaches rootfs's top mount, with every mount under it, if
// it is ref, and says whether it did.
func removeTop(rootfs string, ref MountRef) (bool, error) {
	h, err := openHost(rootfs, unix.O_DIRECTORY)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer h.Close()
	top, err := mountID(h, ref.Unique)
	if err != nil || top != ref {
		return false, err
	}
	// The check and the unmount act on the same mount: the handle's.
	if err := unix.Unmount(procFdPath(h), unix.MNT_DETACH); err != nil {
		return false, fmt.Errorf("unmount rootfs %s: %w", rootfs, err)
	}
	return true, nil
}

// mountID is the mount h is on; named by the unique ID when asked for and
// the kernel has it.
func mountID(h handle, wantUnique bool) (MountRef, error) {
	mask := unix.STATX_MNT_ID
	if wantUnique {
		mask = unix.STATX_MNT_ID_UNIQUE
	}
	var stx unix.Statx_t
	if err := unix.Statx(int(h), "", unix.AT_EMPTY_PATH|unix.AT_STATX_DONT_SYNC, mask, &stx); err != nil {
		return MountRef{}, fmt.Errorf("statx %s: %w", procFdPath(h), err)
	}
	switch {
	case stx.Mask&unix.STATX_MNT_ID_UNIQUE != 0:
		return MountRef{MountID: stx.Mnt_id, Unique: true}, nil
	case stx.Mask&unix.STATX_MNT_ID != 0:
		return MountRef{MountID: stx.Mnt_id}, nil
	case wantUnique:
		return mountID(h, false)
	}
	return MountRef{}, errors.New("statx: the kernel reports no mount ID")
}

// refuseHostRoot refuses a rootfs that is the caller's own "/": its
// mounts would be made over the host's /proc, /dev and /sys.
func refuseHostRoot(rootfs string) error {
	if configs.SameFile(rootfs, "/") {
		return fmt.Errorf("rootfs %s is the caller's own \"/\": its mounts without a private MNT namespace would be made over the host's paths", rootfs)
	}
	return nil
}

// prepareNoMountNS is Prepare without a mount namespace: config.json's
// mounts under the runtime's HostTree, then the default and configured
// device nodes (made with mknod, as runc does) and the cwd; the mounts
// whose "ro" waits for the devices are made read-only here, as there is
// no Finish for them.
func prepareNoMountNS(cfg *Config) error {
	switch {
	case cfg.NoPivot:
		return configs.ErrNoPivotNoMountNS
	case cfg.UserNS:
		// A user namespace's devices are bind mounts, and it may not
		// mount in the caller's namespace.
		return errors.New("a user namespace without a private MNT namespace cannot have its devices bound")
	}
	if len(cfg.Spec.Mounts) > 0 {
		if err := refuseHostRoot(cfg.Rootfs); err != nil {
			return err
		}
	}
	root, err := openHost(cfg.Rootfs, unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("open rootfs: %w", err)
	}
	defer root.Close()
	if err := fillRoot(cfg, root); err != nil {
		return err
	}
	return finishReadonlyMounts(root, cfg.Spec.Mounts)
}

// chrootInto makes rootfs the process's root without touching any mount.
func chrootInto(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir %s: %w", rootfs, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot %s: %w", rootfs, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir / in %s: %w", rootfs, err)
	}
	return nil
}

// EnterForExec puts a process joining a container without a mount
// namespace into the container's root: joining the container's other
// namespaces leaves it at the caller's "/", where init's chroot does not
// reach. With a mount namespace, joining it is the way in.
func EnterForExec(cfg *Config) error {
	if cfg.MountNS {
		return nil
	}
	return chrootInto(cfg.Rootfs)
}
