package main

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func nsTypes(s *specs.Spec) []specs.LinuxNamespaceType {
	var out []specs.LinuxNamespaceType
	for _, ns := range s.Linux.Namespaces {
		out = append(out, ns.Type)
	}
	return out
}

// As runc's: a cgroup namespace only on a cgroup2-only host, no ambient
// capabilities.
func TestDefaultSpec(t *testing.T) {
	base := []specs.LinuxNamespaceType{specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace}
	if got := nsTypes(defaultSpec(false)); !slices.Equal(got, base) {
		t.Errorf("v1/hybrid namespaces %v, want %v", got, base)
	}
	if got := nsTypes(defaultSpec(true)); !slices.Equal(got, append(base, specs.CgroupNamespace)) {
		t.Errorf("cgroup2 namespaces %v, want %v + cgroup", got, base)
	}
	if c := defaultSpec(true).Process.Capabilities; len(c.Ambient) != 0 || len(c.Inheritable) != 0 {
		t.Errorf("ambient %v, inheritable %v: want none", c.Ambient, c.Inheritable)
	}
}

func TestMakeRootless(t *testing.T) {
	s := defaultSpec(true)
	makeRootless(s, 1000, 1001)
	want := []specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace, specs.CgroupNamespace, specs.UserNamespace}
	if got := nsTypes(s); !slices.Equal(got, want) {
		t.Errorf("namespaces %v, want %v", got, want)
	}
	if m := s.Linux.UIDMappings; len(m) != 1 || m[0] != (specs.LinuxIDMapping{ContainerID: 0, HostID: 1000, Size: 1}) {
		t.Errorf("uid mappings %v", m)
	}
	if m := s.Linux.GIDMappings; len(m) != 1 || m[0].HostID != 1001 {
		t.Errorf("gid mappings %v", m)
	}
	if s.Linux.Resources != nil {
		t.Errorf("resources %v, want none", s.Linux.Resources)
	}
	cgroup := false
	for _, m := range s.Mounts {
		for _, o := range m.Options {
			if len(o) > 4 && (o[:4] == "uid=" || o[:4] == "gid=") {
				t.Errorf("%s keeps %s", m.Destination, o)
			}
		}
		switch m.Destination {
		case "/sys":
			if m.Type != "none" || m.Source != "/sys" || !slices.Contains(m.Options, "rbind") {
				t.Errorf("/sys is %+v, want a bind of the host's", m)
			}
		case "/sys/fs/cgroup":
			cgroup = true
		}
	}
	if !cgroup {
		t.Error("/sys/fs/cgroup was dropped; runc keeps it")
	}
}
