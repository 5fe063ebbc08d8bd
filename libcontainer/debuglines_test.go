package libcontainer

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCPUMask: the mask reads as runc's nsexec prints one ("affinity:
// 0x3" for CPUs 0 and 1), and a CPU past the first 64 shows every word
// below it, zero-padded.
func TestCPUMask(t *testing.T) {
	for _, tc := range []struct {
		cpus []int
		want string
	}{
		{nil, "0x0"},
		{[]int{0}, "0x1"},
		{[]int{1}, "0x2"},
		{[]int{0, 1}, "0x3"},
		{[]int{4, 63}, "0x8000000000000010"},
		{[]int{0, 64}, "0x10000000000000001"},
		{[]int{1023}, "0x8000000000000000" + strings.Repeat("0", 15*16)},
	} {
		var set unix.CPUSet
		for _, c := range tc.cpus {
			set.Set(c)
		}
		if got := cpuMask(&set); got != tc.want {
			t.Errorf("cpuMask(%v) = %s, want %s", tc.cpus, got, tc.want)
		}
	}
}
