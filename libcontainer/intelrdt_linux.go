package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/berth-runtime/berth/libcontainer/intelrdt"
)

// applyIntelRdt puts the container's init (pid) in its resctrl group,
// made or checked first (intelrdt.Apply). Nothing without intelRdt.
func applyIntelRdt(spec *specs.Spec, id string, pid int) error {
	r := spec.Linux.IntelRdt
	if r == nil {
		return nil
	}
	root, err := intelrdt.Root()
	if err != nil {
		return err
	}
	return intelrdt.Apply(root, id, r, pid)
}

// joinIntelRdt puts an exec process (pid) in the container's resctrl
// groups: it is no child of init, so it would not inherit them.
func joinIntelRdt(spec *specs.Spec, id string, pid int) error {
	r := spec.Linux.IntelRdt
	if r == nil {
		return nil
	}
	root, err := intelrdt.Root()
	if err != nil {
		return err
	}
	return intelrdt.Join(root, id, r, pid)
}

// removeIntelRdt removes the resctrl groups applyIntelRdt made for the
// container; a failure is a warning, as for the cgroup of a failed create.
func removeIntelRdt(r *specs.LinuxIntelRdt, id string) {
	if r == nil {
		return
	}
	root, err := intelrdt.Root()
	if err == nil {
		err = intelrdt.Remove(root, id, r)
	}
	if err != nil {
		logrus.Warnf("remove resctrl group of %s: %v", id, err)
	}
}
