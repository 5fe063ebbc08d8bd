// Package devcg applies a container's device rules to its cgroup: as
// devices.allow/devices.deny writes on cgroup v1, as an eBPF program of
// type BPF_PROG_TYPE_CGROUP_DEVICE on cgroup v2, and as systemd's
// DevicePolicy/DeviceAllow properties for the systemd driver. Install
// hands these to github.com/opencontainers/cgroups' managers, in place of
// that module's own devices package, which links cilium/ebpf (and through
// it debug/elf, go/format, compress/*) into every berth process for the
// few instructions of the v2 program.
package devcg

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups/devices/config"
)

// A policy is what the kernel keeps for a v1 devices cgroup, and what a v2
// program decides: a default (allow everything, or nothing) and the
// exceptions to it, each a device (wildcards allowed) with the access
// modes the exception covers. The config's rules are applied to it in
// order, as the kernel applies writes to devices.allow and devices.deny.
type policy struct {
	allow  bool
	except map[device]config.Permissions
}

// device is an exception's key: type 'c' or 'b', major and minor
// (config.Wildcard for '*').
type device struct {
	typ          config.Type
	major, minor int64
}

func (d device) String() string {
	return (&config.Rule{Type: d.typ, Major: d.major, Minor: d.minor}).CgroupString()
}

// apply adds one rule, with the kernel's v1 semantics: a rule of type 'a'
// resets the policy to its default (whatever modes it names); a rule whose
// verdict is the default's takes its modes off the device's exception; any
// other adds them to it.
func (p *policy) apply(r *config.Rule) error {
	if !r.Type.CanCgroup() {
		return fmt.Errorf("device rule %q: type %q cannot be a cgroup rule", r.CgroupString(), string(r.Type))
	}
	if r.Type == config.WildcardDevice {
		*p = policy{allow: r.Allow}
		return nil
	}
	if !r.Permissions.IsValid() || r.Permissions.IsEmpty() {
		return fmt.Errorf("device rule %q: access must be made of r, w and m", r.CgroupString())
	}
	for _, n := range []int64{r.Major, r.Minor} {
		if n != config.Wildcard && (n < 0 || n > 1<<31-1) {
			return fmt.Errorf("device rule %q: device number out of range", r.CgroupString())
		}
	}
	d := device{typ: r.Type, major: r.Major, minor: r.Minor}
	if r.Allow == p.allow {
		// Taking modes off one device cannot narrow an exception that
		// also covers it through a wildcard: v1 keeps exceptions as
		// written, so "c 1:* rw" stays whole after "c 1:3 w" the other
		// way, and the rules would not mean what they say.
		if err := p.checkHole(d, r); err != nil {
			return err
		}
	}
	p.write(d, r.Permissions, r.Allow)
	return nil
}

// write is v1's kernel taking one rule that is not of type 'a': modes of
// the default's verdict come off the device's own exception (only an
// exception written for exactly that device), the other verdict's are
// added to it.
func (p *policy) write(d device, modes config.Permissions, allow bool) {
	if allow != p.allow {
		if p.except == nil {
			p.except = make(map[device]config.Permissions)
		}
		p.except[d] = p.except[d].Union(modes)
		return
	}
	if left := p.except[d].Difference(modes); left.IsEmpty() {
		delete(p.except, d)
	} else {
		p.except[d] = left
	}
}

func (p *policy) checkHole(d device, r *config.Rule) error {
	for _, wide := range []device{
		{typ: d.typ, major: config.Wildcard, minor: d.minor},
		{typ: d.typ, major: d.major, minor: config.Wildcard},
		{typ: d.typ, major: config.Wildcard, minor: config.Wildcard},
	} {
		if wide == d {
			continue
		}
		if !p.except[wide].Intersection(r.Permissions).IsEmpty() {
			return fmt.Errorf("device rule %q cannot be applied after %q: a cgroup cannot take modes off part of a wildcard rule", r.CgroupString(), wide.String()+" "+string(p.except[wide]))
		}
	}
	return nil
}

// build is the policy the rules make, starting from v1's and v2's default
// for a cgroup of ours: nothing allowed.
func build(rules []*config.Rule) (policy, error) {
	var p policy
	for _, r := range rules {
		if err := p.apply(r); err != nil {
			return policy{}, err
		}
	}
	return p, nil
}

// devices are the policy's exceptions in a fixed order (major, minor,
// type), so that the writes and the program do not depend on map order.
func (p *policy) devices() []device {
	ds := make([]device, 0, len(p.except))
	for d := range p.except {
		ds = append(ds, d)
	}
	slices.SortFunc(ds, func(a, b device) int {
		return cmp.Or(cmp.Compare(a.major, b.major), cmp.Compare(a.minor, b.minor), cmp.Compare(a.typ, b.typ))
	})
	return ds
}

// transition is the list of v1 writes that turns the cgroup's policy from
// into to. The kernel's devices.list shows no deny exceptions (a cgroup
// that allows by default lists only "a *:* rwm"), so from a default-allow
// policy, or to another default, it starts over with an 'a' rule; from
// a default-deny one it takes off only the modes that go and adds only the
// ones that come, so that a running container never loses access to a
// device it keeps.
func transition(from, to policy) []*config.Rule {
	var out []*config.Rule
	old := from.except
	if from.allow || from.allow != to.allow {
		out = append(out, &config.Rule{Type: config.WildcardDevice, Major: config.Wildcard, Minor: config.Wildcard, Permissions: "rwm", Allow: to.allow})
		old = nil
	}
	for _, d := range (&policy{except: old}).devices() {
		if gone := old[d].Difference(to.except[d]); !gone.IsEmpty() {
			out = append(out, &config.Rule{Type: d.typ, Major: d.major, Minor: d.minor, Permissions: gone, Allow: to.allow})
		}
	}
	for _, d := range to.devices() {
		if come := to.except[d].Difference(old[d]); !come.IsEmpty() {
			out = append(out, &config.Rule{Type: d.typ, Major: d.major, Minor: d.minor, Permissions: come, Allow: !to.allow})
		}
	}
	return out
}

// parseList reads a v1 devices.list: "a *:* rwm" for a cgroup that allows
// by default (its deny exceptions are not shown), otherwise one line per
// allow exception ("c 1:3 rwm", '*' for a wildcard number).
func parseList(list string) (policy, error) {
	var p policy
	for _, line := range strings.Split(list, "\n") {
		if line == "" {
			continue
		}
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == ':' })
		if len(f) != 4 || len(f[0]) != 1 {
			return policy{}, fmt.Errorf("devices.list: malformed line %q", line)
		}
		r := &config.Rule{Type: config.Type(f[0][0]), Permissions: config.Permissions(f[3]), Allow: true}
		if r.Type != config.WildcardDevice && r.Type != config.CharDevice && r.Type != config.BlockDevice {
			return policy{}, fmt.Errorf("devices.list: unknown device type in %q", line)
		}
		for i, s := range f[1:3] {
			n := int64(config.Wildcard)
			if s != "*" {
				v, err := strconv.ParseUint(s, 10, 31)
				if err != nil {
					return policy{}, fmt.Errorf("devices.list: bad device number in %q", line)
				}
				n = int64(v)
			}
			if i == 0 {
				r.Major = n
			} else {
				r.Minor = n
			}
		}
		if err := p.apply(r); err != nil {
			return policy{}, fmt.Errorf("devices.list: %w", err)
		}
	}
	return p, nil
}
