package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

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
			if err := configs.ValidateID(id); err != nil {
				return err // it quotes (a prefix of) the ID: no "create <id>" around it
			}
			c, closeConsole, err := createContainer(cmd, id, nil, nil)
			if closeConsole != nil {
				closeConsole()
			}
			if err != nil {
				return fmt.Errorf("create %s: %w", id, err)
			}
			_ = c
			return nil
		},
	}
}

// startNow makes createContainer start the process too, as soon as it is
// set up (run; see libcontainer.CreateOpts.StartNow).
type startNow struct {
	// Background runs while init sets up; Before just before it is
	// told to go.
	Background, Before func()
}

// createContainer creates the container of a create or run command.
// localConsole, when not nil, receives the pty master of a terminal
// process given no --console-socket (a foreground run relays it).
func createContainer(cmd *cli.Command, id string, localConsole *os.File, start *startNow) (*libcontainer.Container, func(), error) {
	// berth's binary is sealed for init in the background while the
	// bundle is read; Create takes the seal over.
	seal := libcontainer.OwnSeal(nil)
	defer seal.Release()
	if err := configs.ValidateID(id); err != nil {
		return nil, nil, err
	}
	root, err := stateRoot(cmd)
	if err != nil {
		return nil, nil, err
	}
	bundle := cmd.String("bundle")
	if bundle == "" {
		bundle = "."
	}
	bundle, err = filepath.Abs(bundle)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle: %w", err)
	}
	spec, err := configs.LoadSpec(bundle)
	if err != nil {
		return nil, nil, err
	}
	if debugOn() {
		debugSpec(id, bundle, root, spec)
	}
	pidFile := cmd.String("pid-file")
	if pidFile != "" {
		if pidFile, err = filepath.Abs(pidFile); err != nil {
			return nil, nil, err
		}
	}
	preserve := int(cmd.Int("preserve-fds"))
	if preserve < 0 {
		return nil, nil, fmt.Errorf("--preserve-fds %d: must not be negative", preserve)
	}
	rootless, err := rootlessCgroups(cmd)
	if err != nil {
		return nil, nil, err
	}
	opts := &libcontainer.CreateOpts{
		Root: root, ID: id, Bundle: bundle, Spec: spec, PidFile: pidFile,
		NoPivot: cmd.Bool("no-pivot"), NoNewKeyring: cmd.Bool("no-new-keyring"),
		PreserveFds: preserve, Systemd: cmd.Root().Bool("systemd-cgroup"),
		Rootless: rootless,
		Stdin:    os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
	}
	if start != nil {
		opts.StartNow, opts.Background, opts.BeforeStart = true, start.Background, start.Before
	}
	var closeConsole func()
	if path := cmd.String("console-socket"); path != "" {
		sock, err := dialConsoleSocket(path)
		if err != nil {
			return nil, nil, err
		}
		opts.ConsoleSocket = sock
		closeConsole = func() { sock.Close() }
	} else if localConsole != nil && spec.Process != nil && spec.Process.Terminal {
		opts.ConsoleSocket, opts.RelayConsole = localConsole, true
	}
	opts.Seal = seal.Take()
	c, err := libcontainer.Create(opts)
	if err == nil && debugOn() {
		debugContainer("created", c)
	}
	return c, closeConsole, err
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
