package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/caps"
	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/console"
	"github.com/berth-runtime/berth/libcontainer/hooks"
	"github.com/berth-runtime/berth/libcontainer/lsm"
	"github.com/berth-runtime/berth/libcontainer/procattr"
	"github.com/berth-runtime/berth/libcontainer/rootfs"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// Init is the container side: `berth init`, re-executed by the runtime
// inside the new namespaces. It never returns on success (it execve's the
// container's process); on failure it reports the error to the runtime
// and returns it.
func Init() error {
	// Namespaces, credentials and capabilities below are per thread; the
	// thread doing the set-up must be the one that execve's.
	runtime.LockOSThread()
	// Not dumpable on every path (nsenter's joins make it so already):
	// until execve, no process of the container may ptrace init or open
	// its /proc/PID/fd, which hold what it was handed by the runtime.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("berth init: set non-dumpable: %w", err)
	}
	// Nothing may be made readable to other users of the container before
	// its process sets its own umask.
	unix.Umask(0)
	// The binary init was started from: the kernel holds it now.
	if fd, err := fdFromEnv(envExeFd); err == nil {
		unix.Close(fd)
	}

	syncFd, err := fdFromEnv(envSyncFd)
	if err != nil {
		return err
	}
	// Inherited without close-on-exec: no hook init runs may hold it,
	// or the runtime would wait for its EOF for as long as the hook lives.
	unix.CloseOnExec(syncFd)
	conn := newSyncConn(os.NewFile(uintptr(syncFd), "sync"))
	err = initContainer(conn)
	// Only reached on failure.
	conn.sendError(err)
	return err
}

func fdFromEnv(name string) (int, error) {
	v := os.Getenv(name)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return -1, fmt.Errorf("berth init: %s=%q is not a descriptor: init must be started by berth", name, v)
	}
	return fd, nil
}

// processSide is the container process's side of its set-up: it walks
// the steps the runtime planned (initConfig.Steps, sync.go), one call per
// step. A container's init and an exec process take different steps
// (rootfs, pivot and finish; enter) and share the rest.
type processSide struct {
	end *processEnd
	cfg *initConfig
	// rcfg is the rootfs set-up's config (init).
	rcfg *rootfs.Config
	// ex and caps are the process to execve and its capabilities,
	// resolved before "ready" so that a missing program fails create.
	ex   *execTarget
	caps *caps.Caps
	// seccomp is the filter finalizeAndExec loads, compiled before the
	// rlimits go in (see seccomp.Filter): nil once a notify filter was
	// loaded for the seccomp-fd step.
	seccomp *seccomp.Filter
	// attrsApplied: procattr's process attributes are in force.
	attrsApplied bool
	// fifo is exec.fifo once `berth start` opened it (start-fifo): the
	// outcome of execve goes there instead of the sync socket.
	fifo *os.File
	// waited: past exec-wait-fifo, with the sync socket closed: an error
	// of execve goes to the process's stderr.
	waited bool
}

func initContainer(conn *syncConn) error {
	p := &processSide{end: &processEnd{syncConn: conn}}
	if err := p.config(); err != nil {
		return err
	}
	for _, s := range p.cfg.Steps {
		if err := p.step(s); err != nil {
			if p.waited {
				failAfterWait(err)
			}
			return err
		}
	}
	return errors.New("the set-up plan ends without execve")
}

// role names the process in its debug lines.
func (p *processSide) role() string {
	if p.cfg != nil && p.cfg.Exec {
		return "exec process"
	}
	return "init"
}

// step is the process's side of one step (sync.go).
func (p *processSide) step(s step) error {
	p.end.logf("%s: step %s", p.role(), s)
	switch s {
	case stepConfig:
		return nil // received first: it holds the plan
	case stepCgroupJoin:
		return p.joinCgroups()
	case stepRootfs:
		return p.prepareRootfs()
	case stepCgroupReady:
		return p.cgroupReady()
	case stepHooks:
		return p.end.hooks()
	case stepPivot:
		return p.pivot()
	case stepFinish:
		return p.finish()
	case stepEnter:
		return p.enter()
	case stepSeccompFd:
		return p.seccompFd()
	case stepReady:
		return p.ready()
	case stepStart:
		return p.end.awaitStart()
	case stepStartFifo:
		return p.awaitStartFifo()
	case stepExecWait:
		return p.awaitExecWait()
	case stepExecve:
		return p.execve()
	}
	return fmt.Errorf("unknown set-up step %q", s)
}

// config: the config step. The process joins the network namespace that
// came with it, checks the LSM it asks for and becomes root of its user
// namespace.
func (p *processSide) config() error {
	cfg, fds, err := p.end.recvConfig()
	if err != nil {
		return err
	}
	p.cfg = cfg
	p.end.debug = cfg.Debug
	if cfg.Spec == nil || cfg.Spec.Linux == nil {
		closeFds(fds)
		return errors.New("config message without spec")
	}
	if cfg.Process == nil {
		cfg.Process = cfg.Spec.Process // a container's init: not sent twice
	}
	if cfg.Process == nil {
		closeFds(fds)
		return errors.New("config message without process")
	}
	p.logSetUp() // debuglines.go
	if err := joinNetNS(fds, cfg.JoinNetNS); err != nil {
		return err
	}
	// An LSM asked for on a host without it fails create, before any set-up.
	if err := lsm.RequestOf(cfg.Spec, cfg.Process).Check(lsm.Detect()); err != nil {
		return err
	}
	if cfg.UserNS {
		if err := becomeNamespaceRoot(cfg.Process.User); err != nil {
			return err
		}
	}
	if !has(cfg.Steps, stepCgroupJoin) && !has(cfg.Steps, stepCgroupReady) {
		// Born in its cgroup (CLONE_INTO_CGROUP).
		return enterCgroupNS(cfg)
	}
	return nil
}

// joinCgroups: the cgroup-join step.
func (p *processSide) joinCgroups() error {
	fds, err := p.end.recvCgroupJoin()
	if err != nil {
		return err
	}
	if err := joinCgroups(fds); err != nil {
		return err
	}
	return enterCgroupNS(p.cfg)
}

// cgroupReady: the cgroup-ready step.
func (p *processSide) cgroupReady() error {
	if err := p.end.recvCgroupReady(); err != nil {
		return err
	}
	return enterCgroupNS(p.cfg)
}

// prepareRootfs: the rootfs step (init): a fresh session keyring, so the
// host's keys are out of sight, and the mounts; a bind source out of
// init's reach is asked of the runtime.
func (p *processSide) prepareRootfs() error {
	if !p.cfg.NoNewKeyring {
		if err := joinSessionKeyring(sessionKeyring(p.cfg.ID), keyringSearch(p.cfg.UserNS), p.cfg.Process.SelinuxLabel); err != nil {
			return err
		}
	}
	p.rcfg = rootfsConfig(p.cfg)
	p.rcfg.OpenSource = p.end.mountSource
	return rootfs.Prepare(p.rcfg)
}

// pivot: the pivot step (init): createContainer hooks, then pivot_root.
// The hooks run in the container's rootfs as their working directory, as
// runc's do: a hook may name paths in it relative to "." (runc's
// hooks_so.bats bind-mounts a library onto ./lib/...).
func (p *processSide) pivot() error {
	if hs := hooks.List(p.cfg.Spec.Hooks, hooks.CreateContainer); len(hs) > 0 {
		if err := unix.Chdir(p.rcfg.Rootfs); err != nil {
			return fmt.Errorf("createContainer hooks: chdir %s: %w", p.rcfg.Rootfs, err)
		}
		if err := hooks.Run(hooks.CreateContainer, hs, p.cfg.State); err != nil {
			return err
		}
	}
	return rootfs.Pivot(p.rcfg)
}

// finish: the finish step (init): the terminal, hostname and sysctls,
// what rootfs leaves for last (read-only paths, masks), the process.
func (p *processSide) finish() error {
	if p.cfg.Process.Terminal {
		if err := setupTerminal(p.cfg); err != nil {
			return err
		}
	}
	if err := setupHostnameSysctl(p.cfg.Spec); err != nil {
		return err
	}
	// The rootfs step's config: built once (rootfsConfig reads
	// /proc/self/uid_map), nothing in it has changed since.
	rc := p.rcfg
	if rc == nil {
		rc = rootfsConfig(p.cfg)
	}
	if err := rootfs.Finish(rc); err != nil {
		return err
	}
	return p.prepareProcess()
}

// enter: the enter step (exec): the container's session keyring
// (keyring.go), into the container's root, the terminal, the process.
func (p *processSide) enter() error {
	if !p.cfg.NoNewKeyring {
		if err := joinSessionKeyring(sessionKeyring(p.cfg.ID), 0, p.cfg.Process.SelinuxLabel); err != nil {
			return err
		}
	}
	if err := rootfs.EnterForExec(rootfsConfig(p.cfg)); err != nil {
		return err
	}
	if p.cfg.Process.Terminal {
		if err := setupTerminal(p.cfg); err != nil {
			return err
		}
	}
	return p.prepareProcess()
}

// prepareProcess resolves the program and applies the rlimits, while the
// process still has init's privileges. Its oom score was set as it
// started (setOOMScoreAdj, process.go).
func (p *processSide) prepareProcess() error {
	proc := p.cfg.Process
	ex, err := prepareExec(proc)
	if err != nil {
		return err
	}
	p.ex = ex
	if p.seccomp, err = seccomp.Compile(p.cfg.Spec.Linux.Seccomp); err != nil {
		return errLoadSeccomp(err)
	}
	if err := setRlimits(proc.Rlimits); err != nil {
		return err
	}
	// The runtime logged what Parse leaves out (caps.Warn).
	p.caps, _ = caps.Parse(proc.Capabilities)
	return nil
}

// seccompFd: the seccomp-fd step. A notify filter's fd must reach the
// listener through the runtime, which listens only until the process is
// set up: the filter is loaded now.
func (p *processSide) seccompFd() error {
	if err := p.applyAttrs(); err != nil {
		return err
	}
	fd, err := p.seccomp.Install()
	if err != nil {
		return errLoadSeccomp(err)
	}
	p.seccomp = nil
	err = p.end.seccompFd(fd)
	if fd >= 0 {
		unix.Close(fd)
	}
	return err
}

// ready: the ready step (init). From here on the runtime may exit: no
// parent-death signal.
func (p *processSide) ready() error {
	if err := p.applyAttrs(); err != nil {
		return err
	}
	if err := clearParentDeathSignal(); err != nil {
		return err
	}
	return p.end.ready()
}

// awaitStartFifo: the start-fifo step (create). The sync socket leads to
// the runtime, which is gone by then: init waits holding nothing of the
// host's but its stdio, the preserved fds and the fifo's handle, until
// `berth start` opens exec.fifo; errors go there from then on.
func (p *processSide) awaitStartFifo() error {
	p.end.debug = false // the runtime is gone
	p.end.Close()
	fifo, err := waitForStart()
	if err != nil {
		return err
	}
	p.fifo = fifo
	return nil
}

// awaitExecWait: the exec-wait-fifo step (exec --exec-wait-fifo). The
// process is set up: closing the sync socket tells the runtime so, and
// exec returns. It then blocks reopening the caller's fifo for writing
// until a reader opens it (a supervisor that registers the process before
// its program runs), and acknowledges with one byte. It waits holding
// every capability, before user, capabilities and filters change, so
// that neither the process's user nor its seccomp filter bears on it.
func (p *processSide) awaitExecWait() error {
	// exec -d leaves while the process waits: no parent-death signal
	// may end it then.
	if err := clearParentDeathSignal(); err != nil {
		return err
	}
	p.end.debug = false // the runtime is gone
	p.end.Close()
	p.waited = true
	f, err := reopenFifo(errExecWait)
	if err != nil {
		return err
	}
	return f.Close()
}

// execve: the execve step. Its outcome reaches the runtime as EOF on the
// close-on-exec sync socket, or an error frame; after start-fifo, the
// same on exec.fifo.
func (p *processSide) execve() error {
	if err := p.applyAttrs(); err != nil {
		return err
	}
	if p.cfg.Exec {
		if err := clearParentDeathSignal(); err != nil {
			return err
		}
	}
	p.logExecve() // debuglines.go
	err := finalizeAndExec(p.cfg, p.caps, p.seccomp, p.ex)
	if p.fifo != nil {
		fmt.Fprintf(p.fifo, "%v", err)
		p.fifo.Close()
		os.Exit(1)
	}
	return err
}

// failAfterWait ends an exec process that failed after exec-wait-fifo,
// when the runtime is gone: its caller learns it from the process's
// stderr and its status, 255 (exec's own failure status, execFailedStatus).
func failAfterWait(err error) {
	fmt.Fprintf(os.Stderr, "berth exec: %v\n", err)
	os.Exit(255)
}

// applyAttrs applies the process attributes (procattr: scheduler, I/O
// priority, personality, memory policy) once, at the first of the
// seccomp-fd, ready and execve steps: after every cgroup step (a memory
// policy's nodes must be in the cpuset), before any filter goes in and
// while init holds every capability (realtime scheduling, negative nice).
func (p *processSide) applyAttrs() error {
	if p.attrsApplied {
		return nil
	}
	p.attrsApplied = true
	return procattr.Apply(p.cfg.Process, p.cfg.Spec.Linux)
}

func clearParentDeathSignal() error {
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0); err != nil {
		return errPdeathsig(err)
	}
	return nil
}

// waitForStart reopens exec.fifo for writing through the O_PATH handle
// the runtime gave (a handle of the fifo alone, which leads nowhere
// else), which blocks until `berth start` opens it for reading, and
// tells start init is released by writing one byte. The fifo is
// close-on-exec: start reads EOF after that byte exactly when execve
// succeeded.
func waitForStart() (*os.File, error) {
	return reopenFifo(errStart)
}

// reopenFifo reopens the fifo whose O_PATH handle the runtime passed
// (envFifoFd: exec.fifo, or exec's --exec-wait-fifo) for writing, which
// blocks until a reader opens it, and writes one byte. fail words an
// error of the open (1) or of the write (2).
func reopenFifo(fail func(uint32, error) error) (*os.File, error) {
	fd, err := fdFromEnv(envFifoFd)
	if err != nil {
		return nil, err
	}
	handle := os.NewFile(uintptr(fd), fifoFile)
	f, err := pathrs.Reopen(handle, unix.O_WRONLY|unix.O_CLOEXEC)
	handle.Close()
	if err != nil {
		return nil, fail(1, err)
	}
	if _, err := f.Write([]byte{'0'}); err != nil {
		f.Close()
		return nil, fail(2, err)
	}
	return f, nil
}

// runStartContainerHooks runs the startContainer hooks of a container's
// init (an exec has none). A hook without an env of its own gets the
// process's environment, as under runc.
func runStartContainerHooks(cfg *initConfig, env []string) error {
	if cfg.Exec {
		return nil
	}
	hs := hooks.List(cfg.Spec.Hooks, hooks.StartContainer)
	if len(hs) == 0 {
		return nil
	}
	st := *cfg.State
	st.Status = specs.StateCreated
	return hooks.Run(hooks.StartContainer, hooks.WithDefaultEnv(hs, env), &st)
}

func rootfsConfig(cfg *initConfig) *rootfs.Config {
	rc := rootfsConfigOf(cfg.Spec, cfg.Rootfs, cfg.Bundle, cfg.NoPivot, cfg.UserNS)
	rc.CgroupPaths, rc.CgroupPath = cfg.CgroupPaths, cfg.CgroupPath
	return rc
}

// rootfsConfigOf is the rootfs set-up's config but for the cgroup's
// paths, which a direct init's build gets later (rootfsBuild).
func rootfsConfigOf(spec *specs.Spec, rootfsPath, bundle string, noPivot, userNS bool) *rootfs.Config {
	return &rootfs.Config{
		Rootfs:   rootfsPath,
		Bundle:   bundle,
		Spec:     spec,
		NoPivot:  noPivot,
		CgroupNS: configs.HasNamespace(spec, specs.CgroupNamespace),
		UserNS:   rootfsInUserNS(userNS),
		MountNS:  configs.HasNamespace(spec, specs.MountNamespace),
	}
}

// becomeNamespaceRoot makes init the root of the user namespace it was
// started in or joined through nsenter, where it still has the host's
// unmapped IDs: files it creates on mounts owned by the namespace (the
// /dev tmpfs) need a mapped owner, or the kernel refuses them with
// EOVERFLOW. A namespace that does not map 0 gets a stand-in instead
// (standInID: the process's own ID, as crun and runc main take): init
// keeps its capabilities there, as the kernel drops them only for a
// change away from a root the namespace maps.
func becomeNamespaceRoot(user specs.User) error {
	if unix.Getuid() == 0 && unix.Getgid() == 0 {
		return nil
	}
	if err := becomeID("gid", unix.Setresgid, user.GID); err != nil {
		return err
	}
	return becomeID("uid", unix.Setresuid, user.UID)
}

// becomeID sets init's kind ("uid" or "gid") IDs to 0, or where the
// namespace does not map 0, to the stand-in its map gives for own.
func becomeID(kind string, set func(r, e, s int) error, own uint32) error {
	err := set(0, 0, 0)
	if !errors.Is(err, unix.EINVAL) {
		if err != nil {
			return fmt.Errorf("become root in the user namespace: set%s 0: %w", kind, err)
		}
		return nil
	}
	file := "/proc/self/" + kind + "_map"
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("become the user namespace's stand-in root: %w", err)
	}
	maps, err := configs.ParseIDMap(string(data))
	if err != nil {
		return fmt.Errorf("become the user namespace's stand-in root: %s: %w", file, err)
	}
	id, ok := standInID(maps, own)
	if !ok {
		return nil // nothing mapped: nothing to become
	}
	if err := set(int(id), int(id), int(id)); err != nil {
		return fmt.Errorf("become the user namespace's stand-in root: set%s %d: %w", kind, id, err)
	}
	return nil
}

// joinCgroups moves the calling thread (locked: the one that will
// execve) into the container's cgroup v1 hierarchies, by writing "0" to
// their "tasks" files, opened for us by the runtime and sent in its
// cgroup-join step (SCM_RIGHTS, received close-on-exec). The kernel
// migrates the calling thread alone without taking the global
// threadgroup lock, where the runtime writing our pid to cgroup.procs
// waits for an RCU grace period in every hierarchy (README, Speed). The
// runtime writes the limits before it sends them. The fds
// reach the host's cgroup tree: they are closed at once
// (CVE-2024-21626).
func joinCgroups(fds []int) error {
	var err error
	for _, fd := range fds {
		if err == nil {
			if _, werr := unix.Write(fd, []byte("0")); werr != nil {
				err = errJoinCgroup(werr)
			}
		}
		unix.Close(fd)
	}
	return err
}

// joinNetNS joins the network namespace the runtime made for the
// container (initConfig.JoinNetNS), sent as the config's one fd. This
// thread is the process's main thread (see package main's init), so
// /proc/PID/ns/net, which hooks and exec go by, names the container's.
func joinNetNS(fds []int, join bool) error {
	defer closeFds(fds)
	if !join {
		if len(fds) != 0 {
			return fmt.Errorf("config came with %d unexpected descriptors", len(fds))
		}
		return nil
	}
	if len(fds) != 1 {
		return fmt.Errorf("config came with %d descriptors, want the network namespace", len(fds))
	}
	if err := unix.Setns(fds[0], unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("join network namespace: %w", err)
	}
	return nil
}

// enterCgroupNS unshares the cgroup namespace once init is in its
// cgroup, so that the namespace is rooted there.
func enterCgroupNS(cfg *initConfig) error {
	if !cfg.CgroupNS {
		return nil
	}
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("unshare cgroup namespace: %w", err)
	}
	return nil
}

// setupTerminal makes a pty inside the container (from its own devpts),
// makes its peer the controlling terminal and stdio, binds it over
// /dev/console for init, and sends the master to the runtime's console
// socket.
func setupTerminal(cfg *initConfig) error {
	consoleFd, err := fdFromEnv(envConsoleFd)
	if err != nil {
		return fmt.Errorf("terminal requested without a console socket: %w", err)
	}
	sock := os.NewFile(uintptr(consoleFd), "console-socket")
	defer sock.Close()
	peer, err := makeTerminal(sock, cfg.Process, cfg.ClearONLCR, !cfg.Exec)
	if err != nil {
		return err
	}
	defer peer.Close()
	return console.SetupPeer(peer)
}

// makeTerminal makes a pty in the caller's root (the container's own
// devpts), gives it to the process's user, sizes it, binds its peer over
// /dev/console (bind, an init's), and sends its master to the console
// socket sock. The peer is the caller's to make the process's terminal
// (console.SetupPeer), in the process: a direct init's runtime thread
// makes it, and the process takes it (directinit.go).
func makeTerminal(sock *os.File, p *specs.Process, clearONLCR, bind bool) (*os.File, error) {
	master, peer, err := console.NewPty("/dev/ptmx")
	if err != nil {
		return nil, err
	}
	defer master.Close()
	fail := func(err error) (*os.File, error) {
		peer.Close()
		return nil, err
	}
	if err := ownPty(peer, p.User); err != nil {
		return fail(err)
	}
	if clearONLCR {
		if err := console.ClearONLCR(master); err != nil {
			return fail(err)
		}
	}
	if sz := p.ConsoleSize; sz != nil {
		if err := console.Resize(master, uint16(sz.Width), uint16(sz.Height)); err != nil {
			return fail(err)
		}
	}
	if bind {
		if err := bindConsole(peer); err != nil {
			return fail(err)
		}
	}
	if err := utils.SendFile(sock, master); err != nil {
		return fail(fmt.Errorf("send pty master to console socket: %w", err))
	}
	return peer, nil
}

// ownPty gives the pty to the process's user, for run and exec alike, as
// runc does: its uid becomes the process's. Its group stays the one devpts
// gave it when the mount chose one (gid=5, the tty group, in the default
// config), and is the process's gid otherwise. (The caller's stdio
// becomes the user's too, its uid only: ownStdio.) As under runc, an owner
// the namespace cannot map (EINVAL, EPERM) leaves the pty as it is.
func ownPty(peer *os.File, u specs.User) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(peer.Fd()), &st); err != nil {
		return fmt.Errorf("stat pty %s: %w", peer.Name(), err)
	}
	gid := -1
	if st.Gid == uint32(unix.Getegid()) && st.Gid != u.GID {
		gid = int(u.GID)
	}
	if st.Uid == u.UID && gid == -1 {
		return nil
	}
	err := unix.Fchown(int(peer.Fd()), int(u.UID), gid)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("chown pty %s to %d:%d: %w", peer.Name(), u.UID, gid, err)
	}
	return nil
}

// bindConsole binds the pty peer, by fd (CVE-2025-52565), over
// /dev/console.
func bindConsole(peer *os.File) error {
	root, err := os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer root.Close()
	dev, err := pathrs.MkdirAllHandle(root, "/dev", 0o755)
	if err != nil {
		return fmt.Errorf("open /dev: %w", err)
	}
	defer dev.Close()
	fd, err := unix.Openat(int(dev.Fd()), "console", unix.O_CREAT|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil && !errors.Is(err, unix.ENXIO) {
		// ENXIO: a console node already exists; bind over it.
		return fmt.Errorf("create /dev/console: %w", err)
	}
	if err == nil {
		unix.Close(fd)
	}
	dst, err := pathrs.OpenatInRoot(root, "/dev/console")
	if err != nil {
		return fmt.Errorf("open /dev/console: %w", err)
	}
	defer dst.Close()
	tree, err := unix.OpenTree(int(peer.Fd()), "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return fmt.Errorf("bind console: open_tree: %w", err)
	}
	defer unix.Close(tree)
	if err := unix.MoveMount(tree, "", int(dst.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind console: move_mount: %w", err)
	}
	return nil
}

func setupHostnameSysctl(spec *specs.Spec) error {
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", spec.Hostname, err)
		}
	}
	if spec.Domainname != "" {
		if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
			return fmt.Errorf("set domainname %q: %w", spec.Domainname, err)
		}
	}
	if len(spec.Linux.Sysctl) == 0 {
		return nil
	}
	// Through a verified procfs handle, never the container's /proc,
	// which its mounts could have redirected (CVE-2025-52881).
	proc, err := procfs.OpenProcRoot()
	if err != nil {
		return fmt.Errorf("open procfs: %w", err)
	}
	defer proc.Close()
	for key, value := range spec.Linux.Sysctl {
		rel := "sys/" + strings.ReplaceAll(key, ".", "/")
		if err := writeProcFile(proc.OpenRoot, rel, value); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				// pathrs-lite words this as an "unsafe procfs".
				return fmt.Errorf("set sysctl %s=%s: no such sysctl (/proc/%s does not exist)", key, value, rel)
			}
			return fmt.Errorf("set sysctl %s=%s: %w", key, value, err)
		}
	}
	return nil
}

// writeProcFile writes a file of the verified procfs (open), reopened
// for writing through its handle.
func writeProcFile(open func(string) (*os.File, error), rel, value string) error {
	h, err := open(rel)
	if err != nil {
		return err
	}
	f, err := pathrs.Reopen(h, unix.O_WRONLY|unix.O_CLOEXEC)
	h.Close()
	if err != nil {
		return err
	}
	return utils.WriteProcFile(f, value)
}

func setRlimits(rl []specs.POSIXRlimit) error {
	for _, r := range rl {
		res, err := configs.RlimitResource(r.Type)
		if err != nil {
			return err
		}
		lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		if err := unix.Prlimit(0, res, &lim, nil); err != nil {
			return errRlimit(r.Type, r.Soft, r.Hard, err)
		}
	}
	return nil
}

// execTarget is the resolved program and environment.
type execTarget struct {
	path string
	args []string
	env  []string
}

// prepareExec resolves args[0] with the container's PATH before "ready",
// so that a missing program fails `create`, not `start`. Its errors are
// os/exec's, as runc's are (`exec: "foo": executable file not found in
// $PATH`, `exec: "/x": permission denied`).
func prepareExec(p *specs.Process) (*execTarget, error) {
	ex := &execTarget{args: p.Args, env: p.Env}
	cands, slash := programCandidates(p)
	if slash {
		// LookPath consults no PATH for a name with a slash: it checks
		// that the file is there and executable.
		if _, err := exec.LookPath(cands[0]); err != nil {
			return nil, err
		}
		ex.path = cands[0]
		return ex, nil
	}
	for _, cand := range cands {
		if _, err := exec.LookPath(cand); err == nil {
			ex.path = cand
			return ex, nil
		}
	}
	return nil, errNotFound(p.Args[0])
}

// programCandidates lists the paths args[0] may resolve to, in order:
// itself when it has a slash (slash), else its join with each directory
// of the process's PATH (not init's), each with a slash so that it is
// not looked up again.
func programCandidates(p *specs.Process) (cands []string, slash bool) {
	name := p.Args[0]
	if strings.Contains(name, "/") {
		return []string{name}, true
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range p.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		cand := filepath.Join(dir, name)
		if !strings.Contains(cand, "/") {
			cand = "./" + cand
		}
		cands = append(cands, cand)
	}
	return cands, false
}

// finalizeAndExec drops privileges in the order the kernel requires and
// execve's. Everything a seccomp profile could refuse and that is
// berth's own business (reading /etc/passwd, the cwd check, marking fds
// close-on-exec) happens before any filter goes in: a profile written
// without close_range or getcwd must not break the start. Then: the
// bounding set while CAP_SETPCAP is held, groups and ids (keeping
// capabilities across the uid change), the final capability sets,
// no_new_privs, seccomp last, the startContainer hooks, execve.
func finalizeAndExec(cfg *initConfig, c *caps.Caps, sc *seccomp.Filter, ex *execTarget) error {
	p := cfg.Process
	aff := p.ExecCPUAffinity
	if !cfg.Exec {
		aff = nil // not applicable to init (affinity_linux.go)
	}
	if err := setFinalCPUAffinity(aff); err != nil { // affinity_linux.go
		return err
	}
	// Before any filter goes in (sigdefault_linux.go).
	if err := resetIgnoredHupInt(); err != nil {
		return err
	}
	// Takes effect at execve; written while init still has its privileges.
	if err := lsm.RequestOf(cfg.Spec, p).ApplyExec(); err != nil {
		return err
	}
	ex.env = processEnv(ex.env, func() string { return passwdHome(int(p.User.UID)) })
	retryCwd, err := enterCwdEarly(p.Cwd)
	if err != nil {
		return err
	}
	if err := utils.CloseExecFrom(3 + cfg.PreserveFds); err != nil {
		return err
	}
	if err := ownStdio(int(p.User.UID)); err != nil {
		return err
	}
	// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which
	// the process may be about to lose (Docker's default: its profile,
	// no no_new_privs, no CAP_SYS_ADMIN). Load it while init still holds
	// it; the few calls left before execve then go through the filter.
	early := sc != nil && !p.NoNewPrivileges
	if early {
		if _, err := sc.Install(); err != nil {
			return errLoadSeccomp(err)
		}
	}
	if err := c.ApplyBounding(); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return errKeepcapsSet(err)
	}
	if err := setUser(p); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return errKeepcapsClear(err)
	}
	if retryCwd {
		if err := enterCwd(p.Cwd); err != nil {
			return err
		}
	}
	if err := c.ApplyFinal(); err != nil {
		return err
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return errNoNewPrivs(err)
		}
	}
	if p.User.Umask != nil {
		unix.Umask(int(*p.User.Umask))
	} else {
		unix.Umask(0o022)
	}
	if sc != nil && !early {
		if _, err := sc.Install(); err != nil {
			return errLoadSeccomp(err)
		}
	}
	if err := runStartContainerHooks(cfg, ex.env); err != nil {
		return err
	}
	err = unix.Exec(ex.path, ex.args, ex.env)
	err = errExecve(ex.path, err)
	if !cfg.Exec {
		// runc's init writes this one to the process's stderr, where a
		// client's container log shows it ("exec /run.sh: no such file or
		// directory"); start reports it too, run does not repeat it.
		fmt.Fprintln(os.Stderr, err)
		return &shownError{err}
	}
	return err
}

// ownStdio makes the process's stdio its user's, as under runc: a
// process that is not root can then reopen it (/dev/stdout,
// /proc/self/fd/1), which a pipe or file of root's with mode 0600
// refuses. Only the owner changes; /dev/null, what the user owns already,
// and what init may not chown (an owner not mapped in the user namespace:
// EPERM; a read-only filesystem: EROFS) are left as they are. Done before
// any filter goes in (direct_exec.c's own_stdio is the same step).
func ownStdio(uid int) error {
	for fd := 0; fd < 3; fd++ {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil {
			continue // not open: nothing to own
		}
		if int(st.Uid) == uid || (st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 3)) {
			continue
		}
		if err := unix.Fchown(fd, uid, -1); err != nil && !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EROFS) {
			return errStdioOwner(fd, err)
		}
	}
	return nil
}

// enterCwdEarly changes to the process's cwd with init's own
// credentials, before any filter or uid change, as runc does: a cwd the
// process's user cannot search itself (a non-root user's default HOME
// under /root) still works. When init may not enter it (EACCES or EPERM:
// e.g. root squashed on a network file system, or a directory owned by
// an unmapped user), the caller retries as the process's user.
func enterCwdEarly(cwd string) (retry bool, err error) {
	err = unix.Chdir(cwd)
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return true, nil
	}
	if err != nil {
		return false, errChdir(cwd, err)
	}
	return false, verifyCwd(cwd)
}

// enterCwd changes to the process's cwd and checks it is inside the
// container's root.
func enterCwd(cwd string) error {
	if err := unix.Chdir(cwd); err != nil {
		return errChdir(cwd, err)
	}
	return verifyCwd(cwd)
}

// verifyCwd checks that the cwd just entered is inside the container's
// root: a cwd that leads outside (e.g. through a leaked fd's
// /proc/self/fd/N, CVE-2024-21626) is refused.
func verifyCwd(cwd string) error {
	wd, err := unix.Getwd()
	if errors.Is(err, unix.ENOENT) {
		// getcwd fails with ENOENT for a directory not reachable from
		// the process's root: it is outside the container.
		return errCwdOutside(cwd)
	}
	if err != nil {
		return errGetcwd(cwd, err)
	}
	if !strings.HasPrefix(wd, "/") {
		return errCwdOutside(cwd)
	}
	return nil
}

func setUser(p *specs.Process) error {
	uid, gid := int(p.User.UID), int(p.User.GID)
	// -1 would leave init's IDs (root) as they are; validation refuses it
	// before init, this keeps a bypass of it from becoming root.
	if p.User.UID == 1<<32-1 || p.User.GID == 1<<32-1 {
		return fmt.Errorf("invalid user %d:%d", p.User.UID, p.User.GID)
	}
	if !setgroupsDenied() {
		groups := intGroups(p.User.AdditionalGids)
		if err := unix.Setgroups(groups); err != nil {
			return errSetgroups(groups, err)
		}
	} else if len(p.User.AdditionalGids) > 0 {
		return errors.New("additionalGids cannot be set: setgroups is denied in this user namespace")
	}
	// The raw syscalls change this thread's IDs only: Go's Setresuid and
	// Setresgid stop every thread of the process to change them all, for
	// nothing here, since this (locked) thread execve's next and execve
	// ends the others. setgroups(2) above is per thread already.
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(gid), uintptr(gid), uintptr(gid)); e != 0 {
		return errSetgid(gid, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
		return errSetuid(uid, e)
	}
	return nil
}

// passwdHome is the home directory of uid in the container's /etc/passwd,
// or "/" when it has none.
func passwdHome(uid int) string {
	if home := lookupHome(uid); home != "" {
		return home
	}
	return "/"
}

// processEnv is the environment the process gets: process.env with
// duplicate names removed (the last value wins, as in runc and Go's
// os/exec), and HOME set from home() when it is missing or empty. home
// is only called when needed: it reads the container's /etc/passwd.
func processEnv(env []string, home func() string) []string {
	out, needHome := dedupeEnv(env)
	if needHome {
		out = append(out, "HOME="+home())
	}
	return out
}

// dedupeEnv is env without duplicate names (the last value wins) and
// without an empty HOME; needHome: HOME is missing or was empty.
func dedupeEnv(env []string) (out []string, needHome bool) {
	last := make(map[string]int, len(env))
	for i, e := range env {
		name, _, _ := strings.Cut(e, "=")
		last[name] = i
	}
	out = make([]string, 0, len(env)+1)
	for i, e := range env {
		name, _, _ := strings.Cut(e, "=")
		if last[name] != i || e == "HOME=" {
			continue
		}
		out = append(out, e)
	}
	_, ok := last["HOME"]
	return out, !ok || env[last["HOME"]] == "HOME="
}

// setgroupsDenied reads /proc/self/setgroups through a bare fd (an
// *os.File would set up Go's poller for it).
func setgroupsDenied() bool {
	data, err := utils.ReadSmallFile("/proc/self/setgroups", 64)
	return err == nil && strings.TrimSpace(string(data)) == "deny"
}
