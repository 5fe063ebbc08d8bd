package cgroups

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	systemdDbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// sdPropertyPrefix marks the annotations that become properties of the
// container's systemd unit (with --systemd-cgroup), as in runc.
const sdPropertyPrefix = "org.systemd.property."

// systemdProps turns the org.systemd.property.NAME annotations into unit
// properties: NAME is letters only (at least three), the value is a
// GVariant text ("uint64 100", "true", "'inactive-or-failed'"). A NAME
// ending in a lower-case letter and "Sec" (TimeoutStopSec, as the unit
// files spell it) is sent as NAMEUSec in microseconds, which is what the
// D-Bus API takes. Sorted by annotation, so the unit is the same every
// time.
func systemdProps(annotations map[string]string) ([]systemdDbus.Property, error) {
	var props []systemdDbus.Property
	for _, key := range slices.Sorted(maps.Keys(annotations)) {
		name, ok := strings.CutPrefix(key, sdPropertyPrefix)
		if !ok {
			continue
		}
		if !validPropertyName(name) {
			return nil, fmt.Errorf("annotation %s: invalid systemd property name %q (letters only, at least 3)", key, name)
		}
		value, err := dbus.ParseVariant(annotations[key], dbus.Signature{})
		if err != nil {
			return nil, fmt.Errorf("annotation %s: value %q: %w", key, annotations[key], err)
		}
		if base, ok := strings.CutSuffix(name, "Sec"); ok && base[len(base)-1] >= 'a' && base[len(base)-1] <= 'z' {
			usec, err := secondsToUSec(value)
			if err != nil {
				return nil, fmt.Errorf("annotation %s: value %q: %w", key, annotations[key], err)
			}
			name, value = base+"USec", usec
		}
		props = append(props, systemdDbus.Property{Name: name, Value: value})
	}
	return props, nil
}

func validPropertyName(name string) bool {
	if len(name) < 3 {
		return false
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// secondsToUSec converts a numeric variant in seconds to a uint64 variant
// in microseconds.
func secondsToUSec(v dbus.Variant) (dbus.Variant, error) {
	const M = 1_000_000
	var usec uint64
	switch n := v.Value().(type) {
	case byte:
		usec = uint64(n) * M
	case int16:
		usec = uint64(max(n, 0)) * M
	case uint16:
		usec = uint64(n) * M
	case int32:
		usec = uint64(max(n, 0)) * M
	case uint32:
		usec = uint64(n) * M
	case int64:
		usec = uint64(max(n, 0)) * M
	case uint64:
		usec = n * M
	case float64:
		usec = uint64(max(n, 0) * M)
	default:
		return v, fmt.Errorf("a number of seconds is needed, not %s", v.Signature())
	}
	return dbus.MakeVariant(usec), nil
}
