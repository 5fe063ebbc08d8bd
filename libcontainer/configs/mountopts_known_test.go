package configs

import (
	"slices"
	"testing"

	"github.com/berth-runtime/berth/libcontainer/inittest"
)

// Every name `berth features` lists must be understood by the parser, not
// passed through to the filesystem as data.
func TestKnownMountOptionsAreParsed(t *testing.T) {
	names := KnownMountOptions()
	if len(names) == 0 {
		t.Fatal("no mount options listed")
	}
	for _, n := range names {
		mf, err := ParseMountOptions([]string{n})
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if len(mf.Data) != 0 {
			t.Errorf("%s: passed to the filesystem as data", n)
		}
	}
	if !slices.Contains(names, "tmpcopyup") {
		t.Error("tmpcopyup is not listed")
	}
	// The idmap options are a mount extension of their own in features.
	for _, ext := range []string{"idmap", "ridmap"} {
		if slices.Contains(names, ext) {
			t.Errorf("%s is listed", ext)
		}
	}
}

// The option tables are static data: nothing is built for them when a
// berth process starts.
func TestMountOptionTablesAreStatic(t *testing.T) {
	inittest.NoAllocs(t, "github.com/berth-runtime/berth/libcontainer/configs")
}

// A name in two tables would take the first table's meaning only.
func TestMountOptionNamesUnique(t *testing.T) {
	names := KnownMountOptions()
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] {
			t.Errorf("mount option %q is listed twice", names[i])
		}
	}
}
