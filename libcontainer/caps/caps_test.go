package caps

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseUnknownIgnored(t *testing.T) {
	c, warnings := Parse(&specs.LinuxCapabilities{
		Bounding:  []string{"CAP_KILL", "CAP_UNKNOWN", "kill"},
		Permitted: []string{"CAP_KILL", "CAP_UNKNOWN"},
	})
	if got := c.sets[capability.BOUNDING]; !slices.Equal(got, []capability.Cap{capability.CAP_KILL}) {
		t.Fatalf("bounding = %v", got)
	}
	if len(warnings) != 1 || warnings[0] != "ignoring unknown or unavailable capabilities: [CAP_UNKNOWN kill]" {
		t.Fatalf("warnings = %q", warnings)
	}
}

func TestParseAmbientNeedsPermittedAndInheritable(t *testing.T) {
	c, warnings := Parse(&specs.LinuxCapabilities{
		Permitted:   []string{"CAP_KILL", "CAP_CHOWN"},
		Inheritable: []string{"CAP_CHOWN", "CAP_NET_RAW"},
		Ambient:     []string{"CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"},
	})
	if got := c.sets[capability.AMBIENT]; !slices.Equal(got, []capability.Cap{capability.CAP_CHOWN}) {
		t.Fatalf("ambient = %v", got)
	}
	if len(warnings) != 2 ||
		!strings.HasPrefix(warnings[0], "can't raise ambient capability CAP_KILL: operation not permitted") ||
		!strings.HasPrefix(warnings[1], "can't raise ambient capability CAP_NET_RAW: operation not permitted") {
		t.Fatalf("warnings = %q", warnings)
	}
}

func TestParseNil(t *testing.T) {
	if c, w := Parse(nil); c != nil || w != nil {
		t.Fatalf("Parse(nil) = %v, %v", c, w)
	}
}
