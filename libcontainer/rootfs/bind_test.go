package rootfs

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

func TestBindAttrs(t *testing.T) {
	const all = perMountAttrs
	for _, c := range []struct {
		opts     []string
		set, clr uint64
		change   bool
	}{
		{[]string{"bind"}, 0, 0, false},
		{[]string{"rbind", "rprivate"}, 0, 0, false},
		// runc: any flag makes the flags exactly the ones asked for
		{[]string{"bind", "ro"}, unix.MOUNT_ATTR_RDONLY, all &^ unix.MOUNT_ATTR_RDONLY &^ unix.MOUNT_ATTR_NODIRATIME, true},
		{[]string{"bind", "dev"}, 0, all &^ unix.MOUNT_ATTR_NODIRATIME, true},
		{[]string{"bind", "nosymfollow"}, unix.MOUNT_ATTR_NOSYMFOLLOW, all &^ unix.MOUNT_ATTR_NOSYMFOLLOW &^ unix.MOUNT_ATTR_NODIRATIME, true},
		// an atime mode replaces the source's
		{[]string{"bind", "strictatime"}, unix.MOUNT_ATTR_STRICTATIME, all | unix.MOUNT_ATTR__ATIME, true},
		{[]string{"bind", "nodiratime"}, unix.MOUNT_ATTR_NODIRATIME, all&^unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR__ATIME, true},
	} {
		mf, err := configs.ParseMountOptions(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		set, clr, change := bindAttrs(mf.Flags, mf.ClearFlags)
		if set != c.set || clr != c.clr || change != c.change {
			t.Errorf("%v: set %#x clr %#x change %v; want %#x %#x %v", c.opts, set, clr, change, c.set, c.clr, c.change)
		}
	}
}

func TestLockedRetry(t *testing.T) {
	src := uint64(unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NOATIME)
	retry := func(opts ...string) (uint64, uint64, bool) {
		mf, err := configs.ParseMountOptions(opts)
		if err != nil {
			t.Fatal(err)
		}
		set, clr, _ := bindAttrs(mf.Flags, mf.ClearFlags)
		return lockedRetry(set, clr, mf.Flags, mf.ClearFlags, src)
	}
	set, clr, ok := retry("bind", "ro")
	want := uint64(unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC)
	if !ok || set != want || clr&(want|unix.MOUNT_ATTR__ATIME) != 0 {
		t.Errorf("ro on a locked source: set %#x clr %#x ok %v", set, clr, ok)
	}
	for _, opts := range [][]string{{"bind", "dev"}, {"bind", "exec"}, {"bind", "atime"}, {"bind", "strictatime"}} {
		if _, _, ok := retry(opts...); ok {
			t.Errorf("%v clears a locked flag: accepted", opts)
		}
	}
	if _, _, ok := retry("bind", "noatime"); !ok {
		t.Error("the source's own atime mode: refused")
	}
}

func TestStatfsAttrs(t *testing.T) {
	got := statfsAttrs(unix.ST_RDONLY | unix.ST_NOEXEC | unix.ST_NOATIME | 0x2000)
	want := uint64(unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NOATIME | unix.MOUNT_ATTR_NOSYMFOLLOW)
	if got != want {
		t.Errorf("got %#x want %#x", got, want)
	}
	if statfsAttrs(0) != unix.MOUNT_ATTR_STRICTATIME {
		t.Error("no atime flag is strictatime")
	}
}
