package sockready

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestNoRefusedConnect dials the moment the socket's name appears in its
// directory (told by inotify), as a suite's `[ -S path ]` poll can. With a
// plain net.ListenUnix about one dial in ten is refused here (bind, then
// listen); Listen must never be.
func TestNoRefusedConnect(t *testing.T) {
	const rounds = 300
	for i := range rounds {
		dir := t.TempDir()
		path := filepath.Join(dir, "s.sock")
		ifd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := unix.InotifyAddWatch(ifd, dir, unix.IN_CREATE|unix.IN_MOVED_TO); err != nil {
			t.Fatal(err)
		}
		type result struct {
			ln  *Listener
			err error
		}
		done := make(chan result, 1)
		go func() {
			ln, err := Listen(path)
			done <- result{ln, err}
		}()
		// Wait for the final name, not the temporary one.
		buf := make([]byte, 4096)
		for {
			n, err := unix.Read(ifd, buf)
			if err != nil {
				t.Fatal(err)
			}
			if inotifyNames(buf[:n])["s.sock"] {
				break
			}
		}
		conn, dialErr := net.Dial("unix", path)
		r := <-done
		unix.Close(ifd)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if dialErr != nil {
			t.Fatalf("round %d: connect as soon as %s appeared: %v", i, path, dialErr)
		}
		conn.Close()
		if err := r.ln.Close(); err != nil {
			t.Fatal(err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("left in %s after Close: %v", dir, ents)
		}
	}
}

func inotifyNames(b []byte) map[string]bool {
	names := map[string]bool{}
	for len(b) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&b[0]))
		end := unix.SizeofInotifyEvent + int(ev.Len)
		name := b[unix.SizeofInotifyEvent:end]
		for j, c := range name {
			if c == 0 {
				name = name[:j]
				break
			}
		}
		names[string(name)] = true
		b = b[end:]
	}
	return names
}

// TestReplacesStale: a file left at the path by an earlier run is replaced.
func TestReplacesStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	if err := os.WriteFile(path, []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}
