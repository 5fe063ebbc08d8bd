package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/console"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// recvttyBin is the recvtty binary built once for all tests.
var recvttyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "recvtty-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	recvttyBin = filepath.Join(dir, "recvtty")
	build := exec.Command("go", "build", "-o", recvttyBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	code := 1
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building recvtty:", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

type recvtty struct {
	cmd     *exec.Cmd
	socket  string
	stdinW  *os.File
	stdoutR *os.File
	stderr  *bytes.Buffer
	// exited is closed once the process has been reaped; waitErr is then
	// its exit status.
	exited  chan struct{}
	waitErr error
}

// startRecvtty starts recvtty on a socket in a temp dir (over a stale file,
// which it must replace) and waits until it is listening.
func startRecvtty(t *testing.T, args ...string) *recvtty {
	t.Helper()
	dir := t.TempDir()
	r := &recvtty{socket: filepath.Join(dir, "console.sock"), stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	if err := os.WriteFile(r.socket, []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "recvtty.pid")
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.stdinW, r.stdoutR = stdinW, stdoutR
	t.Cleanup(func() {
		stdinW.Close()
		stdoutR.Close()
	})
	r.cmd = exec.Command(recvttyBin, append(append([]string{"-pid-file", pidFile}, args...), r.socket)...)
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = stdinR, stdoutW, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdinR.Close()
	stdoutW.Close()
	go func() {
		r.waitErr = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
	})

	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(pidFile)
		if err == nil {
			if string(data) != strconv.Itoa(r.cmd.Process.Pid) {
				t.Fatalf("pid file holds %q, want %d", data, r.cmd.Process.Pid)
			}
			return r
		}
		select {
		case <-r.exited:
			t.Fatalf("recvtty exited early: %v; stderr: %s", r.waitErr, r.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("recvtty did not write its pid file")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// connect dials recvtty's socket and returns the connection as a file.
func (r *recvtty) connect(t *testing.T) *os.File {
	t.Helper()
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: r.socket, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sock, err := conn.File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sock.Close() })
	return sock
}

// sendPty makes a pty, hands its master to recvtty and returns the peer,
// which then is the only reference this process keeps.
func (r *recvtty) sendPty(t *testing.T) *os.File {
	t.Helper()
	master, peer, err := console.NewPty("/dev/ptmx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	sock := r.connect(t)
	if err := utils.SendFile(sock, master); err != nil {
		t.Fatal(err)
	}
	master.Close()
	sock.Close()
	return peer
}

func (r *recvtty) waitExit(t *testing.T) error {
	t.Helper()
	select {
	case <-r.exited:
		return r.waitErr
	case <-time.After(10 * time.Second):
		t.Fatalf("recvtty did not exit; stderr: %s", r.stderr)
		return nil
	}
}

// nonblocking returns a duplicate of f that supports read deadlines.
func nonblocking(t *testing.T, f *os.File) *os.File {
	t.Helper()
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	dup := os.NewFile(uintptr(fd), f.Name())
	t.Cleanup(func() { dup.Close() })
	return dup
}

// readUntil reads from f until the data contains want or timeout passes.
func readUntil(f *os.File, want string, timeout time.Duration) (string, error) {
	if err := f.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	var got strings.Builder
	buf := make([]byte, 1024)
	for !strings.Contains(got.String(), want) {
		n, err := f.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			return got.String(), err
		}
	}
	return got.String(), nil
}

func TestSingle(t *testing.T) {
	r := startRecvtty(t, "-mode", "single")
	peer := r.sendPty(t)

	if _, err := peer.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	if got, err := readUntil(r.stdoutR, "hello\r\n", 5*time.Second); err != nil {
		t.Fatalf("recvtty stdout %q: %v", got, err)
	}

	// Input typed into recvtty reaches the container's side.
	if _, err := r.stdinW.Write([]byte("typed\n")); err != nil {
		t.Fatal(err)
	}
	peerR := nonblocking(t, peer)
	if got, err := readUntil(peerR, "typed\n", 5*time.Second); err != nil {
		t.Fatalf("peer read %q: %v", got, err)
	}
	peerR.Close()

	// The container's side closes: recvtty drains and exits 0.
	if _, err := peer.Write([]byte("bye\n")); err != nil {
		t.Fatal(err)
	}
	peer.Close()
	if err := r.waitExit(t); err != nil {
		t.Fatalf("recvtty: %v; stderr: %s", err, r.stderr)
	}
	if got, err := readUntil(r.stdoutR, "bye", 5*time.Second); err != nil {
		t.Errorf("output before close lost: %q, %v", got, err)
	}
	if _, err := os.Lstat(r.socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left behind: %v", err)
	}
}

func TestSingleNoStdin(t *testing.T) {
	r := startRecvtty(t, "-no-stdin")
	peer := r.sendPty(t)
	if _, err := r.stdinW.Write([]byte("ignored\n")); err != nil {
		t.Fatal(err)
	}
	peerR := nonblocking(t, peer)
	if got, err := readUntil(peerR, "\n", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("peer read %q (%v) with -no-stdin", got, err)
	}
	peerR.Close()
	peer.Close()
	if err := r.waitExit(t); err != nil {
		t.Fatalf("recvtty: %v; stderr: %s", err, r.stderr)
	}
}

func TestNull(t *testing.T) {
	r := startRecvtty(t, "-mode", "null")
	peer := r.sendPty(t)

	// Far more than a pty buffers: the write only completes if recvtty
	// keeps reading.
	written := make(chan error, 1)
	go func() {
		_, err := peer.Write(bytes.Repeat([]byte("x"), 1<<20))
		written <- err
	}()
	select {
	case err := <-written:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("recvtty -mode null does not drain the terminal")
	}
	peer.Close()

	// The container's side is gone, but null mode waits for SIGTERM.
	select {
	case <-r.exited:
		t.Fatalf("recvtty -mode null exited before SIGTERM: %v", r.waitErr)
	case <-time.After(200 * time.Millisecond):
	}
	if err := r.cmd.Process.Signal(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := r.waitExit(t); err != nil {
		t.Fatalf("recvtty after SIGTERM: %v; stderr: %s", err, r.stderr)
	}
	if got, _ := readUntil(r.stdoutR, "never", time.Second); got != "" {
		t.Errorf("null mode wrote %d bytes to stdout", len(got))
	}
}

func TestRejectsMessageWithoutFd(t *testing.T) {
	r := startRecvtty(t)
	sock := r.connect(t)
	if _, err := sock.Write([]byte("/dev/pts/0")); err != nil {
		t.Fatal(err)
	}
	err := r.waitExit(t)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("recvtty exit = %v, want status 1", err)
	}
	if !strings.Contains(r.stderr.String(), "file descriptors") {
		t.Errorf("stderr = %q", r.stderr)
	}
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-mode", "multi", "sock"},
		{"a", "b"},
	} {
		out, err := exec.Command(recvttyBin, args...).CombinedOutput()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
			t.Errorf("recvtty %q: exit %v, want status 1 (output %q)", args, err, out)
		}
		if !strings.Contains(string(out), "recvtty:") {
			t.Errorf("recvtty %q printed no error: %q", args, out)
		}
	}
}
