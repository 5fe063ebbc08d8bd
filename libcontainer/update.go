package libcontainer

import (
	"fmt"
	"maps"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	bcgroups "github.com/berth-runtime/berth/libcontainer/cgroups"
)

// lockForUpdate takes the container's lock for an update and returns its
// config; a container that is not live is refused (and unlocked).
func (c *Container) lockForUpdate() (*stateDir, *specs.Spec, error) {
	dir, err := c.lockState()
	if err != nil {
		return nil, nil, err
	}
	if st := c.Status(); st == Stopped || st == Creating {
		dir.unlock()
		return nil, nil, fmt.Errorf("cannot update a stopped container: %w", ErrNotRunning)
	}
	spec, err := c.state.FullSpec()
	if err != nil {
		dir.unlock()
		return nil, nil, err
	}
	return dir, spec, nil
}

// Update applies resource changes to a live container and persists them in
// its state, so a later update or stats starts from them. Only the fields
// set in r change (as runc's update does); device rules are not updatable.
// The whole merged set of resources is written: the managers apply device
// rules from what they are given, and an empty set would deny every device.
func (c *Container) Update(r *specs.LinuxResources) error {
	dir, spec, err := c.lockForUpdate()
	if err != nil {
		return err
	}
	defer dir.unlock()
	linux := spec.Linux
	merged := mergeResources(linux.Resources, unlimitedSwapWithMemory(r))
	// The device rules are left alone (SkipDevices below): not
	// converted again, so a create-time warning about them is not
	// repeated on every update.
	conv := *merged
	conv.Devices = nil
	onlyAskedWarnings(&conv, r)
	res, err := bcgroups.ConvertResources(&conv)
	if err != nil {
		return err
	}
	// As runc: an update leaves the device cgroup alone. Its rules cannot
	// change here, and rewriting them would undo what a device plugin
	// added on top.
	res.SkipDevices = true
	mgr, err := c.manager()
	if err != nil {
		return err
	}
	if err := bcgroups.Set(mgr, res); err != nil {
		return fmt.Errorf("set cgroup resources: %w", err)
	}
	linux.Resources = merged
	c.state.setSpec(spec)
	return dir.save(c.state)
}

// onlyAskedWarnings leaves out of conv (a copy of the merged resources)
// the fields that may be only warned of, unless the update r itself
// names them: memory's kernel, kernelTCP and useHierarchy (never
// applied), and what cgroup v2 has no interface for (warnV2Unapplied:
// swappiness, disableOOMKiller, the real-time runtime and period, the
// blkio leaf weight, the network classes). Kept in the state as given,
// they are not warned of again on every later update; on cgroup v1, where
// the create applied them, the cgroup keeps them as they were.
func onlyAskedWarnings(conv *specs.LinuxResources, r *specs.LinuxResources) {
	var asked specs.LinuxResources
	if r != nil {
		asked = *r
	}
	if m := conv.Memory; m != nil {
		out := *m
		var a specs.LinuxMemory
		if asked.Memory != nil {
			a = *asked.Memory
		}
		out.Kernel, out.KernelTCP, out.UseHierarchy = a.Kernel, a.KernelTCP, a.UseHierarchy
		out.Swappiness, out.DisableOOMKiller = a.Swappiness, a.DisableOOMKiller
		conv.Memory = &out
	}
	if c := conv.CPU; c != nil {
		out := *c
		var a specs.LinuxCPU
		if asked.CPU != nil {
			a = *asked.CPU
		}
		out.RealtimeRuntime, out.RealtimePeriod = a.RealtimeRuntime, a.RealtimePeriod
		conv.CPU = &out
	}
	conv.Network = asked.Network
	if b := conv.BlockIO; b != nil {
		out := *b
		var a specs.LinuxBlockIO
		if asked.BlockIO != nil {
			a = *asked.BlockIO
		}
		out.LeafWeight = a.LeafWeight
		conv.BlockIO = &out
	}
}

// unlimitedSwapWithMemory returns r with memory+swap made unlimited when
// r lifts the memory limit (-1) without naming swap, as runc's update
// does: on cgroup v1 a finite memsw limit below an unlimited memory
// limit is refused by the kernel, so "-1" alone would always fail.
func unlimitedSwapWithMemory(r *specs.LinuxResources) *specs.LinuxResources {
	if r == nil || r.Memory == nil || r.Memory.Limit == nil || *r.Memory.Limit != -1 || r.Memory.Swap != nil {
		return r
	}
	out := *r
	m := *r.Memory
	swap := int64(-1)
	m.Swap = &swap
	out.Memory = &m
	return &out
}

// set replaces *dst with src when src is set.
func set[T any](dst **T, src *T) {
	if src != nil {
		v := *src
		*dst = &v
	}
}

// mergeResources returns a copy of old with every field set in upd
// replacing the old value.
func mergeResources(old, upd *specs.LinuxResources) *specs.LinuxResources {
	out := &specs.LinuxResources{}
	if old != nil {
		*out = *old
	}
	if upd == nil {
		return out
	}
	if upd.Memory != nil {
		m := specs.LinuxMemory{}
		if out.Memory != nil {
			m = *out.Memory
		}
		u := upd.Memory
		set(&m.Limit, u.Limit)
		set(&m.Reservation, u.Reservation)
		set(&m.Swap, u.Swap)
		set(&m.Kernel, u.Kernel)
		set(&m.KernelTCP, u.KernelTCP)
		set(&m.Swappiness, u.Swappiness)
		set(&m.DisableOOMKiller, u.DisableOOMKiller)
		set(&m.UseHierarchy, u.UseHierarchy)
		set(&m.CheckBeforeUpdate, u.CheckBeforeUpdate)
		out.Memory = &m
	}
	if upd.CPU != nil {
		cpu := specs.LinuxCPU{}
		if out.CPU != nil {
			cpu = *out.CPU
		}
		u := upd.CPU
		set(&cpu.Shares, u.Shares)
		set(&cpu.Quota, u.Quota)
		set(&cpu.Burst, u.Burst)
		set(&cpu.Period, u.Period)
		set(&cpu.RealtimeRuntime, u.RealtimeRuntime)
		set(&cpu.RealtimePeriod, u.RealtimePeriod)
		set(&cpu.Idle, u.Idle)
		if u.Cpus != "" {
			cpu.Cpus = u.Cpus
		}
		if u.Mems != "" {
			cpu.Mems = u.Mems
		}
		out.CPU = &cpu
	}
	if upd.Pids != nil {
		p := specs.LinuxPids{}
		set(&p.Limit, upd.Pids.Limit)
		out.Pids = &p
	}
	if upd.BlockIO != nil {
		b := specs.LinuxBlockIO{}
		if out.BlockIO != nil {
			b = *out.BlockIO
		}
		u := upd.BlockIO
		set(&b.Weight, u.Weight)
		set(&b.LeafWeight, u.LeafWeight)
		if u.WeightDevice != nil {
			b.WeightDevice = u.WeightDevice
		}
		if u.ThrottleReadBpsDevice != nil {
			b.ThrottleReadBpsDevice = u.ThrottleReadBpsDevice
		}
		if u.ThrottleWriteBpsDevice != nil {
			b.ThrottleWriteBpsDevice = u.ThrottleWriteBpsDevice
		}
		if u.ThrottleReadIOPSDevice != nil {
			b.ThrottleReadIOPSDevice = u.ThrottleReadIOPSDevice
		}
		if u.ThrottleWriteIOPSDevice != nil {
			b.ThrottleWriteIOPSDevice = u.ThrottleWriteIOPSDevice
		}
		out.BlockIO = &b
	}
	if upd.HugepageLimits != nil {
		out.HugepageLimits = upd.HugepageLimits
	}
	if upd.Network != nil {
		out.Network = upd.Network
	}
	if upd.Rdma != nil {
		out.Rdma = upd.Rdma
	}
	if upd.Unified != nil {
		u := maps.Clone(out.Unified)
		if u == nil {
			u = map[string]string{}
		}
		maps.Copy(u, upd.Unified)
		out.Unified = u
	}
	return out
}
