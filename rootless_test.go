package main

import "testing"

func TestParseRootless(t *testing.T) {
	for in, want := range map[string]string{"": "auto", "auto": "auto", "true": "true", "1": "true", "false": "false", "0": "false"} {
		b, err := parseRootless(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		got := "auto"
		if b != nil {
			got = map[bool]string{true: "true", false: "false"}[*b]
		}
		if got != want {
			t.Errorf("%q: got %s, want %s", in, got, want)
		}
	}
	if _, err := parseRootless("maybe"); err == nil {
		t.Error("bad value accepted")
	}
}
