package console

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNewPty(t *testing.T) {
	master, peer := newTestPty(t)

	ptyNum, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	want := "/dev/pts/" + strconv.FormatUint(uint64(ptyNum), 10)
	if master.Name() != want || peer.Name() != want {
		t.Errorf("names = %q, %q; want %q", master.Name(), peer.Name(), want)
	}
	link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", peer.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if link != want {
		t.Errorf("peer fd links to %q, want %q", link, want)
	}
	for _, f := range []*os.File{master, peer} {
		cloexec, err := isCloexec(int(f.Fd()))
		if err != nil {
			t.Fatal(err)
		}
		if !cloexec {
			t.Errorf("%s fd %d is not close-on-exec", f.Name(), f.Fd())
		}
	}
	if _, err := unix.IoctlGetTermios(int(peer.Fd()), unix.TCGETS); err != nil {
		t.Errorf("peer is not a terminal: %v", err)
	}

	masterR, peerR := pollable(t, master), pollable(t, peer)
	if _, err := peer.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	// The pty's default ONLCR turns the newline into CRLF.
	if got := readUntil(t, masterR, "\n"); got != "hello\r\n" {
		t.Errorf("master read %q, want %q", got, "hello\r\n")
	}
	if _, err := master.Write([]byte("typed\n")); err != nil {
		t.Fatal(err)
	}
	if got := readUntil(t, peerR, "\n"); got != "typed\n" {
		t.Errorf("peer read %q, want %q", got, "typed\n")
	}
}

func TestNewPtyErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "ptmx")
	if _, _, err := NewPty(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("NewPty(%s) = %v, want an error naming the path", missing, err)
	}
	if _, _, err := NewPty("/dev/null"); err == nil {
		t.Error("NewPty(/dev/null) succeeded")
	}
}

func TestResize(t *testing.T) {
	master, peer := newTestPty(t)
	if err := Resize(master, 120, 40); err != nil {
		t.Fatal(err)
	}
	if w, h := winsize(t, peer); w != 120 || h != 40 {
		t.Errorf("peer size = %dx%d, want 120x40", w, h)
	}

	otherMaster, otherPeer := newTestPty(t)
	if err := ResizeFrom(otherMaster, peer); err != nil {
		t.Fatal(err)
	}
	if w, h := winsize(t, otherPeer); w != 120 || h != 40 {
		t.Errorf("copied size = %dx%d, want 120x40", w, h)
	}

	devNull, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	if err := ResizeFrom(master, devNull); err == nil {
		t.Error("ResizeFrom a non-terminal succeeded")
	}
	if err := Resize(devNull, 1, 1); err == nil {
		t.Error("Resize of a non-terminal succeeded")
	}
}

func TestSetupPeer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		helper string
		attr   *syscall.SysProcAttr
		stdin  bool
	}{
		{name: "plain", helper: "setup-peer"},
		// Already a session leader: setsid fails with EPERM, which is fine.
		{name: "session-leader", helper: "setup-peer", attr: &syscall.SysProcAttr{Setsid: true}},
		// The peer already sits on fd 0, where dup3 cannot be used.
		{name: "peer-on-fd0", helper: "setup-peer-fd0", stdin: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			master, peer := newTestPty(t)
			masterR := pollable(t, master)
			runHelper(t, tc.helper, peer, func(cmd *exec.Cmd) {
				cmd.SysProcAttr = tc.attr
				if tc.stdin {
					cmd.Stdin = peer
				}
			})
			// The child wrote a greeting to its new stdout, the pty.
			readUntil(t, masterR, "greetings from the child")
		})
	}
}

// setupPeerChild runs in the re-executed child with the peer on fd 3.
func setupPeerChild() []string {
	return checkSetupPeer(os.NewFile(3, "peer"))
}

// setupPeerFd0Child runs with the peer on fd 0 (and also on fd 3, for
// comparison).
func setupPeerFd0Child() []string {
	return checkSetupPeer(os.NewFile(0, "peer"))
}

func checkSetupPeer(peer *os.File) []string {
	var problems []string
	fail := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	if err := SetupPeer(peer); err != nil {
		return []string{err.Error()}
	}
	want, err := rdev(3)
	if err != nil {
		return []string{"fstat fd 3: " + err.Error()}
	}
	for fd := 0; fd <= 2; fd++ {
		if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
			fail("fd %d is not a terminal: %v", fd, err)
		}
		if got, err := rdev(fd); err != nil || got != want {
			fail("fd %d: rdev %#x (%v), want the peer's %#x", fd, got, err, want)
		}
		if cloexec, err := isCloexec(fd); err != nil || cloexec {
			fail("fd %d close-on-exec = %v (%v); must survive exec", fd, cloexec, err)
		}
	}
	if sid, err := unix.IoctlGetInt(0, unix.TIOCGSID); err != nil || sid != os.Getpid() {
		fail("terminal session = %d (%v), want own pid %d", sid, err, os.Getpid())
	}
	// Opening /dev/tty only works with a controlling terminal.
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		fail("open /dev/tty: %v", err)
	} else {
		if sid, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGSID); err != nil || sid != os.Getpid() {
			fail("/dev/tty session = %d (%v), want %d", sid, err, os.Getpid())
		}
		tty.Close()
	}
	if _, err := os.Stdout.WriteString("greetings from the child\n"); err != nil {
		fail("write to stdout: %v", err)
	}
	return problems
}

// TestNewPtyPrivateInstance allocates from a fresh devpts instance, as a
// container does from its own /dev/pts. The peer must come from that
// instance, not from whatever /dev/pts/N names in the caller's mount
// namespace: the reason NewPty never opens the peer by path.
func TestNewPtyPrivateInstance(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting devpts needs root")
	}
	dir := t.TempDir()
	runHelper(t, "devpts", nil, func(cmd *exec.Cmd) {
		cmd.Env = append(cmd.Env, "BERTH_DEVPTS_DIR="+dir)
		// Go makes the new mount namespace's mounts private.
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	})
}

func devptsChild() []string {
	dir := os.Getenv("BERTH_DEVPTS_DIR")
	if err := unix.Mount("devpts", dir, "devpts", 0, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return []string{"mount devpts: " + err.Error()}
	}
	master, peer, err := NewPty(filepath.Join(dir, "ptmx"))
	if err != nil {
		return []string{err.Error()}
	}
	defer master.Close()
	defer peer.Close()
	var problems []string
	if master.Name() != "/dev/pts/0" {
		problems = append(problems, fmt.Sprintf("first pty of a new instance is %q, want /dev/pts/0", master.Name()))
	}
	wantPath := filepath.Join(dir, "0")
	if link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", peer.Fd())); err != nil || link != wantPath {
		problems = append(problems, fmt.Sprintf("peer links to %q (%v), want %q", link, err, wantPath))
	}
	// Device numbers of ptys repeat across instances; the inode and the
	// filesystem it lives on do not.
	var inst, host, got unix.Stat_t
	if err := unix.Stat(wantPath, &inst); err != nil {
		return append(problems, err.Error())
	}
	if err := unix.Stat("/dev/pts", &host); err != nil {
		return append(problems, err.Error())
	}
	if host.Dev == inst.Dev {
		problems = append(problems, "private devpts shares its device with /dev/pts")
	}
	if err := unix.Fstat(int(peer.Fd()), &got); err != nil {
		return append(problems, err.Error())
	}
	if got.Dev != inst.Dev || got.Ino != inst.Ino {
		problems = append(problems, fmt.Sprintf("peer is dev %#x ino %d, want %s: dev %#x ino %d",
			got.Dev, got.Ino, wantPath, inst.Dev, inst.Ino))
	}
	return problems
}
