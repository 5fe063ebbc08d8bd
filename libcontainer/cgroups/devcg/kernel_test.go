package devcg

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/devices/config"
	"golang.org/x/sys/unix"
)

// These tests apply rules to cgroups of their own, made under the host's
// hierarchies (never a cgroup of another process), and need root.

func ownCgroup(t *testing.T, root string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := os.Stat(root); err != nil {
		t.Skipf("no %s on this host", root)
	}
	dir, err := os.MkdirTemp(root, "berth-devcg-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for os.Remove(dir) != nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond) // its last process is being reaped
		}
	})
	return dir
}

var ociDefault = []*config.Rule{rule("a *:* rwm", false), rule("c *:* m", true), rule("b *:* m", true), rule("c 1:3 rwm", true), rule("c 1:5 rwm", true), rule("c 136:* rwm", true)}

func TestSetV1Kernel(t *testing.T) {
	dir := ownCgroup(t, "/sys/fs/cgroup/devices")
	if err := SetV1(dir, &cgroups.Resources{Devices: ociDefault}); err != nil {
		t.Fatal(err)
	}
	list := sortedList(t, dir)
	if want := "b *:* m\nc *:* m\nc 136:* rwm\nc 1:3 rwm\nc 1:5 rwm"; list != want {
		t.Fatalf("devices.list after create:\n%s\nwant:\n%s", list, want)
	}
	// update: /dev/zero loses w, /dev/full comes, /dev/null stays
	update := []*config.Rule{rule("a *:* rwm", false), rule("c *:* m", true), rule("b *:* m", true), rule("c 1:3 rwm", true), rule("c 1:5 rm", true), rule("c 1:7 rwm", true)}
	if err := SetV1(dir, &cgroups.Resources{Devices: update}); err != nil {
		t.Fatal(err)
	}
	list = sortedList(t, dir)
	if want := "b *:* m\nc *:* m\nc 1:3 rwm\nc 1:5 rm\nc 1:7 rwm"; list != want {
		t.Fatalf("devices.list after update:\n%s\nwant:\n%s", list, want)
	}
	// a deny list: the kernel then lists only "a *:* rwm"
	if err := SetV1(dir, &cgroups.Resources{Devices: []*config.Rule{rule("a *:* rwm", true), rule("c 1:3 w", false)}}); err != nil {
		t.Fatal(err)
	}
	if list = sortedList(t, dir); list != "a *:* rwm" {
		t.Fatalf("devices.list of a deny list: %q", list)
	}
	if err := SetV1(dir, &cgroups.Resources{Devices: []*config.Rule{rule("c 1:3 rx", true)}}); err == nil {
		t.Fatal("bad access accepted")
	}
}

// sortedList is the cgroup's devices.list, its lines sorted (the kernel
// lists exceptions in the order they were made).
func sortedList(t *testing.T, dir string) string {
	t.Helper()
	list, err := cgroups.ReadFile(dir, "devices.list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(list), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// cgroup2 returns the host's cgroup2 mount: /sys/fs/cgroup on a pure v2
// host, /sys/fs/cgroup/unified on a hybrid one.
func cgroup2(t *testing.T) string {
	for _, d := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if unix.Statfs(d, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return d
		}
	}
	t.Skip("no cgroup2 mount")
	return ""
}

// inCgroup runs a shell born in the cgroup (CLONE_INTO_CGROUP) and returns
// what it prints.
func inCgroup(t *testing.T, dir, script string) string {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", script, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestSetV2Kernel(t *testing.T) {
	dir := ownCgroup(t, cgroup2(t))
	// which of /dev/null, zero and full open for reading and for writing
	probe := `for d in null zero full; do
		(: </dev/$d) 2>/dev/null && printf '%s ' $d:r
		(: >/dev/$d) 2>/dev/null && printf '%s ' $d:w
	done; true`
	if got := inCgroup(t, dir, probe); got != "null:r null:w zero:r zero:w full:r full:w" {
		t.Fatalf("before any filter: %s", got)
	}
	if err := SetV2(dir, &cgroups.Resources{Devices: ociDefault}); err != nil {
		t.Fatal(err)
	}
	if got, want := inCgroup(t, dir, probe), "null:r null:w zero:r zero:w"; got != want {
		t.Fatalf("with the OCI default: %q, want %q", got, want)
	}
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	// update: /dev/zero goes, /dev/full comes, in place of the first
	// program (one attached, never none)
	update := []*config.Rule{rule("a *:* rwm", false), rule("c 1:3 rwm", true), rule("c 1:7 rwm", true)}
	if err := SetV2(dir, &cgroups.Resources{Devices: update}); err != nil {
		t.Fatal(err)
	}
	if got, want := inCgroup(t, dir, probe), "null:r null:w full:r full:w"; got != want {
		t.Fatalf("after update: %q, want %q", got, want)
	}
	// a deny list: an access asking for a denied mode is refused, also
	// one that asks for an allowed mode with it (read-write)
	deny := []*config.Rule{rule("a *:* rwm", true), rule("c 1:5 w", false)}
	if err := SetV2(dir, &cgroups.Resources{Devices: deny}); err != nil {
		t.Fatal(err)
	}
	rw := probe + `; (: <>/dev/zero) 2>/dev/null && printf '%s' zero:rw; true`
	if got, want := inCgroup(t, dir, rw), "null:r null:w zero:r full:r full:w"; got != want {
		t.Fatalf("with a deny of w on /dev/zero: %q, want %q", got, want)
	}
	progs, err := attached(fd)
	if err != nil {
		t.Fatal(err)
	}
	closeAll(progs)
	if len(progs) != 1 {
		t.Fatalf("%d device programs attached after an update, want 1", len(progs))
	}
}
