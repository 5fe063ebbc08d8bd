package cgroups

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/cgroups"
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
