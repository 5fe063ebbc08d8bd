package configs

import (
	"slices"
	"testing"
)

type tableKind string

func TestTableLookup(t *testing.T) {
	tb := table[tableKind, int]{{"a", 1}, {"b", 2}, {"c", 0}}
	for name, want := range map[tableKind]int{"a": 1, "b": 2, "c": 0} {
		if v, ok := tb.lookup(name); !ok || v != want {
			t.Errorf("Lookup(%q) = %d, %v; want %d", name, v, ok, want)
		}
	}
	if v, ok := tb.lookup("d"); ok || v != 0 {
		t.Errorf("Lookup(d) = %d, %v", v, ok)
	}
	if got := tb.names(); !slices.Equal(got, []tableKind{"a", "b", "c"}) {
		t.Errorf("Names = %q", got)
	}
	if d := tb.duplicate(); d != "" {
		t.Errorf("Duplicate = %q", d)
	}
	if d := append(tb, entry[tableKind, int]{"b", 3}).duplicate(); d != "b" {
		t.Errorf("Duplicate = %q, want b", d)
	}
}
