package configs

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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

var mountFlagOpts = table[string, flagOpt]{
	{"async", flagOpt{true, unix.MS_SYNCHRONOUS}}, {"sync", flagOpt{false, unix.MS_SYNCHRONOUS}},
	{"atime", flagOpt{true, unix.MS_NOATIME}}, {"noatime", flagOpt{false, unix.MS_NOATIME}},
	{"bind", flagOpt{false, unix.MS_BIND}}, {"rbind", flagOpt{false, unix.MS_BIND | unix.MS_REC}},
	{"defaults", flagOpt{false, 0}},
	{"dev", flagOpt{true, unix.MS_NODEV}}, {"nodev", flagOpt{false, unix.MS_NODEV}},
	{"diratime", flagOpt{true, unix.MS_NODIRATIME}}, {"nodiratime", flagOpt{false, unix.MS_NODIRATIME}},
	{"dirsync", flagOpt{false, unix.MS_DIRSYNC}},
	{"exec", flagOpt{true, unix.MS_NOEXEC}}, {"noexec", flagOpt{false, unix.MS_NOEXEC}},
	{"iversion", flagOpt{false, unix.MS_I_VERSION}}, {"noiversion", flagOpt{true, unix.MS_I_VERSION}},
	{"lazytime", flagOpt{false, unix.MS_LAZYTIME}}, {"nolazytime", flagOpt{true, unix.MS_LAZYTIME}},
	{"mand", flagOpt{false, unix.MS_MANDLOCK}}, {"nomand", flagOpt{true, unix.MS_MANDLOCK}},
	{"relatime", flagOpt{false, unix.MS_RELATIME}}, {"norelatime", flagOpt{true, unix.MS_RELATIME}},
	{"strictatime", flagOpt{false, unix.MS_STRICTATIME}}, {"nostrictatime", flagOpt{true, unix.MS_STRICTATIME}},
	{"ro", flagOpt{false, unix.MS_RDONLY}}, {"rw", flagOpt{true, unix.MS_RDONLY}},
	{"suid", flagOpt{true, unix.MS_NOSUID}}, {"nosuid", flagOpt{false, unix.MS_NOSUID}},
	{"symfollow", flagOpt{true, unix.MS_NOSYMFOLLOW}}, {"nosymfollow", flagOpt{false, unix.MS_NOSYMFOLLOW}},
	{"silent", flagOpt{false, unix.MS_SILENT}}, {"loud", flagOpt{true, unix.MS_SILENT}},
	{"remount", flagOpt{false, unix.MS_REMOUNT}},
}

// atimeFlags are the mutually exclusive atime modes.
const atimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

var propagationOpts = table[string, uintptr]{
	{"private", unix.MS_PRIVATE}, {"rprivate", unix.MS_PRIVATE | unix.MS_REC},
	{"shared", unix.MS_SHARED}, {"rshared", unix.MS_SHARED | unix.MS_REC},
	{"slave", unix.MS_SLAVE}, {"rslave", unix.MS_SLAVE | unix.MS_REC},
	{"unbindable", unix.MS_UNBINDABLE}, {"runbindable", unix.MS_UNBINDABLE | unix.MS_REC},
}

type attrOpt struct {
	clear bool
	attr  uint64
}

var recAttrOpts = table[string, attrOpt]{
	{"rro", attrOpt{false, unix.MOUNT_ATTR_RDONLY}}, {"rrw", attrOpt{true, unix.MOUNT_ATTR_RDONLY}},
	{"rnosuid", attrOpt{false, unix.MOUNT_ATTR_NOSUID}}, {"rsuid", attrOpt{true, unix.MOUNT_ATTR_NOSUID}},
	{"rnodev", attrOpt{false, unix.MOUNT_ATTR_NODEV}}, {"rdev", attrOpt{true, unix.MOUNT_ATTR_NODEV}},
	{"rnoexec", attrOpt{false, unix.MOUNT_ATTR_NOEXEC}}, {"rexec", attrOpt{true, unix.MOUNT_ATTR_NOEXEC}},
	{"rnodiratime", attrOpt{false, unix.MOUNT_ATTR_NODIRATIME}}, {"rdiratime", attrOpt{true, unix.MOUNT_ATTR_NODIRATIME}},
	{"rnosymfollow", attrOpt{false, unix.MOUNT_ATTR_NOSYMFOLLOW}}, {"rsymfollow", attrOpt{true, unix.MOUNT_ATTR_NOSYMFOLLOW}},
}

// recAtimeOpts are the recursive atime options, each the atime mode it
// gives the whole tree. The modes are one field of mount_setattr, not
// bits, so "clearing" one (ratime, rnostrictatime, rnorelatime) sets
// another: noatime and strictatime cleared leave the kernel's default,
// relatime; relatime cleared leaves strictatime, the one mode that still
// updates atime on every access.
var recAtimeOpts = table[string, uint64]{
	{"rnoatime", unix.MOUNT_ATTR_NOATIME}, {"ratime", unix.MOUNT_ATTR_RELATIME},
	{"rrelatime", unix.MOUNT_ATTR_RELATIME}, {"rnorelatime", unix.MOUNT_ATTR_STRICTATIME},
	{"rstrictatime", unix.MOUNT_ATTR_STRICTATIME}, {"rnostrictatime", unix.MOUNT_ATTR_RELATIME},
}

// ParseMountOptions splits an OCI mount options list into flags,
// propagation, recursive attributes and filesystem data.
func ParseMountOptions(opts []string) (MountFlags, error) {
	var mf MountFlags
	for _, o := range opts {
		if f, ok := mountFlagOpts.lookup(o); ok {
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
		if p, ok := propagationOpts.lookup(o); ok {
			mf.Propagation = append(mf.Propagation, p)
			continue
		}
		if mode, ok := recAtimeOpts.lookup(o); ok {
			// The last one given wins; clearing the whole field is how
			// mount_setattr is told to change it (relatime is 0).
			mf.RecAttrSet = mf.RecAttrSet&^unix.MOUNT_ATTR__ATIME | mode
			mf.RecAttrClr |= unix.MOUNT_ATTR__ATIME
			continue
		}
		if a, ok := recAttrOpts.lookup(o); ok {
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
