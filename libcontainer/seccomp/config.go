// Package seccomp turns an OCI runtime-spec seccomp configuration into a
// kernel seccomp filter. libseccomp compiles the rules to BPF; the filter is
// then installed with seccomp(2) directly so that berth, not libseccomp,
// decides the load flags (libseccomp-golang always asks for TSYNC and cannot
// be told otherwise).
package seccomp

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// maxErrno is the largest errno the kernel passes back for SECCOMP_RET_ERRNO
// (larger values are clamped), so anything above it is a config mistake.
const maxErrno = 4095

// maxRulesPerEntry bounds how many libseccomp rules one syscalls[] entry may
// expand to when several conditions test the same argument.
const maxRulesPerEntry = 256

// actionInfo describes one runtime-spec action.
type actionInfo struct {
	lib        libseccomp.ScmpAction // libseccomp action, without a return code
	kernel     uint32                // SECCOMP_RET_* value, for SECCOMP_GET_ACTION_AVAIL
	takesErrno bool                  // whether errnoRet means something for it
}

func lookupAction(action specs.LinuxSeccompAction) (actionInfo, bool) {
	switch action {
	case specs.ActKill, specs.ActKillThread:
		return actionInfo{libseccomp.ActKillThread, unix.SECCOMP_RET_KILL_THREAD, false}, true
	case specs.ActKillProcess:
		return actionInfo{libseccomp.ActKillProcess, unix.SECCOMP_RET_KILL_PROCESS, false}, true
	case specs.ActTrap:
		return actionInfo{libseccomp.ActTrap, unix.SECCOMP_RET_TRAP, false}, true
	case specs.ActErrno:
		return actionInfo{libseccomp.ActErrno, unix.SECCOMP_RET_ERRNO, true}, true
	case specs.ActTrace:
		return actionInfo{libseccomp.ActTrace, unix.SECCOMP_RET_TRACE, true}, true
	case specs.ActAllow:
		return actionInfo{libseccomp.ActAllow, unix.SECCOMP_RET_ALLOW, false}, true
	case specs.ActLog:
		return actionInfo{libseccomp.ActLog, unix.SECCOMP_RET_LOG, false}, true
	case specs.ActNotify:
		return actionInfo{libseccomp.ActNotify, unix.SECCOMP_RET_USER_NOTIF, false}, true
	}
	return actionInfo{}, false
}

// checkAction validates an action together with its errnoRet.
func checkAction(action specs.LinuxSeccompAction, errnoRet *uint) error {
	info, ok := lookupAction(action)
	if !ok {
		return fmt.Errorf("unknown action %q", action)
	}
	if errnoRet == nil {
		return nil
	}
	if !info.takesErrno {
		return fmt.Errorf("errnoRet is only valid with %s or %s, not with %s", specs.ActErrno, specs.ActTrace, action)
	}
	limit := uint(maxErrno)
	if action == specs.ActTrace {
		limit = 0xffff // the whole SECCOMP_RET_DATA field goes to the tracer
	}
	if *errnoRet > limit {
		return fmt.Errorf("errnoRet %d for %s is out of range (max %d)", *errnoRet, action, limit)
	}
	return nil
}

// convertAction gives the libseccomp action for a validated action, with
// errnoRet (default EPERM) as the return code for ERRNO and TRACE.
func convertAction(action specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	if err := checkAction(action, errnoRet); err != nil {
		return libseccomp.ActInvalid, err
	}
	info, _ := lookupAction(action)
	if !info.takesErrno {
		return info.lib, nil
	}
	code := uint(unix.EPERM)
	if errnoRet != nil {
		code = *errnoRet
	}
	return info.lib.SetReturnCode(int16(uint16(code))), nil
}

func convertOperator(op specs.LinuxSeccompOperator) (libseccomp.ScmpCompareOp, error) {
	switch op {
	case specs.OpNotEqual:
		return libseccomp.CompareNotEqual, nil
	case specs.OpLessThan:
		return libseccomp.CompareLess, nil
	case specs.OpLessEqual:
		return libseccomp.CompareLessOrEqual, nil
	case specs.OpEqualTo:
		return libseccomp.CompareEqual, nil
	case specs.OpGreaterEqual:
		return libseccomp.CompareGreaterEqual, nil
	case specs.OpGreaterThan:
		return libseccomp.CompareGreater, nil
	case specs.OpMaskedEqual:
		return libseccomp.CompareMaskedEqual, nil
	}
	return libseccomp.CompareInvalid, fmt.Errorf("unknown operator %q", op)
}

// specArchs lists every architecture name the runtime spec defines.
func specArchs() []specs.Arch {
	return []specs.Arch{
		specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
		specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL,
		specs.ArchMIPSEL64, specs.ArchMIPSEL64N32, specs.ArchPPC, specs.ArchPPC64,
		specs.ArchPPC64LE, specs.ArchS390, specs.ArchS390X, specs.ArchPARISC,
		specs.ArchPARISC64, specs.ArchRISCV64, specs.ArchLOONGARCH64, specs.ArchM68K,
		specs.ArchSH, specs.ArchSHEB,
	}
}

func convertArch(arch specs.Arch) (libseccomp.ScmpArch, error) {
	known := false
	for _, a := range specArchs() {
		known = known || a == arch
	}
	if !known {
		return libseccomp.ArchInvalid, fmt.Errorf("unknown architecture %q", arch)
	}
	// The spec names are libseccomp's SCMP_ARCH_* macros; libseccomp's
	// string form is the lower-case suffix ("SCMP_ARCH_X86_64" -> "x86_64").
	name := strings.ToLower(strings.TrimPrefix(string(arch), "SCMP_ARCH_"))
	a, err := libseccomp.GetArchFromString(name)
	if err != nil {
		return libseccomp.ArchInvalid, fmt.Errorf("architecture %q: %w", arch, err)
	}
	return a, nil
}

// loadFlags holds the parsed "flags" list.
type loadFlags struct {
	log, specAllow, waitKillableRecv bool
}

// FlagTsync is not in runtime-spec v1.3.0's constants but is listed by its
// documentation. It is accepted and not passed on (filterFlags).
const FlagTsync specs.LinuxSeccompFlag = "SECCOMP_FILTER_FLAG_TSYNC"

func parseFlags(flags []specs.LinuxSeccompFlag) (loadFlags, error) {
	var out loadFlags
	for _, f := range flags {
		switch f {
		case FlagTsync:
			// accepted, not passed on (filterFlags)
		case specs.LinuxSeccompFlagLog:
			out.log = true
		case specs.LinuxSeccompFlagSpecAllow:
			out.specAllow = true
		case specs.LinuxSeccompFlagWaitKillableRecv:
			out.waitKillableRecv = true
		default:
			return loadFlags{}, fmt.Errorf("unknown flag %q", f)
		}
	}
	return out, nil
}

// notifyForbidden reports whether the syscall may block berth's init
// before the listener has the notify fd. The init loads the filter, then
// sends the fd to the runtime in a frame (sendmsg), and the runtime hands
// it to the listener; until then a notification waits for an agent that
// does not have the fd yet. So the frame's own syscalls are refused, and
// so are those the Go runtime makes on any of the init's threads at any
// moment (futex, signals, memory management, sleeping), where a thread
// that blocks may hold what the frame's sender needs. Syscalls the init
// makes only once the fd is handed over (reading the runtime's answer,
// closing fds, fcntl, open, execve, exit) wait for the agent's answer like
// the container's own: runc allows them too (its "important syscalls"
// tests), and it refuses only write.
func notifyForbidden(name string) bool {
	switch name {
	case "write", "writev", "sendmsg", "sendto",
		"futex", "rt_sigreturn", "rt_sigprocmask", "sigaltstack", "tgkill",
		"mmap", "munmap", "madvise", "sched_yield", "nanosleep":
		return true
	}
	return false
}

// argGroups splits conditions by argument index, keeping their order, so that
// each group holds the alternatives for one argument.
func argGroups(args []specs.LinuxSeccompArg) [][]specs.LinuxSeccompArg {
	var groups [][]specs.LinuxSeccompArg
	pos := map[uint]int{}
	for _, a := range args {
		i, ok := pos[a.Index]
		if !ok {
			i = len(groups)
			pos[a.Index] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], a)
	}
	return groups
}

// expandArgs turns an entry's conditions into the list of condition sets to
// add as separate rules. Conditions on different arguments are ANDed within
// one rule. libseccomp refuses two checks on the same argument in one rule,
// so several conditions on one argument are alternatives (ORed): every
// combination of one condition per argument becomes its own rule, which is
// (a0 == 1 || a0 == 2) && a1 == 3 for [a0==1, a0==2, a1==3].
func expandArgs(args []specs.LinuxSeccompArg) [][]specs.LinuxSeccompArg {
	if len(args) == 0 {
		return nil
	}
	sets := [][]specs.LinuxSeccompArg{nil}
	for _, group := range argGroups(args) {
		var next [][]specs.LinuxSeccompArg
		for _, set := range sets {
			for _, a := range group {
				combined := append(append([]specs.LinuxSeccompArg(nil), set...), a)
				next = append(next, combined)
			}
		}
		sets = next
	}
	return sets
}

// ruleCount is len(expandArgs(args)) without building the sets.
func ruleCount(args []specs.LinuxSeccompArg) int {
	n := 1
	for _, g := range argGroups(args) {
		n *= len(g)
		if n > maxRulesPerEntry {
			return n
		}
	}
	return n
}

func convertCondition(a specs.LinuxSeccompArg) (libseccomp.ScmpCondition, error) {
	op, err := convertOperator(a.Op)
	if err != nil {
		return libseccomp.ScmpCondition{}, err
	}
	if a.Index > 5 {
		return libseccomp.ScmpCondition{}, fmt.Errorf("argument index %d out of range (0-5)", a.Index)
	}
	if op == libseccomp.CompareMaskedEqual {
		// (arg & value) == valueTwo: value is the mask, valueTwo the datum.
		return libseccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
	}
	return libseccomp.MakeCondition(a.Index, op, a.Value)
}

// Validate checks a config without loading anything and returns an error
// naming the offending field. A nil config is valid (no seccomp).
func Validate(cfg *specs.LinuxSeccomp) error {
	if cfg == nil {
		return nil
	}
	if err := checkAction(cfg.DefaultAction, cfg.DefaultErrnoRet); err != nil {
		return fmt.Errorf("seccomp defaultAction: %w", err)
	}
	if cfg.DefaultAction == specs.ActNotify {
		return errors.New("seccomp defaultAction: SCMP_ACT_NOTIFY would also notify the syscalls the runtime needs before exec; use it on named syscalls only")
	}
	for _, arch := range cfg.Architectures {
		if _, err := convertArch(arch); err != nil {
			return fmt.Errorf("seccomp architectures: %w", err)
		}
	}
	if _, err := parseFlags(cfg.Flags); err != nil {
		return fmt.Errorf("seccomp flags: %w", err)
	}
	if cfg.ListenerMetadata != "" && cfg.ListenerPath == "" {
		return errors.New("seccomp listenerMetadata is set but listenerPath is not")
	}
	for i, sc := range cfg.Syscalls {
		if err := validateSyscall(sc, cfg.ListenerPath); err != nil {
			return fmt.Errorf("seccomp syscalls[%d]: %w", i, err)
		}
	}
	return nil
}

// UsesNotify reports whether a rule of cfg has SCMP_ACT_NOTIFY: only then
// is there a notify fd for listenerPath's agent.
func UsesNotify(cfg *specs.LinuxSeccomp) bool {
	return slices.ContainsFunc(cfg.Syscalls, func(sc specs.LinuxSyscall) bool {
		return sc.Action == specs.ActNotify
	})
}

func validateSyscall(sc specs.LinuxSyscall, listenerPath string) error {
	if len(sc.Names) == 0 {
		return errors.New("names must list at least one syscall")
	}
	if err := checkAction(sc.Action, sc.ErrnoRet); err != nil {
		return err
	}
	if sc.Action == specs.ActNotify {
		if listenerPath == "" {
			return errors.New("SCMP_ACT_NOTIFY requires seccomp.listenerPath")
		}
		for _, name := range sc.Names {
			if notifyForbidden(name) {
				return fmt.Errorf("SCMP_ACT_NOTIFY cannot be used for the %s syscall: the runtime's init makes it before the listener has the notify fd, and would wait for an answer that cannot come", name)
			}
		}
	}
	for _, name := range sc.Names {
		if name == "" {
			return errors.New("empty syscall name")
		}
	}
	for j, a := range sc.Args {
		if _, err := convertCondition(a); err != nil {
			return fmt.Errorf("args[%d]: %w", j, err)
		}
	}
	if n := ruleCount(sc.Args); n > maxRulesPerEntry {
		return fmt.Errorf("args expand to %d rules (max %d): too many conditions on the same argument", n, maxRulesPerEntry)
	}
	return nil
}
