package hooks

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 8}
	fmt.Fprint(b, "abc")
	if b.String() != "abc" {
		t.Fatalf("got %q", b.String())
	}
	fmt.Fprint(b, "defghij")
	if b.String() != "...cdefghij" {
		t.Fatalf("got %q", b.String())
	}
	b.Write([]byte(strings.Repeat("x", 100) + "12345678"))
	if b.String() != "...12345678" || len(b.buf) != 8 {
		t.Fatalf("got %q (%d bytes kept)", b.String(), len(b.buf))
	}
}

func TestWithDefaultEnv(t *testing.T) {
	in := []specs.Hook{{Path: "/a"}, {Path: "/b", Env: []string{"X=1"}}}
	out := WithDefaultEnv(in, []string{"P=1"})
	if !slices.Equal(out[0].Env, []string{"P=1"}) || !slices.Equal(out[1].Env, []string{"X=1"}) {
		t.Fatalf("got %+v", out)
	}
	if in[0].Env != nil {
		t.Fatal("the input was changed")
	}
}

func TestRunErrorNamesHook(t *testing.T) {
	err := Run(CreateRuntime, []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}}}, &specs.State{})
	want := "error running createRuntime hook #0: error running hook: exit status 3, stdout: out, stderr: err"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}
