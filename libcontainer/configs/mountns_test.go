package configs

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidateMountNS(t *testing.T) {
	base := func() *specs.Spec {
		return &specs.Spec{Root: &specs.Root{Path: "rootfs"}, Linux: &specs.Linux{}}
	}
	withNS := base()
	withNS.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	withNS.Mounts = []specs.Mount{{Destination: "/proc", Type: "proc"}}
	withNS.Linux.MaskedPaths = []string{"/proc/kcore"}
	if err := validateMountNS(withNS); err != nil {
		t.Fatalf("with a mount namespace: %v", err)
	}
	if err := validateMountNS(base()); err != nil {
		t.Fatalf("bare config without a mount namespace: %v", err)
	}
	// Mounts are made in the caller's namespace, under a bind of the
	// rootfs that delete removes (rootfs.HostTree).
	mounts := base()
	mounts.Mounts = []specs.Mount{{Destination: "/proc", Type: "proc"}, {Destination: "/dev", Type: "tmpfs", Options: []string{"ro"}}}
	if err := validateMountNS(mounts); err != nil {
		t.Fatalf("mounts without a mount namespace: %v", err)
	}
	own := base()
	own.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace, Path: "/proc/self/ns/mnt"}}
	cases := map[string]func(*specs.Spec){
		"restrict sys entries": func(s *specs.Spec) { s.Linux.ReadonlyPaths = []string{"/proc/sys"} },
		"a user namespace needs": func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.UserNamespace}}
		},
		"root.readonly needs": func(s *specs.Spec) { s.Root.Readonly = true },
		"rootfsPropagation":   func(s *specs.Spec) { s.Linux.RootfsPropagation = "private" },
	}
	for want, mod := range cases {
		s := base()
		mod(s)
		err := validateMountNS(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	if err := validateMountNS(own); err == nil || !strings.Contains(err.Error(), "runtime's own") {
		t.Errorf("own mount namespace by path: got %v", err)
	}
}
