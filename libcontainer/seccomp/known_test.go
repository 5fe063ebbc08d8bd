package seccomp

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestKnownFlagsParseAndIncludeSupported(t *testing.T) {
	known := KnownFlags()
	if len(known) != 4 {
		t.Fatalf("KnownFlags = %v, want the 4 flags parseFlags accepts", known)
	}
	set := map[string]bool{}
	for _, f := range known {
		set[f] = true
		if _, err := parseFlags([]specs.LinuxSeccompFlag{specs.LinuxSeccompFlag(f)}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, f := range SupportedFlags() {
		if !set[f] {
			t.Errorf("supported flag %s is not known", f)
		}
	}
}
