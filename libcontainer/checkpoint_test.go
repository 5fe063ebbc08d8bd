package libcontainer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestExternalKey(t *testing.T) {
	if got := externalKey(specs.NetworkNamespace); got != "extRootNetNS" {
		t.Errorf("net: %q", got)
	}
	if got := externalKey(specs.PIDNamespace); got != "extRootPidNS" {
		t.Errorf("pid: %q", got)
	}
}

func TestExternalMounts(t *testing.T) {
	spec := &specs.Spec{
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "data/", Type: "none", Source: "/host/data", Options: []string{"rbind"}},
			{Destination: "/etc/hosts", Type: "bind", Source: "/host/hosts"},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup"},
		},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.CgroupNamespace}}},
	}
	// hybrid host: one bind per hierarchy (cpu and cpuacct share one),
	// and the cgroup2 one as "unified"
	paths := map[string]string{
		"cpu": "/sys/fs/cgroup/cpu,cpuacct/berth/x", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct/berth/x",
		"memory": "/sys/fs/cgroup/memory/berth/x", "": "/sys/fs/cgroup/unified/berth/x",
	}
	got, _ := externalMounts(spec, "", paths, "/berth/x")
	want := []extMount{
		{"/data", "/host/data"}, {"/etc/hosts", "/host/hosts"},
		{"/sys/fs/cgroup/cpu,cpuacct", paths["cpu"]}, {"/sys/fs/cgroup/memory", paths["memory"]},
		{"/sys/fs/cgroup/unified", paths[""]},
	}
	sortMounts := func(m []extMount) {
		slices.SortFunc(m, func(a, b extMount) int { return strings.Compare(a.Key, b.Key) })
	}
	sortMounts(got)
	sortMounts(want)
	if !slices.Equal(got, want) {
		t.Errorf("hybrid: got %v\nwant %v", got, want)
	}
	// cgroup2 host with a cgroup namespace: a cgroup2 mount of its own
	v2 := map[string]string{"": "/sys/fs/cgroup/berth/x"}
	if got, _ := externalMounts(spec, "", v2, "/berth/x"); len(got) != 2 {
		t.Errorf("v2 with cgroupns: %v", got)
	}
	// without one, the host's directory is bound
	spec.Linux.Namespaces = nil
	got, _ = externalMounts(spec, "", v2, "/berth/x")
	if len(got) != 3 || got[2] != (extMount{"/sys/fs/cgroup", "/sys/fs/cgroup/berth/x"}) {
		t.Errorf("v2 without cgroupns: %v", got)
	}
	// in a user namespace the device nodes are binds of the host's
	spec.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.UserNamespace}}
	got, _ = externalMounts(spec, "", nil, "")
	if !slices.Contains(got, extMount{"/dev/null", "/dev/null"}) {
		t.Errorf("userns devices: %v", got)
	}
}

func TestCheckStatusFd(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := checkStatusFd(-1); err != nil {
		t.Errorf("none: %v", err)
	}
	if err := checkStatusFd(int(w.Fd())); err != nil {
		t.Errorf("write end: %v", err)
	}
	if err := checkStatusFd(int(r.Fd())); err == nil || !strings.Contains(err.Error(), "not open for writing") {
		t.Errorf("read end: %v", err)
	}
	if err := checkStatusFd(1 << 20); err == nil {
		t.Error("closed fd: no error")
	}
}

func TestCriuMountKey(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"real/conf", "b/data", "a"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"conf": "/real/conf", "a/data": "/b/data", "a/bad": "/b/data]:/name", "a/root": "/", "a/out": "../../../../etc"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	for dest, want := range map[string]string{"/conf": "/real/conf", "/a/data": "/b/data", "data/": "/data", "/a/out": "/etc", "/plain": "/plain"} {
		if got, err := criuMountKey(root, dest); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", dest, got, err, want)
		}
	}
	for _, dest := range []string{"/a/bad", "/a/root", "/"} {
		if got, err := criuMountKey(root, dest); err == nil || !strings.Contains(err.Error(), "invalid external mount destination") {
			t.Errorf("%s: %q, %v; want an invalid external mount destination", dest, got, err)
		}
	}
}
