package intelrdt

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestApplyOwnGroup(t *testing.T) {
	root := t.TempDir()
	// resctrl gives a new group its mon_groups; a plain directory needs
	// it made (the group then exists already, named after the container).
	os.MkdirAll(filepath.Join(root, "ctr/mon_groups"), 0o755)
	r := &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=7f0", MemBwSchema: "MB:0=70", Schemata: []string{"L2:0=f"}, EnableMonitoring: true}
	if err := Apply(root, "ctr", r, 42); err != nil {
		t.Fatal(err)
	}
	// l3CacheSchema first, memBwSchema next, schemata last.
	if got := read(t, filepath.Join(root, "ctr/schemata")); got != "L3:0=7f0\nMB:0=70\nL2:0=f\n" {
		t.Errorf("schemata %q", got)
	}
	for _, f := range []string{"ctr/tasks", "ctr/mon_groups/ctr/tasks"} {
		if got := read(t, filepath.Join(root, f)); got != "42" {
			t.Errorf("%s = %q", f, got)
		}
	}
	if err := Join(root, "ctr", r, 43); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "ctr/mon_groups/ctr/tasks")); got != "43" {
		t.Errorf("exec not joined: %q", got)
	}
	// Remove takes the monitoring group and the group of the container's
	// own (rmdir: on resctrl the files go with the directory; here they
	// are removed first).
	for _, f := range []string{"ctr/mon_groups/ctr/tasks", "ctr/tasks", "ctr/schemata"} {
		os.Remove(filepath.Join(root, f))
	}
	os.Remove(filepath.Join(root, "ctr/mon_groups"))
	os.Mkdir(filepath.Join(root, "ctr/mon_groups"), 0o755) // the mon group goes first
	os.Mkdir(filepath.Join(root, "ctr/mon_groups/ctr"), 0o755)
	if err := Remove(root, "ctr", r); err == nil {
		t.Fatal("removed a group that still holds mon_groups") // plain rmdir of a non-empty dir
	}
	if exists(filepath.Join(root, "ctr/mon_groups/ctr")) {
		t.Error("monitoring group left")
	}
	os.Remove(filepath.Join(root, "ctr/mon_groups"))
	if err := Remove(root, "ctr", r); err != nil || exists(filepath.Join(root, "ctr")) {
		t.Errorf("own group left: %v", err)
	}
}

func TestApplyPreconfigured(t *testing.T) {
	root := t.TempDir()
	grp := filepath.Join(root, "gold")
	os.Mkdir(grp, 0o755)
	// As the kernel prints it: padded, every domain.
	os.WriteFile(filepath.Join(grp, "schemata"), []byte("    L3:0=0007f0;1=fff\n    MB:0= 70;1=100\n"), 0o644)
	r := &specs.LinuxIntelRdt{ClosID: "gold", L3CacheSchema: "L3:0=7f0", MemBwSchema: "MB:0=70"}
	if err := Apply(root, "ctr", r, 7); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(grp, "tasks")); got != "7" {
		t.Errorf("tasks %q", got)
	}
	// Compared, not rewritten.
	if got := read(t, filepath.Join(grp, "schemata")); !strings.Contains(got, "0007f0") {
		t.Errorf("schemata rewritten: %q", got)
	}
	r.MemBwSchema = "MB:0=50"
	if err := Apply(root, "ctr", r, 7); err == nil || !strings.Contains(err.Error(), "not \"MB:0=50\"") {
		t.Errorf("mismatch: %v", err)
	}
	// A pre-configured group stays after Remove.
	if err := Remove(root, "ctr", r); err != nil || !exists(grp) {
		t.Errorf("Remove: %v, group there: %t", err, exists(grp))
	}
	// closID without schemata: the group must exist.
	err := Apply(root, "ctr", &specs.LinuxIntelRdt{ClosID: "silver"}, 7)
	if err == nil || !strings.Contains(err.Error(), "no such resctrl group") || exists(filepath.Join(root, "silver")) {
		t.Errorf("missing group: %v", err)
	}
	// closID with schemata: created when missing.
	if err := Apply(root, "ctr", &specs.LinuxIntelRdt{ClosID: "bronze", Schemata: []string{"L3:0=1"}}, 7); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "bronze/schemata")); got != "L3:0=1\n" {
		t.Errorf("bronze schemata %q", got)
	}
	// "/" is the default group: the root.
	if err := Apply(root, "ctr", &specs.LinuxIntelRdt{ClosID: "/"}, 9); err != nil || read(t, filepath.Join(root, "tasks")) != "9" {
		t.Errorf("default group: %v", err)
	}
}

func TestApplyUndoesOnFailure(t *testing.T) {
	root := t.TempDir()
	// The monitoring group cannot be made: no mon_groups directory.
	err := Apply(root, "ctr", &specs.LinuxIntelRdt{EnableMonitoring: true}, 1)
	if err == nil || !strings.Contains(err.Error(), "monitoring group") {
		t.Fatalf("got %v", err)
	}
	// Files in a plain directory stay (resctrl has no such files to
	// remove); the directory itself is left only because of them.
	os.Remove(filepath.Join(root, "ctr/tasks"))
	os.Remove(filepath.Join(root, "ctr"))
	if exists(filepath.Join(root, "ctr")) {
		t.Error("group left")
	}
}

func TestCheck(t *testing.T) {
	for _, ok := range []specs.LinuxIntelRdt{{}, {ClosID: "/"}, {ClosID: "gold", L3CacheSchema: "L3:0=f", MemBwSchema: "MB:0=10", Schemata: []string{"L2:0=1"}}} {
		if err := Check(&ok); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	for _, bad := range []specs.LinuxIntelRdt{{ClosID: ".."}, {ClosID: "a/b"}, {MemBwSchema: "L3:0=1"}, {L3CacheSchema: "L3:0=1\nMB:0=1"}, {Schemata: []string{"a\nb"}}} {
		if err := Check(&bad); err == nil || !strings.HasPrefix(err.Error(), "linux.intelRdt.") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestRootFrom(t *testing.T) {
	dir := t.TempDir()
	mi := filepath.Join(dir, "mountinfo")
	os.WriteFile(mi, []byte("22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"+
		"40 22 0:35 / /sys/fs/res\\040ctrl rw,relatime shared:20 - resctrl resctrl rw\n"), 0o644)
	f, _ := os.Open(mi)
	defer f.Close()
	if root, err := rootFrom(f); err != nil || root != "/sys/fs/res ctrl" {
		t.Errorf("got %q, %v", root, err)
	}
	os.WriteFile(mi, []byte("22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"), 0o644)
	g, _ := os.Open(mi)
	defer g.Close()
	if _, err := rootFrom(g); !errors.Is(err, ErrNoResctrl) {
		t.Errorf("no resctrl: %v", err)
	}
}
