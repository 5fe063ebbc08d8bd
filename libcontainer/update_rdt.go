package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

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
	if r == nil {
		r = &specs.LinuxIntelRdt{}
		if err := intelrdt.Apply(root, c.state.ID, r, c.state.InitPid); err != nil {
			return err
		}
		spec.Linux.IntelRdt = r
	}
	if l3 != "" {
		r.L3CacheSchema = l3
	}
	if mb != "" {
		r.MemBwSchema = mb
	}
	if err := intelrdt.Check(r); err != nil {
		return err
	}
	if err := intelrdt.Update(root, c.state.ID, r); err != nil {
		return err
	}
	c.state.setSpec(spec)
	return dir.save(c.state)
}
