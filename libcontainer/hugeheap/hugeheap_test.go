package hugeheap

import (
	"bufio"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

type vma struct {
	start, end uintptr
	flags      []string
}

func (v vma) has(flag string) bool { return slices.Contains(v.flags, flag) }

// mappings reads this process's mappings and their VmFlags from
// /proc/self/smaps.
func mappings(t *testing.T) []vma {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []vma
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if rest, ok := strings.CutPrefix(line, "VmFlags:"); ok {
			if len(out) == 0 {
				t.Fatalf("VmFlags before any mapping in smaps")
			}
			out[len(out)-1].flags = strings.Fields(rest)
			continue
		}
		field, _, _ := strings.Cut(line, " ")
		lo, hi, ok := strings.Cut(field, "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, vma{start: uintptr(start), end: uintptr(end)})
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func containing(t *testing.T, vmas []vma, addr uintptr) vma {
	t.Helper()
	for _, v := range vmas {
		if v.start <= addr && addr < v.end {
			return v
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return vma{}
}

func sumFlagged(vmas []vma, flag string) uintptr {
	var n uintptr
	for _, v := range vmas {
		if v.has(flag) {
			n += v.end - v.start
		}
	}
	return n
}

var sink []byte

// snapshot reads the mappings and the advised byte count together: the
// reading itself allocates, and when the heap started near the end of its
// first chunk (its base is random) that can map and advise the next chunk
// between the two reads. It reads again until no chunk was advised while
// it read.
func snapshot(t *testing.T) ([]vma, uintptr) {
	t.Helper()
	for range 100 {
		before := advised()
		vmas := mappings(t)
		if after := advised(); after == before {
			return vmas, after
		}
	}
	t.Fatal("chunks kept being advised while the mappings were read")
	return nil, 0
}

// The table in hugeheap.c, in the order a process lives it: the heap's
// first chunks advised and nothing else, chunks past the budget left alone,
// and Release turning the advice off.
func TestHeapChunks(t *testing.T) {
	// A kernel built without transparent huge pages refuses the advice
	// (EINVAL), and the wrapper then records nothing.
	probe, err := syscall.Mmap(-1, 0, 4<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	err = syscall.Madvise(probe, syscall.MADV_HUGEPAGE)
	_ = syscall.Munmap(probe)
	if errors.Is(err, syscall.EINVAL) {
		t.Skip("this kernel has no transparent huge pages")
	} else if err != nil {
		t.Fatal(err)
	}
	small := new([64]byte)
	vmas, got := snapshot(t)
	if got == 0 || got > 8<<20 {
		t.Fatalf("%d bytes advised, want some and at most 8 MiB", got)
	}
	if n := sumFlagged(vmas, "hg"); n != got {
		t.Fatalf("%d bytes of mappings are marked for huge pages, %d advised", n, got)
	}
	if v := containing(t, vmas, uintptr(unsafe.Pointer(small))); !v.has("hg") {
		t.Fatalf("the heap's first chunk %#x-%#x is not advised (flags %v)", v.start, v.end, v.flags)
	}

	// 32 MiB more heap: at most the rest of the budget is advised, the
	// chunks past it are not.
	sink = make([]byte, 32<<20)
	vmas, got = snapshot(t)
	last := uintptr(unsafe.Pointer(&sink[len(sink)-1]))
	if v := containing(t, vmas, last); v.has("hg") {
		t.Fatalf("a chunk past the budget is advised: %#x-%#x", v.start, v.end)
	}
	if n := sumFlagged(vmas, "hg"); n != got || got > 8<<20 {
		t.Fatalf("after growth past the budget: %d bytes marked, %d advised, want equal and at most 8 MiB", n, got)
	}

	if n := Release(); n == 0 {
		t.Fatal("Release marked no range")
	}
	vmas = mappings(t)
	if n := sumFlagged(vmas, "hg"); n != 0 {
		t.Fatalf("%d bytes still marked for huge pages after Release", n)
	}
	if n := sumFlagged(vmas, "nh"); n < got {
		t.Fatalf("%d bytes marked against huge pages after Release, want at least the %d advised", n, got)
	}
	if v := containing(t, vmas, uintptr(unsafe.Pointer(small))); !v.has("nh") {
		t.Fatalf("the heap's first chunk is not marked against huge pages after Release (flags %v)", v.flags)
	}
}
