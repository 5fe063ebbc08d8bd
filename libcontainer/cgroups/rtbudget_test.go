package cgroups

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// rtRatio counts as the kernel's to_ratio does (runtime and period in ns,
// shifted by BW_SHIFT), and rtNeed is the smallest runtime whose ratio
// holds a sum: one µs less does not.
func TestRtRatioAndNeed(t *testing.T) {
	for _, c := range []struct {
		s    rtShare
		want uint64
	}{
		{rtShare{0, 1000000}, 0},
		{rtShare{1000, 1000000}, 1048}, // 1000e3<<20 / 1e9
		{rtShare{500, 100000}, 5242},   // 500e3<<20 / 1e8
		{rtShare{950000, 1000000}, 996147},
		{rtShare{-1, 1000000}, 1 << 20}, // unlimited: the whole period
		{rtShare{1000, 0}, 0},
		{rtShare{2000000, 1000000}, 1 << 20}, // more than its period
	} {
		if got := rtRatio(c.s); got != c.want {
			t.Errorf("rtRatio(%+v) = %d, want %d", c.s, got, c.want)
		}
	}
	for _, c := range []struct {
		sum    uint64
		period int64
	}{{1048, 1000000}, {6290, 1000000}, {5242, 100000}, {1 << 20, 1000000}, {1, 1000000}, {996147, 1000000}} {
		need := rtNeed(c.sum, c.period)
		if got := rtRatio(rtShare{need, c.period}); got < c.sum {
			t.Errorf("rtNeed(%d, %d) = %d, whose ratio %d holds less", c.sum, c.period, need, got)
		}
		if got := rtRatio(rtShare{need - 1, c.period}); got >= c.sum {
			t.Errorf("rtNeed(%d, %d) = %d, but %d (ratio %d) holds it too", c.sum, c.period, need, need-1, got)
		}
	}
	if n := rtNeed(0, 1000000); n != 0 {
		t.Errorf("rtNeed(0) = %d, want 0", n)
	}
}

// fitRt adds up the children's shares (the one being made or updated
// counted with its new values), raises the parent to that, never lowers
// it when lending, and lowers it when giving back.
func TestFitRt(t *testing.T) {
	parent := t.TempDir()
	write := func(dir string, runtime, period int64) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for f, v := range map[string]int64{"cpu.rt_runtime_us": runtime, "cpu.rt_period_us": period} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(strconv.FormatInt(v, 10)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	runtime := func() int64 {
		t.Helper()
		n, err := readInt(filepath.Join(parent, "cpu.rt_runtime_us"))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	write(parent, 0, 1000000)
	write(filepath.Join(parent, "a"), 1000, 1000000) // ratio 1048
	write(filepath.Join(parent, "b"), 500, 100000)   // ratio 5242
	write(filepath.Join(parent, "idle"), 0, 1000000)

	// b is being updated to 2000/1000000 (ratio 2097): a's 1048 + 2097.
	if err := fitRt(parent, "b", rtShare{2000, 1000000}, false); err != nil {
		t.Fatal(err)
	}
	if got, want := runtime(), rtNeed(1048+2097, 1000000); got != want {
		t.Fatalf("after lending for b's update: %d, want %d", got, want)
	}
	// A new child c (no directory yet) with 1000/1000000: all three.
	if err := fitRt(parent, "c", rtShare{1000, 1000000}, false); err != nil {
		t.Fatal(err)
	}
	all := rtNeed(1048+5242+1048, 1000000)
	if got := runtime(); got != all {
		t.Fatalf("after lending for c: %d, want %d", got, all)
	}
	// Lending never lowers: with c asking nothing the budget stays.
	if err := fitRt(parent, "c", rtShare{0, 1000000}, false); err != nil {
		t.Fatal(err)
	}
	if got := runtime(); got != all {
		t.Fatalf("lending lowered the budget to %d", got)
	}
	// b removed, then given back: a's share is what is left.
	if err := os.RemoveAll(filepath.Join(parent, "b")); err != nil {
		t.Fatal(err)
	}
	if err := fitRt(parent, "", rtShare{}, true); err != nil {
		t.Fatal(err)
	}
	if got, want := runtime(), rtNeed(1048, 1000000); got != want {
		t.Fatalf("after giving back b's: %d, want %d", got, want)
	}
	// ReturnRt with the last one gone: 0 again.
	if err := os.RemoveAll(filepath.Join(parent, "a")); err != nil {
		t.Fatal(err)
	}
	ReturnRt(parent)
	if got := runtime(); got != 0 {
		t.Fatalf("after the last child: %d, want 0", got)
	}
	// An unlimited parent needs nothing written.
	write(parent, -1, 1000000)
	if err := fitRt(parent, "c", rtShare{5000, 1000000}, false); err != nil {
		t.Fatal(err)
	}
	if got := runtime(); got != -1 {
		t.Fatalf("an unlimited parent was set to %d", got)
	}
}
