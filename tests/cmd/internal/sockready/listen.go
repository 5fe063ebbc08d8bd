// Package sockready gives the test helpers a unix socket that appears at its
// path only once it accepts connections.
//
// The suites wait for a helper with `[ -S path ]` and then hand the path to
// berth. A plain listen binds (the file appears) and only then listens; a
// connect in between is refused, which made tests fail now and then. Binding
// under a temporary name in the same directory and renaming it into place
// after listen(2) closes that window: rename is atomic and moves the
// listening socket's inode.
package sockready

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// Listener is a listening unix socket at Path. Close stops listening and
// removes Path.
type Listener struct {
	*net.UnixListener
	Path string
}

// Listen replaces whatever is at path (a stale socket from an earlier run)
// with a socket that is already listening when it appears there.
func Listen(path string) (*Listener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	tmp := filepath.Join(filepath.Dir(path), ".listen-"+strconv.Itoa(os.Getpid())+"-"+filepath.Base(path))
	_ = os.Remove(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, err
	}
	// The name it was bound to is gone after the rename; Close removes
	// the final one itself.
	ln.SetUnlinkOnClose(false)
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("move listening socket to %s: %w", path, err)
	}
	return &Listener{UnixListener: ln, Path: path}, nil
}

// Close removes the socket file, then stops listening: a helper whose accept
// loop ends on the close (seccompagent on SIGTERM) has nothing left behind
// when it sees it.
func (l *Listener) Close() error {
	rerr := os.Remove(l.Path)
	if errors.Is(rerr, os.ErrNotExist) {
		rerr = nil
	}
	return errors.Join(l.UnixListener.Close(), rerr)
}
