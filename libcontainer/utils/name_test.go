package utils

import "testing"

func TestProgramName(t *testing.T) {
	for in, want := range map[string]string{"/usr/bin/runc": "runc", "./berth": "berth", "berth": "berth", "": "berth", "/": "berth"} {
		if got := ProgramName([]string{in, "state"}); got != want {
			t.Errorf("ProgramName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := ProgramName(nil); got != "berth" {
		t.Errorf("ProgramName(nil) = %q", got)
	}
}
