package rpc

import (
	"bytes"
	"strings"
	"testing"

	criurpc "github.com/checkpoint-restore/go-criu/v7/rpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// fullOpts sets every criu_opts field berth sends, with values that test
// the encoding's corners: negative and multi-byte varints, empty and
// non-ASCII strings, false booleans (sent, unlike nil ones), repeated
// messages. ref is the same in go-criu's generated types.
func fullOpts() (*Opts, *criurpc.CriuOpts) {
	mode := CgStrict
	refMode := criurpc.CriuCgMode_STRICT
	o := &Opts{
		ImagesDirFd: 7, Pid: new(int32(123456)), LeaveRunning: new(false), ExtUnixSk: new(true),
		TCPEstablished: new(true), EvasiveDevices: new(true), ShellJob: new(false), FileLocks: new(true),
		LogLevel: new(int32(4)), LogFile: new("dump.log"), Ps: &PageServerInfo{Address: "::1", Port: 27},
		NotifyScripts: new(true), Root: new("/run/berth/c1/rootfs"), ParentImg: new("../pre"),
		TrackMem: new(true), AutoDedup: new(false), WorkDirFd: new(int32(-1)), LinkRemap: new(true),
		ExtMnt:            []*ExtMountMap{{Key: "/etc/hosts", Val: "/etc/hosts"}, {Key: "/dev/null", Val: ""}},
		ManageCgroups:     new(true),
		CgRoot:            []*CgroupRoot{{Ctrl: "", Path: "/berth/c1"}, {Ctrl: "cpu,cpuacct", Path: "/c1"}},
		RstSibling:        new(true),
		InheritFd:         []*InheritFd{{Key: "pipe:[1234]", Fd: 0}, {Key: "extRootNetNS", Fd: 4}},
		ManageCgroupsMode: &mode, External: []string{"net[4026531840]:extRootNetNS", "ünïcode"},
		EmptyNs:      new(uint32(0x40000000)),
		JoinNs:       []*JoinNamespace{{Ns: "uts", NsFile: "/proc/1/ns/uts"}},
		FreezeCgroup: new("/sys/fs/cgroup/freezer/c1"), TCPSkipInFlight: new(false), LazyPages: new(false),
		OrphanPtsMaster: new(true), ConfigFile: new(""), LsmProfile: new("apparmor:x"),
		LsmMountContext: new(strings.Repeat("c", 300)),
	}
	ref := &criurpc.CriuOpts{
		ImagesDirFd: proto.Int32(7), Pid: proto.Int32(123456), LeaveRunning: proto.Bool(false),
		ExtUnixSk: proto.Bool(true), TcpEstablished: proto.Bool(true), EvasiveDevices: proto.Bool(true),
		ShellJob: proto.Bool(false), FileLocks: proto.Bool(true), LogLevel: proto.Int32(4),
		LogFile: proto.String("dump.log"), Ps: &criurpc.CriuPageServerInfo{Address: proto.String("::1"), Port: proto.Int32(27)},
		NotifyScripts: proto.Bool(true), Root: proto.String("/run/berth/c1/rootfs"), ParentImg: proto.String("../pre"),
		TrackMem: proto.Bool(true), AutoDedup: proto.Bool(false), WorkDirFd: proto.Int32(-1), LinkRemap: proto.Bool(true),
		ExtMnt: []*criurpc.ExtMountMap{
			{Key: proto.String("/etc/hosts"), Val: proto.String("/etc/hosts")},
			{Key: proto.String("/dev/null"), Val: proto.String("")},
		},
		ManageCgroups: proto.Bool(true),
		CgRoot: []*criurpc.CgroupRoot{
			{Ctrl: proto.String(""), Path: proto.String("/berth/c1")},
			{Ctrl: proto.String("cpu,cpuacct"), Path: proto.String("/c1")},
		},
		RstSibling: proto.Bool(true),
		InheritFd: []*criurpc.InheritFd{
			{Key: proto.String("pipe:[1234]"), Fd: proto.Int32(0)},
			{Key: proto.String("extRootNetNS"), Fd: proto.Int32(4)},
		},
		ManageCgroupsMode: &refMode, External: []string{"net[4026531840]:extRootNetNS", "ünïcode"},
		EmptyNs:      proto.Uint32(0x40000000),
		JoinNs:       []*criurpc.JoinNamespace{{Ns: proto.String("uts"), NsFile: proto.String("/proc/1/ns/uts")}},
		FreezeCgroup: proto.String("/sys/fs/cgroup/freezer/c1"), TcpSkipInFlight: proto.Bool(false), LazyPages: proto.Bool(false),
		OrphanPtsMaster: proto.Bool(true), ConfigFile: proto.String(""), LsmProfile: proto.String("apparmor:x"),
		LsmMountContext: proto.String(strings.Repeat("c", 300)),
	}
	return o, ref
}

// checkGolden compares r's encoding with protobuf's of ref, and decodes
// it back with protobuf.
func checkGolden(t *testing.T, name string, r *Req, ref *criurpc.CriuReq) {
	t.Helper()
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(ref)
	if err != nil {
		t.Fatalf("%s: proto.Marshal: %v", name, err)
	}
	got := r.Marshal()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: encoding differs from protobuf's\n got %x\nwant %x", name, got, want)
	}
	back := &criurpc.CriuReq{}
	if err := proto.Unmarshal(got, back); err != nil {
		t.Fatalf("%s: protobuf cannot decode ours: %v", name, err)
	}
	if !proto.Equal(back, ref) {
		t.Errorf("%s: round trip through protobuf: got %v, want %v", name, back, ref)
	}
}

func TestReqGolden(t *testing.T) {
	o, refOpts := fullOpts()
	checkGolden(t, "dump", &Req{Type: ReqDump, Opts: o},
		&criurpc.CriuReq{Type: criurpc.CriuReqType_DUMP.Enum(), Opts: refOpts})

	checkGolden(t, "notify ack", &Req{Type: ReqNotify, NotifySuccess: new(true)},
		&criurpc.CriuReq{Type: criurpc.CriuReqType_NOTIFY.Enum(), NotifySuccess: proto.Bool(true)})

	checkGolden(t, "feature check",
		&Req{Type: ReqFeatureCheck, Features: &Features{MemTrack: new(true), LazyPages: new(false)}},
		&criurpc.CriuReq{
			Type:     criurpc.CriuReqType_FEATURE_CHECK.Enum(),
			Features: &criurpc.CriuFeatures{MemTrack: proto.Bool(true), LazyPages: proto.Bool(false)},
		})

	// The required fields go out even when zero; unset optional ones do not.
	checkGolden(t, "minimal restore", &Req{Type: ReqRestore, Opts: &Opts{}},
		&criurpc.CriuReq{Type: criurpc.CriuReqType_RESTORE.Enum(), Opts: &criurpc.CriuOpts{ImagesDirFd: proto.Int32(0)}})
	checkGolden(t, "empty", &Req{}, &criurpc.CriuReq{Type: criurpc.CriuReqType_EMPTY.Enum()})
}

func TestReqTypeNames(t *testing.T) {
	for v, name := range criurpc.CriuReqType_name {
		if got := ReqType(v).String(); got != name {
			t.Errorf("ReqType(%d) = %q, want %q", v, got, name)
		}
	}
	if got := ReqType(99).String(); got != "99" {
		t.Errorf("ReqType(99) = %q", got)
	}
	for v, name := range criurpc.CriuCgMode_name {
		want := map[string]CgMode{"IGNORE": CgIgnore, "CG_NONE": CgNone, "PROPS": CgProps,
			"SOFT": CgSoft, "FULL": CgFull, "STRICT": CgStrict, "DEFAULT": CgDefault}[name]
		if int32(want) != v {
			t.Errorf("CgMode %s = %d, rpc.proto says %d", name, want, v)
		}
	}
}

func TestOptsString(t *testing.T) {
	o, _ := fullOpts()
	s := o.String()
	for _, want := range []string{`images_dir_fd:7 pid:123456 leave_running:false`, `ps:{address:"::1" port:27}`,
		`work_dir_fd:-1`, `manage_cgroups_mode:5`, `empty_ns:0x40000000`, `config_file:""`} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q: %s", want, s)
		}
	}
	if strings.Contains(s, "\n") {
		t.Errorf("String() is not one line: %q", s)
	}
}

// unknown appends fields berth does not know, one of each wire type.
func unknown(b []byte) []byte {
	b = protowire.AppendTag(b, 1000, protowire.VarintType)
	b = protowire.AppendVarint(b, 1<<40)
	b = protowire.AppendTag(b, 1001, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 7)
	b = protowire.AppendTag(b, 1002, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("future"))
	b = protowire.AppendTag(b, 1003, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, 9)
	return b
}

func TestUnmarshalResp(t *testing.T) {
	ref := &criurpc.CriuResp{
		Type: criurpc.CriuReqType_NOTIFY.Enum(), Success: proto.Bool(true),
		Dump:     &criurpc.CriuDumpResp{Restored: proto.Bool(true)},
		Restore:  &criurpc.CriuRestoreResp{Pid: proto.Int32(4242)},
		Notify:   &criurpc.CriuNotify{Script: proto.String("post-restore"), Pid: proto.Int32(77)},
		Ps:       &criurpc.CriuPageServerInfo{Address: proto.String("h"), Port: proto.Int32(1), Pid: proto.Int32(3)},
		CrErrno:  proto.Int32(-22),
		Features: &criurpc.CriuFeatures{MemTrack: proto.Bool(false), LazyPages: proto.Bool(true), PidfdStore: proto.Bool(true)},
		CrErrmsg: proto.String("Error (criu/x.c:1): no\n"),
		Version:  &criurpc.CriuVersion{MajorNumber: proto.Int32(4), MinorNumber: proto.Int32(2), Gitid: proto.String("g")},
		Status:   proto.Int32(3),
	}
	b, err := proto.Marshal(ref)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalResp(unknown(b))
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != ReqNotify || !got.Success || got.Dump == nil || !got.Dump.Restored ||
		got.Restore == nil || got.Restore.Pid != 4242 || got.Notify.GetScript() != "post-restore" ||
		got.Notify.GetPid() != 77 || got.CrErrno != -22 || got.CrErrmsg != "Error (criu/x.c:1): no\n" ||
		got.Features.GetMemTrack() || !got.Features.GetLazyPages() || got.Features.PidfdStore == nil ||
		got.Features.MemTrack == nil {
		t.Errorf("UnmarshalResp = %+v (notify %+v, features %+v)", got, got.Notify, got.Features)
	}

	// Unknown fields inside a nested message are skipped too, and an
	// absent message stays nil.
	notify, _ := proto.Marshal(&criurpc.CriuNotify{Script: proto.String("setup-namespaces"), Pid: proto.Int32(5)})
	var raw []byte
	raw = protowire.AppendTag(raw, 1, protowire.VarintType)
	raw = protowire.AppendVarint(raw, uint64(criurpc.CriuReqType_NOTIFY))
	raw = protowire.AppendTag(raw, 2, protowire.VarintType)
	raw = protowire.AppendVarint(raw, 1)
	raw = protowire.AppendTag(raw, 5, protowire.BytesType)
	raw = protowire.AppendBytes(raw, unknown(notify))
	got, err = UnmarshalResp(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.Notify.GetScript() != "setup-namespaces" || got.Notify.GetPid() != 5 || got.Features != nil || got.Dump != nil {
		t.Errorf("UnmarshalResp(nested unknown) = %+v", got)
	}
}

func TestUnmarshalRespFailure(t *testing.T) {
	ref := &criurpc.CriuResp{
		Type: criurpc.CriuReqType_DUMP.Enum(), Success: proto.Bool(false),
		CrErrno: proto.Int32(1), CrErrmsg: proto.String("Dumping FAILED."),
	}
	b, _ := proto.Marshal(ref)
	got, err := UnmarshalResp(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != ReqDump || got.Success || got.CrErrno != 1 || got.CrErrmsg != "Dumping FAILED." || got.Notify != nil {
		t.Errorf("UnmarshalResp = %+v", got)
	}
}

func TestUnmarshalRespBad(t *testing.T) {
	good, _ := proto.Marshal(&criurpc.CriuResp{
		Type: criurpc.CriuReqType_DUMP.Enum(), Success: proto.Bool(true),
		Notify: &criurpc.CriuNotify{Script: proto.String("x")},
	})
	var group []byte
	group = protowire.AppendTag(group, 1000, protowire.StartGroupType)
	var wrongType []byte
	wrongType = protowire.AppendTag(wrongType, 9, protowire.VarintType) // cr_errmsg is a string
	wrongType = protowire.AppendVarint(wrongType, 1)
	var fieldZero []byte
	fieldZero = protowire.AppendTag(fieldZero, 0, protowire.VarintType)
	fieldZero = protowire.AppendVarint(fieldZero, 1)
	bad := map[string][]byte{
		"truncated":       good[:len(good)-1],
		"truncated tag":   {0x80},
		"long varint":     bytes.Repeat([]byte{0xff}, 11),
		"length too long": {0x4a, 0x05, 'a'},
		"short fixed32":   {0x85, 0x7d, 1, 2},
		"group":           group,
		"wrong wire type": wrongType,
		"field 0":         fieldZero,
	}
	for name, b := range bad {
		if r, err := UnmarshalResp(b); err == nil {
			t.Errorf("%s: no error, got %+v", name, r)
		}
	}
}
