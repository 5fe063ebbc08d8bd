package main

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	good := map[string]unix.Signal{
		"9": unix.SIGKILL, "15": unix.SIGTERM, "1": unix.SIGHUP, "64": unix.Signal(64), "0": 0,
		"KILL": unix.SIGKILL, "SIGKILL": unix.SIGKILL, "kill": unix.SIGKILL, "sigterm": unix.SIGTERM,
		"SigUsr1": unix.SIGUSR1, "HUP": unix.SIGHUP, "WINCH": unix.SIGWINCH, "STOP": unix.SIGSTOP,
	}
	for in, want := range good {
		got, err := parseSignal(in)
		if err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "65", "-9", "FOO", "SIG", "SIGFOO", "9x", "KILL ", " 9", "SIGSIGKILL"} {
		if got, err := parseSignal(in); err == nil {
			t.Errorf("parseSignal(%q) = %v, want an error", in, got)
		}
	}
}
