package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v3"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer"
	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

func execCommand() *cli.Command {
	return &cli.Command{
		Name: "exec",
		// Everything after the container id is the command (or ps's
		// options), never berth's flags.
		StopOnNthArg: new(1),
		Usage:        "execute a new process inside a running container",
		ArgsUsage:    "<container-id> [command [args...]]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "path to a JSON process.json (specs.Process)"},
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the process"},
			&cli.StringFlag{Name: "pid-file", Usage: "file to write the process's host pid to"},
			&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master"},
			&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the process"},
			&cli.StringFlag{Name: "exec-wait-fifo", Usage: "a fifo the process opens for writing just before execve: it waits for a reader, then writes one byte"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
			&cli.StringFlag{Name: "cwd", Usage: "current working directory in the container"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables (KEY=VALUE)"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "uid[:gid] of the process"},
			&cli.Int64SliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "additional gids"},
			&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability to the bounding, effective and permitted sets"},
			&cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs for the process"},
			&cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile for the process"},
			&cli.StringFlag{Name: "process-label", Usage: "SELinux label for the process"},
			&cli.IntFlag{Name: "preserve-fds", Usage: "pass N extra fds (from fd 3) to the process"},
			&cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec in a paused container"},
			&cli.StringSliceFlag{Name: "cgroup", Usage: "run in a sub-cgroup: [controller[,controller]:]path"},
			&cli.BoolFlag{Name: "no-subreaper", Usage: "accepted for compatibility"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, false); err != nil {
				return err
			}
			id := cmd.Args().First()
			status, err := runExec(cmd, id)
			if err != nil {
				return &statusError{code: execFailedStatus, err: fmt.Errorf("exec failed: %w", err)}
			}
			if status != 0 {
				return &exitError{code: status}
			}
			return nil
		},
	}
}

// execFailedStatus is exec's exit status when exec itself fails (refused,
// or the process could not be started), runc's: a process's own status
// is 0-255 too, but 255 is the one a caller reads as the runtime's.
const execFailedStatus = 255

// runExec starts the process and, unless detached, waits for it and
// returns its exit status.
func runExec(cmd *cli.Command, id string) (int, error) {
	detach := cmd.Bool("detach")
	var sigs chan os.Signal
	if !detach {
		// The process is our grandchild when the nsenter intermediate
		// forked into the container's pid namespace: be its reaper.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return -1, fmt.Errorf("become subreaper: %w", err)
		}
		sigs = make(chan os.Signal, 128)
	}
	term := &terminalSink{}
	defer term.close()
	proc, err := libcontainer.Exec(func() (*libcontainer.Container, *libcontainer.ExecOpts, error) {
		return execOpts(cmd, id, detach, sigs, term)
	})
	term.started()
	if errors.Is(err, libcontainer.ErrExecPaused) {
		return -1, fmt.Errorf("%w (use --ignore-paused to override)", err)
	}
	if err != nil {
		return -1, err
	}
	if path := cmd.String("pid-file"); path != "" {
		if err := writePidFile(path, proc.Pid); err != nil {
			return -1, err
		}
	}
	if err := term.relay(); err != nil {
		unix.Kill(proc.Pid, unix.SIGKILL)
		return -1, err
	}
	if detach {
		return 0, nil
	}
	status := waitForwarding(proc.Pid, sigs)
	term.drain()
	if debugOn() {
		logrus.Debugf("exec %s: process %d exited with status %d", id, proc.Pid, status)
	}
	return status, nil
}

// execOpts loads the container and builds exec's options from the flags;
// term gets the terminal of a foreground exec with a tty.
func execOpts(cmd *cli.Command, id string, detach bool, sigs chan os.Signal, term *terminalSink) (*libcontainer.Container, *libcontainer.ExecOpts, error) {
	c, err := loadContainer(cmd)
	if err != nil {
		return nil, nil, err
	}
	if debugOn() {
		debugContainer("loaded for exec", c)
	}
	p, err := execProcessSpec(cmd, c)
	if err != nil {
		return nil, nil, err
	}
	if debugOn() {
		logrus.Debugf("exec %s: process %q as %d:%d (groups %v) in %s; terminal %t, detach %t, sub-cgroups %q", id, p.Args, p.User.UID, p.User.GID, p.User.AdditionalGids, p.Cwd, p.Terminal, detach, cmd.StringSlice("cgroup"))
	}
	consolePath := cmd.String("console-socket")
	if err := checkTerminalFlags(detach, p.Terminal, consolePath); err != nil {
		return nil, nil, err
	}
	preserve := int(cmd.Int("preserve-fds"))
	if preserve < 0 {
		return nil, nil, fmt.Errorf("--preserve-fds %d: must not be negative", preserve)
	}
	sub, err := parseSubCgroups(cmd.StringSlice("cgroup"))
	if err != nil {
		return nil, nil, err
	}
	opts := &libcontainer.ExecOpts{
		Process: p, PreserveFds: preserve, IgnorePaused: cmd.Bool("ignore-paused"),
		SubCgroups: sub, Signals: sigs, ExecWaitFifo: cmd.String("exec-wait-fifo"),
	}
	if !p.Terminal {
		opts.Stdin, opts.Stdout, opts.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	if err := term.open(opts, p.Terminal, consolePath); err != nil {
		return nil, nil, err
	}
	if opts.RelayConsole && p.ConsoleSize == nil {
		// The process sizes its pty before execve: a program reading its
		// size at once must not find 0x0 before the relay resizes it.
		p.ConsoleSize = userTerminalSize()
	}
	// Closed when berth exits: Exec sends the pidfd before it returns.
	if opts.PidfdSocket, err = dialPidfdSocket(cmd.String("pidfd-socket")); err != nil {
		return nil, nil, err
	}
	return c, opts, nil
}

// parseSubCgroups parses exec's --cgroup entries as runc does: "path"
// (every controller; only as the one entry) or "ctrl[,ctrl]:path". The
// result maps a controller ("" for all) to its path relative to the
// container's cgroup.
func parseSubCgroups(args []string) (map[string]string, error) {
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

// writePidFile writes pid atomically: clients read the file as soon as
// berth exits and must never see it half written.
func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("pid file %s: %w", path, err)
	}
	if err := utils.WriteFileAtomic(abs, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// checkTerminalFlags applies runc's rules: a detached terminal needs a
// console socket to send the pty to, and a console socket is only used by
// a detached process with a terminal.
func checkTerminalFlags(detach, tty bool, consoleSocket string) error {
	if detach && tty && consoleSocket == "" {
		return errors.New("cannot allocate tty if berth will detach without setting console socket")
	}
	if (!detach || !tty) && consoleSocket != "" {
		return errors.New("cannot use console socket if berth will not detach or allocate tty")
	}
	return nil
}

// execProcessSpec builds the process: from --process, or from the
// container's process with the command line and the flags applied.
func execProcessSpec(cmd *cli.Command, c *libcontainer.Container) (*specs.Process, error) {
	var p *specs.Process
	if path := cmd.String("process"); path != "" {
		var err error
		if p, err = readProcessFile(path); err != nil {
			return nil, err
		}
	} else {
		if cmd.Args().Len() < 2 {
			return nil, errors.New("process args cannot be empty: give a command or --process")
		}
		spec, err := c.Spec()
		if err != nil {
			return nil, err
		}
		p = copyProcess(spec.Process)
		p.Args = cmd.Args().Slice()[1:]
		p.CommandLine = ""
		// The container's terminal is init's: an exec process gets one
		// only with --tty (or from a --process file), as in runc.
		p.Terminal = false
	}
	if err := applyExecFlags(cmd, p); err != nil {
		return nil, err
	}
	if err := c.ExecDefaults(p); err != nil {
		return nil, err
	}
	return p, nil
}

func readProcessFile(path string) (*specs.Process, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read process file: %w", err)
	}
	p, err := configs.DecodeKnown[specs.Process]("process file "+path, data)
	if nerr := (*configs.NULError)(nil); errors.As(err, &nerr) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("parse process file %s: %w", path, err)
	}
	return p, nil
}

// copyProcess deep-copies the parts of the container's process that the
// flags modify, so the loaded state is never changed.
func copyProcess(base *specs.Process) *specs.Process {
	p := &specs.Process{}
	if base != nil {
		*p = *base
	}
	p.Env = append([]string(nil), p.Env...)
	p.User.AdditionalGids = append([]uint32(nil), p.User.AdditionalGids...)
	if p.Capabilities != nil {
		c := *p.Capabilities
		c.Bounding = append([]string(nil), c.Bounding...)
		c.Effective = append([]string(nil), c.Effective...)
		c.Permitted = append([]string(nil), c.Permitted...)
		c.Inheritable = append([]string(nil), c.Inheritable...)
		c.Ambient = append([]string(nil), c.Ambient...)
		p.Capabilities = &c
	}
	return p
}

// applyExecFlags applies the inline flags on top of the process.
func applyExecFlags(cmd *cli.Command, p *specs.Process) error {
	if cmd.Bool("tty") {
		p.Terminal = true
	}
	if cwd := cmd.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	p.Env = append(p.Env, cmd.StringSlice("env")...)
	if u := cmd.String("user"); u != "" {
		if err := parseExecUser(u, &p.User); err != nil {
			return err
		}
	}
	for _, g := range cmd.Int64Slice("additional-gids") {
		if g < 0 || g > math.MaxUint32 {
			return fmt.Errorf("--additional-gids %d: not a gid (0 to %d)", g, uint32(math.MaxUint32))
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if caps := cmd.StringSlice("cap"); len(caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		for _, name := range caps {
			name = strings.ToUpper(name)
			if !strings.HasPrefix(name, "CAP_") {
				name = "CAP_" + name
			}
			pc := p.Capabilities
			pc.Bounding = append(pc.Bounding, name)
			pc.Effective = append(pc.Effective, name)
			pc.Permitted = append(pc.Permitted, name)
			// Ambient only when the config has an inheritable set: --cap
			// adds nothing to it, and an ambient capability needs one
			// there (runc's rule; one that is missing is warned about
			// and skipped, as for the config's own).
			if pc.Inheritable != nil {
				pc.Ambient = append(pc.Ambient, name)
			}
		}
	}
	if cmd.Bool("no-new-privs") {
		p.NoNewPrivileges = true
	}
	if a := cmd.String("apparmor"); a != "" {
		p.ApparmorProfile = a
	}
	if l := cmd.String("process-label"); l != "" {
		p.SelinuxLabel = l
	}
	return nil
}

// parseExecUser parses --user uid[:gid] (numeric only, as runc: the
// container's /etc/passwd is not consulted from the host).
func parseExecUser(s string, u *specs.User) error {
	uidStr, gidStr, hasGid := strings.Cut(s, ":")
	uid, err := strconv.ParseUint(uidStr, 10, 32)
	if err != nil {
		return fmt.Errorf("--user %q: uid must be a number", s)
	}
	u.UID = uint32(uid)
	if hasGid {
		gid, err := strconv.ParseUint(gidStr, 10, 32)
		if err != nil {
			return fmt.Errorf("--user %q: gid must be a number", s)
		}
		u.GID = uint32(gid)
	}
	u.Username = ""
	return nil
}
