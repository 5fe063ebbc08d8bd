// Package caps applies an OCI process's capability sets to the calling
// thread. Callers lock the OS thread: capabilities are per thread and the
// thread that applies them is the one that must execve.
package caps

import (
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

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
// ambient set without inheritable, a capability this kernel lacks). It
// returns what Parse kept.
func Warn(c *specs.LinuxCapabilities) *Caps {
	parsed, warnings := Parse(c)
	for _, w := range warnings {
		logrus.Warn(w)
	}
	return parsed
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
	return c.mask(capability.BOUNDING), c.mask(capability.EFFECTIVE), c.mask(capability.PERMITTED),
		c.mask(capability.INHERITABLE), c.mask(capability.AMBIENT), uint32(l), nil
}

// mask is the set which as a bit mask.
func (c *Caps) mask(which capability.CapType) uint64 {
	var m uint64
	for _, v := range c.sets[which] {
		m |= 1 << uint(v)
	}
	return m
}

// Grantable refuses, at create, sets that init could not apply at start:
// the kernel's capset(2) rules, applied to what init holds by then. So a
// config that cannot run fails before anything is made, as under runc,
// whose init applies the sets before create returns, and not at start.
// userNS: the container has a user namespace (new or joined), in which
// init holds every capability and no inheritable one. Without one, init
// is exec'd by berth, and an execve leaves a process no capability
// outside its bounding set and its inheritable set, which it keeps:
// berth's. Only what is outside both is refused, which holds whatever
// the execve grants (root's rule, SECBIT_NOROOT, file capabilities).
func (c *Caps) Grantable(userNS bool) error {
	if c == nil {
		return nil
	}
	if userNS {
		return c.grantable(func(int) bool { return true }, 0)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return nil // start will say
	}
	own := uint64(data[0].Permitted) | uint64(data[1].Permitted)<<32
	inh := uint64(data[0].Inheritable) | uint64(data[1].Inheritable)<<32
	// berth's own permitted set is within its bounding set and its
	// inheritable set (its own execve): one capget answers for a
	// config within it, and the bounding set is read only past it.
	inBounding := func(v int) bool {
		if own&^inh&(1<<uint(v)) != 0 {
			return true
		}
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(v), 0, 0, 0)
		return err != nil || in == 1 // unreadable: not refused here
	}
	return c.grantable(inBounding, inh)
}

// grantable applies capset(2)'s rules to the final sets, for an init
// whose bounding set holds the capabilities inBounding reports, whose
// inheritable set is inh, and whose permitted set is within both, and
// which first drops its bounding set to the config's: permitted cannot
// grow; effective must be permitted; inheritable must be in the old
// inheritable set or the (new) bounding set.
func (c *Caps) grantable(inBounding func(int) bool, inh uint64) error {
	bounding, effective, permitted, inheritable := c.mask(capability.BOUNDING), c.mask(capability.EFFECTIVE), c.mask(capability.PERMITTED), c.mask(capability.INHERITABLE)
	name := func(v int) string { return "CAP_" + strings.ToUpper(capability.Cap(v).String()) }
	for v := range 64 {
		if permitted&^inh&(1<<uint(v)) != 0 && !inBounding(v) {
			return fmt.Errorf("process.capabilities.permitted: %s cannot be granted: berth's own bounding set lacks it, and the container has no user namespace of its own", name(v))
		}
	}
	if extra := effective &^ permitted; extra != 0 {
		return fmt.Errorf("process.capabilities.effective: %s is not in process.capabilities.permitted (the kernel refuses an effective capability that is not permitted)", name(bits.TrailingZeros64(extra)))
	}
	for v := range 64 {
		if inheritable&^inh&(1<<uint(v)) == 0 {
			continue
		}
		if bounding&(1<<uint(v)) == 0 {
			return fmt.Errorf("process.capabilities.inheritable: %s is not in process.capabilities.bounding (the kernel refuses an inheritable capability outside the bounding set)", name(v))
		}
		if !inBounding(v) {
			return fmt.Errorf("process.capabilities.inheritable: %s cannot be granted: berth's own bounding set lacks it, and the container has no user namespace of its own", name(v))
		}
	}
	return nil
}
