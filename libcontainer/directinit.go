package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"

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
//	cgroup-join/    placeInit (the cgroup made, the state saved), then the
//	cgroup-ready    placement's join, through directJoiner: JoinCgroups
//	                (it also unshares the cgroup namespace); all of it
//	                while the thread does the rootfs step (rootfsBuild)
//	rootfs          rootfs.Prepare on the thread, started right after
//	                config; proc and a cgroup namespace's cgroup2 through
//	                Mount; a "cgroup" mount waits for the join
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
	case rootfs.OnNamespaceRoot():
		return "an initramfs root (the chroot before pivot_root moves only the caller's root)"
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
		prog.Keyring = &nsenter.Keyring{
			Name:   sessionKeyring(o.ID),
			Search: keyringSearch(configs.HasNamespace(o.Spec, specs.UserNamespace)),
		}
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
		return &initSideError{errJoinCgroup(cj.Errno)} // a Go init's own join fails so
	}
	return directInitError(j.d, err)
}

// directInitError words what a direct init reported as the Go init's
// error for the same step would read, an error of init's own set-up
// (initSideError) as the Go init's is.
func directInitError(d *nsenter.Direct, err error) error {
	var f *nsenter.DirectFailure
	switch {
	case err == nil:
		return nil
	case errors.As(err, &f):
		err = directFailureError(d.Program(), f)
	case errors.Is(err, nsenter.ErrInitGone):
		err = errors.New("container init exited during set-up")
	}
	return &initSideError{err} // create.go
}

// runDirectInit is Create's set-up of a direct init, after startInit.
// The rootfs is built on its thread (rootfsBuild) while this goroutine
// places init (placeInit: the cgroup made, the state saved) and joins it
// to its cgroup: two cores work at once where the Go init's steps wait on
// each other. Only the cgroup mount waits for the cgroup
// (rootfs.Config.AwaitCgroup, AwaitCgroupJoin); the runtime's hooks,
// which must find init in its cgroup, run after both.
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
	if err := setUpNetNS(cr.o.Spec, cr.o.Rootless, aheadFd, pid); err != nil {
		return err
	}
	// rootfs, beside the cgroup
	b := cr.startRootfs(d)
	err = cr.placeInit()
	if err == nil {
		if cr.place.step() != stepCgroupReady {
			// The cgroup's directories exist now. When the runtime moves
			// init (cgroup-ready: systemd makes the scope with init in
			// it), they do only after the join.
			b.cgroupMade(cr.cfg)
		}
		// cgroup-join, cgroup-ready; the cgroup namespace
		j := directJoiner{d}
		if cr.place.step() == "" {
			err = j.join(nil)
		} else {
			err = cr.place.join(j, pid)
		}
	}
	b.cgroupJoined(cr.cfg, err)
	if err != nil {
		b.abandon()
		return err
	}
	cr.sigs.start()
	if err := b.finish(); err != nil {
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
	cr.orphansToHost()
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

// errCgroupAbandoned is what the rootfs thread's cgroup mount gets when
// the cgroup failed: the runtime reports the cgroup's own error.
var errCgroupAbandoned = errors.New("the container's cgroup failed")

// rootfsBuild is a direct init's rootfs under construction: the Go init's
// rootfs, pivot and finish steps, run by a goroutine of their own locked
// to a thread that joins init's namespaces (as an nsThread's, without the
// round trips of handing it jobs), while Create's goroutine places init.
// With the runtime's hooks, pivot and finish wait for them.
//
//	Create's goroutine             the build's goroutine, on its thread
//	-----------------------------  --------------------------------------
//	startRootfs               -->  join init's namespaces; rootfs.Prepare
//	placeInit                      (a "cgroup" mount: AwaitCgroup)
//	cgroupMade(cfg)           -->  binds the cgroup's directories
//	cgroup join                    (a cgroupns's cgroup2: AwaitCgroupJoin)
//	cgroupJoined(cfg, err)    -->  init mounts it; or either gives up
//	finish: (hooks) wait      <--  prepared
//	        hooks run         -->  hooksRan
//	        wait              <--  done: pivot, terminal, hostname, Finish
//
// Both goroutines may ask init for something at once (its mounts, its
// cgroup join): nsenter.Direct keeps each request with its answer.
type rootfsBuild struct {
	cr *creation
	d  *nsenter.Direct
	rc *rootfs.Config
	// hooks: pivot and finish wait for the runtime's hooks (prepared,
	// hooksRan).
	hooks    bool
	prepared chan struct{}
	hooksRan chan error
	// made is closed by cgroupMade (or cgroupJoined), joined by
	// cgroupJoined; madeErr and joinErr are set before them when the
	// cgroup failed.
	made, joined     chan struct{}
	madeOnce         sync.Once
	madeErr, joinErr error
	// done gets the build's outcome; peer is the pty peer it made (a
	// terminal), set before.
	done chan error
	peer *os.File
}

// startRootfs starts building init's rootfs, from the config alone: the
// cgroup's paths come with cgroupMade.
func (cr *creation) startRootfs(d *nsenter.Direct) *rootfsBuild {
	spec, bundle := cr.o.Spec, cr.o.Bundle
	b := &rootfsBuild{
		cr: cr, d: d,
		rc:       rootfsConfigOf(spec, cr.st.Rootfs, bundle, cr.o.NoPivot, configs.HasNamespace(spec, specs.UserNamespace)),
		hooks:    hasRuntimeHooks(spec),
		prepared: make(chan struct{}),
		hooksRan: make(chan error),
		made:     make(chan struct{}),
		joined:   make(chan struct{}),
		done:     make(chan error, 1),
	}
	b.rc.MountInNS = d.Mount
	if !configs.HasNamespace(spec, specs.UserNamespace) {
		// Its proc is mounted from here (rootfs.Config.ProcPidNS).
		if fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/pid", cr.proc.pid), unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			b.rc.ProcPidNS = os.NewFile(uintptr(fd), "pidns")
		}
	}
	b.rc.OpenSource = func(i int) (int, error) { return openMountSource(spec, bundle, i) }
	b.rc.AwaitCgroup = func() error {
		<-b.made
		return b.madeErr
	}
	b.rc.AwaitCgroupJoin = func() error {
		<-b.joined
		return b.joinErr
	}
	go func() {
		runtime.LockOSThread() // for good: the thread ends with the goroutine (see nsThread)
		err := b.build()
		if b.rc.ProcPidNS != nil {
			b.rc.ProcPidNS.Close()
		}
		b.done <- err
	}()
	return b
}

// build runs on the build's thread.
func (b *rootfsBuild) build() error {
	spec := b.cr.o.Spec
	if err := joinNamespacesOfHere(b.cr.proc.pid, func(t specs.LinuxNamespaceType) bool { return configs.HasNamespace(spec, t) }); err != nil {
		return err
	}
	if err := rootfs.Prepare(b.rc); err != nil {
		return err
	}
	if b.hooks {
		close(b.prepared)
		if err := <-b.hooksRan; err != nil {
			return err
		}
	}
	return b.pivot()
}

// cgroupMade tells the build that the cgroup's directories exist (cfg
// is init's config, with their paths).
func (b *rootfsBuild) cgroupMade(cfg *initConfig) {
	b.madeOnce.Do(func() {
		b.rc.CgroupPaths, b.rc.CgroupPath = cfg.CgroupPaths, cfg.CgroupPath
		close(b.made)
	})
}

// cgroupJoined tells the build that init is in its cgroup and namespace
// (err nil), or that the cgroup failed.
func (b *rootfsBuild) cgroupJoined(cfg *initConfig, err error) {
	if err != nil {
		b.joinErr = errCgroupAbandoned
		b.madeOnce.Do(func() {
			b.madeErr = errCgroupAbandoned
			close(b.made)
		})
	} else {
		b.cgroupMade(cfg)
	}
	close(b.joined)
}

// abandon waits for the build to stop after the cgroup failed: the
// caller kills init and undoes the rest once no thread works in its
// namespaces.
func (b *rootfsBuild) abandon() {
	b.wait(func() error { return errCgroupAbandoned })
}

// finish waits for the rootfs, with the runtime's hooks run between the
// mounts and pivot_root, in the runtime's own namespaces.
func (b *rootfsBuild) finish() error {
	hooksFailed := false
	err := b.wait(func() error {
		err := b.cr.runtimeHooks()
		hooksFailed = err != nil
		return err
	})
	if b.peer != nil {
		defer b.peer.Close()
		if err == nil {
			err = b.d.SetTerminal(int(b.peer.Fd()), b.peer.Name())
		}
	}
	if hooksFailed {
		return err // the runtime's own, as with a Go init
	}
	return directInitError(b.d, err)
}

// wait waits for the build's outcome. With the runtime's hooks, once the
// build has prepared, hooks runs and its error (which ends the build
// there) comes back as the outcome.
func (b *rootfsBuild) wait(hooks func() error) error {
	if b.hooks {
		select {
		case <-b.prepared:
			err := hooks()
			b.hooksRan <- err
			if err != nil {
				<-b.done
				return err
			}
		case err := <-b.done:
			return err
		}
	}
	return <-b.done
}

// pivot is the pivot and finish steps, on the build's thread.
func (b *rootfsBuild) pivot() error {
	cr, spec := b.cr, b.cr.o.Spec
	if err := rootfs.Pivot(b.rc); err != nil {
		return err
	}
	if proc := cr.initProcess(); proc.Terminal {
		var err error
		if b.peer, err = makeTerminal(cr.o.ConsoleSocket, proc, cr.o.RelayConsole, true); err != nil {
			return err
		}
	}
	if err := setupHostnameSysctl(spec); err != nil {
		return err
	}
	return rootfs.Finish(b.rc)
}

// nsThread is a locked OS thread that has joined a process's mount, UTS,
// IPC and network namespaces (or some of them), with a root and cwd of its
// own (it leaves CLONE_FS), and runs the functions it is given there: the
// Go init's mount sources are opened on one (mountsource.go). (A direct
// init's rootfs is built on a thread of the same kind, rootfsBuild's, which
// runs one goroutine's whole work instead of jobs.) Its goroutine never
// unlocks it: when close ends the goroutine, the thread ends too, and no
// other goroutine ever runs in those namespaces.
type nsThread struct {
	jobs    chan func() error
	results chan error
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
	err := joinNamespacesOfHere(pid, want)
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

// joinNamespacesOfHere is joinNamespacesOf on the calling goroutine's
// thread, locked to it for good: never the main thread, which Go parks
// instead of ending (main.go's init keeps the main goroutine there so
// that this never happens).
func joinNamespacesOfHere(pid int, want func(specs.LinuxNamespaceType) bool) error {
	if unix.Gettid() == unix.Getpid() {
		return errors.New("a thread joining a container's namespaces would be the main thread")
	}
	return joinNamespacesOf(pid, want)
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
