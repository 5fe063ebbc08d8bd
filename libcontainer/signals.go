package libcontainer

import (
	"os"
	"os/signal"
	"sync"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/sigrelay"
)

// ForwardedSignals are the signals a foreground run or exec passes on to
// the container's process. Not every signal: catching one costs a system
// call or two (sigrelay), and under os/signal much more. These are the
// ones a user or a supervisor sends;
// SIGCHLD, SIGURG (the Go scheduler's) and SIGWINCH (the terminal relay's)
// are berth's own.
var ForwardedSignals = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGALRM, unix.SIGCONT, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU,
	unix.SIGVTALRM, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGPWR,
}

// signalsLater registers a channel for ForwardedSignals in the
// background (sigrelay: os/signal's registration took long enough to
// matter, and sigrelay's still costs a little): Create and Exec start it
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
			NotifyForwarded(s.ch)
			close(s.done)
		}()
	})
}

// NotifyForwarded catches ForwardedSignals for ch.
func NotifyForwarded(ch chan<- os.Signal) {
	if err := sigrelay.Notify(ch, ForwardedSignals...); err != nil {
		logrus.Debugf("%v; os/signal catches them", err)
		signal.Notify(ch, ForwardedSignals...)
	}
}

// wait starts the registration if need be and waits until it is done.
func (s *signalsLater) wait() {
	if s.ch == nil {
		return
	}
	s.start()
	<-s.done
}
