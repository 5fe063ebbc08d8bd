// Package rpc is the part of CRIU's RPC protocol (images/rpc.proto,
// proto2) that berth speaks to `criu swrk`: the request it sends and the
// responses and notifications it reads. It encodes and decodes the
// protobuf wire format itself: the generated bindings (go-criu's rpc and
// google.golang.org/protobuf) cost every berth process their package
// initialisation and its pages, though only checkpoint and restore use
// them.
//
// Optional scalars are pointers, as in generated proto2 code: CRIU tells
// an option set to false from one not sent (has_* in its C bindings), and
// a value from the config file is overridden only by a sent one. Nil is
// not sent. Required fields are plain values and always sent.
//
// Field numbers, from CRIU's rpc.proto (only the fields berth uses; any
// other field in a response is skipped):
//
//	criu_req               type 1 (enum, required), opts 2, notify_success 3, features 5
//	criu_opts              images_dir_fd 1 (required), pid 2, leave_running 3,
//	                       ext_unix_sk 4, tcp_established 5, evasive_devices 6,
//	                       shell_job 7, file_locks 8, log_level 9, log_file 10,
//	                       ps 11, notify_scripts 12, root 13, parent_img 14,
//	                       track_mem 15, auto_dedup 16, work_dir_fd 17,
//	                       link_remap 18, ext_mnt 23 (repeated), manage_cgroups 24,
//	                       cg_root 25 (repeated), rst_sibling 26,
//	                       inherit_fd 27 (repeated), manage_cgroups_mode 34 (enum),
//	                       external 37 (repeated string), empty_ns 38 (uint32),
//	                       join_ns 39 (repeated), freeze_cgroup 44,
//	                       tcp_skip_in_flight 46, lazy_pages 48,
//	                       orphan_pts_master 50, config_file 51, lsm_profile 53,
//	                       lsm_mount_context 63
//	criu_page_server_info  address 1, port 2
//	ext_mount_map          key 1, val 2 (both required)
//	join_namespace         ns 1, ns_file 2 (both required)
//	inherit_fd             key 1, fd 2 (both required)
//	cgroup_root            ctrl 1, path 2 (required)
//	criu_features          mem_track 1, lazy_pages 2, pidfd_store 3
//	criu_resp              type 1, success 2, dump 3, restore 4, notify 5,
//	                       cr_errno 7, features 8, cr_errmsg 9
//	criu_dump_resp         restored 1
//	criu_restore_resp      pid 1
//	criu_notify            script 1, pid 2
//
// Encoded fields come in field-number order, as protobuf's own encoder
// writes them, so the bytes equal go-criu's (the tests check that).
package rpc

import "strconv"

// ReqType is criu_req_type.
type ReqType int32

const (
	ReqEmpty        ReqType = 0
	ReqDump         ReqType = 1
	ReqRestore      ReqType = 2
	ReqCheck        ReqType = 3
	ReqPreDump      ReqType = 4
	ReqNotify       ReqType = 6
	ReqFeatureCheck ReqType = 9
	ReqVersion      ReqType = 10
)

// reqTypeNames is indexed by ReqType (an array: static data, nothing
// built at start-up).
var reqTypeNames = [...]string{
	"EMPTY", "DUMP", "RESTORE", "CHECK", "PRE_DUMP", "PAGE_SERVER", "NOTIFY",
	"CPUINFO_DUMP", "CPUINFO_CHECK", "FEATURE_CHECK", "VERSION", "WAIT_PID",
	"PAGE_SERVER_CHLD", "SINGLE_PRE_DUMP",
}

// String is the enum value's name in rpc.proto.
func (t ReqType) String() string {
	if t >= 0 && int(t) < len(reqTypeNames) {
		return reqTypeNames[t]
	}
	return strconv.Itoa(int(t))
}

// CgMode is criu_cg_mode.
type CgMode int32

const (
	CgIgnore  CgMode = 0
	CgNone    CgMode = 1
	CgProps   CgMode = 2
	CgSoft    CgMode = 3
	CgFull    CgMode = 4
	CgStrict  CgMode = 5
	CgDefault CgMode = 6
)

// Req is criu_req.
type Req struct {
	Type          ReqType
	Opts          *Opts
	NotifySuccess *bool
	Features      *Features
}

// Opts is criu_opts (the fields berth sets).
type Opts struct {
	ImagesDirFd       int32
	Pid               *int32
	LeaveRunning      *bool
	ExtUnixSk         *bool
	TCPEstablished    *bool
	EvasiveDevices    *bool
	ShellJob          *bool
	FileLocks         *bool
	LogLevel          *int32
	LogFile           *string
	Ps                *PageServerInfo
	NotifyScripts     *bool
	Root              *string
	ParentImg         *string
	TrackMem          *bool
	AutoDedup         *bool
	WorkDirFd         *int32
	LinkRemap         *bool
	ExtMnt            []*ExtMountMap
	ManageCgroups     *bool
	CgRoot            []*CgroupRoot
	RstSibling        *bool
	InheritFd         []*InheritFd
	ManageCgroupsMode *CgMode
	External          []string
	EmptyNs           *uint32
	JoinNs            []*JoinNamespace
	FreezeCgroup      *string
	TCPSkipInFlight   *bool
	LazyPages         *bool
	OrphanPtsMaster   *bool
	ConfigFile        *string
	LsmProfile        *string
	LsmMountContext   *string
}

// PageServerInfo is criu_page_server_info (berth sends both fields).
type PageServerInfo struct {
	Address string
	Port    int32
}

// ExtMountMap is ext_mount_map.
type ExtMountMap struct{ Key, Val string }

// JoinNamespace is join_namespace.
type JoinNamespace struct{ Ns, NsFile string }

// InheritFd is inherit_fd.
type InheritFd struct {
	Key string
	Fd  int32
}

// CgroupRoot is cgroup_root (berth always sends the controller, "" for
// cgroup2's line).
type CgroupRoot struct{ Ctrl, Path string }

// Features is criu_features.
type Features struct {
	MemTrack   *bool
	LazyPages  *bool
	PidfdStore *bool
}

// GetMemTrack is false for a nil f or an unset field.
func (f *Features) GetMemTrack() bool { return f != nil && f.MemTrack != nil && *f.MemTrack }

// GetLazyPages is false for a nil f or an unset field.
func (f *Features) GetLazyPages() bool { return f != nil && f.LazyPages != nil && *f.LazyPages }

// Resp is criu_resp (the fields berth reads).
type Resp struct {
	Type     ReqType
	Success  bool
	Dump     *DumpResp
	Restore  *RestoreResp
	Notify   *Notify
	CrErrno  int32
	Features *Features
	CrErrmsg string
}

// DumpResp is criu_dump_resp.
type DumpResp struct{ Restored bool }

// RestoreResp is criu_restore_resp.
type RestoreResp struct{ Pid int32 }

// Notify is criu_notify.
type Notify struct {
	Script string
	Pid    int32
}

// GetScript is "" for a nil n.
func (n *Notify) GetScript() string {
	if n == nil {
		return ""
	}
	return n.Script
}

// GetPid is 0 for a nil n.
func (n *Notify) GetPid() int32 {
	if n == nil {
		return 0
	}
	return n.Pid
}

// Marshal encodes r in protobuf's wire format.
func (r *Req) Marshal() []byte {
	e := encoder{}
	r.walk(&e)
	return e.b
}

// String is a one-line text form of r, for debug logs.
func (r *Req) String() string { return text(r.walk) }

// String is a one-line text form of o, for debug logs.
func (o *Opts) String() string { return text(o.walk) }

func (r *Req) walk(e *encoder) {
	e.varint(1, "type", uint64(r.Type), r.Type.String())
	message(e, 2, "opts", r.Opts)
	e.boolp(3, "notify_success", r.NotifySuccess)
	message(e, 5, "features", r.Features)
}

func (o *Opts) walk(e *encoder) {
	e.int32(1, "images_dir_fd", o.ImagesDirFd)
	e.int32p(2, "pid", o.Pid)
	e.boolp(3, "leave_running", o.LeaveRunning)
	e.boolp(4, "ext_unix_sk", o.ExtUnixSk)
	e.boolp(5, "tcp_established", o.TCPEstablished)
	e.boolp(6, "evasive_devices", o.EvasiveDevices)
	e.boolp(7, "shell_job", o.ShellJob)
	e.boolp(8, "file_locks", o.FileLocks)
	e.int32p(9, "log_level", o.LogLevel)
	e.stringp(10, "log_file", o.LogFile)
	message(e, 11, "ps", o.Ps)
	e.boolp(12, "notify_scripts", o.NotifyScripts)
	e.stringp(13, "root", o.Root)
	e.stringp(14, "parent_img", o.ParentImg)
	e.boolp(15, "track_mem", o.TrackMem)
	e.boolp(16, "auto_dedup", o.AutoDedup)
	e.int32p(17, "work_dir_fd", o.WorkDirFd)
	e.boolp(18, "link_remap", o.LinkRemap)
	messages(e, 23, "ext_mnt", o.ExtMnt)
	e.boolp(24, "manage_cgroups", o.ManageCgroups)
	messages(e, 25, "cg_root", o.CgRoot)
	e.boolp(26, "rst_sibling", o.RstSibling)
	messages(e, 27, "inherit_fd", o.InheritFd)
	if m := o.ManageCgroupsMode; m != nil {
		e.varint(34, "manage_cgroups_mode", uint64(int64(*m)), strconv.Itoa(int(*m)))
	}
	for _, s := range o.External {
		e.string(37, "external", s)
	}
	if v := o.EmptyNs; v != nil {
		e.varint(38, "empty_ns", uint64(*v), "0x"+strconv.FormatUint(uint64(*v), 16))
	}
	messages(e, 39, "join_ns", o.JoinNs)
	e.stringp(44, "freeze_cgroup", o.FreezeCgroup)
	e.boolp(46, "tcp_skip_in_flight", o.TCPSkipInFlight)
	e.boolp(48, "lazy_pages", o.LazyPages)
	e.boolp(50, "orphan_pts_master", o.OrphanPtsMaster)
	e.stringp(51, "config_file", o.ConfigFile)
	e.stringp(53, "lsm_profile", o.LsmProfile)
	e.stringp(63, "lsm_mount_context", o.LsmMountContext)
}

func (p *PageServerInfo) walk(e *encoder) {
	e.string(1, "address", p.Address)
	e.int32(2, "port", p.Port)
}

func (m *ExtMountMap) walk(e *encoder) {
	e.string(1, "key", m.Key)
	e.string(2, "val", m.Val)
}

func (j *JoinNamespace) walk(e *encoder) {
	e.string(1, "ns", j.Ns)
	e.string(2, "ns_file", j.NsFile)
}

func (i *InheritFd) walk(e *encoder) {
	e.string(1, "key", i.Key)
	e.int32(2, "fd", i.Fd)
}

func (c *CgroupRoot) walk(e *encoder) {
	e.string(1, "ctrl", c.Ctrl)
	e.string(2, "path", c.Path)
}

func (f *Features) walk(e *encoder) {
	e.boolp(1, "mem_track", f.MemTrack)
	e.boolp(2, "lazy_pages", f.LazyPages)
	e.boolp(3, "pidfd_store", f.PidfdStore)
}

// UnmarshalResp decodes a criu_resp; fields berth does not read are
// skipped.
func UnmarshalResp(b []byte) (*Resp, error) {
	r := &Resp{}
	err := decode(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			var v uint64
			v, err = f.varint()
			r.Type = ReqType(v)
		case 2:
			r.Success, err = f.bool()
		case 3:
			r.Dump = orNew(r.Dump)
			err = f.message(r.Dump.unmarshal)
		case 4:
			r.Restore = orNew(r.Restore)
			err = f.message(r.Restore.unmarshal)
		case 5:
			r.Notify = orNew(r.Notify)
			err = f.message(r.Notify.unmarshal)
		case 7:
			r.CrErrno, err = f.int32()
		case 8:
			r.Features = orNew(r.Features)
			err = f.message(r.Features.unmarshal)
		case 9:
			r.CrErrmsg, err = f.string()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (d *DumpResp) unmarshal(b []byte) error {
	return decode(b, func(f field) (err error) {
		if f.num == 1 {
			d.Restored, err = f.bool()
		}
		return err
	})
}

func (r *RestoreResp) unmarshal(b []byte) error {
	return decode(b, func(f field) (err error) {
		if f.num == 1 {
			r.Pid, err = f.int32()
		}
		return err
	})
}

func (n *Notify) unmarshal(b []byte) error {
	return decode(b, func(f field) (err error) {
		switch f.num {
		case 1:
			n.Script, err = f.string()
		case 2:
			n.Pid, err = f.int32()
		}
		return err
	})
}

func (ft *Features) unmarshal(b []byte) error {
	return decode(b, func(f field) error {
		var p **bool
		switch f.num {
		case 1:
			p = &ft.MemTrack
		case 2:
			p = &ft.LazyPages
		case 3:
			p = &ft.PidfdStore
		default:
			return nil
		}
		v, err := f.bool()
		*p = &v
		return err
	})
}

// orNew returns p, or a new T when p is nil: a message field that comes
// twice is merged, as protobuf does.
func orNew[T any](p *T) *T {
	if p == nil {
		return new(T)
	}
	return p
}
