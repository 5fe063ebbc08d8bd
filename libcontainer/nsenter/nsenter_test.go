//go:build linux

package nsenter

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

// helperEnv selects what TestHelperProcess does when the test binary is
// re-executed: "report" prints what the process sees and waits for stdin to
// close; "sleep" just waits to be killed.
const helperEnv = "BERTH_NSENTER_TEST_HELPER"

var nsNames = []string{"user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time"}

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "" && os.Geteuid() == 0 {
		// Forked requests leave their continuing process orphaned; be its
		// subreaper so every test can wait for what it started.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// TestHelperProcess is not a test: it is the body of re-executed processes.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	switch mode {
	case "":
		t.Skip("helper process body")
	case "sleep":
		time.Sleep(time.Hour)
		os.Exit(0)
	case "report":
	default:
		fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
		os.Exit(2)
	}
	// Before anything opens files: the Go runtime may later reuse fd 3.
	fd3, err := os.Readlink("/proc/self/fd/3")
	if err != nil {
		fd3 = "closed"
	}
	fmt.Printf("pid=%d\n", os.Getpid())
	for _, name := range nsNames {
		link, err := os.Readlink("/proc/self/ns/" + name)
		if err != nil {
			link = "error:" + err.Error()
		}
		fmt.Printf("ns.%s=%s\n", name, link)
	}
	for _, name := range []string{"uid_map", "gid_map", "setgroups"} {
		data, err := os.ReadFile("/proc/self/" + name)
		if err != nil {
			data = []byte("error:" + err.Error())
		}
		fmt.Printf("%s=%s\n", name, strings.Join(strings.Fields(string(data)), " "))
	}
	for _, c := range []struct {
		name string
		id   int32
	}{{"monotonic", unix.CLOCK_MONOTONIC}, {"boottime", unix.CLOCK_BOOTTIME}} {
		var ts unix.Timespec
		if err := unix.ClockGettime(c.id, &ts); err != nil {
			fmt.Printf("%s=error:%v\n", c.name, err)
			continue
		}
		fmt.Printf("%s=%d\n", c.name, ts.Nano())
	}
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			fmt.Printf("capeff=%s\n", strings.TrimSpace(v))
		}
	}
	oom, _ := os.ReadFile("/proc/self/oom_score_adj")
	fmt.Printf("oom=%s\n", strings.TrimSpace(string(oom)))
	dumpable, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	fmt.Printf("dumpable=%d\n", dumpable)
	fmt.Printf("env=%s\n", os.Getenv(EnvFD))
	fmt.Printf("fd3=%s\n", fd3)
	fmt.Println("end=1")
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if !haveConstructor {
		t.Skip("built without cgo: no constructor")
	}
}

// helper is one re-executed test binary started through Start.
type helper struct {
	cmd    *exec.Cmd
	pid    int
	forked bool
	stdin  *os.File // closing it ends a "report" helper
	stdout *bufio.Reader
}

func helperCmd(mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Stderr = os.Stderr
	return cmd
}

// startHelper starts a helper through Start and registers its cleanup.
func startHelper(t *testing.T, mode string, req *Request) (*helper, error) {
	t.Helper()
	cmd := helperCmd(mode)
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout = stdinR, stdoutW
	pid, forked, err := Start(cmd, req)
	stdinR.Close()
	stdoutW.Close()
	if err != nil {
		stdinW.Close()
		stdoutR.Close()
		return nil, err
	}
	h := &helper{cmd: cmd, pid: pid, forked: forked, stdin: stdinW, stdout: bufio.NewReader(stdoutR)}
	t.Cleanup(func() {
		h.stdin.Close()
		_ = unix.Kill(h.pid, unix.SIGKILL)
		h.reap(t)
		stdoutR.Close()
	})
	return h, nil
}

// reap waits for the continuing process: cmd itself, or the orphan that was
// reparented to this test process (the subreaper).
func (h *helper) reap(t *testing.T) {
	if !h.forked {
		_ = h.cmd.Wait()
		return
	}
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(h.pid, &ws, 0, nil)
		if err != unix.EINTR {
			if err != nil && err != unix.ECHILD {
				t.Errorf("wait4 %d: %v", h.pid, err)
			}
			return
		}
	}
}

// report reads the helper's "key=value" lines up to "end=1".
func (h *helper) report(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for {
		line, err := h.stdout.ReadString('\n')
		if err != nil {
			t.Fatalf("reading helper report: %v (so far %v)", err, out)
		}
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		if k == "end" {
			return out
		}
		out[k] = v
	}
}

// startSleeper starts a plain helper in new namespaces (no nsenter) to be a
// namespace to join.
func startSleeper(t *testing.T, cloneflags uintptr) int {
	t.Helper()
	cmd := helperCmd("sleep")
	cmd.SysProcAttr = &unix.SysProcAttr{Cloneflags: cloneflags}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleeper: %v", err)
	}
	t.Cleanup(func() {
		_ = unix.Kill(cmd.Process.Pid, unix.SIGKILL)
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

func readNsLink(t *testing.T, pid int, name string) string {
	t.Helper()
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, name))
	if err != nil {
		t.Fatal(err)
	}
	return link
}

func checkCommon(t *testing.T, h *helper, rep map[string]string) {
	t.Helper()
	if rep["env"] != "" {
		t.Errorf("%s still set in the continuing process: %q", EnvFD, rep["env"])
	}
	if strings.HasPrefix(rep["fd3"], "socket:") {
		t.Errorf("request socket (fd 3) still open in the continuing process: %s", rep["fd3"])
	}
	if !h.forked && h.pid != h.cmd.Process.Pid {
		t.Errorf("not forked, but pid %d != cmd pid %d", h.pid, h.cmd.Process.Pid)
	}
}

func TestNoRequest(t *testing.T) {
	requireRoot(t)
	self := os.Getpid()
	h, err := startHelper(t, "report", &Request{})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.report(t)
	checkCommon(t, h, rep)
	if h.forked {
		t.Error("empty request forked")
	}
	if rep["pid"] != strconv.Itoa(h.pid) {
		t.Errorf("helper sees pid %s, Start returned %d", rep["pid"], h.pid)
	}
	for _, name := range nsNames {
		if want := readNsLink(t, self, name); rep["ns."+name] != want {
			t.Errorf("ns %s = %s, want %s", name, rep["ns."+name], want)
		}
	}
}

func TestJoinNet(t *testing.T) {
	requireRoot(t)
	target := startSleeper(t, unix.CLONE_NEWNET)
	path := fmt.Sprintf("/proc/%d/ns/net", target)
	h, err := startHelper(t, "report", &Request{Join: []Join{{Type: "network", Path: path}}})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.report(t)
	checkCommon(t, h, rep)
	if h.forked {
		t.Error("joining a net namespace forked")
	}
	if want := readNsLink(t, target, "net"); rep["ns.net"] != want {
		t.Errorf("ns.net = %s, want %s", rep["ns.net"], want)
	}
	if self := readNsLink(t, os.Getpid(), "net"); rep["ns.net"] == self {
		t.Errorf("helper still in the test's net namespace %s", self)
	}
}

// TestJoinMntAndIPC joins a mount namespace, the case that needs the
// single-threaded constructor most.
func TestJoinMntAndIPC(t *testing.T) {
	requireRoot(t)
	target := startSleeper(t, unix.CLONE_NEWNS|unix.CLONE_NEWIPC)
	h, err := startHelper(t, "report", &Request{Join: []Join{
		{Type: "mount", Path: fmt.Sprintf("/proc/%d/ns/mnt", target)},
		{Type: "ipc", Path: fmt.Sprintf("/proc/%d/ns/ipc", target)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.report(t)
	checkCommon(t, h, rep)
	self := os.Getpid()
	for _, name := range []string{"mnt", "ipc"} {
		want := readNsLink(t, target, name)
		if rep["ns."+name] != want || want == readNsLink(t, self, name) {
			t.Errorf("ns.%s = %s, want %s (not the test's)", name, rep["ns."+name], want)
		}
	}
}

func TestNewPid(t *testing.T) {
	requireRoot(t)
	h, err := startHelper(t, "report", &Request{Unshare: unix.CLONE_NEWPID})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.report(t)
	checkCommon(t, h, rep)
	if !h.forked {
		t.Fatal("new pid namespace did not fork")
	}
	if rep["pid"] != "1" {
		t.Errorf("helper sees pid %s, want 1", rep["pid"])
	}
	if want := readNsLink(t, h.pid, "pid"); rep["ns.pid"] != want {
		t.Errorf("returned pid %d is in %s, helper in %s", h.pid, want, rep["ns.pid"])
	}
	if self := readNsLink(t, os.Getpid(), "pid"); rep["ns.pid"] == self {
		t.Error("helper still in the test's pid namespace")
	}
	nspid := nsPids(t, h.pid)
	if len(nspid) != 2 || nspid[0] != strconv.Itoa(h.pid) || nspid[1] != "1" {
		t.Errorf("NSpid of %d = %v, want [%d 1]", h.pid, nspid, h.pid)
	}
}

func nsPids(t *testing.T, pid int) []string {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "NSpid:"); ok {
			return strings.Fields(v)
		}
	}
	t.Fatalf("no NSpid in /proc/%d/status", pid)
	return nil
}

func TestJoinPid(t *testing.T) {
	requireRoot(t)
	// The namespace to join: a helper that is pid 1 of a new pid namespace.
	target, err := startHelper(t, "report", &Request{Unshare: unix.CLONE_NEWPID})
	if err != nil {
		t.Fatal(err)
	}
	target.report(t)
	path := fmt.Sprintf("/proc/%d/ns/pid", target.pid)
	h, err := startHelper(t, "report", &Request{Join: []Join{{Type: "pid", Path: path}}})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.report(t)
	checkCommon(t, h, rep)
	if !h.forked {
		t.Fatal("joining a pid namespace did not fork")
	}
	if want := readNsLink(t, target.pid, "pid"); rep["ns.pid"] != want {
		t.Errorf("helper in pid namespace %s, want %s", rep["ns.pid"], want)
	}
	nspid := nsPids(t, h.pid)
	if len(nspid) != 2 || nspid[0] != strconv.Itoa(h.pid) || nspid[1] != rep["pid"] || rep["pid"] == "1" {
		t.Errorf("NSpid of %d = %v, helper sees pid %s", h.pid, nspid, rep["pid"])
	}
}

func TestNewUser(t *testing.T) {
	requireRoot(t)
	mapping := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	h, err := startHelper(t, "report", &Request{
		Unshare:       unix.CLONE_NEWUSER,
		UIDMappings:   mapping,
		GIDMappings:   mapping,
		SetgroupsDeny: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.report(t)
	checkCommon(t, h, rep)
	if h.forked {
		t.Error("a new user namespace alone forked")
	}
	for _, name := range []string{"uid_map", "gid_map"} {
		if rep[name] != "0 100000 65536" {
			t.Errorf("%s inside = %q, want \"0 100000 65536\"", name, rep[name])
		}
		outside, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", h.pid, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(strings.Fields(string(outside)), " "); got != "0 100000 65536" {
			t.Errorf("/proc/%d/%s = %q", h.pid, name, got)
		}
	}
	if rep["setgroups"] != "deny" {
		t.Errorf("setgroups = %q, want deny", rep["setgroups"])
	}
	if self := readNsLink(t, os.Getpid(), "user"); rep["ns.user"] == self {
		t.Error("helper still in the test's user namespace")
	}
	capEff, err := strconv.ParseUint(rep["capeff"], 16, 64)
	if err != nil {
		t.Fatalf("capeff %q: %v", rep["capeff"], err)
	}
	if capEff&(1<<unix.CAP_SYS_ADMIN) == 0 || capEff&(1<<unix.CAP_SETUID) == 0 {
		t.Errorf("capabilities lost in the new user namespace: CapEff %s", rep["capeff"])
	}
}

// TestOOMScoreAdj: the value is written before the user namespace is
// made: once in it, and not dumpable, the process could not even open
// the file (it belongs to host root, and the process is uid 100000 on the
// host). The process is not dumpable after.
func TestOOMScoreAdj(t *testing.T) {
	requireRoot(t)
	mapping := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	adj := 321
	h, err := startHelper(t, "report", &Request{
		Unshare:     unix.CLONE_NEWUSER | unix.CLONE_NEWNET,
		UIDMappings: mapping,
		GIDMappings: mapping,
		OOMScoreAdj: &adj,
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.report(t)
	checkCommon(t, h, rep)
	if rep["oom"] != "321" {
		t.Errorf("oom_score_adj = %q, want 321", rep["oom"])
	}
	if rep["dumpable"] != "0" {
		t.Errorf("dumpable = %q, want 0", rep["dumpable"])
	}
}

// TestOOMScoreAdjUnprivileged: a caller that is not root (rootless) can
// raise its process's oom_score_adj only while the process is dumpable:
// after that /proc/self belongs to host root.
func TestOOMScoreAdjUnprivileged(t *testing.T) {
	requireRoot(t)
	const nobody = 65534
	// A copy of the test binary that nobody may run.
	dir, err := os.MkdirTemp("", "nsenter-oom-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/nsenter.test", exe, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dir+"/nsenter.test", "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=report")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &unix.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdoutR.Close()
	cmd.Stdout = stdoutW
	adj := 654
	mapping := []specs.LinuxIDMapping{{ContainerID: 0, HostID: nobody, Size: 1}}
	pid, _, err := Start(cmd, &Request{
		Unshare: unix.CLONE_NEWUSER, UIDMappings: mapping, GIDMappings: mapping,
		SetgroupsDeny: true, OOMScoreAdj: &adj,
	})
	stdoutW.Close()
	if err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, pid: pid, stdout: bufio.NewReader(stdoutR)}
	defer h.reap(t)
	defer unix.Kill(pid, unix.SIGKILL)
	rep := h.report(t)
	if rep["oom"] != "654" || rep["dumpable"] != "0" {
		t.Errorf("oom_score_adj = %q, dumpable = %q; want 654 and 0", rep["oom"], rep["dumpable"])
	}
}

// TestJoinUserAndNet joins a user namespace together with namespaces it
// owns, listed in an order that is not the join order.
func TestJoinUserAndNet(t *testing.T) {
	requireRoot(t)
	mapping := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 200000, Size: 1000}}
	target, err := startHelper(t, "report", &Request{
		Unshare:     unix.CLONE_NEWUSER | unix.CLONE_NEWNET | unix.CLONE_NEWUTS,
		UIDMappings: mapping,
		GIDMappings: mapping,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := target.report(t)
	// Listed with user last: Start must still join it first.
	joins := []Join{}
	for _, name := range []string{"uts", "net", "user"} {
		joins = append(joins, Join{Type: name, Path: fmt.Sprintf("/proc/%d/ns/%s", target.pid, name)})
	}
	h, err := startHelper(t, "report", &Request{Join: joins})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.report(t)
	checkCommon(t, h, rep)
	for _, name := range []string{"user", "net", "uts"} {
		if rep["ns."+name] != want["ns."+name] {
			t.Errorf("ns.%s = %s, want %s", name, rep["ns."+name], want["ns."+name])
		}
	}
	if rep["uid_map"] != "0 200000 1000" {
		t.Errorf("uid_map = %q", rep["uid_map"])
	}
}

// TestUserNSMaps reads the maps of a user namespace through its file
// alone, as for a bind-mounted one: they are the namespace's, not the
// caller's.
func TestUserNSMaps(t *testing.T) {
	requireRoot(t)
	uidMap := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 300000, Size: 500}, {ContainerID: 1000, HostID: 301000, Size: 1}}
	gidMap := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 310000, Size: 600}}
	target, err := startHelper(t, "report", &Request{Unshare: unix.CLONE_NEWUSER, UIDMappings: uidMap, GIDMappings: gidMap})
	if err != nil {
		t.Fatal(err)
	}
	target.report(t)
	uids, gids, err := UserNSMaps(fmt.Sprintf("/proc/%d/ns/user", target.pid))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(uids) != fmt.Sprint(uidMap) || fmt.Sprint(gids) != fmt.Sprint(gidMap) {
		t.Errorf("maps %v %v, want %v %v", uids, gids, uidMap, gidMap)
	}
	if _, _, err := UserNSMaps("/proc/self/ns/net"); err == nil {
		t.Error("a namespace file of another type was accepted")
	}
}

func TestNewTime(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		t.Skip("no time namespaces")
	}
	const offset = 10 * 24 * time.Hour
	var before unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &before); err != nil {
		t.Fatal(err)
	}
	h, err := startHelper(t, "report", &Request{
		Unshare: unix.CLONE_NEWTIME,
		TimeOffsets: map[string]specs.LinuxTimeOffset{
			"monotonic": {Secs: int64(offset / time.Second)},
			"boottime":  {Secs: 1, Nanosecs: 500},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.report(t)
	var after unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &after); err != nil {
		t.Fatal(err)
	}
	checkCommon(t, h, rep)
	if !h.forked {
		t.Error("new time namespace did not fork")
	}
	inside, err := strconv.ParseInt(rep["monotonic"], 10, 64)
	if err != nil {
		t.Fatalf("monotonic %q: %v", rep["monotonic"], err)
	}
	if inside < before.Nano()+int64(offset) || inside > after.Nano()+int64(offset) {
		t.Errorf("monotonic inside %d, want within [%d, %d]", inside,
			before.Nano()+int64(offset), after.Nano()+int64(offset))
	}
	if self := readNsLink(t, os.Getpid(), "time"); rep["ns.time"] == self {
		t.Error("helper still in the test's time namespace")
	}
	offsets, err := os.ReadFile(fmt.Sprintf("/proc/%d/timens_offsets", h.pid))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(string(offsets)), " "); got != "monotonic 864000 0 boottime 1 500" {
		t.Errorf("timens_offsets = %q", got)
	}
}

// TestNewAll creates every namespace type at once: user first, the rest
// owned by it, then a fork into the new pid and time namespaces.
func TestNewAll(t *testing.T) {
	requireRoot(t)
	mapping := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 300000, Size: 65536}}
	h, err := startHelper(t, "report", &Request{
		Unshare:       namespaceFlags,
		UIDMappings:   mapping,
		GIDMappings:   mapping,
		SetgroupsDeny: true,
		TimeOffsets:   map[string]specs.LinuxTimeOffset{"boottime": {Secs: 3600}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.report(t)
	checkCommon(t, h, rep)
	if !h.forked || rep["pid"] != "1" {
		t.Errorf("forked %v, helper pid %s; want a fork and pid 1", h.forked, rep["pid"])
	}
	self := os.Getpid()
	for _, name := range nsNames {
		if rep["ns."+name] == readNsLink(t, self, name) {
			t.Errorf("helper still in the test's %s namespace", name)
		}
	}
	if rep["uid_map"] != "0 300000 65536" {
		t.Errorf("uid_map = %q", rep["uid_map"])
	}
}

// TestJoinOwnNamespaces: joining the namespaces one is already in is a no-op
// (the kernel refuses it for user namespaces, and pid would cost a fork).
func TestJoinOwnNamespaces(t *testing.T) {
	requireRoot(t)
	var joins []Join
	for _, name := range nsNames {
		joins = append(joins, Join{Type: name, Path: "/proc/self/ns/" + name})
	}
	h, err := startHelper(t, "report", &Request{Join: joins})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.report(t)
	checkCommon(t, h, rep)
	if h.forked {
		t.Error("joining own namespaces forked")
	}
}

func TestBadPath(t *testing.T) {
	requireRoot(t)
	const path = "/nonexistent/berth/ns/net"
	_, err := startHelper(t, "report", &Request{Join: []Join{{Type: "net", Path: path}}})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Start error = %v, want one naming %s", err, path)
	}
}

// TestWrongType joins a net namespace file as an ipc namespace: the kernel
// checks the type, and the C side must report the failed setns and path.
func TestWrongType(t *testing.T) {
	requireRoot(t)
	target := startSleeper(t, unix.CLONE_NEWNET)
	path := fmt.Sprintf("/proc/%d/ns/net", target)
	_, err := startHelper(t, "report", &Request{Join: []Join{{Type: "ipc", Path: path}}})
	if err == nil || !strings.Contains(err.Error(), "setns "+path+": Invalid argument") {
		t.Fatalf("Start error = %v, want setns %s: invalid argument", err, path)
	}
}

func TestValidation(t *testing.T) {
	for name, req := range map[string]*Request{
		"unknown type":       {Join: []Join{{Type: "bogus", Path: "/proc/self/ns/net"}}},
		"duplicate":          {Join: []Join{{Type: "net", Path: "/proc/self/ns/net"}, {Type: "network", Path: "/proc/self/ns/net"}}},
		"empty path":         {Join: []Join{{Type: "net", Path: ""}}},
		"nul in path":        {Join: []Join{{Type: "net", Path: "/proc/self\x00/ns/net"}}},
		"bad flags":          {Unshare: unix.CLONE_VM},
		"maps without ns":    {UIDMappings: []specs.LinuxIDMapping{{Size: 1}}},
		"offsets, no timens": {TimeOffsets: map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}},
		"unknown clock":      {Unshare: unix.CLONE_NEWTIME, TimeOffsets: map[string]specs.LinuxTimeOffset{"realtime": {Secs: 1}}},
		"forking pipe out":   {Unshare: unix.CLONE_NEWPID},
	} {
		cmd := helperCmd("report")
		cmd.Stdout = io.Discard
		if _, _, err := Start(cmd, req); err == nil {
			t.Errorf("%s: Start accepted %+v", name, req)
		}
		if cmd.Process != nil {
			t.Errorf("%s: Start started a process for an invalid request", name)
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
}

// decodeRequest is the test's independent reading of the wire format.
func decodeRequest(t *testing.T, msg []byte) (joins []joinAttr, unshare uint32, timens, oom string) {
	t.Helper()
	ne := binary.NativeEndian
	if len(msg) < headerSize || ne.Uint32(msg) != requestMagic || int(ne.Uint32(msg[4:])) != len(msg) {
		t.Fatalf("bad header in % x", msg)
	}
	for off := headerSize; off < len(msg); {
		typ, size := ne.Uint16(msg[off:]), int(ne.Uint16(msg[off+2:]))
		payload := msg[off+4 : off+4+size]
		off += 4 + size
		switch typ {
		case attrJoin:
			joins = append(joins, joinAttr{flag: ne.Uint32(payload), path: string(payload[4:])})
		case attrUnshare:
			unshare = ne.Uint32(payload)
		case attrTimeOffsets:
			timens = string(payload)
		case attrOOMScoreAdj:
			oom = string(payload)
		case attrStackRoot:
			if size != 0 {
				t.Fatalf("stack-root attribute of %d bytes", size)
			}
			oom += "+stackroot"
		default:
			t.Fatalf("unknown attribute %d", typ)
		}
	}
	return joins, unshare, timens, oom
}

func TestEncodeRequest(t *testing.T) {
	in := []joinAttr{{unix.CLONE_NEWNET, "/proc/1/ns/net"}, {unix.CLONE_NEWUSER, "/run/ns/user"}}
	text, err := timeOffsetsText(map[string]specs.LinuxTimeOffset{
		"boottime": {Secs: -5, Nanosecs: 7}, "monotonic": {Secs: 42},
	})
	if err != nil {
		t.Fatal(err)
	}
	if text != "monotonic 42 0\nboottime -5 7\n" {
		t.Errorf("time offsets text %q", text)
	}
	adj := -999
	msg, err := encodeRequest(in, unix.CLONE_NEWPID|unix.CLONE_NEWTIME, text, &adj, false)
	if err != nil {
		t.Fatal(err)
	}
	joins, unshare, timens, oom := decodeRequest(t, msg)
	if fmt.Sprint(joins) != fmt.Sprint(in) || unshare != unix.CLONE_NEWPID|unix.CLONE_NEWTIME || timens != text || oom != "-999" {
		t.Errorf("decoded %v %#x %q %q", joins, unshare, timens, oom)
	}
	if msg, err = encodeRequest(nil, 0, "", nil, false); err != nil {
		t.Fatal(err)
	}
	if _, _, _, oom := decodeRequest(t, msg); oom != "" {
		t.Errorf("no oomScoreAdj encoded as %q", oom)
	}
	if msg, err = encodeRequest(nil, unix.CLONE_NEWNS|unix.CLONE_NEWUSER, "", nil, true); err != nil {
		t.Fatal(err)
	}
	if _, _, _, rest := decodeRequest(t, msg); rest != "+stackroot" {
		t.Errorf("stack-root decoded as %q", rest)
	}

	long := strings.Repeat("x", maxTimeOffsets+1)
	if _, err := encodeRequest(nil, 0, long, nil, false); err == nil {
		t.Error("encoded oversized time offsets")
	}
	var many []joinAttr
	for range 20 {
		many = append(many, joinAttr{unix.CLONE_NEWNET, "/" + strings.Repeat("p", maxPathLen-1)})
	}
	if _, err := encodeRequest(many, 0, "", nil, false); err == nil {
		t.Error("encoded a request over 64 KiB")
	}
}

// TestGarbageRequests feeds the C parser requests Start never builds; each
// must be refused with an error, before anything is joined.
func TestGarbageRequests(t *testing.T) {
	requireRoot(t)
	ne := binary.NativeEndian
	header := func(size int) []byte {
		return ne.AppendUint32(ne.AppendUint32(nil, requestMagic), uint32(size))
	}
	withAttr := func(typ, size uint16, payload []byte) []byte {
		msg := header(headerSize + attrHeaderSize + len(payload))
		msg = ne.AppendUint16(ne.AppendUint16(msg, typ), size)
		return append(msg, payload...)
	}
	fixLen := func(msg []byte) []byte {
		ne.PutUint32(msg[4:], uint32(len(msg)))
		return msg
	}
	join := func(flag uint32, path string) []byte {
		return append(ne.AppendUint32(nil, flag), path...)
	}
	longPath := "/" + strings.Repeat("a", unix.PathMax)
	cases := []struct {
		name, want string
		msg        []byte
	}{
		{"short header", "short header", []byte{1, 2, 3}},
		{"bad magic", "bad magic", append(ne.AppendUint32(nil, 0xdeadbeef), ne.AppendUint32(nil, 8)...)},
		{"length mismatch", "header length", header(100)},
		{"truncated attribute", "truncated attribute", append(header(10), 1, 0)},
		{"overrun", "overruns", withAttr(attrJoin, 200, join(unix.CLONE_NEWNET, "/x"))},
		{"unknown attribute", "unknown attribute", withAttr(9, 4, []byte{0, 0, 0, 0})},
		{"short join", "too short", withAttr(attrJoin, 4, ne.AppendUint32(nil, unix.CLONE_NEWNET))},
		{"repeated unshare", "unshare attribute", fixLen(append(withAttr(attrUnshare, 4, make([]byte, 4)), withAttr(attrUnshare, 4, make([]byte, 4))[headerSize:]...))},
		{"bad ns type", "bad namespace type", withAttr(attrJoin, 6, join(unix.CLONE_VM, "/x"))},
		{"two ns types", "bad namespace type", withAttr(attrJoin, 6, join(unix.CLONE_NEWNET|unix.CLONE_NEWIPC, "/x"))},
		{"nul in path", "contains NUL", withAttr(attrJoin, 8, join(unix.CLONE_NEWNET, "/a\x00b"))},
		{"path too long", "too long", withAttr(attrJoin, uint16(4+len(longPath)), join(unix.CLONE_NEWNET, longPath))},
		{"short unshare", "unshare attribute", withAttr(attrUnshare, 2, []byte{0, 0})},
		{"bad unshare", "bad unshare flags", withAttr(attrUnshare, 4, ne.AppendUint32(nil, unix.CLONE_VM))},
		{"offsets without timens", "without a new time", withAttr(attrTimeOffsets, 5, []byte("x 1 1"))},
		{"too large", "too large", append(header(maxRequestSize+1), make([]byte, maxRequestSize+1-headerSize)...)},
		{"truncated 2nd attribute", "truncated attribute", fixLen(append(withAttr(attrUnshare, 4, make([]byte, 4)), 3))},
		{"open fails", "open /nonexistent/ns: no such file", withAttr(attrJoin, 19, join(unix.CLONE_NEWNET, "/nonexistent/ns"))},
		{"empty oom", "oom_score_adj attribute", withAttr(attrOOMScoreAdj, 0, nil)},
		{"long oom", "oom_score_adj attribute", withAttr(attrOOMScoreAdj, 16, []byte(strings.Repeat("1", 16)))},
		{"repeated oom", "oom_score_adj attribute", fixLen(append(withAttr(attrOOMScoreAdj, 1, []byte("1")), withAttr(attrOOMScoreAdj, 1, []byte("1"))[headerSize:]...))},
		{"bad oom", "set oom_score_adj to 5000: invalid argument", withAttr(attrOOMScoreAdj, 4, []byte("5000"))},
		{"stack-root payload", "stack-root attribute", withAttr(attrStackRoot, 1, []byte{1})},
		{"repeated stack-root", "stack-root attribute", fixLen(append(withAttr(attrStackRoot, 0, nil), withAttr(attrStackRoot, 0, nil)[headerSize:]...))},
		{"stack-root without mntns", "stack-root without a new mount namespace", withAttr(attrStackRoot, 0, nil)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := helperCmd("report")
			_, _, err := start(cmd, c.msg, nil)
			if err == nil {
				t.Fatalf("request % x accepted", c.msg[:min(len(c.msg), 32)])
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(c.want)) {
				t.Errorf("error %q, want it to contain %q", err, c.want)
			}
			// The child reported it and exited 1, as it should: its
			// exit status adds nothing.
			if strings.Contains(err.Error(), "exit status") {
				t.Errorf("error %q carries the expected exit status", err)
			}
			if cmd.ProcessState == nil {
				t.Error("failed child was not reaped")
			}
		})
	}
}

// nsenter.c's join order is configs' namespace table, in its order: the
// C constructor cannot use the Go table, so this keeps the two one.
func TestCJoinOrderIsConfigsTable(t *testing.T) {
	src, err := os.ReadFile("nsenter.c")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "static const uint32_t ns_order[] = {")
	body, _, ok2 := strings.Cut(rest, "};")
	if !ok || !ok2 {
		t.Fatal("nsenter.c: no ns_order table")
	}
	flags := map[string]uintptr{
		"CLONE_NEWUSER": unix.CLONE_NEWUSER, "CLONE_NEWIPC": unix.CLONE_NEWIPC, "CLONE_NEWUTS": unix.CLONE_NEWUTS,
		"CLONE_NEWNET": unix.CLONE_NEWNET, "CLONE_NEWCGROUP": unix.CLONE_NEWCGROUP, "CLONE_NEWPID": unix.CLONE_NEWPID,
		"CLONE_NEWTIME": unix.CLONE_NEWTIME, "CLONE_NEWNS": unix.CLONE_NEWNS,
	}
	var got []uintptr
	for _, name := range strings.FieldsFunc(body, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		f, ok := flags[name]
		if !ok {
			t.Fatalf("nsenter.c ns_order: unknown entry %q", name)
		}
		got = append(got, f)
	}
	if want := configs.NamespaceFlagsInJoinOrder(); !reflect.DeepEqual(got, want) {
		t.Errorf("nsenter.c ns_order %#x, configs' table %#x", got, want)
	}
}
