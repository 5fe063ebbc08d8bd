package configs

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// namespaces is berth's one table of namespace kinds: the OCI type, the
// clone(2) flag and the name under /proc/PID/ns, in the order a process
// joins them (nsenter.c's ns_order follows it; a test there checks): the
// user namespace first, so that the capabilities it grants cover the
// namespaces it owns, and the mount namespace last, so that it cannot
// change what a later path resolves to.
var namespaces = []struct {
	typ  specs.LinuxNamespaceType
	flag uintptr
	proc string
}{
	{specs.UserNamespace, unix.CLONE_NEWUSER, "user"},
	{specs.IPCNamespace, unix.CLONE_NEWIPC, "ipc"},
	{specs.UTSNamespace, unix.CLONE_NEWUTS, "uts"},
	{specs.NetworkNamespace, unix.CLONE_NEWNET, "net"},
	{specs.CgroupNamespace, unix.CLONE_NEWCGROUP, "cgroup"},
	{specs.PIDNamespace, unix.CLONE_NEWPID, "pid"},
	{specs.TimeNamespace, unix.CLONE_NEWTIME, "time"},
	{specs.MountNamespace, unix.CLONE_NEWNS, "mnt"},
}

// NamespaceFlag returns the clone flag of an OCI namespace type.
func NamespaceFlag(t specs.LinuxNamespaceType) (uintptr, error) {
	for _, ns := range namespaces {
		if ns.typ == t {
			return ns.flag, nil
		}
	}
	return 0, fmt.Errorf("unknown namespace type %q", t)
}

// NamespaceFlagByName returns the clone flag of a namespace named by its
// OCI type or its name under /proc/PID/ns ("mount" or "mnt").
func NamespaceFlagByName(name string) (uintptr, error) {
	for _, ns := range namespaces {
		if string(ns.typ) == name || ns.proc == name {
			return ns.flag, nil
		}
	}
	return 0, fmt.Errorf("unknown namespace type %q", name)
}

// NamespaceProcName returns the file name of t under /proc/PID/ns.
func NamespaceProcName(t specs.LinuxNamespaceType) string {
	for _, ns := range namespaces {
		if ns.typ == t {
			return ns.proc
		}
	}
	return ""
}

// NamespaceProcNameOf returns the file name under /proc/PID/ns of the
// namespace with clone flag flag.
func NamespaceProcNameOf(flag uintptr) string {
	for _, ns := range namespaces {
		if ns.flag == flag {
			return ns.proc
		}
	}
	return ""
}

// NamespaceFlagsInJoinOrder lists the clone flags of every namespace
// kind, in the order they are joined.
func NamespaceFlagsInJoinOrder() []uintptr {
	out := make([]uintptr, len(namespaces))
	for i, ns := range namespaces {
		out[i] = ns.flag
	}
	return out
}

// AllNamespaceTypes lists every namespace type berth knows, in the order
// they are joined.
func AllNamespaceTypes() []specs.LinuxNamespaceType {
	out := make([]specs.LinuxNamespaceType, len(namespaces))
	for i, ns := range namespaces {
		out[i] = ns.typ
	}
	return out
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
