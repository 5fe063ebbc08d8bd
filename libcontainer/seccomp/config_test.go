package seccomp

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func uintPtr(v uint) *uint { return &v }

// validConfig uses every action, operator, architecture and flag.
func validConfig() *specs.LinuxSeccomp {
	cfg := &specs.LinuxSeccomp{
		DefaultAction:    specs.ActErrno,
		DefaultErrnoRet:  uintPtr(uint(unix.ENOSYS)),
		Flags:            []specs.LinuxSeccompFlag{FlagTsync, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv},
		ListenerPath:     "/run/agent.sock",
		ListenerMetadata: "meta",
	}
	for _, a := range specArchs() {
		cfg.Architectures = append(cfg.Architectures, a)
	}
	for _, a := range SupportedActions() {
		sc := specs.LinuxSyscall{Names: []string{"getpgid"}, Action: specs.LinuxSeccompAction(a)}
		if a == string(specs.ActErrno) || a == string(specs.ActTrace) {
			sc.ErrnoRet = uintPtr(5)
		}
		cfg.Syscalls = append(cfg.Syscalls, sc)
	}
	for i, op := range SupportedOperators() {
		cfg.Syscalls = append(cfg.Syscalls, specs.LinuxSyscall{
			Names:  []string{"personality"},
			Action: specs.ActAllow,
			Args:   []specs.LinuxSeccompArg{{Index: uint(i % 6), Op: specs.LinuxSeccompOperator(op), Value: 1, ValueTwo: 1}},
		})
	}
	return cfg
}

func TestValidateAcceptsEverything(t *testing.T) {
	if err := Validate(validConfig()); err != nil {
		t.Fatalf("Validate(full config) = %v", err)
	}
	if err := Validate(nil); err != nil {
		t.Fatalf("Validate(nil) = %v", err)
	}
	// Notify on syscalls init does not use is fine.
	cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat", "mount"}, Action: specs.ActNotify}}}
	if err := Validate(cfg); err != nil {
		t.Fatalf("Validate(notify mkdir) = %v", err)
	}
}

// SCMP_ACT_NOTIFY on the syscalls the init makes only after the listener
// has the fd: accepted, as runc accepts them.
func TestValidateNotifyAfterHandoff(t *testing.T) {
	for _, name := range []string{"execve", "execveat", "openat", "open", "read", "recvmsg", "close", "close_range", "fcntl", "dup3", "exit_group"} {
		cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x",
			Syscalls: []specs.LinuxSyscall{{Names: []string{name}, Action: specs.ActNotify}}}
		if err := Validate(cfg); err != nil {
			t.Errorf("notify %s: %v", name, err)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	allow := func(sc ...specs.LinuxSyscall) *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: sc}
	}
	tests := []struct {
		name string
		cfg  *specs.LinuxSeccomp
		want string
	}{
		{"empty default action", &specs.LinuxSeccomp{}, `defaultAction: unknown action ""`},
		{"unknown default action", &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BOGUS"}, `unknown action "SCMP_ACT_BOGUS"`},
		{"defaultErrnoRet on allow", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: uintPtr(1)}, "errnoRet is only valid with"},
		{"defaultErrnoRet too big", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uintPtr(5000)}, "out of range"},
		{"trace errnoRet too big", &specs.LinuxSeccomp{DefaultAction: specs.ActTrace, DefaultErrnoRet: uintPtr(70000)}, "out of range"},
		{"default notify", &specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/x"}, "defaultAction: SCMP_ACT_NOTIFY"},
		{"unknown arch", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_VAX"}}, `unknown architecture "SCMP_ARCH_VAX"`},
		{"libseccomp-only arch alias", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_AMD64"}}, "unknown architecture"},
		{"unknown flag", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_BOGUS"}}, `unknown flag "SECCOMP_FILTER_FLAG_BOGUS"`},
		{"metadata without listener", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerMetadata: "m"}, "listenerMetadata is set but listenerPath is not"},
		{"no names", allow(specs.LinuxSyscall{Action: specs.ActErrno}), "syscalls[0]: names must list"},
		{"empty name", allow(specs.LinuxSyscall{Names: []string{""}, Action: specs.ActErrno}), "empty syscall name"},
		{"unknown action", allow(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: "SCMP_ACT_NOPE"}), `unknown action "SCMP_ACT_NOPE"`},
		{"errnoRet on kill", allow(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActKill, ErrnoRet: uintPtr(1)}), "errnoRet is only valid with"},
		{"errnoRet on notify", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x", Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify, ErrnoRet: uintPtr(1)}}}, "errnoRet is only valid with"},
		{"notify without listener", allow(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActNotify}), "requires seccomp.listenerPath"},
		{"unknown operator", allow(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 0, Op: "SCMP_CMP_ABOUT"}}}), `args[0]: unknown operator "SCMP_CMP_ABOUT"`},
		{"arg index 6", allow(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}), "argument index 6 out of range"},
	}
	for _, name := range []string{"write", "writev", "sendmsg", "futex", "mmap", "nanosleep"} {
		tests = append(tests, struct {
			name string
			cfg  *specs.LinuxSeccomp
			want string
		}{"notify " + name, &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x",
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", name}, Action: specs.ActNotify}}},
			`SCMP_ACT_NOTIFY cannot be used for the ` + name + ` syscall`})
	}
	var many []specs.LinuxSeccompArg
	for i := 0; i < 3; i++ {
		for v := uint64(0); v < 7; v++ {
			many = append(many, specs.LinuxSeccompArg{Index: uint(i), Op: specs.OpEqualTo, Value: v})
		}
	}
	tests = append(tests, struct {
		name string
		cfg  *specs.LinuxSeccomp
		want string
	}{"condition explosion", allow(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno, Args: many}), "expand to 343 rules"})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.cfg)
			if err == nil {
				t.Fatalf("Validate succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate error %q does not contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "seccomp ") {
				t.Fatalf("error %q does not say it is about seccomp", err)
			}
		})
	}
}

func TestConvertAction(t *testing.T) {
	tests := []struct {
		action   specs.LinuxSeccompAction
		errnoRet *uint
		want     libseccomp.ScmpAction
	}{
		{specs.ActKill, nil, libseccomp.ActKillThread},
		{specs.ActKillThread, nil, libseccomp.ActKillThread},
		{specs.ActKillProcess, nil, libseccomp.ActKillProcess},
		{specs.ActTrap, nil, libseccomp.ActTrap},
		{specs.ActErrno, nil, libseccomp.ActErrno.SetReturnCode(int16(unix.EPERM))},
		{specs.ActErrno, uintPtr(38), libseccomp.ActErrno.SetReturnCode(38)},
		{specs.ActErrno, uintPtr(0), libseccomp.ActErrno.SetReturnCode(0)},
		{specs.ActTrace, nil, libseccomp.ActTrace.SetReturnCode(int16(unix.EPERM))},
		{specs.ActTrace, uintPtr(0xffff), libseccomp.ActTrace.SetReturnCode(-1)},
		{specs.ActAllow, nil, libseccomp.ActAllow},
		{specs.ActLog, nil, libseccomp.ActLog},
		{specs.ActNotify, nil, libseccomp.ActNotify},
	}
	for _, tc := range tests {
		got, err := convertAction(tc.action, tc.errnoRet)
		if err != nil {
			t.Errorf("convertAction(%s): %v", tc.action, err)
			continue
		}
		if got != tc.want {
			t.Errorf("convertAction(%s, %v) = %#x, want %#x", tc.action, tc.errnoRet, uint(got), uint(tc.want))
		}
	}
	if len(SupportedActions()) != len(tests)-3 {
		t.Errorf("SupportedActions has %d entries, the table covers %d", len(SupportedActions()), len(tests)-3)
	}
	for _, a := range SupportedActions() {
		if _, ok := lookupAction(specs.LinuxSeccompAction(a)); !ok {
			t.Errorf("SupportedActions lists %s which lookupAction does not know", a)
		}
	}
}

func TestConvertOperator(t *testing.T) {
	want := map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
		specs.OpNotEqual:     libseccomp.CompareNotEqual,
		specs.OpLessThan:     libseccomp.CompareLess,
		specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
		specs.OpEqualTo:      libseccomp.CompareEqual,
		specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
		specs.OpGreaterThan:  libseccomp.CompareGreater,
		specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
	}
	if len(SupportedOperators()) != len(want) {
		t.Errorf("SupportedOperators has %d entries, want %d", len(SupportedOperators()), len(want))
	}
	for _, name := range SupportedOperators() {
		got, err := convertOperator(specs.LinuxSeccompOperator(name))
		if err != nil || got != want[specs.LinuxSeccompOperator(name)] {
			t.Errorf("convertOperator(%s) = %v, %v; want %v", name, got, err, want[specs.LinuxSeccompOperator(name)])
		}
	}
}

func TestConvertCondition(t *testing.T) {
	c, err := convertCondition(specs.LinuxSeccompArg{Index: 2, Op: specs.OpMaskedEqual, Value: 0xff00, ValueTwo: 0x1200})
	if err != nil {
		t.Fatal(err)
	}
	want := libseccomp.ScmpCondition{Argument: 2, Op: libseccomp.CompareMaskedEqual, Operand1: 0xff00, Operand2: 0x1200}
	if c != want {
		t.Errorf("masked condition = %+v, want %+v", c, want)
	}
	c, err = convertCondition(specs.LinuxSeccompArg{Index: 1, Op: specs.OpGreaterThan, Value: 7, ValueTwo: 99})
	if err != nil {
		t.Fatal(err)
	}
	if c.Argument != 1 || c.Op != libseccomp.CompareGreater || c.Operand1 != 7 || c.Operand2 != 0 {
		t.Errorf("GT condition = %+v, valueTwo must be ignored", c)
	}
}

func TestConvertArch(t *testing.T) {
	want := map[specs.Arch]libseccomp.ScmpArch{
		specs.ArchX86: libseccomp.ArchX86, specs.ArchX86_64: libseccomp.ArchAMD64,
		specs.ArchX32: libseccomp.ArchX32, specs.ArchARM: libseccomp.ArchARM,
		specs.ArchAARCH64: libseccomp.ArchARM64, specs.ArchMIPS: libseccomp.ArchMIPS,
		specs.ArchMIPS64: libseccomp.ArchMIPS64, specs.ArchMIPS64N32: libseccomp.ArchMIPS64N32,
		specs.ArchMIPSEL: libseccomp.ArchMIPSEL, specs.ArchMIPSEL64: libseccomp.ArchMIPSEL64,
		specs.ArchMIPSEL64N32: libseccomp.ArchMIPSEL64N32, specs.ArchPPC: libseccomp.ArchPPC,
		specs.ArchPPC64: libseccomp.ArchPPC64, specs.ArchPPC64LE: libseccomp.ArchPPC64LE,
		specs.ArchS390: libseccomp.ArchS390, specs.ArchS390X: libseccomp.ArchS390X,
		specs.ArchPARISC: libseccomp.ArchPARISC, specs.ArchPARISC64: libseccomp.ArchPARISC64,
		specs.ArchRISCV64: libseccomp.ArchRISCV64, specs.ArchLOONGARCH64: libseccomp.ArchLOONGARCH64,
		specs.ArchM68K: libseccomp.ArchM68K, specs.ArchSH: libseccomp.ArchSH, specs.ArchSHEB: libseccomp.ArchSHEB,
	}
	for arch, w := range want {
		got, err := convertArch(arch)
		if err != nil || got != w {
			t.Errorf("convertArch(%s) = %v, %v; want %v", arch, got, err, w)
		}
	}
	for _, a := range []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, specs.ArchARM} {
		if !slices.Contains(SupportedArchs(), string(a)) {
			t.Errorf("SupportedArchs() = %v lacks %s", SupportedArchs(), a)
		}
	}
}

func TestParseFlags(t *testing.T) {
	got, err := parseFlags([]specs.LinuxSeccompFlag{FlagTsync, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv})
	if err != nil {
		t.Fatal(err)
	}
	if got != (loadFlags{log: true, specAllow: true, waitKillableRecv: true}) {
		t.Errorf("parseFlags(all) = %+v", got)
	}
	got, err = parseFlags([]specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog})
	if err != nil || got != (loadFlags{log: true}) {
		t.Errorf("parseFlags(log) = %+v, %v", got, err)
	}
	// This kernel (6.x) has all four flags.
	for _, f := range []specs.LinuxSeccompFlag{FlagTsync, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv} {
		if !slices.Contains(SupportedFlags(), string(f)) {
			t.Errorf("SupportedFlags() = %v lacks %s", SupportedFlags(), f)
		}
	}
	if !Enabled() {
		t.Error("Enabled() = false")
	}
}

func TestExpandArgs(t *testing.T) {
	a0x1 := specs.LinuxSeccompArg{Index: 0, Op: specs.OpEqualTo, Value: 1}
	a0x2 := specs.LinuxSeccompArg{Index: 0, Op: specs.OpEqualTo, Value: 2}
	a1x3 := specs.LinuxSeccompArg{Index: 1, Op: specs.OpEqualTo, Value: 3}
	a2x4 := specs.LinuxSeccompArg{Index: 2, Op: specs.OpEqualTo, Value: 4}
	tests := []struct {
		in   []specs.LinuxSeccompArg
		want [][]specs.LinuxSeccompArg
	}{
		{nil, nil},
		{[]specs.LinuxSeccompArg{a0x1, a1x3}, [][]specs.LinuxSeccompArg{{a0x1, a1x3}}},
		{[]specs.LinuxSeccompArg{a0x1, a0x2}, [][]specs.LinuxSeccompArg{{a0x1}, {a0x2}}},
		{[]specs.LinuxSeccompArg{a0x1, a1x3, a0x2, a2x4}, [][]specs.LinuxSeccompArg{{a0x1, a1x3, a2x4}, {a0x2, a1x3, a2x4}}},
	}
	for _, tc := range tests {
		got := expandArgs(tc.in)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("expandArgs(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if len(tc.in) > 0 && ruleCount(tc.in) != len(tc.want) {
			t.Errorf("ruleCount(%v) = %d, want %d", tc.in, ruleCount(tc.in), len(tc.want))
		}
	}
}

// TestCompileSkips checks that unknown syscalls and rules equal to the
// default action are dropped instead of failing, and that flags map to
// seccomp(2) flags.
func TestCompileSkips(t *testing.T) {
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"no_such_syscall_berth", "getpid"}, Action: specs.ActAllow},
			// Names that exist only on other architectures, as in common profiles.
			{Names: []string{"socketcall", "_llseek", "arm_fadvise64_64", "s390_pci_mmio_read"}, Action: specs.ActAllow},
			{Names: []string{"getppid"}, Action: specs.ActErrno},                       // same as default (EPERM)
			{Names: []string{"getppid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(1)}, // EPERM spelled out
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: uintPtr(13)},
		},
	}
	prog, err := compile(cfg)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	if len(prog.insns) == 0 || prog.flags != 0 {
		t.Errorf("compile: %d insns, flags %#x; want some insns and no flags", len(prog.insns), prog.flags)
	}

	cfg.Flags = []specs.LinuxSeccompFlag{FlagTsync, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv}
	prog, err = compile(cfg)
	if err != nil {
		t.Fatalf("compile with flags: %v", err)
	}
	want := uintptr(unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW)
	if prog.flags != want {
		t.Errorf("flags = %#x, want %#x (TSYNC not passed on; WAIT_KILLABLE_RECV dropped without notify)", prog.flags, want)
	}

	cfg.ListenerPath = "/x"
	cfg.Syscalls = append(cfg.Syscalls, specs.LinuxSyscall{Names: []string{"mkdirat"}, Action: specs.ActNotify})
	prog, err = compile(cfg)
	if err != nil {
		t.Fatalf("compile with notify: %v", err)
	}
	want |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	if prog.flags != want {
		t.Errorf("flags = %#x, want %#x", prog.flags, want)
	}
	if !slices.Contains(prog.actions, unix.SECCOMP_RET_USER_NOTIF) {
		t.Errorf("actions %#x lack USER_NOTIF", prog.actions)
	}
}

func TestUsesNotify(t *testing.T) {
	cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock"}
	if UsesNotify(cfg) {
		t.Fatal("no rules: UsesNotify = true")
	}
	cfg.Syscalls = []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}
	if UsesNotify(cfg) {
		t.Fatal("an errno rule only: UsesNotify = true")
	}
	cfg.Syscalls = append(cfg.Syscalls, specs.LinuxSyscall{Names: []string{"mount"}, Action: specs.ActNotify})
	if !UsesNotify(cfg) {
		t.Fatal("a notify rule: UsesNotify = false")
	}
}
