package libcontainer

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/sdnotify"
)

// A foreground run reaps init while the relay starts: a READY that init
// sent just before it exited is still passed on, for an init already
// reaped and for one that is a zombie.
func TestForwardReadyInitGone(t *testing.T) {
	for _, reaped := range []bool{true, false} {
		dir := filepath.Join(t.TempDir(), "notify")
		if err := sdnotify.MakeDir(dir); err != nil {
			t.Fatal(err)
		}
		relay, err := sdnotify.Listen(dir)
		if err != nil {
			t.Fatal(err)
		}
		host, got := hostSocket(t)
		cmd := exec.Command("true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		st, err := readProcStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		sendTo(t, filepath.Join(dir, "notify.sock"), "READY=1")
		if reaped {
			cmd.Wait()
		} else {
			// A zombie: wait for the exit without reaping.
			var info unix.Siginfo
			if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
				t.Fatal(err)
			}
		}
		c := &Container{state: &State{InitPid: pid, InitStartTime: st.StartTime}, notify: relay, notifyHost: host}
		if err := c.ForwardReady(); err != nil {
			t.Fatalf("reaped %t: %v", reaped, err)
		}
		select {
		case msg := <-got:
			if want := string(sdnotify.Message([]byte("READY=1"), pid)); msg != want {
				t.Errorf("reaped %t: host got %q, want %q", reaped, msg, want)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("reaped %t: the host got nothing", reaped)
		}
		if !reaped {
			cmd.Wait()
		}
	}
}

// hostSocket is a host notify socket: its first message comes on the
// channel, and the barrier's pipe that follows is closed.
func hostSocket(t *testing.T) (string, <-chan string) {
	path := filepath.Join(t.TempDir(), "host.sock")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		buf, oob := make([]byte, 512), make([]byte, unix.CmsgSpace(4))
		for first := true; ; first = false {
			n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
			if err != nil {
				return
			}
			if first {
				got <- string(buf[:n])
			}
			cms, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for _, m := range cms {
				fds, _ := unix.ParseUnixRights(&m)
				for _, f := range fds {
					unix.Close(f)
				}
			}
		}
	}()
	return path, got
}

func sendTo(t *testing.T, path, msg string) {
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
