package libcontainer

import (
	"os"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestProcessEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"missing", []string{"PATH=/bin"}, []string{"PATH=/bin", "HOME=/home/u"}},
		{"empty", []string{"HOME=", "PATH=/bin"}, []string{"PATH=/bin", "HOME=/home/u"}},
		{"kept", []string{"HOME=/x", "PATH=/bin"}, []string{"HOME=/x", "PATH=/bin"}},
		{"last wins", []string{"HOME=/a", "A=1", "HOME=/b", "A=2"}, []string{"HOME=/b", "A=2"}},
		{"last empty", []string{"HOME=/a", "HOME="}, []string{"HOME=/home/u"}},
		{"nil", nil, []string{"HOME=/home/u"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			got := processEnv(tc.env, func() string { called = true; return "/home/u" })
			if !slices.Equal(got, tc.want) {
				t.Fatalf("processEnv(%q) = %q, want %q", tc.env, got, tc.want)
			}
			needHome := slices.Contains(tc.want, "HOME=/home/u")
			if called != needHome {
				t.Fatalf("home() called = %v, want %v", called, needHome)
			}
		})
	}
}

// prepareExec's errors are os/exec's, as runc's are.
func TestPrepareExecErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/noexec", []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/tool", []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + dir}
	for _, tc := range []struct{ arg, want string }{
		{dir + "/missing", `exec: "` + dir + `/missing": stat ` + dir + `/missing: no such file or directory`},
		{"missing", `exec: "missing": executable file not found in $PATH`},
	} {
		_, err := prepareExec(&specs.Process{Args: []string{tc.arg}, Env: env})
		if err == nil || err.Error() != tc.want {
			t.Errorf("prepareExec(%q) = %v, want %s", tc.arg, err, tc.want)
		}
	}
	// no x bit at all: even root may not execute it
	if _, err := prepareExec(&specs.Process{Args: []string{dir + "/noexec"}, Env: env}); err == nil || err.Error() != `exec: "`+dir+`/noexec": permission denied` {
		t.Errorf("noexec: got %v", err)
	}
	ex, err := prepareExec(&specs.Process{Args: []string{"tool"}, Env: env})
	if err != nil || ex.path != dir+"/tool" {
		t.Fatalf("tool: %v, %+v", err, ex)
	}
}
