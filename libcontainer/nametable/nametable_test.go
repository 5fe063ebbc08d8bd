package nametable

import (
	"slices"
	"testing"
)

type tableKind string

func TestTableLookup(t *testing.T) {
	tb := Table[tableKind, int]{{Name: "a", Val: 1}, {Name: "b", Val: 2}, {Name: "c", Val: 0}}
	for name, want := range map[tableKind]int{"a": 1, "b": 2, "c": 0} {
		if v, ok := tb.Lookup(name); !ok || v != want {
			t.Errorf("Lookup(%q) = %d, %v; want %d", name, v, ok, want)
		}
	}
	if v, ok := tb.Lookup("d"); ok || v != 0 {
		t.Errorf("Lookup(d) = %d, %v", v, ok)
	}
	if got := tb.Names(); !slices.Equal(got, []tableKind{"a", "b", "c"}) {
		t.Errorf("Names = %q", got)
	}
	if d := tb.Duplicate(); d != "" {
		t.Errorf("Duplicate = %q", d)
	}
	if d := append(tb, Entry[tableKind, int]{Name: "b", Val: 3}).Duplicate(); d != "b" {
		t.Errorf("Duplicate = %q, want b", d)
	}
}
