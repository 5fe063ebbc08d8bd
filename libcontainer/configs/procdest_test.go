package configs

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckProcDest(t *testing.T) {
	bind := specs.Mount{Type: "bind", Source: "/x", Options: []string{"rbind"}}
	tmpfs := specs.Mount{Type: "tmpfs", Source: "tmpfs"}
	proc := specs.Mount{Type: "proc", Source: "proc"}
	cases := []struct {
		dest string
		m    specs.Mount
		want string // "" for allowed
	}{
		{"/proc", proc, ""},
		{"/proc", bind, ""}, // its source is checked where it is opened
		{"/proc", tmpfs, `not "tmpfs"`},
		{"/proc/cpuinfo", bind, ""},
		{"/proc/sys/kernel/ns_last_pid", bind, ""},
		{"/proc/sys/kernel/hostname", bind, "/proc/sys/kernel/hostname is inside /proc"},
		{"/proc/self/attr/exec", bind, "inside /proc"},
		{"/proc/foo", tmpfs, "inside /proc"},
		{"/proc/cpuinfo/x", bind, "inside /proc"},
		{"/procx", tmpfs, ""},
		{"/mnt/proc", proc, ""},
		{"/", tmpfs, ""},
	}
	for _, c := range cases {
		err := CheckProcDest(c.dest, c.m)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s (%s): %v; want %q", c.dest, c.m.Type, err, c.want)
		}
	}
}

// The config's validation refuses a destination in /proc by its clean
// path, before anything is made.
func TestValidateMountsRefusesProcDest(t *testing.T) {
	spec := &specs.Spec{Mounts: []specs.Mount{{Destination: "/tmp/../proc/sys/kernel/hostname", Type: "bind", Source: "/etc/hostname", Options: []string{"bind"}}}}
	err := validateMounts(spec)
	if err == nil || !strings.Contains(err.Error(), "mounts[0] (/tmp/../proc/sys/kernel/hostname): /proc/sys/kernel/hostname is inside /proc") {
		t.Fatalf("error %v", err)
	}
}
