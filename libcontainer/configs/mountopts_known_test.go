package configs

import (
	"slices"
	"testing"
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
