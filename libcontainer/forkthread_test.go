package libcontainer

import (
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A child with a parent-death signal, forked on the fork thread, lives on
// while goroutines that end with their thread locked come and go (each
// takes a thread down with it), and every do runs on the same thread.
func TestForkThread(t *testing.T) {
	ft := newForkThread()
	var tid int
	var child *exec.Cmd
	var err error
	ft.do(func() {
		tid = unix.Gettid()
		child = exec.Command("sleep", "60")
		child.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		err = child.Start()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	for i := 0; i < 20; i++ {
		done := make(chan int)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends here
			done <- unix.Gettid()
		}()
		if got := <-done; got == tid {
			t.Fatalf("a goroutine ran on the fork thread %d", tid)
		}
	}
	ft.do(func() {
		if got := unix.Gettid(); got != tid {
			t.Errorf("second do on thread %d, the first on %d", got, tid)
		}
	})
	// A killed child would be a zombie by now, or soon: give it time.
	time.Sleep(100 * time.Millisecond)
	if err := child.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the child is gone: %v", err)
	}
	var ws unix.WaitStatus
	if pid, _ := unix.Wait4(child.Process.Pid, &ws, unix.WNOHANG, nil); pid != 0 {
		t.Fatalf("the child exited (%v) while the fork thread was held", ws)
	}
	ft.release()
}
