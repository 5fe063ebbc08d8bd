package libcontainer

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestMergeResources(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	old := &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		Memory:  &specs.LinuxMemory{Limit: i64(100), Swap: i64(200)},
		CPU:     &specs.LinuxCPU{Shares: u64(10), Cpus: "0"},
	}
	upd := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64(50)},
		CPU:    &specs.LinuxCPU{Quota: i64(1000)},
		Pids:   &specs.LinuxPids{Limit: i64(7)},
	}
	m := mergeResources(old, upd)
	if *m.Memory.Limit != 50 || *m.Memory.Swap != 200 {
		t.Errorf("memory not merged: %+v", m.Memory)
	}
	if *m.CPU.Shares != 10 || *m.CPU.Quota != 1000 || m.CPU.Cpus != "0" {
		t.Errorf("cpu not merged: %+v", m.CPU)
	}
	if *m.Pids.Limit != 7 || len(m.Devices) != 1 {
		t.Errorf("pids or devices wrong: %+v", m)
	}
	// the old resources are not modified
	if *old.Memory.Limit != 100 || old.CPU.Quota != nil || old.Pids != nil {
		t.Errorf("old resources changed: %+v", old)
	}
	*m.Memory.Limit = 1
	if *upd.Memory.Limit != 50 {
		t.Error("merged result aliases the update")
	}
}

func TestUnlimitedSwapWithMemory(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name      string
		in        *specs.LinuxResources
		wantSwap  *int64
		unchanged bool
	}{
		{"nil", nil, nil, true},
		{"no memory", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(3)}}, nil, true},
		{"limit -1 alone", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1)}}, i64(-1), false},
		{"limit -1 with swap", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1), Swap: i64(1 << 30)}}, i64(1 << 30), true},
		{"finite limit", &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1 << 20)}}, nil, true},
	} {
		got := unlimitedSwapWithMemory(tc.in)
		if tc.unchanged {
			if got != tc.in {
				t.Errorf("%s: changed", tc.name)
			}
			continue
		}
		if got.Memory.Swap == nil || *got.Memory.Swap != *tc.wantSwap {
			t.Errorf("%s: swap %v, want %d", tc.name, got.Memory.Swap, *tc.wantSwap)
		}
		if tc.in.Memory.Swap != nil {
			t.Errorf("%s: the input was modified", tc.name)
		}
	}
}

// Fields that are only warned of (or, on cgroup v2, have no interface)
// are converted only when the update itself names them, not on every
// later update.
func TestOnlyAskedWarnings(t *testing.T) {
	k, f := int64(1<<20), false
	lim := int64(64 << 20)
	rt, w := int64(1000), uint16(500)
	stored := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: &lim, Kernel: &k, KernelTCP: &k, UseHierarchy: &f},
		CPU:     &specs.LinuxCPU{RealtimeRuntime: &rt, Cpus: "0"},
		BlockIO: &specs.LinuxBlockIO{LeafWeight: &w, Weight: &w},
	}
	conv := *stored
	onlyAskedWarnings(&conv, &specs.LinuxResources{Pids: &specs.LinuxPids{}})
	if m := conv.Memory; m.Kernel != nil || m.KernelTCP != nil || m.UseHierarchy != nil || m.Limit != &lim {
		t.Fatalf("memory not asked: %+v", m)
	}
	if conv.CPU.RealtimeRuntime != nil || conv.CPU.Cpus != "0" || conv.BlockIO.LeafWeight != nil || conv.BlockIO.Weight != &w {
		t.Fatalf("cpu or blkio not asked: %+v %+v", conv.CPU, conv.BlockIO)
	}
	conv = *stored
	onlyAskedWarnings(&conv, &specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: &k}, CPU: &specs.LinuxCPU{RealtimeRuntime: &rt}})
	if conv.Memory.Kernel != &k || conv.Memory.KernelTCP != nil || conv.CPU.RealtimeRuntime != &rt {
		t.Fatalf("asked: %+v %+v", conv.Memory, conv.CPU)
	}
	sw := uint64(10)
	conv = specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: &sw}, Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "lo"}}}}
	onlyAskedWarnings(&conv, nil)
	if conv.Memory.Swappiness != nil || conv.Network != nil {
		t.Fatalf("swappiness or network not asked: %+v %+v", conv.Memory, conv.Network)
	}
	if stored.Memory.Kernel == nil || stored.CPU.RealtimeRuntime == nil || stored.BlockIO.LeafWeight == nil {
		t.Fatal("the stored resources changed")
	}
	onlyAskedWarnings(&specs.LinuxResources{}, nil)
}
