package console

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"
)

// Relay connects a foreground container's pty master to the user's stdin and
// stdout, for `run`/`exec` with a terminal and no console socket: input is
// copied to the master, the container's output to stdout, and the user's
// window size follows SIGWINCH. When stdin is a terminal it is put in raw mode
// for the relay's lifetime, so that keystrokes (including ^C) reach the
// container's terminal untouched instead of being interpreted twice.
type Relay struct {
	// master is a non-blocking duplicate of the caller's master, so that the
	// copies go through the Go poller and Close can interrupt them.
	master *os.File
	// userTerm is stdin in raw mode, or nil when stdin is not a terminal.
	userTerm console.Console
	// sizeSource is the user terminal whose window size the container's
	// terminal follows, or nil when neither stdin nor stdout is one.
	sizeSource *os.File

	winch     chan os.Signal
	stopWinch chan struct{}
	winchDone chan struct{}

	outDone chan struct{}
	outErr  error

	closeOnce sync.Once
	closeErr  error
}

// StartRelay starts relaying between master and stdin/stdout. stdin may be
// nil for no input. StartRelay switches master's open file description to
// non-blocking mode; afterwards the caller should use its master only for
// ioctls (such as Resize), not for reading or writing. The caller keeps
// ownership of master and must still close it.
//
// Call Wait to wait for the container's output to end, and Close to stop the
// relay and restore the user's terminal.
func StartRelay(master *os.File, stdin io.Reader, stdout io.Writer) (_ *Relay, retErr error) {
	if stdout == nil {
		return nil, fmt.Errorf("relay %s: no stdout", master.Name())
	}
	dup, err := pollableDup(master)
	if err != nil {
		return nil, err
	}
	r := &Relay{
		master:    dup,
		stopWinch: make(chan struct{}),
		winchDone: make(chan struct{}),
		outDone:   make(chan struct{}),
	}
	defer func() {
		if retErr != nil {
			_ = r.restore()
			_ = dup.Close()
		}
	}()

	if f, ok := stdin.(*os.File); ok && isTerminal(f) {
		term, err := console.ConsoleFromFile(f)
		if err != nil {
			return nil, fmt.Errorf("relay: %s: %w", f.Name(), err)
		}
		if err := term.SetRaw(); err != nil {
			return nil, fmt.Errorf("relay: set %s raw: %w", f.Name(), err)
		}
		r.userTerm = term
		r.sizeSource = f
	} else if f, ok := stdout.(*os.File); ok && isTerminal(f) {
		r.sizeSource = f
	}

	if r.sizeSource != nil {
		// Subscribe before the first copy so no resize between the two is lost.
		r.winch = make(chan os.Signal, 1)
		signal.Notify(r.winch, unix.SIGWINCH)
		if err := ResizeFrom(r.master, r.sizeSource); err != nil {
			signal.Stop(r.winch)
			return nil, fmt.Errorf("relay: %w", err)
		}
		go r.forwardResizes()
	} else {
		close(r.winchDone)
	}

	go func() {
		defer close(r.outDone)
		_, err := io.Copy(stdout, r.master)
		r.outErr = err
	}()
	if stdin != nil {
		// Not waited for: a read from the user's stdin cannot be interrupted,
		// and once the master is closed the next write ends this copy.
		go func() { _, _ = io.Copy(r.master, stdin) }()
	}
	return r, nil
}

// pollableDup duplicates master (close-on-exec) and makes it non-blocking, so
// os.NewFile registers it with the runtime poller.
func pollableDup(master *os.File) (*os.File, error) {
	conn, err := master.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("relay: %s: %w", master.Name(), err)
	}
	newFd := -1
	var dupErr error
	if err := conn.Control(func(fd uintptr) {
		newFd, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, fmt.Errorf("relay: dup %s: %w", master.Name(), err)
	}
	if dupErr != nil {
		return nil, fmt.Errorf("relay: dup %s: %w", master.Name(), dupErr)
	}
	if err := unix.SetNonblock(newFd, true); err != nil {
		_ = unix.Close(newFd)
		return nil, fmt.Errorf("relay: set %s non-blocking: %w", master.Name(), err)
	}
	return os.NewFile(uintptr(newFd), master.Name()), nil
}

func (r *Relay) forwardResizes() {
	defer close(r.winchDone)
	for {
		select {
		case <-r.stopWinch:
			return
		case <-r.winch:
			// A failed resize is not worth ending the session over; the
			// next SIGWINCH tries again.
			_ = ResizeFrom(r.master, r.sizeSource)
		}
	}
}

// Wait blocks until the container's output ends, i.e. until every peer fd is
// closed and the master reports EIO, or until Close. It returns the copy
// error, if any; the EIO that marks the end of output is not an error.
func (r *Relay) Wait() error {
	<-r.outDone
	err := r.outErr
	if err == nil || errors.Is(err, unix.EIO) || errors.Is(err, os.ErrClosed) {
		return nil
	}
	return fmt.Errorf("relay %s: %w", r.master.Name(), err)
}

// Close stops forwarding window sizes, closes the relay's copy of the master
// (ending both copies) and restores the user's terminal. It does not close
// the caller's master. Close is safe to call more than once.
func (r *Relay) Close() error {
	r.closeOnce.Do(func() {
		if r.winch != nil {
			signal.Stop(r.winch)
			close(r.stopWinch)
			<-r.winchDone
		}
		masterErr := r.master.Close()
		restoreErr := r.restore()
		r.closeErr = errors.Join(masterErr, restoreErr)
	})
	return r.closeErr
}

// restore puts the user's terminal back the way it was found.
func (r *Relay) restore() error {
	if r.userTerm == nil {
		return nil
	}
	if err := r.userTerm.Reset(); err != nil {
		return fmt.Errorf("restore terminal %s: %w", r.userTerm.Name(), err)
	}
	return nil
}
