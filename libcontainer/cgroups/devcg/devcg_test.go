package devcg

import (
	"encoding/binary"
	"maps"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/devices/config"
)

const w = config.Wildcard

func rule(s string, allow bool) *config.Rule {
	// "c 1:3 rwm" as devices.allow takes it
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ':' })
	num := func(x string) int64 {
		if x == "*" {
			return w
		}
		n := int64(0)
		for _, c := range x {
			n = n*10 + int64(c-'0')
		}
		return n
	}
	return &config.Rule{Type: config.Type(f[0][0]), Major: num(f[1]), Minor: num(f[2]), Permissions: config.Permissions(f[3]), Allow: allow}
}

func writes(rs []*config.Rule) []string {
	var out []string
	for _, r := range rs {
		verb := "deny "
		if r.Allow {
			verb = "allow "
		}
		out = append(out, verb+r.CgroupString())
	}
	return out
}

// The OCI default (deny all, then allow some) written to a fresh v1
// cgroup, which inherits "a *:* rwm" from its parent.
func TestTransitionFromFreshCgroup(t *testing.T) {
	want, err := build([]*config.Rule{rule("a *:* rwm", false), rule("c 1:3 rwm", true), rule("c *:* m", true), rule("c 136:* rw", true), rule("c 1:3 w", false)})
	if err != nil {
		t.Fatal(err)
	}
	have, err := parseList("a *:* rwm\n")
	if err != nil {
		t.Fatal(err)
	}
	got := writes(transition(have, want))
	exp := []string{"deny a *:* rwm", "allow c *:* m", "allow c 1:3 rm", "allow c 136:* rw"}
	if !slices.Equal(got, exp) {
		t.Fatalf("writes %q, want %q", got, exp)
	}
}

// From a default-deny cgroup only the difference is written: a device
// the container keeps is never taken away, even for a moment.
func TestTransitionKeepsWhatStays(t *testing.T) {
	have, err := parseList("c 1:3 rwm\nc 1:5 rw\nb 8:* r\n")
	if err != nil {
		t.Fatal(err)
	}
	want, err := build([]*config.Rule{rule("a *:* rwm", false), rule("c 1:3 rwm", true), rule("c 1:5 r", true), rule("c 10:200 rwm", true)})
	if err != nil {
		t.Fatal(err)
	}
	got := writes(transition(have, want))
	exp := []string{"deny c 1:5 w", "deny b 8:* r", "allow c 10:200 rwm"}
	if !slices.Equal(got, exp) {
		t.Fatalf("writes %q, want %q", got, exp)
	}
}

// Replayed on the policy it starts from, as the kernel takes them (write),
// a transition's writes always end at the target (a v1 cgroup's state is
// exactly what the policy models); checked over random rule lists.
func TestTransitionReplaysToTarget(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	randRules := func() []*config.Rule {
		var rs []*config.Rule
		for range rng.Intn(12) {
			r := &config.Rule{Type: []config.Type{'c', 'b', 'a'}[rng.Intn(3)], Major: int64(rng.Intn(3)) - 1, Minor: int64(rng.Intn(3)) - 1, Allow: rng.Intn(2) == 0}
			r.Permissions = []config.Permissions{"r", "w", "m", "rw", "rm", "wm", "rwm"}[rng.Intn(7)]
			if r.Type == 'a' {
				r.Major, r.Minor, r.Permissions = w, w, "rwm"
			}
			rs = append(rs, r)
		}
		return rs
	}
	checked := 0
	for range 3000 {
		from, err1 := build(randRules())
		to, err2 := build(randRules())
		if err1 != nil || err2 != nil {
			continue // a list v1 cannot hold (a hole in a wildcard)
		}
		cur := policy{allow: from.allow, except: maps.Clone(from.except)}
		for _, r := range transition(from, to) {
			if r.Type == config.WildcardDevice {
				cur = policy{allow: r.Allow}
				continue
			}
			cur.write(device{r.Type, r.Major, r.Minor}, r.Permissions, r.Allow)
		}
		if cur.allow != to.allow || !maps.Equal(cur.except, to.except) {
			t.Fatalf("from %+v to %+v: replay ends at %+v", from, to, cur)
		}
		checked++
	}
	if checked < 1000 {
		t.Fatalf("only %d random pairs were valid", checked)
	}
}

func TestApplyRefusals(t *testing.T) {
	for _, tc := range []struct {
		rules []*config.Rule
		want  string
	}{
		{[]*config.Rule{rule("a *:* rwm", false), rule("c 1:* rw", true), rule("c 1:3 w", false)}, "wildcard"},
		{[]*config.Rule{{Type: 'p', Major: 1, Minor: 1, Permissions: "rwm", Allow: true}}, "cannot be a cgroup rule"},
		{[]*config.Rule{rule("c 1:3 rx", true)}, "access must be made of"},
		{[]*config.Rule{{Type: 'c', Major: 1, Minor: 1, Permissions: "", Allow: true}}, "access must be made of"},
		{[]*config.Rule{{Type: 'c', Major: 1 << 32, Minor: 1, Permissions: "r", Allow: true}}, "out of range"},
		{[]*config.Rule{{Type: 'c', Major: -2, Minor: 1, Permissions: "r", Allow: true}}, "out of range"},
	} {
		if _, err := build(tc.rules); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", writes(tc.rules), err, tc.want)
		}
	}
}

func TestParseList(t *testing.T) {
	p, err := parseList("c 1:3 rwm\nc *:* m\nb 8:* rw\n")
	if err != nil {
		t.Fatal(err)
	}
	if p.allow || len(p.except) != 3 || p.except[device{'b', 8, w}] != "rw" {
		t.Fatalf("parsed %+v", p)
	}
	if p, err = parseList("a *:* rwm\n"); err != nil || !p.allow || len(p.except) != 0 {
		t.Fatalf("allow-all list parsed as %+v, %v", p, err)
	}
	if p, err = parseList(""); err != nil || p.allow || len(p.except) != 0 {
		t.Fatalf("empty list parsed as %+v, %v", p, err)
	}
	for _, bad := range []string{"c 1:3\n", "x 1:3 rwm\n", "c 1:y rwm\n", "c 1:3 rwx\n", "c 99999999999:3 r\n"} {
		if _, err := parseList(bad); err == nil {
			t.Errorf("parseList(%q) accepted", bad)
		}
	}
}

// run interprets the program as the kernel would for one access: the
// instructions program emits, and nothing else (any other is a failure).
func run(t *testing.T, code []byte, typ, access, major, minor uint32) uint32 {
	t.Helper()
	ctx := [3]uint32{access<<16 | typ, major, minor}
	var reg [11]uint64
	for pc := 0; pc < len(code)/8; pc++ {
		b := code[8*pc:]
		op, dst, src := b[0], b[1]&0xf, b[1]>>4
		off := int(int16(binary.LittleEndian.Uint16(b[2:])))
		imm := int32(binary.LittleEndian.Uint32(b[4:]))
		switch op {
		case opLdxMemW:
			if src != 1 || off%4 != 0 || off < 0 || off > 8 {
				t.Fatalf("pc %d: load outside the context", pc)
			}
			reg[dst] = uint64(ctx[off/4])
		case opAnd32Imm:
			reg[dst] = uint64(uint32(reg[dst]) & uint32(imm))
		case opRsh32Imm:
			reg[dst] = uint64(uint32(reg[dst]) >> uint32(imm))
		case opMov32Reg:
			reg[dst] = uint64(uint32(reg[src]))
		case opMov32Imm:
			reg[dst] = uint64(uint32(imm))
		case opJneImm, opJeqImm, opJneReg:
			v := uint64(int64(imm))
			if op == opJneReg {
				v = reg[src]
			}
			if (reg[dst] != v) == (op != opJeqImm) {
				pc += off
			}
		case opExit:
			return uint32(reg[0])
		default:
			t.Fatalf("pc %d: unexpected op %#x", pc, op)
		}
	}
	t.Fatal("program ran off its end")
	return 0
}

// The v2 program gives the v1 kernel's verdict (permits) for every access
// to every device of a grid, for the OCI default rules, for a deny list,
// and for random rule lists.
func TestProgramAgreesWithPolicy(t *testing.T) {
	lists := [][]*config.Rule{
		{rule("a *:* rwm", false), rule("c *:* m", true), rule("b *:* m", true), rule("c 1:3 rwm", true), rule("c 1:5 rw", true), rule("c 136:* rwm", true), rule("c 5:2 r", true)},
		{rule("a *:* rwm", true), rule("c 1:3 w", false), rule("b 8:* rwm", false), rule("c *:7 m", false)},
		{rule("a *:* rwm", true)},
		{rule("a *:* rwm", false)},
	}
	rng := rand.New(rand.NewSource(2))
	for len(lists) < 300 {
		var rs []*config.Rule
		for range rng.Intn(8) {
			r := &config.Rule{Type: []config.Type{'c', 'b', 'a'}[rng.Intn(3)], Major: int64(rng.Intn(4)) - 1, Minor: int64(rng.Intn(4)) - 1, Allow: rng.Intn(2) == 0}
			r.Permissions = []config.Permissions{"r", "w", "m", "rw", "rm", "wm", "rwm"}[rng.Intn(7)]
			rs = append(rs, r)
		}
		if _, err := build(rs); err == nil {
			lists = append(lists, rs)
		}
	}
	perms := []config.Permissions{"r", "w", "m", "rw", "rm", "wm", "rwm"}
	for _, rs := range lists {
		p, _ := build(rs)
		prog, err := program(p)
		if err != nil {
			t.Fatal(err)
		}
		code := encode(prog)
		for _, typ := range []config.Type{'c', 'b'} {
			bt := uint32(devcgChar)
			if typ == 'b' {
				bt = devcgBlock
			}
			for _, major := range []int64{0, 1, 2, 5, 8, 136} {
				for _, minor := range []int64{0, 1, 2, 3, 5, 7} {
					for _, acc := range perms {
						got := run(t, code, bt, uint32(accessBits(acc)), uint32(major), uint32(minor)) == 1
						if want := p.permits(typ, major, minor, acc); got != want {
							t.Fatalf("rules %q: %c %d:%d %s: program says %v, policy %v", writes(rs), typ, major, minor, acc, got, want)
						}
					}
				}
			}
		}
	}
}

func TestEncodeLayout(t *testing.T) {
	code := encode([]insn{{op: opJneImm, dst: 4, src: 3, off: -2, imm: 136}})
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("big-endian layout is not checked on this machine")
	}
	want := []byte{0x55, 0x34, 0xfe, 0xff, 136, 0, 0, 0}
	if !slices.Equal(code, want) {
		t.Fatalf("encoded % x, want % x", code, want)
	}
}

func TestSystemdProperties(t *testing.T) {
	r := &cgroups.Resources{Devices: []*config.Rule{rule("a *:* rwm", false), rule("c 1:3 rwm", true), rule("c 136:* rw", true), rule("b *:* m", true), rule("c *:4 r", true)}}
	ps, err := SystemdProperties(r, 252)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[1].Name != "DevicePolicy" || ps[1].Value.Value() != "strict" {
		t.Fatalf("properties %v", ps)
	}
	got := ps[2].Value.Value().([]deviceAllow)
	want := []deviceAllow{{"block-*", "m"}, {"/dev/char/1:3", "rwm"}, {"char-136", "rw"}}
	if !slices.Equal(got, want) {
		t.Fatalf("DeviceAllow %v, want %v", got, want)
	}
	ps, err = SystemdProperties(&cgroups.Resources{Devices: []*config.Rule{rule("a *:* rwm", true)}}, 252)
	if err != nil || ps[1].Value.Value() != "auto" {
		t.Fatalf("allow-all: %v, %v", ps, err)
	}
	ps, err = SystemdProperties(&cgroups.Resources{Devices: []*config.Rule{rule("a *:* rwm", true), rule("c 1:3 w", false)}}, 252)
	if err != nil || ps[1].Value.Value() != "strict" || len(ps[2].Value.Value().([]deviceAllow)) != 0 {
		t.Fatalf("deny list: %v, %v", ps, err)
	}
	if ps, err := SystemdProperties(&cgroups.Resources{SkipDevices: true, Devices: r.Devices}, 252); ps != nil || err != nil {
		t.Fatalf("SkipDevices: %v, %v", ps, err)
	}
}

func TestSystemdPathOldSystemd(t *testing.T) {
	// /proc/devices names major 1 "mem" on every Linux.
	if p, err := systemdPath(device{'c', 1, w}, 239); err != nil || p != "char-mem" {
		t.Fatalf("c 1:* for systemd 239: %q, %v", p, err)
	}
	if p, err := systemdPath(device{'c', 4095, w}, 239); err != nil || p != "" {
		t.Fatalf("unknown major for systemd 239: %q, %v", p, err)
	}
}

// permits is the policy's verdict on an access (a set of modes) to one
// device, as v1's kernel gives it: with a default of deny, one allow
// exception must cover every mode asked for; with a default of allow, a
// deny exception that covers any of them refuses the access. The v2
// program is checked against it.
func (p *policy) permits(typ config.Type, major, minor int64, access config.Permissions) bool {
	for d, modes := range p.except {
		if d.typ != typ || (d.major != config.Wildcard && d.major != major) || (d.minor != config.Wildcard && d.minor != minor) {
			continue
		}
		if p.allow && !modes.Intersection(access).IsEmpty() {
			return false
		}
		if !p.allow && access.Difference(modes).IsEmpty() {
			return true
		}
	}
	return p.allow
}
