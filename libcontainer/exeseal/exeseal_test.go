//go:build linux

package exeseal

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"golang.org/x/sys/unix"
)

func procFd(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }

func sameContent(t *testing.T, f *os.File) {
	t.Helper()
	want, err := os.ReadFile(selfExe)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(procFd(f))
	if err != nil {
		t.Fatalf("read sealed copy: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("sealed copy differs from the binary (%d vs %d bytes)", len(got), len(want))
	}
}

func TestMemfdIsSealed(t *testing.T) {
	f, err := sealMemfd(selfExe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sameContent(t, f)
	checkSealed(t, f)
}

// SealImage holds what it read, a reader's short reads included, and
// takes no change.
func TestSealImage(t *testing.T) {
	image := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80000: more than a buffer
	f, err := SealImage("berth-test", iotest.HalfReader(bytes.NewReader(image)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := os.ReadFile(procFd(f))
	if err != nil || !bytes.Equal(got, image) {
		t.Fatalf("sealed image: %d of %d bytes, equal %v, %v", len(got), len(image), bytes.Equal(got, image), err)
	}
	if target, err := os.Readlink(procFd(f)); err != nil || !strings.HasPrefix(target, "/memfd:berth-test") {
		t.Errorf("memfd's name: %q, %v", target, err)
	}
	checkSealed(t, f)
	if _, err := SealImage("berth-test", iotest.ErrReader(errors.New("boom"))); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a failing reader: %v", err)
	}
}

func checkSealed(t *testing.T, f *os.File) {
	t.Helper()
	if !hasSeals(f) {
		t.Fatal("memfd copy lacks seals")
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, unix.EPERM) {
		t.Fatalf("write to sealed memfd: got %v, want EPERM", err)
	}
	if err := f.Truncate(1); !errors.Is(err, unix.EPERM) {
		t.Fatalf("truncate sealed memfd: got %v, want EPERM", err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_FUTURE_WRITE); !errors.Is(err, unix.EPERM) {
		t.Fatalf("adding seals after F_SEAL_SEAL: got %v, want EPERM", err)
	}
}

func TestOverlayfsIsReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("overlayfs sealing needs root")
	}
	f, mount, err := sealOverlayfs(selfExe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mount.Close()
	// The binary stays readable through f once the mount's fd is gone.
	sameContent(t, f)
	w, err := os.OpenFile(procFd(f), os.O_WRONLY, 0)
	if err == nil {
		w.Close()
		t.Fatal("opened the overlay copy for writing")
	}
	if !errors.Is(err, unix.EROFS) {
		t.Fatalf("open for writing: got %v, want EROFS", err)
	}
}

func TestRunningSealed(t *testing.T) {
	sealed, err := RunningSealed()
	if err != nil {
		t.Fatal(err)
	}
	if sealed {
		t.Fatal("a test binary on disk reported as sealed")
	}
}

func TestOpenHonoursMode(t *testing.T) {
	for _, m := range []Method{Memfd, Overlayfs} {
		if m == Overlayfs && os.Geteuid() != 0 {
			continue
		}
		t.Setenv(EnvMode, string(m))
		e, err := Open()
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if e.Method != m || e.File == nil {
			t.Fatalf("mode %s gave method %s", m, e.Method)
		}
		e.Close()
	}
}

// Close drops the overlay mount's fd too, on a goroutine of its own
// (the kernel waits for an RCU grace period as the mount is detached).
func TestCloseDropsOverlayMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("overlayfs sealing needs root")
	}
	t.Setenv(EnvMode, string(Overlayfs))
	e, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	if e.mount == nil {
		t.Fatal("an overlayfs seal without its mount's fd")
	}
	fd := int(e.mount.Fd())
	var before unix.Stat_t
	if err := unix.Fstat(fd, &before); err != nil {
		t.Fatal(err)
	}
	e.Close()
	if e.mount != nil {
		t.Fatal("Close kept the mount's fd")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Dev != before.Dev || st.Ino != before.Ino {
			return // closed (or its number taken by another file)
		}
		if time.Now().After(deadline) {
			t.Fatalf("fd %d of the overlay mount still open after Close", fd)
		}
	}
}

func TestEscapeLowerDir(t *testing.T) {
	if got := escapeLowerDir(`/a:b\c/`); got != `/a\:b\\c/` {
		t.Fatalf("got %q", got)
	}
}

// The cost of each method alone, without the container around it:
// go test -bench . ./libcontainer/exeseal/
func BenchmarkOverlayfs(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	for b.Loop() {
		f, mount, err := sealOverlayfs(selfExe)
		if err != nil {
			b.Fatal(err)
		}
		mount.Close()
		f.Close()
	}
}

func BenchmarkMemfd(b *testing.B) {
	for b.Loop() {
		f, err := sealMemfd(selfExe)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
