//go:build linux

package lsm

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidateSELinuxLabel(t *testing.T) {
	good := []string{
		"system_u:system_r:container_t:s0",
		"system_u:system_r:container_t:s0:c1,c2",
		"system_u:system_r:container_t:s0-s0:c0.c1023",
		"u:r:t",
	}
	for _, l := range good {
		if err := ValidateSELinuxLabel(l); err != nil {
			t.Errorf("%q: %v", l, err)
		}
	}
	bad := []string{"", "container_t", "u:r", "u::t", "u:r:t:", "u:r:t s0", "u:r:t\n", "u:r:t\x00", strings.Repeat("a:", 3000)}
	for _, l := range bad {
		if err := ValidateSELinuxLabel(l); err == nil {
			t.Errorf("%q accepted", l)
		}
	}
}

func TestValidateAppArmorProfile(t *testing.T) {
	for _, p := range []string{"docker-default", "unconfined", "/usr/bin/foo", "k8s//ns"} {
		if err := ValidateAppArmorProfile(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for _, p := range []string{"", "a b", "x\nchangeprofile y", "x\x00", "\t", strings.Repeat("p", 5000)} {
		if err := ValidateAppArmorProfile(p); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
}

func TestDetectAt(t *testing.T) {
	dir := t.TempDir()
	enabled := filepath.Join(dir, "enabled")
	if h := detectAt(enabled, dir); h.AppArmor || h.SELinux {
		t.Fatalf("nothing there, got %+v", h)
	}
	os.WriteFile(enabled, []byte("Y\n"), 0o644)
	if h := detectAt(enabled, dir); !h.AppArmor || h.SELinux {
		t.Fatalf("apparmor Y, got %+v", h)
	}
	os.WriteFile(enabled, []byte("N\n"), 0o644)
	if h := detectAt(enabled, dir); h.AppArmor {
		t.Fatalf("apparmor N, got %+v", h)
	}
}

func TestCheck(t *testing.T) {
	none := Host{}
	both := Host{AppArmor: true, SELinux: true}
	cases := []struct {
		req     Request
		host    Host
		wantErr string
	}{
		{Request{}, none, ""},
		{Request{AppArmorProfile: "p"}, both, ""},
		{Request{AppArmorProfile: "p"}, none, "AppArmor is not enabled"},
		{Request{ProcessLabel: "u:r:t:s0"}, none, "SELinux is not enabled"},
		{Request{MountLabel: "u:r:t:s0"}, none, "SELinux is not enabled"},
		{Request{ProcessLabel: "u:r:t:s0", MountLabel: "u:object_r:t:s0"}, both, ""},
		{Request{ProcessLabel: "bad"}, both, "process.selinuxLabel"},
		{Request{MountLabel: "bad"}, both, "linux.mountLabel"},
		{Request{AppArmorProfile: "a b"}, both, "whitespace"},
	}
	for _, c := range cases {
		err := c.req.Check(c.host)
		if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("%+v on %+v: got %v, want %q", c.req, c.host, err, c.wantErr)
		}
	}
}

func TestRequestOf(t *testing.T) {
	spec := &specs.Spec{Linux: &specs.Linux{MountLabel: "m:r:t"}}
	p := &specs.Process{ApparmorProfile: "a", SelinuxLabel: "p:r:t"}
	if r := RequestOf(spec, p); r != (Request{AppArmorProfile: "a", ProcessLabel: "p:r:t", MountLabel: "m:r:t"}) {
		t.Fatalf("got %+v", r)
	}
}

func TestMountData(t *testing.T) {
	if got := MountData("mode=755", "u:r:t:s0"); got != `mode=755,context="u:r:t:s0"` {
		t.Fatal(got)
	}
	if got := MountData("", "u:r:t"); got != `context="u:r:t"` {
		t.Fatal(got)
	}
	if got := MountData("size=1k", ""); got != "size=1k" {
		t.Fatal(got)
	}
}

func TestThisHostHasNeither(t *testing.T) {
	// Documents the machine the bats error-path test relies on.
	h := Detect()
	if h.AppArmor || h.SELinux {
		t.Skipf("host has an LSM (%+v): the error-path tests do not apply", h)
	}
	if err := (Request{AppArmorProfile: "x"}).Check(h); err == nil {
		t.Fatal("profile accepted on a host without AppArmor")
	}
}

// The session keyring's label is written where the kernel takes it: on a
// host without SELinux the write is refused (the label is never dropped
// in silence), and the error names the label.
func TestSetKeyCreateLabel(t *testing.T) {
	if Detect().SELinux {
		t.Skip("SELinux is enabled: the label would be taken")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := SetKeyCreateLabel("system_u:system_r:container_t:s0")
	if err == nil || !strings.Contains(err.Error(), `set selinux key label "system_u:system_r:container_t:s0"`) {
		t.Fatalf("SetKeyCreateLabel without SELinux: %v", err)
	}
}
