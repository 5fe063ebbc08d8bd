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
}

type flagOpt struct {
	clear bool
	flag  uintptr
}

var mountFlagOpts = map[string]flagOpt{
	"async": {true, unix.MS_SYNCHRONOUS}, "sync": {false, unix.MS_SYNCHRONOUS},
	"atime": {true, unix.MS_NOATIME}, "noatime": {false, unix.MS_NOATIME},
	"bind": {false, unix.MS_BIND}, "rbind": {false, unix.MS_BIND | unix.MS_REC},
	"defaults": {false, 0},
	"dev":      {true, unix.MS_NODEV}, "nodev": {false, unix.MS_NODEV},
	"diratime": {true, unix.MS_NODIRATIME}, "nodiratime": {false, unix.MS_NODIRATIME},
	"dirsync": {false, unix.MS_DIRSYNC},
	"exec":    {true, unix.MS_NOEXEC}, "noexec": {false, unix.MS_NOEXEC},
	"iversion": {false, unix.MS_I_VERSION}, "noiversion": {true, unix.MS_I_VERSION},
	"lazytime": {false, unix.MS_LAZYTIME}, "nolazytime": {true, unix.MS_LAZYTIME},
	"mand": {false, unix.MS_MANDLOCK}, "nomand": {true, unix.MS_MANDLOCK},
	"relatime": {false, unix.MS_RELATIME}, "norelatime": {true, unix.MS_RELATIME},
	"strictatime": {false, unix.MS_STRICTATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY},
	"suid": {true, unix.MS_NOSUID}, "nosuid": {false, unix.MS_NOSUID},
	"symfollow": {true, unix.MS_NOSYMFOLLOW}, "nosymfollow": {false, unix.MS_NOSYMFOLLOW},
	"silent": {false, unix.MS_SILENT}, "loud": {true, unix.MS_SILENT},
	"remount": {false, unix.MS_REMOUNT},
}

// atimeFlags are the mutually exclusive atime modes.
const atimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

var propagationOpts = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

type attrOpt struct {
	clear bool
	attr  uint64
}

var recAttrOpts = map[string]attrOpt{
	"rro": {false, unix.MOUNT_ATTR_RDONLY}, "rrw": {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid": {false, unix.MOUNT_ATTR_NOSUID}, "rsuid": {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev": {false, unix.MOUNT_ATTR_NODEV}, "rdev": {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec": {false, unix.MOUNT_ATTR_NOEXEC}, "rexec": {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime": {false, unix.MOUNT_ATTR_NODIRATIME}, "rdiratime": {true, unix.MOUNT_ATTR_NODIRATIME},
	"rnoatime": {false, unix.MOUNT_ATTR_NOATIME}, "rrelatime": {false, unix.MOUNT_ATTR_RELATIME},
	"rstrictatime": {false, unix.MOUNT_ATTR_STRICTATIME},
	"rnosymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW}, "rsymfollow": {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

// ParseMountOptions splits an OCI mount options list into flags,
// propagation, recursive attributes and filesystem data. The idmap options
// are refused for now rather than silently ignored.
func ParseMountOptions(opts []string) (MountFlags, error) {
	var mf MountFlags
	for _, o := range opts {
		if f, ok := mountFlagOpts[o]; ok {
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
		if p, ok := propagationOpts[o]; ok {
			mf.Propagation = append(mf.Propagation, p)
			continue
		}
		if a, ok := recAttrOpts[o]; ok {
			if a.clear {
				mf.RecAttrClr |= a.attr
			} else {
				mf.RecAttrSet |= a.attr
			}
			continue
		}
		switch {
		case o == "idmap" || o == "ridmap":
			return mf, fmt.Errorf("mount option %q is not supported", o)
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
