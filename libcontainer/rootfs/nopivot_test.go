package rootfs

import (
	"reflect"
	"testing"
)

func TestRevealingMounts(t *testing.T) {
	mi := `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:2 - proc proc rw
24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:3 - sysfs sysfs rw
25 23 0:30 / /proc/sys/fs/binfmt_misc rw,relatime shared:4 - binfmt_misc binfmt_misc rw
26 22 0:21 /sys /host/procsys ro - proc proc rw
27 22 0:21 / /my\040proc rw - proc proc rw
30 22 0:40 / /run/c/rootfs/proc rw - proc proc rw
31 22 0:41 / /run/c/rootfs/sys rw - sysfs sysfs rw
32 22 0:42 / /run/c/rootfs2/proc rw - proc proc rw
`
	got := revealingMounts(mi, "/run/c/rootfs")
	want := []string{"/proc", "/sys", "/my proc", "/run/c/rootfs2/proc"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{`/a\040b`: "/a b", `/x\134y`: `/x\y`, `/tail\04`: `/tail\04`, "/plain": "/plain"} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
}
