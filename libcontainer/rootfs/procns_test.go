package rootfs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A proc mounted from outside a pid namespace (mountProcOf) shows that
// namespace, carries the flags and options asked for, and an option the
// kernel refuses leaves the mount point as it was; mountOwn then hands
// the mount to the process (MountInNS). All of it in a mount namespace
// of a thread of the test's own, which ends with it.
func TestMountProcOf(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: pid and mount namespaces")
	}
	if fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC); err == nil {
		self, _ := os.Open("/proc/self/ns/pid")
		err = unix.FsconfigSetFd(fs, "pidns", int(self.Fd()))
		self.Close()
		unix.Close(fs)
		if err == unix.EINVAL {
			t.Skip("fsconfig has no pidns before Linux 6.17: init mounts its proc (mountOwn)")
		}
	}
	child := exec.Command("sleep", "60")
	child.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	pidns, err := os.Open(fmt.Sprintf("/proc/%d/ns/pid", child.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer pidns.Close()
	dir := t.TempDir()
	if err := inPrivateMountNS(func() error {
		dst, err := openHost(dir, unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		defer dst.Close()
		if err := mountProcOf(int(pidns.Fd()), "proc", unix.MS_NOSUID|unix.MS_NOEXEC, "no-such-option", dst); err == nil {
			return fmt.Errorf("an unknown proc option was taken")
		}
		if _, err := os.Stat(filepath.Join(dir, "self")); err == nil {
			return fmt.Errorf("a refused proc mount left a proc on %s", dir)
		}
		flags := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
		if err := mountProcOf(int(pidns.Fd()), "proc", flags, "hidepid=2", dst); err != nil {
			return err
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		var pids []string
		for _, e := range ents {
			if e.Name()[0] >= '0' && e.Name()[0] <= '9' {
				pids = append(pids, e.Name())
			}
		}
		if !slices.Equal(pids, []string{"1"}) {
			return fmt.Errorf("the proc shows pids %v, want only the namespace's 1", pids)
		}
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err != nil {
			return err
		}
		want := int64(unix.ST_RDONLY | unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC)
		if st.Flags&want != want {
			return fmt.Errorf("statfs flags %#x, want %#x among them", st.Flags, want)
		}
		mi, err := os.ReadFile("/proc/thread-self/mountinfo")
		if err != nil {
			return err
		}
		if !containsLine(string(mi), dir, "hidepid=invisible") {
			return fmt.Errorf("no proc on %s with hidepid in:\n%s", dir, mi)
		}
		// Refused here, the mount goes to the process.
		var asked string
		cfg := &Config{ProcPidNS: pidns, MountInNS: func(source, fstype string, flags uintptr, data string, dst int) error {
			asked = fstype + " " + data
			return nil
		}}
		if err := cfg.mountOwn("proc", "proc", unix.MS_NOSUID, "no-such-option", dst); err != nil {
			return err
		}
		if asked != "proc no-such-option" {
			return fmt.Errorf("the refused mount was not handed to the process (asked %q)", asked)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// containsLine says whether some line of mountinfo mounts dir and has s.
func containsLine(mountinfo, dir, s string) bool {
	for _, l := range strings.Split(mountinfo, "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == dir && strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// checkNoSymlink passes a mount point reached without a symlink and
// refuses one reached through a symlink, in its last component or on the
// way to it (CVE-2023-27561), with the path it resolved to.
func TestCheckNoSymlink(t *testing.T) {
	rootDir := t.TempDir()
	for _, d := range []string{"real/x", "sys/fs"} {
		if err := os.MkdirAll(filepath.Join(rootDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/real", filepath.Join(rootDir, "link")); err != nil {
		t.Fatal(err)
	}
	root, err := openHost(rootDir, unix.O_DIRECTORY)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, c := range []struct {
		dest string
		ok   bool
	}{{"/real", true}, {"/sys/fs", true}, {"/real/x", true}, {"/link", false}, {"/link/x", false}} {
		h, err := resolveDest(root, c.dest, false)
		if err != nil {
			t.Fatalf("%s: %v", c.dest, err)
		}
		err = checkNoSymlink(rootDir, root, specs.Mount{Destination: c.dest, Type: "proc"}, h)
		h.Close()
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.dest, err)
		}
		if !c.ok && (err == nil || !strings.Contains(err.Error(), "resolves to "+filepath.Join(rootDir, "real"))) {
			t.Errorf("%s: %v, want it refused, resolving under /real", c.dest, err)
		}
	}
}
