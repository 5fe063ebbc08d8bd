// Package procattr turns the per-process kernel attributes of a config
// (process.scheduler, process.ioPriority, process.execCPUAffinity,
// linux.personality, linux.memoryPolicy) into the arguments of the system
// calls that set them. The conversions are pure, so the runtime checks a
// config with them before anything is made, and init applies what they
// return to the thread that execve's the container's process: every one of
// these attributes belongs to that thread and survives execve.
package procattr

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/nametable"
)

// Scheduling policies of sched_setattr(2). SCHED_ISO was never merged
// into Linux; the spec names it, the kernel refuses it (EINVAL).
const (
	schedOther    = 0
	schedFIFO     = 1
	schedRR       = 2
	schedBatch    = 3
	schedISO      = 4
	schedIdle     = 5
	schedDeadline = 6
)

var schedPolicies = nametable.Table[specs.LinuxSchedulerPolicy, uint32]{
	{Name: specs.SchedOther, Val: schedOther},
	{Name: specs.SchedFIFO, Val: schedFIFO},
	{Name: specs.SchedRR, Val: schedRR},
	{Name: specs.SchedBatch, Val: schedBatch},
	{Name: specs.SchedISO, Val: schedISO},
	{Name: specs.SchedIdle, Val: schedIdle},
	{Name: specs.SchedDeadline, Val: schedDeadline},
}

// SCHED_FLAG_* of sched_setattr(2) (include/uapi/linux/sched.h).
var schedFlags = nametable.Table[specs.LinuxSchedulerFlag, uint64]{
	{Name: specs.SchedFlagResetOnFork, Val: 0x01},
	{Name: specs.SchedFlagReclaim, Val: 0x02},
	{Name: specs.SchedFlagDLOverrun, Val: 0x04},
	{Name: specs.SchedFlagKeepPolicy, Val: 0x08},
	{Name: specs.SchedFlagKeepParams, Val: 0x10},
	{Name: specs.SchedFlagUtilClampMin, Val: 0x20},
	{Name: specs.SchedFlagUtilClampMax, Val: 0x40},
}

// SchedAttr checks process.scheduler as runc does and returns the
// sched_setattr argument for it.
func SchedAttr(s *specs.Scheduler) (*unix.SchedAttr, error) {
	if s.Policy == "" {
		return nil, errors.New("process.scheduler.policy is required")
	}
	policy, ok := schedPolicies.Lookup(s.Policy)
	if !ok {
		return nil, fmt.Errorf("process.scheduler.policy %q is not a scheduling policy", s.Policy)
	}
	if s.Nice < -20 || s.Nice > 19 {
		return nil, fmt.Errorf("process.scheduler.nice %d is outside [-20, 19]", s.Nice)
	}
	rt := s.Policy == specs.SchedFIFO || s.Policy == specs.SchedRR
	if s.Priority != 0 && !rt {
		return nil, fmt.Errorf("process.scheduler.priority is only for SCHED_FIFO and SCHED_RR, not %s", s.Policy)
	}
	if s.Priority < 0 || s.Priority > 99 {
		return nil, fmt.Errorf("process.scheduler.priority %d is outside [1, 99]", s.Priority)
	}
	if s.Policy != specs.SchedDeadline && (s.Runtime != 0 || s.Deadline != 0 || s.Period != 0) {
		return nil, fmt.Errorf("process.scheduler runtime/deadline/period are only for SCHED_DEADLINE, not %s", s.Policy)
	}
	attr := &unix.SchedAttr{
		Size:     unix.SizeofSchedAttr,
		Policy:   policy,
		Nice:     s.Nice,
		Priority: uint32(s.Priority),
		Runtime:  s.Runtime,
		Deadline: s.Deadline,
		Period:   s.Period,
	}
	for _, f := range s.Flags {
		v, ok := schedFlags.Lookup(f)
		if !ok {
			return nil, fmt.Errorf("process.scheduler.flags: %q is not a scheduler flag", f)
		}
		attr.Flags |= v
	}
	return attr, nil
}

// ioprio_set(2) encoding (include/uapi/linux/ioprio.h).
const (
	ioprioClassShift = 13
	ioprioWhoProcess = 1
)

var ioprioClasses = nametable.Table[specs.IOPriorityClass, int]{
	{Name: specs.IOPRIO_CLASS_RT, Val: 1},
	{Name: specs.IOPRIO_CLASS_BE, Val: 2},
	{Name: specs.IOPRIO_CLASS_IDLE, Val: 3},
}

// IOPrio checks process.ioPriority and returns the ioprio_set value:
// the class in the high bits, the level (0, highest, to 7) below.
func IOPrio(p *specs.LinuxIOPriority) (int, error) {
	class, ok := ioprioClasses.Lookup(p.Class)
	if !ok {
		return 0, fmt.Errorf("process.ioPriority.class %q is not an I/O priority class", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return 0, fmt.Errorf("process.ioPriority.priority %d is outside [0, 7]", p.Priority)
	}
	return class<<ioprioClassShift | p.Priority, nil
}

// personality(2) domains (include/uapi/linux/personality.h).
const (
	perLinux   = 0x0000
	perLinux32 = 0x0008
)

// Personality checks linux.personality and returns the personality(2)
// argument. The spec defines no flags yet, so any flag is refused rather
// than dropped.
func Personality(p *specs.LinuxPersonality) (uint, error) {
	var v uint
	switch p.Domain {
	case specs.PerLinux:
		v = perLinux
	case specs.PerLinux32:
		v = perLinux32
	default:
		return 0, fmt.Errorf("linux.personality.domain %q is not LINUX or LINUX32", p.Domain)
	}
	if len(p.Flags) > 0 {
		return 0, fmt.Errorf("linux.personality.flags: %q is not a personality flag", p.Flags[0])
	}
	return v, nil
}

// set_mempolicy(2) modes and mode flags (include/uapi/linux/mempolicy.h).
const (
	mpolDefault            = 0
	mpolPreferred          = 1
	mpolBind               = 2
	mpolInterleave         = 3
	mpolLocal              = 4
	mpolPreferredMany      = 5
	mpolWeightedInterleave = 6

	mpolFNumaBalancing = 1 << 13
	mpolFRelativeNodes = 1 << 14
	mpolFStaticNodes   = 1 << 15
)

var mpolModes = nametable.Table[specs.MemoryPolicyModeType, int]{
	{Name: specs.MpolDefault, Val: mpolDefault},
	{Name: specs.MpolPreferred, Val: mpolPreferred},
	{Name: specs.MpolBind, Val: mpolBind},
	{Name: specs.MpolInterleave, Val: mpolInterleave},
	{Name: specs.MpolLocal, Val: mpolLocal},
	{Name: specs.MpolPreferredMany, Val: mpolPreferredMany},
	{Name: specs.MpolWeightedInterleave, Val: mpolWeightedInterleave},
}

var mpolFlags = nametable.Table[specs.MemoryPolicyFlagType, int]{
	{Name: specs.MpolFNumaBalancing, Val: mpolFNumaBalancing},
	{Name: specs.MpolFRelativeNodes, Val: mpolFRelativeNodes},
	{Name: specs.MpolFStaticNodes, Val: mpolFStaticNodes},
}

// MaxNodes bounds the node numbers a memory policy may name (the
// kernel's own limit, CONFIG_NODES_SHIFT, is at most 10).
const MaxNodes = 1024

// MemPolicy is a set_mempolicy call: mode with its flags or'ed in, and
// the node mask (nil for none).
type MemPolicy struct {
	Mode  int
	Nodes []uint64
}

// MemoryPolicy checks linux.memoryPolicy and returns the set_mempolicy
// arguments. It refuses what the spec rules out (nodes with
// MPOL_DEFAULT or MPOL_LOCAL, none with the modes that need some, both
// MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES); what only the running
// kernel can judge (a mode or flag it lacks, nodes outside the cpuset) it
// refuses at set_mempolicy, named by ApplyMemoryPolicy.
func MemoryPolicy(m *specs.LinuxMemoryPolicy) (*MemPolicy, error) {
	mode, ok := mpolModes.Lookup(m.Mode)
	if !ok {
		return nil, fmt.Errorf("invalid memory policy mode: linux.memoryPolicy.mode %q is not a memory policy mode", m.Mode)
	}
	nodes, err := parseList(m.Nodes, MaxNodes)
	if err != nil {
		return nil, fmt.Errorf("invalid memory policy node: linux.memoryPolicy.nodes: %w", err)
	}
	switch mode {
	case mpolDefault, mpolLocal:
		if nodes != nil {
			return nil, fmt.Errorf("invalid memory policy: linux.memoryPolicy: %s takes no nodes (mode requires 0 nodes but got %d)", m.Mode, countBits(nodes))
		}
	case mpolBind, mpolInterleave, mpolPreferredMany, mpolWeightedInterleave:
		if nodes == nil {
			return nil, fmt.Errorf("invalid memory policy: linux.memoryPolicy: %s needs nodes", m.Mode)
		}
	}
	seen := 0
	for _, f := range m.Flags {
		v, ok := mpolFlags.Lookup(f)
		if !ok {
			return nil, fmt.Errorf("invalid memory policy flag: linux.memoryPolicy.flags: %q is not a memory policy flag", f)
		}
		seen |= v
	}
	if seen&mpolFStaticNodes != 0 && seen&mpolFRelativeNodes != 0 {
		return nil, errors.New("invalid memory policy flag: linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other")
	}
	return &MemPolicy{Mode: mode | seen, Nodes: nodes}, nil
}

func countBits(mask []uint64) int {
	n := 0
	for _, w := range mask {
		n += bits.OnesCount64(w)
	}
	return n
}

// CPUSet parses a CPU list ("0-3,7") of process.execCPUAffinity.
func CPUSet(field, list string) (*unix.CPUSet, error) {
	var set unix.CPUSet
	bits, err := parseList(list, len(set)*64)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	if bits == nil {
		return nil, fmt.Errorf("%s: empty CPU list", field)
	}
	for i, w := range bits {
		for b := range 64 {
			if w&(1<<b) != 0 {
				set.Set(i*64 + b)
			}
		}
	}
	return &set, nil
}

// CPUAffinity checks process.execCPUAffinity: each list that is set must
// parse.
func CPUAffinity(a *specs.CPUAffinity) error {
	if a.Initial != "" {
		if _, err := CPUSet("process.execCPUAffinity.initial", a.Initial); err != nil {
			return err
		}
	}
	if a.Final != "" {
		if _, err := CPUSet("process.execCPUAffinity.final", a.Final); err != nil {
			return err
		}
	}
	return nil
}

// parseList parses a kernel list format ("0-3,5,7-8") of numbers below
// limit into a bit mask; "" is nil.
func parseList(s string, limit int) ([]uint64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	mask := make([]uint64, (limit+63)/64)
	top := -1
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := listNumber(lo, limit)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		last := first
		if isRange {
			if last, err = listNumber(hi, limit); err != nil {
				return nil, fmt.Errorf("%q: %w", s, err)
			}
			if last < first {
				return nil, fmt.Errorf("%q: range %s is backwards", s, part)
			}
		}
		for n := first; n <= last; n++ {
			mask[n/64] |= 1 << (n % 64)
		}
		top = max(top, last)
	}
	return mask[:top/64+1], nil
}

func listNumber(s string, limit int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n >= limit {
		return 0, fmt.Errorf("%d is not below %d", n, limit)
	}
	return n, nil
}

// CheckProcess checks the process fields this package applies.
func CheckProcess(p *specs.Process) error {
	if p.Scheduler != nil {
		if _, err := SchedAttr(p.Scheduler); err != nil {
			return err
		}
	}
	if p.IOPriority != nil {
		if _, err := IOPrio(p.IOPriority); err != nil {
			return err
		}
	}
	if p.ExecCPUAffinity != nil {
		return CPUAffinity(p.ExecCPUAffinity)
	}
	return nil
}

// CheckLinux checks the linux fields this package applies.
func CheckLinux(l *specs.Linux) error {
	if l.Personality != nil {
		if _, err := Personality(l.Personality); err != nil {
			return err
		}
	}
	if l.MemoryPolicy != nil {
		if _, err := MemoryPolicy(l.MemoryPolicy); err != nil {
			return err
		}
	}
	return nil
}

// MemoryPolicyModes lists the linux.memoryPolicy modes berth knows, in
// the spec's order, for `berth features`.
func MemoryPolicyModes() []string {
	return []string{
		string(specs.MpolDefault), string(specs.MpolBind), string(specs.MpolInterleave),
		string(specs.MpolWeightedInterleave), string(specs.MpolPreferred),
		string(specs.MpolPreferredMany), string(specs.MpolLocal),
	}
}

// MemoryPolicyFlags lists the linux.memoryPolicy flags berth knows.
func MemoryPolicyFlags() []string {
	return []string{string(specs.MpolFNumaBalancing), string(specs.MpolFRelativeNodes), string(specs.MpolFStaticNodes)}
}
