package netdev

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name     string
		template bool
		ok       bool
	}{
		{"eth0", false, true},
		{"a", false, true},
		{"fifteen-bytes-x", false, true},
		{"sixteen-bytes-xx", false, false},
		{"", false, false},
		{".", false, false},
		{"..", false, false},
		{"a/b", false, false},
		{"a:b", false, false},
		{"a b", false, false},
		{"eth%d", true, true},
		{"eth%d", false, false},
		{"eth%s", true, false},
		{"e%d%d", true, false},
	} {
		err := validName(tc.name, tc.template)
		if (err == nil) != tc.ok {
			t.Errorf("validName(%q, %v) = %v, want ok=%v", tc.name, tc.template, err, tc.ok)
		}
	}
}

func TestValidate(t *testing.T) {
	spec := func(ns []specs.LinuxNamespace, devs map[string]specs.LinuxNetDevice) *specs.Spec {
		return &specs.Spec{Linux: &specs.Linux{Namespaces: ns, NetDevices: devs}}
	}
	netNS := []specs.LinuxNamespace{{Type: specs.NetworkNamespace}}
	for _, tc := range []struct {
		what string
		s    *specs.Spec
		want string // "" for no error
	}{
		{"none", spec(nil, nil), ""},
		{"moved into a new namespace", spec(netNS, map[string]specs.LinuxNetDevice{"veth1": {Name: "eth0"}}), ""},
		{"joined by path", spec([]specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/run/netns/x"}}, map[string]specs.LinuxNetDevice{"veth1": {}}), ""},
		{"no network namespace", spec(nil, map[string]specs.LinuxNetDevice{"veth1": {}}), "needs a network namespace"},
		{"bad host name", spec(netNS, map[string]specs.LinuxNetDevice{"a/b": {}}), `interface name "a/b"`},
		{"template as host name", spec(netNS, map[string]specs.LinuxNetDevice{"eth%d": {}}), "template"},
		{"bad new name", spec(netNS, map[string]specs.LinuxNetDevice{"veth1": {Name: "much-too-long-name"}}), `linux.netDevices["veth1"].name`},
		{"template as new name", spec(netNS, map[string]specs.LinuxNetDevice{"veth1": {Name: "eth%d"}}), ""},
	} {
		err := Validate(tc.s)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.what, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want an error with %q", tc.what, err, tc.want)
		}
	}
}

func TestMatchTemplate(t *testing.T) {
	for _, tc := range []struct {
		template, name string
		ok             bool
	}{
		{"eth%d", "eth0", true},
		{"eth%d", "eth12", true},
		{"eth%d", "eth", false},
		{"eth%d", "ethx", false},
		{"eth%d", "veth0", false},
		{"c%dx", "c3x", true},
		{"c%dx", "c3", false},
	} {
		if got := matchTemplate(tc.template, tc.name); got != tc.ok {
			t.Errorf("matchTemplate(%q, %q) = %v", tc.template, tc.name, got)
		}
	}
}

// A move request as the kernel reads it: header, ifinfomsg with the
// index, then the namespace fd and the new name as aligned attributes.
func TestMoveRequestEncoding(t *testing.T) {
	data := ifInfo{index: 7}.encode(uint32Attr(unix.IFLA_NET_NS_FD, 5), stringAttr(unix.IFLA_IFNAME, "eth0"))
	raw := message{typ: unix.RTM_NEWLINK, flags: unix.NLM_F_REQUEST | unix.NLM_F_ACK, seq: 3, data: data}.encode()
	msgs, err := parseMessages(raw)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("parseMessages: %v, %d messages", err, len(msgs))
	}
	m := msgs[0]
	if m.typ != unix.RTM_NEWLINK || m.seq != 3 || int(binary.NativeEndian.Uint32(raw[0:4])) != len(raw) {
		t.Fatalf("header: %+v", m)
	}
	if got := int32(binary.NativeEndian.Uint32(m.data[4:8])); got != 7 {
		t.Errorf("ifi_index %d", got)
	}
	attrs, err := parseAttrs(m.data[ifInfoMsgLen:])
	if err != nil || len(attrs) != 2 {
		t.Fatalf("attrs: %v %v", attrs, err)
	}
	if attrs[0].typ != unix.IFLA_NET_NS_FD || binary.NativeEndian.Uint32(attrs[0].data) != 5 {
		t.Errorf("netns attr %+v", attrs[0])
	}
	if attrs[1].typ != unix.IFLA_IFNAME || cString(attrs[1].data) != "eth0" {
		t.Errorf("name attr %+v", attrs[1])
	}
	if len(m.data)%4 != 0 {
		t.Errorf("payload not 4-aligned: %d", len(m.data))
	}
}

// An address is parsed from the kernel's RTM_NEWADDR and added back on
// another index with its address attributes and the flags an
// administrator set, never the kernel's own.
func TestAddressRoundTrip(t *testing.T) {
	in := make([]byte, ifAddrMsgLen)
	in[0], in[1], in[2], in[3] = unix.AF_INET6, 64, unix.IFA_F_PERMANENT, unix.RT_SCOPE_UNIVERSE
	binary.NativeEndian.PutUint32(in[4:8], 9)
	ip := []byte{0xfd, 0, 1, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
	in = appendAttr(in, attr{unix.IFA_ADDRESS, ip})
	in = appendAttr(in, uint32Attr(unix.IFA_FLAGS, unix.IFA_F_PERMANENT|unix.IFA_F_NODAD|unix.IFA_F_TENTATIVE))
	in = appendAttr(in, stringAttr(unix.IFA_LABEL, "x"))
	a, err := parseAddress(in)
	if err != nil {
		t.Fatal(err)
	}
	if !a.kept() || a.index != 9 || len(a.attrs) != 1 {
		t.Fatalf("parsed %+v", a)
	}
	out := a.encodeOn(4)
	b, err := parseAddress(out)
	if err != nil {
		t.Fatal(err)
	}
	if b.index != 4 || b.prefixLen != 64 || b.family != unix.AF_INET6 || b.flags != unix.IFA_F_NODAD {
		t.Errorf("re-encoded %+v", b)
	}
	if len(b.attrs) != 1 || !bytes.Equal(b.attrs[0].data, ip) {
		t.Errorf("address attrs %+v", b.attrs)
	}
}

func TestKept(t *testing.T) {
	for _, tc := range []struct {
		flags uint32
		scope uint8
		ok    bool
	}{
		{unix.IFA_F_PERMANENT, unix.RT_SCOPE_UNIVERSE, true},
		{0, unix.RT_SCOPE_UNIVERSE, false},                // learnt (SLAAC, DHCP lifetimes)
		{unix.IFA_F_PERMANENT, unix.RT_SCOPE_LINK, false}, // fe80::
		{unix.IFA_F_PERMANENT, unix.RT_SCOPE_HOST, false},
	} {
		if got := (address{flags: tc.flags, scope: tc.scope}).kept(); got != tc.ok {
			t.Errorf("kept(flags %#x, scope %d) = %v", tc.flags, tc.scope, got)
		}
	}
}

func TestParseRejectsTruncated(t *testing.T) {
	if _, err := parseAttrs([]byte{200, 0, 1, 0}); err == nil {
		t.Error("attribute longer than its buffer accepted")
	}
	if _, err := parseMessages([]byte{100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Error("message longer than its buffer accepted")
	}
	if _, err := errnoOf([]byte{1}); err == nil {
		t.Error("short error payload accepted")
	}
}
