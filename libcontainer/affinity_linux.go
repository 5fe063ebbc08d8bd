package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/procattr"
)

// setFinalCPUAffinity sets the CPU affinity the container's process
// starts with, on the thread that execve's it, once it is in its cgroup:
// an exec process's execCPUAffinity.final when given (the spec: the
// setting is not applicable to the container's init, which runc leaves
// out too; an exec without a process file takes the config's), else
// every CPU, which the
// kernel narrows to the CPUs of the cpuset cgroup the process is in.
// Since Linux 6.2 a child keeps the affinity its parent asked for, not
// the cpuset's: a berth started under `taskset -c 0` (or an initial
// affinity) would otherwise pin every container to CPU 0 whatever its
// cpuset says. runc resets it likewise, for init and exec.
//
// A failed reset is ignored, as runc does: the process then runs with
// the affinity it inherited. A final affinity that cannot be set fails
// the start: the user asked for it.
func setFinalCPUAffinity(a *specs.CPUAffinity) error {
	if a != nil && a.Final != "" {
		return procattr.SetAffinity("process.execCPUAffinity.final", a.Final)
	}
	var all unix.CPUSet
	for cpu := range len(all) * 64 {
		all.Set(cpu)
	}
	_ = unix.SchedSetaffinity(0, &all)
	return nil
}

// setInitialCPUAffinity pins the calling thread (locked: the one that
// starts an exec process, which inherits its affinity from birth) to
// execCPUAffinity.initial, so that the process's set-up runs
// on those CPUs until it is in its cgroup and sets its final affinity.
// The returned function puts the thread's own affinity back once the
// process is started; it does nothing when there is no initial affinity.
func setInitialCPUAffinity(a *specs.CPUAffinity) (restore func(), err error) {
	if a == nil || a.Initial == "" {
		return func() {}, nil
	}
	var own unix.CPUSet
	if err := unix.SchedGetaffinity(0, &own); err != nil {
		return nil, err
	}
	if err := procattr.SetAffinity("process.execCPUAffinity.initial", a.Initial); err != nil {
		return nil, err
	}
	return func() { _ = unix.SchedSetaffinity(0, &own) }, nil
}
