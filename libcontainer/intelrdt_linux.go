package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/berth-runtime/berth/libcontainer/intelrdt"
)

// applyIntelRdt puts the container's init (pid) in its resctrl group,
// made or checked first (intelrdt.Apply), and records in st what it
// made, for delete. Nothing without intelRdt.
func applyIntelRdt(st *State, spec *specs.Spec, pid int) error {
	r := spec.Linux.IntelRdt
	if r == nil {
		return nil
	}
	root, err := intelrdt.Root()
	if err != nil {
		return err
	}
	made, err := intelrdt.Apply(root, st.ID, r, pid)
	if err != nil {
		return err
	}
	st.recordIntelRdt(made)
	return nil
}

// recordIntelRdt keeps in st what intelrdt.Apply made, when it made
// anything (State.IntelRdt).
func (st *State) recordIntelRdt(made intelrdt.Made) {
	if made != (intelrdt.Made{}) {
		st.IntelRdt = &made
	}
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
// container (st.IntelRdt), and no other; a failure is a warning, as for
// the cgroup of a failed create.
func removeIntelRdt(st *State, r *specs.LinuxIntelRdt) {
	if r == nil || st.IntelRdt == nil {
		return
	}
	root, err := intelrdt.Root()
	if err == nil {
		err = intelrdt.Remove(root, st.ID, r, *st.IntelRdt)
	}
	if err != nil {
		logrus.Warnf("remove resctrl group of %s: %v", st.ID, err)
		return
	}
	st.IntelRdt = nil
}
