package hooks

import (
	"fmt"
	"os"
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

// Runtime-side hooks run in the bundle, as under runc and crun; the ones
// run in the container, and any hook of a bundle that is gone, where the
// caller is.
func TestHookDirIsTheBundle(t *testing.T) {
	bundle := t.TempDir()
	out := t.TempDir() + "/pwd"
	pwd := []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "pwd > " + out}}}
	read := func() string {
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	own, _ := os.Getwd()
	for _, kind := range []string{Prestart, CreateRuntime, Poststart, Poststop} {
		if err := Run(kind, pwd, &specs.State{Bundle: bundle}); err != nil {
			t.Fatal(err)
		}
		if got := read(); got != bundle {
			t.Fatalf("%s hook ran in %s, not the bundle %s", kind, got, bundle)
		}
	}
	RunWarn(Poststop, pwd, &specs.State{Bundle: bundle + "/gone"})
	if got := read(); got != own {
		t.Fatalf("poststop of a bundle that is gone ran in %s, not %s", got, own)
	}
	if err := Run(StartContainer, pwd, &specs.State{Bundle: bundle}); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != own {
		t.Fatalf("startContainer hook ran in %s", got)
	}
}
