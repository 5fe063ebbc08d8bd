package utils

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func sockPair(t *testing.T) (a, b *os.File) {
	t.Helper()
	a, b, err := NewSockPair("test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		b.Close()
	})
	return a, b
}

// pipeWriters makes n pipes and returns their read ends (closed at cleanup)
// and the raw write-end fds, which the caller owns.
func pipeWriters(t *testing.T, n int) (readers []*os.File, writeFds []int) {
	t.Helper()
	for range n {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		fd, err := unix.FcntlInt(w.Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		readers = append(readers, r)
		writeFds = append(writeFds, fd)
	}
	return readers, writeFds
}

// assertNoWriters checks that every writer of each pipe has been closed: a read
// then reports EOF instead of blocking.
func assertNoWriters(t *testing.T, readers []*os.File) {
	t.Helper()
	for i, r := range readers {
		if err := r.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := r.Read(make([]byte, 1))
		if n != 0 || !errors.Is(err, io.EOF) {
			t.Errorf("pipe %d: read = %d, %v; want EOF (received fd left open)", i, n, err)
		}
	}
}

func TestSendRecvFile(t *testing.T) {
	a, b := sockPair(t)
	path := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(path, []byte("payload data"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	if err := SendFile(a, f); err != nil {
		t.Fatal(err)
	}
	got, err := RecvFile(b)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.Name() != path {
		t.Errorf("name = %q, want %q", got.Name(), path)
	}
	if got.Fd() == f.Fd() {
		t.Errorf("received fd %d is the sent fd itself", got.Fd())
	}
	data, err := io.ReadAll(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "payload data" {
		t.Errorf("content = %q", data)
	}
	flags, err := unix.FcntlInt(got.Fd(), unix.F_GETFD, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.FD_CLOEXEC == 0 {
		t.Error("received fd is not close-on-exec")
	}
	var st1, st2 unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st1); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fstat(int(got.Fd()), &st2); err != nil {
		t.Fatal(err)
	}
	if st1.Ino != st2.Ino || st1.Dev != st2.Dev {
		t.Error("received fd refers to a different file")
	}
}

// A non-blocking socket (as net.UnixConn.File() callers may hand over after
// SetNonblock) must wait for data rather than fail with EAGAIN.
func TestRecvFileWaitsOnNonblockingSocket(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	defer a.Close()
	defer b.Close()

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	go func() {
		time.Sleep(100 * time.Millisecond)
		if err := SendFile(a, w); err != nil {
			t.Error(err)
		}
	}()
	got, err := RecvFile(b)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.Name() != w.Name() {
		t.Errorf("name = %q, want %q", got.Name(), w.Name())
	}
}

func TestRecvFileRejectsTwoFds(t *testing.T) {
	a, b := sockPair(t)
	readers, fds := pipeWriters(t, 2)
	if err := unix.Sendmsg(int(a.Fd()), []byte("two"), unix.UnixRights(fds...), nil, 0); err != nil {
		t.Fatal(err)
	}
	CloseFds(fds)
	f, err := RecvFile(b)
	if err == nil {
		f.Close()
		t.Fatal("RecvFile accepted a message with two fds")
	}
	if !strings.Contains(err.Error(), "got 2 file descriptors") {
		t.Errorf("unexpected error: %v", err)
	}
	assertNoWriters(t, readers)
}

func TestRecvFileRejectsTruncatedControl(t *testing.T) {
	a, b := sockPair(t)
	readers, fds := pipeWriters(t, oobFds+4)
	if err := unix.Sendmsg(int(a.Fd()), []byte("many"), unix.UnixRights(fds...), nil, 0); err != nil {
		t.Fatal(err)
	}
	CloseFds(fds)
	f, err := RecvFile(b)
	if err == nil {
		f.Close()
		t.Fatal("RecvFile accepted a truncated control message")
	}
	if !strings.Contains(err.Error(), "truncated") {
		t.Errorf("unexpected error: %v", err)
	}
	assertNoWriters(t, readers)
}

func TestRecvFileRejectsNoFd(t *testing.T) {
	a, b := sockPair(t)
	if _, err := a.Write([]byte("/dev/pts/0")); err != nil {
		t.Fatal(err)
	}
	f, err := RecvFile(b)
	if err == nil {
		f.Close()
		t.Fatal("RecvFile accepted a message without fds")
	}
	if !strings.Contains(err.Error(), "got 0 file descriptors") {
		t.Errorf("unexpected error: %v", err)
	}
}

func TestRecvFileClosedPeer(t *testing.T) {
	a, b := sockPair(t)
	a.Close()
	f, err := RecvFile(b)
	if err == nil {
		f.Close()
		t.Fatal("RecvFile succeeded on a closed socket")
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error = %v, want unexpected EOF", err)
	}
}

func TestSendFileEmptyName(t *testing.T) {
	a, b := sockPair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	anon := os.NewFile(w.Fd(), "")
	if err := SendFile(a, anon); err != nil {
		t.Fatal(err)
	}
	got, err := RecvFile(b)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.Name() != "" {
		t.Errorf("name = %q, want empty", got.Name())
	}
}

func TestSendFileNameTooLong(t *testing.T) {
	a, _ := sockPair(t)
	f := os.NewFile(a.Fd(), strings.Repeat("x", MaxNameLen+1))
	if err := SendFile(a, f); err == nil {
		t.Fatal("SendFile accepted an over-long name")
	}
}

func TestSendFileClosedPeer(t *testing.T) {
	a, b := sockPair(t)
	b.Close()
	if err := SendFile(a, a); err == nil {
		t.Fatal("SendFile succeeded with the peer closed")
	}
}
