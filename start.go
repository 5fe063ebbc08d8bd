package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"
)

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start a created container",
		ArgsUsage: "<container-id>",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, true); err != nil {
				return err
			}
			c, err := loadContainer(cmd)
			if err != nil {
				return err
			}
			if err := c.Start(); err != nil {
				return fmt.Errorf("start %s: %w", c.ID(), err)
			}
			return nil
		},
	}
}
