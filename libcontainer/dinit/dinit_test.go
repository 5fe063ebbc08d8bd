//go:build linux

package dinit

import (
	"bytes"
	"debug/elf"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// berth carries the program (make build puts it in bin/), a static ELF
// that runs from its sealed memfd and, started without a request from
// berth, says so and fails.
func TestProgram(t *testing.T) {
	if !Available() {
		t.Fatal("berth-dinit is not built in: make build puts it in libcontainer/dinit/bin")
	}
	f, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	path := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	e, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, p := range e.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("berth-dinit is not static: it has an interpreter")
		}
	}
	var stderr bytes.Buffer
	cmd := exec.Command(path)
	cmd.Env = []string{}
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("berth-dinit without a request: %v, want exit status 1", err)
	}
	if !strings.Contains(stderr.String(), "berth-dinit: ") {
		t.Errorf("berth-dinit without a request said %q", stderr.String())
	}
}

func TestOff(t *testing.T) {
	t.Setenv(EnvOff, "off")
	f, err := Open()
	if f != nil || err != nil || Available() {
		t.Fatalf("BERTH_DINIT=off: Open %v, %v; Available %v", f, err, Available())
	}
}
