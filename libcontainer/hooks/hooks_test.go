package hooks

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 8}
	b.Write([]byte("abc"))
	if b.String() != "abc" {
		t.Fatalf("got %q", b.String())
	}
	b.Write([]byte("defgh"))
	if b.String() != "abcdefgh" {
		t.Fatalf("got %q", b.String())
	}
	b.Write([]byte("ij"))
	if b.String() != "...cdefghij" {
		t.Fatalf("got %q", b.String())
	}
	b.Write([]byte(strings.Repeat("x", 100) + "12345678"))
	if b.String() != "...12345678" || cap(b.buf) > 64 {
		t.Fatalf("got %q (cap %d)", b.String(), cap(b.buf))
	}
}

// A hook that prints without bound must not make berth hold it all: only
// the tail reaches the error.
func TestHookOutputBounded(t *testing.T) {
	h := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "head -c 50000000 /dev/zero | tr '\\0' a; echo; echo the-end; exit 3"}}
	err := Run(CreateRuntime, []specs.Hook{h}, &specs.State{})
	if err == nil {
		t.Fatal("failing hook succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "the-end") || len(msg) > 2*maxOutput+200 {
		t.Fatalf("error (%d bytes) does not end with the hook's last output: %.200q", len(msg), msg)
	}
}
