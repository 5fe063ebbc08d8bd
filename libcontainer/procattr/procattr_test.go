package procattr

import (
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/libcontainer/inittest"
)

func TestSchedAttr(t *testing.T) {
	a, err := SchedAttr(&specs.Scheduler{Policy: specs.SchedFIFO, Priority: 10, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork, specs.SchedFlagUtilClampMax}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Policy != 1 || a.Priority != 10 || a.Flags != 0x41 || a.Size != 0x38 {
		t.Fatalf("FIFO: got %+v", a)
	}
	a, err = SchedAttr(&specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 1e6, Deadline: 2e6, Period: 3e6})
	if err != nil || a.Policy != 6 || a.Runtime != 1e6 || a.Deadline != 2e6 || a.Period != 3e6 {
		t.Fatalf("DEADLINE: got %+v, %v", a, err)
	}
	a, err = SchedAttr(&specs.Scheduler{Policy: specs.SchedBatch, Nice: -5})
	if err != nil || a.Policy != 3 || a.Nice != -5 {
		t.Fatalf("BATCH: got %+v, %v", a, err)
	}
	for _, bad := range []struct {
		s    specs.Scheduler
		want string
	}{
		{specs.Scheduler{}, "policy is required"},
		{specs.Scheduler{Policy: "SCHED_FAST"}, "not a scheduling policy"},
		{specs.Scheduler{Policy: specs.SchedOther, Nice: 20}, "nice 20"},
		{specs.Scheduler{Policy: specs.SchedOther, Priority: 1}, "only for SCHED_FIFO"},
		{specs.Scheduler{Policy: specs.SchedRR, Priority: 100}, "outside [1, 99]"},
		{specs.Scheduler{Policy: specs.SchedIdle, Runtime: 1}, "only for SCHED_DEADLINE"},
		{specs.Scheduler{Policy: specs.SchedIdle, Flags: []specs.LinuxSchedulerFlag{"SCHED_FLAG_X"}}, "not a scheduler flag"},
	} {
		if _, err := SchedAttr(&bad.s); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: got %v, want %q", bad.s, err, bad.want)
		}
	}
}

func TestIOPrio(t *testing.T) {
	for _, c := range []struct {
		p    specs.LinuxIOPriority
		want int
	}{
		{specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT, Priority: 0}, 1 << 13},
		{specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 7}, 2<<13 | 7},
		{specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE}, 3 << 13},
	} {
		if got, err := IOPrio(&c.p); err != nil || got != c.want {
			t.Errorf("%+v: got %#x, %v; want %#x", c.p, got, err, c.want)
		}
	}
	for _, bad := range []specs.LinuxIOPriority{{Class: "IOPRIO_CLASS_NONE"}, {Class: specs.IOPRIO_CLASS_BE, Priority: 8}, {Class: specs.IOPRIO_CLASS_BE, Priority: -1}} {
		if _, err := IOPrio(&bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestPersonality(t *testing.T) {
	if v, err := Personality(&specs.LinuxPersonality{Domain: specs.PerLinux32}); err != nil || v != 8 {
		t.Fatalf("LINUX32: %d, %v", v, err)
	}
	if v, err := Personality(&specs.LinuxPersonality{Domain: specs.PerLinux}); err != nil || v != 0 {
		t.Fatalf("LINUX: %d, %v", v, err)
	}
	if _, err := Personality(&specs.LinuxPersonality{Domain: "LINUX64"}); err == nil {
		t.Fatal("unknown domain accepted")
	}
	if _, err := Personality(&specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}); err == nil || !strings.Contains(err.Error(), "ADDR_NO_RANDOMIZE") {
		t.Fatalf("undefined flag: %v", err)
	}
}

func TestMemoryPolicy(t *testing.T) {
	mp, err := MemoryPolicy(&specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-2,5,64", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}})
	if err != nil {
		t.Fatal(err)
	}
	if mp.Mode != 2|1<<15 || !slices.Equal(mp.Nodes, []uint64{0b100111, 1}) {
		t.Fatalf("BIND: got mode %#x nodes %b", mp.Mode, mp.Nodes)
	}
	modes := map[specs.MemoryPolicyModeType]int{
		specs.MpolDefault: 0, specs.MpolPreferred: 1, specs.MpolBind: 2, specs.MpolInterleave: 3,
		specs.MpolLocal: 4, specs.MpolPreferredMany: 5, specs.MpolWeightedInterleave: 6,
	}
	for _, name := range MemoryPolicyModes() {
		m := specs.MemoryPolicyModeType(name)
		nodes := "0"
		if m == specs.MpolDefault || m == specs.MpolLocal {
			nodes = ""
		}
		mp, err := MemoryPolicy(&specs.LinuxMemoryPolicy{Mode: m, Nodes: nodes})
		if err != nil || mp.Mode != modes[m] {
			t.Errorf("%s: got %+v, %v", m, mp, err)
		}
	}
	if mp, err := MemoryPolicy(&specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred}); err != nil || mp.Nodes != nil {
		t.Errorf("PREFERRED without nodes (local allocation): %+v, %v", mp, err)
	}
	for _, bad := range []struct {
		m    specs.LinuxMemoryPolicy
		want string
	}{
		{specs.LinuxMemoryPolicy{Mode: "MPOL_FIRST_TOUCH"}, "not a memory policy mode"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolLocal, Nodes: "0"}, "takes no nodes"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: "1"}, "takes no nodes"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: "0-7"}, "invalid memory policy: linux.memoryPolicy: MPOL_DEFAULT takes no nodes (mode requires 0 nodes but got 8)"},
		{specs.LinuxMemoryPolicy{Nodes: "0-7"}, "invalid memory policy mode"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-9876543210"}, "invalid memory policy node"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave}, "needs nodes"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "3-1"}, "backwards"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "a"}, "not a number"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "1024"}, "not below 1024"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{"MPOL_F_X"}}, "invalid memory policy flag: linux.memoryPolicy.flags: \"MPOL_F_X\" is not a memory policy flag"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes, specs.MpolFRelativeNodes}}, "exclude each other"},
	} {
		if _, err := MemoryPolicy(&bad.m); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: got %v, want %q", bad.m, err, bad.want)
		}
	}
}

func TestCPUSet(t *testing.T) {
	set, err := CPUSet("f", "1,3-4, 65")
	if err != nil {
		t.Fatal(err)
	}
	for cpu, want := range map[int]bool{0: false, 1: true, 2: false, 3: true, 4: true, 5: false, 65: true} {
		if set.IsSet(cpu) != want {
			t.Errorf("cpu %d: set %t, want %t", cpu, set.IsSet(cpu), want)
		}
	}
	if set.Count() != 4 {
		t.Errorf("count %d, want 4", set.Count())
	}
	for _, bad := range []string{"", "x", "1-", "-1", "5-2", "99999"} {
		if _, err := CPUSet("process.execCPUAffinity.final", bad); err == nil || !strings.HasPrefix(err.Error(), "process.execCPUAffinity.final: ") {
			t.Errorf("%q: got %v", bad, err)
		}
	}
	if err := CPUAffinity(&specs.CPUAffinity{Initial: "0", Final: "0-1"}); err != nil {
		t.Error(err)
	}
	if err := CPUAffinity(&specs.CPUAffinity{Initial: "z"}); err == nil || !strings.Contains(err.Error(), "initial") {
		t.Errorf("bad initial: %v", err)
	}
}

// The tables are static data: nothing is built for them when a berth
// process starts.
func TestTablesAreStatic(t *testing.T) {
	inittest.NoAllocs(t, "github.com/berth-runtime/berth/libcontainer/procattr")
}

func TestTablesNamesUnique(t *testing.T) {
	for name, dup := range map[string]string{
		"schedPolicies": string(schedPolicies.Duplicate()), "schedFlags": string(schedFlags.Duplicate()),
		"ioprioClasses": string(ioprioClasses.Duplicate()), "mpolModes": string(mpolModes.Duplicate()),
		"mpolFlags": string(mpolFlags.Duplicate()),
	} {
		if dup != "" {
			t.Errorf("%s lists %q twice", name, dup)
		}
	}
}
