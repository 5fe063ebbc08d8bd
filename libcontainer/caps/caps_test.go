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

// grantable: capset(2)'s rules for an init that holds bset (and inh as
// its inheritable set) when it applies the sets.
func TestGrantable(t *testing.T) {
	bit := func(cs ...capability.Cap) uint64 {
		var m uint64
		for _, c := range cs {
			m |= 1 << uint(c)
		}
		return m
	}
	host := bit(capability.CAP_CHOWN, capability.CAP_KILL, capability.CAP_SYS_ADMIN, capability.CAP_SETPCAP) // no CAP_SYS_RESOURCE
	all := ^uint64(0) >> 1                                                                                   // a user namespace: every capability
	for _, tc := range []struct {
		name      string
		c         specs.LinuxCapabilities
		bset, inh uint64
		want      string // "" or the error's start
	}{
		{"docker-like", specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN", "CAP_KILL"}, Effective: []string{"CAP_CHOWN", "CAP_KILL"}, Permitted: []string{"CAP_CHOWN", "CAP_KILL"}}, host, 0, ""},
		{"permitted the host lacks", specs.LinuxCapabilities{Bounding: []string{"CAP_SYS_RESOURCE"}, Permitted: []string{"CAP_SYS_RESOURCE"}}, host, 0, "process.capabilities.permitted: CAP_SYS_RESOURCE cannot be granted"},
		{"permitted the host lacks, in a user namespace", specs.LinuxCapabilities{Bounding: []string{"CAP_SYS_RESOURCE"}, Effective: []string{"CAP_SYS_RESOURCE"}, Permitted: []string{"CAP_SYS_RESOURCE"}, Inheritable: []string{"CAP_SYS_RESOURCE"}}, all, 0, ""},
		{"permitted from berth's inheritable set", specs.LinuxCapabilities{Permitted: []string{"CAP_SYS_RESOURCE"}}, host, bit(capability.CAP_SYS_RESOURCE), ""},
		{"effective not permitted", specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}}, host, 0, "process.capabilities.effective: CAP_KILL is not in process.capabilities.permitted"},
		// The youki contest's case: no bounding set at all.
		{"inheritable outside the bounding set", specs.LinuxCapabilities{Effective: []string{"CAP_SYS_ADMIN"}, Permitted: []string{"CAP_SYS_ADMIN"}, Inheritable: []string{"CAP_SYS_ADMIN"}}, host, 0, "process.capabilities.inheritable: CAP_SYS_ADMIN is not in process.capabilities.bounding"},
		{"inheritable outside the bounding set, in a user namespace", specs.LinuxCapabilities{Inheritable: []string{"CAP_KILL"}}, all, 0, "process.capabilities.inheritable: CAP_KILL is not in process.capabilities.bounding"},
		{"inheritable kept from berth's own", specs.LinuxCapabilities{Inheritable: []string{"CAP_KILL"}}, host, bit(capability.CAP_KILL), ""},
		{"inheritable the host lacks", specs.LinuxCapabilities{Bounding: []string{"CAP_SYS_RESOURCE"}, Inheritable: []string{"CAP_SYS_RESOURCE"}}, host, 0, "process.capabilities.inheritable: CAP_SYS_RESOURCE cannot be granted"},
		// Unknown names are left out (and warned about) before the rules.
		{"unknown names", specs.LinuxCapabilities{Effective: []string{"CAP_TEST"}, Inheritable: []string{"CAP_TEST"}}, host, 0, ""},
	} {
		c, _ := Parse(&tc.c)
		err := c.grantable(func(v int) bool { return tc.bset&(1<<uint(v)) != 0 }, tc.inh)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q...", tc.name, err, tc.want)
		}
	}
}
