package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
	"github.com/berth-runtime/berth/libcontainer/configs"
)

func restoreCommand() *cli.Command {
	flags := append(criuFlags(),
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "path to the root of the bundle directory (default: current directory)"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
		&cli.StringFlag{Name: "pid-file", Usage: "file to write the container's init pid to"},
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the new pty master (process.terminal)"},
		// CRIU restores the container's mount namespace itself: no
		// pivot_root is done, so --no-pivot changes nothing.
		&cli.BoolFlag{Name: "no-pivot", Usage: "accepted for compatibility (CRIU restores the mount namespace; no pivot_root is done)"},
		&cli.BoolFlag{Name: "no-subreaper", Usage: "accepted for compatibility (the restored init is berth's child; berth waits for it unless detached)"},
		&cli.StringFlag{Name: "lsm-profile", Usage: "LSM profile to restore the processes with, as TYPE:NAME"},
		&cli.StringFlag{Name: "lsm-mount-context", Usage: "LSM mount context to restore the mounts with"},
	)
	return &cli.Command{
		Name:      "restore",
		Usage:     "restore a container from a previous checkpoint",
		ArgsUsage: "<container-id>",
		Flags:     flags,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, true); err != nil {
				return err
			}
			id := cmd.Args().First()
			if err := configs.ValidateID(id); err != nil {
				return err
			}
			status, err := restoreContainer(cmd, id)
			if err != nil {
				return fmt.Errorf("restore %s: %w", id, err)
			}
			if status != 0 {
				return &exitError{code: status}
			}
			return nil
		},
	}
}

// restoreContainer restores the container and, unless detached, waits
// for its init as run does, returning its exit status.
func restoreContainer(cmd *cli.Command, id string) (int, error) {
	root, err := stateRoot(cmd)
	if err != nil {
		return 0, err
	}
	bundle := cmd.String("bundle")
	if bundle == "" {
		bundle = "."
	}
	if bundle, err = filepath.Abs(bundle); err != nil {
		return 0, fmt.Errorf("bundle: %w", err)
	}
	spec, err := configs.LoadSpec(bundle)
	if err != nil {
		return 0, err
	}
	o, err := criuOpts(cmd, true)
	if err != nil {
		return 0, err
	}
	pidFile := cmd.String("pid-file")
	if pidFile != "" {
		if pidFile, err = filepath.Abs(pidFile); err != nil {
			return 0, err
		}
	}
	ro := &libcontainer.RestoreOpts{
		Opts: *o, CriuPath: cmd.Root().String("criu"),
		Root: root, ID: id, Bundle: bundle, Spec: spec, PidFile: pidFile,
		Systemd: cmd.Root().Bool("systemd-cgroup"), Rootless: cmd.Root().String("rootless") == "true",
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
	}
	if path := cmd.String("console-socket"); path != "" {
		sock, err := dialConsoleSocket(path)
		if err != nil {
			return 0, err
		}
		defer sock.Close()
		ro.ConsoleSocket = sock
	}
	detach := cmd.Bool("detach")
	var sigs chan os.Signal
	if !detach {
		sigs = make(chan os.Signal, 128)
		libcontainer.NotifyForwarded(sigs)
	}
	c, err := libcontainer.Restore(ro)
	if err != nil {
		return 0, err
	}
	if detach {
		return 0, nil
	}
	// The restored init is berth's own child (CRIU restores it as its
	// sibling): wait for it, forwarding signals, then delete.
	status := waitForwarding(c.State().InitPid, sigs)
	if err := c.Destroy(true); err != nil && !errors.Is(err, libcontainer.ErrNotExist) {
		return status, err
	}
	return status, nil
}
