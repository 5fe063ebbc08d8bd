package configs

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ErrNoPivotNoMountNS is runc's refusal of --no-pivot for a container in
// the caller's mount namespace: MS_MOVE of the rootfs onto "/" would move
// it in the caller's namespace.
var ErrNoPivotNoMountNS = errors.New("unable to use no-pivot without a private MNT namespace")

// validateMountNS refuses what only a mount namespace of the container's
// own can give. Without one the container shares the caller's mount
// table: berth chroots into the rootfs (as runc does) and makes
// config.json's mounts there in the caller's namespace, under a bind of
// the rootfs that delete removes (rootfs.HostTree). What would need a
// remount of the container's "/" or of paths in it is refused, as runc
// refuses the first two (runc applies rootfsPropagation to the caller's
// "/" itself).
func validateMountNS(spec *specs.Spec) error {
	ns, ok := FindNamespace(spec, specs.MountNamespace)
	if ok {
		if joinsRuntimeOwn(ns) {
			// Joining it would be joining nothing: the rootfs set-up
			// would pivot the caller's own mount namespace.
			return fmt.Errorf("linux.namespaces: mount namespace path %s is the runtime's own mount namespace", ns.Path)
		}
		return nil
	}
	l := spec.Linux
	switch {
	case len(l.MaskedPaths) > 0 || len(l.ReadonlyPaths) > 0:
		return errors.New("unable to restrict sys entries without a private MNT namespace")
	case spec.Root != nil && spec.Root.Readonly:
		return errors.New("root.readonly needs a private MNT namespace (linux.namespaces has no \"mount\")")
	case l.RootfsPropagation != "":
		return errors.New("linux.rootfsPropagation needs a private MNT namespace (linux.namespaces has no \"mount\")")
	case HasNamespace(spec, specs.UserNamespace):
		// Its devices are bind mounts, and it may not mount in the
		// caller's namespace.
		return errors.New("a user namespace needs a private MNT namespace (linux.namespaces has no \"mount\")")
	}
	return nil
}

// joinsRuntimeOwn reports whether ns is joined by a path to the runtime's
// own namespace of its type, which would make what is set in it the
// host's.
func joinsRuntimeOwn(ns specs.LinuxNamespace) bool {
	return ns.Path != "" && SameFile(ns.Path, "/proc/self/ns/"+NamespaceProcName(ns.Type))
}

// SameFile reports whether the paths a and b name the same file (the
// same namespace, for namespace files); false when either cannot be
// stat'ed (that error is reported elsewhere).
func SameFile(a, b string) bool {
	var sa, sb unix.Stat_t
	if unix.Stat(a, &sa) != nil || unix.Stat(b, &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}
