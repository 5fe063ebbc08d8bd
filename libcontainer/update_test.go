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

// Memory fields that are only warned of are converted (and so warned of)
// only when the update itself names them, not on every later update.
func TestOnlyAskedWarnings(t *testing.T) {
	k, f := int64(1<<20), false
	lim := int64(64 << 20)
	stored := &specs.LinuxMemory{Limit: &lim, Kernel: &k, KernelTCP: &k, UseHierarchy: &f}
	got := onlyAskedWarnings(stored, &specs.LinuxResources{Pids: &specs.LinuxPids{}})
	if got.Kernel != nil || got.KernelTCP != nil || got.UseHierarchy != nil || got.Limit != &lim {
		t.Fatalf("not asked: %+v", got)
	}
	got = onlyAskedWarnings(stored, &specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: &k}})
	if got.Kernel != &k || got.KernelTCP != nil {
		t.Fatalf("asked for kernel: %+v", got)
	}
	if stored.Kernel == nil || onlyAskedWarnings(nil, nil) != nil {
		t.Fatal("stored memory changed, or nil not kept")
	}
}
