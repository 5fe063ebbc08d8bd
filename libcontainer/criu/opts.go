package criu

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/criu/rpc"
)

// Opts are the options of `berth checkpoint` and `berth restore` (runc's),
// as given; ToRPC maps them onto CRIU's.
type Opts struct {
	ImagePath  string
	WorkPath   string
	ParentPath string // relative to ImagePath (checkpoint)
	// LeaveRunning, PreDump, PageServer, StatusFd, TCPSkipInFlight and
	// LinkRemap are checkpoint's.
	LeaveRunning    bool
	PreDump         bool
	PageServer      string // ADDRESS:PORT
	StatusFd        int    // -1: none
	TCPSkipInFlight bool
	LinkRemap       bool
	TCPEstablished  bool
	ExtUnixSk       bool
	ShellJob        bool
	FileLocks       bool
	LazyPages       bool
	AutoDedup       bool
	// ManageCgroupsMode is soft, full, strict, ignore, or "" (criu's
	// default).
	ManageCgroupsMode string
	// EmptyNs are namespace types to make but not restore: only
	// "network", as in runc.
	EmptyNs []string
	// LsmProfile and LsmMountContext are restore's.
	LsmProfile      string
	LsmMountContext string
}

// CgroupMode maps --manage-cgroups-mode.
func CgroupMode(mode string) (rpc.CgMode, error) {
	switch mode {
	case "":
		return rpc.CgDefault, nil
	case "soft":
		return rpc.CgSoft, nil
	case "full":
		return rpc.CgFull, nil
	case "strict":
		return rpc.CgStrict, nil
	case "ignore":
		return rpc.CgIgnore, nil
	}
	return 0, fmt.Errorf("invalid --manage-cgroups-mode %q: want soft, full, strict or ignore", mode)
}

// EmptyNsMask maps --empty-ns to CRIU's clone-flag mask. runc always adds
// the network namespace (it does not manage network devices, so CRIU
// must not restore them); berth does the same.
func EmptyNsMask(names []string) (uint32, error) {
	mask := uint32(unix.CLONE_NEWNET)
	for _, n := range names {
		switch n {
		case "network":
			mask |= unix.CLONE_NEWNET
		default:
			return 0, fmt.Errorf("--empty-ns %q: only \"network\" is supported", n)
		}
	}
	return mask, nil
}

// PageServer parses --page-server ADDRESS:PORT.
func PageServer(s string) (*rpc.PageServerInfo, error) {
	if s == "" {
		return nil, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("--page-server %q: want ADDRESS:PORT", s)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return nil, fmt.Errorf("--page-server %q: invalid port", s)
	}
	return &rpc.PageServerInfo{Address: host, Port: int32(p)}, nil
}

// Validate refuses combinations CRIU cannot do, before anything is
// touched. restore says which command the options are for.
func (o *Opts) Validate(restore bool) error {
	if _, err := CgroupMode(o.ManageCgroupsMode); err != nil {
		return err
	}
	if _, err := EmptyNsMask(o.EmptyNs); err != nil {
		return err
	}
	if restore {
		return nil
	}
	if _, err := PageServer(o.PageServer); err != nil {
		return err
	}
	if o.PreDump && o.LeaveRunning {
		// A pre-dump always leaves the container running.
		return errors.New("--pre-dump and --leave-running: a pre-dump always leaves the container running; pass only --pre-dump")
	}
	if o.PreDump && o.LazyPages {
		return errors.New("--pre-dump and --lazy-pages cannot be combined")
	}
	if o.StatusFd >= 0 && !o.LazyPages {
		return errors.New("--status-fd is only used with --lazy-pages")
	}
	return nil
}

// ToRPC maps the options common to dump and restore onto CRIU's (images
// and work directories, root, pid and the rest are the caller's).
func (o *Opts) ToRPC() (*rpc.Opts, error) {
	mode, err := CgroupMode(o.ManageCgroupsMode)
	if err != nil {
		return nil, err
	}
	mask, err := EmptyNsMask(o.EmptyNs)
	if err != nil {
		return nil, err
	}
	r := &rpc.Opts{
		LogLevel:          new(int32(4)),
		ManageCgroups:     new(true),
		ManageCgroupsMode: &mode,
		NotifyScripts:     new(true),
		ShellJob:          new(o.ShellJob),
		TCPEstablished:    new(o.TCPEstablished),
		ExtUnixSk:         new(o.ExtUnixSk),
		FileLocks:         new(o.FileLocks),
		EmptyNs:           new(mask),
		OrphanPtsMaster:   new(true),
		AutoDedup:         new(o.AutoDedup),
		LazyPages:         new(o.LazyPages),
	}
	return r, nil
}

// DumpRPC adds checkpoint's own options to r.
func (o *Opts) DumpRPC(r *rpc.Opts) error {
	r.LeaveRunning = new(o.LeaveRunning)
	r.TCPSkipInFlight = new(o.TCPSkipInFlight)
	r.LinkRemap = new(o.LinkRemap)
	ps, err := PageServer(o.PageServer)
	if err != nil {
		return err
	}
	r.Ps = ps
	if o.ParentPath != "" {
		r.ParentImg = new(o.ParentPath)
		r.TrackMem = new(true)
	}
	if o.PreDump {
		r.TrackMem = new(true)
	}
	return nil
}

// RestoreRPC adds restore's own options to r.
func (o *Opts) RestoreRPC(r *rpc.Opts) {
	r.EvasiveDevices = new(true)
	r.RstSibling = new(true)
	if o.LsmProfile != "" {
		r.LsmProfile = new(o.LsmProfile)
	}
	if o.LsmMountContext != "" {
		r.LsmMountContext = new(o.LsmMountContext)
	}
}

// NeededFeatures are the CRIU features the options need (FEATURE_CHECK):
// memory tracking (soft-dirty) for a pre-dump or a dump on a parent,
// userfaultfd for lazy pages. nil when none.
func (o *Opts) NeededFeatures() *rpc.Features {
	var f rpc.Features
	need := false
	if o.PreDump || o.ParentPath != "" {
		f.MemTrack, need = new(true), true
	}
	if o.LazyPages {
		f.LazyPages, need = new(true), true
	}
	if !need {
		return nil
	}
	return &f
}

// Missing names the wanted features criu lacks, with why they may be
// missing here.
func Missing(want, have *rpc.Features) []string {
	var out []string
	if want.GetMemTrack() && !have.GetMemTrack() {
		out = append(out, "memory tracking (the kernel has no soft-dirty page tracking: no --pre-dump, no --parent-path)")
	}
	if want.GetLazyPages() && !have.GetLazyPages() {
		out = append(out, "lazy pages (no usable userfaultfd: no --lazy-pages)")
	}
	return out
}
