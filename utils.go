package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
)

// stateRoot returns the absolute --root.
func stateRoot(cmd *cli.Command) (string, error) {
	root, err := filepath.Abs(cmd.Root().String("root"))
	if err != nil {
		return "", fmt.Errorf("--root: %w", err)
	}
	return root, nil
}

// containerID returns the command's first argument (libcontainer.Load
// validates it).
func containerID(cmd *cli.Command) (string, error) {
	if cmd.Args().Len() < 1 {
		return "", errors.New("container id cannot be empty")
	}
	return cmd.Args().First(), nil
}

// checkArgs enforces an exact or minimum argument count.
func checkArgs(cmd *cli.Command, n int, exact bool) error {
	got := cmd.Args().Len()
	switch {
	case exact && got != n:
		return fmt.Errorf("%s: %d argument(s) expected, got %d", cmd.Name, n, got)
	case !exact && got < n:
		return fmt.Errorf("%s: at least %d argument(s) expected, got %d", cmd.Name, n, got)
	}
	return nil
}

// loadContainer loads the container named by the first argument.
func loadContainer(cmd *cli.Command) (*libcontainer.Container, error) {
	id, err := containerID(cmd)
	if err != nil {
		return nil, err
	}
	root, err := stateRoot(cmd)
	if err != nil {
		return nil, err
	}
	return libcontainer.Load(root, id)
}

// dialConsoleSocket connects to the --console-socket path.
func dialConsoleSocket(path string) (*os.File, error) {
	return dialSocket("console socket", path)
}

// dialPidfdSocket connects to the --pidfd-socket path, when given.
func dialPidfdSocket(path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	return dialSocket("pidfd socket", path)
}

// dialSocket connects to the unix socket at path (what names it in errors).
func dialSocket(what, path string) (*os.File, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to %s %s: %w", what, path, err)
	}
	defer conn.Close()
	f, err := conn.(*net.UnixConn).File()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return f, nil
}

// containerAction is the Action of a command whose one argument is a
// container ID: it loads the container and calls fn, naming the command
// and the container in fn's error.
func containerAction(fn func(*libcontainer.Container) error) cli.ActionFunc {
	return func(ctx context.Context, cmd *cli.Command) error {
		if err := checkArgs(cmd, 1, true); err != nil {
			return err
		}
		c, err := loadContainer(cmd)
		if err != nil {
			return err
		}
		if debugOn() {
			debugContainer("loaded for "+cmd.Name, c)
		}
		if err := fn(c); err != nil {
			return fmt.Errorf("%s %s: %w", cmd.Name, c.ID(), err)
		}
		if debugOn() {
			logrus.Debugf("%s %s: done", cmd.Name, c.ID())
		}
		return nil
	}
}
