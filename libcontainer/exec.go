package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/caps"
	bcgroups "github.com/berth-runtime/berth/libcontainer/cgroups"
	"github.com/berth-runtime/berth/libcontainer/configs"
)

// ExecOpts are the inputs of `berth exec`.
type ExecOpts struct {
	// Process is the process to run, already merged with the container's
	// defaults (see ExecDefaults).
	Process *specs.Process
	Stdin   *os.File
	Stdout  *os.File
	Stderr  *os.File
	// ConsoleSocket receives the pty master when Process.Terminal.
	ConsoleSocket *os.File
	// PidfdSocket, a connected unix socket, receives a pidfd of the process.
	PidfdSocket *os.File
	// RelayConsole: berth relays the terminal itself (a foreground exec);
	// the pty then does not turn "\n" into "\r\n", as under runc.
	RelayConsole bool
	// PreserveFds extra fds (from fd 3) are passed to the process.
	PreserveFds int
	// IgnorePaused allows exec into a paused (frozen) container.
	IgnorePaused bool
	// SubCgroup is exec's --cgroup: "[ctrl[,ctrl]:]path" entries, each a
	// sub-cgroup (which must exist) of the container's cgroup.
	SubCgroup []string
	// Seal, when set, is berth's binary being sealed for the process
	// (StartSealing); Exec takes it over, used or not.
	Seal Sealing
	// BeforeStart, when set, runs once the process exists and before it
	// is sent its config (so before it runs the program), while the
	// process's own runtime is still starting.
	BeforeStart func()
}

// ErrExecStopped and ErrExecPaused keep runc's wording, which clients
// match on.
var (
	ErrExecStopped = fmt.Errorf("cannot exec in a stopped container: %w", ErrNotRunning)
	ErrExecPaused  = errors.New("cannot exec in a paused container (use --ignore-paused to override)")
)

// ExecDefaults fills what an exec process leaves unset from the
// container's own process, as runc does: capabilities, rlimits, the
// AppArmor profile and the SELinux label. The container's seccomp filter
// always applies (it lives in linux.seccomp, not in the process).
func (c *Container) ExecDefaults(p *specs.Process) error {
	spec, err := c.state.FullSpec()
	if err != nil {
		return err
	}
	base := spec.Process
	if base == nil {
		return nil
	}
	if p.Capabilities == nil {
		p.Capabilities = base.Capabilities
	}
	if len(p.Rlimits) == 0 {
		p.Rlimits = base.Rlimits
	}
	if p.ApparmorProfile == "" {
		p.ApparmorProfile = base.ApparmorProfile
	}
	if p.SelinuxLabel == "" {
		p.SelinuxLabel = base.SelinuxLabel
	}
	return nil
}

// ExecProcess is a started exec process.
type ExecProcess struct {
	// Pid is the host pid of the process (already past execve).
	Pid int
	// Direct is true when Pid is berth's own child; otherwise it is a
	// grandchild (the nsenter intermediate forked to enter the pid
	// namespace) and only a subreaper can wait for it.
	Direct bool
}

// Exec starts a new process in the running container: it joins every
// namespace of the container's init and its cgroup, and gets the same
// hardening as init. Exec returns once the process has execve'd.
func (c *Container) Exec(o *ExecOpts) (*ExecProcess, error) {
	// Sealing berth's binary overlaps the set-up below (and, when the
	// caller started it, the reading of the bundle before it).
	seal := OwnSeal(o.Seal)
	defer seal.Release()
	if err := configs.ValidateProcess(o.Process); err != nil {
		return nil, err
	}
	caps.Warn(o.Process.Capabilities)
	// Shared: execs run beside each other, not beside a delete, start,
	// pause or update of the container.
	dir, err := c.lockStateHow(unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	defer dir.unlock()
	spec, err := c.state.FullSpec()
	if err != nil {
		return nil, err
	}
	status := c.Status()
	if err := checkExecStatus(status, o.IgnorePaused); err != nil {
		return nil, err
	}
	if o.Process.Terminal && o.ConsoleSocket == nil {
		return nil, errors.New("process.terminal is true but no console socket was given")
	}
	cgPaths, err := c.execCgroupPaths(o.SubCgroup)
	if err != nil {
		return nil, err
	}
	stdin, stdout, stderr := o.Stdin, o.Stdout, o.Stderr
	if stdin == nil || stdout == nil || stderr == nil {
		// A terminal process replaces its stdio with the pty; until then
		// it holds /dev/null (the nsenter fork needs real files).
		null, err := os.OpenFile(os.DevNull, os.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		defer null.Close()
		stdin, stdout, stderr = orFile(stdin, null), orFile(stdout, null), orFile(stderr, null)
	}
	// The process gets a parent-death signal until it has execve'd; it
	// fires when the starting thread exits.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	extra, err := preservedFiles(o.PreserveFds)
	if err != nil {
		return nil, err
	}
	restoreCPUs, err := setInitialCPUAffinity(o.Process) // affinity_linux.go
	if err != nil {
		return nil, err
	}
	proc, err := startProcess(&launch{
		Spec: spec, InitPid: c.state.InitPid,
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		ExtraFiles: extra, Console: o.ConsoleSocket, CgroupFD: -1, Seal: seal.Take(),
	})
	restoreCPUs()
	if err != nil {
		return nil, fmt.Errorf("start exec process: %w", err)
	}
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("exec %s: process %d started (berth's child: %t), joining the namespaces of init %d; cgroups %v", c.state.ID, proc.pid, proc.cmd != nil, c.state.InitPid, cgPaths)
	}
	if err := joinIntelRdt(spec, c.state.ID, proc.pid); err != nil { // intelrdt_linux.go
		proc.kill()
		return nil, err
	}
	if err := sendPidfd(o.PidfdSocket, proc.pid); err != nil { // pidfd_linux.go
		proc.kill()
		return nil, err
	}
	if o.BeforeStart != nil {
		o.BeforeStart()
	}
	if err := c.finishExec(proc, o, cgPaths, status == Paused); err != nil {
		proc.kill()
		return nil, err
	}
	if proc.cmd != nil {
		// Reaped by the caller's wait loop (foreground) or reparented.
		proc.cmd.Process.Release()
	}
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("exec %s: process %d set up and executed %q", c.state.ID, proc.pid, o.Process.Args[0])
	}
	return &ExecProcess{Pid: proc.pid, Direct: proc.cmd != nil}, nil
}

func checkExecStatus(status Status, ignorePaused bool) error {
	switch status {
	case Stopped, Creating:
		return ErrExecStopped
	case Paused:
		if !ignorePaused {
			return ErrExecPaused
		}
	}
	return nil
}

// finishExec puts the process in the container's cgroup (the cgroup2
// directory by writing its pid, the v1 hierarchies by sending it their
// "tasks" files to join itself right after its config): nothing of the
// process runs outside the cgroup's limits. It then waits for the outcome: EOF on the close-on-exec
// sync socket means execve succeeded.
//
// A frozen cgroup (--ignore-paused) would freeze the process before it
// could execve, and berth would wait for it until the container is
// resumed; there the process joins the cgroup right after execve, and is
// frozen from then on.
func (c *Container) finishExec(proc *started, o *ExecOpts, cgPaths map[string]string, frozen bool) error {
	defer proc.conn.Close()
	// The cgroup2 directory we write the process into; the v1
	// hierarchies it joins itself (sendCgroupJoin below).
	if len(cgPaths) > 0 && !frozen {
		if dir, ok := cgPaths[""]; ok {
			if err := enterCgroups(map[string]string{"": dir}, proc.pid); err != nil {
				return err
			}
		}
	}
	spec := c.state.spec // decoded by Exec
	state := c.specState(Running)
	cfg := &initConfig{
		ID: c.state.ID, Bundle: c.state.Bundle, Rootfs: c.state.Rootfs, Exec: true,
		Spec: spec, Process: o.Process, PreserveFds: o.PreserveFds,
		CgroupPaths: c.state.CgroupPaths,
		UserNS:      configs.HasNamespace(spec, specs.UserNamespace),
		State:       &state,
		ClearONLCR:  o.RelayConsole,
	}
	if sc := spec.Linux.Seccomp; sc != nil && sc.ListenerPath != "" {
		cfg.SeccompToParent = true
	}
	if err := proc.conn.send(msgConfig, cfg); err != nil {
		return fmt.Errorf("send config to exec process: %w", err)
	}
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("exec %s: config sent to process %d (frozen container: %t)", c.state.ID, proc.pid, frozen)
	}
	// cgroup v1: the process joins itself, cheaply (see joinCgroups); a
	// frozen cgroup would freeze it before its execve, so there the
	// runtime moves it after.
	var joinDirs []string
	if !frozen {
		joinDirs = bcgroups.DistinctDirs(cgPaths, false)
	}
	if err := sendCgroupJoin(proc.conn, joinDirs); err != nil {
		return childFailure(proc.conn, err)
	}
	if err := c.serveExec(proc, &state); err != nil {
		return err
	}
	if len(cgPaths) > 0 && frozen {
		return enterCgroups(cgPaths, proc.pid)
	}
	return nil
}

// serveExec answers the exec process until it execve's (EOF) or fails.
func (c *Container) serveExec(proc *started, state *specs.State) error {
	spec := c.state.spec // decoded by Exec
	for {
		m, err := proc.conn.recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read from exec process: %w", err)
		}
		switch m.Type {
		case msgError:
			return errors.New(m.Error)
		case msgSeccompFd:
			logrus.Debugf("exec %s: passing the seccomp notify fd of process %d to %s", c.state.ID, proc.pid, spec.Linux.Seccomp.ListenerPath)
			if err := passSeccompFd(proc, spec.Linux.Seccomp, *state); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected %q message from exec process", m.Type)
		}
	}
}

// ParseSubCgroups parses exec's --cgroup entries as runc does: "path"
// (every controller; only as the one entry) or "ctrl[,ctrl]:path". The
// result maps a controller ("" for all) to its path relative to the
// container's cgroup.
func ParseSubCgroups(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	sub := make(map[string]string, len(args))
	for _, arg := range args {
		parts := strings.Split(arg, ":")
		switch len(parts) {
		case 1:
			if len(args) != 1 {
				return nil, fmt.Errorf("--cgroup %q: a path without a controller must be the only --cgroup", arg)
			}
			sub[""] = arg
		case 2:
			if parts[0] == "" {
				// ":path": cgroup v2's one hierarchy, no controller.
				sub[""] = parts[1]
				continue
			}
			for _, ctl := range strings.Split(parts[0], ",") {
				if ctl == "" {
					return nil, fmt.Errorf("--cgroup %q: empty controller name", arg)
				}
				sub[ctl] = parts[1]
			}
		default:
			return nil, fmt.Errorf("--cgroup %q: want path or controller[,controller]:path", arg)
		}
	}
	for ctl, rel := range sub {
		if rel == "" {
			return nil, fmt.Errorf("--cgroup %s: empty path", ctl)
		}
	}
	return sub, nil
}

// execCgroupPaths returns the cgroup directories the exec process joins:
// the container's own, with --cgroup's existing sub-cgroups in place of
// the ones it names. A path for every controller ("" key from
// ParseSubCgroups) applies to each of the container's hierarchies; on
// cgroup v2 the only controller name is "".
func (c *Container) execCgroupPaths(args []string) (map[string]string, error) {
	sub, err := ParseSubCgroups(args)
	if err != nil {
		return nil, err
	}
	paths := make(map[string]string, len(c.state.CgroupPaths))
	for k, v := range c.state.CgroupPaths {
		paths[k] = v
	}
	if rel, all := sub[""]; all {
		for ctl := range c.state.CgroupPaths {
			sub[ctl] = rel
		}
	}
	for ctl, rel := range sub {
		base, ok := c.state.CgroupPaths[ctl]
		if !ok {
			if ctl == "" {
				continue // "all" on a v1-only host: expanded above
			}
			return nil, fmt.Errorf("--cgroup %s:%s: the container has no %q cgroup", ctl, rel, ctl)
		}
		// Cleaned as an absolute path, ".." cannot climb out of base.
		clean := filepath.Clean("/" + rel)
		if clean == "/" {
			return nil, fmt.Errorf("--cgroup %q: names the container's own cgroup, not a sub-cgroup", rel)
		}
		dir := base + clean
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--cgroup %q: sub-cgroup %s does not exist", rel, dir)
		}
		paths[ctl] = dir
	}
	return paths, nil
}

// enterCgroups writes pid into every cgroup directory of paths.
func enterCgroups(paths map[string]string, pid int) error {
	done := map[string]bool{}
	for ctl, dir := range paths {
		if done[dir] {
			continue
		}
		done[dir] = true
		if err := cgroups.WriteCgroupProc(dir, pid); err != nil {
			return fmt.Errorf("add process %d to %s cgroup %s: %w", pid, ctl, dir, err)
		}
	}
	return nil
}

func orFile(f, def *os.File) *os.File {
	if f == nil {
		return def
	}
	return f
}
