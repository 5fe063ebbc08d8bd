package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/dinit"
	"github.com/berth-runtime/berth/libcontainer/exeseal"
	"github.com/berth-runtime/berth/libcontainer/netdev"
	"github.com/berth-runtime/berth/libcontainer/nsenter"
	"github.com/berth-runtime/berth/libcontainer/rootfs"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// launch describes one container process to start: init or exec.
type launch struct {
	// Spec is the container's config; Process the process to run.
	Spec *specs.Spec
	// InitPid is the running init to join (exec); 0 for a new container.
	InitPid int
	// Stdio for the new process.
	Stdin, Stdout, Stderr *os.File
	// ExtraFiles are passed at fds 3.. before berth's own (preserve-fds).
	ExtraFiles []*os.File
	// Fifo is an O_PATH handle of a fifo the process reopens to wait for
	// its go-ahead: the state directory's exec.fifo, for a created init's
	// start, or exec's --exec-wait-fifo.
	Fifo *os.File
	// Console is the unix socket connection the pty master is sent to.
	Console *os.File
	// CgroupFD, when >= 0, makes clone3 start the process in that cgroup.
	CgroupFD int
	// Seal is berth's binary being sealed in the background
	// (startSealing); startProcess waits for it and takes it.
	Seal sealing
	// NetNSAhead: the runtime makes the new network namespace itself
	// (netnsAhead), so the clone leaves it out.
	NetNSAhead bool
	// OOMScoreAdj is the process's oomScoreAdj, set as it starts
	// (setOOMScoreAdj).
	OOMScoreAdj *int
	// Direct is the program of a direct exec (directexec.go), or of a
	// direct init (InitPid 0, directinit.go): the process runs it instead
	// of starting Go, and no sync socket is made. Too large for one
	// request, the Go process is started.
	Direct *nsenter.ExecProgram
}

// sealing is what a container process is started from, never the host's
// berth file (CVE-2019-5736), made in the background while the caller
// does other work: Create and Exec start it first thing, before they load
// the bundle or the container, validate and lock, and take it when they
// start the process. It is started before other background work: a
// goroutine runs when a thread wakes up and takes it, and one busy with
// other work (signal registration) leaves it waiting.
//
// It is berth-dinit in a sealed memfd (package dinit) when berth carries
// it: most processes are direct and run it. A process that needs Go gets
// berth's own binary sealed (exeseal.Open: a few mount calls, or a copy)
// when it starts, and so does every process of a berth without it.
type sealing chan sealResult

type sealResult struct {
	// dinit is berth-dinit's memfd; exe is then nil until a process
	// needs berth's binary.
	dinit *os.File
	exe   *exeseal.Exe
	err   error
}

// startSealing starts sealing in the background.
func startSealing() sealing {
	s := make(sealing, 1)
	go func() {
		// A failed memfd leaves the seal of berth's binary, which every
		// process can run.
		f, err := dinit.Open()
		if err != nil {
			logrus.Debugf("berth-dinit: %v: processes start from berth's sealed binary", err)
		}
		if f != nil {
			s <- sealResult{dinit: f}
		} else {
			exe, err := exeseal.Open()
			s <- sealResult{exe: exe, err: err}
		}
		warmPidfd()
	}()
	return s
}

// warmPidfd has Go's os package check, now, whether pidfds work. It does
// so once per process, on its first start of a process, and the check
// clones a child that exits at once and waits for it: done here, in the
// background while the caller loads the bundle, and not between the
// runtime's set-up and its clone of the container's process. FindProcess
// is what runs the check without starting anything else; it opens a
// pidfd, which Release closes.
func warmPidfd() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Release()
	}
}

// wait returns the seal; it may be called once.
func (s sealing) wait() sealResult {
	return <-s
}

// sealOwner holds a sealing until a process is started with it (Take);
// Release, deferred, discards it otherwise. Create and Exec own the seal
// they are given this way, and so do the commands that start one early.
type sealOwner struct {
	seal  sealing
	taken bool
}

// ownSeal holds s, or a sealing started now when s is nil.
func ownSeal(s sealing) *sealOwner {
	if s == nil {
		s = startSealing()
	}
	return &sealOwner{seal: s}
}

// Take hands the seal on; Release then leaves it alone.
func (o *sealOwner) Take() sealing {
	o.taken = true
	return o.seal
}

// Release discards the seal unless it was taken.
func (o *sealOwner) Release() {
	if !o.taken {
		o.seal.Discard()
	}
}

// Discard releases a seal that will not be used (its caller failed
// before starting a process).
func (s sealing) Discard() {
	r := s.wait()
	if r.dinit != nil {
		r.dinit.Close()
	}
	if r.err == nil {
		r.exe.Close()
	}
}

// started is a launched process waiting for its config.
type started struct {
	pid int
	// cmd is set when pid is berth's direct child (no nsenter fork).
	cmd  *exec.Cmd
	conn *syncConn
	// direct is set for a direct exec, which has no conn.
	direct *nsenter.Direct
}

// kill ends a process that failed set-up and reaps it if it is ours.
func (s *started) kill() {
	if s.pid > 0 {
		unix.Kill(s.pid, unix.SIGKILL)
	}
	if s.cmd != nil {
		s.cmd.Wait()
	}
	if s.conn != nil {
		s.conn.Close()
	}
	if s.direct != nil {
		s.direct.Close()
	}
}

// startProcess re-executes berth as `berth init` so that it comes up in
// the container's namespaces. New namespaces only: one clone with
// Cloneflags (and uid/gid maps). Any namespace joined by path, a time
// namespace, and every exec go through the nsenter constructor, which
// must setns before the Go runtime starts threads. Either way the clone
// starts the process straight in the cgroup when a cgroup2 fd is given.
func startProcess(l *launch) (*started, error) {
	if l.Direct != nil {
		// Checked before anything (the seal) is taken: a program too
		// large for one request falls back to the Go exec process.
		req, _, err := namespaceRequest(l)
		if err != nil {
			return nil, err
		}
		var unshare uintptr
		if l.InitPid == 0 {
			// A direct init: cloned into its new namespaces; nsenter
			// joins those given by path (not a pid, mount, user or time
			// namespace: directInitBlocker) and hands it the program.
			unshare, req.Unshare = req.Unshare, 0
		}
		dr, err := nsenter.PrepareDirect(req, l.Direct)
		if err == nil {
			if l.InitPid == 0 {
				// A direct init's runtime sends the pty master itself
				// (directinit.go): the process has no console socket.
				l.Console = nil
			}
			return startDirect(l, dr, unshare)
		}
		if !errors.Is(err, nsenter.ErrProgramTooLarge) {
			return nil, err
		}
		l.Direct = nil
	}
	parentSock, childSock, err := socketpair()
	if err != nil {
		return nil, err
	}
	defer childSock.Close()
	cmd, sealed, err := initCmd(l, func(cmd *exec.Cmd, fdOf func(*os.File) string) {
		cmd.Env = append(cmd.Env, envSyncFd+"="+fdOf(childSock))
	})
	if err != nil {
		parentSock.Close()
		return nil, err
	}
	defer sealed.Close()
	req, useNsenter, err := namespaceRequest(l)
	if err != nil {
		parentSock.Close()
		return nil, err
	}
	s := &started{conn: newSyncConn(parentSock)}
	if useNsenter {
		pid, forked, err := nsenter.Start(cmd, req)
		if err != nil {
			parentSock.Close()
			return nil, err
		}
		s.pid = pid
		if !forked {
			s.cmd = cmd
		}
		return s, nil
	}
	cmd.SysProcAttr.Cloneflags = req.Unshare
	if req.Unshare&unix.CLONE_NEWUSER != 0 {
		cmd.SysProcAttr.UidMappings = sysMaps(l.Spec.Linux.UIDMappings)
		cmd.SysProcAttr.GidMappings = sysMaps(l.Spec.Linux.GIDMappings)
		cmd.SysProcAttr.GidMappingsEnableSetgroups = true
		// Host root is not mapped in the new namespace: init must become
		// its root before execve, or it loses every capability there.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	if err := cmd.Start(); err != nil {
		parentSock.Close()
		return nil, fmt.Errorf("start init process: %w", err)
	}
	s.pid = cmd.Process.Pid
	s.cmd = cmd
	if err := setOOMScoreAdj(s.pid, l.OOMScoreAdj); err != nil {
		s.kill()
		return nil, err
	}
	return s, nil
}

// startDirect starts a direct exec (req, from l.Direct): the sealed binary
// through nsenter, which joins the namespaces and runs the program.
func startDirect(l *launch, req *nsenter.DirectRequest, cloneflags uintptr) (*started, error) {
	cmd, sealed, err := initCmd(l, nil)
	if err != nil {
		return nil, err
	}
	defer sealed.Close()
	cmd.SysProcAttr.Cloneflags = cloneflags
	d, err := nsenter.StartDirect(cmd, req)
	if err != nil {
		return nil, err
	}
	s := &started{pid: d.Pid, direct: d}
	if !d.Forked {
		s.cmd = cmd
	}
	return s, nil
}

// initCmd builds the command of `berth init` for l, from the sealed
// binary (berth-dinit for a direct process), with its descriptors (own
// adds the caller's before the rest). The caller closes the returned
// handle on the binary once the process has exec'd.
func initCmd(l *launch, own func(*exec.Cmd, func(*os.File) string)) (*exec.Cmd, io.Closer, error) {
	cmd := &exec.Cmd{
		Args:   []string{"berth", "init"},
		Stdin:  l.Stdin,
		Stdout: l.Stdout,
		Stderr: l.Stderr,
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, l.ExtraFiles...)
	fdOf := func(f *os.File) string {
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
		return strconv.Itoa(2 + len(cmd.ExtraFiles))
	}
	sealed, err := initExecutable(cmd, fdOf, l.Seal, l.Direct != nil)
	if err != nil {
		return nil, nil, err
	}
	// One P from the start (read before init's scheduler starts): its Go
	// runtime then starts no extra thread for goroutines that wake while
	// another runs (a created init has 4 threads instead of 5, and a
	// thread's stack and page faults less). runtime.GOMAXPROCS(1) in code
	// comes after the threads exist and costs more faults than it saves,
	// so the runtime side keeps the default.
	cmd.Env = append(cmd.Env, "GOMAXPROCS=1")
	if own != nil {
		own(cmd, fdOf)
	}
	if l.Fifo != nil {
		cmd.Env = append(cmd.Env, envFifoFd+"="+fdOf(l.Fifo))
	}
	if l.Console != nil {
		cmd.Env = append(cmd.Env, envConsoleFd+"="+fdOf(l.Console))
	}
	// Until init reports ready it must not outlive a runtime that died.
	// A container's init leads its own session, as runc's does (nsexec's
	// setsid): CRIU refuses to checkpoint a tree whose session leader is
	// outside it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: unix.SIGKILL, Setsid: l.InitPid == 0}
	// Into the cgroup on either path: nsenter's clone of this process is
	// cmd's, and its fork inherits the cgroup.
	if l.CgroupFD >= 0 {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = l.CgroupFD
	}
	// Descriptors berth inherited without close-on-exec (a caller's
	// leak) must not reach the container process: only stdio, the
	// preserved ones and berth's own handles below are passed.
	if err := utils.CloseExecFrom(3 + len(l.ExtraFiles)); err != nil {
		sealed.Close()
		return nil, nil, err
	}
	return cmd, sealed, nil
}

// setOOMScoreAdj writes the oomScoreAdj of a process started by clone,
// before it is sent its config: as runc, the value is set from outside
// the container's namespaces, where the kernel sees the caller's
// CAP_SYS_RESOURCE (lowering it needs that; inside a user namespace init
// would not have it). A process started through nsenter writes its own,
// first thing (nsenter.Request.OOMScoreAdj): a rootless caller may not
// write a non-dumpable process's file, and nsenter's is not dumpable
// once it has read its request. Only root (or a caller with the
// capabilities) starts a process by clone.
func setOOMScoreAdj(pid int, v *int) error {
	if v == nil {
		return nil
	}
	path := "/proc/" + strconv.Itoa(pid) + "/oom_score_adj"
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("set oom_score_adj to %d: %w", *v, err)
	}
	if err := utils.WriteProcFile(f, strconv.Itoa(*v)); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the caller knows no pid: the errno says it all
		}
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
			return fmt.Errorf("set oom_score_adj to %d: %w (lowering it needs CAP_SYS_RESOURCE)", *v, err)
		}
		return fmt.Errorf("set oom_score_adj to %d: %w", *v, err)
	}
	return nil
}

// preservedFiles returns descriptors 3 to 3+n-1 for --preserve-fds, each
// at its own number. Only what the caller passed may go to the container:
// a number the caller left closed, or one berth opened itself (close-on-
// exec: every descriptor berth opens is, so it cannot have come from the
// caller), is nil, which the process gets closed. Passing it would hand
// the container one of berth's own (a host cgroup file, a state
// directory), as runc does; refusing it would fail a command runc and
// crun run (crun leaves such a number closed, as here).
func preservedFiles(n int) []*os.File {
	files := make([]*os.File, n)
	for i := range files {
		fd := 3 + i
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			continue
		}
		files[i] = os.NewFile(uintptr(fd), "preserved")
	}
	return files
}

func sysMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, 0, len(m))
	for _, e := range m {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
	}
	return out
}

// openCgroupTasks opens the "tasks" file of each cgroup v1 directory for
// the container process to join itself. They are opened here, by the
// runtime: the process may already be in the container's mount and user
// namespaces, where the host's cgroup tree is out of sight and out of
// reach; the kernel checks a cgroup v1 migration against the opener.
// They are bare fds, only passed on: an *os.File would register each
// with Go's poller and make it non-blocking, and blocking again to hand
// it over.
func openCgroupTasks(dirs []string) ([]int, error) {
	fds := make([]int, 0, len(dirs))
	for _, dir := range dirs {
		path := dir + "/tasks"
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			closeFds(fds)
			return nil, fmt.Errorf("open cgroup %s: %w", dir, &os.PathError{Op: "open", Path: path, Err: err})
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// namespaceRequest works out which namespaces the process creates and
// joins, and whether that needs the nsenter constructor. The cgroup
// namespace is always unshared later by init itself, once it is inside
// its cgroup, so that the namespace is rooted there.
func namespaceRequest(l *launch) (*nsenter.Request, bool, error) {
	req := &nsenter.Request{OOMScoreAdj: l.OOMScoreAdj}
	if l.InitPid > 0 {
		// exec: join every namespace the container's init has, that
		// differs from ours.
		for _, t := range configs.AllNamespaceTypes() {
			if !configs.HasNamespace(l.Spec, t) {
				continue
			}
			name := configs.NamespaceProcName(t)
			req.Join = append(req.Join, nsenter.Join{Type: name, Path: fmt.Sprintf("/proc/%d/ns/%s", l.InitPid, name)})
		}
		return req, true, nil
	}
	needNsenter := false
	for _, ns := range l.Spec.Linux.Namespaces {
		flag, err := configs.NamespaceFlag(ns.Type)
		if err != nil {
			return nil, false, err
		}
		switch {
		case ns.Path != "":
			req.Join = append(req.Join, nsenter.Join{Type: configs.NamespaceProcName(ns.Type), Path: ns.Path})
			needNsenter = true
		case flag == unix.CLONE_NEWCGROUP:
		case flag == unix.CLONE_NEWNET && l.NetNSAhead:
		case flag == unix.CLONE_NEWTIME:
			req.Unshare |= flag
			needNsenter = true
		default:
			req.Unshare |= flag
		}
	}
	if req.Unshare&unix.CLONE_NEWUSER != 0 && (!rootMapped(l.Spec.Linux) || rootlessMaps()) {
		// Without a root to become, init keeps its capabilities only
		// by not calling execve after the unshare: nsenter does that.
		// It also writes the maps of an unprivileged caller (see
		// rootlessMaps).
		needNsenter = true
	}
	if stackRootClone(l.Spec, req) {
		req.StackRoot = true
		needNsenter = true
	}
	if needNsenter {
		req.UIDMappings = l.Spec.Linux.UIDMappings
		req.GIDMappings = l.Spec.Linux.GIDMappings
		req.TimeOffsets = l.Spec.Linux.TimeOffsets
	}
	return req, needNsenter, nil
}

// stackRootClone says whether init's clone of an initramfs root must be
// made by nsenter, before the user namespace (nsenter.c's
// stack_root_clone): for a new mount namespace in a user namespace, made
// or joined, so that the clone is locked in the container's namespace. A
// rootless caller cannot make the mount namespace that takes: the Go
// init makes the clone in the container's (rootfs.Prepare), unlocked,
// which shows the container no more of the host than its user sees.
func stackRootClone(spec *specs.Spec, req *nsenter.Request) bool {
	return req.Unshare&unix.CLONE_NEWNS != 0 && !rootlessMaps() &&
		configs.HasNamespace(spec, specs.UserNamespace) && rootfs.OnNamespaceRoot()
}

// netnsAhead says whether the container's new network namespace can be
// made by the runtime ahead of the clone, in the background: making one
// takes the kernel a while, which a clone with CLONE_NEWNET spends while
// the runtime waits for it (README, Speed). Only on the plain clone path (no namespace
// joined by path, no time namespace: those go through nsenter) and
// without a user namespace, which must own the network namespace and so
// must exist first.
func netnsAhead(spec *specs.Spec) bool {
	ns, ok := configs.FindNamespace(spec, specs.NetworkNamespace)
	if !ok || ns.Path != "" || configs.HasNamespace(spec, specs.UserNamespace) {
		return false
	}
	for _, n := range spec.Linux.Namespaces {
		if n.Path != "" || n.Type == specs.TimeNamespace {
			return false
		}
	}
	return true
}

// netNS is a network namespace being made in the background (newNetNS).
type netNS chan netNSResult

type netNSResult struct {
	fd  int
	err error
}

// newNetNS makes a network namespace on a thread of its own, in the
// background. The thread unshares it, keeps it as an fd, and joins its
// old one again, so that Go can use the thread for other goroutines (a
// thread is made anew for each otherwise). If it cannot go back, its
// goroutine ends locked and the thread ends with it: no thread of berth
// stays in the new namespace either way.
func newNetNS() netNS {
	ch := make(netNS, 1)
	go func() {
		runtime.LockOSThread()
		old, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- netNSResult{-1, fmt.Errorf("open network namespace: %w", err)}
			return
		}
		defer unix.Close(old)
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ch <- netNSResult{-1, fmt.Errorf("create network namespace: %w", err)}
			return
		}
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			err = fmt.Errorf("open new network namespace: %w", err)
		} else if err = netdev.LoopbackUp(); err != nil {
			unix.Close(fd)
			fd = -1
		}
		ch <- netNSResult{fd, err}
		if unix.Setns(old, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return ch
}

// wait returns the namespace's fd; it may be called once.
func (n netNS) wait() (int, error) {
	r := <-n
	return r.fd, r.err
}

func socketpair() (parent, child *os.File, err error) { return utils.NewSockPair("sync") }

// initExecutable sets cmd.Path to a sealed executable, never the host
// file (CVE-2019-5736): berth-dinit for a direct process when the seal
// holds it, berth's sealed binary otherwise. The handle is passed to the
// child as one of its ExtraFiles (fdOf) and executed as /proc/self/fd/N:
// an fd kept only in the parent could be overwritten by the child's own
// fd shuffling before execve. The child marks it close-on-exec with every
// other fd above stdio, so the container process never holds it.
func initExecutable(cmd *exec.Cmd, fdOf func(*os.File) string, seal sealing, direct bool) (io.Closer, error) {
	r := seal.wait()
	if r.err != nil {
		return nil, r.err
	}
	if r.dinit != nil && direct {
		execFd(cmd, fdOf(r.dinit))
		return r.dinit, nil
	}
	if r.dinit != nil {
		r.dinit.Close()
		exe, err := exeseal.Open()
		if err != nil {
			return nil, err
		}
		r.exe = exe
	}
	logSeal(r.exe) // debuglines.go
	if r.exe.File == nil {
		cmd.Path = "/proc/self/exe"
		return r.exe, nil
	}
	execFd(cmd, fdOf(r.exe.File))
	return r.exe, nil
}

// execFd makes cmd run the executable at the child's fd.
func execFd(cmd *exec.Cmd, fd string) {
	cmd.Path = "/proc/self/fd/" + fd
	// The child closes it first thing: once it runs, the kernel holds
	// its binary, and a handle on it in a container's process has no use.
	cmd.Env = append(cmd.Env, envExeFd+"="+fd)
}
