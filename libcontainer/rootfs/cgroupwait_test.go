package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

// The cgroup mount waits for the container's cgroup (Config.AwaitCgroup)
// before it reads the cgroup's paths: a direct init's rootfs is built
// while the runtime still makes them, so the paths are set only once it
// returns; a cgroup namespace's own cgroup2 also waits for the process's
// join (AwaitCgroupJoin). An error from either is the mount's. The mounts
// are made in a mount namespace of a thread of the test's own, which
// ends with it.
func TestCgroupMountAwaitsCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: a mount namespace")
	}
	rootDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(rootDir, "sys/fs/cgroup"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A v1 hierarchy's directory of the container: <mount point>/<path>.
	hier := filepath.Join(t.TempDir(), "pids")
	own := filepath.Join(hier, "berth/x")
	if err := os.MkdirAll(own, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(own, "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	m := specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid"}}
	mf, err := configs.ParseMountOptions(m.Options)
	if err != nil {
		t.Fatal(err)
	}
	errRefused := errors.New("the cgroup was refused")
	if err := inPrivateMountNS(func() error {
		root, err := openHost(rootDir, unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		defer root.Close()
		cfg := &Config{Rootfs: rootDir}
		cfg.AwaitCgroup = func() error {
			cfg.CgroupPaths, cfg.CgroupPath = map[string]string{"pids": own}, "/berth/x"
			return nil
		}
		dst, err := mountCgroup(cfg, root, m, mf)
		if err != nil {
			return fmt.Errorf("mountCgroup: %w", err)
		}
		dst.Close()
		if _, err := os.Stat(filepath.Join(rootDir, "sys/fs/cgroup/pids/marker")); err != nil {
			return fmt.Errorf("the cgroup's directory is not bound: %w", err)
		}
		cfg = &Config{Rootfs: rootDir, AwaitCgroup: func() error { return errRefused }}
		if _, err := mountCgroup(cfg, root, m, mf); !errors.Is(err, errRefused) {
			return fmt.Errorf("mountCgroup with a refused cgroup: %v, want its error", err)
		}
		// A cgroup namespace's own cgroup2, mounted by the process
		// (MountInNS), waits for its join as well.
		var order []string
		cfg = &Config{Rootfs: rootDir, CgroupNS: true}
		cfg.AwaitCgroup = func() error {
			order = append(order, "made")
			cfg.CgroupPaths, cfg.CgroupPath = map[string]string{"": own}, "/berth/x"
			return nil
		}
		cfg.AwaitCgroupJoin = func() error {
			order = append(order, "joined")
			return nil
		}
		cfg.MountInNS = func(source, fstype string, flags uintptr, data string, dst int) error {
			order = append(order, "mount "+fstype)
			return nil
		}
		dst, err = mountCgroup(cfg, root, m, mf)
		if err != nil {
			return fmt.Errorf("mountCgroup of cgroup2: %w", err)
		}
		dst.Close()
		if fmt.Sprint(order) != "[made joined mount cgroup2]" {
			return fmt.Errorf("cgroup2 in a cgroup namespace: %v, want made, joined, then the mount", order)
		}
		cfg.AwaitCgroupJoin = func() error { return errRefused }
		if _, err := mountCgroup(cfg, root, m, mf); !errors.Is(err, errRefused) {
			return fmt.Errorf("cgroup2 with a refused join: %v, want its error", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestHierarchyRoot(t *testing.T) {
	for _, tc := range []struct{ dir, path, want string }{
		{"/sys/fs/cgroup/berth/c1", "/berth/c1", "/sys/fs/cgroup"},
		{"/sys/fs/cgroup/unified/berth/c1", "/berth/c1", "/sys/fs/cgroup/unified"},
		{"/sys/fs/cgroup/a/b", "", "/sys/fs/cgroup"},
		{"/sys/fs/cgroup/a/b", "/x/y", "/sys/fs/cgroup"},
		{"/berth/c1", "/berth/c1", "/sys/fs/cgroup"},
	} {
		if got := hierarchyRoot(tc.dir, tc.path); got != tc.want {
			t.Errorf("hierarchyRoot(%q, %q) = %q, want %q", tc.dir, tc.path, got, tc.want)
		}
	}
}
