package cgroups

import (
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

// rtTarget adds up the children's shares (the one being made or updated
// with its new values), raises the parent to that, never lowers it when
// lending, lowers it when giving back, and leaves an unlimited parent
// alone. (fitRt's reading and writing of the cgroup files: cgroups.bats
// cg-rt.)
func TestRtTarget(t *testing.T) {
	p := rtShare{0, 1000000}
	a, b, c := rtShare{1000, 1000000}, rtShare{500, 100000}, rtShare{2000, 1000000} // ratios 1048, 5242, 2097
	for _, tc := range []struct {
		name  string
		have  rtShare
		kids  []rtShare
		lower bool
		want  int64
		write bool
	}{
		{"first child", p, []rtShare{a}, false, rtNeed(1048, 1000000), true},
		{"two children", rtShare{1000, 1000000}, []rtShare{a, b}, false, rtNeed(1048+5242, 1000000), true},
		{"an update", p, []rtShare{a, c, {0, 1000000}}, false, rtNeed(1048+2097, 1000000), true},
		{"enough already", rtShare{999999, 1000000}, []rtShare{a}, false, 999999, false},
		{"exactly enough", rtShare{1000, 1000000}, []rtShare{a}, false, 1000, false},
		{"lending never lowers", rtShare{8000, 1000000}, []rtShare{a}, false, 8000, false},
		{"giving back lowers", rtShare{8000, 1000000}, []rtShare{a}, true, rtNeed(1048, 1000000), true},
		{"the last one gone", rtShare{8000, 1000000}, []rtShare{{}, {0, 1000000}}, true, 0, true},
		{"an unlimited parent", rtShare{-1, 1000000}, []rtShare{a, b}, false, -1, false},
		{"a parent of another period", rtShare{0, 500000}, []rtShare{a}, false, rtNeed(1048, 500000), true},
	} {
		got, write := rtTarget(tc.have, tc.kids, tc.lower)
		if got != tc.want || write != tc.write {
			t.Errorf("%s: rtTarget = %d, %v; want %d, %v", tc.name, got, write, tc.want, tc.write)
		}
	}
}
