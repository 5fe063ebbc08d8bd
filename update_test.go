package main

import "testing"

func TestParseSize(t *testing.T) {
	good := map[string]int64{"0": 0, "123": 123, "1k": 1024, "64m": 64 << 20, "2G": 2 << 30, "1gb": 1 << 30, "-1": -1}
	for in, want := range good {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "m", "lots", "-2", "1.5g", "99999999999t"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded", in)
		}
	}
}

func TestFilterPsTable(t *testing.T) {
	out := []byte("UID PID PPID CMD\nroot 1 0 init\nroot 42 1 sleep\nroot 420 1 other\n")
	got, err := filterPsTable(out, []int{42})
	if err != nil {
		t.Fatal(err)
	}
	if want := "UID PID PPID CMD\nroot 42 1 sleep\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := filterPsTable([]byte("UID CMD\nroot x\n"), nil); err == nil {
		t.Error("a table without PID was accepted")
	}
}
