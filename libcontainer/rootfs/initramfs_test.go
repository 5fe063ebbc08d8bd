package rootfs

import (
	"reflect"
	"testing"
)

func TestNamespaceRootMounts(t *testing.T) {
	// An initramfs host: "/" is the rootfs, its own parent.
	initramfs := `1 1 0:2 / / rw - rootfs rootfs rw
17 1 0:21 / /proc rw,relatime - proc proc rw
18 1 0:22 / /sys rw,relatime - sysfs sysfs rw
19 18 0:17 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
20 1 0:23 / /my\040tmp rw - tmpfs tmpfs rw
`
	id, ok := namespaceRootID(initramfs)
	if !ok || id != "1" {
		t.Fatalf("namespaceRootID = %q, %t", id, ok)
	}
	want := []string{"/proc", "/sys", "/my tmp"}
	if got := childMountPoints(initramfs, id); !reflect.DeepEqual(got, want) {
		t.Errorf("childMountPoints = %q, want %q", got, want)
	}
	// A host that switched root: "/" has a parent that mountinfo does
	// not show; a tmpfs root mounted that way is no namespace root.
	for _, mi := range []string{
		"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n23 22 0:21 / /proc rw - proc proc rw\n",
		"25 24 0:30 / / rw - tmpfs tmpfs rw\n",
		"",
	} {
		if id, ok := namespaceRootID(mi); ok {
			t.Errorf("namespaceRootID(%q) = %q", mi, id)
		}
	}
}
