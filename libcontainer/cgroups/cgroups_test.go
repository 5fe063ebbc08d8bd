package cgroups

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ownCgroups parses /proc/self/cgroup into controller -> path ("" for the
// cgroup2 line), independently of the library.
func ownCgroups(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			t.Fatalf("bad /proc/self/cgroup line %q", s.Text())
		}
		for ctrl := range strings.SplitSeq(parts[1], ",") {
			out[ctrl] = parts[2]
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// expectedMode works the host mode out from mountinfo, not statfs.
func expectedMode(t *testing.T) string {
	t.Helper()
	mounts, err := mountinfo.GetMounts(nil)
	if err != nil {
		t.Fatal(err)
	}
	fstype := map[string]string{}
	for _, m := range mounts {
		fstype[m.Mountpoint] = m.FSType // later mounts hide earlier ones
	}
	switch {
	case fstype["/sys/fs/cgroup"] == "cgroup2":
		return ModeV2
	case fstype["/sys/fs/cgroup/unified"] == "cgroup2":
		return ModeHybrid
	}
	return ModeV1
}

func TestMode(t *testing.T) {
	if got, want := Mode(), expectedMode(t); got != want {
		t.Fatalf("Mode() = %q, mountinfo says %q", got, want)
	}
}

func TestNewSystemdErrors(t *testing.T) {
	if fi, err := os.Lstat(systemdRunPath); err == nil && fi.IsDir() {
		t.Skip("systemd is running on this host")
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no systemd, default path", Config{ID: "c1", Systemd: true}, "systemd cgroup manager: systemd not running on this host"},
		{"no systemd, valid path", Config{ID: "c1", Systemd: true, CgroupsPath: "system.slice:berth:c1"}, "systemd cgroup manager: systemd not running on this host"},
		{"path without colons", Config{ID: "c1", Systemd: true, CgroupsPath: "/berth/c1"}, `systemd cgroup manager: cgroupsPath "/berth/c1" is not of the form "slice:prefix:name"`},
		{"two parts", Config{ID: "c1", Systemd: true, CgroupsPath: "system.slice:c1"}, "is not of the form"},
		{"four parts", Config{ID: "c1", Systemd: true, CgroupsPath: "a.slice:b:c:d"}, "is not of the form"},
		{"bad slice", Config{ID: "c1", Systemd: true, CgroupsPath: "system:berth:c1"}, "invalid slice name"},
		{"empty name", Config{ID: "c1", Systemd: true, CgroupsPath: "system.slice:berth:"}, "invalid unit name"},
		{"bad default id", Config{ID: "a/b", Systemd: true}, `invalid container id "a/b"`},
		{"bad resources first", Config{ID: "c1", Systemd: true, Resources: &specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: ptr[int64](3)}}}, "cpu: idle 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.cfg)
			if err == nil {
				t.Fatalf("New succeeded: %v", m.GetPaths())
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			if _, err := Load(tc.cfg, map[string]string{"": "/sys/fs/cgroup/x"}); err == nil {
				t.Fatal("Load succeeded")
			}
		})
	}
}

func TestSystemdPathParsing(t *testing.T) {
	for _, tc := range []struct {
		path, parent, prefix, name string
	}{
		{"", DefaultSlice, DefaultScopePrefix, "c1"},
		{"system.slice:docker:abc", "system.slice", "docker", "abc"},
		{"machine-foo.slice::abc", "machine-foo.slice", "", "abc"},
		{":berth:abc", "", "berth", "abc"},
		{"user.slice:x:abc.slice", "user.slice", "x", "abc.slice"},
	} {
		cg, err := libConfig(Config{ID: "c1", Systemd: true, CgroupsPath: tc.path})
		if err != nil {
			t.Fatalf("%q: %v", tc.path, err)
		}
		if cg.Parent != tc.parent || cg.ScopePrefix != tc.prefix || cg.Name != tc.name || cg.Path != "" || !cg.Systemd {
			t.Fatalf("%q: got parent %q prefix %q name %q path %q", tc.path, cg.Parent, cg.ScopePrefix, cg.Name, cg.Path)
		}
	}
}

func TestNewPathRules(t *testing.T) {
	mode := Mode()
	if mode == ModeV2 {
		t.Skip("path rules below are written for a v1/hybrid host; the v2 case is TestPureV2")
	}
	own := ownCgroups(t)
	// cpuset, memory and pids are mounted on their own on this host; check
	// a few controllers plus the cgroup2 directory of hybrid mode.
	controllers := []string{"memory", "pids", "devices", "freezer"}
	for _, tc := range []struct {
		name   string
		path   string
		expect func(ctrl string) string // path under the mount
	}{
		{"default", "", func(string) string { return "/berth/c1" }},
		{"absolute", "/foo/bar", func(string) string { return "/foo/bar" }},
		{"absolute cleaned", "/foo/../../bar//baz/", func(string) string { return "/bar/baz" }},
		// Relative: under berth's own cgroup of each controller, as runc;
		// ".." cannot climb above it.
		{"relative", "foo/bar", func(ctrl string) string { return filepath.Join(own[ctrl], "foo/bar") }},
		{"relative cleaned", "../../foo", func(ctrl string) string { return filepath.Join(own[ctrl], "foo") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(Config{ID: "c1", CgroupsPath: tc.path})
			if err != nil {
				t.Fatal(err)
			}
			paths := m.GetPaths()
			for _, ctrl := range controllers {
				want := filepath.Join("/sys/fs/cgroup", ctrl, tc.expect(ctrl))
				if paths[ctrl] != want {
					t.Errorf("%s: path %q, want %q", ctrl, paths[ctrl], want)
				}
				// New must not create anything.
				if tc.path != "" && tc.name != "relative" {
					if _, err := os.Stat(paths[ctrl]); err == nil {
						t.Errorf("%s: %s exists after New", ctrl, paths[ctrl])
					}
				}
			}
			if mode == ModeHybrid {
				// The library joins the cgroup2 tree relative to its root
				// (berth's own v2 cgroup is "/" on this host).
				want := filepath.Join("/sys/fs/cgroup/unified", tc.expect(""))
				if tc.path == "" || filepath.IsAbs(tc.path) || own[""] == "/" {
					if paths[""] != want {
						t.Errorf("unified: path %q, want %q", paths[""], want)
					}
				}
			}
			cg, err := m.GetCgroups()
			if err != nil {
				t.Fatal(err)
			}
			if cg.Resources == nil || len(cg.Resources.Devices) == 0 {
				t.Fatal("manager has no device rules")
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty id with default path", Config{}, `default cgroup path: invalid container id ""`},
		{"dot dot id", Config{ID: ".."}, `invalid container id ".."`},
		{"slash id", Config{ID: "a/b"}, `invalid container id "a/b"`},
		{"bad resources", Config{ID: "c1", Resources: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](-7)}}}, `container "c1": linux.resources: memory: limit -7`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if Mode() != ModeV2 {
		// The v1 driver refuses cgroup v2-only settings at once.
		_, err := New(Config{ID: "c1", Resources: &specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}})
		if err == nil || !strings.Contains(err.Error(), "unified") {
			t.Fatalf("unified on v1: error %v", err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	for _, paths := range []map[string]string{
		nil,
		{},
		{"memory": "relative/path"},
		{"memory": "/sys/fs/cgroup/memory/../x"},
	} {
		if _, err := Load(Config{ID: "c1"}, paths); err == nil {
			t.Errorf("Load(%v) succeeded", paths)
		}
	}
	if _, err := Load(Config{ID: "c1", Resources: &specs.LinuxResources{Pids: &specs.LinuxPids{}, CPU: &specs.LinuxCPU{Cpus: "x"}}},
		map[string]string{"memory": "/sys/fs/cgroup/memory/x"}); err == nil {
		t.Error("Load with bad resources succeeded")
	}
}

func TestLoadDoesNotAliasPaths(t *testing.T) {
	if Mode() == ModeV2 {
		t.Skip("v1 paths")
	}
	dir := "/sys/fs/cgroup/memory/berth-test-never-created"
	paths := map[string]string{"memory": dir}
	m, err := Load(Config{ID: "c1"}, paths)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Path("memory"); got != dir {
		t.Fatalf("Path(memory) = %q", got)
	}
	// Destroy of a missing directory succeeds and empties the manager's
	// own map; the caller's map must survive.
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if paths["memory"] != dir {
		t.Fatal("Load handed the caller's map to the library")
	}
}

func TestOpenUnifiedNil(t *testing.T) {
	if fd, err := OpenUnified(nil); err == nil || fd != -1 {
		t.Fatalf("OpenUnified(nil) = %d, %v", fd, err)
	}
}

// A rootless config without cgroupsPath names the same place by parent
// and name: the library skips what a rootless caller may not write only
// when no path was asked for.
func TestLibConfigRootlessDefault(t *testing.T) {
	cg, err := libConfig(Config{ID: "rl", Rootless: true})
	if err != nil {
		t.Fatal(err)
	}
	if cg.Path != "" || cg.Parent != DefaultParent || cg.Name != "rl" || !cg.Rootless {
		t.Fatalf("got path %q parent %q name %q rootless %v", cg.Path, cg.Parent, cg.Name, cg.Rootless)
	}
	cg, err = libConfig(Config{ID: "rl", Rootless: true, CgroupsPath: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if cg.Path != "/x" || cg.Name != "" {
		t.Fatalf("explicit path: got path %q name %q", cg.Path, cg.Name)
	}
}
