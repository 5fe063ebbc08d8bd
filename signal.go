package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// parseSignal accepts a signal number ("9"), a name ("KILL"), or a name
// with the SIG prefix ("SIGKILL"), in any case, as runc does.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal number %d", n)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, fmt.Errorf("unknown signal %q", s)
	}
	return sig, nil
}

// forwardedSignals are the signals a foreground run or exec passes on to
// the container's process. Not every signal: registering a handler for
// all 64 costs the Go runtime about 1.3 ms at start-up (measured), a tenth
// of a whole `berth run`. These are the ones a user or a supervisor sends;
// SIGCHLD, SIGURG (the Go scheduler's) and SIGWINCH (the terminal relay's)
// are berth's own.
var forwardedSignals = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGALRM, unix.SIGCONT, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU,
	unix.SIGVTALRM, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGPWR,
}

// notifyLater registers ch for forwardedSignals in the background: start
// begins it (once), wait starts it if need be and waits until it is done
// (nil ch: nothing to do). The Go runtime hands each signal to its signal
// thread one at a time: about 1 ms for the set (measured), so run and exec
// start it once the container's process exists and their own thread
// would idle while that process sets up: started first thing, it kept
// one of the two CPUs here busy while the seal, the network namespace
// and the runtime's own set-up needed them.
// Until it is done a signal to berth has its default effect, as it has
// before berth starts at all; what create made by then, `delete --force`
// removes.
func notifyLater(ch chan os.Signal) (start, wait func()) {
	if ch == nil {
		return func() {}, func() {}
	}
	var once sync.Once
	done := make(chan struct{})
	start = func() {
		once.Do(func() {
			go func() {
				signal.Notify(ch, forwardedSignals...)
				close(done)
			}()
		})
	}
	return start, func() { start(); <-done }
}
