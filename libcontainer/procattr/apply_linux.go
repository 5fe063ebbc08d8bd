package procattr

import (
	"fmt"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Apply sets, on the calling thread, the scheduler, I/O priority, memory
// policy and personality that p and l ask for. Init calls it on the
// thread that execve's, once that thread is in the container's cgroups
// (a memory policy's nodes must be in the cpuset's mems) and while it
// still holds its capabilities (a real-time policy, a negative nice or
// the RT I/O class need CAP_SYS_NICE or CAP_SYS_ADMIN).
func Apply(p *specs.Process, l *specs.Linux) error {
	if l != nil && l.MemoryPolicy != nil {
		if err := applyMemoryPolicy(l.MemoryPolicy); err != nil {
			return err
		}
	}
	if p.IOPriority != nil {
		if err := applyIOPriority(p.IOPriority); err != nil {
			return err
		}
	}
	if p.Scheduler != nil {
		if err := applyScheduler(p.Scheduler, cpusetCpus(l)); err != nil {
			return err
		}
	}
	if l != nil && l.Personality != nil {
		return applyPersonality(l.Personality)
	}
	return nil
}

// applyScheduler sets the policy. cpus is the container's cpuset
// (linux.resources.cpu.cpus): SCHED_DEADLINE needs the thread's affinity
// to cover every CPU, so the kernel's EPERM there is worded as runc's.
func applyScheduler(s *specs.Scheduler, cpus string) error {
	attr, err := SchedAttr(s)
	if err != nil {
		return err
	}
	if err := unix.SchedSetAttr(0, attr, 0); err != nil {
		if err == unix.EPERM && cpus != "" {
			return fmt.Errorf("set process.scheduler (sched_setattr %s): process scheduler can't be used together with AllowedCPUs (linux.resources.cpu.cpus %q): %w", s.Policy, cpus, err)
		}
		return fmt.Errorf("set process.scheduler (sched_setattr %s): %w", s.Policy, err)
	}
	return nil
}

func cpusetCpus(l *specs.Linux) string {
	if l == nil || l.Resources == nil || l.Resources.CPU == nil {
		return ""
	}
	return l.Resources.CPU.Cpus
}

func applyIOPriority(p *specs.LinuxIOPriority) error {
	v, err := IOPrio(p)
	if err != nil {
		return err
	}
	// who 0 with IOPRIO_WHO_PROCESS: the calling thread.
	if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, uintptr(v)); e != 0 {
		return fmt.Errorf("set process.ioPriority (ioprio_set %s %d): %w", p.Class, p.Priority, e)
	}
	return nil
}

func applyMemoryPolicy(m *specs.LinuxMemoryPolicy) error {
	mp, err := MemoryPolicy(m)
	if err != nil {
		return err
	}
	var ptr unsafe.Pointer
	var maxnode uintptr
	if len(mp.Nodes) > 0 {
		ptr = unsafe.Pointer(&mp.Nodes[0])
		maxnode = uintptr(len(mp.Nodes)*64 + 1) // the kernel reads maxnode-1 bits
	}
	if _, _, e := unix.Syscall(unix.SYS_SET_MEMPOLICY, uintptr(mp.Mode), uintptr(ptr), maxnode); e != 0 {
		return fmt.Errorf("set linux.memoryPolicy (set_mempolicy %s, nodes %q, flags %v): the kernel refuses it: %w", m.Mode, m.Nodes, m.Flags, e)
	}
	return nil
}

func applyPersonality(p *specs.LinuxPersonality) error {
	v, err := Personality(p)
	if err != nil {
		return err
	}
	if _, _, e := unix.Syscall(unix.SYS_PERSONALITY, uintptr(v), 0, 0); e != 0 {
		return fmt.Errorf("set linux.personality %s: %w", p.Domain, e)
	}
	return nil
}

// SetAffinity sets the calling thread's CPU affinity to list (a field
// of process.execCPUAffinity, named by field).
func SetAffinity(field, list string) error {
	set, err := CPUSet(field, list)
	if err != nil {
		return err
	}
	if err := unix.SchedSetaffinity(0, set); err != nil {
		return fmt.Errorf("set %s %q: %w", field, list, err)
	}
	return nil
}
