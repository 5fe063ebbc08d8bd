package configs

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestParseMountOptions(t *testing.T) {
	cases := []struct {
		opts  string
		flags uintptr
		clear uintptr
		prop  []uintptr
		rset  uint64
		rclr  uint64
		data  []string
	}{
		{opts: "ro,nosuid,nodev,noexec", flags: unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		{opts: "rbind,rw", flags: unix.MS_BIND | unix.MS_REC, clear: unix.MS_RDONLY},
		// the last of a pair wins
		{opts: "ro,rw", clear: unix.MS_RDONLY},
		{opts: "rw,ro", flags: unix.MS_RDONLY},
		{opts: "suid,nosuid,dev", flags: unix.MS_NOSUID, clear: unix.MS_NODEV},
		// atime modes exclude each other: the last given is the one set
		{opts: "noatime,relatime", flags: unix.MS_RELATIME},
		{opts: "relatime,strictatime", flags: unix.MS_STRICTATIME},
		{opts: "strictatime,noatime", flags: unix.MS_NOATIME},
		{opts: "noatime,atime", clear: unix.MS_NOATIME},
		{opts: "rprivate,shared", prop: []uintptr{unix.MS_PRIVATE | unix.MS_REC, unix.MS_SHARED}},
		{opts: "rslave,runbindable", prop: []uintptr{unix.MS_SLAVE | unix.MS_REC, unix.MS_UNBINDABLE | unix.MS_REC}},
		{opts: "rro,rnosuid,rrw", rset: unix.MOUNT_ATTR_NOSUID, rclr: unix.MOUNT_ATTR_RDONLY},
		// recursive atime modes: one field, cleared whole to set one;
		// the "clearing" options set the mode left (relatime is 0)
		{opts: "rnoatime", rset: unix.MOUNT_ATTR_NOATIME, rclr: unix.MOUNT_ATTR__ATIME},
		{opts: "rnoatime,rrelatime", rset: 0, rclr: unix.MOUNT_ATTR__ATIME},
		{opts: "rnoatime,ratime", rset: 0, rclr: unix.MOUNT_ATTR__ATIME},
		{opts: "rstrictatime,rnostrictatime,rro", rset: unix.MOUNT_ATTR_RDONLY, rclr: unix.MOUNT_ATTR__ATIME},
		{opts: "rstrictatime,rnorelatime", rset: 0, rclr: unix.MOUNT_ATTR__ATIME},
		{opts: "rnosymfollow,rsymfollow", rclr: unix.MOUNT_ATTR_NOSYMFOLLOW},
		{opts: "rsymfollow,rnosymfollow", rset: unix.MOUNT_ATTR_NOSYMFOLLOW},
		{opts: "mode=755,size=1m,defaults", data: []string{"mode=755", "size=1m"}},
		{opts: "remount,sync,dirsync", flags: unix.MS_REMOUNT | unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC},
	}
	for _, c := range cases {
		mf, err := ParseMountOptions(strings.Split(c.opts, ","))
		if err != nil {
			t.Errorf("%s: %v", c.opts, err)
			continue
		}
		if mf.Flags != c.flags || mf.ClearFlags != c.clear {
			t.Errorf("%s: flags %#x clear %#x; want %#x %#x", c.opts, mf.Flags, mf.ClearFlags, c.flags, c.clear)
		}
		if len(mf.Propagation) != len(c.prop) {
			t.Errorf("%s: propagation %v; want %v", c.opts, mf.Propagation, c.prop)
		}
		for i := range c.prop {
			if i < len(mf.Propagation) && mf.Propagation[i] != c.prop[i] {
				t.Errorf("%s: propagation %v; want %v", c.opts, mf.Propagation, c.prop)
			}
		}
		if mf.RecAttrSet != c.rset || mf.RecAttrClr != c.rclr {
			t.Errorf("%s: rec attrs %#x/%#x; want %#x/%#x", c.opts, mf.RecAttrSet, mf.RecAttrClr, c.rset, c.rclr)
		}
		if strings.Join(mf.Data, ",") != strings.Join(c.data, ",") {
			t.Errorf("%s: data %q; want %q", c.opts, mf.Data, c.data)
		}
	}
}

func TestParseMountOptionsIDMap(t *testing.T) {
	for _, c := range []struct {
		opts     []string
		idmap    bool
		idmapRec bool
	}{
		{[]string{"rbind"}, false, false},
		{[]string{"rbind", "idmap"}, true, false},
		{[]string{"bind", "ridmap"}, true, true},
		{[]string{"ridmap", "idmap"}, true, true},
	} {
		mf, err := ParseMountOptions(c.opts)
		if err != nil || mf.IDMap != c.idmap || mf.IDMapRec != c.idmapRec || len(mf.Data) != 0 {
			t.Errorf("%q: %+v %v; want idmap %v, recursive %v", c.opts, mf, err, c.idmap, c.idmapRec)
		}
	}
}

func TestParseMountOptionsErrors(t *testing.T) {
	for opt, want := range map[string]string{
		"size=1\x00": "NUL byte",
	} {
		_, err := ParseMountOptions([]string{"ro", opt})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want error containing %q", opt, err, want)
		}
	}
}

func TestIsBind(t *testing.T) {
	for _, c := range []struct {
		m    specs.Mount
		want bool
	}{
		{specs.Mount{Type: "bind"}, true},
		{specs.Mount{Type: "none", Options: []string{"rbind"}}, true},
		{specs.Mount{Options: []string{"ro", "bind"}}, true},
		{specs.Mount{Type: "tmpfs", Options: []string{"ro"}}, false},
	} {
		if got := IsBind(c.m); got != c.want {
			t.Errorf("IsBind(%+v) = %v", c.m, got)
		}
	}
}

func TestKnownMountOptionsParse(t *testing.T) {
	for _, o := range KnownMountOptions() {
		mf, err := ParseMountOptions([]string{o})
		if err != nil || len(mf.Data) != 0 {
			t.Errorf("known option %q: err %v, data %q", o, err, mf.Data)
		}
	}
}

func TestHostID(t *testing.T) {
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}, {ContainerID: 5000, HostID: 7, Size: 1}}
	for _, c := range []struct {
		id, host uint32
		ok       bool
	}{{0, 100000, true}, {999, 100999, true}, {1000, 0, false}, {5000, 7, true}, {5001, 0, false}} {
		host, ok := HostID(maps, c.id)
		if host != c.host || ok != c.ok {
			t.Errorf("HostID(%d) = %d, %v; want %d, %v", c.id, host, ok, c.host, c.ok)
		}
	}
	if _, ok := HostID([]specs.LinuxIDMapping{{ContainerID: 1<<32 - 1, HostID: 0, Size: 1}}, 1<<32-1); !ok {
		t.Error("mapping at the top of the range not found")
	}
}

func TestParseIDMap(t *testing.T) {
	maps, err := ParseIDMap("         0     100000      65536\n      70000          5          1\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}, {ContainerID: 70000, HostID: 5, Size: 1}}
	if len(maps) != 2 || maps[0] != want[0] || maps[1] != want[1] {
		t.Fatalf("got %+v", maps)
	}
	for _, bad := range []string{"0 1", "0 1 2 3", "a 1 2", "0 1 4294967296", "-1 0 1"} {
		if _, err := ParseIDMap(bad); err == nil {
			t.Errorf("ParseIDMap(%q) accepted", bad)
		}
	}
}

func TestNamespaceHelpers(t *testing.T) {
	if f, err := NamespaceFlag(specs.TimeNamespace); err != nil || f != unix.CLONE_NEWTIME {
		t.Errorf("time: %#x %v", f, err)
	}
	if _, err := NamespaceFlag("bogus"); err == nil {
		t.Error("bogus namespace accepted")
	}
	if NamespaceProcName(specs.MountNamespace) != "mnt" || NamespaceProcName(specs.NetworkNamespace) != "net" {
		t.Error("proc names")
	}
	types := AllNamespaceTypes()
	if types[0] != specs.UserNamespace || len(types) != 8 {
		t.Errorf("order: %v", types)
	}
	if HasNamespace(nil, specs.PIDNamespace) || HasNamespace(&specs.Spec{}, specs.PIDNamespace) {
		t.Error("HasNamespace without linux")
	}
	s := validSpec()
	if !HasNamespace(s, specs.PIDNamespace) || HasNamespace(s, specs.UserNamespace) {
		t.Error("HasNamespace")
	}
}
