package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/berth-runtime/berth/libcontainer/intelrdt"
)

// UpdateIntelRdt is update's --l3-cache-schema and --mem-bw-schema: the
// new schema lines (either may be "", left as it is) are written to the
// container's resctrl group and persisted. A container created without
// intelRdt gets a group of its own first, its init moved in, as under
// runc. Where no resctrl is mounted nothing changes and the error says so.
func (c *Container) UpdateIntelRdt(l3, mb string) error {
	if l3 == "" && mb == "" {
		return nil
	}
	root, err := intelrdt.Root()
	if err != nil {
		return err
	}
	dir, spec, err := c.lockForUpdate()
	if err != nil {
		return err
	}
	defer dir.unlock()
	r := spec.Linux.IntelRdt
	fresh := r == nil
	if fresh {
		r = &specs.LinuxIntelRdt{}
	}
	if l3 != "" {
		r.L3CacheSchema = l3
	}
	if mb != "" {
		r.MemBwSchema = mb
	}
	// Checked before a fresh group is made: a refused schema leaves
	// nothing behind.
	if err := intelrdt.Check(r); err != nil {
		return err
	}
	if fresh {
		made, err := intelrdt.Apply(root, c.state.ID, r, c.state.InitPid)
		if err != nil {
			return err
		}
		c.state.recordIntelRdt(made)
		spec.Linux.IntelRdt = r
	} else if err := intelrdt.Update(root, c.state.ID, r); err != nil {
		return err
	}
	c.state.setSpec(spec)
	if err := dir.save(c.state); err != nil {
		if fresh && c.state.IntelRdt != nil {
			// Not on record: the group would outlive the container.
			if rmErr := intelrdt.Remove(root, c.state.ID, r, *c.state.IntelRdt); rmErr != nil {
				logrus.Warnf("remove resctrl group of %s: %v", c.state.ID, rmErr)
			}
		}
		return err
	}
	return nil
}
