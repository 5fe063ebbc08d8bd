package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// Kernel limits that the library would otherwise pass on unchecked (or, for
// blkio weights, turn into a wrapped-around cgroup v2 io.weight).
const (
	minBlkioWeight = 10
	maxBlkioWeight = 1000
	maxSwappiness  = 100
)

// validPageSize reports whether s is a hugetlb page size as the kernel
// names them in hugetlb.<size>.limit_in_bytes (64KB, 2MB, 1GB, ...):
// [1-9][0-9]*[KMG]B.
func validPageSize(s string) bool {
	num, ok := strings.CutSuffix(s, "B")
	if !ok || len(num) < 2 || !strings.ContainsRune("KMG", rune(num[len(num)-1])) {
		return false
	}
	num = num[:len(num)-1]
	return num[0] != '0' && strings.Trim(num, "0123456789") == ""
}

// ConvertResources turns OCI linux.resources into the library's Resources.
// A nil r is valid and yields only the default device rules. Values the
// kernel or the library would reject late (or misinterpret) are rejected
// here with the name of the offending field.
//
// Hand Manager.Set a full result of this function, never a hand-made
// partial Resources: the managers take a Resources without device rules to
// mean "deny every device" (and on v2 replace the eBPF filter accordingly).
func ConvertResources(r *specs.LinuxResources) (*cgroups.Resources, error) {
	res := &cgroups.Resources{}
	var specDevices []specs.LinuxDeviceCgroup
	if r != nil {
		specDevices = r.Devices
	}
	devs, err := DeviceRules(specDevices)
	if err != nil {
		return nil, err
	}
	res.Devices = devs
	if r == nil {
		return res, nil
	}
	if err := convertMemory(r.Memory, res); err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	if err := convertCPU(r.CPU, res); err != nil {
		return nil, fmt.Errorf("cpu: %w", err)
	}
	if r.Pids != nil && r.Pids.Limit != nil {
		// The library writes "max" for a negative limit and "1" for 0
		// (what systemd does too), so every value has a meaning.
		limit := *r.Pids.Limit
		res.PidsLimit = &limit
	}
	if err := convertBlockIO(r.BlockIO, res); err != nil {
		return nil, fmt.Errorf("blockIO: %w", err)
	}
	for i, h := range r.HugepageLimits {
		if !validPageSize(h.Pagesize) {
			return nil, fmt.Errorf("hugepageLimits[%d]: invalid pageSize %q (want e.g. 2MB, 1GB, 64KB)", i, h.Pagesize)
		}
		res.HugetlbLimit = append(res.HugetlbLimit, &cgroups.HugepageLimit{Pagesize: h.Pagesize, Limit: h.Limit})
	}
	if err := convertNetwork(r.Network, res); err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	if len(r.Rdma) > 0 {
		res.Rdma = make(map[string]cgroups.LinuxRdma, len(r.Rdma))
		for dev, l := range r.Rdma {
			if dev == "" || strings.ContainsAny(dev, " \t\n") {
				return nil, fmt.Errorf("rdma: invalid device name %q", dev)
			}
			res.Rdma[dev] = cgroups.LinuxRdma{HcaHandles: l.HcaHandles, HcaObjects: l.HcaObjects}
		}
	}
	if len(r.Unified) > 0 {
		for k := range r.Unified {
			// A key is a file name inside the container's cgroup; a
			// slash would let it write anywhere in the hierarchy.
			if k == "" || k == "." || k == ".." || strings.ContainsAny(k, "/\x00") {
				return nil, fmt.Errorf("unified: invalid key %q (must be a cgroup file name)", k)
			}
		}
		res.Unified = maps.Clone(r.Unified)
	}
	return res, nil
}

func convertMemory(m *specs.LinuxMemory, res *cgroups.Resources) error {
	if m == nil {
		return nil
	}
	// -1 means "unlimited" for every memory byte count; anything below is
	// nonsense the kernel would reject with a bare EINVAL.
	for _, f := range []struct {
		name string
		v    *int64
	}{{"limit", m.Limit}, {"reservation", m.Reservation}, {"swap", m.Swap}, {"kernel", m.Kernel}, {"kernelTCP", m.KernelTCP}} {
		if f.v != nil && *f.v < -1 {
			return fmt.Errorf("%s %d: must be -1 (unlimited) or >= 0", f.name, *f.v)
		}
	}
	if m.Limit != nil {
		res.Memory = *m.Limit
	}
	if m.Reservation != nil {
		res.MemoryReservation = *m.Reservation
	}
	if m.Swap != nil {
		res.MemorySwap = *m.Swap
	}
	// swap 0 is "not set" for the library, so only a real swap value can
	// contradict the limit.
	if m.Limit != nil && m.Swap != nil && *m.Limit > 0 && *m.Swap > 0 && *m.Swap < *m.Limit {
		return fmt.Errorf("swap %d is lower than limit %d (swap is memory+swap, so it must be >= limit, or -1)", *m.Swap, *m.Limit)
	}
	// Kernel memory limits are gone from the kernel (5.4+ for v1 kmem,
	// never in v2) and from the library; runc ignores them too.
	if m.Kernel != nil || m.KernelTCP != nil {
		logrus.Warn("linux.resources.memory.kernel and kernelTCP are not supported and are ignored")
	}
	if m.Swappiness != nil {
		// math.MaxUint64 is how -1 ("leave the kernel default") looks
		// after a signed value went through the uint64 JSON field.
		switch v := *m.Swappiness; {
		case v == math.MaxUint64:
		case v <= maxSwappiness:
			res.MemorySwappiness = &v
		default:
			return fmt.Errorf("swappiness %d: must be 0-%d", v, maxSwappiness)
		}
	}
	if m.DisableOOMKiller != nil {
		res.OomKillDisable = *m.DisableOOMKiller
	}
	// useHierarchy: every supported kernel always accounts hierarchically
	// (memory.use_hierarchy is fixed at 1 since Linux 5.x), and the library
	// has no knob for it, so only "true" can be honoured.
	if m.UseHierarchy != nil && !*m.UseHierarchy {
		logrus.Warn("linux.resources.memory.useHierarchy=false is not supported; memory accounting is always hierarchical")
	}
	if m.CheckBeforeUpdate != nil {
		res.MemoryCheckBeforeUpdate = *m.CheckBeforeUpdate
	}
	return nil
}

func convertCPU(c *specs.LinuxCPU, res *cgroups.Resources) error {
	if c == nil {
		return nil
	}
	if c.Shares != nil {
		res.CpuShares = *c.Shares
		// fs2 only reads CpuWeight; converting here keeps one spec value
		// meaningful on both hierarchies.
		res.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(*c.Shares)
	}
	if c.Quota != nil {
		if *c.Quota < -1 {
			return fmt.Errorf("quota %d: must be -1 (unlimited) or > 0", *c.Quota)
		}
		res.CpuQuota = *c.Quota
	}
	if c.Burst != nil {
		b := *c.Burst
		res.CpuBurst = &b
	}
	if c.Period != nil {
		res.CpuPeriod = *c.Period
	}
	if c.RealtimeRuntime != nil {
		if *c.RealtimeRuntime < -1 {
			return fmt.Errorf("realtimeRuntime %d: must be -1 (unlimited) or >= 0", *c.RealtimeRuntime)
		}
		res.CpuRtRuntime = *c.RealtimeRuntime
	}
	if c.RealtimePeriod != nil {
		res.CpuRtPeriod = *c.RealtimePeriod
	}
	if c.Cpus != "" {
		if err := checkCPUList(c.Cpus); err != nil {
			return fmt.Errorf("cpus %q: %w", c.Cpus, err)
		}
		res.CpusetCpus = c.Cpus
	}
	if c.Mems != "" {
		if err := checkCPUList(c.Mems); err != nil {
			return fmt.Errorf("mems %q: %w", c.Mems, err)
		}
		res.CpusetMems = c.Mems
	}
	if c.Idle != nil {
		// cpu.idle only takes 0 (normal) or 1 (SCHED_IDLE group).
		if *c.Idle != 0 && *c.Idle != 1 {
			return fmt.Errorf("idle %d: must be 0 or 1", *c.Idle)
		}
		idle := *c.Idle
		res.CPUIdle = &idle
	}
	return nil
}

// checkCPUList validates the kernel's list format used by cpuset.cpus and
// cpuset.mems: comma separated "N" or "N-M" items, where a range may carry
// the ":used/group" stride suffix (see bitmap_parselist).
func checkCPUList(s string) error {
	for item := range strings.SplitSeq(s, ",") {
		if item == "" {
			return errors.New("empty item")
		}
		rng, stride, hasStride := strings.Cut(item, ":")
		lo, hi, isRange := strings.Cut(rng, "-")
		first, err := parseListNumber(lo)
		if err != nil {
			return fmt.Errorf("item %q: %w", item, err)
		}
		last := first
		if isRange {
			if last, err = parseListNumber(hi); err != nil {
				return fmt.Errorf("item %q: %w", item, err)
			}
			if last < first {
				return fmt.Errorf("item %q: range end is below its start", item)
			}
		}
		if hasStride {
			if !isRange {
				return fmt.Errorf("item %q: a stride needs a range", item)
			}
			used, group, ok := strings.Cut(stride, "/")
			if !ok {
				return fmt.Errorf("item %q: stride must be used/group", item)
			}
			u, err := parseListNumber(used)
			if err != nil {
				return fmt.Errorf("item %q: %w", item, err)
			}
			g, err := parseListNumber(group)
			if err != nil {
				return fmt.Errorf("item %q: %w", item, err)
			}
			if u == 0 || g == 0 || u > g {
				return fmt.Errorf("item %q: stride must be 0 < used <= group", item)
			}
		}
	}
	return nil
}

func parseListNumber(s string) (uint64, error) {
	// ParseUint alone would accept "+1"; insist on plain digits.
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return n, nil
}

func checkBlkioWeight(name string, w uint16) error {
	if w < minBlkioWeight || w > maxBlkioWeight {
		return fmt.Errorf("%s %d: must be %d-%d", name, w, minBlkioWeight, maxBlkioWeight)
	}
	return nil
}

func checkBlkioDevice(name string, i int, d specs.LinuxBlockIODevice) error {
	if d.Major < 0 || d.Minor < 0 {
		return fmt.Errorf("%s[%d]: invalid device %d:%d", name, i, d.Major, d.Minor)
	}
	return nil
}

func convertBlockIO(b *specs.LinuxBlockIO, res *cgroups.Resources) error {
	if b == nil {
		return nil
	}
	// Docker sends "weight": 0 for "not set" (runc leaves the cgroup alone).
	if b.Weight != nil && *b.Weight != 0 {
		if err := checkBlkioWeight("weight", *b.Weight); err != nil {
			return err
		}
		res.BlkioWeight = *b.Weight
	}
	if b.LeafWeight != nil {
		if err := checkBlkioWeight("leafWeight", *b.LeafWeight); err != nil {
			return err
		}
		res.BlkioLeafWeight = *b.LeafWeight
	}
	for i, wd := range b.WeightDevice {
		if err := checkBlkioDevice("weightDevice", i, wd.LinuxBlockIODevice); err != nil {
			return err
		}
		if wd.Weight == nil && wd.LeafWeight == nil {
			return fmt.Errorf("weightDevice[%d]: neither weight nor leafWeight given", i)
		}
		var weight, leaf uint16
		if wd.Weight != nil {
			if err := checkBlkioWeight(fmt.Sprintf("weightDevice[%d].weight", i), *wd.Weight); err != nil {
				return err
			}
			weight = *wd.Weight
		}
		if wd.LeafWeight != nil {
			if err := checkBlkioWeight(fmt.Sprintf("weightDevice[%d].leafWeight", i), *wd.LeafWeight); err != nil {
				return err
			}
			leaf = *wd.LeafWeight
		}
		res.BlkioWeightDevice = append(res.BlkioWeightDevice, cgroups.NewWeightDevice(wd.Major, wd.Minor, weight, leaf))
	}
	for _, t := range []struct {
		name string
		in   []specs.LinuxThrottleDevice
		out  *[]*cgroups.ThrottleDevice
	}{
		{"throttleReadBpsDevice", b.ThrottleReadBpsDevice, &res.BlkioThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", b.ThrottleWriteBpsDevice, &res.BlkioThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", b.ThrottleReadIOPSDevice, &res.BlkioThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", b.ThrottleWriteIOPSDevice, &res.BlkioThrottleWriteIOPSDevice},
	} {
		for i, td := range t.in {
			if err := checkBlkioDevice(t.name, i, td.LinuxBlockIODevice); err != nil {
				return err
			}
			*t.out = append(*t.out, cgroups.NewThrottleDevice(td.Major, td.Minor, td.Rate))
		}
	}
	return nil
}

func convertNetwork(n *specs.LinuxNetwork, res *cgroups.Resources) error {
	if n == nil {
		return nil
	}
	if n.ClassID != nil {
		res.NetClsClassid = *n.ClassID
	}
	for i, p := range n.Priorities {
		// net_prio.ifpriomap takes "<ifname> <prio>"; whitespace in
		// the name would make the kernel read a different line.
		if p.Name == "" || strings.ContainsAny(p.Name, " \t\n/") {
			return fmt.Errorf("priorities[%d]: invalid interface name %q", i, p.Name)
		}
		res.NetPrioIfpriomap = append(res.NetPrioIfpriomap, &cgroups.IfPrioMap{Interface: p.Name, Priority: int64(p.Priority)})
	}
	return nil
}
