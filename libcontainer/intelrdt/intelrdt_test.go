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

// resctrlMkdir makes a group as resctrl does: a new CTRL_MON group comes
// with its mon_groups directory. The top-level one (the root) has it too.
func resctrlMkdir(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if filepath.Base(filepath.Dir(dir)) == "mon_groups" {
		return nil
	}
	return os.Mkdir(filepath.Join(dir, "mon_groups"), 0o755)
}

// rmGroupFiles empties a group made in a plain directory as far as rmdir on
// resctrl needs: there the files go with the directory.
func rmGroupFiles(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []string{"tasks", "schemata"} {
		os.Remove(filepath.Join(dir, f))
	}
}

func TestApplyOwnGroup(t *testing.T) {
	root := t.TempDir()
	r := &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=7f0", MemBwSchema: "MB:0=70", Schemata: []string{"L2:0=f"}, EnableMonitoring: true}
	made, err := apply(root, "ctr", r, 42, resctrlMkdir)
	if err != nil {
		t.Fatal(err)
	}
	if made != (Made{Group: true, Mon: true}) {
		t.Errorf("made %+v", made)
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
	// Remove takes the monitoring group first, then the group.
	rmGroupFiles(t, filepath.Join(root, "ctr/mon_groups/ctr"))
	rmGroupFiles(t, filepath.Join(root, "ctr"))
	if err := Remove(root, "ctr", r, made); err == nil {
		t.Fatal("removed a group that still holds mon_groups") // plain rmdir of a non-empty dir
	}
	if exists(filepath.Join(root, "ctr/mon_groups/ctr")) {
		t.Error("monitoring group left")
	}
	os.Remove(filepath.Join(root, "ctr/mon_groups"))
	if err := Remove(root, "ctr", r, made); err != nil || exists(filepath.Join(root, "ctr")) {
		t.Errorf("own group left: %v", err)
	}
}

// A group named after the container that exists before it is used, and
// stays at Remove (spec: the runtime did not create it).
func TestApplyOwnGroupExisting(t *testing.T) {
	root := t.TempDir()
	grp := filepath.Join(root, "ctr")
	if err := os.Mkdir(grp, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &specs.LinuxIntelRdt{}
	made, err := apply(root, "ctr", r, 5, resctrlMkdir)
	if err != nil || made != (Made{}) {
		t.Fatalf("made %+v, %v", made, err)
	}
	if got := read(t, filepath.Join(grp, "tasks")); got != "5" {
		t.Errorf("tasks %q", got)
	}
	rmGroupFiles(t, grp) // so that a wrong rmdir would succeed
	if err := Remove(root, "ctr", r, made); err != nil || !exists(grp) {
		t.Errorf("Remove: %v; group there: %t", err, exists(grp))
	}
	// The monitoring group made in it goes, the group stays.
	if err := os.Mkdir(filepath.Join(grp, "mon_groups"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.EnableMonitoring = true
	if made, err = apply(root, "ctr", r, 6, resctrlMkdir); err != nil || made != (Made{Mon: true}) {
		t.Fatalf("made %+v, %v", made, err)
	}
	rmGroupFiles(t, filepath.Join(grp, "mon_groups/ctr"))
	if err := Remove(root, "ctr", r, made); err != nil || !exists(grp) || exists(filepath.Join(grp, "mon_groups/ctr")) {
		t.Errorf("Remove: %v; group there: %t (want true), monitoring group there: %t (want false)", err, exists(grp), exists(filepath.Join(grp, "mon_groups/ctr")))
	}
	// A monitoring group that exists already is not the container's
	// own: an error, and it stays.
	if err := os.Mkdir(filepath.Join(grp, "mon_groups/ctr"), 0o755); err != nil {
		t.Fatal(err)
	}
	made, err = apply(root, "ctr", r, 7, resctrlMkdir)
	if err == nil || !strings.Contains(err.Error(), "monitoring group") || made != (Made{}) {
		t.Errorf("existing monitoring group: made %+v, %v", made, err)
	}
	if !exists(filepath.Join(grp, "mon_groups/ctr")) || !exists(grp) {
		t.Error("a failed Apply removed what it had not made")
	}
}

func TestApplyPreconfigured(t *testing.T) {
	root := t.TempDir()
	grp := filepath.Join(root, "gold")
	os.Mkdir(grp, 0o755)
	// As the kernel prints it: padded, every domain.
	os.WriteFile(filepath.Join(grp, "schemata"), []byte("    L3:0=0007f0;1=fff\n    MB:0= 70;1=100\n"), 0o644)
	r := &specs.LinuxIntelRdt{ClosID: "gold", L3CacheSchema: "L3:0=7f0", MemBwSchema: "MB:0=70"}
	made, err := Apply(root, "ctr", r, 7)
	if err != nil || made != (Made{}) {
		t.Fatalf("made %+v, %v", made, err)
	}
	if got := read(t, filepath.Join(grp, "tasks")); got != "7" {
		t.Errorf("tasks %q", got)
	}
	// Compared, not rewritten.
	if got := read(t, filepath.Join(grp, "schemata")); !strings.Contains(got, "0007f0") {
		t.Errorf("schemata rewritten: %q", got)
	}
	r.MemBwSchema = "MB:0=50"
	if _, err := Apply(root, "ctr", r, 7); err == nil || !strings.Contains(err.Error(), "not \"MB:0=50\"") {
		t.Errorf("mismatch: %v", err)
	}
	// A pre-configured group stays after Remove.
	if err := Remove(root, "ctr", r, made); err != nil || !exists(grp) {
		t.Errorf("Remove: %v, group there: %t", err, exists(grp))
	}
	// closID without schemata: the group must exist.
	_, err = Apply(root, "ctr", &specs.LinuxIntelRdt{ClosID: "silver"}, 7)
	if err == nil || !strings.Contains(err.Error(), "no such resctrl group") || exists(filepath.Join(root, "silver")) {
		t.Errorf("missing group: %v", err)
	}
	// closID with schemata: created when missing, and not the
	// container's to remove (spec: never a closID group).
	bronze := &specs.LinuxIntelRdt{ClosID: "bronze", Schemata: []string{"L3:0=1"}}
	if made, err := Apply(root, "ctr", bronze, 7); err != nil || made != (Made{}) {
		t.Fatalf("made %+v, %v", made, err)
	}
	if got := read(t, filepath.Join(root, "bronze/schemata")); got != "L3:0=1\n" {
		t.Errorf("bronze schemata %q", got)
	}
	// "/" is the default group: the root.
	if _, err := Apply(root, "ctr", &specs.LinuxIntelRdt{ClosID: "/"}, 9); err != nil || read(t, filepath.Join(root, "tasks")) != "9" {
		t.Errorf("default group: %v", err)
	}
}

func TestApplyUndoesOnFailure(t *testing.T) {
	root := t.TempDir()
	// The monitoring group cannot be made: no mon_groups directory.
	made, err := Apply(root, "ctr", &specs.LinuxIntelRdt{EnableMonitoring: true}, 1)
	if err == nil || !strings.Contains(err.Error(), "monitoring group") || made != (Made{}) {
		t.Fatalf("made %+v, %v", made, err)
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
