package libcontainer

import (
	"fmt"
	"io"
	"os"
)

// readSized reads f, whose fstat said size bytes, to EOF in one buffer of
// that size: one read where io.ReadAll's growing buffer takes six for a
// typical state.json. A file that grew meanwhile is still read whole, up
// to maxStateSize.
func readSized(f *os.File, size int64) ([]byte, error) {
	buf := make([]byte, 0, size+1)
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			if int64(len(buf)) > maxStateSize {
				return nil, fmt.Errorf("%s: more than %d bytes", f.Name(), maxStateSize)
			}
			buf = append(buf, 0)[:len(buf)]
		}
	}
}
