package libcontainer

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/dinit"
)

func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// A background seal gives a direct process berth-dinit's sealed memfd
// and any other process berth's sealed binary (with BERTH_DINIT=off, every
// process); one that is discarded (its caller failed first) leaves no
// descriptor behind.
func TestSealing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("sealing by overlayfs needs root")
	}
	if !dinit.Available() {
		t.Fatal("berth-dinit is not built in: make build puts it in libcontainer/dinit/bin")
	}
	before := openFds(t)
	for _, tc := range []struct {
		off, direct, wantDinit bool
	}{
		{false, true, true},
		{false, false, false},
		{true, true, false},
		{true, false, false},
	} {
		if tc.off {
			t.Setenv(dinit.EnvOff, "off")
		}
		cmd := &exec.Cmd{}
		var files []*os.File
		fdOf := func(f *os.File) string {
			files = append(files, f)
			return strconv.Itoa(2 + len(files))
		}
		h, err := initExecutable(cmd, fdOf, startSealing(), tc.direct)
		if err != nil {
			t.Fatalf("off %v, direct %v: %v", tc.off, tc.direct, err)
		}
		if len(files) == 1 {
			if cmd.Path != "/proc/self/fd/3" || !slices.Contains(cmd.Env, "_BERTH_EXE_FD=3") {
				t.Errorf("off %v, direct %v: path %q, env %q", tc.off, tc.direct, cmd.Path, cmd.Env)
			}
			st, err := files[0].Stat()
			if err != nil || st.Mode()&0o111 == 0 {
				t.Errorf("off %v, direct %v: sealed executable: %v, mode %v", tc.off, tc.direct, err, st.Mode())
			}
		}
		isDinit := len(files) == 1 && files[0].Name() == "memfd:berth-dinit"
		if isDinit != tc.wantDinit {
			t.Errorf("off %v, direct %v: berth-dinit %v, want %v (files %v)", tc.off, tc.direct, isDinit, tc.wantDinit, files)
		}
		if isDinit {
			seals, err := unix.FcntlInt(files[0].Fd(), unix.F_GET_SEALS, 0)
			const want = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
			if err != nil || seals&want != want {
				t.Errorf("berth-dinit's memfd: seals %#x, %v", seals, err)
			}
			if _, err := files[0].Write([]byte("x")); err == nil {
				t.Error("berth-dinit's memfd took a write")
			}
		}
		h.Close()
	}
	startSealing().Discard()
	// An owner releases what was never taken; what was taken stays usable.
	ownSeal(nil).Release()
	owner := ownSeal(nil)
	taken := owner.Take()
	owner.Release()
	r := taken.wait()
	if r.err != nil {
		t.Fatalf("a taken seal after Release: %v", r.err)
	}
	done := make(sealing, 1)
	done <- r
	done.Discard()
	// An overlay seal's mount fd is dropped in the background (Exe.Close).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		after := openFds(t)
		if after == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("open fds: %d before, %d after used, discarded and released seals", before, after)
		}
	}
}
