package rootfs

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

// A container without a mount namespace of its own shares the caller's
// mount table: a pivot_root, an MS_MOVE or any mount there would change
// what every process of the caller's namespace sees (on a host, the whole
// machine). runc enters such a container's root with chroot; berth does
// the same and makes no mount at all. configs.Validate refuses the fields
// that need mounts (mounts, masked/readonly paths, root.readonly,
// rootfsPropagation); the checks here hold even if it was bypassed.

// prepareNoMountNS is Prepare without a mount namespace: the default and
// configured device nodes are made with mknod in the image's /dev (as
// runc does), and the cwd is created; nothing is mounted.
func prepareNoMountNS(cfg *Config) error {
	switch {
	case cfg.NoPivot:
		return configs.ErrNoPivotNoMountNS
	case len(cfg.Spec.Mounts) > 0:
		return errors.New("mounts need a private MNT namespace")
	case cfg.UserNS:
		// A user namespace's devices are bind mounts.
		return errors.New("a user namespace without a private MNT namespace cannot have its devices bound")
	}
	root, err := openHost(cfg.Rootfs, unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("open rootfs: %w", err)
	}
	defer root.Close()
	if err := makeDevices(cfg, root); err != nil {
		return err
	}
	return makeCwd(root, cfg.Spec.Process)
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
