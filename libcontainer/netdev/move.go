package netdev

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Validate checks linux.netDevices without touching the host: a network
// namespace to move into, and names the kernel accepts.
func Validate(spec *specs.Spec) error {
	if spec.Linux == nil || len(spec.Linux.NetDevices) == 0 {
		return nil
	}
	hasNet := slices.ContainsFunc(spec.Linux.Namespaces, func(n specs.LinuxNamespace) bool {
		return n.Type == specs.NetworkNamespace
	})
	if !hasNet {
		return errors.New("linux.netDevices: needs a network namespace in linux.namespaces (the devices would stay in the host's)")
	}
	for host, d := range spec.Linux.NetDevices {
		if err := validName(host, false); err != nil {
			return fmt.Errorf("linux.netDevices: %w", err)
		}
		if d.Name != "" {
			if err := validName(d.Name, true); err != nil {
				return fmt.Errorf("linux.netDevices[%q].name: %w", host, err)
			}
		}
	}
	return nil
}

// validName applies the kernel's rules for an interface name
// (dev_valid_name): 1 to 15 bytes, not "." or "..", no '/', ':' or
// white space. A template for the new name may hold one "%d".
func validName(name string, template bool) error {
	switch {
	case name == "" || len(name) >= unix.IFNAMSIZ:
		return fmt.Errorf("interface name %q: must be 1 to %d bytes", name, unix.IFNAMSIZ-1)
	case name == "." || name == "..":
		return fmt.Errorf("interface name %q is not allowed", name)
	case strings.ContainsAny(name, "/: \t\n\v\f\r"):
		return fmt.Errorf("interface name %q: no '/', ':' or white space", name)
	case strings.Contains(name, "%") && (!template || strings.Count(name, "%") != 1 || !strings.Contains(name, "%d")):
		return fmt.Errorf("interface name %q: '%%' only as one \"%%d\" template in a new name", name)
	}
	return nil
}

// Move moves each device of devs from the caller's network namespace into
// the one nsFd refers to, renamed when the entry has a name; then, in
// there, adds back its permanent global addresses (the move drops them)
// and sets it up, as the spec asks. Devices go in name order. Nothing is
// moved back on failure: the caller ends the namespace, and the kernel
// returns physical devices to the initial namespace and destroys virtual
// ones, which is what the spec wants on deletion too.
func Move(devs map[string]specs.LinuxNetDevice, nsFd int) error {
	if len(devs) == 0 {
		return nil
	}
	if err := notOwnNamespace(nsFd); err != nil {
		return err
	}
	host, err := newConn()
	if err != nil {
		return err
	}
	defer host.close()
	inside, err := connIn(nsFd)
	if err != nil {
		return err
	}
	defer inside.close()
	names := make([]string, 0, len(devs))
	for n := range devs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := moveOne(host, inside, n, devs[n].Name, nsFd); err != nil {
			return fmt.Errorf("linux.netDevices: %w", err)
		}
	}
	return nil
}

func moveOne(host, inside *conn, hostName, newName string, nsFd int) error {
	if newName == "" {
		newName = hostName
	}
	l, err := host.linkByName(hostName)
	if err != nil {
		if errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("device %q: no such device in the runtime's network namespace", hostName)
		}
		return fmt.Errorf("device %q: %w", hostName, err)
	}
	// The kernel moves first and renames after, so a taken name would
	// fail only once the device has left the host (and a virtual one
	// would then be destroyed with the namespace): check before.
	if !strings.Contains(newName, "%d") {
		if _, err := inside.linkByName(newName); err == nil {
			return fmt.Errorf("move device %q into the container's network namespace as %q: a device of that name exists there", hostName, newName)
		} else if !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("device %q: look for %q in the container's network namespace: %w", hostName, newName, err)
		}
	}
	addrs, err := host.addresses(l.index)
	if err != nil {
		return fmt.Errorf("device %q: list addresses: %w", hostName, err)
	}
	// Rename and move in one request: a rename alone could clash with a
	// name on the host.
	req := ifInfo{index: l.index}.encode(uint32Attr(unix.IFLA_NET_NS_FD, uint32(nsFd)), stringAttr(unix.IFLA_IFNAME, newName))
	if _, err := host.request(unix.RTM_NEWLINK, 0, req); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("move device %q into the container's network namespace as %q: a device of that name exists there", hostName, newName)
		}
		return fmt.Errorf("move device %q into the container's network namespace as %q: %w", hostName, newName, err)
	}
	moved, err := findMoved(inside, newName, l.mac)
	if err != nil {
		return fmt.Errorf("device %q, moved as %q: %w", hostName, newName, err)
	}
	for _, a := range addrs {
		if !a.kept() {
			continue
		}
		if _, err := inside.request(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, a.encodeOn(moved.index)); err != nil {
			return fmt.Errorf("device %q: add its address back in the container's network namespace: %w", moved.name, err)
		}
	}
	up := ifInfo{index: moved.index, flags: unix.IFF_UP, change: unix.IFF_UP}.encode()
	if _, err := inside.request(unix.RTM_NEWLINK, 0, up); err != nil {
		return fmt.Errorf("device %q: set up: %w", moved.name, err)
	}
	return nil
}

// findMoved finds a moved device in its new namespace: by name, or for a
// "%d" template, the device of that pattern with the same hardware
// address.
func findMoved(c *conn, name string, mac []byte) (link, error) {
	if !strings.Contains(name, "%d") {
		return c.linkByName(name)
	}
	links, err := c.links()
	if err != nil {
		return link{}, err
	}
	for _, l := range links {
		if matchTemplate(name, l.name) && bytes.Equal(l.mac, mac) {
			return l, nil
		}
	}
	return link{}, errors.New("not found after the move")
}

// matchTemplate says whether name is what the kernel makes of a "%d"
// template: the template with a decimal number in place of "%d".
func matchTemplate(template, name string) bool {
	pre, post, _ := strings.Cut(template, "%d")
	if !strings.HasPrefix(name, pre) || !strings.HasSuffix(name, post) || len(name) <= len(pre)+len(post) {
		return false
	}
	for _, c := range name[len(pre) : len(name)-len(post)] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// notOwnNamespace refuses to "move" devices into the runtime's own
// network namespace (a path to the host's): nothing would be isolated.
func notOwnNamespace(nsFd int) error {
	var self, target unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &self); err != nil {
		return fmt.Errorf("linux.netDevices: stat /proc/self/ns/net: %w", err)
	}
	if err := unix.Fstat(nsFd, &target); err != nil {
		return fmt.Errorf("linux.netDevices: stat the container's network namespace: %w", err)
	}
	if self.Dev == target.Dev && self.Ino == target.Ino {
		return errors.New("linux.netDevices: the container's network namespace is the runtime's own")
	}
	return nil
}

// connIn makes a netlink socket in the namespace nsFd refers to: a socket
// stays in the namespace it was made in.
func connIn(nsFd int) (c *conn, err error) {
	err = InNetNS(nsFd, "linux.netDevices", func() error {
		c, err = newConn()
		return err
	})
	return c, err
}
