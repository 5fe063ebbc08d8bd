package libcontainer

import (
	"os"
	"os/signal"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestNotifyLater(t *testing.T) {
	n := notifyLater(nil)
	n.start()
	n.wait() // nil channel: nothing to register, nothing to wait for

	ch := make(chan os.Signal, 4)
	n = notifyLater(ch)
	n.start()
	n.start() // once
	n.wait()
	defer signal.Stop(ch)
	if err := unix.Kill(os.Getpid(), unix.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-ch:
		if s != unix.SIGUSR2 {
			t.Errorf("got %v, want SIGUSR2", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SIGUSR2 not delivered after wait returned")
	}
	// wait alone starts the registration too.
	ch2 := make(chan os.Signal, 1)
	notifyLater(ch2).wait()
	signal.Stop(ch2)
}
