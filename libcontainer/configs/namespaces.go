package configs

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// nsFlags maps OCI namespace types to their clone(2) flags.
var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// procNames maps OCI namespace types to their names under /proc/PID/ns.
var procNames = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace:     "pid",
	specs.NetworkNamespace: "net",
	specs.MountNamespace:   "mnt",
	specs.IPCNamespace:     "ipc",
	specs.UTSNamespace:     "uts",
	specs.UserNamespace:    "user",
	specs.CgroupNamespace:  "cgroup",
	specs.TimeNamespace:    "time",
}

// NamespaceFlag returns the clone flag of an OCI namespace type.
func NamespaceFlag(t specs.LinuxNamespaceType) (uintptr, error) {
	f, ok := nsFlags[t]
	if !ok {
		return 0, fmt.Errorf("unknown namespace type %q", t)
	}
	return f, nil
}

// NamespaceProcName returns the file name of t under /proc/PID/ns.
func NamespaceProcName(t specs.LinuxNamespaceType) string {
	return procNames[t]
}

// AllNamespaceTypes lists every namespace type berth knows, user first:
// that is the order namespaces must be joined in.
func AllNamespaceTypes() []specs.LinuxNamespaceType {
	return []specs.LinuxNamespaceType{
		specs.UserNamespace, specs.PIDNamespace, specs.NetworkNamespace,
		specs.IPCNamespace, specs.UTSNamespace, specs.CgroupNamespace,
		specs.TimeNamespace, specs.MountNamespace,
	}
}

// HasNamespace reports whether spec lists a namespace of type t (new or joined).
func HasNamespace(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	_, ok := FindNamespace(spec, t)
	return ok
}

// FindNamespace returns the entry of type t in spec.Linux.Namespaces.
func FindNamespace(spec *specs.Spec, t specs.LinuxNamespaceType) (specs.LinuxNamespace, bool) {
	if spec == nil || spec.Linux == nil {
		return specs.LinuxNamespace{}, false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t {
			return ns, true
		}
	}
	return specs.LinuxNamespace{}, false
}

// HostID returns the host ID that id maps to under maps, and false when
// maps do not cover it.
func HostID(maps []specs.LinuxIDMapping, id uint32) (uint32, bool) {
	for _, m := range maps {
		if id >= m.ContainerID && uint64(id) < uint64(m.ContainerID)+uint64(m.Size) {
			return m.HostID + (id - m.ContainerID), true
		}
	}
	return 0, false
}

// ParseIDMap parses the text of /proc/PID/uid_map or gid_map.
func ParseIDMap(text string) ([]specs.LinuxIDMapping, error) {
	var maps []specs.LinuxIDMapping
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("id map line %q: want 3 fields", line)
		}
		var v [3]uint32
		for i, s := range f {
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("id map line %q: %w", line, err)
			}
			v[i] = uint32(n)
		}
		maps = append(maps, specs.LinuxIDMapping{ContainerID: v[0], HostID: v[1], Size: v[2]})
	}
	return maps, nil
}
