package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestV1Manager drives a real cgroupfs v1 manager on this (hybrid) host.
func TestV1Manager(t *testing.T) {
	needRoot(t)
	mode := Mode()
	if mode == ModeV2 {
		t.Skip("host is cgroup v2 only")
	}
	name := testName(t)
	cleanupCgroupTrees(t, name)

	cfg := Config{ID: "c1", CgroupsPath: "/" + name + "/c1"}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	// Copy: Destroy deletes entries from the manager's own map.
	paths := maps.Clone(m.GetPaths())
	for _, ctrl := range []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"} {
		want := filepath.Join("/sys/fs/cgroup", ctrl, name, "c1")
		if paths[ctrl] != want {
			t.Errorf("path of %s = %q, want %q", ctrl, paths[ctrl], want)
		}
	}
	for ctrl, dir := range paths {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Errorf("Apply(-1) did not create %s directory %s: %v", ctrl, dir, err)
		}
	}
	unified := filepath.Join("/sys/fs/cgroup/unified", name, "c1")
	if mode == ModeHybrid {
		// Like runc, the v1 driver also creates (and joins) the
		// container's directory in the cgroup2 tree of a hybrid host.
		if paths[""] != unified {
			t.Errorf("unified path = %q, want %q", paths[""], unified)
		}
		if _, err := os.Stat(unified); err != nil {
			t.Errorf("no cgroup2 directory: %v", err)
		}
	}

	sleeper := startChild(t, exec.Command("sleep", "600"))
	pid := sleeper.Process.Pid
	if err := m.Apply(pid); err != nil {
		t.Fatal(err)
	}
	in := procCgroup(t, pid)
	for _, ctrl := range []string{"memory", "pids", "cpu", "freezer", "devices", "blkio"} {
		if in[ctrl] != "/"+name+"/c1" {
			t.Errorf("sleep's %s cgroup is %q", ctrl, in[ctrl])
		}
	}
	if mode == ModeHybrid && in[""] != "/"+name+"/c1" {
		t.Errorf("sleep's cgroup2 cgroup is %q", in[""])
	}
	if pids, err := m.GetPids(); err != nil || !slices.Contains(pids, pid) {
		t.Errorf("GetPids = %v, %v; want %d in it", pids, err, pid)
	}

	res, err := ConvertResources(&specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr[int64](64 << 20)},
		CPU:    &specs.LinuxCPU{Shares: ptr[uint64](512), Quota: ptr[int64](50000), Period: ptr[uint64](100000)},
		Pids:   &specs.LinuxPids{Limit: ptr[int64](5)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Set(res); err != nil {
		t.Fatal(err)
	}
	expectFile(t, paths["memory"], "memory.limit_in_bytes", strconv.Itoa(64<<20))
	expectFile(t, paths["pids"], "pids.max", "5")
	expectFile(t, paths["cpu"], "cpu.shares", "512")
	expectFile(t, paths["cpu"], "cpu.cfs_quota_us", "50000")
	expectFile(t, paths["cpu"], "cpu.cfs_period_us", "100000")
	// Device rules: no blanket access, the defaults are there.
	devList := readTrim(t, filepath.Join(paths["devices"], "devices.list"))
	for _, want := range []string{"c 1:3 rwm", "c 136:* rwm", "c *:* m", "b *:* m", "c 10:200 rwm"} {
		if !slices.Contains(strings.Split(devList, "\n"), want) {
			t.Errorf("devices.list lacks %q:\n%s", want, devList)
		}
	}
	if strings.Contains(devList, "a *:* rwm") {
		t.Errorf("devices.list still allows everything:\n%s", devList)
	}

	t.Run("pids limit stops forks", func(t *testing.T) { testForkLimit(t, m, paths["pids"]) })

	// Load from the saved paths sees the same cgroup.
	loaded, err := Load(cfg, paths)
	if err != nil {
		t.Fatal(err)
	}
	if pids, err := loaded.GetPids(); err != nil || !slices.Contains(pids, pid) {
		t.Errorf("loaded manager GetPids = %v, %v", pids, err)
	}

	// Freeze and thaw, through the loaded manager as `berth pause` would.
	if err := loaded.Freeze(cgroups.Frozen); err != nil {
		t.Fatal(err)
	}
	if st, err := m.GetFreezerState(); err != nil || st != cgroups.Frozen {
		t.Errorf("after Freeze: state %q, %v", st, err)
	}
	expectFile(t, paths["freezer"], "freezer.state", "FROZEN")
	if err := loaded.Freeze(cgroups.Thawed); err != nil {
		t.Fatal(err)
	}
	if st, err := m.GetFreezerState(); err != nil || st != cgroups.Thawed {
		t.Errorf("after thaw: state %q, %v", st, err)
	}
	expectFile(t, paths["freezer"], "freezer.state", "THAWED")

	if mode == ModeHybrid {
		t.Run("clone into unified", func(t *testing.T) { testHybridCloneInto(t, m, name) })
	}

	// Destroy needs an empty cgroup.
	_ = sleeper.Process.Kill()
	_ = sleeper.Wait()
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for ctrl, dir := range paths {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Destroy left the %s directory %s (%v)", ctrl, dir, err)
		}
	}
	if _, err := os.Stat(unified); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Destroy left the cgroup2 directory %s (%v)", unified, err)
	}
	// Destroy removes only the container's own directories; the parent
	// made by Apply's MkdirAll (here /<name>, for berth /berth) stays, as
	// it may be shared with other containers. t.Cleanup removes it.
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/memory", name)); err != nil {
		t.Errorf("parent directory: %v", err)
	}
	if m.Exists() {
		t.Error("Exists() after Destroy")
	}
}

// testForkLimit moves a shell into the cgroup (pids.max=5, one sleep
// already inside) and lets it start background sleeps until fork fails.
func testForkLimit(t *testing.T, m cgroups.Manager, pidsDir string) {
	script := `read go; i=0; while [ $i -lt 20 ]; do sleep 2 & i=$((i+1)); echo started $i; done; echo all-started`
	sh := exec.Command("sh", "-c", script)
	stdin, err := sh.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sh.Stdout, sh.Stderr = &out, &out
	startChild(t, sh)
	if err := m.Apply(sh.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintln(stdin, "go"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sh.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("shell did not finish; output:\n%s", out.String())
	}
	output := out.String()
	t.Logf("shell output:\n%s", output)
	if strings.Contains(output, "all-started") {
		t.Fatalf("all 20 forks succeeded under pids.max=5:\n%s", output)
	}
	// sleep 600 + sh use 2 of the 5 pids: exactly 3 forks succeed.
	if !strings.Contains(output, "started 3\n") || strings.Contains(output, "started 4\n") {
		t.Errorf("want exactly 3 forks to succeed:\n%s", output)
	}
	if !strings.Contains(strings.ToLower(output), "fork") {
		t.Errorf("no fork failure reported:\n%s", output)
	}
	events := readTrim(t, filepath.Join(pidsDir, "pids.events"))
	if !strings.HasPrefix(events, "max ") || events == "max 0" {
		t.Errorf("pids.events = %q, want a non-zero max count", events)
	}
	// The background sleeps end by themselves; wait so that Destroy can
	// remove the cgroup (they are killed in cleanup if this times out).
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids, err := m.GetPids()
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) <= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testHybridCloneInto clones a process straight into the container's
// cgroup2 directory: on a hybrid host only the "0::" line changes, the v1
// controllers still need Apply(pid).
func testHybridCloneInto(t *testing.T, m cgroups.Manager, name string) {
	fd, err := OpenUnified(m)
	if err != nil {
		t.Fatal(err)
	}
	if fd < 0 {
		t.Fatal("no unified fd on a hybrid host")
	}
	defer syscall.Close(fd)
	flags, err := fcntlFlags(fd)
	if err != nil {
		t.Fatal(err)
	}
	if flags&syscall.FD_CLOEXEC == 0 {
		t.Error("unified fd is not close-on-exec")
	}
	cmd := exec.Command("cat", "/proc/self/cgroup")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	got := parseCgroupLines(string(out))
	if got[""] != "/"+name+"/c1" {
		t.Errorf("cloned process cgroup2 path %q, want /%s/c1:\n%s", got[""], name, out)
	}
	if got["memory"] == "/"+name+"/c1" {
		t.Errorf("CLONE_INTO_CGROUP unexpectedly placed the process in the v1 memory cgroup")
	}
}

func fcntlFlags(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// TestOpenUnifiedMissing: a hybrid manager whose cgroup2 directory was not
// created yields -1, nil; a v1-only manager too.
func TestOpenUnifiedMissing(t *testing.T) {
	if Mode() == ModeV2 {
		t.Skip("v1 managers only")
	}
	m, err := Load(Config{ID: "c1"}, map[string]string{
		"memory": "/sys/fs/cgroup/memory/berth-test-none",
		"":       "/sys/fs/cgroup/unified/berth-test-none",
	})
	if err != nil {
		t.Fatal(err)
	}
	if fd, err := OpenUnified(m); fd != -1 || err != nil {
		t.Fatalf("OpenUnified = %d, %v; want -1, nil", fd, err)
	}
	m, err = Load(Config{ID: "c1"}, map[string]string{"memory": "/sys/fs/cgroup/memory/berth-test-none"})
	if err != nil {
		t.Fatal(err)
	}
	if fd, err := OpenUnified(m); fd != -1 || err != nil {
		t.Fatalf("OpenUnified without unified path = %d, %v; want -1, nil", fd, err)
	}
	// A path that is not on cgroup2 is refused rather than handed to clone3.
	m, err = Load(Config{ID: "c1"}, map[string]string{"": "/sys/fs/cgroup/memory"})
	if err != nil {
		t.Fatal(err)
	}
	if fd, err := OpenUnified(m); err == nil {
		syscall.Close(fd)
		t.Fatal("OpenUnified accepted a cgroup v1 directory")
	}
}
