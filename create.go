package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
	"github.com/berth-runtime/berth/libcontainer/configs"
)

// createFlags are shared by create and run.
func createFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "path to the root of the bundle directory (default: current directory)"},
		&cli.StringFlag{Name: "pid-file", Usage: "file to write the container's init pid to"},
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master (process.terminal)"},
		&cli.BoolFlag{Name: "no-pivot", Usage: "use MS_MOVE and chroot instead of pivot_root"},
		&cli.BoolFlag{Name: "no-new-keyring", Usage: "keep the runtime's session keyring"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N extra fds (from fd 3) to the container"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the container's init"},
	}
}

func createCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create a container",
		ArgsUsage: "<container-id>",
		Flags:     createFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, true); err != nil {
				return err
			}
			id := cmd.Args().First()
			c, closeConsole, err := createContainer(cmd, id, nil, false, nil, nil)
			if closeConsole != nil {
				closeConsole()
			}
			if err != nil {
				return createError(cmd, err)
			}
			_ = c
			return nil
		},
	}
}

// createError is the error of a create or run, worded as runc's ("runc
// create failed: ...", with the program's name as invoked), which users
// of a drop-in and their tools know. A refused ID is quoted by its own
// message alone.
func createError(cmd *cli.Command, err error) error {
	if errors.Is(err, configs.ErrInvalidID) {
		return err
	}
	return fmt.Errorf("%s %s failed: %w", cmd.Root().Name, cmd.Name, err)
}

// createContainer creates the container of a create or run command.
// localConsole, when not nil, receives the pty master of a terminal
// process given no --console-socket (a foreground run relays it). run
// starts the process as soon as it is set up; sigs (a foreground run)
// gets the signals to forward to it.
//
// beforeStart (run) is called once a relayed terminal's master is there,
// before the process starts.
func createContainer(cmd *cli.Command, id string, localConsole *os.File, run bool, sigs chan os.Signal, beforeStart func() error) (*libcontainer.Container, func(), error) {
	var closeConsole func()
	c, err := libcontainer.Create(func() (*libcontainer.CreateOpts, error) {
		opts, err := createOpts(cmd, id)
		if err != nil {
			return nil, err
		}
		opts.StartNow, opts.Signals = run, sigs
		opts.OrphansToHost = run && sigs != nil && cmd.Bool("no-subreaper")
		var toClose []*os.File
		closeConsole = func() {
			for _, f := range toClose {
				f.Close()
			}
		}
		if path := cmd.String("console-socket"); path != "" {
			sock, err := dialConsoleSocket(path)
			if err != nil {
				return nil, err
			}
			opts.ConsoleSocket = sock
			toClose = append(toClose, sock)
		} else if localConsole != nil && opts.Spec.Process != nil && opts.Spec.Process.Terminal {
			opts.ConsoleSocket, opts.RelayConsole = localConsole, true
			opts.BeforeStart = beforeStart
		}
		if opts.PidfdSocket, err = dialPidfdSocket(cmd.String("pidfd-socket")); err != nil {
			return nil, err
		}
		if opts.PidfdSocket != nil {
			toClose = append(toClose, opts.PidfdSocket)
		}
		if opts.Spec.Process != nil && opts.Spec.Process.Terminal && opts.ConsoleSocket == nil {
			return nil, errors.New("process.terminal is true but no console socket was given (--console-socket)")
		}
		if opts.Spec.Process != nil && !opts.Spec.Process.Terminal && opts.ConsoleSocket != nil {
			return nil, errors.New("--console-socket given but process.terminal is false")
		}
		return opts, nil
	})
	if err == nil && debugOn() {
		debugContainer("created", c)
	}
	return c, closeConsole, err
}

// createOpts reads the bundle and the flags of create and run.
func createOpts(cmd *cli.Command, id string) (*libcontainer.CreateOpts, error) {
	root, err := stateRoot(cmd)
	if err != nil {
		return nil, err
	}
	bundle := cmd.String("bundle")
	if bundle == "" {
		bundle = "."
	}
	bundle, err = filepath.Abs(bundle)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	spec, err := configs.LoadSpec(bundle)
	if err != nil {
		return nil, err
	}
	if debugOn() {
		debugSpec(id, bundle, root, spec)
	}
	pidFile := cmd.String("pid-file")
	if pidFile != "" {
		if pidFile, err = filepath.Abs(pidFile); err != nil {
			return nil, err
		}
	}
	preserve := int(cmd.Int("preserve-fds"))
	if preserve < 0 {
		return nil, fmt.Errorf("--preserve-fds %d: must not be negative", preserve)
	}
	// Socket activation, as runc: the fds systemd passed to berth go to
	// the container first, the --preserve-fds ones after them.
	listen := listenFds()
	preserve += listen
	rootless, err := rootlessCgroups(cmd)
	if err != nil {
		return nil, err
	}
	opts := &libcontainer.CreateOpts{
		Root: root, ID: id, Bundle: bundle, Spec: spec, PidFile: pidFile,
		NoPivot: cmd.Bool("no-pivot"), NoNewKeyring: cmd.Bool("no-new-keyring"),
		PreserveFds: preserve, Systemd: cmd.Root().Bool("systemd-cgroup"),
		Rootless: rootless,
		Stdin:    os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
	}
	if listen > 0 {
		opts.ExtraEnv = []string{"LISTEN_FDS=" + strconv.Itoa(listen), "LISTEN_PID=1"}
	}
	// systemd's notify socket, as runc: the container gets a relay to it.
	opts.NotifySocket = os.Getenv("NOTIFY_SOCKET")
	return opts, nil
}

// debugSpec logs, for --debug, what create is about to make.
func debugSpec(id, bundle, root string, spec *specs.Spec) {
	var args []string
	if spec.Process != nil {
		args = spec.Process.Args
	}
	var nss []string
	if spec.Linux != nil {
		for _, ns := range spec.Linux.Namespaces {
			if ns.Path != "" {
				nss = append(nss, string(ns.Type)+"="+ns.Path)
			} else {
				nss = append(nss, string(ns.Type))
			}
		}
	}
	logrus.Debugf("container %s: config.json of bundle %s loaded (ociVersion %s); state under %s/%s", id, bundle, spec.Version, root, id)
	logrus.Debugf("container %s: process %q; namespaces %v; %d mounts", id, args, nss, len(spec.Mounts))
}

// debugContainer logs, for --debug, the container's state after what
// (created, started, ...).
func debugContainer(what string, c *libcontainer.Container) {
	st := c.State()
	logrus.Debugf("container %s %s: status %s, init pid %d", c.ID(), what, c.Status(), st.InitPid)
	if len(st.CgroupPaths) > 0 {
		logrus.Debugf("container %s: cgroups %v", c.ID(), st.CgroupPaths)
	}
}

// listenFds is the number of fds (from fd 3) socket activation passed to
// berth: LISTEN_FDS, when LISTEN_PID names this process (the variables
// are for whoever systemd started, not for a process they leaked to).
func listenFds() int {
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) {
		return 0
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
