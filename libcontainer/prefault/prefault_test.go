//go:build linux && cgo

package prefault

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// mapping is one entry of /proc/self/smaps: its range, permissions,
// path ("" when anonymous), and its size and resident part in KiB.
type mapping struct {
	start, end  uint64
	perms, path string
	sizeKB      int
	rssKB       int
}

// smaps reads this process's mappings from /proc/self/smaps.
func smaps(t *testing.T) []mapping {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: range, perms, offset, dev, inode, path.
			lo, hi, _ := strings.Cut(fields[0], "-")
			m := mapping{perms: fields[1]}
			m.start, _ = strconv.ParseUint(lo, 16, 64)
			m.end, _ = strconv.ParseUint(hi, 16, 64)
			if len(fields) == 6 {
				m.path = fields[5]
			}
			out = append(out, m)
			continue
		}
		if len(out) == 0 || len(fields) < 2 {
			continue
		}
		kb, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "Size:":
			out[len(out)-1].sizeKB = kb
		case "Rss:":
			out[len(out)-1].rssKB = kb
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// exe returns the running binary's path.
func exe(t *testing.T) string {
	t.Helper()
	p, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// exeMappings returns, for each read-only mapping of the running binary's
// file, its size and how much of it is resident.
func exeMappings(t *testing.T) (sizes, rss []int) {
	t.Helper()
	path := exe(t)
	for _, m := range smaps(t) {
		if m.path == path && !strings.Contains(m.perms, "w") {
			sizes = append(sizes, m.sizeKB)
			rss = append(rss, m.rssKB)
		}
	}
	if len(sizes) == 0 {
		t.Fatalf("no read-only mapping of %s in smaps", path)
	}
	return sizes, rss
}

// With the constructor, every read-only mapping of the binary is resident
// as the process starts, without a touch of its own: code the test never
// runs included. A child started with BERTH_PREFAULT=off populates
// nothing.
func TestResident(t *testing.T) {
	if os.Getenv("PREFAULT_TEST_CHILD") == "1" {
		fmt.Printf("populated %d\n", populated())
		return
	}
	sizes, rss := exeMappings(t)
	for i := range sizes {
		if rss[i] < sizes[i] {
			t.Errorf("read-only mapping %d of the binary: %d of %d KiB resident", i, rss[i], sizes[i])
		}
	}
	var ro int
	for _, kb := range sizes {
		ro += kb << 10
	}
	if got := populated(); got < uint64(ro)-4096*uint64(len(sizes)) {
		t.Errorf("the constructor populated %d bytes, the read-only mappings are %d", got, ro)
	}
	cmd := exec.Command("/proc/self/exe", "-test.run=^TestResident$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PREFAULT_TEST_CHILD=1", EnvOff+"=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "populated 0\n") {
		t.Errorf("with %s=off the child said:\n%s", EnvOff, out)
	}
}

// The first part of the zeroed data (bssHot) is resident as the process
// starts: the anonymous mapping that follows the binary's writable one
// holds at least that much. (Without the constructor a process has only
// the pages its start-up wrote, a few hundred KiB at most.)
func TestZeroedDataResident(t *testing.T) {
	path := exe(t)
	maps := smaps(t)
	var bss *mapping
	for i, m := range maps {
		if m.path == path && strings.Contains(m.perms, "w") && i+1 < len(maps) &&
			maps[i+1].start == m.end && maps[i+1].path == "" {
			bss = &maps[i+1]
			break
		}
	}
	if bss == nil || bss.sizeKB == 0 {
		t.Fatalf("no anonymous mapping right after the writable mapping of %s", path)
	}
	size, rss := bss.sizeKB<<10, bss.rssKB<<10
	want := min(size, bssHot()-4096)
	if rss < want {
		t.Errorf("zeroed data at %#x: %d of %d KiB resident, want at least %d KiB", bss.start, rss>>10, size>>10, want>>10)
	}
}
