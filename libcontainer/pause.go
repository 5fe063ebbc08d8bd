package libcontainer

import (
	"errors"
	"fmt"

	"github.com/opencontainers/cgroups"
)

// ErrNotPaused keeps runc's wording for resume of a container that is
// not paused.
var ErrNotPaused = errors.New("container not paused")

// Pause freezes every process of a created or running container.
func (c *Container) Pause() error {
	return c.setFrozen(cgroups.Frozen)
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	return c.setFrozen(cgroups.Thawed)
}

// setFrozen freezes or thaws the container's cgroup under its lock, and
// records the new status.
func (c *Container) setFrozen(want cgroups.FreezerState) error {
	dir, err := c.lockState()
	if err != nil {
		return err
	}
	defer dir.unlock()
	st := c.Status()
	switch {
	case want == cgroups.Frozen && (st == Running || st == Created):
	case want == cgroups.Thawed && st == Paused:
	case want == cgroups.Thawed:
		return ErrNotPaused
	default:
		return ErrNotRunning
	}
	if len(c.state.CgroupPaths) == 0 {
		return errors.New("the container has no cgroup to freeze")
	}
	mgr, err := c.manager()
	if err != nil {
		return err
	}
	if err := mgr.Freeze(want); err != nil {
		return fmt.Errorf("set freezer to %s: %w", want, err)
	}
	c.state.Status = c.Status()
	return dir.save(c.state)
}
