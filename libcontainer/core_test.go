package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/nsenter"
)

func nsSpec(nss ...specs.LinuxNamespace) *specs.Spec {
	return &specs.Spec{Linux: &specs.Linux{
		Namespaces:  nss,
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
	}}
}

func TestNamespaceRequest(t *testing.T) {
	ns := func(typ specs.LinuxNamespaceType, path ...string) specs.LinuxNamespace {
		n := specs.LinuxNamespace{Type: typ}
		if len(path) > 0 {
			n.Path = path[0]
		}
		return n
	}
	for _, tc := range []struct {
		name        string
		l           *launch
		wantUnshare uintptr
		wantJoin    []nsenter.Join
		wantNsenter bool
		wantMaps    bool
	}{
		{
			name:        "new namespaces only: one clone, cgroupns later",
			l:           &launch{Spec: nsSpec(ns(specs.PIDNamespace), ns(specs.MountNamespace), ns(specs.CgroupNamespace), ns(specs.NetworkNamespace))},
			wantUnshare: unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWNET,
		},
		{
			name:        "network namespace made ahead: left out of the clone",
			l:           &launch{Spec: nsSpec(ns(specs.PIDNamespace), ns(specs.NetworkNamespace)), NetNSAhead: true},
			wantUnshare: unix.CLONE_NEWPID,
		},
		{
			name:        "a namespace joined by path: nsenter",
			l:           &launch{Spec: nsSpec(ns(specs.PIDNamespace), ns(specs.NetworkNamespace, "/proc/1/ns/net"))},
			wantUnshare: unix.CLONE_NEWPID,
			wantJoin:    []nsenter.Join{{Type: "net", Path: "/proc/1/ns/net"}},
			wantNsenter: true, wantMaps: true,
		},
		{
			name:        "time namespace: nsenter",
			l:           &launch{Spec: nsSpec(ns(specs.TimeNamespace))},
			wantUnshare: unix.CLONE_NEWTIME,
			wantNsenter: true, wantMaps: true,
		},
		{
			name:        "user namespace with root mapped: one clone",
			l:           &launch{Spec: nsSpec(ns(specs.UserNamespace), ns(specs.MountNamespace))},
			wantUnshare: unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
		},
		{
			name: "exec: joins every namespace init has, by /proc",
			l:    &launch{Spec: nsSpec(ns(specs.PIDNamespace), ns(specs.MountNamespace), ns(specs.UTSNamespace)), InitPid: 42},
			wantJoin: []nsenter.Join{
				{Type: "pid", Path: "/proc/42/ns/pid"}, {Type: "uts", Path: "/proc/42/ns/uts"}, {Type: "mnt", Path: "/proc/42/ns/mnt"},
			},
			wantNsenter: true,
		},
	} {
		req, useNsenter, err := namespaceRequest(tc.l)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if req.Unshare != tc.wantUnshare || useNsenter != tc.wantNsenter {
			t.Errorf("%s: unshare %#x, nsenter %t; want %#x, %t", tc.name, req.Unshare, useNsenter, tc.wantUnshare, tc.wantNsenter)
		}
		if !sameJoins(req.Join, tc.wantJoin) {
			t.Errorf("%s: joins %v, want %v", tc.name, req.Join, tc.wantJoin)
		}
		if (req.UIDMappings != nil) != tc.wantMaps {
			t.Errorf("%s: uid maps in the nsenter request: %v", tc.name, req.UIDMappings)
		}
	}
	noRoot := nsSpec(specs.LinuxNamespace{Type: specs.UserNamespace})
	noRoot.Linux.UIDMappings[0].ContainerID = 1000
	if _, useNsenter, _ := namespaceRequest(&launch{Spec: noRoot}); !useNsenter {
		t.Error("a user namespace that does not map root must go through nsenter")
	}
	if _, _, err := namespaceRequest(&launch{Spec: nsSpec(specs.LinuxNamespace{Type: "bogus"})}); err == nil {
		t.Error("an unknown namespace type: no error")
	}
}

func sameJoins(got, want []nsenter.Join) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[nsenter.Join]bool{}
	for _, j := range got {
		seen[j] = true
	}
	for _, j := range want {
		if !seen[j] {
			return false
		}
	}
	return true
}

func TestExecConfig(t *testing.T) {
	spec := &specs.Spec{
		Process: &specs.Process{Args: []string{"sh"}},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.UserNamespace}},
			Seccomp:    &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock"},
		},
		Hooks: &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/true"}}},
	}
	st := &State{ID: "x", Bundle: "/b", Rootfs: "/b/rootfs", InitPid: 7, CgroupPaths: map[string]string{"": "/sys/fs/cgroup/x"}}
	st.spec = spec
	c := &Container{state: st}
	proc := &specs.Process{Args: []string{"ls"}}
	cfg := c.execConfig(&ExecOpts{Process: proc, PreserveFds: 2, RelayConsole: true}, stepCgroupJoin)
	if !cfg.Exec || cfg.Process != proc || cfg.PreserveFds != 2 || !cfg.ClearONLCR || !cfg.UserNS || cfg.State.Pid != 7 {
		t.Errorf("exec config: %+v", cfg)
	}
	// An exec runs no hook of the runtime's and waits for no start.
	want := []step{stepConfig, stepCgroupJoin, stepEnter, stepSeccompFd, stepExecve}
	if !reflect.DeepEqual(cfg.Steps, want) {
		t.Errorf("exec steps %v, want %v", cfg.Steps, want)
	}
	// --exec-wait-fifo: the wait is the last step before execve.
	cfg = c.execConfig(&ExecOpts{Process: proc, ExecWaitFifo: "/run/w.fifo"}, stepCgroupJoin)
	want = []step{stepConfig, stepCgroupJoin, stepEnter, stepSeccompFd, stepExecWait, stepExecve}
	if !reflect.DeepEqual(cfg.Steps, want) {
		t.Errorf("exec steps with a wait fifo %v, want %v", cfg.Steps, want)
	}
}

// The handle of --exec-wait-fifo is taken without blocking and without
// becoming a writer; anything but a fifo is refused.
func TestOpenExecWaitFifo(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "w.fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := openExecWaitFifo(fifo)
	if err != nil {
		t.Fatalf("a fifo: %v", err)
	}
	defer h.Close()
	// An O_PATH handle, close-on-exec: it opens nothing for writing.
	fl, err := unix.FcntlInt(h.Fd(), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_PATH == 0 {
		t.Errorf("handle flags %#x (%v): want O_PATH", fl, err)
	}
	if fd, err := unix.FcntlInt(h.Fd(), unix.F_GETFD, 0); err != nil || fd&unix.FD_CLOEXEC == 0 {
		t.Errorf("handle not close-on-exec: %#x, %v", fd, err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openExecWaitFifo(plain); err == nil || !strings.Contains(err.Error(), "is not a fifo") {
		t.Errorf("a regular file: %v, want \"is not a fifo\"", err)
	}
	if _, err := openExecWaitFifo(filepath.Join(dir, "none")); err == nil || !strings.Contains(err.Error(), "failed to open exec wait fifo") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing path: %v", err)
	}
}

func TestExecCgroupPaths(t *testing.T) {
	root := t.TempDir()
	mk := func(rel string) string {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mem, pids, cpu := mk("memory/c"), mk("pids/c"), mk("cpu/c")
	mk("memory/c/sub")
	mk("pids/c/sub")
	mk("cpu/c/other")
	base := map[string]string{"memory": mem, "pids": pids, "cpu": cpu}
	for _, tc := range []struct {
		name string
		sub  map[string]string
		want map[string]string
		err  string
	}{
		{"none: the container's own", nil, base, ""},
		{"one controller", map[string]string{"memory": "sub"}, map[string]string{"memory": mem + "/sub", "pids": pids, "cpu": cpu}, ""},
		{"every controller, missing in one", map[string]string{"": "sub"}, nil, "adding pid to cgroup " + cpu + "/sub: no such file or directory"},
		{"climbing out to the parent", map[string]string{"cpu": ".."}, nil, "bad sub cgroup path: .."},
		{"climbing out to a sibling", map[string]string{"cpu": "../../cpu/c-sibling"}, nil, "bad sub cgroup path"},
		{"climbing out and back in", map[string]string{"cpu": "../c/other"}, map[string]string{"memory": mem, "pids": pids, "cpu": cpu + "/other"}, ""},
		{"an absolute path is below the container's cgroup", map[string]string{"cpu": "/other"}, map[string]string{"memory": mem, "pids": pids, "cpu": cpu + "/other"}, ""},
		{"the container's own cgroup", map[string]string{"memory": "/"}, base, ""},
		{"a controller the container lacks", map[string]string{"rdma": "sub"}, nil, "unknown controller \"rdma\""},
	} {
		got, err := execCgroupPaths(base, tc.sub)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %v, %v; want an error with %q", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	// cgroup v2: "" is the only key, and "all" means it.
	v2 := map[string]string{"": mk("unified/c")}
	mk("unified/c/sub")
	if got, err := execCgroupPaths(v2, map[string]string{"": "sub"}); err != nil || got[""] != v2[""]+"/sub" {
		t.Errorf("v2: got %v, %v", got, err)
	}
	if base["memory"] != mem {
		t.Error("execCgroupPaths changed the container's paths")
	}
}

// The placement each strategy plans: the step through which the process
// gets into its cgroup.
func TestPlacementSteps(t *testing.T) {
	for _, tc := range []struct {
		p    cgroupPlacement
		want step
	}{
		{&cloneInto{}, ""},
		{&cloneInto{fallback: &runtimeMoves{}}, stepCgroupReady},
		{&selfJoin{}, stepCgroupJoin},
		{&runtimeMoves{}, stepCgroupReady},
		{execPlacement(nil, false, 0), ""},
		{execPlacement(map[string]string{"": "/u"}, false, 0), ""},
		{execPlacement(map[string]string{"": "/u", "pids": "/p"}, false, 0), stepCgroupJoin},
		{execPlacement(map[string]string{"pids": "/p"}, false, 0), stepCgroupJoin},
		{execPlacement(nil, true, 0), ""},
		{execPlacement(map[string]string{"": "/u", "pids": "/p"}, true, 0), ""},
	} {
		if got := tc.p.step(); got != tc.want {
			t.Errorf("%T: step %q, want %q", tc.p, got, tc.want)
		}
	}
}

// An exec process is cloned into its cgroup2 directory (v2, and the
// cgroup2 tree of a hybrid host); not on a v1-only host, and not into a
// frozen cgroup, where it would freeze before its execve.
func TestExecPlacementCloneFD(t *testing.T) {
	dir := t.TempDir()
	var want unix.Stat_t
	if err := unix.Stat(dir, &want); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		paths  map[string]string
		frozen bool
		clone  bool
	}{
		{map[string]string{"": dir}, false, true},
		{map[string]string{"": dir, "pids": "/p"}, false, true},
		{map[string]string{"pids": "/p"}, false, false},
		{nil, false, false},
		{map[string]string{"": dir}, true, false},
	} {
		fd, err := execPlacement(tc.paths, tc.frozen, 0).beforeClone()
		if err != nil {
			t.Fatalf("%v frozen=%t: %v", tc.paths, tc.frozen, err)
		}
		if !tc.clone {
			if fd != -1 {
				unix.Close(fd)
				t.Errorf("%v frozen=%t: clone fd %d, want none", tc.paths, tc.frozen, fd)
			}
			continue
		}
		var got unix.Stat_t
		err = unix.Fstat(fd, &got)
		unix.Close(fd)
		if err != nil || got.Ino != want.Ino || got.Dev != want.Dev {
			t.Errorf("%v: clone fd is not %s (%v)", tc.paths, dir, err)
		}
	}
	// A missing cgroup2 directory: an error naming it on cgroup v2; on a
	// hybrid host, where create makes it best-effort, none.
	fd, err := execPlacement(map[string]string{"": dir + "/gone"}, false, 0).beforeClone()
	if cgroups.IsCgroup2UnifiedMode() {
		if err == nil || !strings.Contains(err.Error(), dir+"/gone") {
			t.Errorf("missing cgroup: %v, want an error naming it", err)
		}
	} else if fd != -1 || err != nil {
		t.Errorf("missing cgroup2 directory on a hybrid host: fd %d, %v; want none", fd, err)
	}
}

// Only a container cgroup that can hold no process sends an exec to
// init's cgroup; every other refusal stands, and nothing is started.
func TestStartExecInInitCgroupRefuses(t *testing.T) {
	wrap := func(e error) error { return fmt.Errorf("nsenter: start x: %w", e) }
	for _, e := range []error{unix.EAGAIN, unix.ENOMEM, unix.EACCES} {
		// An empty launch: starting it would fail differently.
		proc, err := startExecInInitCgroup(&launch{InitPid: os.Getpid()}, "/sys/fs/cgroup/c", wrap(e))
		if proc != nil || err == nil || err.Error() != cloneIntoError("/sys/fs/cgroup/c", wrap(e)).Error() {
			t.Errorf("%v: %v, %v", e, proc, err)
		}
	}
}

// A clone refused by the cgroup it goes into names the cgroup and why.
func TestCloneIntoError(t *testing.T) {
	wrap := func(e error) error {
		return fmt.Errorf("nsenter: start x: %w", &os.PathError{Op: "fork/exec", Path: "x", Err: e})
	}
	for _, tc := range []struct {
		dir  string
		err  error
		want []string
	}{
		{"/sys/fs/cgroup/a", wrap(unix.EAGAIN), []string{"/sys/fs/cgroup/a", "pids.max"}},
		{"/sys/fs/cgroup/a", wrap(unix.EBUSY), []string{"/sys/fs/cgroup/a", "cgroup.subtree_control"}},
		{"/sys/fs/cgroup/a", wrap(unix.ENOMEM), []string{"cannot allocate memory"}},
		{"", wrap(unix.EAGAIN), []string{"resource temporarily unavailable"}},
	} {
		got := cloneIntoError(tc.dir, tc.err).Error()
		for _, w := range tc.want {
			if !strings.Contains(got, w) || strings.Contains(got, "\n") {
				t.Errorf("%q %v: %q, want one line with %q", tc.dir, tc.err, got, w)
			}
		}
	}
}

func TestCreateInitConfig(t *testing.T) {
	spec := &specs.Spec{
		Process: &specs.Process{Args: []string{"sh"}},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
			{Type: specs.CgroupNamespace}, {Type: specs.MountNamespace},
		}},
		Hooks: &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/true"}}},
	}
	st := &State{ID: "x", Bundle: "/b", Rootfs: "/b/rootfs", CgroupPaths: map[string]string{"memory": "/m"}}
	st.setSpec(spec)
	g := &newCgroup{st: st}
	cr := &creation{
		o: &CreateOpts{ID: "x", Bundle: "/b", Spec: spec, NoPivot: true, PreserveFds: 1, RelayConsole: true},
		c: &Container{state: st}, st: st, cg: g, place: &runtimeMoves{g: g}, proc: &started{pid: 99},
	}
	cfg := cr.initConfig()
	if cfg.Exec || cfg.Process != nil || !cfg.NoPivot || cfg.PreserveFds != 1 || !cfg.ClearONLCR || !cfg.CgroupNS || cfg.UserNS {
		t.Errorf("init config: %+v", cfg)
	}
	if cfg.State.Pid != 99 || cfg.State.Status != specs.ContainerState(Creating) || cfg.CgroupPaths["memory"] != "/m" {
		t.Errorf("init config state %+v, cgroups %v", cfg.State, cfg.CgroupPaths)
	}
	want := []step{stepConfig, stepRootfs, stepCgroupReady, stepHooks, stepPivot, stepFinish, stepReady, stepStartFifo, stepExecve}
	if !reflect.DeepEqual(cfg.Steps, want) {
		t.Errorf("steps %v, want %v", cfg.Steps, want)
	}
	cr.o.StartNow, cr.place = true, &selfJoin{g: g}
	spec.Hooks = nil
	want = []step{stepConfig, stepCgroupJoin, stepRootfs, stepPivot, stepFinish, stepReady, stepStart, stepExecve}
	if got := cr.initConfig().Steps; !reflect.DeepEqual(got, want) {
		t.Errorf("run, v1: steps %v, want %v", got, want)
	}
}

// An exec into a paused container joins its cgroup after execve; a program
// that already ran and exited (`exec -d --ignore-paused ... true`) is not
// an error (ESRCH from the cgroup), any other failure is.
func TestExecAfterProcessGone(t *testing.T) {
	const root = "/sys/fs/cgroup/pids"
	var st unix.Statfs_t
	if os.Geteuid() != 0 || unix.Statfs(root, &st) != nil || st.Type != unix.CGROUP_SUPER_MAGIC {
		t.Skip("needs root and a cgroup v1 pids hierarchy")
	}
	dir := filepath.Join(root, "berth", fmt.Sprintf("test-execafter-%d", os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir)
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	p := &execAfter{paths: map[string]string{"pids": dir}}
	if err := p.afterExecve(cmd.Process.Pid); err != nil {
		t.Errorf("a process gone before its placement: %v", err)
	}
	p = &execAfter{paths: map[string]string{"pids": filepath.Join(dir, "missing")}}
	if err := p.afterExecve(os.Getpid()); err == nil {
		t.Error("a missing cgroup: no error")
	}
}
