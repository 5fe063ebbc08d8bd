package libcontainer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// readSized reads fd (path, for errors), whose fstat said size bytes, to
// EOF in one buffer of that size: one read where io.ReadAll's growing
// buffer takes six for a typical state.json. A file that grew meanwhile
// is still read whole, up to maxStateSize. The buffer is scratch's when
// that is large enough (and *scratch is set to what was used), so that a
// caller reading many files reuses one.
func readSized(fd int, path string, size int64, scratch *[]byte) ([]byte, error) {
	var buf []byte
	if scratch != nil && int64(cap(*scratch)) > size {
		buf = (*scratch)[:0]
	} else {
		buf = make([]byte, 0, size+1)
	}
	if scratch != nil {
		defer func() { *scratch = buf[:0] }()
	}
	for {
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) == cap(buf) {
			if int64(len(buf)) > maxStateSize {
				return nil, fmt.Errorf("%s: more than %d bytes", path, maxStateSize)
			}
			buf = append(buf, 0)[:len(buf)]
		}
	}
}
