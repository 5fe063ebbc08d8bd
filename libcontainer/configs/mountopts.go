package configs

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/nametable"
)

// MountFlags is a parsed mount options list.
type MountFlags struct {
	Flags       uintptr   // MS_* flags to set
	ClearFlags  uintptr   // MS_* flags explicitly cleared ("rw", "suid", ...)
	Propagation []uintptr // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC)
	RecAttrSet  uint64    // MOUNT_ATTR_* set recursively (rro, rnosuid, ...)
	RecAttrClr  uint64    // MOUNT_ATTR_* cleared recursively (rrw, rsuid, ...)
	Data        []string  // everything else, passed to the filesystem
	// CopyUp (tmpcopyup, tmpfs only) fills the new tmpfs with what the
	// image has at the mount point.
	CopyUp bool
	// IDMap (idmap, ridmap) makes the bind an idmapped mount, recursively
	// with IDMapRec (ridmap); see IDMapped.
	IDMap    bool
	IDMapRec bool
}

type flagOpt struct {
	clear bool
	flag  uintptr
}

var mountFlagOpts = nametable.Table[string, flagOpt]{
	{Name: "async", Val: flagOpt{true, unix.MS_SYNCHRONOUS}}, {Name: "sync", Val: flagOpt{false, unix.MS_SYNCHRONOUS}},
	{Name: "atime", Val: flagOpt{true, unix.MS_NOATIME}}, {Name: "noatime", Val: flagOpt{false, unix.MS_NOATIME}},
	{Name: "bind", Val: flagOpt{false, unix.MS_BIND}}, {Name: "rbind", Val: flagOpt{false, unix.MS_BIND | unix.MS_REC}},
	{Name: "defaults", Val: flagOpt{false, 0}},
	{Name: "dev", Val: flagOpt{true, unix.MS_NODEV}}, {Name: "nodev", Val: flagOpt{false, unix.MS_NODEV}},
	{Name: "diratime", Val: flagOpt{true, unix.MS_NODIRATIME}}, {Name: "nodiratime", Val: flagOpt{false, unix.MS_NODIRATIME}},
	{Name: "dirsync", Val: flagOpt{false, unix.MS_DIRSYNC}},
	{Name: "exec", Val: flagOpt{true, unix.MS_NOEXEC}}, {Name: "noexec", Val: flagOpt{false, unix.MS_NOEXEC}},
	{Name: "iversion", Val: flagOpt{false, unix.MS_I_VERSION}}, {Name: "noiversion", Val: flagOpt{true, unix.MS_I_VERSION}},
	{Name: "lazytime", Val: flagOpt{false, unix.MS_LAZYTIME}}, {Name: "nolazytime", Val: flagOpt{true, unix.MS_LAZYTIME}},
	{Name: "mand", Val: flagOpt{false, unix.MS_MANDLOCK}}, {Name: "nomand", Val: flagOpt{true, unix.MS_MANDLOCK}},
	{Name: "relatime", Val: flagOpt{false, unix.MS_RELATIME}}, {Name: "norelatime", Val: flagOpt{true, unix.MS_RELATIME}},
	{Name: "strictatime", Val: flagOpt{false, unix.MS_STRICTATIME}}, {Name: "nostrictatime", Val: flagOpt{true, unix.MS_STRICTATIME}},
	{Name: "ro", Val: flagOpt{false, unix.MS_RDONLY}}, {Name: "rw", Val: flagOpt{true, unix.MS_RDONLY}},
	{Name: "suid", Val: flagOpt{true, unix.MS_NOSUID}}, {Name: "nosuid", Val: flagOpt{false, unix.MS_NOSUID}},
	{Name: "symfollow", Val: flagOpt{true, unix.MS_NOSYMFOLLOW}}, {Name: "nosymfollow", Val: flagOpt{false, unix.MS_NOSYMFOLLOW}},
	{Name: "silent", Val: flagOpt{false, unix.MS_SILENT}}, {Name: "loud", Val: flagOpt{true, unix.MS_SILENT}},
	{Name: "remount", Val: flagOpt{false, unix.MS_REMOUNT}},
}

// atimeFlags are the mutually exclusive atime modes.
const atimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

var propagationOpts = nametable.Table[string, uintptr]{
	{Name: "private", Val: unix.MS_PRIVATE}, {Name: "rprivate", Val: unix.MS_PRIVATE | unix.MS_REC},
	{Name: "shared", Val: unix.MS_SHARED}, {Name: "rshared", Val: unix.MS_SHARED | unix.MS_REC},
	{Name: "slave", Val: unix.MS_SLAVE}, {Name: "rslave", Val: unix.MS_SLAVE | unix.MS_REC},
	{Name: "unbindable", Val: unix.MS_UNBINDABLE}, {Name: "runbindable", Val: unix.MS_UNBINDABLE | unix.MS_REC},
}

// PropagationFlags returns the mount(2) flags of a propagation mode
// ("rshared" is MS_SHARED|MS_REC), as linux.rootfsPropagation and a
// mount's options name them.
func PropagationFlags(mode string) (uintptr, bool) {
	return propagationOpts.Lookup(mode)
}

type attrOpt struct {
	clear bool
	attr  uint64
}

var recAttrOpts = nametable.Table[string, attrOpt]{
	{Name: "rro", Val: attrOpt{false, unix.MOUNT_ATTR_RDONLY}}, {Name: "rrw", Val: attrOpt{true, unix.MOUNT_ATTR_RDONLY}},
	{Name: "rnosuid", Val: attrOpt{false, unix.MOUNT_ATTR_NOSUID}}, {Name: "rsuid", Val: attrOpt{true, unix.MOUNT_ATTR_NOSUID}},
	{Name: "rnodev", Val: attrOpt{false, unix.MOUNT_ATTR_NODEV}}, {Name: "rdev", Val: attrOpt{true, unix.MOUNT_ATTR_NODEV}},
	{Name: "rnoexec", Val: attrOpt{false, unix.MOUNT_ATTR_NOEXEC}}, {Name: "rexec", Val: attrOpt{true, unix.MOUNT_ATTR_NOEXEC}},
	{Name: "rnodiratime", Val: attrOpt{false, unix.MOUNT_ATTR_NODIRATIME}}, {Name: "rdiratime", Val: attrOpt{true, unix.MOUNT_ATTR_NODIRATIME}},
	{Name: "rnosymfollow", Val: attrOpt{false, unix.MOUNT_ATTR_NOSYMFOLLOW}}, {Name: "rsymfollow", Val: attrOpt{true, unix.MOUNT_ATTR_NOSYMFOLLOW}},
}

// recAtimeOpts are the recursive atime options, each the atime mode it
// gives the whole tree. The modes are one field of mount_setattr, not
// bits: the options that "clear" one (ratime, rnorelatime, rnostrictatime)
// clear the whole field and set nothing, which leaves the kernel's
// default, relatime, as runc does (its mounts_recursive.bats checks
// rnorelatime gives relatime).
var recAtimeOpts = nametable.Table[string, uint64]{
	{Name: "rnoatime", Val: unix.MOUNT_ATTR_NOATIME}, {Name: "ratime", Val: unix.MOUNT_ATTR_RELATIME},
	{Name: "rrelatime", Val: unix.MOUNT_ATTR_RELATIME}, {Name: "rnorelatime", Val: unix.MOUNT_ATTR_RELATIME},
	{Name: "rstrictatime", Val: unix.MOUNT_ATTR_STRICTATIME}, {Name: "rnostrictatime", Val: unix.MOUNT_ATTR_RELATIME},
}

// ParseMountOptions splits an OCI mount options list into flags,
// propagation, recursive attributes and filesystem data.
func ParseMountOptions(opts []string) (MountFlags, error) {
	var mf MountFlags
	for _, o := range opts {
		if f, ok := mountFlagOpts.Lookup(o); ok {
			if f.clear {
				mf.Flags &^= f.flag
				mf.ClearFlags |= f.flag
			} else {
				if f.flag&atimeFlags != 0 {
					// One atime mode per mount: the last one given wins.
					mf.Flags &^= atimeFlags
				}
				mf.Flags |= f.flag
				mf.ClearFlags &^= f.flag
			}
			continue
		}
		if p, ok := propagationOpts.Lookup(o); ok {
			mf.Propagation = append(mf.Propagation, p)
			continue
		}
		if mode, ok := recAtimeOpts.Lookup(o); ok {
			// The last one given wins; clearing the whole field is how
			// mount_setattr is told to change it (relatime is 0).
			mf.RecAttrSet = mf.RecAttrSet&^unix.MOUNT_ATTR__ATIME | mode
			mf.RecAttrClr |= unix.MOUNT_ATTR__ATIME
			continue
		}
		if a, ok := recAttrOpts.Lookup(o); ok {
			// The last of a pair wins (rro,rrw is rw), as for the
			// per-mount flags; the kernel would let set win.
			if a.clear {
				mf.RecAttrClr |= a.attr
				mf.RecAttrSet &^= a.attr
			} else {
				mf.RecAttrSet |= a.attr
				mf.RecAttrClr &^= a.attr
			}
			continue
		}
		switch {
		case o == "idmap" || o == "ridmap":
			mf.IDMap = true
			mf.IDMapRec = mf.IDMapRec || o == "ridmap"
			continue
		case o == "tmpcopyup":
			mf.CopyUp = true
			continue
		case strings.IndexByte(o, 0) >= 0:
			return mf, fmt.Errorf("mount option %q contains a NUL byte", o)
		}
		mf.Data = append(mf.Data, o)
	}
	return mf, nil
}

// IsBind reports whether m is a bind mount: type "bind" or a bind/rbind option.
func IsBind(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}
