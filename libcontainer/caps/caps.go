// Package caps applies an OCI process's capability sets to the calling
// thread. Callers lock the OS thread: capabilities are per thread and the
// thread that applies them is the one that must execve.
package caps

import (
	"fmt"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

// Caps holds the parsed sets of a process.
type Caps struct {
	sets map[capability.CapType][]capability.Cap
}

// Parse converts the OCI capability names; unknown names are errors.
func Parse(c *specs.LinuxCapabilities) (*Caps, error) {
	if c == nil {
		return nil, nil
	}
	parsed := &Caps{sets: map[capability.CapType][]capability.Cap{}}
	for which, names := range map[capability.CapType][]string{
		capability.BOUNDING:    c.Bounding,
		capability.EFFECTIVE:   c.Effective,
		capability.PERMITTED:   c.Permitted,
		capability.INHERITABLE: c.Inheritable,
		capability.AMBIENT:     c.Ambient,
	} {
		for _, n := range names {
			v, err := configs.CapabilityValue(n)
			if err != nil {
				return nil, err
			}
			parsed.sets[which] = append(parsed.sets[which], v)
		}
	}
	return parsed, nil
}

// ApplyBounding drops every capability not in the bounding set. It is
// done while the process still has CAP_SETPCAP, before the uid changes.
func (c *Caps) ApplyBounding() error {
	if c == nil {
		return nil
	}
	// No Load: the set is cleared and written whole, and Apply reads
	// only the bounding bits (Load would parse /proc/self/status).
	p, err := capability.NewPid2(0)
	if err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	p.Clear(capability.BOUNDING)
	p.Set(capability.BOUNDING, c.sets[capability.BOUNDING]...)
	if err := p.Apply(capability.BOUNDING); err != nil {
		return fmt.Errorf("capabilities: apply bounding set: %w", err)
	}
	return nil
}

// ApplyFinal sets the effective, permitted, inheritable and ambient sets.
// Inheritable gets exactly what the config asks for and nothing else
// (CVE-2022-29162: an inheritable set the user did not ask for would let
// file capabilities of a binary in the image raise privileges).
func (c *Caps) ApplyFinal() error {
	if c == nil {
		return nil
	}
	// No Load: every set applied here is cleared and written whole.
	p, err := capability.NewPid2(0)
	if err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	p.Clear(capability.CAPS | capability.AMBIENT)
	for _, which := range []capability.CapType{capability.EFFECTIVE, capability.PERMITTED, capability.INHERITABLE, capability.AMBIENT} {
		p.Set(which, c.sets[which]...)
	}
	if err := p.Apply(capability.CAPS); err != nil {
		return fmt.Errorf("capabilities: apply: %w", err)
	}
	// Ambient capabilities must also be permitted and inheritable; the
	// kernel refuses others. Raise them one by one for a clear error.
	if len(c.sets[capability.AMBIENT]) > 0 {
		if err := p.Apply(capability.AMBIENT); err != nil {
			return fmt.Errorf("capabilities: apply ambient set (each must be permitted and inheritable): %w", err)
		}
	}
	return nil
}
