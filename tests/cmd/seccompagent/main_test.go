package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-runtime/berth/libcontainer/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The test binary plays two roles when re-executed: the agent itself (run)
// and a "container" that loads a notify filter and sends the fd to the agent.
const (
	roleEnv   = "SECCOMPAGENT_TEST_ROLE"
	socketEnv = "SECCOMPAGENT_TEST_SOCKET"
	dirEnv    = "SECCOMPAGENT_TEST_DIR"
)

func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case "agent":
		os.Exit(run(os.Args[1:]))
	case "container":
		os.Exit(container(os.Getenv(socketEnv), os.Getenv(dirEnv)))
	}
	os.Exit(m.Run())
}

// container loads a filter notifying mkdir, mkdirat and uname, hands the fd
// to the agent, then reports what mkdir and uname returned.
func container(socket, dir string) int {
	runtime.LockOSThread()
	cfg := &specs.LinuxSeccomp{
		DefaultAction:    specs.ActAllow,
		ListenerPath:     socket,
		ListenerMetadata: "agent-test-metadata",
		Syscalls:         []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat", "uname"}, Action: specs.ActNotify}},
	}
	fd, err := seccomp.Load(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 1
	}
	state := &specs.ContainerProcessState{
		Pid:      os.Getpid(),
		Metadata: cfg.ListenerMetadata,
		State:    specs.State{Version: specs.Version, ID: "agent-test-ctr", Status: specs.StateCreating, Pid: os.Getpid(), Bundle: dir},
	}
	if err := seccomp.SendToListener(socket, fd, state); err != nil {
		fmt.Fprintln(os.Stderr, "send:", err)
		return 1
	}
	unix.Close(fd)

	mkdirErr := os.Mkdir(filepath.Join(dir, "made"), 0o755)
	var errno syscall.Errno
	switch {
	case mkdirErr == nil:
		fmt.Println("mkdir=0")
	case errors.As(mkdirErr, &errno):
		fmt.Printf("mkdir=%d\n", int(errno))
	default:
		fmt.Printf("mkdir=%v\n", mkdirErr)
	}
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		fmt.Printf("uname=%v\n", err)
	} else {
		fmt.Printf("uname=%s\n", unix.ByteSliceToString(uts.Sysname[:]))
	}
	return 0
}

func startAgent(t *testing.T, args ...string) (cmd *exec.Cmd, socket, logFile string) {
	t.Helper()
	dir := t.TempDir()
	socket = filepath.Join(dir, "agent.sock")
	logFile = filepath.Join(dir, "agent.log")
	// A stale file must not stop the agent.
	if err := os.WriteFile(socket, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(os.Args[0], append([]string{"-socket", socket, "-log", logFile}, args...)...)
	cmd.Env = append(os.Environ(), roleEnv+"=agent")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("unix", socket); err == nil {
			c.Close() // the agent logs a read error for this probe and goes on
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent did not listen on %s (stderr %s)", socket, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd, socket, logFile
}

func runContainer(t *testing.T, socket string) (results map[string]string, dir string) {
	t.Helper()
	dir = t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), roleEnv+"=container", socketEnv+"="+socket, dirEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	done := make(chan struct{})
	timer := time.AfterFunc(20*time.Second, func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	out, err := cmd.Output()
	close(done)
	if err != nil {
		t.Fatalf("container: %v (stderr %s)", err, stderr.String())
	}
	results = map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			results[k] = v
		}
	}
	return results, dir
}

func stopAgent(t *testing.T, cmd *exec.Cmd, socket string) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("agent exit after SIGTERM: %v", err)
	}
	if _, err := os.Stat(socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("agent left its socket behind (stat: %v)", err)
	}
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to load a seccomp filter without no_new_privs")
	}
}

func TestAgentMkdirErrno(t *testing.T) {
	needRoot(t)
	agent, socket, logFile := startAgent(t, "-mkdir-errno", fmt.Sprint(int(unix.EACCES)))
	res, dir := runContainer(t, socket)
	stopAgent(t, agent, socket)

	if res["mkdir"] != fmt.Sprint(int(unix.EACCES)) {
		t.Errorf("mkdir = %q, want EACCES (%d)", res["mkdir"], int(unix.EACCES))
	}
	if res["uname"] != "Linux" {
		t.Errorf("uname = %q, want the kernel's real answer (continued)", res["uname"])
	}
	if _, err := os.Stat(filepath.Join(dir, "made")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("denied mkdir created the directory (stat: %v)", err)
	}
	logText, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"container=agent-test-ctr", `metadata="agent-test-metadata"`, "mkdirat from pid", "uname from pid", "continue"} {
		if !strings.Contains(string(logText), want) {
			t.Errorf("agent log lacks %q:\n%s", want, logText)
		}
	}
}

func TestAgentMkdirFakedSuccess(t *testing.T) {
	needRoot(t)
	agent, socket, _ := startAgent(t)
	res, dir := runContainer(t, socket)
	stopAgent(t, agent, socket)

	if res["mkdir"] != "0" {
		t.Errorf("mkdir = %q, want faked success", res["mkdir"])
	}
	if _, err := os.Stat(filepath.Join(dir, "made")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("faked mkdir created the directory (stat: %v)", err)
	}
	if res["uname"] != "Linux" {
		t.Errorf("uname = %q, want Linux", res["uname"])
	}
}

func TestAgentUsage(t *testing.T) {
	if code := run(nil); code != 2 {
		t.Errorf("run without -socket = %d, want 2", code)
	}
}
