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
	for _, applied := range []string{"idmap", "ridmap", "tmpcopyup"} {
		if !slices.Contains(names, applied) {
			t.Errorf("applied option %s is not listed", applied)
		}
	}
}
