package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// resetCPUAffinity widens the calling thread's CPU affinity (the thread
// that execve's the container's process) to every CPU, which the kernel
// narrows to the CPUs of the cpuset cgroup the process is in. Since Linux
// 6.2 a child keeps the affinity its parent asked for, not the cpuset's:
// a berth started under `taskset -c 0` would otherwise pin every
// container to CPU 0 whatever its cpuset says. runc resets it likewise,
// for init and exec, unless process.execCPUAffinity sets one. Call it
// once the process is in its cgroup.
//
// A failure is ignored, as runc does: the process then runs with the
// affinity it inherited, which is what it had before this existed.
func resetCPUAffinity(p *specs.Process) {
	if p != nil && p.ExecCPUAffinity != nil {
		return
	}
	var all unix.CPUSet
	for cpu := range len(all) * 64 {
		all.Set(cpu)
	}
	_ = unix.SchedSetaffinity(0, &all)
}
