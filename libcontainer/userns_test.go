package libcontainer

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestProcUserNSPid(t *testing.T) {
	for path, want := range map[string]string{
		"/proc/1/ns/user":     "1",
		"/proc/12345/ns/user": "12345",
	} {
		if got, ok := procUserNSPid(path); !ok || got != want {
			t.Errorf("procUserNSPid(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
	for _, path := range []string{
		"", "/proc//ns/user", "/proc/self/ns/user", "/proc/12/ns/net", "/proc/12/ns/user/",
		"/proc/1a/ns/user", "proc/1/ns/user", "/run/ns/user", "/proc/1/../2/ns/user", "/proc/-1/ns/user",
	} {
		if got, ok := procUserNSPid(path); ok {
			t.Errorf("procUserNSPid(%q) = %q, true; want no match", path, got)
		}
	}
}

// runc's rule for the cgroup's owner: a cgroup namespace and a writable
// cgroup mount on /sys/fs/cgroup; the process's uid, mapped.
func TestCgroupOwner(t *testing.T) {
	cgMount := func(opts ...string) specs.Mount {
		return specs.Mount{Destination: "/sys/fs/cgroup/", Type: "cgroup", Source: "cgroup", Options: opts}
	}
	spec := func(ns []specs.LinuxNamespaceType, uid uint32, m specs.Mount) *specs.Spec {
		s := &specs.Spec{Process: &specs.Process{User: specs.User{UID: uid}}, Linux: &specs.Linux{
			UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
		}, Mounts: []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}, m}}
		for _, t := range ns {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: t})
		}
		return s
	}
	both := []specs.LinuxNamespaceType{specs.CgroupNamespace, specs.UserNamespace}
	for _, tc := range []struct {
		name string
		spec *specs.Spec
		want int // -1: no owner
	}{
		{"userns, cgroupns, rw", spec(both, 0, cgMount("nosuid")), 100000},
		{"process uid 1000 mapped", spec(both, 1000, cgMount("rw")), 101000},
		{"uid not mapped", spec(both, 70000, cgMount()), -1},
		{"ro", spec(both, 0, cgMount("nosuid", "ro")), -1},
		{"ro then rw", spec(both, 0, cgMount("ro", "rw")), 100000},
		{"no cgroupns", spec([]specs.LinuxNamespaceType{specs.UserNamespace}, 0, cgMount()), -1},
		{"no userns: the uid itself", spec([]specs.LinuxNamespaceType{specs.CgroupNamespace}, 5, cgMount()), 5},
		{"not on /sys/fs/cgroup", spec(both, 0, specs.Mount{Destination: "/cg", Source: "cgroup", Type: "cgroup"}), -1},
	} {
		got := cgroupOwner(tc.spec)
		switch {
		case tc.want < 0 && got != nil:
			t.Errorf("%s: owner %d, want none", tc.name, *got)
		case tc.want >= 0 && (got == nil || *got != tc.want):
			t.Errorf("%s: owner %v, want %d", tc.name, got, tc.want)
		}
	}
}

// create and restore build their cgroup config with cgroupConfig: the
// systemd driver's unit properties come from the annotations on both
// paths (restore once left them out, and a restored container's scope
// went without them). The conversion itself: cgroups' TestSystemdProps.
func TestCgroupConfigAnnotations(t *testing.T) {
	spec := &specs.Spec{Linux: &specs.Linux{CgroupsPath: "system.slice:berth:t1"}, Annotations: map[string]string{
		"org.systemd.property.TimeoutStopSec": "5",
	}}
	for _, systemd := range []bool{true, false} {
		cfg := cgroupConfig("t1", spec, systemd, false)
		if cfg.Annotations["org.systemd.property.TimeoutStopSec"] != "5" {
			t.Fatalf("systemd %v: annotations not carried: %v", systemd, cfg.Annotations)
		}
	}
}

// The ID init takes in a user namespace before the process's own: root
// where 0 is mapped, else the process's own ID if mapped, else the lowest
// mapped one; nothing with an empty map.
func TestStandInID(t *testing.T) {
	m := func(c, h, s uint32) specs.LinuxIDMapping {
		return specs.LinuxIDMapping{ContainerID: c, HostID: h, Size: s}
	}
	for _, c := range []struct {
		maps []specs.LinuxIDMapping
		own  uint32
		want uint32
		ok   bool
	}{
		{[]specs.LinuxIDMapping{m(0, 100000, 65536)}, 1000, 0, true},
		{[]specs.LinuxIDMapping{m(1000, 100000, 1), m(0, 5, 1)}, 1000, 0, true},
		{[]specs.LinuxIDMapping{m(1000, 100000, 1)}, 1000, 1000, true},
		{[]specs.LinuxIDMapping{m(2000, 7, 10), m(500, 100000, 100)}, 2005, 2005, true},
		{[]specs.LinuxIDMapping{m(2000, 7, 10), m(500, 100000, 100)}, 0, 500, true},
		{[]specs.LinuxIDMapping{m(0, 7, 0), m(3, 8, 1)}, 9, 3, true},
		{nil, 0, 0, false},
	} {
		got, ok := standInID(c.maps, c.own)
		if got != c.want || ok != c.ok {
			t.Errorf("standInID(%v, %d) = %d, %v; want %d, %v", c.maps, c.own, got, ok, c.want, c.ok)
		}
	}
}
