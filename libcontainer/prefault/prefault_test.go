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

// exeMappings returns, for each read-only mapping of the running binary's
// file, its size and how much of it is resident (from /proc/self/smaps).
func exeMappings(t *testing.T) (sizes, rss []int) {
	t.Helper()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: range, perms, offset, dev, inode, path.
			in = len(fields) == 6 && fields[5] == exe && !strings.Contains(fields[1], "w")
			continue
		}
		if !in || len(fields) < 2 {
			continue
		}
		kb, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "Size:":
			sizes = append(sizes, kb)
		case "Rss:":
			rss = append(rss, kb)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(sizes) == 0 || len(sizes) != len(rss) {
		t.Fatalf("no read-only mapping of %s in smaps (%d sizes, %d rss)", exe, len(sizes), len(rss))
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
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var rwEnd, bssStart uint64
	var size, rss int
	inBSS := false
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			lo, hi, _ := strings.Cut(fields[0], "-")
			start, _ := strconv.ParseUint(lo, 16, 64)
			end, _ := strconv.ParseUint(hi, 16, 64)
			if inBSS {
				break
			}
			if len(fields) == 6 && fields[5] == exe && strings.Contains(fields[1], "w") {
				rwEnd = end
				continue
			}
			if rwEnd != 0 && start == rwEnd && len(fields) == 5 {
				bssStart, inBSS = start, true
			}
			continue
		}
		if !inBSS || len(fields) < 2 {
			continue
		}
		kb, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "Size:":
			size = kb << 10
		case "Rss:":
			rss = kb << 10
		}
	}
	if bssStart == 0 || size == 0 {
		t.Fatalf("no anonymous mapping after the writable mapping of %s (ends at %#x)", exe, rwEnd)
	}
	want := min(size, bssHot()-4096)
	if rss < want {
		t.Errorf("zeroed data at %#x: %d of %d KiB resident, want at least %d KiB", bssStart, rss>>10, size>>10, want>>10)
	}
}
