package main

import (
	"os"

	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
)

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start a created container",
		ArgsUsage: "<container-id>",
		Action:    containerAction(startContainer),
	}
}

// startContainer starts c; with NOTIFY_SOCKET (systemd's, or podman's
// --sdnotify=container) it returns once the container said it is ready,
// or its init is gone, as runc's start does.
func startContainer(c *libcontainer.Container) error {
	if host := os.Getenv("NOTIFY_SOCKET"); host != "" {
		return c.StartNotified(host)
	}
	return c.Start()
}
