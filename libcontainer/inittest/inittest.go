// Package inittest checks, from a package's tests, that the package's
// initialisation allocates nothing: its tables are static data, not
// built at the start of every berth process. Only tests import it.
package inittest

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// NoAllocs runs the test binary again with GODEBUG=inittrace=1 and no
// tests, and fails t if the init of pkg (an import path) allocated. A
// package without init work has no line, which passes. The test binary's
// init of pkg includes its _test.go files' package-level variables.
func NoAllocs(t *testing.T, pkg string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	line := regexp.MustCompile(`(?m)^init ` + regexp.QuoteMeta(pkg) + ` @.*$`).Find(out)
	if line == nil {
		if !strings.Contains(string(out), "init runtime @") {
			t.Fatalf("no inittrace output:\n%s", out)
		}
		return
	}
	if !strings.HasSuffix(string(line), " 0 bytes, 0 allocs") {
		t.Errorf("package initialisation allocates: %s", line)
	}
}
