package criu

import (
	"strings"
	"testing"

	"github.com/berth-runtime/berth/libcontainer/criu/rpc"
	"golang.org/x/sys/unix"
)

func TestCgroupMode(t *testing.T) {
	for in, want := range map[string]rpc.CgMode{
		"": rpc.CgDefault, "soft": rpc.CgSoft, "full": rpc.CgFull,
		"strict": rpc.CgStrict, "ignore": rpc.CgIgnore,
	} {
		got, err := CgroupMode(in)
		if err != nil || got != want {
			t.Errorf("CgroupMode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := CgroupMode("props"); err == nil {
		t.Error("CgroupMode(props): no error")
	}
}

func TestEmptyNsMask(t *testing.T) {
	// The network namespace is always left empty, as runc leaves it.
	for _, in := range [][]string{nil, {"network"}, {"network", "network"}} {
		got, err := EmptyNsMask(in)
		if err != nil || got != unix.CLONE_NEWNET {
			t.Errorf("EmptyNsMask(%q) = %#x, %v", in, got, err)
		}
	}
	for _, in := range [][]string{{"pid"}, {"network", "ipc"}, {""}} {
		if _, err := EmptyNsMask(in); err == nil {
			t.Errorf("EmptyNsMask(%q): no error", in)
		}
	}
}

func TestPageServer(t *testing.T) {
	ps, err := PageServer("10.0.0.1:2000")
	if err != nil || ps == nil || ps.Address != "10.0.0.1" || ps.Port != 2000 {
		t.Fatalf("PageServer = %v, %v", ps, err)
	}
	ps, err = PageServer("[::1]:27")
	if err != nil || ps == nil || ps.Address != "::1" || ps.Port != 27 {
		t.Fatalf("PageServer v6 = %v, %v", ps, err)
	}
	if ps, err := PageServer(""); ps != nil || err != nil {
		t.Errorf("PageServer(\"\") = %v, %v", ps, err)
	}
	for _, bad := range []string{"host", ":1", "h:", "h:0", "h:x", "h:70000"} {
		if _, err := PageServer(bad); err == nil {
			t.Errorf("PageServer(%q): no error", bad)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := []Opts{
		{StatusFd: -1},
		{StatusFd: -1, PreDump: true},
		{StatusFd: 3, LazyPages: true},
		{StatusFd: -1, LeaveRunning: true, ManageCgroupsMode: "full", EmptyNs: []string{"network"}},
	}
	for _, o := range ok {
		if err := o.Validate(false); err != nil {
			t.Errorf("Validate(%+v): %v", o, err)
		}
	}
	bad := map[string]Opts{
		"always leaves":      {StatusFd: -1, PreDump: true, LeaveRunning: true},
		"cannot be combined": {StatusFd: -1, PreDump: true, LazyPages: true},
		"--status-fd":        {StatusFd: 4},
		"--page-server":      {StatusFd: -1, PageServer: "nope"},
		"manage-cgroups":     {StatusFd: -1, ManageCgroupsMode: "x"},
		"--empty-ns":         {StatusFd: -1, EmptyNs: []string{"uts"}},
	}
	for want, o := range bad {
		err := o.Validate(false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, want %q", o, err, want)
		}
	}
	// restore does not look at checkpoint's options
	if err := (&Opts{StatusFd: 4, PageServer: "nope"}).Validate(true); err != nil {
		t.Errorf("Validate(restore): %v", err)
	}
}

func TestToRPC(t *testing.T) {
	o := &Opts{
		TCPEstablished: true, ExtUnixSk: true, ShellJob: true, FileLocks: true,
		LazyPages: true, AutoDedup: true, ManageCgroupsMode: "strict", StatusFd: -1,
	}
	r, err := o.ToRPC()
	if err != nil {
		t.Fatal(err)
	}
	if !on(r.TCPEstablished) || !on(r.ExtUnixSk) || !on(r.ShellJob) || !on(r.FileLocks) ||
		!on(r.LazyPages) || !on(r.AutoDedup) || !on(r.OrphanPtsMaster) || !on(r.NotifyScripts) ||
		!on(r.ManageCgroups) || r.ManageCgroupsMode == nil || *r.ManageCgroupsMode != rpc.CgStrict ||
		r.EmptyNs == nil || *r.EmptyNs != unix.CLONE_NEWNET || r.LogLevel == nil || *r.LogLevel != 4 {
		t.Errorf("ToRPC = %v", r)
	}
	if r.LeaveRunning != nil || r.RstSibling != nil || r.TrackMem != nil {
		t.Errorf("ToRPC set dump or restore options: %v", r)
	}

	if r.TCPSkipInFlight != nil || r.LinkRemap != nil {
		t.Errorf("ToRPC set checkpoint's options: %v", r)
	}

	d := &Opts{LeaveRunning: true, PageServer: "h:1", ParentPath: "../pre", StatusFd: -1, TCPSkipInFlight: true, LinkRemap: true}
	r, _ = d.ToRPC()
	if err := d.DumpRPC(r); err != nil {
		t.Fatal(err)
	}
	if !on(r.LeaveRunning) || r.Ps == nil || r.Ps.Address != "h" || r.ParentImg == nil || *r.ParentImg != "../pre" || !on(r.TrackMem) ||
		!on(r.TCPSkipInFlight) || !on(r.LinkRemap) {
		t.Errorf("DumpRPC = %v", r)
	}
	// Sent as false when not asked for, as runc sends them.
	r, _ = (&Opts{StatusFd: -1}).ToRPC()
	if err := (&Opts{StatusFd: -1}).DumpRPC(r); err != nil {
		t.Fatal(err)
	}
	if r.TCPSkipInFlight == nil || *r.TCPSkipInFlight || r.LinkRemap == nil || *r.LinkRemap {
		t.Errorf("DumpRPC without the flags = %v", r)
	}

	rs := &Opts{LsmProfile: "apparmor:x", LsmMountContext: "ctx"}
	r, _ = rs.ToRPC()
	rs.RestoreRPC(r)
	if !on(r.RstSibling) || !on(r.EvasiveDevices) || r.LsmProfile == nil || *r.LsmProfile != "apparmor:x" ||
		r.LsmMountContext == nil || *r.LsmMountContext != "ctx" {
		t.Errorf("RestoreRPC = %v", r)
	}
	r, _ = (&Opts{}).ToRPC()
	(&Opts{}).RestoreRPC(r)
	if r.LsmProfile != nil || r.LsmMountContext != nil {
		t.Errorf("RestoreRPC set empty LSM options: %v", r)
	}
}

// on reports an optional bool sent as true.
func on(p *bool) bool { return p != nil && *p }

func TestNeededFeatures(t *testing.T) {
	if f := (&Opts{}).NeededFeatures(); f != nil {
		t.Errorf("no options need %v", f)
	}
	f := (&Opts{PreDump: true, LazyPages: true}).NeededFeatures()
	if !f.GetMemTrack() || !f.GetLazyPages() {
		t.Errorf("NeededFeatures = %v", f)
	}
	if f := (&Opts{ParentPath: "p"}).NeededFeatures(); !f.GetMemTrack() {
		t.Errorf("--parent-path needs memory tracking: %v", f)
	}
	miss := Missing(f, &rpc.Features{MemTrack: new(false), LazyPages: new(true)})
	if len(miss) != 1 || !strings.Contains(miss[0], "soft-dirty") {
		t.Errorf("Missing = %q", miss)
	}
}

func TestErrorText(t *testing.T) {
	m := "(00.043486) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted\n" +
		"(00.05) Error (criu/cr-dump.c:1): A session leader of 5(1) is outside of its pid namespace\nDumping FAILED."
	if got, want := cleanErrmsg(m), "A session leader of 5(1) is outside of its pid namespace; Dumping FAILED."; got != want {
		t.Errorf("cleanErrmsg = %q, want %q", got, want)
	}
	out := "Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.\n" +
		"Error (criu/crtools.c:260): Could not initialize kernel features detection.\n"
	if got := checkErrors(out, "x"); got != "kerndat_vdso_fill_symtable failed when initializing kerndat.; Could not initialize kernel features detection." {
		t.Errorf("checkErrors = %q", got)
	}
	if got := checkErrors("", "exit status 1"); got != "exit status 1" {
		t.Errorf("checkErrors(empty) = %q", got)
	}
}
