package cgroups

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestProcsWalksSubCgroupsOnce(t *testing.T) {
	root := t.TempDir()
	paths := map[string]string{
		"memory": root + "/memory/c",
		"pids":   root + "/pids/c",
		"":       root + "/unified/c",
		"cpu":    root + "/missing/c", // a hierarchy without the cgroup
	}
	fakeCgroup(t, paths["memory"], map[string]string{"cgroup.procs": "10\n11\n"})
	fakeCgroup(t, paths["memory"]+"/sub/deeper", map[string]string{"cgroup.procs": "12\n"})
	fakeCgroup(t, paths["pids"], map[string]string{"cgroup.procs": "10\n"})
	fakeCgroup(t, paths["pids"]+"/sub", map[string]string{"cgroup.procs": "11\n12\n13\n"})
	// 0: a process of a pid namespace this one cannot see (cgroup2).
	fakeCgroup(t, paths[""], map[string]string{"cgroup.procs": "0\n"})
	pids, err := Procs(paths)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(pids)
	if want := []int{10, 11, 12, 13}; !slices.Equal(pids, want) {
		t.Errorf("got %v, want %v", pids, want)
	}
	fakeCgroup(t, paths["pids"]+"/bad", map[string]string{"cgroup.procs": "x\n"})
	if _, err := Procs(paths); err == nil || !strings.Contains(err.Error(), `cgroup.procs: bad id "x"`) {
		t.Errorf("bad pid accepted: %v", err)
	}
	fakeCgroup(t, paths["pids"]+"/bad", map[string]string{"cgroup.procs": "-3\n"})
	if _, err := Procs(paths); err == nil || !strings.Contains(err.Error(), `cgroup.procs: bad id "-3"`) {
		t.Errorf("negative pid accepted: %v", err)
	}
}

func TestParseTgid(t *testing.T) {
	status := "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4250\n"
	if got, err := parseTgid([]byte(status)); err != nil || got != 4242 {
		t.Errorf("parseTgid: %d, %v; want 4242", got, err)
	}
	if _, err := parseTgid([]byte("Name:\tx\nPid:\t1\n")); err == nil {
		t.Error("a status without Tgid parsed")
	}
	// this very thread: its process is the test's
	if got, err := tgidOf(os.Getpid()); err != nil || got != os.Getpid() {
		t.Errorf("tgidOf(self): %d, %v", got, err)
	}
}

func TestThawTree(t *testing.T) {
	root := t.TempDir() + "/freezer/c"
	fakeCgroup(t, root, map[string]string{"freezer.state": "THAWED\n"})
	fakeCgroup(t, root+"/a", map[string]string{"freezer.state": "FROZEN\n"})
	fakeCgroup(t, root+"/a/b", map[string]string{"freezer.state": "FREEZING\n"})
	if err := thawTree(root, v1Freezer); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{root, root + "/a", root + "/a/b"} {
		data, err := os.ReadFile(filepath.Join(d, "freezer.state"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(data)) != "THAWED" {
			t.Errorf("%s: %q", d, data)
		}
	}
	if err := thawTree(root+"/none", v1Freezer); err != nil {
		t.Errorf("missing cgroup: %v", err)
	}
}

func TestThawTreeV2(t *testing.T) {
	root := t.TempDir() + "/c"
	fakeCgroup(t, root, map[string]string{"cgroup.freeze": "1\n"})
	fakeCgroup(t, root+"/a", map[string]string{"cgroup.freeze": "0\n"})
	fakeCgroup(t, root+"/a/b", map[string]string{"cgroup.freeze": "1\n"})
	if err := thawTree(root, v2Freezer); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{root, root + "/a", root + "/a/b"} {
		data, err := os.ReadFile(filepath.Join(d, "cgroup.freeze"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(data)) != "0" {
			t.Errorf("%s: %q", d, data)
		}
	}
}
