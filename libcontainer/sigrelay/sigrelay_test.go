//go:build linux && cgo

package sigrelay

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func receive(t *testing.T, ch <-chan os.Signal, want syscall.Signal) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("got %v, want %v", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%v did not arrive", want)
	}
}

func raise(t *testing.T, s syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), s); err != nil {
		t.Fatal(err)
	}
}

// Signals reach every channel registered for them, through one pipe; a
// value that is not a signal number is refused.
func TestNotify(t *testing.T) {
	if err := Notify(make(chan os.Signal, 1), os.Interrupt, syscall.Signal(109)); err == nil {
		t.Fatal("signal 109 was accepted")
	}
	a := make(chan os.Signal, 4)
	if err := Notify(a, syscall.SIGUSR1, syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	if relay.w < 0 {
		t.Fatal("Notify made no pipe")
	}
	for _, s := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGWINCH, syscall.SIGUSR1} {
		raise(t, s)
		receive(t, a, s)
	}
	b := make(chan os.Signal, 4)
	if err := Notify(b, syscall.SIGUSR1, syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	raise(t, syscall.SIGUSR1)
	receive(t, a, syscall.SIGUSR1)
	receive(t, b, syscall.SIGUSR1)
	raise(t, syscall.SIGUSR2)
	receive(t, b, syscall.SIGUSR2)
	select {
	case s := <-a:
		t.Fatalf("%v reached a channel not registered for it", s)
	default:
	}
}
