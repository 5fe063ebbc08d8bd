package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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
	switch Mode() {
	case ModeV1:
		// No cgroup2 hierarchy to write unified keys to.
		_, err := New(Config{ID: "c1", Resources: &specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}})
		if err == nil || !strings.Contains(err.Error(), "unified") {
			t.Fatalf("unified on v1: error %v", err)
		}
	case ModeHybrid:
		// The v1 driver would refuse them: kept aside, given back by
		// GetCgroups for Set to write (setHybridUnified).
		m, err := New(Config{ID: "c1", Resources: &specs.LinuxResources{Unified: map[string]string{"cgroup.max.depth": "1"}}})
		if err != nil {
			t.Fatalf("unified on a hybrid host: %v", err)
		}
		cg, err := m.GetCgroups()
		if err != nil || cg.Resources.Unified["cgroup.max.depth"] != "1" {
			t.Fatalf("GetCgroups: %+v, %v", cg, err)
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

func TestUnifiedUnder(t *testing.T) {
	const mnt = "/sys/fs/cgroup/unified"
	for _, tc := range []struct{ lib, own, rel, want string }{
		{mnt + "/rel/box", "/runner", "rel/box", mnt + "/runner/rel/box"},
		{mnt + "/rel/box", "/a/b", "./rel//box/", mnt + "/a/b/rel/box"},
		// cleaned as the library cleans it: no climbing out of berth's cgroup
		{mnt + "/x", "/a/b", "../../x", mnt + "/a/b/x"},
		{mnt + "/rel", "/", "rel", mnt + "/rel"},
		{mnt + "/rel", "", "rel", mnt + "/rel"},
	} {
		got, err := unifiedUnder(tc.lib, tc.own, tc.rel)
		if err != nil || got != tc.want {
			t.Errorf("unifiedUnder(%q, %q, %q) = %q, %v; want %q", tc.lib, tc.own, tc.rel, got, err, tc.want)
		}
	}
	if _, err := unifiedUnder("/elsewhere", "/a", "rel"); err == nil {
		t.Error("a library path not ending in the relative path was accepted")
	}
}

func TestSystemdProps(t *testing.T) {
	props, err := systemdProps(map[string]string{
		"org.systemd.property.TimeoutStopSec":     "uint64 3",
		"org.systemd.property.CollectMode":        "'inactive-or-failed'",
		"org.systemd.property.CPUQuotaPerSecUSec": "uint64 50000",
		"org.systemd.property.RuntimeMaxSec":      "2.5",
		"other.annotation":                        "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, p := range props {
		got[p.Name] = p.Value.Value()
	}
	want := map[string]any{
		"CollectMode":        "inactive-or-failed",
		"CPUQuotaPerSecUSec": uint64(50000),
		"RuntimeMaxUSec":     uint64(2500000),
		"TimeoutStopUSec":    uint64(3000000),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("props = %v, want %v", got, want)
	}
	for _, bad := range []map[string]string{
		{"org.systemd.property.Ab": "true"},
		{"org.systemd.property.Memory_Max": "uint64 1"},
		{"org.systemd.property.MemoryMax": "not a variant"},
		{"org.systemd.property.TimeoutStopSec": "'soon'"},
	} {
		if _, err := systemdProps(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestCheckV2Knobs(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"cpu.max", "cpu.weight", "memory.max", "io.max"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	burst := uint64(10)
	for _, tc := range []struct {
		r    cgroups.Resources
		want string // "" = accepted
	}{
		{cgroups.Resources{Memory: 1 << 20, CpuQuota: 1000}, ""},
		{cgroups.Resources{CpusetCpus: "0"}, "linux.resources.cpu.cpus is not supported by this kernel: " + dir + " has no cpuset.cpus"},
		{cgroups.Resources{CpuBurst: &burst}, "cpu.burst"},
		{cgroups.Resources{BlkioWeight: 100}, "has no io.bfq.weight or io.weight"},
	} {
		err := checkV2Knobs(dir, &tc.r)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: got %v, want %q", tc.r, err, tc.want)
		}
	}
}

// A rootless config without cgroupsPath names the container alone, as
// runc's: the library places it relative to the caller's own cgroup, and
// skips what a rootless caller may not write only when no path was asked
// for.
func TestLibConfigRootlessDefault(t *testing.T) {
	cg, err := libConfig(Config{ID: "rl", Rootless: true})
	if err != nil {
		t.Fatal(err)
	}
	if cg.Path != "" || cg.Parent != "" || cg.Name != "rl" || !cg.Rootless {
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

// v1: a field whose file this kernel lacks is refused by name, as the
// blkio weight is (the leaf weight needs CFQ; real-time group scheduling
// CONFIG_RT_GROUP_SCHED). v2 has no interface for them at all: named in
// a warning, and the container runs, as under runc.
func TestRealtimeAndLeafWeightKnobs(t *testing.T) {
	dir := t.TempDir()
	paths := map[string]string{"cpu": dir, "blkio": dir}
	for _, tc := range []struct {
		r    cgroups.Resources
		want string
	}{
		{cgroups.Resources{CpuRtRuntime: 1000}, "linux.resources.cpu.realtimeRuntime is not supported by this kernel: " + dir + " has no cpu.rt_runtime_us"},
		{cgroups.Resources{CpuRtPeriod: 1000}, "cpu.realtimePeriod"},
		{cgroups.Resources{BlkioLeafWeight: 100}, "blockIO.leafWeight"},
	} {
		if err := checkV1Knobs(paths, &tc.r); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.r, err, tc.want)
		}
	}
	for _, f := range []string{"cpu.rt_runtime_us", "cpu.rt_period_us", "blkio.leaf_weight"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkV1Knobs(paths, &cgroups.Resources{CpuRtRuntime: 1000, CpuRtPeriod: 10000, BlkioLeafWeight: 100}); err != nil {
		t.Fatal(err)
	}
	sw := uint64(10)
	got := v2Unapplied(&cgroups.Resources{CpuRtRuntime: 1, CpuRtPeriod: 1, BlkioLeafWeight: 10, BlkioWeight: 10,
		BlkioWeightDevice: []*cgroups.WeightDevice{{LeafWeight: 10}, {LeafWeight: 20}},
		MemorySwappiness:  &sw, OomKillDisable: true, NetClsClassid: 1, NetPrioIfpriomap: []*cgroups.IfPrioMap{{Interface: "lo"}}})
	if strings.Join(got, ", ") != "memory.swappiness, memory.disableOOMKiller, cpu.realtimeRuntime, cpu.realtimePeriod, blockIO.leafWeight, blockIO.weightDevice[].leafWeight, network.classID, network.priorities" {
		t.Fatalf("v2Unapplied: %q", got)
	}
	if got := v2Unapplied(&cgroups.Resources{Memory: 1, BlkioWeight: 10}); got != nil {
		t.Fatalf("nothing unapplied: %q", got)
	}
}

func TestExplainRt(t *testing.T) {
	write := func(path string) error {
		return fmt.Errorf("failed to write %q: %w", "1000", &os.PathError{Op: "write", Path: path, Err: unix.EINVAL})
	}
	err := ExplainRt(write("/sys/fs/cgroup/cpu/berth/c1/cpu.rt_runtime_us"))
	if err == nil || !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "more than the parent cgroup /sys/fs/cgroup/cpu/berth has to give") {
		t.Fatalf("got %v", err)
	}
	for _, other := range []error{nil, write("/sys/fs/cgroup/cpu/berth/c1/cpu.shares"), errors.New("x")} {
		if got := ExplainRt(other); got != other {
			t.Fatalf("%v became %v", other, got)
		}
	}
}
