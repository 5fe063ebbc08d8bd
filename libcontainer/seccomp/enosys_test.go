package seccomp

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// runStub runs a stub followed by a one-instruction "profile" that
// returns filterRet, on (arch, nr), with a classic BPF interpreter for
// the instructions the stub uses.
func runStub(t *testing.T, prog []unix.SockFilter, arch, nr uint32) uint32 {
	t.Helper()
	const filterRet = 0x7fff0000 // SECCOMP_RET_ALLOW: "the profile decided"
	prog = append(append([]unix.SockFilter(nil), prog...), unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: filterRet})
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch in.K {
			case seccompDataNr:
				acc = nr
			case seccompDataArch:
				acc = arch
			default:
				t.Fatalf("load of offset %d", in.K)
			}
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var cond bool
			switch in.Code &^ (unix.BPF_JMP | unix.BPF_K) {
			case unix.BPF_JEQ:
				cond = acc == in.K
			case unix.BPF_JGT:
				cond = acc > in.K
			case unix.BPF_JSET:
				cond = acc&in.K != 0
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		default:
			t.Fatalf("instruction %#x at %d", in.Code, pc)
		}
	}
	t.Fatal("ran off the end of the program")
	return 0
}

func TestEnosysStub(t *testing.T) {
	const enosys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	const profile = 0x7fff0000
	limits := []archLimits{
		{audit: unix.AUDIT_ARCH_I386, native: 300},
		{audit: unix.AUDIT_ARCH_X86_64, native: 400, x32: x32SyscallBit | 500},
	}
	prog, err := enosysStub(limits)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		arch, nr uint32
		want     uint32
	}{
		{"x86_64 named range", unix.AUDIT_ARCH_X86_64, 400, profile},
		{"x86_64 above it", unix.AUDIT_ARCH_X86_64, 401, enosys},
		{"x86_64 far above", unix.AUDIT_ARCH_X86_64, 1000, enosys},
		{"x32 in range", unix.AUDIT_ARCH_X86_64, x32SyscallBit | 450, profile},
		{"x32 above", unix.AUDIT_ARCH_X86_64, x32SyscallBit | 501, enosys},
		{"i386 in range", unix.AUDIT_ARCH_I386, 300, profile},
		{"i386 above", unix.AUDIT_ARCH_I386, 301, enosys},
		{"an architecture the stub has no block for", unix.AUDIT_ARCH_AARCH64, 5000, profile},
	} {
		if got := runStub(t, prog, tc.arch, tc.nr); got != tc.want {
			t.Errorf("%s: %#x, want %#x", tc.name, got, tc.want)
		}
	}

	// Without x32 in the profile, x32 calls are the profile's (its bad-arch action).
	prog, err = enosysStub([]archLimits{{audit: unix.AUDIT_ARCH_X86_64, native: 400}})
	if err != nil {
		t.Fatal(err)
	}
	if got := runStub(t, prog, unix.AUDIT_ARCH_X86_64, x32SyscallBit|9999); got != profile {
		t.Errorf("x32 without x32 in the profile: %#x, want the profile's", got)
	}
	if got := runStub(t, prog, unix.AUDIT_ARCH_X86_64, 9999); got != enosys {
		t.Errorf("x86_64 above: %#x, want ENOSYS", got)
	}
	if prog, err := enosysStub(nil); err != nil || prog != nil {
		t.Errorf("no limits: %v, %v; want no stub", prog, err)
	}
}

func TestNeedsEnosysStub(t *testing.T) {
	enosys, eperm := uint(unix.ENOSYS), uint(unix.EPERM)
	for _, tc := range []struct {
		act  specs.LinuxSeccompAction
		ret  *uint
		want bool
	}{
		{specs.ActAllow, nil, false},
		{specs.ActLog, nil, false},
		{specs.ActTrace, nil, false},
		{specs.ActErrno, nil, true},
		{specs.ActErrno, &eperm, true},
		{specs.ActErrno, &enosys, false},
		{specs.ActKillProcess, nil, true},
		{specs.ActNotify, nil, true},
	} {
		cfg := &specs.LinuxSeccomp{DefaultAction: tc.act, DefaultErrnoRet: tc.ret}
		if got := needsEnosysStub(cfg); got != tc.want {
			t.Errorf("%s (errnoRet %v): %t, want %t", tc.act, tc.ret, got, tc.want)
		}
	}
}

func TestSyscallLimits(t *testing.T) {
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write", "no_such_syscall"}, Action: specs.ActAllow},
			{Names: []string{"openat"}, Action: specs.ActAllow},
		},
	}
	limits, err := syscallLimits(cfg, libseccomp.ArchAMD64)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint32]archLimits{}
	for _, a := range []libseccomp.ScmpArch{libseccomp.ArchAMD64, libseccomp.ArchX86, libseccomp.ArchX32} {
		n, err := libseccomp.GetSyscallFromNameByArch("openat", a)
		if err != nil {
			t.Fatal(err)
		}
		audit, _ := auditArch(a)
		l := want[audit]
		l.audit = audit
		if a == libseccomp.ArchX32 {
			l.x32 = uint32(n)
		} else {
			l.native = uint32(n)
		}
		want[audit] = l
	}
	if len(limits) != len(want) {
		t.Fatalf("limits %+v, want %+v", limits, want)
	}
	for _, l := range limits {
		if l != want[l.audit] {
			t.Errorf("arch %#x: %+v, want %+v", l.audit, l, want[l.audit])
		}
	}
}
