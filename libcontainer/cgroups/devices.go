package cgroups

import (
	"errors"
	"fmt"
	"strings"

	devconfig "github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// defaultAllowedDevices is what every container may use whatever its
// config.json says; it is the list runc has settled on (runc 1.2.4 and
// later, which put tun/tap back after removing it broke users). The
// host's /dev/console (c 5:1) is not on it: with mknod of any node
// allowed, a container with CAP_MKNOD could open the host's console. A
// container's own /dev/console is its pty (136:*); a config that wants
// the host's (Docker's default config does) says so in its own list.
func defaultAllowedDevices() []*devconfig.Rule {
	const w = devconfig.Wildcard
	rwm := devconfig.Permissions("rwm")
	return []*devconfig.Rule{
		// mknod of any node: creating a node grants no access to it.
		{Type: devconfig.CharDevice, Major: w, Minor: w, Permissions: "m", Allow: true},
		{Type: devconfig.BlockDevice, Major: w, Minor: w, Permissions: "m", Allow: true},
		{Type: devconfig.CharDevice, Major: 1, Minor: 3, Permissions: rwm, Allow: true},    // /dev/null
		{Type: devconfig.CharDevice, Major: 1, Minor: 5, Permissions: rwm, Allow: true},    // /dev/zero
		{Type: devconfig.CharDevice, Major: 1, Minor: 7, Permissions: rwm, Allow: true},    // /dev/full
		{Type: devconfig.CharDevice, Major: 1, Minor: 8, Permissions: rwm, Allow: true},    // /dev/random
		{Type: devconfig.CharDevice, Major: 1, Minor: 9, Permissions: rwm, Allow: true},    // /dev/urandom
		{Type: devconfig.CharDevice, Major: 5, Minor: 0, Permissions: rwm, Allow: true},    // /dev/tty
		{Type: devconfig.CharDevice, Major: 5, Minor: 2, Permissions: rwm, Allow: true},    // /dev/ptmx
		{Type: devconfig.CharDevice, Major: 136, Minor: w, Permissions: rwm, Allow: true},  // /dev/pts/*
		{Type: devconfig.CharDevice, Major: 10, Minor: 200, Permissions: rwm, Allow: true}, // /dev/net/tun
	}
}

// DeviceRules builds the device cgroup rule list for a container, in the
// order the managers apply it (later rules win):
//
//  1. deny everything, so a config without a deny-all rule is not left with
//     the host's full device access;
//  2. linux.resources.devices, in order;
//  3. the default allow list.
//
// The defaults come last, as in runc, because nearly every config.json
// starts its list with {"allow": false, "access": "rwm"}: were the defaults
// first, that rule would take /dev/null and friends away from every
// container. The price (same as runc) is that a config cannot deny a
// default device through the device cgroup.
func DeviceRules(spec []specs.LinuxDeviceCgroup) ([]*devconfig.Rule, error) {
	rules := []*devconfig.Rule{{Type: devconfig.WildcardDevice, Major: devconfig.Wildcard, Minor: devconfig.Wildcard, Permissions: "rwm", Allow: false}}
	for i, d := range spec {
		rule, err := deviceRule(d)
		if err != nil {
			return nil, fmt.Errorf("devices[%d]: %w", i, err)
		}
		rules = append(rules, rule)
	}
	return append(rules, defaultAllowedDevices()...), nil
}

func deviceRule(d specs.LinuxDeviceCgroup) (*devconfig.Rule, error) {
	var typ devconfig.Type
	switch d.Type {
	case "", "a":
		typ = devconfig.WildcardDevice
	case "b":
		typ = devconfig.BlockDevice
	case "c":
		typ = devconfig.CharDevice
	default:
		return nil, fmt.Errorf("invalid type %q (want a, b or c)", d.Type)
	}
	perms, err := deviceAccess(d.Access)
	if err != nil {
		return nil, err
	}
	major, err := deviceNumber("major", d.Major)
	if err != nil {
		return nil, err
	}
	minor, err := deviceNumber("minor", d.Minor)
	if err != nil {
		return nil, err
	}
	return &devconfig.Rule{
		Type:        typ,
		Major:       major,
		Minor:       minor,
		Permissions: perms,
		Allow:       d.Allow,
	}, nil
}

// deviceAccess turns an access string into the canonical permissions
// ("rwm" order, no repeats), which the device emulator expects. Letters
// other than r, w and m are dropped with a warning: runc's cgroup v1
// device code drops them the same way, so configs written for it (e.g.
// "rwa") keep working. A string with none of r, w, m grants nothing and
// is refused, as it is by runc.
func deviceAccess(access string) (devconfig.Permissions, error) {
	if access == "" {
		return "", errors.New("access must not be empty")
	}
	perms := devconfig.Permissions(access).Union("")
	if perms == "" {
		return "", fmt.Errorf("invalid access %q (want a combination of r, w, m)", access)
	}
	if strings.IndexFunc(access, func(c rune) bool { return !strings.ContainsRune("rwm", c) }) >= 0 {
		logrus.Warnf("device access %q: only r, w and m have a meaning; using %q", access, perms)
	}
	return perms, nil
}

// deviceNumber maps a missing number (and -1) to the wildcard.
func deviceNumber(name string, n *int64) (int64, error) {
	if n == nil {
		return devconfig.Wildcard, nil
	}
	if *n < devconfig.Wildcard {
		return 0, fmt.Errorf("invalid %s %d", name, *n)
	}
	return *n, nil
}
