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
// bytes of it. A missing file is (nil, nil).
func openUserDB(path string) (io.ReadCloser, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > maxUserDB {
		f.Close()
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxUserDB)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, maxUserDB), f}, nil
}

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
