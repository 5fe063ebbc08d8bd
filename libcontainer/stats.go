package libcontainer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	bcgroups "github.com/berth-runtime/berth/libcontainer/cgroups"
)

// Stats is a resource usage snapshot, with runc's field names (the CLI's
// `events` prints it as the data of a stats event).
type Stats struct {
	CPU     CPUStats                `json:"cpu"`
	CPUSet  CPUSetStats             `json:"cpuset"`
	Memory  MemoryStats             `json:"memory"`
	Pids    PidsStats               `json:"pids"`
	Blkio   BlkioStats              `json:"blkio"`
	Hugetlb map[string]HugetlbStats `json:"hugetlb"`
	// IntelRdt is always empty (berth reads no resctrl monitoring); the
	// key is there, as in runc's events, for readers that expect it.
	IntelRdt struct{} `json:"intel_rdt"`
	// NetworkInterfaces: the container's network namespace (stats_extra.go);
	// null when it has none, as runc prints it.
	NetworkInterfaces []NetworkInterface `json:"network_interfaces"`
}

type CPUStats struct {
	Usage      CPUUsage   `json:"usage,omitempty"`
	Throttling Throttling `json:"throttling,omitempty"`
	PSI        *PSIStats  `json:"psi,omitempty"`
}

type CPUUsage struct {
	// Nanoseconds.
	Total        uint64   `json:"total,omitempty"`
	Percpu       []uint64 `json:"percpu,omitempty"`
	PercpuKernel []uint64 `json:"percpu_kernel,omitempty"`
	PercpuUser   []uint64 `json:"percpu_user,omitempty"`
	Kernel       uint64   `json:"kernel"`
	User         uint64   `json:"user"`
}

type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

type CPUSetStats struct {
	CPUs []uint16 `json:"cpus,omitempty"`
	Mems []uint16 `json:"mems,omitempty"`
}

type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

type MemoryStats struct {
	Cache     uint64            `json:"cache,omitempty"`
	Usage     MemoryEntry       `json:"usage,omitempty"`
	Swap      MemoryEntry       `json:"swap,omitempty"`
	Kernel    MemoryEntry       `json:"kernel,omitempty"`
	KernelTCP MemoryEntry       `json:"kernelTCP,omitempty"`
	Raw       map[string]uint64 `json:"raw,omitempty"`
	PSI       *PSIStats         `json:"psi,omitempty"`
}

type PidsStats struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

type BlkioStats struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
	IoQueuedRecursive       []BlkioEntry `json:"ioQueueRecursive,omitempty"`
	IoServiceTimeRecursive  []BlkioEntry `json:"ioServiceTimeRecursive,omitempty"`
	IoWaitTimeRecursive     []BlkioEntry `json:"ioWaitTimeRecursive,omitempty"`
	IoMergedRecursive       []BlkioEntry `json:"ioMergedRecursive,omitempty"`
	IoTimeRecursive         []BlkioEntry `json:"ioTimeRecursive,omitempty"`
	SectorsRecursive        []BlkioEntry `json:"sectorsRecursive,omitempty"`
	PSI                     *PSIStats    `json:"psi,omitempty"`
}

type HugetlbStats struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// Stats reads the container's resource usage from its cgroup.
func (c *Container) Stats() (*Stats, error) {
	if st := c.Status(); st == Stopped || st == Creating {
		return nil, ErrNotRunning
	}
	mgr, err := c.manager()
	if err != nil {
		return nil, err
	}
	cs, err := mgr.GetStats()
	if err != nil {
		return nil, fmt.Errorf("read cgroup stats: %w", err)
	}
	s := convertStats(cs)
	addPressure(s, cs, c.state.CgroupPaths[""])
	s.NetworkInterfaces = netInterfaces(c.state.InitPid)
	return s, nil
}

func convertStats(cs *cgroups.Stats) *Stats {
	cu := cs.CpuStats.CpuUsage
	ms := cs.MemoryStats
	s := &Stats{
		CPU: CPUStats{
			Usage: CPUUsage{
				Total: cu.TotalUsage, Percpu: cu.PercpuUsage,
				PercpuKernel: cu.PercpuUsageInKernelmode, PercpuUser: cu.PercpuUsageInUsermode,
				Kernel: cu.UsageInKernelmode, User: cu.UsageInUsermode,
			},
			Throttling: Throttling{
				Periods:          cs.CpuStats.ThrottlingData.Periods,
				ThrottledPeriods: cs.CpuStats.ThrottlingData.ThrottledPeriods,
				ThrottledTime:    cs.CpuStats.ThrottlingData.ThrottledTime,
			},
		},
		CPUSet: CPUSetStats{CPUs: cs.CPUSetStats.CPUs, Mems: cs.CPUSetStats.Mems},
		Memory: MemoryStats{
			Cache: ms.Cache, Usage: memoryEntry(ms.Usage), Swap: memoryEntry(ms.SwapUsage),
			Kernel: memoryEntry(ms.KernelUsage), KernelTCP: memoryEntry(ms.KernelTCPUsage), Raw: ms.Stats,
		},
		Pids: PidsStats{Current: cs.PidsStats.Current, Limit: cs.PidsStats.Limit},
		Blkio: BlkioStats{
			IoServiceBytesRecursive: blkioEntries(cs.BlkioStats.IoServiceBytesRecursive),
			IoServicedRecursive:     blkioEntries(cs.BlkioStats.IoServicedRecursive),
			IoQueuedRecursive:       blkioEntries(cs.BlkioStats.IoQueuedRecursive),
			IoServiceTimeRecursive:  blkioEntries(cs.BlkioStats.IoServiceTimeRecursive),
			IoWaitTimeRecursive:     blkioEntries(cs.BlkioStats.IoWaitTimeRecursive),
			IoMergedRecursive:       blkioEntries(cs.BlkioStats.IoMergedRecursive),
			IoTimeRecursive:         blkioEntries(cs.BlkioStats.IoTimeRecursive),
			SectorsRecursive:        blkioEntries(cs.BlkioStats.SectorsRecursive),
		},
		Hugetlb: map[string]HugetlbStats{},
	}
	for size, h := range cs.HugetlbStats {
		s.Hugetlb[size] = HugetlbStats{Usage: h.Usage, Max: h.MaxUsage, Failcnt: h.Failcnt}
	}
	return s
}

func memoryEntry(m cgroups.MemoryData) MemoryEntry {
	return MemoryEntry{Limit: m.Limit, Usage: m.Usage, Max: m.MaxUsage, Failcnt: m.Failcnt}
}

func blkioEntries(in []cgroups.BlkioStatEntry) []BlkioEntry {
	out := make([]BlkioEntry, 0, len(in))
	for _, e := range in {
		out = append(out, BlkioEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value})
	}
	return out
}

// Processes returns the host pids of every process in the container's
// cgroup, sub-cgroups included (bcgroups.Procs).
func (c *Container) Processes() ([]int, error) {
	if len(c.state.CgroupPaths) == 0 {
		return nil, errors.New("the container has no cgroup")
	}
	return bcgroups.Procs(c.state.CgroupPaths)
}

// OOMNotifier reports OOM kills in the container's memory cgroup.
type OOMNotifier struct {
	// C gets one value per OOM event; it is closed when the cgroup goes
	// away.
	C     <-chan struct{}
	close func()
	// v2 polls memory.events' oom_kill counter instead.
	v2Path string
	v2Last uint64
}

// Close stops the notifier.
func (n *OOMNotifier) Close() {
	if n.close != nil {
		n.close()
	}
}

// NotifyOOM registers for OOM events: on cgroup v1 through an eventfd
// bound to memory.oom_control; on v2 by reading memory.events (Poll).
func (c *Container) NotifyOOM() (*OOMNotifier, error) {
	if dir, ok := c.state.CgroupPaths["memory"]; ok {
		return notifyOOMv1(dir)
	}
	if dir, ok := c.state.CgroupPaths[""]; ok {
		if _, err := os.Stat(dir + "/memory.events"); err == nil {
			n := &OOMNotifier{v2Path: dir + "/memory.events"}
			n.v2Last, _ = readOOMKills(n.v2Path)
			return n, nil
		}
	}
	return &OOMNotifier{}, nil
}

// Poll returns how many OOM kills happened since the last Poll (v2).
func (n *OOMNotifier) Poll() int {
	if n.v2Path == "" {
		return 0
	}
	v, err := readOOMKills(n.v2Path)
	if err != nil || v <= n.v2Last {
		return 0
	}
	d := v - n.v2Last
	n.v2Last = v
	return int(d)
}

func readOOMKills(path string) (uint64, error) {
	return readMemoryEvent(path, "oom_kill")
}

// readMemoryEvent reads the counter key of a cgroup v2 memory.events file
// (0 when the file has no such line).
func readMemoryEvent(path, key string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+" "); ok {
			return strconv.ParseUint(v, 10, 64)
		}
	}
	return 0, nil
}

func notifyOOMv1(dir string) (*OOMNotifier, error) {
	ctl, err := os.OpenFile(dir+"/memory.oom_control", os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open memory.oom_control: %w", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		ctl.Close()
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := os.NewFile(uintptr(efd), "oom-eventfd")
	reg := fmt.Sprintf("%d %d", efd, ctl.Fd())
	if err := os.WriteFile(dir+"/cgroup.event_control", []byte(reg), 0o700); err != nil {
		ev.Close()
		ctl.Close()
		return nil, fmt.Errorf("register OOM notification: %w", err)
	}
	ch := make(chan struct{}, 16)
	go func() {
		defer close(ch)
		buf := make([]byte, 8)
		for {
			if _, err := ev.Read(buf); err != nil {
				return
			}
			// The kernel also signals the eventfd when the cgroup is
			// removed: only a still-existing cgroup means an OOM.
			if _, err := os.Lstat(dir + "/memory.oom_control"); err != nil {
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return &OOMNotifier{C: ch, close: func() { ev.Close(); ctl.Close() }}, nil
}

// Deleted reports whether the container's state directory is gone: a
// watcher (events) of a deleted container has nothing left to watch,
// whatever became of its processes.
func (c *Container) Deleted() bool {
	_, err := os.Lstat(c.dir())
	return errors.Is(err, os.ErrNotExist)
}
