package console

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// helperEnv selects a child-side helper when the test binary re-executes
// itself (see runHelper).
const helperEnv = "BERTH_CONSOLE_TEST_HELPER"

// helpers run in a re-executed test binary. They report problems on fd 4 (a
// pipe to the parent) because fds 0-2 may have been taken over by a pty.
var helpers = map[string]func() []string{
	"setup-peer":     setupPeerChild,
	"setup-peer-fd0": setupPeerFd0Child,
	"devpts":         devptsChild,
}

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		report := os.NewFile(4, "report")
		helper, ok := helpers[name]
		if !ok {
			fmt.Fprintf(report, "unknown helper %q\n", name)
			os.Exit(2)
		}
		problems := helper()
		if len(problems) == 0 {
			fmt.Fprint(report, "OK")
		} else {
			fmt.Fprint(report, strings.Join(problems, "\n"))
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHelper re-executes the test binary as helper name with extra files from
// fd 3 on, and fails the test unless the helper reports OK. configure may
// adjust the command (stdin, process attributes) before it starts.
func runHelper(t *testing.T, name string, fd3 *os.File, configure func(*exec.Cmd)) {
	t.Helper()
	reportR, reportW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer reportR.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+name)
	cmd.ExtraFiles = []*os.File{fd3, reportW}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if configure != nil {
		configure(cmd)
	}
	if err := cmd.Start(); err != nil {
		reportW.Close()
		t.Fatal(err)
	}
	reportW.Close()
	report := make(chan string, 1)
	go func() {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := reportR.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		report <- b.String()
	}()
	waitErr := cmd.Wait()
	got := <-report
	if waitErr != nil {
		t.Fatalf("helper %s: %v (stderr: %s, report: %s)", name, waitErr, stderr.String(), got)
	}
	if got != "OK" {
		t.Fatalf("helper %s reported:\n%s", name, got)
	}
}

// pollable returns a non-blocking duplicate of f that supports read deadlines.
func pollable(t *testing.T, f *os.File) *os.File {
	t.Helper()
	dup, err := pollableDup(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dup.Close() })
	return dup
}

// readUntil reads from f until the accumulated data contains want, and
// returns everything read.
func readUntil(t *testing.T, f *os.File, want string) string {
	t.Helper()
	if err := f.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	buf := make([]byte, 1024)
	for !strings.Contains(got.String(), want) {
		n, err := f.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("reading %s for %q: got %q, then %v", f.Name(), want, got.String(), err)
		}
	}
	return got.String()
}

func newTestPty(t *testing.T) (master, peer *os.File) {
	t.Helper()
	master, peer, err := NewPty("/dev/ptmx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		master.Close()
		peer.Close()
	})
	return master, peer
}

func winsize(t *testing.T, f *os.File) (width, height uint16) {
	t.Helper()
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		t.Fatal(err)
	}
	return ws.Col, ws.Row
}

func isCloexec(fd int) (bool, error) {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		return false, err
	}
	return flags&unix.FD_CLOEXEC != 0, nil
}

func rdev(fd int) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, err
	}
	return st.Rdev, nil
}
