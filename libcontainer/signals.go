package libcontainer

import (
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// ForwardedSignals are the signals a foreground run or exec passes on to
// the container's process. Not every signal: the Go runtime's set-up of
// a handler costs per signal, and all 64 would be a noticeable part of a
// whole `berth run`. These are the ones a user or a supervisor sends;
// SIGCHLD, SIGURG (the Go scheduler's) and SIGWINCH (the terminal relay's)
// are berth's own.
var ForwardedSignals = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGALRM, unix.SIGCONT, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU,
	unix.SIGVTALRM, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGPWR,
}

// signalsLater registers a channel for ForwardedSignals in the
// background. The Go runtime hands each signal to its signal thread one
// at a time, which takes long enough to matter: Create and Exec start it
// once the container's process exists and their own thread would idle
// while that process sets up (started first thing, it kept a CPU busy
// while the seal, the network namespace and the runtime's own set-up
// needed it), and wait for it before the process runs its program. Until
// it is done a signal to berth has its default effect, as it has before
// berth starts at all; what create made by then, `delete --force`
// removes. Never signal.Stop: berth exits soon after, and a signal that
// comes late is caught and dropped.
type signalsLater struct {
	ch   chan<- os.Signal
	once sync.Once
	done chan struct{}
}

// notifyLater prepares the registration of ch (nil: nothing to do).
func notifyLater(ch chan<- os.Signal) *signalsLater {
	return &signalsLater{ch: ch, done: make(chan struct{})}
}

// start begins the registration, once.
func (s *signalsLater) start() {
	if s.ch == nil {
		return
	}
	s.once.Do(func() {
		go func() {
			signal.Notify(s.ch, ForwardedSignals...)
			close(s.done)
		}()
	})
}

// wait starts the registration if need be and waits until it is done.
func (s *signalsLater) wait() {
	if s.ch == nil {
		return
	}
	s.start()
	<-s.done
}
