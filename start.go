package main

import (
	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
)

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start a created container",
		ArgsUsage: "<container-id>",
		Action:    containerAction((*libcontainer.Container).Start),
	}
}
