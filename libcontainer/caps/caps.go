// Package caps applies an OCI process's capability sets to the calling
// thread. Callers lock the OS thread: capabilities are per thread and the
// thread that applies them is the one that must execve.
package caps

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

// Caps holds the parsed sets of a process.
type Caps struct {
	sets map[capability.CapType][]capability.Cap
}

// Parse converts the OCI capability names as runc does: names unknown to
// berth or to the running kernel are left out, and so is an ambient
// capability that is not both permitted and inheritable (the kernel
// refuses to raise it). Each is reported in the returned warnings, which
// the runtime logs (Warn); init applies what is left.
func Parse(c *specs.LinuxCapabilities) (*Caps, []string) {
	if c == nil {
		return nil, nil
	}
	// Known to the library but not to this kernel: the kernel would
	// refuse the whole set. Without /proc, assume it knows them all.
	last, err := capability.LastCap()
	if err != nil {
		known := capability.ListKnown()
		last = known[len(known)-1]
	}
	parsed := &Caps{sets: map[capability.CapType][]capability.Cap{}}
	unknown := map[string]bool{}
	for which, names := range map[capability.CapType][]string{
		capability.BOUNDING:    c.Bounding,
		capability.EFFECTIVE:   c.Effective,
		capability.PERMITTED:   c.Permitted,
		capability.INHERITABLE: c.Inheritable,
		capability.AMBIENT:     c.Ambient,
	} {
		for _, n := range names {
			v, err := configs.CapabilityValue(n)
			if err != nil || v > last {
				unknown[n] = true
				continue
			}
			parsed.sets[which] = append(parsed.sets[which], v)
		}
	}
	var warnings []string
	if len(unknown) > 0 {
		warnings = append(warnings, fmt.Sprintf("ignoring unknown or unavailable capabilities: %v", slices.Sorted(maps.Keys(unknown))))
	}
	var ambient []capability.Cap
	for _, v := range parsed.sets[capability.AMBIENT] {
		if slices.Contains(parsed.sets[capability.PERMITTED], v) && slices.Contains(parsed.sets[capability.INHERITABLE], v) {
			ambient = append(ambient, v)
			continue
		}
		warnings = append(warnings, fmt.Sprintf("can't raise ambient capability CAP_%s: operation not permitted (it is not both permitted and inheritable)", strings.ToUpper(v.String())))
	}
	parsed.sets[capability.AMBIENT] = ambient
	return parsed, warnings
}

// Warn logs, as warnings, what Parse leaves out of c: runc's behaviour
// for a config it can run but not exactly as written (a runc 1.1 spec's
// ambient set without inheritable, a capability this kernel lacks).
func Warn(c *specs.LinuxCapabilities) {
	_, warnings := Parse(c)
	for _, w := range warnings {
		logrus.Warn(w)
	}
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
		return ReadError(err)
	}
	p.Clear(capability.BOUNDING)
	p.Set(capability.BOUNDING, c.sets[capability.BOUNDING]...)
	if err := p.Apply(capability.BOUNDING); err != nil {
		return BoundingError(err)
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
		return ReadError(err)
	}
	p.Clear(capability.CAPS | capability.AMBIENT)
	for _, which := range []capability.CapType{capability.EFFECTIVE, capability.PERMITTED, capability.INHERITABLE, capability.AMBIENT} {
		p.Set(which, c.sets[which]...)
	}
	if err := p.Apply(capability.CAPS); err != nil {
		return ApplyError(err)
	}
	// Parse kept only ambient capabilities that are permitted and
	// inheritable, which the kernel accepts.
	if len(c.sets[capability.AMBIENT]) > 0 {
		if err := p.Apply(capability.AMBIENT); err != nil {
			return AmbientError(err)
		}
	}
	return nil
}

// The errors of ApplyBounding and ApplyFinal: reading the process's
// capabilities (or the kernel's last one), dropping the bounding set,
// setting the effective, permitted and inheritable sets, raising the
// ambient set. A direct exec, which applies Masks in C, fails with them
// too (libcontainer/execerr.go).
func ReadError(err error) error     { return fmt.Errorf("capabilities: %w", err) }
func BoundingError(err error) error { return fmt.Errorf("capabilities: apply bounding set: %w", err) }
func ApplyError(err error) error    { return fmt.Errorf("capabilities: apply: %w", err) }
func AmbientError(err error) error  { return fmt.Errorf("capabilities: apply ambient set: %w", err) }

// Masks returns the sets as bit masks, for a process that applies them
// without this package (a direct exec), and the kernel's last capability.
func (c *Caps) Masks() (bounding, effective, permitted, inheritable, ambient uint64, last uint32, err error) {
	l, err := capability.LastCap()
	if err != nil {
		return 0, 0, 0, 0, 0, 0, ReadError(err)
	}
	mask := func(which capability.CapType) uint64 {
		var m uint64
		for _, v := range c.sets[which] {
			m |= 1 << uint(v)
		}
		return m
	}
	return mask(capability.BOUNDING), mask(capability.EFFECTIVE), mask(capability.PERMITTED),
		mask(capability.INHERITABLE), mask(capability.AMBIENT), uint32(l), nil
}
