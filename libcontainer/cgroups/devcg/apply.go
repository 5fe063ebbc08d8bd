package devcg

import (
	"fmt"
	"maps"

	"github.com/moby/sys/userns"
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/cgroups/systemd"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Install makes the cgroup managers of github.com/opencontainers/cgroups
// apply device rules through this package. Without it they refuse any
// device rule (ErrDevicesUnsupported), and a container would keep the
// runtime's access to every device.
func Install() {
	cgroups.DevicesSetV1 = SetV1
	cgroups.DevicesSetV2 = SetV2
	systemd.GenerateDeviceProps = SystemdProperties
}

// SetV1 brings the v1 devices cgroup at path to the rules, by the fewest
// writes to devices.allow and devices.deny from what devices.list shows
// (transition), and checks devices.list after them. Inside a user
// namespace the devices controller cannot be written, and there the rules
// are left to the parent's cgroup.
func SetV1(path string, r *cgroups.Resources) error {
	if r.SkipDevices || userns.RunningInUserNS() {
		return nil
	}
	want, err := build(r.Devices)
	if err != nil {
		return err
	}
	have, err := readList(path)
	if err != nil {
		return err
	}
	for _, w := range transition(have, want) {
		file := "devices.deny"
		if w.Allow {
			file = "devices.allow"
		}
		if err := cgroups.WriteFile(path, file, w.CgroupString()); err != nil {
			return err
		}
	}
	got, err := readList(path)
	if err != nil {
		return err
	}
	// A default-allow cgroup lists none of its deny exceptions: only the
	// default can be checked there.
	if got.allow != want.allow || (!want.allow && !maps.Equal(got.except, want.except)) {
		return fmt.Errorf("%s: devices.list does not show the rules written to it", path)
	}
	return nil
}

// readList is the policy the v1 cgroup at path shows in devices.list.
func readList(path string) (policy, error) {
	list, err := cgroups.ReadFile(path, "devices.list")
	if err != nil {
		return policy{}, err
	}
	p, err := parseList(list)
	if err != nil {
		return policy{}, fmt.Errorf("%s/devices.list: %w", path, err)
	}
	return p, nil
}

// SetV2 attaches the rules' program to the cgroup2 directory dir. Where
// bpf(2) is not allowed (a user namespace), or when the rules allow every
// mode of every device they name, an error is only a warning: the
// container then has no less access than it asked for.
func SetV2(dir string, r *cgroups.Resources) error {
	if r.SkipDevices {
		return nil
	}
	p, err := build(r.Devices)
	if err != nil {
		return err
	}
	prog, err := program(p)
	if err != nil {
		return err
	}
	err = loadAttach(dir, encode(prog))
	if err != nil && (userns.RunningInUserNS() || allowsAll(r.Devices)) {
		logrus.Warnf("device rules of %s not applied: %v", dir, err)
		return nil
	}
	return err
}

func loadAttach(dir string, code []byte) error {
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &cgroupErr{"open", dir, err}
	}
	defer unix.Close(fd)
	prog, err := load(code)
	if err != nil {
		return &cgroupErr{"device filter for", dir, err}
	}
	defer unix.Close(prog)
	if err := attach(fd, prog); err != nil {
		return &cgroupErr{"device filter for", dir, err}
	}
	return nil
}

type cgroupErr struct {
	op, path string
	err      error
}

func (e *cgroupErr) Error() string { return e.op + " " + e.path + ": " + e.err.Error() }
func (e *cgroupErr) Unwrap() error { return e.err }

// allowsAll reports whether every rule allows all of r, w and m: rules
// that only ever widen access.
func allowsAll(rules []*config.Rule) bool {
	for _, r := range rules {
		if !r.Allow || accessBits(r.Permissions) != accMknod|accRead|accWrite {
			return false
		}
	}
	return true
}
