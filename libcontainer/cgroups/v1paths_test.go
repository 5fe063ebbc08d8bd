package cgroups

import (
	"maps"
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs"
)

// The paths knownV1Paths makes are the library's own, for every absolute
// path; on a host where it does not apply it says so.
func TestKnownV1PathsAreTheLibrarys(t *testing.T) {
	for _, p := range []string{"/berth/v1p", "/a/../b/./c", "/x//y/"} {
		cg := &cgroups.Cgroup{Path: p, Resources: &cgroups.Resources{}}
		got, ok := knownV1Paths(cg)
		if cgroups.IsCgroup2UnifiedMode() {
			if ok {
				t.Fatalf("%s: paths %v on a cgroup v2 host", p, got)
			}
			continue
		}
		if !ok {
			t.Fatalf("%s: no paths on this cgroup v1 host (the bench and the suites run on one)", p)
		}
		m, err := fs.NewManager(cg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := m.GetPaths(); !maps.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", p, got, want)
		}
	}
	for _, cg := range []*cgroups.Cgroup{
		{Path: "rel/x"}, {Name: "x", Parent: "/p"}, {Path: "/x", Systemd: true},
	} {
		if got, ok := knownV1Paths(cg); ok {
			t.Errorf("%+v: paths %v, want the library's own lookup", cg, got)
		}
	}
}
