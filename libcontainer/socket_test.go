package libcontainer

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestWithEnv(t *testing.T) {
	p := &specs.Process{Args: []string{"sh"}, Env: []string{"PATH=/bin", "LISTEN_FDS=9", "HOME=/"}}
	if withEnv(p, nil) != nil {
		t.Fatal("no extra env: want nil (the config's process)")
	}
	got := withEnv(p, []string{"LISTEN_FDS=2", "LISTEN_PID=1"})
	if want := []string{"PATH=/bin", "HOME=/", "LISTEN_FDS=2", "LISTEN_PID=1"}; !slices.Equal(got.Env, want) {
		t.Fatalf("env %q, want %q", got.Env, want)
	}
	if p.Env[1] != "LISTEN_FDS=9" || len(p.Env) != 3 {
		t.Fatalf("config's process changed: %q", p.Env)
	}
}
