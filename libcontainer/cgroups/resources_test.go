package cgroups

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	devconfig "github.com/opencontainers/cgroups/devices/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func ptr[T any](v T) *T { return &v }

func TestConvertResourcesNil(t *testing.T) {
	res, err := ConvertResources(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &cgroups.Resources{Devices: append([]*devconfig.Rule{denyAll()}, defaultAllowedDevices()...)}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("ConvertResources(nil) = %+v, want only the default device rules", res)
	}
	empty, err := ConvertResources(&specs.LinuxResources{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(empty, want) {
		t.Fatalf("ConvertResources(empty) = %+v, want %+v", empty, want)
	}
}

func denyAll() *devconfig.Rule {
	return &devconfig.Rule{Type: 'a', Major: -1, Minor: -1, Permissions: "rwm", Allow: false}
}

func ruleStrings(rules []*devconfig.Rule) []string {
	var out []string
	for _, r := range rules {
		s := r.CgroupString()
		if r.Allow {
			s = "allow " + s
		} else {
			s = "deny " + s
		}
		out = append(out, s)
	}
	return out
}

func TestDeviceRulesOrder(t *testing.T) {
	res, err := ConvertResources(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr[int64](10), Minor: ptr[int64](229), Access: "wr"},
		{Allow: true, Type: "b", Major: ptr[int64](8), Access: "mrrw"},
		{Allow: false, Type: "c", Major: ptr[int64](1), Minor: ptr[int64](3), Access: "w"},
		{Allow: true, Type: "a", Minor: ptr[int64](-1), Access: "m"},
		// runc's v1 device code drops letters other than r, w, m.
		{Allow: true, Type: "c", Major: ptr[int64](4), Minor: ptr[int64](64), Access: "rwa"},
		{Allow: true, Type: "c", Major: ptr[int64](4), Minor: ptr[int64](65), Access: "amw"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"deny a *:* rwm", // implicit deny-all
		"deny a *:* rwm", // the spec's own list, in order
		"allow c 10:229 rw",
		"allow b 8:* rwm",
		"deny c 1:3 w",
		"allow a *:* m",
		"allow c 4:64 rw",
		"allow c 4:65 wm",
		// runc's default allow list, last so that it survives the spec's
		// leading deny-all.
		"allow c *:* m",
		"allow b *:* m",
		"allow c 1:3 rwm",
		"allow c 1:5 rwm",
		"allow c 1:7 rwm",
		"allow c 1:8 rwm",
		"allow c 1:9 rwm",
		"allow c 5:0 rwm",
		// not c 5:1: the host's /dev/console is not for every container
		"allow c 5:2 rwm",
		"allow c 136:* rwm",
		"allow c 10:200 rwm",
	}
	if got := ruleStrings(res.Devices); !reflect.DeepEqual(got, want) {
		t.Fatalf("device rules:\n got %q\nwant %q", got, want)
	}
}

func TestConvertResourcesFields(t *testing.T) {
	in := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{
			Limit:             ptr[int64](64 << 20),
			Reservation:       ptr[int64](32 << 20),
			Swap:              ptr[int64](128 << 20),
			Kernel:            ptr[int64](1 << 20),
			KernelTCP:         ptr[int64](1 << 20),
			Swappiness:        ptr[uint64](60),
			DisableOOMKiller:  ptr(true),
			UseHierarchy:      ptr(true),
			CheckBeforeUpdate: ptr(true),
		},
		CPU: &specs.LinuxCPU{
			Shares:          ptr[uint64](512),
			Quota:           ptr[int64](50000),
			Burst:           ptr[uint64](10000),
			Period:          ptr[uint64](100000),
			RealtimeRuntime: ptr[int64](950000),
			RealtimePeriod:  ptr[uint64](1000000),
			Cpus:            "0-3,5,8-15:2/4",
			Mems:            "0",
			Idle:            ptr[int64](1),
		},
		Pids: &specs.LinuxPids{Limit: ptr[int64](5)},
		BlockIO: &specs.LinuxBlockIO{
			Weight:     ptr[uint16](300),
			LeafWeight: ptr[uint16](10),
			WeightDevice: []specs.LinuxWeightDevice{
				{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: ptr[uint16](500), LeafWeight: ptr[uint16](1000)},
				{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Weight: ptr[uint16](20)},
			},
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1}},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 1}, Rate: 2}},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 2}, Rate: 3}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 3}, Rate: 4}},
		},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}, {Pagesize: "1GB", Limit: 0}},
		Network: &specs.LinuxNetwork{
			ClassID:    ptr[uint32](0x100001),
			Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}, {Name: "lo", Priority: 1}},
		},
		Rdma:    map[string]specs.LinuxRdma{"mlx5_1": {HcaHandles: ptr[uint32](3), HcaObjects: ptr[uint32](10000)}},
		Unified: map[string]string{"memory.high": "1G", "cgroup.max.depth": "3"},
	}
	got, err := ConvertResources(in)
	if err != nil {
		t.Fatal(err)
	}
	want := &cgroups.Resources{
		Devices:           append([]*devconfig.Rule{denyAll()}, defaultAllowedDevices()...),
		Memory:            64 << 20,
		MemoryReservation: 32 << 20,
		MemorySwap:        128 << 20,
		CpuShares:         512,
		CpuWeight:         cgroups.ConvertCPUSharesToCgroupV2Value(512),
		CpuQuota:          50000,
		CpuBurst:          ptr[uint64](10000),
		CpuPeriod:         100000,
		CpuRtRuntime:      950000,
		CpuRtPeriod:       1000000,
		CpusetCpus:        "0-3,5,8-15:2/4",
		CpusetMems:        "0",
		CPUIdle:           ptr[int64](1),
		PidsLimit:         ptr[int64](5),
		BlkioWeight:       300,
		BlkioLeafWeight:   10,
		BlkioWeightDevice: []*cgroups.WeightDevice{
			cgroups.NewWeightDevice(8, 0, 500, 1000),
			cgroups.NewWeightDevice(8, 16, 20, 0),
		},
		BlkioThrottleReadBpsDevice:   []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, 0, 1)},
		BlkioThrottleWriteBpsDevice:  []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, 1, 2)},
		BlkioThrottleReadIOPSDevice:  []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, 2, 3)},
		BlkioThrottleWriteIOPSDevice: []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, 3, 4)},
		HugetlbLimit: []*cgroups.HugepageLimit{
			{Pagesize: "2MB", Limit: 4 << 20},
			{Pagesize: "1GB", Limit: 0},
		},
		OomKillDisable:          true,
		MemorySwappiness:        ptr[uint64](60),
		NetPrioIfpriomap:        []*cgroups.IfPrioMap{{Interface: "eth0", Priority: 5}, {Interface: "lo", Priority: 1}},
		NetClsClassid:           0x100001,
		Rdma:                    map[string]cgroups.LinuxRdma{"mlx5_1": {HcaHandles: ptr[uint32](3), HcaObjects: ptr[uint32](10000)}},
		Unified:                 map[string]string{"memory.high": "1G", "cgroup.max.depth": "3"},
		MemoryCheckBeforeUpdate: true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ConvertResources:\n got %+v\nwant %+v", got, want)
	}
	if want.CpuWeight == 0 || want.CpuWeight == 512 {
		t.Fatalf("cpu weight %d was not converted from shares", want.CpuWeight)
	}

	// The result must not alias the spec: a later change to config data
	// (e.g. by `berth update`) must not leak into a live manager.
	in.Unified["memory.high"] = "2G"
	*in.Pids.Limit = 7
	*in.CPU.Burst = 1
	if got.Unified["memory.high"] != "1G" || *got.PidsLimit != 5 || *got.CpuBurst != 10000 {
		t.Fatal("ConvertResources result aliases the spec")
	}
}

func TestConvertResourcesSpecialValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    specs.LinuxResources
		check func(*cgroups.Resources) bool
	}{
		{"unlimited memory and swap", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](-1), Swap: ptr[int64](-1)}},
			func(r *cgroups.Resources) bool { return r.Memory == -1 && r.MemorySwap == -1 }},
		{"swap -1 with a limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](1 << 20), Swap: ptr[int64](-1)}},
			func(r *cgroups.Resources) bool { return r.Memory == 1<<20 && r.MemorySwap == -1 }},
		{"swap equal to limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](1 << 20), Swap: ptr[int64](1 << 20)}},
			func(r *cgroups.Resources) bool { return r.MemorySwap == 1<<20 }},
		{"swap 0 means unset", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](1 << 20), Swap: ptr[int64](0)}},
			func(r *cgroups.Resources) bool { return r.MemorySwap == 0 }},
		{"swappiness -1 as uint64 keeps the default", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr[uint64](math.MaxUint64)}},
			func(r *cgroups.Resources) bool { return r.MemorySwappiness == nil }},
		{"swappiness 0", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr[uint64](0)}},
			func(r *cgroups.Resources) bool { return r.MemorySwappiness != nil && *r.MemorySwappiness == 0 }},
		{"disableOOMKiller false", specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: ptr(false)}},
			func(r *cgroups.Resources) bool { return !r.OomKillDisable }},
		{"useHierarchy false is ignored", specs.LinuxResources{Memory: &specs.LinuxMemory{UseHierarchy: ptr(false)}},
			func(r *cgroups.Resources) bool { return r.Memory == 0 }},
		{"cpu quota -1", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](-1)}},
			func(r *cgroups.Resources) bool { return r.CpuQuota == -1 }},
		{"realtime runtime -1", specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr[int64](-1)}},
			func(r *cgroups.Resources) bool { return r.CpuRtRuntime == -1 }},
		{"idle 0", specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: ptr[int64](0)}},
			func(r *cgroups.Resources) bool { return r.CPUIdle != nil && *r.CPUIdle == 0 }},
		{"pids 0", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](0)}},
			func(r *cgroups.Resources) bool { return r.PidsLimit != nil && *r.PidsLimit == 0 }},
		{"pids unlimited", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](-1)}},
			func(r *cgroups.Resources) bool { return r.PidsLimit != nil && *r.PidsLimit == -1 }},
		{"pids without limit keeps current", specs.LinuxResources{Pids: &specs.LinuxPids{}},
			func(r *cgroups.Resources) bool { return r.PidsLimit == nil }},
		{"empty unified stays nil", specs.LinuxResources{Unified: map[string]string{}},
			func(r *cgroups.Resources) bool { return r.Unified == nil }},
		{"single cpu list", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "7", Mems: "0-1"}},
			func(r *cgroups.Resources) bool { return r.CpusetCpus == "7" && r.CpusetMems == "0-1" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ConvertResources(&tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(res) {
				t.Fatalf("unexpected result %+v", res)
			}
		})
	}
}

func TestConvertResourcesErrors(t *testing.T) {
	wd := func(w, leaf *uint16) []specs.LinuxWeightDevice {
		return []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8}, Weight: w, LeafWeight: leaf}}
	}
	td := func(major, minor int64) []specs.LinuxThrottleDevice {
		return []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: major, Minor: minor}, Rate: 1}}
	}
	for _, tc := range []struct {
		name string
		in   specs.LinuxResources
		want string
	}{
		{"device type", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "p", Access: "r"}}}, `devices[0]: invalid type "p"`},
		{"device empty access", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "c"}, {Type: "c"}}}, "devices[0]: access must not be empty"},
		{"device access letters", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Access: "ax"}}}, `devices[0]: invalid access "ax"`},
		{"device major", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "c", Major: ptr[int64](-2), Access: "r"}}}, "devices[0]: invalid major -2"},
		{"device minor", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Access: "r"}, {Type: "b", Minor: ptr[int64](-5), Access: "r"}}}, "devices[1]: invalid minor -5"},
		{"memory limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](-2)}}, "memory: limit -2"},
		{"memory reservation", specs.LinuxResources{Memory: &specs.LinuxMemory{Reservation: ptr[int64](-3)}}, "memory: reservation -3"},
		{"memory swap negative", specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: ptr[int64](-4)}}, "memory: swap -4"},
		{"memory kernel", specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: ptr[int64](-5)}}, "memory: kernel -5"},
		{"memory kernelTCP", specs.LinuxResources{Memory: &specs.LinuxMemory{KernelTCP: ptr[int64](-6)}}, "memory: kernelTCP -6"},
		{"memory swap below limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](2 << 20), Swap: ptr[int64](1 << 20)}}, "memory: swap 1048576 is lower than limit 2097152"},
		{"memory swappiness", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr[uint64](101)}}, "memory: swappiness 101"},
		{"cpu quota", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](-2)}}, "cpu: quota -2"},
		{"cpu realtime runtime", specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr[int64](-2)}}, "cpu: realtimeRuntime -2"},
		{"cpu idle", specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: ptr[int64](2)}}, "cpu: idle 2"},
		{"cpus word", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "all"}}, `cpu: cpus "all"`},
		{"cpus reversed range", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "3-1"}}, "range end is below its start"},
		{"cpus empty item", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0,,1"}}, "empty item"},
		{"cpus trailing comma", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0,"}}, "empty item"},
		{"cpus space", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0, 1"}}, `" 1" is not a number`},
		{"cpus sign", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "+1"}}, `"+1" is not a number`},
		{"cpus negative", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "-1"}}, `"" is not a number`},
		{"cpus huge", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "99999999999"}}, "out of range"},
		{"cpus stride without range", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "4:1/2"}}, "a stride needs a range"},
		{"cpus stride form", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-7:2"}}, "stride must be used/group"},
		{"cpus stride values", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-7:3/2"}}, "0 < used <= group"},
		{"mems", specs.LinuxResources{CPU: &specs.LinuxCPU{Mems: "0-"}}, `cpu: mems "0-"`},
		{"blkio weight low", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](5)}}, "blockIO: weight 5: must be 10-1000"},
		{"blkio weight high", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](1001)}}, "blockIO: weight 1001"},
		{"blkio leaf weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: ptr[uint16](0)}}, "blockIO: leafWeight 0"},
		{"blkio weight device weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: wd(ptr[uint16](1), nil)}}, "weightDevice[0].weight 1"},
		{"blkio weight device leaf", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: wd(nil, ptr[uint16](2000))}}, "weightDevice[0].leafWeight 2000"},
		{"blkio weight device empty", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: wd(nil, nil)}}, "neither weight nor leafWeight"},
		{"blkio weight device number", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: -1}, Weight: ptr[uint16](100)}}}}, "weightDevice[0]: invalid device -1:0"},
		{"blkio throttle read bps", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: td(-1, 0)}}, "throttleReadBpsDevice[0]: invalid device"},
		{"blkio throttle write bps", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleWriteBpsDevice: td(8, -1)}}, "throttleWriteBpsDevice[0]: invalid device"},
		{"blkio throttle read iops", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadIOPSDevice: td(-8, 0)}}, "throttleReadIOPSDevice[0]: invalid device"},
		{"blkio throttle write iops", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleWriteIOPSDevice: td(0, -3)}}, "throttleWriteIOPSDevice[0]: invalid device"},
		{"hugepage size", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2M", Limit: 1}}}, `hugepageLimits[0]: invalid pageSize "2M"`},
		{"hugepage size empty", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB"}, {}}}, `hugepageLimits[1]: invalid pageSize ""`},
		{"network priority name", specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "eth0 1", Priority: 1}}}}, "network: priorities[0]: invalid interface name"},
		{"network priority empty", specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Priority: 1}}}}, "network: priorities[0]: invalid interface name"},
		{"rdma device", specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"": {}}}, `rdma: invalid device name ""`},
		{"unified slash", specs.LinuxResources{Unified: map[string]string{"../memory.max": "1"}}, `unified: invalid key "../memory.max"`},
		{"unified dotdot", specs.LinuxResources{Unified: map[string]string{"..": "1"}}, `unified: invalid key ".."`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ConvertResources(&tc.in)
			if err == nil {
				t.Fatalf("no error, got %+v", res)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestCheckCPUListValid(t *testing.T) {
	for _, s := range []string{"0", "0-0", "0,1,2", "0-3,8-11", "0-1023:2/256", "1-5:1/1,7"} {
		if err := checkCPUList(s); err != nil {
			t.Errorf("checkCPUList(%q): %v", s, err)
		}
	}
}

func TestValidPageSize(t *testing.T) {
	for _, s := range []string{"64KB", "2MB", "1GB", "16GB", "512KB", "10MB"} {
		if !validPageSize(s) {
			t.Errorf("validPageSize(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "B", "KB", "2M", "2mb", "02MB", "0MB", "2TB", "2 MB", "-2MB", "2MBB", "x2MB", "2KMB"} {
		if validPageSize(s) {
			t.Errorf("validPageSize(%q) = true, want false", s)
		}
	}
}
