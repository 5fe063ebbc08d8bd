package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
)

// fakeCgroup makes dir with the given files (name -> content).
func fakeCgroup(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheckUnusedPaths(t *testing.T) {
	root := t.TempDir()
	paths := map[string]string{
		"freezer": root + "/freezer/c",
		"pids":    root + "/pids/c",
		"cpu":     root + "/cpu,cpuacct/c",
		"cpuacct": root + "/cpu,cpuacct/c",
		"":        root + "/unified/c",
	}
	// Nothing exists yet: the usual create.
	if err := checkUnusedPaths(paths); err != nil {
		t.Fatalf("fresh cgroup refused: %v", err)
	}
	fakeCgroup(t, paths["freezer"], map[string]string{"freezer.state": "THAWED\n", "cgroup.procs": ""})
	fakeCgroup(t, paths[""], map[string]string{"cgroup.freeze": "0\n", "cgroup.procs": ""})
	if err := checkUnusedPaths(paths); err != nil {
		t.Fatalf("existing empty thawed cgroup refused: %v", err)
	}
	for _, tc := range []struct {
		dir, file, data, want string
	}{
		{paths["freezer"], "freezer.state", "FROZEN\n", "is frozen"},
		{paths["freezer"], "freezer.state", "FREEZING\n", "is frozen"},
		{paths[""], "cgroup.freeze", "1\n", "is frozen"},
		{paths["pids"], "cgroup.procs", "12\n34\n", "container's cgroup is not empty: " + paths["pids"] + ": 2 process(es) found"},
		{paths["cpu"] + "/sub", "cgroup.procs", "56\n", ": 1 process(es) found"},
	} {
		fakeCgroup(t, tc.dir, map[string]string{tc.file: tc.data})
		err := checkUnusedPaths(paths)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: got %v, want %q", tc.file, tc.data, err, tc.want)
		}
		if err := os.RemoveAll(tc.dir); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheckV1Knobs(t *testing.T) {
	root := t.TempDir()
	paths := map[string]string{"cpu": root + "/cpu", "blkio": root + "/blkio"}
	fakeCgroup(t, paths["cpu"], map[string]string{"cpu.shares": "1024\n"})
	fakeCgroup(t, paths["blkio"], map[string]string{"blkio.throttle.read_bps_device": ""})
	burst, idle := uint64(1000), int64(1)
	for _, tc := range []struct {
		r    cgroups.Resources
		want string
	}{
		{cgroups.Resources{CpuShares: 512}, ""},
		{cgroups.Resources{CpuBurst: &burst}, "linux.resources.cpu.burst is not supported by this kernel: " + paths["cpu"] + " has no cpu.cfs_burst_us"},
		{cgroups.Resources{CPUIdle: &idle}, "linux.resources.cpu.idle is not supported"},
		{cgroups.Resources{BlkioWeight: 500}, "linux.resources.blockIO.weight is not supported"},
	} {
		err := checkV1Knobs(paths, &tc.r)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: got %v, want %q", tc.r, err, tc.want)
		}
	}
	fakeCgroup(t, paths["cpu"], map[string]string{"cpu.cfs_burst_us": "0\n", "cpu.idle": "0\n"})
	fakeCgroup(t, paths["blkio"], map[string]string{"blkio.bfq.weight": "100\n"})
	if err := checkV1Knobs(paths, &cgroups.Resources{CpuBurst: &burst, CPUIdle: &idle, BlkioWeight: 500}); err != nil {
		t.Errorf("knobs present, still refused: %v", err)
	}
	// A controller that is not mounted is the library's business.
	if err := checkV1Knobs(map[string]string{}, &cgroups.Resources{CpuBurst: &burst}); err != nil {
		t.Errorf("unmounted controller: %v", err)
	}
}

func TestWithIdleDropsWeightOfIdleGroup(t *testing.T) {
	idle := int64(1)
	r := &cgroups.Resources{CpuShares: 512, CpuWeight: 20, CPUIdle: &idle, PidsLimit: ptr[int64](5)}
	got, err := withIdle(nil, r)
	if err != nil {
		t.Fatal(err)
	}
	if got.CpuShares != 0 || got.CpuWeight != 0 || got.PidsLimit == nil || *got.PidsLimit != 5 {
		t.Errorf("got %+v", got)
	}
	if r.CpuShares != 512 || r.CpuWeight != 20 {
		t.Error("the input was modified")
	}
	plain := &cgroups.Resources{CpuShares: 512}
	if got, _ := withIdle(nil, plain); got != plain {
		t.Error("resources without idle changed")
	}
}
