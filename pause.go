package main

import (
	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
)

func pauseCommand() *cli.Command {
	return &cli.Command{
		Name:      "pause",
		Usage:     "suspend every process in the container (cgroup freezer)",
		ArgsUsage: "<container-id>",
		Action:    containerAction((*libcontainer.Container).Pause),
	}
}
