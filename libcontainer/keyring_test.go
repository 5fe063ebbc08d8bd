package libcontainer

import "testing"

func TestKeyPerm(t *testing.T) {
	for _, tc := range []struct {
		desc string
		want uint32
		ok   bool
	}{
		{"keyring;0;0;3f130000;_ses.c1", 0x3f130000, true},
		{"keyring;100000;100000;3f1b0008;_ses.a;b", 0x3f1b0008, true}, // ';' in the name
		{"keyring;0;0;3f130000;", 0x3f130000, true},
		{"keyring;0;0;3f130000", 0, false},
		{"keyring;0;0;zz;_ses.c1", 0, false},
		{"keyring;0;0;1ffffffff;_ses.c1", 0, false},
		{"", 0, false},
	} {
		got, err := keyPerm(tc.desc)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("keyPerm(%q) = %#x, %v; want %#x (ok %t)", tc.desc, got, err, tc.want, tc.ok)
		}
	}
	if keyringSearch(false) != 0x80000 || keyringSearch(true) != 0x80008 {
		t.Errorf("keyringSearch: %#x %#x", keyringSearch(false), keyringSearch(true))
	}
}
