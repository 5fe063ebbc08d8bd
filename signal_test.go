package main

import (
	"os"
	"os/signal"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	good := map[string]unix.Signal{
		"9": unix.SIGKILL, "15": unix.SIGTERM, "1": unix.SIGHUP, "64": unix.Signal(64),
		"KILL": unix.SIGKILL, "SIGKILL": unix.SIGKILL, "kill": unix.SIGKILL, "sigterm": unix.SIGTERM,
		"SigUsr1": unix.SIGUSR1, "HUP": unix.SIGHUP, "WINCH": unix.SIGWINCH, "STOP": unix.SIGSTOP,
	}
	for in, want := range good {
		got, err := parseSignal(in)
		if err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "65", "-9", "FOO", "SIG", "SIGFOO", "9x", "KILL ", " 9", "SIGSIGKILL"} {
		if got, err := parseSignal(in); err == nil {
			t.Errorf("parseSignal(%q) = %v, want an error", in, got)
		}
	}
}

func TestNotifyLater(t *testing.T) {
	start, wait := notifyLater(nil)
	start()
	wait() // nil channel: nothing to register, nothing to wait for

	ch := make(chan os.Signal, 4)
	start, wait = notifyLater(ch)
	start()
	start() // once
	wait()
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
	_, wait2 := notifyLater(ch2)
	wait2()
	signal.Stop(ch2)
}
