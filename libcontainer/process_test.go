package libcontainer

import (
	"os"
	"testing"
	"time"
)

func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// A background seal is the same handle exeseal.Open gives, and one that
// is discarded (its caller failed first) leaves no descriptor behind.
func TestSealing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("sealing by overlayfs needs root")
	}
	before := openFds(t)
	exe, err := startSealing().wait()
	if err != nil {
		t.Fatal(err)
	}
	if exe.File != nil {
		st, err := exe.File.Stat()
		if err != nil || st.Mode()&0o111 == 0 {
			t.Errorf("sealed binary: %v, mode %v", err, st.Mode())
		}
	}
	exe.Close()
	startSealing().Discard()
	// An owner releases what was never taken; what was taken stays usable.
	ownSeal(nil).Release()
	owner := ownSeal(nil)
	taken := owner.Take()
	owner.Release()
	exe, err = taken.wait()
	if err != nil {
		t.Fatalf("a taken seal after Release: %v", err)
	}
	exe.Close()
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
