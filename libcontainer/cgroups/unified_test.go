package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unifiedTree is fakeTree (root delegating hugetlb when delegated) with
// the files of the cgroup core and of the controllers root offers.
func unifiedTree(t *testing.T, delegated bool) (root, dir string) {
	t.Helper()
	root, dir = fakeTree(t, delegated)
	for name, content := range map[string]string{
		"cgroup.controllers":             "cpuset hugetlb misc",
		"a/b/ctr/cgroup.max.depth":       "max",
		"a/b/ctr/hugetlb.2MB.max":        "max",
		"a/b/ctr/misc.max":               "",
		"a/b/ctr/cgroup.subtree_control": "",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, dir
}

func TestSetHybridUnified(t *testing.T) {
	root, dir := unifiedTree(t, true)
	v1 := map[string]string{"cpuset": "/sys/fs/cgroup/cpuset/x", "memory": "/sys/fs/cgroup/memory/x", "": dir}
	err := setHybridUnified(root, dir, v1, map[string]string{"cgroup.max.depth": "3", "hugetlb.2MB.max": "4194304"})
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"a/b/ctr/cgroup.max.depth": "3",
		"a/b/ctr/hugetlb.2MB.max":  "4194304",
		"a/cgroup.subtree_control": "+hugetlb",
		"cgroup.subtree_control":   "hugetlb", // the root's: never written
	} {
		if got := readFile(t, filepath.Join(root, file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
}

func TestSetHybridUnifiedRefusals(t *testing.T) {
	v1 := map[string]string{"cpuset": "/sys/fs/cgroup/cpuset/x", "memory": "/sys/fs/cgroup/memory/x"}
	for _, c := range []struct {
		key, want string
		delegated bool
	}{
		{"memory.max", `"memory.max": the memory controller is on cgroup v1`, true},
		{"cpuset.cpus", "the cpuset controller is on cgroup v1", true},
		{"io.max", "no io controller in the cgroup2 tree", true},
		{"hugetlb.2MB.max", "not delegated", false},
		{"misc.max", "not delegated", true},
		{"cgroup.nothere", "no such file", true},
		{".max", "names no controller", true},
	} {
		root, dir := unifiedTree(t, c.delegated)
		err := setHybridUnified(root, dir, v1, map[string]string{c.key: "1"})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "linux.resources.unified: ") {
			t.Errorf("%s: got %v, want %q", c.key, err, c.want)
		}
	}
	root, _ := unifiedTree(t, true)
	if err := setHybridUnified(root, "", v1, map[string]string{"cgroup.max.depth": "1"}); err == nil {
		t.Error("no cgroup2 directory accepted")
	}
}
