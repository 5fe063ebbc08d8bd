package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/cgroups"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// knob is a cgroup v1 interface file that not every kernel has, and the
// resource field that needs it.
type knob struct {
	field string   // the OCI name of the resource
	ctrl  string   // v1 controller
	files []string // any one of them will do
	set   func(*cgroups.Resources) bool
}

// v1Knobs lists the fields whose file the library would, when missing,
// skip in silence (cpu.cfs_burst_us) or fail on with a bare ENOENT
// naming one file (the blkio weights, which need the CFQ or BFQ I/O
// scheduler; cpu.idle, which needs Linux 5.15).
func v1Knobs() []knob {
	return []knob{
		{"cpu.burst", "cpu", []string{"cpu.cfs_burst_us"}, func(r *cgroups.Resources) bool { return r.CpuBurst != nil }},
		{"cpu.idle", "cpu", []string{"cpu.idle"}, func(r *cgroups.Resources) bool { return r.CPUIdle != nil }},
		{"blockIO.weight", "blkio", []string{"blkio.weight", "blkio.bfq.weight"}, func(r *cgroups.Resources) bool { return r.BlkioWeight != 0 }},
		{"blockIO.weightDevice", "blkio", []string{"blkio.weight_device", "blkio.bfq.weight_device"}, func(r *cgroups.Resources) bool { return len(r.BlkioWeightDevice) > 0 }},
		{"blockIO.leafWeight", "blkio", []string{"blkio.leaf_weight"}, func(r *cgroups.Resources) bool { return r.BlkioLeafWeight != 0 }},
		// Real-time group scheduling (CONFIG_RT_GROUP_SCHED).
		{"cpu.realtimeRuntime", "cpu", []string{"cpu.rt_runtime_us"}, func(r *cgroups.Resources) bool { return r.CpuRtRuntime != 0 }},
		{"cpu.realtimePeriod", "cpu", []string{"cpu.rt_period_us"}, func(r *cgroups.Resources) bool { return r.CpuRtPeriod != 0 }},
	}
}

// checkV1Knobs refuses, with the field's name, a resource that this
// kernel's cgroup v1 controllers have no file for. paths are the
// container's (existing) cgroup directories; a controller that is not
// mounted is left to the library.
func checkV1Knobs(paths map[string]string, r *cgroups.Resources) error {
	for _, k := range v1Knobs() {
		dir := paths[k.ctrl]
		if dir == "" || !k.set(r) {
			continue
		}
		if !anyExists(dir, k.files) {
			return fmt.Errorf("linux.resources.%s is not supported by this kernel: %s has no %s", k.field, dir, k.files[0])
		}
	}
	return nil
}

func anyExists(dir string, files []string) bool {
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// withIdle orders cpu.idle against the CPU weight, which the kernel
// refuses to set on an idle group (EINVAL), while the library writes the
// weight first on cgroup v1 (and on v2 after cpu.idle): a group made idle
// could then never be updated again, nor made normal. So for idle=1 the
// weight is left out (it has no meaning for an idle group; it comes back
// with idle=0), and on v1 idle=0 is written before the library writes
// the weight.
func withIdle(m cgroups.Manager, r *cgroups.Resources) (*cgroups.Resources, error) {
	if r.CPUIdle == nil {
		return r, nil
	}
	if *r.CPUIdle == 1 {
		rest := *r
		rest.CpuShares, rest.CpuWeight = 0, 0
		return &rest, nil
	}
	if dir := m.Path("cpu"); dir != "" && !cgroups.IsCgroup2UnifiedMode() {
		if err := cgroups.WriteFile(dir, "cpu.idle", "0"); err != nil && !gone(err) {
			return nil, fmt.Errorf("set cpu.idle: %w", err)
		}
	}
	return r, nil
}

// v2Knobs are the cgroup v2 files that a kernel may lack: the library
// would fail on them with a bare ENOENT naming one file (or, for the
// cpuset files, of a controller the hierarchy does not offer at all).
func v2Knobs() []knob {
	return []knob{
		{"cpu.burst", "", []string{"cpu.max.burst"}, func(r *cgroups.Resources) bool { return r.CpuBurst != nil }},
		{"cpu.idle", "", []string{"cpu.idle"}, func(r *cgroups.Resources) bool { return r.CPUIdle != nil }},
		{"cpu.cpus", "", []string{"cpuset.cpus"}, func(r *cgroups.Resources) bool { return r.CpusetCpus != "" }},
		{"cpu.mems", "", []string{"cpuset.mems"}, func(r *cgroups.Resources) bool { return r.CpusetMems != "" }},
		{"blockIO.weight", "", []string{"io.bfq.weight", "io.weight"}, func(r *cgroups.Resources) bool { return r.BlkioWeight != 0 }},
		{"blockIO.weightDevice", "", []string{"io.bfq.weight", "io.weight"}, func(r *cgroups.Resources) bool { return len(r.BlkioWeightDevice) > 0 }},
	}
}

// v2Unapplied names the set fields that cgroup v2 has no interface for
// at all (real-time group scheduling, the CFQ leaf weights, swappiness,
// the OOM killer switch, net_cls and net_prio): the library leaves them
// out in silence, as runc does; berth runs the container as runc does
// and says so (warnV2Unapplied).
func v2Unapplied(r *cgroups.Resources) []string {
	var out []string
	if r.MemorySwappiness != nil {
		out = append(out, "memory.swappiness")
	}
	if r.OomKillDisable {
		out = append(out, "memory.disableOOMKiller")
	}
	if r.CpuRtRuntime != 0 {
		out = append(out, "cpu.realtimeRuntime")
	}
	if r.CpuRtPeriod != 0 {
		out = append(out, "cpu.realtimePeriod")
	}
	if r.BlkioLeafWeight != 0 {
		out = append(out, "blockIO.leafWeight")
	}
	for _, wd := range r.BlkioWeightDevice {
		if wd.LeafWeight != 0 {
			out = append(out, "blockIO.weightDevice[].leafWeight")
			break
		}
	}
	if r.NetClsClassid != 0 {
		out = append(out, "network.classID")
	}
	if len(r.NetPrioIfpriomap) > 0 {
		out = append(out, "network.priorities")
	}
	return out
}

func warnV2Unapplied(r *cgroups.Resources) {
	if names := v2Unapplied(r); len(names) > 0 {
		logrus.Warnf("linux.resources: cgroup v2 has no interface for %s: not applied", strings.Join(names, ", "))
	}
}

// checkV2Knobs refuses, with the field's name, a resource that the
// container's cgroup2 directory dir has no file for.
func checkV2Knobs(dir string, r *cgroups.Resources) error {
	if dir == "" {
		return nil
	}
	for _, k := range v2Knobs() {
		if k.set(r) && !anyExists(dir, k.files) {
			return fmt.Errorf("linux.resources.%s is not supported by this kernel: %s has no %s", k.field, dir, strings.Join(k.files, " or "))
		}
	}
	return nil
}

// ExplainRt adds to err, when it is the kernel refusing a cgroup v1
// cpu.rt_runtime_us, why: a group's real-time runtime must fit in what
// its parent has (the parents of a new cgroup start with none), so under
// a cgroupsPath a realtimeRuntime needs a parent given a budget first
// (berth's default parent is given one: rtbudget.go). Other errors are
// returned as they are.
func ExplainRt(err error) error {
	var pe *os.PathError
	if err == nil || !errors.Is(err, unix.EINVAL) || !errors.As(err, &pe) || filepath.Base(pe.Path) != "cpu.rt_runtime_us" {
		return err
	}
	parent := filepath.Dir(filepath.Dir(pe.Path))
	return fmt.Errorf("%w (linux.resources.cpu.realtimeRuntime: more than the parent cgroup %s has to give; set its cpu.rt_runtime_us first, or use a cgroupsPath under one that has the budget)", err, parent)
}
