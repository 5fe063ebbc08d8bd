package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/hooks"
	"github.com/berth-runtime/berth/libcontainer/nsenter"
	"github.com/berth-runtime/berth/libcontainer/rootfs"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// A direct init is a new container's init in which no Go runtime starts.
// The runtime builds the container's rootfs itself, with the same rootfs
// code the Go init runs, on a locked thread of its own that has joined
// init's mount, UTS, IPC and network namespaces (nsThread); init, cloned
// into its new namespaces, runs the nsenter constructor's C program
// (nsenter/directinit.go has the protocol) and does only what that thread
// cannot: mounts that take their namespace from the mounting task (proc
// for its pid namespace, cgroup2 for its cgroup namespace), its cgroup
// join and cgroup namespace, and then what a direct exec does.
//
// The runtime's side, step for step as the Go init's plan (sync.go):
//
//	Go init's step  direct init
//	--------------  -----------------------------------------------------
//	config          JoinNetNS (a network namespace made ahead), netDevices
//	cgroup-join/    the placement's join, through directJoiner: JoinCgroups
//	cgroup-ready    (it also unshares the cgroup namespace)
//	rootfs          rootfs.Prepare on the thread; proc and a cgroup
//	                namespace's cgroup2 through Mount
//	hooks           prestart and createRuntime hooks, in the runtime
//	pivot, finish   rootfs.Pivot (which moves init's root too: same mount
//	                namespace), the terminal (makeTerminal; init takes its
//	                peer: SetTerminal), hostname, sysctls, rootfs.Finish on
//	                the thread; the thread ends
//	ready           GoInit: init finds its program, sets its rlimits
//	start           Start (run), or `berth start` opens exec.fifo
//	execve          Wait: EOF or a report, worded as the Go init's errors
//
// A terminal is made by the thread after pivot_root, in the container's
// devpts, and taken by init (SetTerminal) as its controlling terminal.
// What the thread or the program cannot express keeps the Go init
// (directInitBlocker says why): BERTH_GO_INIT=1 asks for it too.

// directInitBlocker returns why the container of o cannot have a direct
// init, or "" if it can.
func directInitBlocker(o *CreateOpts, debug bool) string {
	spec := o.Spec
	// A terminal is the runtime thread's to make (makeTerminal) and the
	// process's to take (SetTerminal), unlike an exec's.
	p := *spec.Process
	p.Terminal = false
	if why := directBlocker(spec, &p, debug); why != "" {
		return why
	}
	switch {
	case os.Getenv("BERTH_GO_INIT") == "1":
		return "BERTH_GO_INIT=1"
	case o.NoPivot:
		return "--no-pivot (chroot moves only the caller's root)"
	case o.Rootless:
		return "rootless"
	case len(hooks.List(spec.Hooks, hooks.CreateContainer))+len(hooks.List(spec.Hooks, hooks.StartContainer)) > 0:
		return "hooks that run in the container"
	case !hasProcAt(spec.Mounts, "/proc"):
		return "no proc mount at /proc"
	}
	for _, t := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.MountNamespace} {
		if ns, ok := configs.FindNamespace(spec, t); !ok || ns.Path != "" {
			return "no new " + string(t) + " namespace"
		}
	}
	// A pod's containers join its sandbox's network, IPC and UTS (and
	// maybe cgroup) namespaces by path: nsenter joins those before the
	// program runs, in the new mount and pid namespaces the clone made.
	if configs.HasNamespace(spec, specs.TimeNamespace) {
		return "a time namespace"
	}
	return ""
}

func hasProcAt(mounts []specs.Mount, dest string) bool {
	for _, m := range mounts {
		if m.Type == "proc" && m.Destination == dest {
			return true
		}
	}
	return false
}

// directInitProgram compiles o's init into a direct init's program; nil
// when it keeps the Go init.
func directInitProgram(o *CreateOpts, proc *specs.Process, debug bool) (*nsenter.ExecProgram, error) {
	if directInitBlocker(o, debug) != "" {
		return nil, nil
	}
	prog, err := compileProgram(o.Spec, proc, o.PreserveFds)
	if prog == nil || err != nil {
		return nil, err
	}
	in := &nsenter.InitOptions{Fifo: !o.StartNow}
	if ns, ok := configs.FindNamespace(o.Spec, specs.CgroupNamespace); ok && ns.Path == "" {
		in.CgroupNS = true
	}
	if !o.NoNewKeyring {
		in.Keyring = "_ses." + o.ID
	}
	prog.Init = in
	return prog, nil
}

// directJoiner is a direct init's end of the cgroup step.
type directJoiner struct{ d *nsenter.Direct }

func (j directJoiner) sendCgroupJoin(tasks []int) error { return j.join(tasks) }
func (j directJoiner) sendCgroupReady() error           { return j.join(nil) }
func (j directJoiner) failure(err error) error          { return err }

func (j directJoiner) join(tasks []int) error {
	err := j.d.JoinCgroups(tasks)
	var cj *nsenter.CgroupJoinError
	if errors.As(err, &cj) && !cj.Unshare {
		return errJoinCgroup(cj.Errno)
	}
	return directInitError(j.d, err)
}

// directInitError words what a direct init reported as the Go init's
// error for the same step would read.
func directInitError(d *nsenter.Direct, err error) error {
	var f *nsenter.DirectFailure
	switch {
	case errors.As(err, &f):
		return directFailureError(d.Program(), f)
	case errors.Is(err, nsenter.ErrInitGone):
		return errors.New("container init exited during set-up")
	}
	return err
}

// runDirectInit is Create's set-up of a direct init, after startInit.
func (cr *creation) runDirectInit() error {
	d, pid := cr.proc.direct, cr.proc.pid
	// config
	aheadFd, err := cr.takeNetNS()
	if err != nil {
		return err
	}
	if aheadFd >= 0 {
		defer unix.Close(aheadFd)
		if err := d.JoinNetNS(aheadFd); err != nil {
			return directInitError(d, err)
		}
	}
	if err := moveNetDevices(cr.o.Spec, cr.o.Rootless, aheadFd, pid); err != nil {
		return err
	}
	// cgroup-join, cgroup-ready; the cgroup namespace
	j := directJoiner{d}
	if cr.place.step() == "" {
		if err := j.join(nil); err != nil {
			return err
		}
	} else if err := cr.place.join(j, pid); err != nil {
		return err
	}
	cr.sigs.start()
	if err := cr.buildRootfs(d); err != nil {
		return err
	}
	// ready
	if err := d.GoInit(); err != nil {
		return directInitError(d, err)
	}
	cr.st.Status = Created
	cr.st.CreatorPid, cr.st.CreatorStartTime = 0, 0
	if !cr.o.StartNow {
		return cr.record() // `berth start` takes it from here
	}
	// start, execve
	cr.sigs.wait()
	if cr.o.BeforeStart != nil {
		if err := cr.o.BeforeStart(); err != nil {
			return err
		}
	}
	if err := d.Start(); err != nil {
		return directInitError(d, err)
	}
	cr.st.Status = Running
	if err := cr.record(); err != nil {
		return err
	}
	if err := d.Wait(); err != nil {
		var f *nsenter.DirectFailure
		shown := errors.As(err, &f) && f.Kind == nsenter.DirectExec
		err = directInitError(d, err)
		if shown {
			// init wrote it to the process's stderr, as the Go init does.
			err = &utils.ChildError{Msg: err.Error(), Shown: true}
		}
		return fmt.Errorf("start container: %w", err)
	}
	return nil
}

// directInitFailure words what a direct init wrote to exec.fifo after
// its start (nsenter.FifoFailure) with the program compiled again from
// the saved config; ok is false when data is no such report.
func (c *Container) directInitFailure(data []byte) (err error, ok bool) {
	f, ok := nsenter.FifoFailure(data)
	if !ok {
		return nil, false
	}
	spec, err := c.state.FullSpec()
	if err != nil {
		return f, true
	}
	// --preserve-fds is not saved: it only words a close-exec failure.
	prog, _ := compileProgram(spec, spec.Process, 0)
	if prog == nil {
		return f, true
	}
	return directFailureError(prog, f), true
}

// buildRootfs runs the Go init's rootfs, hooks, pivot and finish steps
// on a thread in init's namespaces.
func (cr *creation) buildRootfs(d *nsenter.Direct) error {
	t, err := startNSThread(cr.proc.pid, cr.o.Spec)
	if err != nil {
		return err
	}
	defer t.close()
	rc := rootfsConfig(cr.cfg)
	rc.MountInNS = d.Mount
	spec, bundle := cr.o.Spec, cr.o.Bundle
	rc.OpenSource = func(i int) (int, error) { return openMountSource(spec, bundle, i) }
	proc := cr.initProcess()
	var peer *os.File
	pivot := func() error {
		if err := rootfs.Pivot(rc); err != nil {
			return err
		}
		if proc.Terminal {
			var err error
			if peer, err = makeTerminal(cr.o.ConsoleSocket, proc, cr.cfg.ClearONLCR, true); err != nil {
				return err
			}
		}
		if err := setupHostnameSysctl(spec); err != nil {
			return err
		}
		return rootfs.Finish(rc)
	}
	if has(cr.cfg.Steps, stepHooks) {
		// The runtime's hooks run between the mounts and pivot_root, in
		// the runtime's own namespaces.
		if err := t.do(func() error { return rootfs.Prepare(rc) }); err != nil {
			return directInitError(d, err)
		}
		if err := cr.runtimeHooks(); err != nil {
			return err
		}
		err = t.do(pivot)
	} else {
		// One round trip to the thread: each wait of the main goroutine
		// on it hands the P through a third thread (both are locked).
		err = t.do(func() error {
			if err := rootfs.Prepare(rc); err != nil {
				return err
			}
			return pivot()
		})
	}
	if peer != nil {
		defer peer.Close()
		if err == nil {
			err = d.SetTerminal(int(peer.Fd()), peer.Name())
		}
	}
	return directInitError(d, err)
}

// nsThread is a locked OS thread that has joined a process's mount, UTS,
// IPC and network namespaces (or some of them), with a root and cwd of its
// own (it leaves CLONE_FS), and runs the functions it is given there. The
// direct init's rootfs is built on one; the Go init's mount sources are
// opened on one (mountsource.go). Its goroutine never unlocks it: when
// close ends the goroutine, the thread ends too, and no other goroutine
// ever runs in those namespaces.
type nsThread struct {
	jobs    chan func() error
	results chan error
}

// startNSThread starts a thread in the namespaces of process pid that
// spec makes new (of mount, UTS, IPC and network).
func startNSThread(pid int, spec *specs.Spec) (*nsThread, error) {
	return startNSThreadIn(pid, func(t specs.LinuxNamespaceType) bool { return configs.HasNamespace(spec, t) })
}

// startNSThreadIn starts a thread in process pid's namespaces, of mount,
// UTS, IPC and network, for which want says yes.
func startNSThreadIn(pid int, want func(specs.LinuxNamespaceType) bool) (*nsThread, error) {
	t := &nsThread{jobs: make(chan func() error), results: make(chan error)}
	go t.loop(pid, want)
	if err := <-t.results; err != nil {
		return nil, err
	}
	return t, nil
}

func (t *nsThread) loop(pid int, want func(specs.LinuxNamespaceType) bool) {
	runtime.LockOSThread() // for good: see nsThread
	var err error
	if unix.Gettid() == unix.Getpid() {
		// Go parks the main thread instead of ending it (main.go's init
		// keeps the main goroutine there so that this never happens).
		err = errors.New("a thread joining a container's namespaces would be the main thread")
	} else {
		err = joinNamespacesOf(pid, want)
	}
	t.results <- err
	if err != nil {
		return
	}
	for f := range t.jobs {
		t.results <- f()
	}
}

// do runs f on the thread.
func (t *nsThread) do(f func() error) error {
	t.jobs <- f
	return <-t.results
}

// close ends the thread.
func (t *nsThread) close() {
	if t.jobs != nil {
		close(t.jobs)
		t.jobs = nil
	}
}

// joinNamespacesOf moves the calling thread into process pid's
// namespaces, of mount, UTS, IPC and network, for which want says yes.
// Every file is opened before the first setns; the mount namespace comes
// last.
func joinNamespacesOf(pid int, want func(specs.LinuxNamespaceType) bool) error {
	type join struct {
		fd   int
		flag int
		name string
	}
	var joins []join
	defer func() {
		for _, j := range joins {
			unix.Close(j.fd)
		}
	}()
	for _, t := range []specs.LinuxNamespaceType{specs.UTSNamespace, specs.IPCNamespace, specs.NetworkNamespace, specs.MountNamespace} {
		if !want(t) {
			continue
		}
		name := configs.NamespaceProcName(t)
		flag, err := configs.NamespaceFlag(t)
		if err != nil {
			return err
		}
		path := "/proc/" + strconv.Itoa(pid) + "/ns/" + name
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
		joins = append(joins, join{fd, int(flag), path})
	}
	// A mount namespace may be joined only by a thread whose root and cwd
	// are its own.
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare CLONE_FS: %w", err)
	}
	// The Go init's umask (Init), so that devices and mount points get
	// the same modes. The umask is the fs_struct's, now this thread's.
	unix.Umask(0)
	for _, j := range joins {
		if err := unix.Setns(j.fd, j.flag); err != nil {
			return fmt.Errorf("setns %s: %w", j.name, err)
		}
	}
	return nil
}
