package devcg

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	systemdDbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/devices/config"
	"github.com/sirupsen/logrus"
)

// deviceAllow is one entry of systemd's DeviceAllow property, a(ss): a
// device node path or a group ("char-pts", "block-*", "char-136") and its
// modes.
type deviceAllow struct {
	Path  string
	Perms string
}

// SystemdProperties are the unit properties that give systemd the rules,
// for the systemd driver: DevicePolicy=strict and a DeviceAllow entry per
// allow exception. systemd only knows allow lists: rules that allow by
// default are given as deny-all here (unless they allow everything), and
// the driver's own cgroup writes (SetV1/SetV2, made after systemd's) apply
// them in full. An entry systemd cannot express ("c *:3", or a major that
// an older systemd only knows by its /proc/devices name and that has none)
// is left out with a warning, for the same reason.
func SystemdProperties(r *cgroups.Resources, systemdVersion int) ([]systemdDbus.Property, error) {
	if r.SkipDevices {
		return nil, nil
	}
	p, err := build(r.Devices)
	if err != nil {
		return nil, fmt.Errorf("device rules for systemd: %w", err)
	}
	if p.allow {
		if len(p.except) == 0 {
			return props("auto", nil), nil
		}
		logrus.Warn("systemd takes no deny lists of devices: the unit denies every device, and the cgroup is then given the rules")
		return props("strict", nil), nil
	}
	var entries []deviceAllow
	for _, d := range p.devices() {
		path, err := systemdPath(d, systemdVersion)
		if err != nil {
			return nil, err
		}
		if path == "" {
			logrus.Warnf("systemd cannot express the device rule %s %s: left to the cgroup's own rules", d, p.except[d])
			continue
		}
		entries = append(entries, deviceAllow{Path: path, Perms: string(p.except[d])})
	}
	return props("strict", entries), nil
}

func props(policy string, entries []deviceAllow) []systemdDbus.Property {
	if entries == nil {
		entries = []deviceAllow{}
	}
	return []systemdDbus.Property{
		// An empty list first resets what the unit had (systemd appends).
		{Name: "DeviceAllow", Value: dbus.MakeVariant([]deviceAllow{})},
		{Name: "DevicePolicy", Value: dbus.MakeVariant(policy)},
		{Name: "DeviceAllow", Value: dbus.MakeVariant(entries)},
	}
}

// systemdPath names a device exception as systemd does: /dev/char/M:m or
// /dev/block/M:m for one device, "char-M" for a whole major (systemd 240
// and later; earlier ones only take the major's name in /proc/devices),
// "char-*" for every device of a type; "" for what it cannot name.
func systemdPath(d device, systemdVersion int) (string, error) {
	group, node := "char-", "/dev/char/"
	if d.typ == config.BlockDevice {
		group, node = "block-", "/dev/block/"
	}
	switch {
	case d.major == config.Wildcard && d.minor == config.Wildcard:
		return group + "*", nil
	case d.major == config.Wildcard:
		return "", nil
	case d.minor == config.Wildcard && systemdVersion >= 240:
		return group + strconv.FormatInt(d.major, 10), nil
	case d.minor == config.Wildcard:
		name, err := majorName(d.typ, d.major)
		if err != nil || name == "" {
			return "", err
		}
		return group + name, nil
	}
	path := node + strconv.FormatInt(d.major, 10) + ":" + strconv.FormatInt(d.minor, 10)
	if systemdVersion < 240 {
		// Older systemd refuses the whole unit for a node that does not
		// exist on the host.
		if _, err := os.Stat(path); err != nil {
			return "", nil
		}
	}
	return path, nil
}

// majorName looks the major up in /proc/devices, under the section of its
// type ("Character devices:" or "Block devices:"), as "136 pts".
func majorName(typ config.Type, major int64) (string, error) {
	f, err := os.Open("/proc/devices")
	if err != nil {
		return "", err
	}
	defer f.Close()
	section := "Character devices:"
	if typ == config.BlockDevice {
		section = "Block devices:"
	}
	in := false
	prefix := strconv.FormatInt(major, 10) + " "
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if strings.HasSuffix(line, "devices:") {
			in = line == section
			continue
		}
		if name, ok := strings.CutPrefix(line, prefix); in && ok {
			return name, nil
		}
	}
	if err := s.Err(); err != nil {
		return "", fmt.Errorf("/proc/devices: %w", err)
	}
	return "", nil
}
