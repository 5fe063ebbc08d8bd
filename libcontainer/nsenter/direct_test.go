//go:build linux

package nsenter

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
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

// The failures read as the Go exec process's: for the lookups, exactly as
// os/exec words them for the same files.
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
	lookPathErr := func(name string) string {
		_, err := exec.LookPath(name)
		if err == nil {
			t.Fatalf("LookPath(%q) succeeded", name)
		}
		return err.Error()
	}
	for _, tc := range []struct {
		name string
		edit func(*ExecProgram)
		want string
	}{
		{"not found", func(p *ExecProgram) {
			p.Name, p.Args[0], p.Candidates = "nothere", "nothere", []string{missing}
		}, `exec: "nothere": executable file not found in $PATH`},
		{"missing path", func(p *ExecProgram) {
			p.Name, p.Candidates, p.Slash = missing, []string{missing}, true
		}, lookPathErr(missing)},
		{"directory", func(p *ExecProgram) {
			p.Name, p.Candidates, p.Slash = dir, []string{dir}, true
		}, lookPathErr(dir)},
		{"not executable", func(p *ExecProgram) {
			p.Name, p.Candidates, p.Slash = noexec, []string{noexec}, true
		}, lookPathErr(noexec)},
		{"exec format", func(p *ExecProgram) {
			p.Name, p.Candidates, p.Slash = garbage, []string{garbage}, true
		}, "exec " + garbage + ": exec format error"},
		{"cwd", func(p *ExecProgram) { p.Cwd = missing },
			`chdir to cwd "` + missing + `": no such file or directory`},
		{"rlimit", func(p *ExecProgram) {
			p.Rlimits = []Rlimit{{Type: "RLIMIT_NOFILE", Resource: unix.RLIMIT_NOFILE, Soft: 10, Hard: 5}}
		}, "set rlimit RLIMIT_NOFILE (soft 10, hard 5): invalid argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := shProgram("echo ran")
			tc.edit(prog)
			out, err := runDirect(t, prog, nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q (output %q)", err, tc.want, out)
			}
			if strings.Contains(out, "ran") {
				t.Errorf("the program ran: %q", out)
			}
		})
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
		msg, err := encodeRequestWith(nil, 0, "", nil, p)
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
	msg, err := encodeRequestWith(nil, unshare, "", nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}
