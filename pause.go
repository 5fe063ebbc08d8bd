package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"
)

func pauseCommand() *cli.Command {
	return &cli.Command{
		Name:      "pause",
		Usage:     "suspend every process in the container (cgroup freezer)",
		ArgsUsage: "<container-id>",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, true); err != nil {
				return err
			}
			c, err := loadContainer(cmd)
			if err != nil {
				return err
			}
			if err := c.Pause(); err != nil {
				return fmt.Errorf("pause %s: %w", c.ID(), err)
			}
			return nil
		},
	}
}
