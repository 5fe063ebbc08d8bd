//go:build linux

package nsenter

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"
)

// runDirect starts prog as a direct exec of the test binary (the
// constructor runs it; no namespace is joined), lets it go with tasks, and
// returns its stdout and the outcome Wait reported.
func runDirect(t *testing.T, prog *ExecProgram, tasks []int) (string, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the program changes ids and capabilities")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Stdout, cmd.Stderr = w, w
	req, err := PrepareDirect(&Request{}, prog)
	if err != nil {
		w.Close()
		t.Fatalf("PrepareDirect: %v", err)
	}
	d, err := StartDirect(cmd, req)
	w.Close()
	if err != nil {
		t.Fatalf("StartDirect: %v", err)
	}
	defer d.Close()
	if d.Forked {
		t.Fatal("no pid namespace was joined, yet the process forked")
	}
	if err := d.Go(tasks); err != nil {
		t.Fatal(err)
	}
	werr := d.Wait()
	out, _ := io.ReadAll(r)
	_ = cmd.Wait()
	return string(out), werr
}

func shProgram(script string) *ExecProgram {
	return &ExecProgram{
		Args: []string{"sh", "-c", script}, Name: "sh",
		Env:        []string{"PATH=/usr/bin:/bin"},
		Candidates: []string{"/nonexistent/sh", "/bin/sh"},
		Cwd:        "/", Umask: 0o022, CloseFrom: 3,
	}
}

func TestDirectAppliesTheProgram(t *testing.T) {
	last, err := capability.LastCap()
	if err != nil {
		t.Fatal(err)
	}
	prog := shProgram(`echo "$FOO"; umask; pwd; id -u; id -g; id -G; ulimit -n; ulimit -Hn;
		grep -E '^(CapEff|CapPrm|CapBnd|CapInh|CapAmb|NoNewPrivs):' /proc/self/status | tr -d '\t'`)
	prog.Env = append(prog.Env, "FOO=bar")
	prog.Cwd = "/tmp"
	prog.UID, prog.GID, prog.Groups = 1234, 2345, []uint32{3456, 4567}
	prog.Umask = 0o027
	prog.Rlimits = []Rlimit{{Type: "RLIMIT_NOFILE", Resource: unix.RLIMIT_NOFILE, Soft: 321, Hard: 654}}
	kill := uint64(1) << uint(capability.CAP_KILL)
	chown := uint64(1) << uint(capability.CAP_CHOWN)
	prog.Caps = &CapMasks{Bounding: kill | chown, Effective: kill, Permitted: kill, Inheritable: kill, Ambient: kill}
	prog.LastCap = uint32(last)
	prog.NNP = true
	out, err := runDirect(t, prog, nil)
	if err != nil {
		t.Fatalf("direct exec: %v (output %q)", err, out)
	}
	want := strings.Join([]string{"bar", "0027", "/tmp", "1234", "2345", "2345 3456 4567", "321", "654",
		"CapInh:0000000000000020", "CapPrm:0000000000000020", "CapEff:0000000000000020",
		"CapBnd:0000000000000021", "CapAmb:0000000000000020", "NoNewPrivs:1"}, "\n") + "\n"
	if out != want {
		t.Errorf("output\n%s\nwant\n%s", out, want)
	}
}

func TestDirectHome(t *testing.T) {
	for _, tc := range []struct {
		uid  uint32
		want string
	}{{0, "HOME=/root"}, {4242420, "HOME=/"}} {
		prog := shProgram(`echo "HOME=$HOME"`)
		prog.UID, prog.NeedHome = tc.uid, true
		out, err := runDirect(t, prog, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(out) != tc.want {
			t.Errorf("uid %d: %q, want %q", tc.uid, out, tc.want)
		}
	}
}

func TestDirectJoinsTasksFiles(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out, err := runDirect(t, shProgram("true"), []int{int(w.Fd())})
	w.Close()
	if err != nil {
		t.Fatalf("%v (%q)", err, out)
	}
	got, _ := io.ReadAll(r)
	if string(got) != "0" {
		t.Errorf("the tasks file got %q, want \"0\"", got)
	}
}

func TestDirectSeccomp(t *testing.T) {
	// A filter that makes mkdir(2) fail with EPERM and allows the rest.
	deny := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_MKDIR},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_MKDIRAT},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	dir := t.TempDir()
	for _, nnp := range []bool{false, true} {
		prog := shProgram(`mkdir "$D/x" 2>/dev/null; echo $?; grep -E '^Seccomp:' /proc/self/status | tr -d '\t'`)
		prog.Env = append(prog.Env, "D="+dir)
		prog.Seccomp, prog.NNP = deny, nnp
		out, err := runDirect(t, prog, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out != "1\nSeccomp:2\n" {
			t.Errorf("nnp %t: %q", nnp, out)
		}
	}
}

// A failure comes back raw: the step, the failed call's errno and which
// rlimit or candidate; the runtime words it (libcontainer/execerr.go,
// whose tests check the words against the Go exec process's). The lookup
// reports what os/exec's findExecutable would have found.
func TestDirectErrors(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(garbage, []byte("\x00\x01\x02\x03"), 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		name string
		edit func(*ExecProgram)
		want DirectFailure
	}{
		{"not found", func(p *ExecProgram) {
			p.Name, p.Args[0], p.Candidates = "nothere", "nothere", []string{missing}
		}, DirectFailure{DirectLookupNotFound, 0, 0}},
		{"missing path", func(p *ExecProgram) {
			p.Name, p.Candidates, p.Slash = missing, []string{missing}, true
		}, DirectFailure{DirectLookupStat, unix.ENOENT, 0}},
		{"directory", func(p *ExecProgram) {
			p.Name, p.Candidates, p.Slash = dir, []string{dir}, true
		}, DirectFailure{DirectLookupErr, unix.EISDIR, 0}},
		{"not executable", func(p *ExecProgram) {
			p.Name, p.Candidates, p.Slash = noexec, []string{noexec}, true
		}, DirectFailure{DirectLookupErr, unix.EACCES, 0}},
		{"exec format", func(p *ExecProgram) {
			p.Name, p.Candidates = "garbage", []string{missing, garbage}
		}, DirectFailure{DirectExec, unix.ENOEXEC, 1}},
		{"cwd", func(p *ExecProgram) { p.Cwd = missing },
			DirectFailure{DirectChdir, unix.ENOENT, 0}},
		{"rlimit", func(p *ExecProgram) {
			p.Rlimits = []Rlimit{
				{Type: "RLIMIT_NOFILE", Resource: unix.RLIMIT_NOFILE, Soft: 100, Hard: 100},
				{Type: "RLIMIT_NOFILE", Resource: unix.RLIMIT_NOFILE, Soft: 10, Hard: 5},
			}
		}, DirectFailure{DirectRlimit, unix.EINVAL, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := shProgram("echo ran")
			tc.edit(prog)
			out, err := runDirect(t, prog, nil)
			var f *DirectFailure
			if !errors.As(err, &f) || *f != tc.want {
				t.Errorf("error %#v, want %#v (output %q)", err, &tc.want, out)
			}
			if strings.Contains(out, "ran") {
				t.Errorf("the program ran: %q", out)
			}
		})
	}
}

// Only a kind the runtime does not know is read as DirectFailure's own
// words; the errno stays reachable either way.
func TestDirectFailureRaw(t *testing.T) {
	f := &DirectFailure{Kind: DirectKinds, Errno: unix.EPERM, Index: 3}
	want := fmt.Sprintf("direct exec: unknown failure %d (index 3): operation not permitted", DirectKinds)
	if f.Error() != want || !errors.Is(f, unix.EPERM) {
		t.Errorf("%q (is EPERM: %t), want %q", f.Error(), errors.Is(f, unix.EPERM), want)
	}
	if f := (&DirectFailure{Kind: DirectKinds}); f.Error() != fmt.Sprintf("direct exec: unknown failure %d (index 0)", DirectKinds) || f.Unwrap() != nil {
		t.Errorf("without errno: %q, %v", f.Error(), f.Unwrap())
	}
}

// The kinds are the C side's XK_* (direct.h), in its order.
func TestDirectKindsMatchC(t *testing.T) {
	h, err := os.ReadFile("direct.h")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s*XK_([A-Z_]+)\b`).FindAllStringSubmatch(string(h), -1) {
		names = append(names, strings.ToLower(strings.ReplaceAll(m[1], "_", "")))
	}
	goKinds := []struct {
		name string
		kind DirectKind
	}{
		{"protocol", DirectProtocol}, {"joincgroup", DirectJoinCgroup}, {"rlimit", DirectRlimit},
		{"lookupnotfound", DirectLookupNotFound}, {"lookupstat", DirectLookupStat},
		{"lookuperr", DirectLookupErr}, {"lookupperm", DirectLookupPerm}, {"chdir", DirectChdir},
		{"cwdoutside", DirectCwdOutside}, {"getcwd", DirectGetcwd}, {"closeexec", DirectCloseExec},
		{"seccomp", DirectSeccomp}, {"bounding", DirectBounding}, {"keepcapsset", DirectKeepcapsSet},
		{"keepcapsclear", DirectKeepcapsClear}, {"setgroups", DirectSetgroups}, {"setgid", DirectSetgid},
		{"setuid", DirectSetuid}, {"capset", DirectCapset}, {"ambient", DirectAmbient}, {"nnp", DirectNNP},
		{"exec", DirectExec}, {"pdeathsig", DirectPdeathsig}, {"capget", DirectCapget},
		{"keyring", DirectKeyring}, {"start", DirectStart}, {"stdioowner", DirectStdioOwner},
	}
	if len(names) != len(goKinds) || len(goKinds) != int(DirectKinds)-1 {
		t.Fatalf("direct.h has %d kinds %v, the Go side %d (DirectKinds %d)", len(names), names, len(goKinds), DirectKinds)
	}
	for i, k := range goKinds {
		if names[i] != k.name || int(k.kind) != i+1 {
			t.Errorf("kind %d: C XK_%s, Go %s = %d", i+1, names[i], k.name, k.kind)
		}
	}
}

func TestDirectRefusesBadPrograms(t *testing.T) {
	for name, prog := range map[string]*ExecProgram{
		"no args":    {Candidates: []string{"/bin/true"}, Cwd: "/", CloseFrom: 3},
		"no cwd":     {Args: []string{"true"}, Candidates: []string{"/bin/true"}, CloseFrom: 3},
		"slash, two": {Args: []string{"/x"}, Candidates: []string{"/x", "/y"}, Slash: true, Cwd: "/", CloseFrom: 3},
		"close from": {Args: []string{"true"}, Candidates: []string{"/bin/true"}, Cwd: "/", CloseFrom: 2},
	} {
		if _, err := PrepareDirect(&Request{}, prog); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	huge := shProgram("true")
	huge.Env = append(huge.Env, "BIG="+strings.Repeat("x", 70000))
	if _, err := PrepareDirect(&Request{}, huge); err != ErrProgramTooLarge {
		t.Errorf("a program over one request: %v, want ErrProgramTooLarge", err)
	}
	if _, err := PrepareDirect(&Request{Unshare: unix.CLONE_NEWNS}, shProgram("true")); err == nil {
		t.Error("a direct exec that unshares: accepted")
	}
}

// The C side refuses a malformed program, whatever the Go side sends.
func TestDirectCRefusesMalformedRequests(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	fixedOnly := func(p *ExecProgram) []byte {
		msg, err := encodeRequestWith(nil, 0, "", nil, false, p)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	ok := shProgram("true")
	noCand := shProgram("true")
	noCand.Candidates = nil
	for name, msg := range map[string][]byte{
		"no candidates": fixedOnly(noCand),
		"unshare":       mustEncode(t, 0, unix.CLONE_NEWUTS, ok),
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		_, _, err := start(cmd, msg, nil)
		if err == nil || !strings.Contains(err.Error(), "request:") {
			t.Errorf("%s: %v, want a request error", name, err)
		}
	}
}

func mustEncode(t *testing.T, _ int, unshare uint32, p *ExecProgram) []byte {
	t.Helper()
	msg, err := encodeRequestWith(nil, unshare, "", nil, false, p)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}
