package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"
)

// maxUserDB bounds what init reads of the container's /etc/passwd or
// /etc/group: they come from the image, which may make them anything.
const maxUserDB = 4 << 20

// openUserDB opens one of the container's user databases for reading. It
// is the image's file: a FIFO or device there must not block init (start
// and exec wait for it while they hold the container's lock), so it is
// opened non-blocking and only a regular file is read, at most maxUserDB
// bytes of it. A missing file is (nil, nil). It is read through a bare fd:
// an *os.File of a non-blocking fd would set up Go's poller in init
// (epoll_create1, eventfd2, epoll_ctl) for this one read.
func openUserDB(path string) (io.ReadCloser, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size > maxUserDB {
		unix.Close(fd)
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxUserDB)
	}
	r := &fdReader{fd: fd}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(r, maxUserDB), r}, nil
}

// fdReader reads a bare fd.
type fdReader struct{ fd int }

func (r *fdReader) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(r.fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (r *fdReader) Close() error { return unix.Close(r.fd) }

// lookupHome returns the home directory of uid in the container's
// /etc/passwd, or "" when it has none (or no usable /etc/passwd).
func lookupHome(uid int) string {
	r, err := openUserDB("/etc/passwd")
	if err != nil || r == nil {
		return ""
	}
	defer r.Close()
	users, err := user.ParsePasswdFilter(r, func(u user.User) bool { return u.Uid == uid })
	if err != nil || len(users) == 0 {
		return ""
	}
	return users[0].Home
}
