package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// validSpec is a minimal config that Validate accepts for a bundle made by
// newBundle; each case below breaks one thing.
func validSpec() *specs.Spec {
	return &specs.Spec{
		Root:    &specs.Root{Path: "rootfs"},
		Process: &specs.Process{Args: []string{"sh"}, Cwd: "/"},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
			{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
			{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
		}},
	}
}

func newBundle(t *testing.T) string {
	t.Helper()
	b := t.TempDir()
	if err := os.Mkdir(filepath.Join(b, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func intp(v int) *int { return &v }

func TestValidateAcceptsMinimal(t *testing.T) {
	if err := Validate(validSpec(), newBundle(t)); err != nil {
		t.Fatal(err)
	}
}

func TestValidateErrors(t *testing.T) {
	userMaps := func(s *specs.Spec) {
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}}
	}
	cases := []struct {
		name   string
		modify func(s *specs.Spec, bundle string)
		want   string
	}{
		{"no root", func(s *specs.Spec, _ string) { s.Root = nil }, "root.path is required"},
		{"empty root path", func(s *specs.Spec, _ string) { s.Root.Path = "" }, "root.path is required"},
		{"missing rootfs", func(s *specs.Spec, _ string) { s.Root.Path = "nope" }, "does not exist"},
		{"rootfs is a file", func(s *specs.Spec, _ string) { s.Root.Path = "file" }, "is not a directory"},
		{"no process", func(s *specs.Spec, _ string) { s.Process = nil }, "process is required"},
		{"bad process", func(s *specs.Spec, _ string) { s.Process.Args = nil }, "process.args must not be empty"},
		{"no linux", func(s *specs.Spec, _ string) { s.Linux = nil }, "linux is required"},
		{"unknown namespace", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
		}, `unknown namespace type "bogus"`},
		{"namespace twice", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}, "pid namespace given twice"},
		{"relative namespace path", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces[1].Path = "proc/1/ns/net"
		}, "must be absolute"},
		{"missing namespace path", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces[1].Path = "/proc/999999999/ns/net"
		}, "/proc/999999999/ns/net"},
		{"user namespace without maps", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, "needs linux.uidMappings and linux.gidMappings"},
		{"maps without user namespace", func(s *specs.Spec, _ string) { userMaps(s) }, "there is no user namespace"},
		{"maps with joined user namespace", func(s *specs.Spec, _ string) {
			userMaps(s)
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/self/ns/user"})
		}, "cannot be used with a joined user namespace"},
		{"map of size 0", func(s *specs.Spec, _ string) {
			userMaps(s)
			s.Linux.UIDMappings[0].Size = 0
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, "has size 0"},
		{"map overflow", func(s *specs.Spec, _ string) {
			userMaps(s)
			s.Linux.GIDMappings[0].HostID = 1<<32 - 5
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, "overflows"},
		{"uid not mapped", func(s *specs.Spec, _ string) {
			userMaps(s)
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Process.User.UID = 10
		}, "process.user.uid 10 is not mapped in the user namespace (linux.uidMappings)"},
		{"gid not mapped", func(s *specs.Spec, _ string) {
			userMaps(s)
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Process.User.UID, s.Process.User.GID = 9, 4294967294
		}, "process.user.gid 4294967294 is not mapped"},
		{"additional gid not mapped", func(s *specs.Spec, _ string) {
			userMaps(s)
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Process.User.AdditionalGids = []uint32{1, 9, 10}
		}, "process.user.additionalGids: 10 is not mapped"},
		{"time offsets without time namespace", func(s *specs.Spec, _ string) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 1}}
		}, "there is no time namespace"},
		{"time offsets with joined time namespace", func(s *specs.Spec, _ string) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 1}}
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace, Path: "/proc/self/ns/time"})
		}, "joined time namespace"},
		{"unknown clock", func(s *specs.Spec, _ string) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 1}}
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		}, `unknown clock "realtime"`},
		{"hostname without uts", func(s *specs.Spec, _ string) {
			s.Hostname = "h"
			s.Linux.Namespaces = s.Linux.Namespaces[:3]
		}, "hostname without a private UTS namespace"},
		{"hostname with the runtime's own uts joined", func(s *specs.Spec, _ string) {
			s.Hostname = "h"
			s.Linux.Namespaces[3].Path = "/proc/self/ns/uts"
		}, "unable to set hostname: the UTS namespace joined by path /proc/self/ns/uts is the runtime's own"},
		{"domainname with the runtime's own uts joined", func(s *specs.Spec, _ string) {
			s.Domainname = "d"
			s.Linux.Namespaces[3].Path = "/proc/self/ns/uts"
		}, "unable to set domainname: the UTS namespace joined by path"},
		{"domainname without uts", func(s *specs.Spec, _ string) {
			s.Domainname = "d"
			s.Linux.Namespaces = s.Linux.Namespaces[:3]
		}, "domainname without a private UTS namespace"},
		{"mount without destination", func(s *specs.Spec, _ string) {
			s.Mounts = []specs.Mount{{Type: "tmpfs"}}
		}, "mounts[0]: destination is required"},
		{"idmap without any mappings", func(s *specs.Spec, _ string) {
			s.Mounts = []specs.Mount{{Type: "bind", Source: "/", Destination: "/x", Options: []string{"idmap"}}}
		}, `mounts[0] (/x): idmap without uidMappings/gidMappings takes the container's user namespace mappings, and the config has none`},
		{"idmapped mount with uid mappings only", func(s *specs.Spec, _ string) {
			s.Mounts = []specs.Mount{{Type: "bind", Source: "/", Destination: "/x", Options: []string{"rbind"}, UIDMappings: []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}}}
		}, "needs both uidMappings and gidMappings"},
		{"idmapped tmpfs", func(s *specs.Spec, _ string) {
			s.Mounts = []specs.Mount{{Type: "tmpfs", Source: "tmpfs", Destination: "/x", Options: []string{"ridmap"}}}
		}, "idmap/ridmap are for bind mounts only"},
		{"idmapped mount with a zero-size mapping", func(s *specs.Spec, _ string) {
			m := []specs.LinuxIDMapping{{HostID: 1000, Size: 0}}
			s.Mounts = []specs.Mount{{Type: "bind", Source: "/", Destination: "/x", Options: []string{"bind"}, UIDMappings: m, GIDMappings: m}}
		}, "has size 0"},
		{"bind without source", func(s *specs.Spec, _ string) {
			s.Mounts = []specs.Mount{{Destination: "/x", Options: []string{"rbind"}}}
		}, "a bind mount needs a source"},
		{"mount without type", func(s *specs.Spec, _ string) {
			s.Mounts = []specs.Mount{{Destination: "/x", Source: "tmpfs"}}
		}, "type is required"},
		{"bad rootfs propagation", func(s *specs.Spec, _ string) { s.Linux.RootfsPropagation = "sideways" }, "not a propagation mode"},
		{"relative masked path", func(s *specs.Spec, _ string) { s.Linux.MaskedPaths = []string{"proc/kcore"} }, "must be an absolute path"},
		{"relative readonly path", func(s *specs.Spec, _ string) { s.Linux.ReadonlyPaths = []string{"proc/sys"} }, "must be an absolute path"},
		{"device at the root", func(s *specs.Spec, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/..", Type: "c"}}
		}, "names the container's root"},
		{"device of unknown type", func(s *specs.Spec, _ string) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z"}}
		}, `unknown type "z"`},
		{"empty sysctl key", func(s *specs.Spec, _ string) { s.Linux.Sysctl = map[string]string{"": "1"} }, "invalid key"},
		{"sysctl key with ..", func(s *specs.Spec, _ string) { s.Linux.Sysctl = map[string]string{"net..x": "1"} }, "invalid key"},
		{"sysctl key escaping /proc/sys", func(s *specs.Spec, _ string) { s.Linux.Sysctl = map[string]string{"net/../../x": "1"} }, "invalid key"},
		{"sysctl key with NUL", func(s *specs.Spec, _ string) { s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward\x00": "1"} }, "invalid key"},
		{"absolute sysctl key", func(s *specs.Spec, _ string) { s.Linux.Sysctl = map[string]string{"/net/ipv4/ip_forward": "1"} }, "invalid key"},
		{"ipc sysctl without ipc namespace", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"kernel.shmmax": "1"}
			s.Linux.Namespaces[2].Path = "/proc/self/ns/ipc"
		}, "needs a private IPC namespace"},
		{"mqueue sysctl without ipc namespace", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"fs.mqueue.msg_max": "1"}
			s.Linux.Namespaces = append(s.Linux.Namespaces[:2], s.Linux.Namespaces[3:]...)
		}, "needs a private IPC namespace"},
		{"net sysctl without net namespace", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
			s.Linux.Namespaces = append(s.Linux.Namespaces[:1], s.Linux.Namespaces[2:]...)
		}, "needs a network namespace"},
		{"net sysctl in the runtime's own network namespace", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
			s.Linux.Namespaces[1].Path = "/proc/self/ns/net"
		}, "needs a network namespace (not the runtime's own)"},
		{"domainname sysctl without uts namespace", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"kernel.domainname": "x"}
			s.Linux.Namespaces = append(s.Linux.Namespaces[:3], s.Linux.Namespaces[4:]...)
		}, "needs a UTS namespace"},
		{"domainname sysctl in the runtime's own uts namespace", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"kernel.domainname": "x"}
			s.Linux.Namespaces[3].Path = "/proc/self/ns/uts"
		}, "needs a UTS namespace"},
		{"user sysctl without user namespace", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"user.max_user_namespaces": "10"}
		}, "needs a user namespace"},
		{"hostname sysctl", func(s *specs.Spec, _ string) { s.Linux.Sysctl = map[string]string{"kernel.hostname": "x"} }, "through the hostname field"},
		{"host sysctl", func(s *specs.Spec, _ string) { s.Linux.Sysctl = map[string]string{"kernel.panic": "1"} }, "not namespaced"},
		{"relative hook path", func(s *specs.Spec, _ string) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "hook"}}}
		}, `hooks.poststop: path "hook" must be absolute`},
		{"hook with zero timeout", func(s *specs.Spec, _ string) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/true", Timeout: intp(0)}}}
		}, "timeout must be positive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newBundle(t)
			s := validSpec()
			c.modify(s, b)
			err := Validate(s, b)
			if err == nil {
				t.Fatalf("accepted; want error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q; want it to contain %q", err, c.want)
			}
		})
	}
}

func TestValidateAcceptsNamespacedSysctls(t *testing.T) {
	s := validSpec()
	s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1", "fs.mqueue.queues_max": "10", "net/ipv4/ping_group_range": "0 0",
		"kernel.domainname": "example.org"}
	if err := Validate(s, newBundle(t)); err != nil {
		t.Fatal(err)
	}
	// user.* (ucounts) with a user namespace, as runc 1.5
	s.Linux.Sysctl = map[string]string{"user.max_user_namespaces": "10"}
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = s.Linux.UIDMappings
	if err := Validate(s, newBundle(t)); err != nil {
		t.Fatal(err)
	}
}

func TestValidateProcessErrors(t *testing.T) {
	cases := []struct {
		name   string
		modify func(p *specs.Process)
		want   string
	}{
		{"no args", func(p *specs.Process) { p.Args = nil }, "process.args must not be empty"},
		{"no cwd", func(p *specs.Process) { p.Cwd = "" }, "process.cwd is required"},
		{"relative cwd", func(p *specs.Process) { p.Cwd = "tmp" }, "must be an absolute path"},
		{"env without =", func(p *specs.Process) { p.Env = []string{"FOO"} }, "not of the form KEY=VALUE"},
		{"env with an empty name", func(p *specs.Process) { p.Env = []string{"=x"} }, `"=x" has an empty name`},
		{"env with NUL", func(p *specs.Process) { p.Env = []string{"FOO=a\x00b"} }, "NUL byte"},
		{"unknown rlimit", func(p *specs.Process) { p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_BOGUS"}} }, `unknown rlimit type "RLIMIT_BOGUS"`},
		{"rlimit twice", func(p *specs.Process) {
			p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 1}, {Type: "RLIMIT_NOFILE", Soft: 1, Hard: 1}}
		}, "RLIMIT_NOFILE given twice"},
		{"soft above hard", func(p *specs.Process) {
			p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2, Hard: 1}}
		}, "soft limit 2 is above hard limit 1"},
		{"oomScoreAdj too low", func(p *specs.Process) { p.OOMScoreAdj = intp(-1001) }, "outside [-1000, 1000]"},
		{"oomScoreAdj too high", func(p *specs.Process) { p.OOMScoreAdj = intp(1001) }, "outside [-1000, 1000]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &specs.Process{Args: []string{"sh"}, Cwd: "/"}
			c.modify(p)
			err := ValidateProcess(p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want one containing %q", err, c.want)
			}
		})
	}
	ok := &specs.Process{Args: []string{"sh"}, Cwd: "/", Env: []string{"A=", "B=c=d"}, OOMScoreAdj: intp(-1000),
		Rlimits:      []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 1}, {Type: "RLIMIT_CORE"}},
		Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_SYS_ADMIN", "CAP_KILL"}}}
	if err := ValidateProcess(ok); err != nil {
		t.Fatalf("valid process refused: %v", err)
	}
}

func TestValidateID(t *testing.T) {
	for _, id := range []string{"a", "A0", "0abc", "a.b-c_d+e", strings.Repeat("x", MaxIDLength)} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q): %v", id, err)
		}
	}
	bad := map[string]string{
		"":                                 "cannot be empty",
		strings.Repeat("x", MaxIDLength+1): "longer than 1024 bytes",
		".":                                "invalid container id",
		"..":                               "invalid container id",
		"-a":                               "only [A-Za-z0-9_+.-] allowed",
		".a":                               "only [A-Za-z0-9_+.-] allowed",
		"a/b":                              "only [A-Za-z0-9_+.-] allowed",
		"a b":                              "only [A-Za-z0-9_+.-] allowed",
		"a\x00":                            "only [A-Za-z0-9_+.-] allowed",
		"é":                                "only [A-Za-z0-9_+.-] allowed",
	}
	for id, want := range bad {
		err := ValidateID(id)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateID(%.40q) = %v; want error containing %q", id, err, want)
		}
	}
}

func TestRlimitResource(t *testing.T) {
	if _, err := RlimitResource("RLIMIT_NOFILE"); err != nil {
		t.Fatal(err)
	}
	if _, err := RlimitResource("nofile"); err == nil {
		t.Fatal("lower-case rlimit name accepted")
	}
}

func TestRootfsPath(t *testing.T) {
	s := validSpec()
	if got := RootfsPath(s, "/b"); got != "/b/rootfs" {
		t.Errorf("relative: %s", got)
	}
	s.Root.Path = "/abs/../root"
	if got := RootfsPath(s, "/b"); got != "/root" {
		t.Errorf("absolute: %s", got)
	}
}

func TestParseSpecRejectsTrailingData(t *testing.T) {
	for _, data := range []string{`{"ociVersion":"1.3.0"} {}`, `{"ociVersion":"1.3.0"}}`, `{"ociVersion":"1.3.0"} x`} {
		if _, err := ParseSpec([]byte(data)); err == nil || !strings.Contains(err.Error(), "trailing data") {
			t.Fatalf("%s: got %v", data, err)
		}
	}
	if _, err := ParseSpec([]byte(`{"ociVersion":`)); err == nil {
		t.Fatal("truncated JSON accepted")
	}
}

func TestLoadSpecErrors(t *testing.T) {
	if _, err := LoadSpec(t.TempDir()); err == nil || !strings.Contains(err.Error(), "config.json not found") {
		t.Fatalf("missing config: %v", err)
	}
	b := t.TempDir()
	big := make([]byte, maxConfigSize+2)
	if err := os.WriteFile(filepath.Join(b, "config.json"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSpec(b); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized config: %v", err)
	}
}

// Unknown capability names are runc's warning (caps.Warn), not an error.
func TestValidateProcessUnknownCapability(t *testing.T) {
	p := &specs.Process{Args: []string{"sh"}, Cwd: "/", Capabilities: &specs.LinuxCapabilities{
		Bounding: []string{"KILL"}, Ambient: []string{"CAP_FLY"},
	}}
	if err := ValidateProcess(p); err != nil {
		t.Fatalf("ValidateProcess: %v", err)
	}
}

// The fields procattr applies are checked at create (and in exec's
// process.json) with the same one-line errors, not refused.
func TestValidateChecksProcAttrs(t *testing.T) {
	cases := []struct {
		want   string // "" for accepted
		modify func(s *specs.Spec)
	}{
		{"", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0"} }},
		{"MPOL_BIND needs nodes", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind} }},
		{"", func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32} }},
		{"linux.personality.domain", func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "PER_BSD"} }},
		{"", func(s *specs.Spec) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE} }},
		{"process.ioPriority.priority", func(s *specs.Spec) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 9}
		}},
		{"", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch} }},
		{"process.scheduler.nice", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 40} }},
		{"", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "0"} }},
		{"process.execCPUAffinity.initial", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0-"} }},
	}
	for i, c := range cases {
		b := newBundle(t)
		s := validSpec()
		c.modify(s)
		err := Validate(s, b)
		if c.want == "" && err != nil {
			t.Errorf("case %d: %v", i, err)
		}
		if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n")) {
			t.Errorf("case %d: error %v; want one line naming %s", i, err, c.want)
		}
	}
	// intelRdt: checked, then refused where no resctrl is mounted.
	b := newBundle(t)
	s := validSpec()
	s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "../x"}
	if err := Validate(s, b); err == nil || !strings.Contains(err.Error(), "linux.intelRdt.closID") {
		t.Errorf("bad closID: %v", err)
	}
	s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "gold"}
	if _, rerr := os.Stat("/sys/fs/resctrl/info"); rerr != nil {
		if err := Validate(s, b); err == nil || !strings.Contains(err.Error(), "no resctrl filesystem") {
			t.Errorf("intelRdt without resctrl: %v", err)
		}
	}
	// exec's process.json is checked by ValidateProcess alone.
	p := &specs.Process{Args: []string{"sh"}, Cwd: "/", Scheduler: &specs.Scheduler{Policy: "SCHED_NOW"}}
	if err := ValidateProcess(p); err == nil || !strings.Contains(err.Error(), "process.scheduler.policy") {
		t.Fatalf("ValidateProcess: %v; want process.scheduler.policy refused", err)
	}
}

func TestValidateNormalizesMountDestinations(t *testing.T) {
	bundle := newBundle(t)
	s := validSpec()
	rootfs := RootfsPath(s, bundle)
	s.Mounts = []specs.Mount{
		{Type: "tmpfs", Source: "tmpfs", Destination: "tmp/rel"},
		{Type: "tmpfs", Source: "tmpfs", Destination: rootfs + "/mnt/x"},
		{Type: "tmpfs", Source: "tmpfs", Destination: rootfs + "-sibling/y"},
		{Type: "tmpfs", Source: "tmpfs", Destination: "/abs"},
	}
	if err := Validate(s, bundle); err != nil {
		t.Fatal(err)
	}
	want := []string{"/tmp/rel", "/mnt/x", rootfs + "-sibling/y", "/abs"}
	for i, m := range s.Mounts {
		if m.Destination != want[i] {
			t.Errorf("mounts[%d]: destination %q, want %q", i, m.Destination, want[i])
		}
	}
}

// The spec: runtimes MUST ignore consoleSize without a terminal. Not an
// error (it was one), but said.
func TestConsoleSizeWithoutTerminalIsIgnoredAndSaid(t *testing.T) {
	p := &specs.Process{Args: []string{"sh"}, Cwd: "/", ConsoleSize: &specs.Box{Height: 1, Width: 1}}
	w := warnings(t, func() {
		if err := ValidateProcess(p); err != nil {
			t.Fatal(err)
		}
	})
	if len(w) != 1 || w[0] != "process.consoleSize: not applied: process.terminal is false" {
		t.Fatalf("warnings %q", w)
	}
	p.Terminal = true
	if w := warnings(t, func() {
		if err := ValidateProcess(p); err != nil {
			t.Fatal(err)
		}
	}); len(w) != 0 {
		t.Fatalf("with a terminal: %q", w)
	}
}

// A relative device path is relative to "/", as runc takes it, and said.
func TestRelativeDevicePathIsFromRoot(t *testing.T) {
	spec := &specs.Spec{Linux: &specs.Linux{Devices: []specs.LinuxDevice{{Path: "dev/x", Type: "c"}, {Path: "/dev/y", Type: "c"}}}}
	w := warnings(t, func() { normalizeDevicePaths(spec) })
	if spec.Linux.Devices[0].Path != "/dev/x" || spec.Linux.Devices[1].Path != "/dev/y" {
		t.Fatalf("paths %+v", spec.Linux.Devices)
	}
	if len(w) != 1 || w[0] != `linux.devices[0]: path "dev/x" is relative; using it as relative to /` {
		t.Fatalf("warnings %q", w)
	}
}
