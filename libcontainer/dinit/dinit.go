//go:build linux

// Package dinit carries berth-dinit, the small static program that a
// direct init or a direct exec (libcontainer/directinit.go, directexec.go)
// is started from instead of berth's own binary.
//
// Such a process never starts Go: everything it does is the nsenter
// constructor's C (libcontainer/nsenter). Started from berth's 8 MiB
// binary, it paid for what it never used, twice:
//   - its execve mapped berth, and the C library's start touched berth's
//     pages;
//   - berth's binary is sealed in a private overlay mount (exeseal), and
//     the process held the mount's last reference: its own execve of the
//     container's program tore the overlay down, waiting for an RCU grace
//     period, before the program ran its first instruction.
//
// berth-dinit is the same C in a program of its own (prog/main.c), which
// `make build` compiles statically and go:embed builds into berth. Each
// process gets a sealed memfd copy of it (exeseal.SealImage): a memfd needs
// no mount, so dropping it waits for nothing, and its seals keep the
// container from writing to what its init runs (CVE-2019-5736).
//
// A berth built without it (plain `go build`) runs every process from
// its own sealed binary, as does BERTH_DINIT=off (for tests and
// measurements).
package dinit

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/berth-runtime/berth/libcontainer/exeseal"
)

// EnvOff, set to "off", makes berth run without the program.
const EnvOff = "BERTH_DINIT"

// name is the memfd's name, which /proc/PID/exe shows as
// "/memfd:berth-dinit (deleted)".
const name = "berth-dinit"

// path is the program in bin.
const path = "bin/" + name

//go:embed bin
var bin embed.FS

// Available reports whether berth carries the program and may use it
// (not BERTH_DINIT=off).
func Available() bool {
	f, err := program()
	if f != nil {
		f.Close()
	}
	return f != nil && err == nil
}

// Open returns a sealed memfd holding the program, close-on-exec; nil
// and no error when it is not Available.
func Open() (*os.File, error) {
	f, err := program()
	if f == nil || err != nil {
		return nil, err
	}
	defer f.Close()
	return exeseal.SealImage(name, f)
}

// program opens the embedded program; nil and no error when berth was
// built without it or BERTH_DINIT=off.
func program() (fs.File, error) {
	if os.Getenv(EnvOff) == "off" {
		return nil, nil
	}
	f, err := bin.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open embedded %s: %w", path, err)
	}
	return f, nil
}
