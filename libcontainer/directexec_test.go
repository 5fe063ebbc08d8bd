package libcontainer

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func directSpec() *specs.Spec {
	return &specs.Spec{
		Process: &specs.Process{Args: []string{"sh"}, Cwd: "/"},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
			{Type: specs.PIDNamespace}, {Type: specs.MountNamespace},
		}},
	}
}

// Each case names one thing only the Go exec process does.
func TestDirectBlocker(t *testing.T) {
	adj, umax := 5, uint32(1<<32-1)
	for name, tc := range map[string]struct {
		edit  func(*specs.Spec, *specs.Process)
		debug bool
		want  bool // blocked
	}{
		"plain":    {func(*specs.Spec, *specs.Process) {}, false, false},
		"debug":    {func(*specs.Spec, *specs.Process) {}, true, true},
		"terminal": {func(_ *specs.Spec, p *specs.Process) { p.Terminal = true }, false, true},
		"userns": {func(s *specs.Spec, _ *specs.Process) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, false, true},
		"no mount ns":   {func(s *specs.Spec, _ *specs.Process) { s.Linux.Namespaces = s.Linux.Namespaces[:1] }, false, true},
		"listener":      {func(s *specs.Spec, _ *specs.Process) { s.Linux.Seccomp = &specs.LinuxSeccomp{ListenerPath: "/x"} }, false, true},
		"apparmor":      {func(_ *specs.Spec, p *specs.Process) { p.ApparmorProfile = "x" }, false, true},
		"mount label":   {func(s *specs.Spec, _ *specs.Process) { s.Linux.MountLabel = "x" }, false, true},
		"oom (nsenter)": {func(_ *specs.Spec, p *specs.Process) { p.OOMScoreAdj = &adj }, false, false},
		"ioprio":        {func(_ *specs.Spec, p *specs.Process) { p.IOPriority = &specs.LinuxIOPriority{} }, false, true},
		"scheduler":     {func(_ *specs.Spec, p *specs.Process) { p.Scheduler = &specs.Scheduler{} }, false, true},
		"personality":   {func(s *specs.Spec, _ *specs.Process) { s.Linux.Personality = &specs.LinuxPersonality{} }, false, true},
		"affinity":      {func(_ *specs.Spec, p *specs.Process) { p.ExecCPUAffinity = &specs.CPUAffinity{} }, false, true},
		"invalid user":  {func(_ *specs.Spec, p *specs.Process) { p.User.UID = umax }, false, true},
	} {
		s := directSpec()
		p := &specs.Process{Args: []string{"sh"}, Cwd: "/"}
		tc.edit(s, p)
		if got := directBlocker(s, p, tc.debug) != ""; got != tc.want {
			t.Errorf("%s: blocked %t, want %t", name, got, tc.want)
		}
	}
}

func TestDirectProgram(t *testing.T) {
	umask := uint32(0o077)
	p := &specs.Process{
		Args: []string{"ls", "-l"}, Cwd: "/srv",
		Env:  []string{"A=1", "PATH=/bin:/usr//bin:", "A=2", "HOME="},
		User: specs.User{UID: 5, GID: 6, AdditionalGids: []uint32{7}, Umask: &umask},
		Capabilities: &specs.LinuxCapabilities{
			Bounding: []string{"CAP_KILL", "CAP_CHOWN"}, Effective: []string{"CAP_KILL"},
			Permitted: []string{"CAP_KILL"}, Inheritable: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"},
		},
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}},
		NoNewPrivileges: true,
	}
	prog, err := directProgram(directSpec(), &ExecOpts{Process: p, PreserveFds: 2}, false)
	if err != nil || prog == nil {
		t.Fatalf("directProgram: %v, %v", prog, err)
	}
	if want := []string{"/bin/ls", "/usr/bin/ls", "./ls"}; !reflect.DeepEqual(prog.Candidates, want) || prog.Slash {
		t.Errorf("candidates %q (slash %t), want %q", prog.Candidates, prog.Slash, want)
	}
	if want := []string{"PATH=/bin:/usr//bin:", "A=2"}; !reflect.DeepEqual(prog.Env, want) || !prog.NeedHome {
		t.Errorf("env %q (need HOME %t), want %q and HOME", prog.Env, prog.NeedHome, want)
	}
	if prog.Umask != 0o077 || prog.CloseFrom != 5 || prog.UID != 5 || prog.GID != 6 || !reflect.DeepEqual(prog.Groups, []uint32{7}) || !prog.NNP {
		t.Errorf("fixed fields %+v", prog)
	}
	if c := prog.Caps; c == nil || c.Bounding != 1<<5|1<<0 || c.Effective != 1<<5 || c.Ambient != 1<<5 {
		t.Errorf("capability masks %+v", c)
	}
	if len(prog.Rlimits) != 1 || prog.Rlimits[0].Resource != 7 || prog.Rlimits[0].Hard != 2 {
		t.Errorf("rlimits %+v", prog.Rlimits)
	}
	// Without capabilities in the process: none applied; a slash: one candidate.
	p.Capabilities, p.Args = nil, []string{"./bin/x"}
	prog, _ = directProgram(directSpec(), &ExecOpts{Process: p}, false)
	if prog.Caps != nil || !prog.Slash || !reflect.DeepEqual(prog.Candidates, []string{"./bin/x"}) {
		t.Errorf("caps %v, slash %t, candidates %q", prog.Caps, prog.Slash, prog.Candidates)
	}
	// An empty PATH leaves nothing to try: the Go process reports it.
	p.Args, p.Env = []string{"x"}, []string{"PATH="}
	if prog, _ = directProgram(directSpec(), &ExecOpts{Process: p}, false); prog != nil {
		t.Errorf("empty PATH: a program %+v", prog)
	}
}
