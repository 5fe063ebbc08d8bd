//go:build linux

package nsenter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startInit starts prog (with in) as a direct init of the test binary,
// cloned with cloneflags; the caller drives it. Its stdout and stderr go
// to the returned pipe.
func startInit(t *testing.T, prog *ExecProgram, in *InitOptions, cloneflags uintptr, extra []*os.File, env []string) (*Direct, *exec.Cmd, *os.File) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: namespaces and mounts")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	prog.Init = in
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Stdout, cmd.Stderr = w, w
	cmd.ExtraFiles = extra
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: cloneflags, Pdeathsig: unix.SIGKILL}
	req, err := PrepareDirect(&Request{}, prog)
	if err != nil {
		t.Fatalf("PrepareDirect: %v", err)
	}
	d, err := StartDirect(cmd, req)
	w.Close()
	if err != nil {
		r.Close()
		t.Fatalf("StartDirect: %v", err)
	}
	t.Cleanup(func() {
		d.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		r.Close()
	})
	if d.Pid != cmd.Process.Pid || d.Forked {
		t.Fatalf("pid %d (forked %t), want the clone %d", d.Pid, d.Forked, cmd.Process.Pid)
	}
	return d, cmd, r
}

// The requests a direct init serves before its go-ahead: the cgroup
// files it joins, mounts in its own mount namespace (and errors for the
// failed ones), then ready, start and the program's execve.
func TestDirectInitServesRequests(t *testing.T) {
	dir := t.TempDir()
	prog := shProgram(`echo "pid=$$"; grep -c " ` + dir + ` .* - tmpfs " /proc/self/mountinfo`)
	d, _, out := startInit(t, prog, &InitOptions{}, unix.CLONE_NEWNS|unix.CLONE_NEWPID, nil, nil)

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	err = d.JoinCgroups([]int{int(pw.Fd())})
	pw.Close()
	if err != nil {
		t.Fatalf("JoinCgroups: %v", err)
	}
	if b, _ := io.ReadAll(pr); string(b) != "0" {
		t.Errorf("the tasks file got %q, want \"0\"", b)
	}
	// The directory as the process's mount namespace has it, as the
	// runtime's thread in that namespace resolves a mount point.
	dst, err := unix.Open("/proc/"+strconv.Itoa(d.Pid)+"/root"+dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dst)
	if err := d.Mount("nosuchfs", "nosuchfs", 0, "", dst); !errors.Is(err, unix.ENODEV) {
		t.Errorf("mount of an unknown filesystem: %v, want ENODEV", err)
	}
	if err := d.Mount("tmpfs", "tmpfs", unix.MS_NOSUID, "size=4k", dst); err != nil {
		t.Fatalf("Mount: %v", err)
	}
	// The mount is the process's: its mount namespace is its own.
	if b, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(b), " "+dir+" ") {
		t.Errorf("the mount on %s is in the test's mount namespace", dir)
	}
	if err := d.GoInit(); err != nil {
		t.Fatalf("GoInit: %v", err)
	}
	if err := d.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := d.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if b, _ := io.ReadAll(out); string(b) != "pid=1\n1\n" {
		t.Errorf("output %q, want pid 1 and one tmpfs on %s", b, dir)
	}
}

// The runtime's rootfs thread asks for its mounts while the main
// goroutine asks for the cgroup join: requests from several goroutines
// at once each get their own answer. Every goroutine alternates a mount
// that fails (an unknown filesystem: ENODEV) with a join that succeeds,
// so an answer read by the wrong goroutine shows as a wrong result.
func TestDirectInitConcurrentRequests(t *testing.T) {
	dir := t.TempDir()
	d, _, _ := startInit(t, shProgram("true"), &InitOptions{}, unix.CLONE_NEWNS, nil, nil)
	dst, err := unix.Open("/proc/"+strconv.Itoa(d.Pid)+"/root"+dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dst)
	const workers, rounds = 4, 50
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; i < rounds; i++ {
				if err := d.Mount("nosuchfs", "nosuchfs", 0, "", dst); !errors.Is(err, unix.ENODEV) {
					errs <- fmt.Errorf("mount of an unknown filesystem: %v, want ENODEV", err)
					return
				}
				pr, pw, err := os.Pipe()
				if err != nil {
					errs <- err
					return
				}
				err = d.JoinCgroups([]int{int(pw.Fd())})
				pw.Close()
				b, _ := io.ReadAll(pr)
				pr.Close()
				if err != nil || string(b) != "0" {
					errs <- fmt.Errorf("JoinCgroups: %v, tasks file %q", err, b)
					return
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// A direct init that cannot find its program says so before ready.
func TestDirectInitLookupBeforeReady(t *testing.T) {
	prog := shProgram("true")
	prog.Candidates = []string{"/nonexistent/sh"}
	d, _, _ := startInit(t, prog, &InitOptions{}, unix.CLONE_NEWNS, nil, nil)
	var f *DirectFailure
	if err := d.GoInit(); !errors.As(err, &f) || f.Kind != DirectLookupNotFound {
		t.Fatalf("GoInit: %v, want a lookup report", err)
	}
}

// Started through exec.fifo: "0" once the fifo is opened, then EOF at a
// successful execve; a failed execve writes its report after a NUL
// (FifoFailure) and shows the error on the process's stderr.
func TestDirectInitFifo(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("\x7fELF garbage"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cand, data, stderr string
	}{
		{"execve", "/bin/sh", "0", "hi\n"},
		{"failed execve", bad, "0\x00X", "exec " + bad + ": exec format error\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "exec.fifo")
			if err := unix.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			h, err := os.OpenFile(fifo, unix.O_PATH|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			prog := shProgram("echo hi")
			prog.Candidates, prog.Slash, prog.Args = []string{tc.cand}, true, []string{tc.cand, "-c", "echo hi"}
			d, _, out := startInit(t, prog, &InitOptions{Fifo: true}, unix.CLONE_NEWNS, []*os.File{h}, []string{"_BERTH_FIFO_FD=3"})
			h.Close()
			if err := d.GoInit(); err != nil {
				t.Fatalf("GoInit: %v", err)
			}
			fd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f := os.NewFile(uintptr(fd), fifo)
			defer f.Close()
			_ = f.SetReadDeadline(time.Now().Add(10 * time.Second))
			data, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(data), tc.data) {
				t.Fatalf("exec.fifo got %q, want %q first", data, tc.data)
			}
			if tc.data != "0" {
				rep, ok := FifoFailure(data[1:])
				if !ok || rep.Kind != DirectExec || rep.Errno != unix.ENOEXEC || rep.Index != 0 {
					t.Errorf("report %+v (ok %t), want exec ENOEXEC", rep, ok)
				}
			} else if len(data) != 1 {
				t.Errorf("exec.fifo got %q after a successful execve", data)
			}
			if b, _ := io.ReadAll(out); string(b) != tc.stderr {
				t.Errorf("output %q, want %q", b, tc.stderr)
			}
		})
	}
}

func TestFifoFailure(t *testing.T) {
	rep := []byte{0, 'X'}
	for _, v := range []uint32{uint32(DirectExec), uint32(unix.ENOENT), 2} {
		rep = append(rep, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	f, ok := FifoFailure(rep)
	if !ok || *f != (DirectFailure{Kind: DirectExec, Errno: unix.ENOENT, Index: 2}) {
		t.Errorf("FifoFailure: %+v %t", f, ok)
	}
	for _, bad := range [][]byte{nil, []byte("exec /x: no such file"), rep[1:], append(rep[:len(rep):len(rep)], 0), append([]byte{0, 'Y'}, rep[2:]...)} {
		if _, ok := FifoFailure(bad); ok {
			t.Errorf("FifoFailure(%q) took it", bad)
		}
	}
}

// The init attribute (its flags) and the keyring attribute (the
// permission bits, then the name), each sent only when set; an empty
// keyring name, or one with a NUL, is refused before anything starts.
func TestInitOptionsEncoding(t *testing.T) {
	attrs := func(prog *ExecProgram) map[uint16][]byte {
		t.Helper()
		got := map[uint16][]byte{}
		err := prog.encode(func(typ uint16, payload ...[]byte) error {
			if typ == attrExecInit || typ == attrExecKeyring {
				got[typ] = bytes.Join(payload, nil)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	prog := shProgram("true")
	if got := attrs(prog); len(got) != 0 {
		t.Errorf("an exec without a keyring sent %v", got)
	}
	prog.Init = &InitOptions{CgroupNS: true, Fifo: true}
	prog.Keyring = &Keyring{Name: "_ses.x", Search: 0x80000}
	got := attrs(prog)
	if want := []byte{initFlagCgroupNS | initFlagFifo, 0, 0, 0}; !bytes.Equal(got[attrExecInit], want) {
		t.Errorf("init attribute %q, want %q", got[attrExecInit], want)
	}
	if want := append(binary.NativeEndian.AppendUint32(nil, 0x80000), "_ses.x"...); !bytes.Equal(got[attrExecKeyring], want) {
		t.Errorf("keyring attribute %q, want %q", got[attrExecKeyring], want)
	}
	for _, bad := range []string{"a\x00b", ""} {
		prog.Keyring.Name = bad
		if _, err := PrepareDirect(&Request{}, prog); err == nil {
			t.Errorf("keyring name %q was taken", bad)
		}
	}
}
