package libcontainer

import (
	"encoding/json"
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

func initContainer(conn *syncConn) error {
	m, err := conn.expect(msgConfig)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	var cfg initConfig
	if err := json.Unmarshal(m.Payload, &cfg); err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	if cfg.Spec == nil || cfg.Spec.Linux == nil {
		return errors.New("config message without spec")
	}
	if cfg.Process == nil {
		cfg.Process = cfg.Spec.Process // a container's init: not sent twice
	}
	if cfg.Process == nil {
		return errors.New("config message without process")
	}
	if err := joinNetNS(conn.takeFds(), cfg.JoinNetNS); err != nil {
		return err
	}
	// An LSM asked for on a host without it fails create, before any set-up.
	if err := lsm.RequestOf(cfg.Spec, cfg.Process).Check(lsm.Detect()); err != nil {
		return err
	}
	if cfg.UserNS {
		if err := becomeNamespaceRoot(); err != nil {
			return err
		}
	}
	if !cfg.WaitCgroup {
		// The runtime writes the limits after sending the config, then
		// sends the cgroups to join.
		if _, err := conn.expect(msgCgroupJoin); err != nil {
			return fmt.Errorf("wait for cgroup: %w", err)
		}
		if err := joinCgroups(conn.takeFds()); err != nil {
			return err
		}
		if err := enterCgroupNS(&cfg); err != nil {
			return err
		}
	}
	if !cfg.Exec && !cfg.NoNewKeyring {
		// A fresh session keyring: the host's keys must not be visible.
		if _, err := unix.KeyctlJoinSessionKeyring("_ses." + cfg.ID); err != nil && !errors.Is(err, unix.ENOSYS) {
			return fmt.Errorf("join session keyring: %w", err)
		}
	}
	if !cfg.Exec {
		if err := setupRootfs(conn, &cfg); err != nil {
			return err
		}
	} else if err := rootfs.EnterForExec(rootfsConfig(&cfg)); err != nil {
		return err
	}
	p := cfg.Process
	if p.Terminal {
		if err := setupTerminal(&cfg); err != nil {
			return err
		}
	}
	if !cfg.Exec {
		if err := setupHostnameSysctl(cfg.Spec); err != nil {
			return err
		}
		rcfg := rootfsConfig(&cfg)
		if err := rootfs.Finish(rcfg); err != nil {
			return err
		}
	}
	ex, err := prepareExec(p)
	if err != nil {
		return err
	}
	// Compiled before the rlimits go in (see seccomp.Filter).
	filter, err := seccomp.Compile(cfg.Spec.Linux.Seccomp)
	if err != nil {
		return fmt.Errorf("load seccomp filter: %w", err)
	}
	if err := setRlimits(p.Rlimits); err != nil {
		return err
	}
	if p.OOMScoreAdj != nil {
		if err := writeOOMScoreAdj(*p.OOMScoreAdj); err != nil {
			return err
		}
	}
	// The runtime logged what Parse leaves out (caps.Warn).
	parsedCaps, _ := caps.Parse(p.Capabilities)
	if cfg.CgroupWaitLate {
		if err := waitCgroup(conn, &cfg); err != nil {
			return err
		}
	}
	sc := filter
	if sc != nil && cfg.SeccompToParent {
		// A notify filter's fd must reach the listener through the
		// runtime, which only listens until "ready".
		if err := loadSeccompToParent(conn, sc); err != nil {
			return err
		}
		sc = nil
	}
	// From here on the runtime may exit: no parent-death signal.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("clear parent death signal: %w", err)
	}
	if cfg.Exec {
		// The runtime sees EOF on the close-on-exec sync socket once
		// execve succeeded, or an error frame.
		return finalizeAndExec(&cfg, parsedCaps, sc, ex)
	}
	if err := conn.send(msgReady, nil); err != nil {
		return err
	}
	if cfg.StartNow {
		if _, err := conn.expect(msgStart); err != nil {
			return fmt.Errorf("wait for start: %w", err)
		}
		// Errors go back over the sync socket, which execve closes.
		return startContainerAndExec(&cfg, parsedCaps, sc, ex)
	}
	// Block until `berth start` opens exec.fifo; after that, errors go
	// to start through the fifo. The sync socket leads to the runtime,
	// which is gone by then: init waits holding nothing of the host's but
	// its stdio, the preserved fds and the fifo's handle.
	conn.Close()
	fifo, err := waitForStart()
	if err != nil {
		return err
	}
	err = startContainerAndExec(&cfg, parsedCaps, sc, ex)
	fmt.Fprintf(fifo, "%v", err)
	fifo.Close()
	os.Exit(1)
	return err
}

// waitForStart reopens exec.fifo for writing through the O_PATH handle
// the runtime gave (a handle of the fifo alone, which leads nowhere
// else), which blocks until `berth start` opens it for reading, and
// tells start init is released by writing one byte. The fifo is
// close-on-exec: start reads EOF after that byte exactly when execve
// succeeded.
func waitForStart() (*os.File, error) {
	fd, err := fdFromEnv(envFifoFd)
	if err != nil {
		return nil, err
	}
	handle := os.NewFile(uintptr(fd), fifoFile)
	f, err := pathrs.Reopen(handle, unix.O_WRONLY|unix.O_CLOEXEC)
	handle.Close()
	if err != nil {
		return nil, fmt.Errorf("open exec fifo: %w", err)
	}
	if _, err := f.Write([]byte{'0'}); err != nil {
		f.Close()
		return nil, fmt.Errorf("write exec fifo: %w", err)
	}
	return f, nil
}

// startContainerAndExec finishes a container's init: its startContainer
// hooks run inside finalizeAndExec, as runc runs them, with the process's
// credentials and seccomp filter already in force.
func startContainerAndExec(cfg *initConfig, c *caps.Caps, sc *seccomp.Filter, ex *execTarget) error {
	return finalizeAndExec(cfg, c, sc, ex)
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
	return &rootfs.Config{
		Rootfs:      cfg.Rootfs,
		Bundle:      cfg.Bundle,
		Spec:        cfg.Spec,
		NoPivot:     cfg.NoPivot,
		CgroupPaths: cfg.CgroupPaths,
		CgroupPath:  cfg.CgroupPath,
		CgroupNS:    configs.HasNamespace(cfg.Spec, specs.CgroupNamespace),
		UserNS:      rootfsInUserNS(cfg.UserNS),
		MountNS:     configs.HasNamespace(cfg.Spec, specs.MountNamespace),
	}
}

// becomeNamespaceRoot makes init the root of the user namespace it was
// started in or joined through nsenter, where it still has the host's
// unmapped IDs: files it creates on mounts owned by the namespace (the
// /dev tmpfs) need a mapped owner, or the kernel refuses them with
// EOVERFLOW. A namespace that does not map 0 leaves init as it is.
func becomeNamespaceRoot() error {
	if unix.Getuid() == 0 && unix.Getgid() == 0 {
		return nil
	}
	if err := unix.Setresgid(0, 0, 0); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return nil
		}
		return fmt.Errorf("become root in the user namespace: setgid 0: %w", err)
	}
	if err := unix.Setresuid(0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("become root in the user namespace: setuid 0: %w", err)
	}
	return nil
}

// joinCgroups moves the calling thread (locked: the one that will
// execve) into the container's cgroup v1 hierarchies, by writing "0" to
// their "tasks" files, opened for us by the runtime and sent in its
// msgCgroupJoin (SCM_RIGHTS, received close-on-exec). The kernel migrates
// the calling thread alone without taking the global threadgroup lock:
// tens of microseconds, where the runtime writing our pid to cgroup.procs
// waits for an RCU grace period in every hierarchy (5-15 ms measured
// here). The runtime writes the limits before it sends them. The fds
// reach the host's cgroup tree: they are closed at once
// (CVE-2024-21626).
func joinCgroups(fds []int) error {
	var err error
	for _, fd := range fds {
		if err == nil {
			if _, werr := unix.Write(fd, []byte("0")); werr != nil {
				err = fmt.Errorf("join cgroup: %w", werr)
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

// waitCgroup waits until the runtime has put init in its cgroup, then
// makes the cgroup namespace, rooted there.
func waitCgroup(conn *syncConn, cfg *initConfig) error {
	if !cfg.WaitCgroup {
		return nil
	}
	if _, err := conn.expect(msgCgroupReady); err != nil {
		return err
	}
	return enterCgroupNS(cfg)
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

func setupRootfs(conn *syncConn, cfg *initConfig) error {
	rcfg := rootfsConfig(cfg)
	rcfg.OpenSource = mountSourceFromRuntime(conn)
	if err := rootfs.Prepare(rcfg); err != nil {
		return err
	}
	if !cfg.CgroupWaitLate {
		// Hooks must find init in its cgroup.
		if err := waitCgroup(conn, cfg); err != nil {
			return err
		}
	}
	if cfg.RuntimeHooks {
		if err := conn.send(msgHooks, nil); err != nil {
			return err
		}
		if _, err := conn.expect(msgHooksDone); err != nil {
			return err
		}
	}
	if hs := hooks.List(cfg.Spec.Hooks, hooks.CreateContainer); len(hs) > 0 {
		if err := hooks.Run(hooks.CreateContainer, hs, cfg.State); err != nil {
			return err
		}
	}
	return rootfs.Pivot(rcfg)
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
	master, peer, err := console.NewPty("/dev/ptmx")
	if err != nil {
		return err
	}
	defer master.Close()
	defer peer.Close()
	if err := ownPty(peer, cfg.Process.User); err != nil {
		return err
	}
	if cfg.ClearONLCR {
		if err := console.ClearONLCR(master); err != nil {
			return err
		}
	}
	if sz := cfg.Process.ConsoleSize; sz != nil {
		if err := console.Resize(master, uint16(sz.Width), uint16(sz.Height)); err != nil {
			return err
		}
	}
	if !cfg.Exec {
		if err := bindConsole(peer); err != nil {
			return err
		}
	}
	if err := utils.SendFile(sock, master); err != nil {
		return fmt.Errorf("send pty master to console socket: %w", err)
	}
	return console.SetupPeer(peer)
}

// ownPty gives the pty to the process's user, for run and exec alike, as
// runc does: its uid becomes the process's. Its group stays the one devpts
// gave it when the mount chose one (gid=5, the tty group, in the default
// config), and is the process's gid otherwise. Only the pty berth made is
// touched, never a stdio file the caller passed. As under runc, an owner
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
			return fmt.Errorf("set sysctl %s=%s: %w", key, value, err)
		}
	}
	return nil
}

func writeProcFile(open func(string) (*os.File, error), rel, value string) error {
	h, err := open(rel)
	if err != nil {
		return err
	}
	defer h.Close()
	f, err := pathrs.Reopen(h, unix.O_WRONLY|unix.O_CLOEXEC)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write([]byte(value))
	return err
}

func writeOOMScoreAdj(v int) error {
	proc, err := procfs.OpenProcRoot()
	if err != nil {
		return fmt.Errorf("open procfs: %w", err)
	}
	defer proc.Close()
	err = writeProcFile(proc.OpenSelf, "oom_score_adj", strconv.Itoa(v))
	if err != nil {
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
			return fmt.Errorf("set oom_score_adj to %d: %w (lowering it needs CAP_SYS_RESOURCE)", v, err)
		}
		return fmt.Errorf("set oom_score_adj to %d: %w", v, err)
	}
	return nil
}

func setRlimits(rl []specs.POSIXRlimit) error {
	for _, r := range rl {
		res, err := configs.RlimitResource(r.Type)
		if err != nil {
			return err
		}
		lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		if err := unix.Prlimit(0, res, &lim, nil); err != nil {
			if errors.Is(err, unix.EPERM) {
				return fmt.Errorf("set rlimit %s (soft %d, hard %d): %w (raising a hard limit needs CAP_SYS_RESOURCE)", r.Type, r.Soft, r.Hard, err)
			}
			return fmt.Errorf("set rlimit %s (soft %d, hard %d): %w", r.Type, r.Soft, r.Hard, err)
		}
	}
	return nil
}

func loadSeccompToParent(conn *syncConn, sc *seccomp.Filter) error {
	fd, err := sc.Install()
	if err != nil {
		return fmt.Errorf("load seccomp filter: %w", err)
	}
	if fd < 0 {
		return nil
	}
	err = conn.send(msgSeccompFd, nil, fd)
	unix.Close(fd)
	if err != nil {
		return err
	}
	_, err = conn.expect(msgSeccompDone)
	return err
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
	name := p.Args[0]
	if strings.Contains(name, "/") {
		// LookPath consults no PATH for a name with a slash: it checks
		// that the file is there and executable.
		if _, err := exec.LookPath(name); err != nil {
			return nil, err
		}
		ex.path = name
		return ex, nil
	}
	// Not init's PATH: the process's.
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
			cand = "./" + cand // a name with a slash: not looked up again
		}
		if _, err := exec.LookPath(cand); err == nil {
			ex.path = cand
			return ex, nil
		}
	}
	return nil, &exec.Error{Name: name, Err: exec.ErrNotFound}
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
	resetCPUAffinity(p) // the cpuset's CPUs, not berth's (affinity_linux.go)
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
	// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which
	// the process may be about to lose (Docker's default: its profile,
	// no no_new_privs, no CAP_SYS_ADMIN). Load it while init still holds
	// it; the few calls left before execve then go through the filter.
	early := sc != nil && !p.NoNewPrivileges
	if early {
		if _, err := sc.Install(); err != nil {
			return fmt.Errorf("load seccomp filter: %w", err)
		}
	}
	if err := c.ApplyBounding(); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set keepcaps: %w", err)
	}
	if err := setUser(p); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("clear keepcaps: %w", err)
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
			return fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	if p.User.Umask != nil {
		unix.Umask(int(*p.User.Umask))
	} else {
		unix.Umask(0o022)
	}
	if sc != nil && !early {
		if _, err := sc.Install(); err != nil {
			return fmt.Errorf("load seccomp filter: %w", err)
		}
	}
	if err := runStartContainerHooks(cfg, ex.env); err != nil {
		return err
	}
	err = unix.Exec(ex.path, ex.args, ex.env)
	err = &os.PathError{Op: "exec", Path: ex.path, Err: err}
	if !cfg.Exec {
		// runc's init writes this one to the process's stderr, where a
		// client's container log shows it ("exec /run.sh: no such file or
		// directory"); berth also reports it to run or start.
		fmt.Fprintln(os.Stderr, err)
	}
	return err
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
		return false, fmt.Errorf("chdir to cwd %q: %w", cwd, err)
	}
	return false, verifyCwd(cwd)
}

// enterCwd changes to the process's cwd and checks it is inside the
// container's root.
func enterCwd(cwd string) error {
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("chdir to cwd %q: %w", cwd, err)
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
		return fmt.Errorf("cwd %q is outside the container root", cwd)
	}
	if err != nil {
		return fmt.Errorf("getcwd after chdir %q: %w", cwd, err)
	}
	if !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("cwd %q is outside the container root", cwd)
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
		groups := make([]int, 0, len(p.User.AdditionalGids))
		for _, g := range p.User.AdditionalGids {
			groups = append(groups, int(g))
		}
		if err := unix.Setgroups(groups); err != nil {
			return fmt.Errorf("setgroups %v: %w", groups, err)
		}
	} else if len(p.User.AdditionalGids) > 0 {
		return errors.New("additionalGids cannot be set: setgroups is denied in this user namespace")
	}
	// The raw syscalls change this thread's IDs only: Go's Setresuid and
	// Setresgid stop every thread of the process to change them all, for
	// nothing here, since this (locked) thread execve's next and execve
	// ends the others. setgroups(2) above is per thread already.
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(gid), uintptr(gid), uintptr(gid)); e != 0 {
		return fmt.Errorf("setgid %d: %w", gid, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
		return fmt.Errorf("setuid %d: %w", uid, e)
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
	last := make(map[string]int, len(env))
	for i, e := range env {
		name, _, _ := strings.Cut(e, "=")
		last[name] = i
	}
	out := make([]string, 0, len(env)+1)
	for i, e := range env {
		name, _, _ := strings.Cut(e, "=")
		if last[name] != i || e == "HOME=" {
			continue
		}
		out = append(out, e)
	}
	if _, ok := last["HOME"]; !ok || env[last["HOME"]] == "HOME=" {
		out = append(out, "HOME="+home())
	}
	return out
}

func setgroupsDenied() bool {
	data, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(data)) == "deny"
}
