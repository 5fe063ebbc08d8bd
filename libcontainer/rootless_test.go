package libcontainer

import "testing"

func TestIsInitialUIDMap(t *testing.T) {
	for m, want := range map[string]bool{
		"         0          0 4294967295\n": true,
		"         0       1001          1\n": false,
		"0 0 4294967295\n1 1 1\n":            false,
		"0 0 4294967294\n":                   false,
	} {
		if got := isInitialUIDMap(m); got != want {
			t.Errorf("%q: got %v, want %v", m, got, want)
		}
	}
}
