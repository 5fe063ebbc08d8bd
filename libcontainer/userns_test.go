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
