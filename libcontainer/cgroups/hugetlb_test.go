package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
)

// fakeTree makes root/a/b/ctr as plain directories with the files a
// cgroup2 tree would have, root delegating hugetlb when delegated.
func fakeTree(t *testing.T, delegated bool) (root, dir string) {
	t.Helper()
	root = t.TempDir()
	dir = filepath.Join(root, "a", "b", "ctr")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rootCtl := ""
	if delegated {
		rootCtl = "hugetlb"
	}
	files := map[string]string{
		"cgroup.subtree_control":       rootCtl,
		"a/cgroup.subtree_control":     "",
		"a/b/cgroup.subtree_control":   "hugetlb",
		"a/b/ctr/hugetlb.2MB.max":      "max",
		"a/b/ctr/hugetlb.2MB.rsvd.max": "max",
		"a/b/ctr/hugetlb.1GB.max":      "max",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestSetUnifiedHugetlb(t *testing.T) {
	root, dir := fakeTree(t, true)
	limits := []*cgroups.HugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}, {Pagesize: "1GB", Limit: 0}}
	if err := setUnifiedHugetlb(root, dir, limits); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"a/b/ctr/hugetlb.2MB.max":      "4194304",
		"a/b/ctr/hugetlb.2MB.rsvd.max": "4194304",
		"a/b/ctr/hugetlb.1GB.max":      "0",
		// enabled where missing, left alone where present, never at root
		"a/cgroup.subtree_control":   "+hugetlb",
		"a/b/cgroup.subtree_control": "hugetlb",
		"cgroup.subtree_control":     "hugetlb",
	} {
		if got := readFile(t, filepath.Join(root, file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "hugetlb.1GB.rsvd.max")); err == nil {
		t.Error("created a rsvd file the kernel does not offer")
	}
}

func TestSetUnifiedHugetlbNotDelegated(t *testing.T) {
	root, dir := fakeTree(t, false)
	err := setUnifiedHugetlb(root, dir, []*cgroups.HugepageLimit{{Pagesize: "2MB", Limit: 1}})
	if err == nil || !strings.Contains(err.Error(), "not delegated") {
		t.Fatalf("got %v, want a not-delegated error", err)
	}
	if got := readFile(t, filepath.Join(root, "cgroup.subtree_control")); got != "" {
		t.Errorf("root subtree_control written: %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "hugetlb.2MB.max")); got != "max" {
		t.Errorf("limit written without delegation: %q", got)
	}
}

func TestSetUnifiedHugetlbBadDir(t *testing.T) {
	root, _ := fakeTree(t, true)
	l := []*cgroups.HugepageLimit{{Pagesize: "2MB", Limit: 1}}
	for _, dir := range []string{"", root, filepath.Dir(root), "/elsewhere/x"} {
		if err := setUnifiedHugetlb(root, dir, l); err == nil {
			t.Errorf("dir %q accepted", dir)
		}
	}
}
