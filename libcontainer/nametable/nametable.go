// Package nametable is a small name-to-value lookup for fixed tables
// (mount options, scheduler policies, ...): a package-level map literal is
// built by code at start-up in every berth process, runtime and init,
// whether it is used or not; a slice of constants is static data in the
// binary, touched only when looked up. The tables are short and looked up
// a few times per container, so a linear search is enough. Names are
// unique (each user's tests check it with Duplicate).
package nametable

// Table is a fixed list of names and their values.
type Table[K ~string, V any] []Entry[K, V]

// Entry is one name and its value.
type Entry[K ~string, V any] struct {
	Name K
	Val  V
}

// Lookup returns the value of name.
func (t Table[K, V]) Lookup(name K) (V, bool) {
	for _, e := range t {
		if e.Name == name {
			return e.Val, true
		}
	}
	var zero V
	return zero, false
}

// Names lists the names, in table order.
func (t Table[K, V]) Names() []K {
	out := make([]K, len(t))
	for i, e := range t {
		out[i] = e.Name
	}
	return out
}

// Duplicate returns a name listed twice, or "".
func (t Table[K, V]) Duplicate() K {
	seen := make(map[K]bool, len(t))
	for _, e := range t {
		if seen[e.Name] {
			return e.Name
		}
		seen[e.Name] = true
	}
	return ""
}
