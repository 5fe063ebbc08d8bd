package cgroups

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// testName returns a fresh "berth-test-<random>" cgroup name.
func testName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "berth-test-" + hex.EncodeToString(b)
}

// cleanupCgroupTrees registers removal of /sys/fs/cgroup/<ctrl>/<name> in
// every hierarchy (and of the name itself under root, for a cgroup2 mount
// at /sys/fs/cgroup). Processes still inside are ours (only this test puts
// processes there), so they are killed by pid first.
func cleanupCgroupTrees(t *testing.T, name string) {
	t.Helper()
	if !strings.HasPrefix(name, "berth-test-") {
		t.Fatalf("refusing to clean up %q", name)
	}
	t.Cleanup(func() {
		roots, _ := filepath.Glob("/sys/fs/cgroup/*")
		for _, root := range append(roots, "/sys/fs/cgroup") {
			dir := filepath.Join(root, name)
			if _, err := os.Lstat(dir); err != nil {
				continue
			}
			killCgroupTree(t, dir)
			if err := removeCgroupTree(dir); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
}

// killCgroupTree SIGKILLs every process listed under dir and waits for
// the cgroup tree to empty.
func killCgroupTree(t *testing.T, dir string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := treePids(dir)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if time.Now().After(deadline) {
			t.Errorf("cleanup: processes %v still in %s", pids, dir)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func treePids(dir string) []int {
	var pids []int
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if err != nil {
			return nil
		}
		for f := range strings.FieldsSeq(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

// removeCgroupTree rmdirs dir and its sub-cgroups, deepest first (cgroup
// directories cannot be removed recursively in one go).
func removeCgroupTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	var lastErr error
	for range 50 {
		if lastErr = os.Remove(dir); lastErr == nil || errors.Is(lastErr, os.ErrNotExist) {
			return nil
		}
		time.Sleep(20 * time.Millisecond) // EBUSY while the last task exits
	}
	return lastErr
}

// startChild starts cmd and registers a kill+wait of it by pid.
func startChild(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

func expectFile(t *testing.T, dir, file, want string) {
	t.Helper()
	if got := readTrim(t, filepath.Join(dir, file)); got != want {
		t.Errorf("%s/%s = %q, want %q", dir, file, got, want)
	}
}

// procCgroup returns the controller -> path map of /proc/<pid>/cgroup.
func procCgroup(t *testing.T, pid int) map[string]string {
	t.Helper()
	data := readTrim(t, "/proc/"+strconv.Itoa(pid)+"/cgroup")
	return parseCgroupLines(data)
}

func parseCgroupLines(data string) map[string]string {
	out := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for ctrl := range strings.SplitSeq(parts[1], ",") {
			out[ctrl] = parts[2]
		}
	}
	return out
}
