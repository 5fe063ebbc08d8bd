package utils

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ChildError is a failure a child process reported about its own set-up
// (over a socket), as opposed to a failure to talk to it: the runtime's
// sync protocol and nsenter's both report this way.
type ChildError struct {
	// Prefix names the reporter in the message ("nsenter: ").
	Prefix string
	Msg    string
	// Shown: the child also wrote the message to its own stderr, where
	// the container's user sees it (an init's failed execve, as runc's
	// init does), so the runtime need not print it a second time.
	Shown bool
}

func (e *ChildError) Error() string { return e.Prefix + e.Msg }

// ShownByChild reports whether err came from a child process that also
// wrote it to its own stderr (ChildError.Shown).
func ShownByChild(err error) bool {
	var ce *ChildError
	return errors.As(err, &ce) && ce.Shown
}

// IsChildError reports whether err came from a child process itself.
func IsChildError(err error) bool {
	var ce *ChildError
	return errors.As(err, &ce)
}

// WriteProcFile writes data to f, a /proc file opened for writing, with
// one write(2) (the kernel takes an id map, a sysctl or an oom score
// only whole), and closes f.
func WriteProcFile(f *os.File, data string) error {
	_, err := f.Write([]byte(data))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ParseRights returns every descriptor carried by SCM_RIGHTS messages in
// oob. On a parse error it still returns the descriptors found so far so
// that the caller can close them.
func ParseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return fds, fmt.Errorf("parse SCM_RIGHTS: %w", err)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// CloseFds closes descriptors received and not taken.
func CloseFds(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}
