package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// topMountID is the ID of the mount at path (the unique one where the
// kernel has it, as HostTree records it).
func topMountID(t *testing.T, path string) uint64 {
	h, err := openHost(path, unix.O_DIRECTORY)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ref, err := mountID(h, true)
	if err != nil {
		t.Fatal(err)
	}
	return ref.MountID
}

// TestHostTree: the clone's ID is known before it is attached; attached,
// it is the rootfs's top mount and is private; Remove detaches it with
// the mounts made under it, and leaves a mount that is not its own.
func TestHostTree(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (mount namespaces)")
	}
	if _, err := CloneHostTree("/"); err == nil || !strings.Contains(err.Error(), "caller's own") {
		t.Errorf("CloneHostTree(/) = %v; want a refusal", err)
	}
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := inPrivateMountNS(func() error {
		// The rootfs's parent is a shared mount: attached under it, the
		// tree joins a peer group until Attach makes it private.
		parent := filepath.Dir(rootfs)
		if err := unix.Mount(parent, parent, "", unix.MS_BIND, ""); err != nil {
			return err
		}
		if err := unix.Mount("", parent, "", unix.MS_SHARED, ""); err != nil {
			return err
		}
		before := topMountID(t, rootfs)
		c, err := CloneHostTree(rootfs)
		if err != nil {
			return err
		}
		defer c.Close()
		if got := topMountID(t, rootfs); got != before {
			return errors.New("the clone is mounted before Attach")
		}
		if err := c.Attach(); err != nil {
			return err
		}
		if got := topMountID(t, rootfs); got != c.Tree.MountID {
			t.Errorf("top mount %d after Attach; want the clone's %d", got, c.Tree.MountID)
		}
		mi, _ := os.ReadFile("/proc/thread-self/mountinfo")
		for _, l := range strings.Split(string(mi), "\n") {
			if f := strings.Fields(l); len(f) > 6 && f[4] == rootfs && strings.Contains(l, "shared:") {
				t.Errorf("the tree is not private: %s", l)
			}
		}
		// a container's mount under it
		if err := unix.Mount("tmpfs", filepath.Join(rootfs, "proc"), "tmpfs", 0, ""); err != nil {
			return err
		}
		if err := c.Tree.Remove(rootfs, nil); err != nil {
			return err
		}
		if got := topMountID(t, rootfs); got != before {
			t.Errorf("top mount %d after Remove; want %d, as before", got, before)
		}
		if got := topMountID(t, filepath.Join(rootfs, "proc")); got != before {
			t.Errorf("the mount under the tree outlived Remove")
		}
		// Someone else's mount on the rootfs now: not berth's to remove.
		if err := unix.Mount("tmpfs", rootfs, "tmpfs", 0, ""); err != nil {
			return err
		}
		other := topMountID(t, rootfs)
		if err := c.Tree.Remove(rootfs, nil); err != nil {
			return err
		}
		if got := topMountID(t, rootfs); got != other {
			t.Errorf("Remove took a mount that was not its tree")
		}
		return unix.Unmount(rootfs, unix.MNT_DETACH)
	})
	if err != nil {
		t.Fatal(err)
	}
	// A clone never attached leaves nothing, and Remove of it nothing to do.
	err = inPrivateMountNS(func() error {
		before := topMountID(t, rootfs)
		c, err := CloneHostTree(rootfs)
		if err != nil {
			return err
		}
		c.Close()
		if err := c.Tree.Remove(rootfs, nil); err != nil {
			return err
		}
		if got := topMountID(t, rootfs); got != before {
			t.Errorf("a closed clone changed the rootfs's mount")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Two trees on one rootfs: the first's Remove cannot reach it while the
// second covers it; the second's Remove takes it too once gone says its
// container is gone, and leaves it otherwise.
func TestHostTreeCovered(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (mount namespaces)")
	}
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	attach := func(covers ...CoveredTree) (*HostTree, uint64, error) {
		c, err := CloneHostTree(rootfs)
		if err != nil {
			return nil, 0, err
		}
		defer c.Close()
		c.Tree.Covers = covers
		return &c.Tree, c.Beneath.MountID, c.Attach()
	}
	for _, goneFirst := range []bool{true, false} {
		err := inPrivateMountNS(func() error {
			before := topMountID(t, rootfs)
			a, beneath, err := attach()
			if err != nil {
				return err
			}
			if beneath != before {
				t.Errorf("the first clone's Beneath %d; want the rootfs's mount %d", beneath, before)
			}
			// the first container's own mount under its tree
			if err := unix.Mount("tmpfs", filepath.Join(rootfs, "proc"), "tmpfs", 0, ""); err != nil {
				return err
			}
			b, beneath, err := attach(CoveredTree{Container: "a", MountRef: a.MountRef})
			if err != nil {
				return err
			}
			if beneath != a.MountID {
				t.Errorf("the second clone's Beneath %d; want the first tree's %d", beneath, a.MountID)
			}
			if err := a.Remove(rootfs, nil); err != nil {
				return err
			}
			if got := topMountID(t, rootfs); got != b.MountID {
				t.Errorf("the first tree's Remove took the second (top %d, want %d)", got, b.MountID)
			}
			asked := 0
			if err := b.Remove(rootfs, func(c CoveredTree) bool { asked++; return c.Container == "a" && goneFirst }); err != nil {
				return err
			}
			if asked != 1 {
				t.Errorf("gone asked %d times; want once", asked)
			}
			if !goneFirst {
				if got := topMountID(t, rootfs); got != a.MountID {
					t.Errorf("a covered tree whose container is not gone was taken (top %d, want %d)", got, a.MountID)
				}
				if err := a.Remove(rootfs, nil); err != nil {
					return err
				}
			}
			if got := topMountID(t, rootfs); got != before {
				t.Errorf("gone first %t: top mount %d after both; want %d, as before", goneFirst, got, before)
			}
			if got := topMountID(t, filepath.Join(rootfs, "proc")); got != before {
				t.Errorf("gone first %t: the first container's mount outlived its tree", goneFirst)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A clone holds the rootfs's lock until Close: a create that races
// another on the same rootfs clones after the other has attached.
func TestHostTreeCloneTakesTurns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (mount namespaces)")
	}
	rootfs := t.TempDir()
	err := inPrivateMountNS(func() error {
		c, err := CloneHostTree(rootfs)
		if err != nil {
			return err
		}
		probe, err := unix.Open(rootfs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(probe)
		if err := unix.Flock(probe, unix.LOCK_EX|unix.LOCK_NB); !errors.Is(err, unix.EWOULDBLOCK) {
			t.Errorf("the rootfs is not locked while a clone is open: flock = %v", err)
		}
		c.Close()
		if err := unix.Flock(probe, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			t.Errorf("the rootfs is still locked after Close: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
