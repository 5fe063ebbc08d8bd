package main

import (
	"context"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
)

// initCommand is the container side, re-executed by berth itself.
func initCommand() *cli.Command {
	return &cli.Command{
		Name:   "init",
		Usage:  "(internal) set up the container process; never run it by hand",
		Hidden: true,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			// The error already went to the runtime over the sync socket.
			libcontainer.Init()
			os.Exit(1)
			return nil
		},
	}
}
