package sdnotify

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestSetupSpec(t *testing.T) {
	s := &specs.Spec{Process: &specs.Process{Env: []string{"PATH=/bin", "NOTIFY_SOCKET=/elsewhere", "A=b"}}}
	SetupSpec(s, "/run/berth/x/notify")
	want := []string{"PATH=/bin", "A=b", "NOTIFY_SOCKET=/run/notify/notify.sock"}
	if !reflect.DeepEqual(s.Process.Env, want) {
		t.Errorf("env %q, want %q", s.Process.Env, want)
	}
	m := s.Mounts[len(s.Mounts)-1]
	if m.Destination != "/run/notify" || m.Source != "/run/berth/x/notify" || !strings.Contains(strings.Join(m.Options, ","), "ro") {
		t.Errorf("mount %+v", m)
	}
}

func TestReadyLine(t *testing.T) {
	for msg, want := range map[string]string{
		"READY=1":                    "READY=1",
		"STATUS=up\nREADY=1\nX=y":    "READY=1",
		"STATUS=READY=1":             "",
		"MAINPID=5\nSTATUS=starting": "",
	} {
		if got := string(readyLine([]byte(msg))); got != want {
			t.Errorf("readyLine(%q) = %q, want %q", msg, got, want)
		}
	}
	if got := string(Message([]byte("READY=1"), 42)); got != "MAINPID=42\nREADY=1\n" {
		t.Errorf("Message = %q", got)
	}
}

// send sends msg to the datagram socket at path.
func send(t *testing.T, path, msg string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Sendmsg(fd, []byte(msg), nil, &unix.SockaddrUnix{Name: path}, 0); err != nil {
		t.Fatal(err)
	}
}

// The socket is bound where a path would be too long for a socket
// address (a 64-character ID under containerd's root), mode 0777.
func TestListenLongPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("c", 64), strings.Repeat("d", 64), dirName)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := MakeDir(dir); err != nil {
		t.Fatal(err)
	}
	r, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st, err := os.Stat(filepath.Join(dir, socketName))
	if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o777 {
		t.Fatalf("socket: %v, %v", st, err)
	}
	// Bound again by a later start: the old file is replaced.
	r2, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	r2.Close()
}

// A readiness is found among other notifications; a process that exits
// ends the wait, after what it sent before it exited is read.
func TestWaitReady(t *testing.T) {
	dir := t.TempDir()
	r, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sock := filepath.Join(dir, socketName)
	cmd := exec.Command("sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	pidfd, err := unix.PidfdOpen(cmd.Process.Pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	send(t, sock, "STATUS=starting")
	send(t, sock, "STATUS=almost\nREADY=1")
	got, err := r.WaitReady(pidfd)
	if err != nil || string(got) != "READY=1" {
		t.Fatalf("WaitReady = %q, %v", got, err)
	}
	// Sent, then exited: still found.
	send(t, sock, "READY=2")
	cmd.Process.Kill()
	cmd.Wait()
	if got, err = r.WaitReady(pidfd); err != nil || string(got) != "READY=2" {
		t.Fatalf("after exit, WaitReady = %q, %v", got, err)
	}
	// Exited, nothing sent: nil at once.
	done := make(chan struct{})
	go func() {
		got, err = r.WaitReady(pidfd)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("WaitReady did not return for an exited process")
	}
	if got != nil || err != nil {
		t.Errorf("exited, nothing sent: %q, %v", got, err)
	}
	// Already gone (no pidfd): what was sent before is read, then nil.
	send(t, sock, "STATUS=last")
	send(t, sock, "READY=3")
	if got, err = r.WaitReady(-1); err != nil || string(got) != "READY=3" {
		t.Fatalf("gone, WaitReady = %q, %v", got, err)
	}
	if got, err = r.WaitReady(-1); got != nil || err != nil {
		t.Errorf("gone, nothing sent: %q, %v", got, err)
	}
}

// Notify sends MAINPID and the readiness, then the barrier with a pipe,
// and returns once the host closed it.
func TestNotify(t *testing.T) {
	host := filepath.Join(t.TempDir(), "host.sock")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: host}); err != nil {
		t.Fatal(err)
	}
	got := make(chan []string, 1)
	go func() {
		var msgs []string
		buf, oob := make([]byte, 512), make([]byte, unix.CmsgSpace(4))
		for len(msgs) < 2 {
			n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
			if err != nil {
				break
			}
			msgs = append(msgs, string(buf[:n]))
			if oobn > 0 {
				cms, _ := unix.ParseSocketControlMessage(oob[:oobn])
				for _, m := range cms {
					fds, _ := unix.ParseUnixRights(&m)
					for _, f := range fds {
						time.Sleep(100 * time.Millisecond) // Notify waits for this
						unix.Close(f)
					}
				}
			}
		}
		got <- msgs
	}()
	start := time.Now()
	if err := Notify(host, []byte("READY=1"), 7); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Errorf("Notify returned before the host closed the barrier's pipe")
	}
	want := []string{"MAINPID=7\nREADY=1\n", "BARRIER=1"}
	if msgs := <-got; !reflect.DeepEqual(msgs, want) {
		t.Errorf("host got %q, want %q", msgs, want)
	}
	if err := Notify(filepath.Join(t.TempDir(), "none"), []byte("READY=1"), 7); err == nil {
		t.Errorf("Notify to no socket succeeded")
	}
}

// A host that keeps the barrier's pipe open is waited for only so long.
func TestAwaitCloseTimeout(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	start := time.Now()
	if err := awaitClose(p[0], 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 5*time.Second {
		t.Errorf("awaitClose took %v for a 200ms timeout", d)
	}
}
