// Package netdev moves host network devices into a container's network
// namespace (linux.netDevices), over rtnetlink: no ip(8), no netlink
// library. The messages are built and parsed by pure functions (tested
// without root); conn only sends them.
package netdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Sizes of the fixed headers (linux/netlink.h, linux/rtnetlink.h,
// linux/if_addr.h).
const (
	nlmsgHdrLen  = 16 // struct nlmsghdr
	ifInfoMsgLen = 16 // struct ifinfomsg
	ifAddrMsgLen = 8  // struct ifaddrmsg
	rtaHdrLen    = 4  // struct rtattr
)

func align4(n int) int { return (n + 3) &^ 3 }

// attr is one rtnetlink attribute.
type attr struct {
	typ  uint16
	data []byte
}

func appendAttr(b []byte, a attr) []byte {
	n := rtaHdrLen + len(a.data)
	b = binary.NativeEndian.AppendUint16(b, uint16(n))
	b = binary.NativeEndian.AppendUint16(b, a.typ)
	b = append(b, a.data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func stringAttr(typ uint16, s string) attr {
	return attr{typ, append([]byte(s), 0)}
}

func uint32Attr(typ uint16, v uint32) attr {
	return attr{typ, binary.NativeEndian.AppendUint32(nil, v)}
}

// parseAttrs splits b into attributes; a truncated one is an error.
func parseAttrs(b []byte) ([]attr, error) {
	var out []attr
	for len(b) >= rtaHdrLen {
		n := int(binary.NativeEndian.Uint16(b[0:2]))
		if n < rtaHdrLen || n > len(b) {
			return nil, fmt.Errorf("netlink: bad attribute length %d", n)
		}
		out = append(out, attr{binary.NativeEndian.Uint16(b[2:4]) &^ unix.NLA_F_NESTED, b[rtaHdrLen:n]})
		b = b[min(align4(n), len(b)):]
	}
	return out, nil
}

// message is one netlink message: header fields and payload.
type message struct {
	typ   uint16
	flags uint16
	seq   uint32
	data  []byte
}

func (m message) encode() []byte {
	b := make([]byte, 0, nlmsgHdrLen+len(m.data))
	b = binary.NativeEndian.AppendUint32(b, uint32(nlmsgHdrLen+len(m.data)))
	b = binary.NativeEndian.AppendUint16(b, m.typ)
	b = binary.NativeEndian.AppendUint16(b, m.flags)
	b = binary.NativeEndian.AppendUint32(b, m.seq)
	b = binary.NativeEndian.AppendUint32(b, 0) // port id: the kernel fills it
	return append(b, m.data...)
}

// parseMessages splits one datagram from the kernel into messages.
func parseMessages(b []byte) ([]message, error) {
	var out []message
	for len(b) >= nlmsgHdrLen {
		n := int(binary.NativeEndian.Uint32(b[0:4]))
		if n < nlmsgHdrLen || n > len(b) {
			return nil, fmt.Errorf("netlink: bad message length %d", n)
		}
		out = append(out, message{
			typ:   binary.NativeEndian.Uint16(b[4:6]),
			flags: binary.NativeEndian.Uint16(b[6:8]),
			seq:   binary.NativeEndian.Uint32(b[8:12]),
			data:  b[nlmsgHdrLen:n],
		})
		b = b[min(align4(n), len(b)):]
	}
	return out, nil
}

// errnoOf reads an NLMSG_ERROR payload: 0 is the kernel's ack.
func errnoOf(data []byte) (unix.Errno, error) {
	if len(data) < 4 {
		return 0, errors.New("netlink: short error message")
	}
	code := int32(binary.NativeEndian.Uint32(data[0:4]))
	return unix.Errno(-code), nil
}

// ifInfo is struct ifinfomsg.
type ifInfo struct {
	index  int32
	flags  uint32
	change uint32
}

func (i ifInfo) encode(attrs ...attr) []byte {
	b := make([]byte, ifInfoMsgLen, 64)
	b[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint32(b[4:8], uint32(i.index))
	binary.NativeEndian.PutUint32(b[8:12], i.flags)
	binary.NativeEndian.PutUint32(b[12:16], i.change)
	for _, a := range attrs {
		b = appendAttr(b, a)
	}
	return b
}

// link is what a link message says about a device.
type link struct {
	index int32
	name  string
	mac   []byte
}

func parseLink(data []byte) (link, error) {
	if len(data) < ifInfoMsgLen {
		return link{}, errors.New("netlink: short link message")
	}
	l := link{index: int32(binary.NativeEndian.Uint32(data[4:8]))}
	attrs, err := parseAttrs(data[ifInfoMsgLen:])
	if err != nil {
		return link{}, err
	}
	for _, a := range attrs {
		switch a.typ {
		case unix.IFLA_IFNAME:
			l.name = cString(a.data)
		case unix.IFLA_ADDRESS:
			l.mac = append([]byte(nil), a.data...)
		}
	}
	return l, nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// address is one interface address as the kernel reported it: the
// ifaddrmsg fields and the attributes needed to add it again elsewhere.
type address struct {
	family    uint8
	prefixLen uint8
	flags     uint32 // IFA_FLAGS when present, else ifa_flags
	scope     uint8
	index     int32
	attrs     []attr // IFA_LOCAL, IFA_ADDRESS, IFA_BROADCAST
}

func parseAddress(data []byte) (address, error) {
	if len(data) < ifAddrMsgLen {
		return address{}, errors.New("netlink: short address message")
	}
	a := address{
		family: data[0], prefixLen: data[1], flags: uint32(data[2]), scope: data[3],
		index: int32(binary.NativeEndian.Uint32(data[4:8])),
	}
	attrs, err := parseAttrs(data[ifAddrMsgLen:])
	if err != nil {
		return address{}, err
	}
	for _, at := range attrs {
		switch at.typ {
		case unix.IFA_FLAGS:
			if len(at.data) >= 4 {
				a.flags = binary.NativeEndian.Uint32(at.data)
			}
		case unix.IFA_LOCAL, unix.IFA_ADDRESS, unix.IFA_BROADCAST:
			a.attrs = append(a.attrs, attr{at.typ, append([]byte(nil), at.data...)})
		}
	}
	return a, nil
}

// kept says whether an address goes along with its device, as the spec
// says: permanent (configured, not learnt) and of global scope.
func (a address) kept() bool {
	return a.flags&unix.IFA_F_PERMANENT != 0 && a.scope == unix.RT_SCOPE_UNIVERSE
}

// carriedFlags are the address flags an administrator sets (ip-address(8)
// nodad, noprefixroute, ...), kept across the move; the kernel sets the
// others (permanent, tentative, ...) itself.
const carriedFlags = unix.IFA_F_NODAD | unix.IFA_F_HOMEADDRESS | unix.IFA_F_MANAGETEMPADDR |
	unix.IFA_F_NOPREFIXROUTE | unix.IFA_F_MCAUTOJOIN

// encodeOn builds the RTM_NEWADDR payload that adds a on device index.
func (a address) encodeOn(index int32) []byte {
	b := make([]byte, ifAddrMsgLen, 64)
	b[0], b[1], b[3] = a.family, a.prefixLen, a.scope
	binary.NativeEndian.PutUint32(b[4:8], uint32(index))
	for _, at := range a.attrs {
		b = appendAttr(b, at)
	}
	if f := a.flags & carriedFlags; f != 0 {
		b = appendAttr(b, uint32Attr(unix.IFA_FLAGS, f))
	}
	return b
}

// conn is a NETLINK_ROUTE socket, bound to the network namespace it was
// made in.
type conn struct {
	fd  int
	seq atomic.Uint32
}

func newConn() (*conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	return &conn{fd: fd}, nil
}

func (c *conn) close() { unix.Close(c.fd) }

// request sends one message and collects the replies: until the ack for
// a plain request, until NLMSG_DONE for a dump.
func (c *conn) request(typ, flags uint16, data []byte) ([]message, error) {
	seq := c.seq.Add(1)
	m := message{typ: typ, flags: flags | unix.NLM_F_REQUEST | unix.NLM_F_ACK, seq: seq, data: data}
	if err := unix.Sendto(c.fd, m.encode(), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink send: %w", err)
	}
	dump := flags&unix.NLM_F_DUMP == unix.NLM_F_DUMP
	var out []message
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(c.fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("netlink receive: %w", err)
		}
		msgs, err := parseMessages(buf[:n])
		if err != nil {
			return nil, err
		}
		for _, r := range msgs {
			if r.seq != seq {
				continue
			}
			switch r.typ {
			case unix.NLMSG_ERROR:
				errno, err := errnoOf(r.data)
				if err != nil {
					return nil, err
				}
				if errno != 0 {
					return nil, errno
				}
				if !dump {
					return out, nil
				}
			case unix.NLMSG_DONE:
				return out, nil
			default:
				out = append(out, message{typ: r.typ, data: append([]byte(nil), r.data...)})
			}
		}
	}
}

// linkByName asks for one device by name.
func (c *conn) linkByName(name string) (link, error) {
	msgs, err := c.request(unix.RTM_GETLINK, 0, ifInfo{}.encode(stringAttr(unix.IFLA_IFNAME, name)))
	if err != nil {
		return link{}, err
	}
	for _, m := range msgs {
		if m.typ == unix.RTM_NEWLINK {
			return parseLink(m.data)
		}
	}
	return link{}, unix.ENODEV
}

func (c *conn) links() ([]link, error) {
	msgs, err := c.request(unix.RTM_GETLINK, unix.NLM_F_DUMP, ifInfo{}.encode())
	if err != nil {
		return nil, err
	}
	var out []link
	for _, m := range msgs {
		if m.typ != unix.RTM_NEWLINK {
			continue
		}
		l, err := parseLink(m.data)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// addresses lists the addresses of device index.
func (c *conn) addresses(index int32) ([]address, error) {
	msgs, err := c.request(unix.RTM_GETADDR, unix.NLM_F_DUMP, make([]byte, ifAddrMsgLen))
	if err != nil {
		return nil, err
	}
	var out []address
	for _, m := range msgs {
		if m.typ != unix.RTM_NEWADDR {
			continue
		}
		a, err := parseAddress(m.data)
		if err != nil {
			return nil, err
		}
		if a.index == index {
			out = append(out, a)
		}
	}
	return out, nil
}
