package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// The real tests re-run this test binary as a child that loads a filter
// (never the test process itself) and then performs the operations listed in
// childOpsEnv, printing "op=errno" lines (0 for success).
const (
	childCfgEnv = "BERTH_SECCOMP_TEST_CFG"
	childOpsEnv = "BERTH_SECCOMP_TEST_OPS"
)

func TestMain(m *testing.M) {
	if cfg := os.Getenv(childCfgEnv); cfg != "" {
		os.Exit(childMain(cfg, os.Getenv(childOpsEnv)))
	}
	os.Exit(m.Run())
}

func childMain(cfgJSON, ops string) int {
	runtime.LockOSThread()
	var cfg specs.LinuxSeccomp
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "child: decode config:", err)
		return 100
	}
	// KILL and TRAP tests end in SIGSYS; no core files.
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	fd, err := Load(&cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: load:", err)
		return 101
	}
	for _, op := range strings.Split(ops, ",") {
		if op == "" {
			continue
		}
		fmt.Printf("%s=%s\n", op, runOp(op, fd))
	}
	return 0
}

func errnoOf(err error) string {
	var errno syscall.Errno
	if err == nil {
		return "0"
	}
	if errors.As(err, &errno) {
		return strconv.Itoa(int(errno))
	}
	return "error:" + err.Error()
}

func rawErrno(errno syscall.Errno) string { return strconv.Itoa(int(errno)) }

func argN(parts []string, i int) uintptr {
	v, _ := strconv.ParseUint(parts[i], 0, 64)
	return uintptr(v)
}

// runOp performs one child operation and returns its result.
func runOp(op string, notifyFd int) string {
	parts := strings.Split(op, ":")
	switch parts[0] {
	case "mkdir": // mkdir:PATH (Go uses mkdirat)
		return errnoOf(os.Mkdir(parts[1], 0o755))
	case "personality", "getpgid": // NAME:ARG0
		nr := map[string]uintptr{"personality": unix.SYS_PERSONALITY, "getpgid": unix.SYS_GETPGID}[parts[0]]
		_, _, e := unix.Syscall(nr, argN(parts, 1), 0, 0)
		return rawErrno(e)
	case "getpriority": // getpriority:WHICH:WHO
		_, _, e := unix.Syscall(unix.SYS_GETPRIORITY, argN(parts, 1), argN(parts, 2), 0)
		return rawErrno(e)
	case "getpid", "getppid":
		nr := map[string]uintptr{"getpid": unix.SYS_GETPID, "getppid": unix.SYS_GETPPID}[parts[0]]
		_, _, e := unix.RawSyscall(nr, 0, 0, 0)
		return rawErrno(e)
	case "notifyfd": // whether Load returned a close-on-exec listener
		if notifyFd < 0 {
			return "none"
		}
		flags, err := unix.FcntlInt(uintptr(notifyFd), unix.F_GETFD, 0)
		if err != nil {
			return errnoOf(err)
		}
		return fmt.Sprintf("cloexec-%t", flags&unix.FD_CLOEXEC != 0)
	case "sendfd": // send the notify fd over fd 3, like init sends it to its parent
		err := unix.Sendmsg(3, []byte{'x'}, unix.UnixRights(notifyFd), nil, 0)
		unix.Close(notifyFd)
		return errnoOf(err)
	case "nnp":
		v, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
		if err != nil {
			return errnoOf(err)
		}
		return strconv.Itoa(v)
	case "threads": // "filtered/unfiltered" thread counts
		return threadModes()
	}
	return "unknown-op"
}

func threadModes() string {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return errnoOf(err)
	}
	filtered, unfiltered := 0, 0
	for _, task := range tasks {
		status, err := os.ReadFile(filepath.Join("/proc/self/task", task.Name(), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "Seccomp:"); ok {
				if strings.TrimSpace(v) == "2" {
					filtered++
				} else {
					unfiltered++
				}
			}
		}
	}
	return fmt.Sprintf("%d/%d", filtered, unfiltered)
}

type childResult struct {
	results map[string]string
	state   *os.ProcessState
	stderr  string
}

func childCmd(t *testing.T, cfg *specs.LinuxSeccomp, ops ...string) (*exec.Cmd, *strings.Builder, *strings.Builder) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_SYS_ADMIN to load a filter without no_new_privs)")
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childCfgEnv+"="+string(cfgJSON), childOpsEnv+"="+strings.Join(ops, ","))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

func parseResults(out string) map[string]string {
	results := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			results[k] = v
		}
	}
	return results
}

// runChild runs a child to completion; a non-zero exit is returned in state.
func runChild(t *testing.T, cfg *specs.LinuxSeccomp, ops ...string) childResult {
	t.Helper()
	cmd, stdout, stderr := childCmd(t, cfg, ops...)
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run child: %v", err)
	}
	return childResult{parseResults(stdout.String()), cmd.ProcessState, stderr.String()}
}

// mustSucceed runs a child that must exit 0 and returns its results.
func mustSucceed(t *testing.T, cfg *specs.LinuxSeccomp, ops ...string) map[string]string {
	t.Helper()
	r := runChild(t, cfg, ops...)
	if !r.state.Success() {
		t.Fatalf("child failed: %v\nstderr: %s", r.state, r.stderr)
	}
	return r.results
}

func expect(t *testing.T, results map[string]string, op, want string) {
	t.Helper()
	if got := results[op]; got != want {
		t.Errorf("%s = %q, want %q (all: %v)", op, got, want, results)
	}
}

func errnoStr(e syscall.Errno) string { return strconv.Itoa(int(e)) }

var mkdirNames = []string{"mkdir", "mkdirat"}

func TestLoadErrno(t *testing.T) {
	dir := t.TempDir()
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			{Names: mkdirNames, Action: specs.ActErrno, ErrnoRet: uintPtr(38)},
			{Names: []string{"getpgid"}, Action: specs.ActErrno}, // default EPERM
			{Names: []string{"not_a_syscall_at_all"}, Action: specs.ActKillProcess},
		},
	}
	res := mustSucceed(t, cfg, "mkdir:"+dir+"/a", "getpgid:0", "nnp", "notifyfd", "getpid")
	expect(t, res, "mkdir:"+dir+"/a", errnoStr(unix.ENOSYS))
	expect(t, res, "getpgid:0", errnoStr(unix.EPERM))
	expect(t, res, "getpid", "0")
	expect(t, res, "nnp", "0") // Load must not turn no_new_privs on
	expect(t, res, "notifyfd", "none")
	if _, err := os.Stat(dir + "/a"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("denied mkdir created the directory (stat: %v)", err)
	}

	cfg.Syscalls[0].ErrnoRet = uintPtr(uint(unix.EACCES))
	res = mustSucceed(t, cfg, "mkdir:"+dir+"/b")
	expect(t, res, "mkdir:"+dir+"/b", errnoStr(unix.EACCES))
}

func TestLoadKillProcess(t *testing.T) {
	cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: mkdirNames, Action: specs.ActKillProcess}}}
	r := runChild(t, cfg, "getpid", "mkdir:"+t.TempDir()+"/x", "getpid")
	ws := r.state.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != unix.SIGSYS {
		t.Fatalf("child ended with %v, want killed by SIGSYS (stderr %s)", r.state, r.stderr)
	}
}

func TestLoadTrap(t *testing.T) {
	cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: mkdirNames, Action: specs.ActTrap}}}
	r := runChild(t, cfg, "mkdir:"+t.TempDir()+"/x")
	// The Go runtime turns a synchronous SIGSYS into a crash report and
	// exit status 2, rather than dying from the signal.
	if r.state.Success() || !strings.Contains(r.stderr, "SIGSYS") {
		t.Fatalf("child ended with %v, stderr %q; want a SIGSYS crash", r.state, r.stderr)
	}
}

func TestLoadTraceWithoutTracer(t *testing.T) {
	// With no tracer attached the kernel fails the syscall with ENOSYS.
	cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: mkdirNames, Action: specs.ActTrace, ErrnoRet: uintPtr(7)}}}
	dir := t.TempDir()
	res := mustSucceed(t, cfg, "mkdir:"+dir+"/x")
	expect(t, res, "mkdir:"+dir+"/x", errnoStr(unix.ENOSYS))
}

func TestLoadLogAllows(t *testing.T) {
	dir := t.TempDir()
	cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uintPtr(uint(unix.EXDEV)),
		Syscalls: []specs.LinuxSyscall{
			{Names: mkdirNames, Action: specs.ActLog},
			{Names: goRuntimeSyscalls(), Action: specs.ActAllow},
		}}
	res := mustSucceed(t, cfg, "mkdir:"+dir+"/logged", "getppid")
	expect(t, res, "mkdir:"+dir+"/logged", "0")
	expect(t, res, "getppid", errnoStr(unix.EXDEV))
	if _, err := os.Stat(dir + "/logged"); err != nil {
		t.Errorf("logged mkdir did not happen: %v", err)
	}
}

// goRuntimeSyscalls is what the child's locked thread needs after Load when
// the default action denies everything: writing results and exiting, plus
// what the Go runtime may do on that thread meanwhile; and execve, which
// Compile requires of every profile (simulate.go), as a container's init
// calls it last.
func goRuntimeSyscalls() []string {
	return []string{"write", "exit", "exit_group", "futex", "rt_sigreturn", "rt_sigprocmask",
		"sigaltstack", "mmap", "munmap", "madvise", "nanosleep", "sched_yield", "tgkill",
		"gettid", "clock_gettime", "getpid", "execve"}
}

func TestLoadDefaultErrnoAllowList(t *testing.T) {
	cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uintPtr(uint(unix.ENOTSUP)),
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls:      []specs.LinuxSyscall{{Names: goRuntimeSyscalls(), Action: specs.ActAllow}}}
	res := mustSucceed(t, cfg, "getpid", "getppid", "getpgid:0", "mkdir:"+t.TempDir()+"/x")
	expect(t, res, "getpid", "0")
	expect(t, res, "getppid", errnoStr(unix.ENOTSUP))
	expect(t, res, "getpgid:0", errnoStr(unix.ENOTSUP))
	// mkdirat is numbered above every syscall the list names (tgkill is
	// the highest): the -ENOSYS stub answers it, as a syscall newer than
	// the profile (enosys.go).
	for op, v := range res {
		if strings.HasPrefix(op, "mkdir:") && v != errnoStr(unix.ENOSYS) {
			t.Errorf("%s = %s, want ENOSYS", op, v)
		}
	}
}

// denied is the errno the argument tests use to tell a filtered call apart
// from the syscall's own failures (ESRCH, EINVAL).
const denied = unix.EOWNERDEAD

func TestLoadArgConditionPersonality(t *testing.T) {
	const query, target = 0xffffffff, 0x0008 // 0xffffffff only reads the persona
	cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: uintPtr(uint(denied)),
			Args: []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo, Value: target}}}}}
	res := mustSucceed(t, cfg, fmt.Sprintf("personality:%#x", target), fmt.Sprintf("personality:%#x", query))
	expect(t, res, fmt.Sprintf("personality:%#x", target), errnoStr(denied))
	expect(t, res, fmt.Sprintf("personality:%#x", query), "0")
}

// TestLoadOperators checks every operator against getpgid's pid argument:
// a denied call returns EOWNERDEAD, an allowed one 0 or ESRCH.
func TestLoadOperators(t *testing.T) {
	values := []uint64{0, 5, 6, 7, 0x105, 1 << 20}
	tests := []struct {
		arg  specs.LinuxSeccompArg
		deny func(v uint64) bool
	}{
		{specs.LinuxSeccompArg{Op: specs.OpEqualTo, Value: 6}, func(v uint64) bool { return v == 6 }},
		{specs.LinuxSeccompArg{Op: specs.OpNotEqual, Value: 6}, func(v uint64) bool { return v != 6 }},
		{specs.LinuxSeccompArg{Op: specs.OpLessThan, Value: 6}, func(v uint64) bool { return v < 6 }},
		{specs.LinuxSeccompArg{Op: specs.OpLessEqual, Value: 6}, func(v uint64) bool { return v <= 6 }},
		{specs.LinuxSeccompArg{Op: specs.OpGreaterThan, Value: 6}, func(v uint64) bool { return v > 6 }},
		{specs.LinuxSeccompArg{Op: specs.OpGreaterEqual, Value: 6}, func(v uint64) bool { return v >= 6 }},
		{specs.LinuxSeccompArg{Op: specs.OpMaskedEqual, Value: 0xff, ValueTwo: 5}, func(v uint64) bool { return v&0xff == 5 }},
	}
	for _, tc := range tests {
		t.Run(string(tc.arg.Op), func(t *testing.T) {
			cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(uint(denied)),
					Args: []specs.LinuxSeccompArg{tc.arg}}}}
			var ops []string
			for _, v := range values {
				ops = append(ops, fmt.Sprintf("getpgid:%d", v))
			}
			res := mustSucceed(t, cfg, ops...)
			for _, v := range values {
				got := res[fmt.Sprintf("getpgid:%d", v)]
				if wantDenied := tc.deny(v); (got == errnoStr(denied)) != wantDenied {
					t.Errorf("getpgid(%d) = errno %s, want denied=%t", v, got, wantDenied)
				}
			}
		})
	}
}

func TestLoadMultipleArgs(t *testing.T) {
	deny := func(args ...specs.LinuxSeccompArg) *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"getpriority"}, Action: specs.ActErrno, ErrnoRet: uintPtr(uint(denied)), Args: args}}}
	}
	eq := func(i uint, v uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: i, Op: specs.OpEqualTo, Value: v}
	}
	// getpriority(which, who): which 0 = PRIO_PROCESS, 1 = PRIO_PGRP, 2 = PRIO_USER.
	call := func(which, who int) string { return fmt.Sprintf("getpriority:%d:%d", which, who) }
	all := []string{call(0, 0), call(0, 4242), call(1, 4242), call(2, 4242), call(1, 0)}

	t.Run("different args are ANDed", func(t *testing.T) {
		res := mustSucceed(t, deny(eq(0, 0), eq(1, 4242)), all...)
		for _, op := range all {
			want := op == call(0, 4242)
			if (res[op] == errnoStr(denied)) != want {
				t.Errorf("%s = %s, want denied=%t", op, res[op], want)
			}
		}
	})
	t.Run("same arg twice are alternatives", func(t *testing.T) {
		res := mustSucceed(t, deny(eq(0, 0), eq(1, 4242), eq(0, 1)), all...)
		for _, op := range all {
			want := op == call(0, 4242) || op == call(1, 4242)
			if (res[op] == errnoStr(denied)) != want {
				t.Errorf("%s = %s, want denied=%t", op, res[op], want)
			}
		}
	})
}

func TestLoadFlags(t *testing.T) {
	base := func(flags ...specs.LinuxSeccompFlag) *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: flags,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"getpgid"}, Action: specs.ActErrno, ErrnoRet: uintPtr(uint(denied))}}}
	}
	parse := func(t *testing.T, v string) (filtered, unfiltered int) {
		t.Helper()
		if _, err := fmt.Sscanf(v, "%d/%d", &filtered, &unfiltered); err != nil {
			t.Fatalf("threads = %q: %v", v, err)
		}
		return filtered, unfiltered
	}

	res := mustSucceed(t, base(), "getpgid:0", "threads")
	expect(t, res, "getpgid:0", errnoStr(denied))
	if f, u := parse(t, res["threads"]); f != 1 || u < 1 {
		t.Errorf("without TSYNC: %d filtered / %d unfiltered threads, want only the calling thread filtered", f, u)
	}

	// TSYNC is accepted and not passed on (filterFlags): the thread that
	// loads the filter is the one that execs, as runc does.
	res = mustSucceed(t, base(FlagTsync), "getpgid:0", "threads")
	expect(t, res, "getpgid:0", errnoStr(denied))
	if f, u := parse(t, res["threads"]); f != 1 || u < 1 {
		t.Errorf("with TSYNC: %d filtered / %d unfiltered threads, want only the calling thread filtered", f, u)
	}

	res = mustSucceed(t, base(specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv), "getpgid:0")
	expect(t, res, "getpgid:0", errnoStr(denied))
}

// notifyChild starts a child whose filter notifies mkdir/mkdirat and which
// sends the listener fd back over a socketpair; it returns the fd.
func notifyChild(t *testing.T, ops ...string) (cmd *exec.Cmd, stdout *strings.Builder, notifyFd int) {
	t.Helper()
	cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/unused/in/this/test",
		Flags:    []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls: []specs.LinuxSyscall{{Names: mkdirNames, Action: specs.ActNotify}}}
	cmd, stdout, stderr := childCmd(t, cfg, append([]string{"notifyfd", "sendfd"}, ops...)...)
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	parentEnd := os.NewFile(uintptr(pair[0]), "parent")
	childEnd := os.NewFile(uintptr(pair[1]), "child")
	defer parentEnd.Close()
	cmd.ExtraFiles = []*os.File{childEnd}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	childEnd.Close()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})

	conn, err := net.FileConn(parentEnd)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	uc := conn.(*net.UnixConn)
	uc.SetDeadline(time.Now().Add(10 * time.Second))
	buf, oob := make([]byte, 1), make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
	if err != nil {
		cmd.Wait()
		t.Fatalf("receive notify fd: %v (stderr %s)", err, stderr)
	}
	fds, err := parseRights(oob[:oobn])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]) })
	return cmd, stdout, fds[0]
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if fds, err := unix.ParseUnixRights(&m); err == nil && len(fds) > 0 {
			return fds, nil
		}
	}
	return nil, errors.New("no SCM_RIGHTS in message")
}

// answerMkdir waits for one notification on fd, checks that it is a mkdir
// of wantPath, and answers it with resp (ID filled in).
func answerMkdir(fd int, wantPath string, resp libseccomp.ScmpNotifResp) error {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, 10000)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll notify fd: %w", err)
		}
		if n == 0 {
			return errors.New("no notification within 10s")
		}
		break
	}
	req, err := libseccomp.NotifReceive(libseccomp.ScmpFd(fd))
	if err != nil {
		return fmt.Errorf("receive notification: %w", err)
	}
	name, err := req.Data.Syscall.GetNameByArch(req.Data.Arch)
	if err != nil {
		return err
	}
	pathArg := req.Data.Args[0]
	if name == "mkdirat" {
		pathArg = req.Data.Args[1]
	}
	if name != "mkdir" && name != "mkdirat" {
		return fmt.Errorf("notified syscall %s, want mkdir/mkdirat", name)
	}
	path, err := readProcessString(int(req.Pid), pathArg)
	if err != nil {
		return err
	}
	if err := libseccomp.NotifIDValid(libseccomp.ScmpFd(fd), req.ID); err != nil {
		return fmt.Errorf("notification went stale: %w", err)
	}
	if path != wantPath {
		return fmt.Errorf("mkdir path %q, want %q", path, wantPath)
	}
	resp.ID = req.ID
	return libseccomp.NotifRespond(libseccomp.ScmpFd(fd), &resp)
}

func readProcessString(pid int, addr uint64) (string, error) {
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return "", err
	}
	defer mem.Close()
	buf := make([]byte, 4096)
	n, err := mem.ReadAt(buf, int64(addr))
	if n == 0 {
		return "", fmt.Errorf("read pid %d memory at %#x: %w", pid, addr, err)
	}
	if i := strings.IndexByte(string(buf[:n]), 0); i >= 0 {
		return string(buf[:i]), nil
	}
	return string(buf[:n]), nil
}

func TestLoadNotifyRespondErrno(t *testing.T) {
	target := filepath.Join(t.TempDir(), "notified")
	op := "mkdir:" + target
	cmd, stdout, fd := notifyChild(t, op)
	if err := answerMkdir(fd, target, libseccomp.ScmpNotifResp{Error: int32(unix.EROFS)}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	res := parseResults(stdout.String())
	expect(t, res, "notifyfd", "cloexec-true")
	expect(t, res, "sendfd", "0")
	expect(t, res, op, errnoStr(unix.EROFS))
}

// TestSendToListener passes the fd the way berth does: child -> parent ->
// SendToListener -> agent socket; the agent here answers "success" without
// creating the directory.
func TestSendToListener(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "faked")
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	agentErr := make(chan error, 1)
	go func() { agentErr <- fakeAgent(ln, target) }()

	cmd, stdout, fd := notifyChild(t, "mkdir:"+target)
	state := &specs.ContainerProcessState{
		Pid:      cmd.Process.Pid,
		Metadata: "hello-agent",
		State:    specs.State{Version: specs.Version, ID: "ctr-1", Status: specs.StateCreating, Pid: cmd.Process.Pid, Bundle: "/b"},
	}
	if err := SendToListener(sock, fd, state); err != nil {
		t.Fatalf("SendToListener: %v", err)
	}
	if state.Fds != nil {
		t.Error("SendToListener modified the caller's state")
	}
	if err := <-agentErr; err != nil {
		t.Fatalf("agent: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	expect(t, parseResults(stdout.String()), "mkdir:"+target, "0")
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("faked mkdir created %s (stat: %v)", target, err)
	}

	if err := SendToListener(filepath.Join(dir, "missing.sock"), 0, state); err == nil || !strings.Contains(err.Error(), "missing.sock") {
		t.Errorf("SendToListener to a missing socket: %v, want an error naming it", err)
	}
}

// fakeAgent accepts one connection, checks the state the runtime sends, and
// answers the mkdir notification with success.
func fakeAgent(ln *net.UnixListener, target string) error {
	ln.SetDeadline(time.Now().Add(15 * time.Second))
	conn, err := ln.AcceptUnix()
	if err != nil {
		return err
	}
	defer conn.Close()
	buf, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return err
	}
	fds, err := parseRights(oob[:oobn])
	if err != nil {
		return err
	}
	defer unix.Close(fds[0])
	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		return fmt.Errorf("decode state %q: %w", buf[:n], err)
	}
	if st.Version != specs.Version || len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName ||
		st.Metadata != "hello-agent" || st.State.ID != "ctr-1" || st.Pid == 0 || st.State.Bundle != "/b" {
		return fmt.Errorf("unexpected state %s", buf[:n])
	}
	// The runtime must close the connection after one message.
	if extra, err := conn.Read(buf); extra != 0 || err == nil {
		return fmt.Errorf("connection not closed after the state: %d bytes, %v", extra, err)
	}
	return answerMkdir(fds[0], target, libseccomp.ScmpNotifResp{})
}

func TestLoadRefusesInvalid(t *testing.T) {
	// Validation runs before anything is loaded, so this is safe in-process.
	fd, err := Load(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}})
	if err == nil || fd != -1 {
		t.Fatalf("Load(notify without listener) = %d, %v; want error", fd, err)
	}
	if fd, err := Load(nil); fd != -1 || err != nil {
		t.Fatalf("Load(nil) = %d, %v", fd, err)
	}
}

func TestFilterFlags(t *testing.T) {
	for _, tc := range []struct {
		flags  []specs.LinuxSeccompFlag
		notify bool
		want   uintptr
	}{
		{nil, false, 0},
		{[]specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow}, false, unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
		{[]specs.LinuxSeccompFlag{FlagTsync}, false, 0},
		{[]specs.LinuxSeccompFlag{FlagTsync, specs.LinuxSeccompFlagLog}, true, unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
		{[]specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}, true, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
		{[]specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}, false, 0},
	} {
		cfg := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: tc.flags, ListenerPath: "/x"}
		if tc.notify {
			cfg.Syscalls = []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}
		}
		got, err := FilterFlags(cfg)
		if err != nil || got != tc.want {
			t.Errorf("%v notify %t: %d, %v; want %d", tc.flags, tc.notify, got, err, tc.want)
		}
		// and the compiled filter is loaded with the same
		if f, err := Compile(cfg); err != nil || f.prog.flags != tc.want {
			t.Errorf("%v notify %t: compiled flags %v, %v; want %d", tc.flags, tc.notify, f, err, tc.want)
		}
	}
}
