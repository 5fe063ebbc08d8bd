//go:build linux

package nsenter

import (
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseSubIDs(t *testing.T) {
	in := "# comment\nalice:100000:65536\nbob:200000:65536\n1001:300000:10\nalice:bad:1\nalice:5:0\n\nalice:400000:5\n"
	got, err := parseSubIDs(strings.NewReader(in), []string{"1001", "alice"})
	if err != nil {
		t.Fatal(err)
	}
	want := []subRange{{100000, 65536}, {300000, 10}, {400000, 5}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestCoveredBy(t *testing.T) {
	r := []subRange{{100000, 65536}, {300000, 10}}
	for _, c := range []struct {
		start, size uint64
		ok          bool
	}{
		{100000, 65536, true}, {100001, 65536, false}, {99999, 2, false},
		{300000, 10, true}, {300005, 6, false}, {165536, 1, false},
	} {
		if got := coveredBy(r, c.start, c.size); got != c.ok {
			t.Errorf("coveredBy(%d, %d) = %v, want %v", c.start, c.size, got, c.ok)
		}
	}
}

func TestIsOwnIDMap(t *testing.T) {
	own := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1001, Size: 1}}
	if !isOwnIDMap(own, 1001) {
		t.Error("own single id not recognised")
	}
	if isOwnIDMap(own, 1002) {
		t.Error("another id taken as own")
	}
	if isOwnIDMap([]specs.LinuxIDMapping{{ContainerID: 0, HostID: 1001, Size: 2}}, 1001) {
		t.Error("a range of two taken as the own id")
	}
	if isOwnIDMap(append(own, specs.LinuxIDMapping{ContainerID: 1, HostID: 100000, Size: 10}), 1001) {
		t.Error("several ranges taken as the own id")
	}
}
