package seccomp

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// callData is the seccomp_data of the native system call nr with args.
func callData(t *testing.T, nr uintptr, args ...uint64) *[seccompDataSize]byte {
	t.Helper()
	var d [seccompDataSize]byte
	binary.NativeEndian.PutUint32(d[0:], uint32(nr))
	binary.NativeEndian.PutUint32(d[4:], nativeAudit(t))
	for i, a := range args {
		binary.NativeEndian.PutUint64(d[16+8*i:], a)
	}
	return &d
}

func nativeAudit(t *testing.T) uint32 {
	t.Helper()
	switch {
	case unix.SYS_EXECVE == 59: // x86_64, the machines this runs on
		return unix.AUDIT_ARCH_X86_64
	}
	t.Skip("no audit arch for this test's architecture")
	return 0
}

// The interpreter's verdicts are the kernel's: libseccomp's programs for
// comparisons of 64-bit arguments (split into two words), masked
// comparisons and several rules on one call, checked against the same
// filter loaded in a child that makes the calls.
func TestRunFilterMatchesTheKernel(t *testing.T) {
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"getpriority"}, Action: specs.ActErrno, ErrnoRet: uintPtr(11),
				Args: []specs.LinuxSeccompArg{{Index: 1, Value: 7, Op: specs.OpEqualTo}}},
			{Names: []string{"getpriority"}, Action: specs.ActErrno, ErrnoRet: uintPtr(12),
				Args: []specs.LinuxSeccompArg{{Index: 1, Value: 1 << 33, Op: specs.OpGreaterEqual}}},
			{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(13),
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xff00, ValueTwo: 0x1200, Op: specs.OpMaskedEqual}}},
			{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(14),
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 100, Op: specs.OpLessThan}}},
			{Names: []string{"getppid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(15)},
		},
	}
	f, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{"11": true, "12": true, "13": true, "14": true, "15": true}
	type call struct {
		op   string
		nr   uintptr
		args []uint64
	}
	var calls []call
	for _, who := range []uint64{7, 8, 1<<33 - 1, 1 << 33, 1<<33 + 5, 1 << 40} {
		calls = append(calls, call{"getpriority:0:" + strconv.FormatUint(who, 10), unix.SYS_GETPRIORITY, []uint64{0, who}})
	}
	for _, pid := range []uint64{5, 99, 100, 0x1234, 0x12ff, 0x1300, 0x101234} {
		calls = append(calls, call{"getpgid:" + strconv.FormatUint(pid, 10), unix.SYS_GETPGID, []uint64{pid}})
	}
	calls = append(calls, call{"getppid", unix.SYS_GETPPID, nil}, call{"getpid", unix.SYS_GETPID, nil})
	var ops []string
	for _, c := range calls {
		ops = append(ops, c.op)
	}
	res := mustSucceed(t, cfg, ops...)
	refused := 0
	for _, c := range calls {
		v, err := runFilter(f.prog.insns, callData(t, c.nr, c.args...))
		if err != nil {
			t.Fatalf("%s: %v", c.op, err)
		}
		kernel := res[c.op]
		switch v & unix.SECCOMP_RET_ACTION_FULL {
		case unix.SECCOMP_RET_ERRNO:
			refused++
			if want := strconv.Itoa(int(v & unix.SECCOMP_RET_DATA)); kernel != want {
				t.Errorf("%s: interpreter says errno %s, the kernel gave %s", c.op, want, kernel)
			}
		case unix.SECCOMP_RET_ALLOW:
			if ours[kernel] {
				t.Errorf("%s: interpreter allows it, the kernel refused it with %s", c.op, kernel)
			}
		default:
			t.Errorf("%s: verdict %#x", c.op, v)
		}
	}
	if refused < 5 {
		t.Errorf("only %d of the calls refused: the rules were not exercised", refused)
	}
}

// A profile refusing execve is refused by Compile with its action named;
// one that allows it, lets a tracer or listener decide, or refuses it only
// for some arguments, compiles.
func TestCompileRefusesAProfileThatRefusesExecve(t *testing.T) {
	refusing := map[string]*specs.LinuxSeccomp{
		"SCMP_ACT_ERRNO, errno 1": {DefaultAction: specs.ActErrno},
		"SCMP_ACT_KILL":           {DefaultAction: specs.ActKill},
		"SCMP_ACT_KILL_PROCESS":   {DefaultAction: specs.ActKillProcess},
		"SCMP_ACT_ERRNO, errno 13": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"execve"}, Action: specs.ActErrno, ErrnoRet: uintPtr(13)}}},
		"SCMP_ACT_TRAP": {DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"exit", "exit_group", "write"}, Action: specs.ActAllow},
			{Names: []string{"execve"}, Action: specs.ActTrap}}},
	}
	for how, cfg := range refusing {
		_, err := Compile(cfg)
		if err == nil || !strings.Contains(err.Error(), "the profile refuses execve ("+how+"), so the container's process could never start") {
			t.Errorf("%s: Compile = %v", how, err)
		}
	}
	for name, cfg := range map[string]*specs.LinuxSeccomp{
		"allow": {DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"execve"}, Action: specs.ActAllow}}},
		"log": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"execve"}, Action: specs.ActLog}}},
		"trace": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"execve"}, Action: specs.ActTrace}}},
		"args": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"execve"}, Action: specs.ActErrno,
				Args: []specs.LinuxSeccompArg{{Index: 2, Value: 0, Op: specs.OpEqualTo}}}}},
		"other": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}}},
	} {
		if _, err := Compile(cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Programs libseccomp does not write: scratch memory, X, ALU, RET A, and
// loads out of seccomp_data, which the interpreter declines to judge.
func TestRunFilterInstructions(t *testing.T) {
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jump := func(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: code, K: k, Jt: jt, Jf: jf}
	}
	d := callData(t, 39, 0x10, 3) // nr 39, args 0x10 and 3
	prog := []unix.SockFilter{
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 16),  // A = args[0] low = 0x10
		stmt(unix.BPF_ST, 2),                           // M[2] = A
		stmt(unix.BPF_LDX|unix.BPF_W|unix.BPF_ABS, 24), // X = args[1] low = 3
		stmt(unix.BPF_ALU|unix.BPF_LSH|unix.BPF_X, 0),  // A <<= 3: 0x80
		stmt(unix.BPF_ALU|unix.BPF_OR|unix.BPF_K, 1),   // 0x81
		jump(unix.BPF_JMP|unix.BPF_JSET|unix.BPF_K, 0x80, 1, 0),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_KILL_PROCESS),
		stmt(unix.BPF_MISC|unix.BPF_TAX, 0),           // X = 0x81
		stmt(unix.BPF_LD|unix.BPF_MEM, 2),             // A = 0x10
		stmt(unix.BPF_ALU|unix.BPF_ADD|unix.BPF_X, 0), // 0x91
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, 0x91, 0, 2),
		stmt(unix.BPF_ALU|unix.BPF_OR|unix.BPF_K, unix.SECCOMP_RET_ERRNO),
		stmt(unix.BPF_RET|unix.BPF_A, 0),
		stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ALLOW),
	}
	v, err := runFilter(prog, d)
	if err != nil || v != unix.SECCOMP_RET_ERRNO|0x91 {
		t.Fatalf("runFilter = %#x, %v; want ERRNO 0x91", v, err)
	}
	for _, bad := range [][]unix.SockFilter{
		{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 64), stmt(unix.BPF_RET|unix.BPF_A, 0)},
		{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 2), stmt(unix.BPF_RET|unix.BPF_A, 0)},
		{stmt(unix.BPF_LD|unix.BPF_B|unix.BPF_ABS, 0), stmt(unix.BPF_RET|unix.BPF_A, 0)},
		{stmt(unix.BPF_LD|unix.BPF_MEM, 16), stmt(unix.BPF_RET|unix.BPF_A, 0)},
		{stmt(unix.BPF_LD|unix.BPF_IMM, 1)},
	} {
		if v, err := runFilter(bad, d); err == nil {
			t.Errorf("%v: verdict %#x, want an error", bad, v)
		}
	}
}
