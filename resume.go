package main

import (
	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
)

func resumeCommand() *cli.Command {
	return &cli.Command{
		Name:      "resume",
		Usage:     "resume every process of a paused container",
		ArgsUsage: "<container-id>",
		Action:    containerAction((*libcontainer.Container).Resume),
	}
}
