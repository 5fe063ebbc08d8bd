package procattr

// table is a small name-to-value lookup for the package's fixed tables:
// a package-level map literal is built by code at start-up in every berth
// process, runtime and init, whether it is used or not; a slice of
// constants is static data in the binary, touched only when looked up.
// The tables are short and looked up a few times per container, so a
// linear search is enough. Names are unique (the tests check it with
// duplicate).
type table[K ~string, V any] []entry[K, V]

// entry is one name and its value.
type entry[K ~string, V any] struct {
	name K
	val  V
}

// lookup returns the value of name.
func (t table[K, V]) lookup(name K) (V, bool) {
	for _, e := range t {
		if e.name == name {
			return e.val, true
		}
	}
	var zero V
	return zero, false
}

// names lists the names, in table order.
func (t table[K, V]) names() []K {
	out := make([]K, len(t))
	for i, e := range t {
		out[i] = e.name
	}
	return out
}

// duplicate returns a name listed twice, or "".
func (t table[K, V]) duplicate() K {
	seen := make(map[K]bool, len(t))
	for _, e := range t {
		if seen[e.name] {
			return e.name
		}
		seen[e.name] = true
	}
	return ""
}
