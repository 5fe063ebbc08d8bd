package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"
)

func resumeCommand() *cli.Command {
	return &cli.Command{
		Name:      "resume",
		Usage:     "resume every process of a paused container",
		ArgsUsage: "<container-id>",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, true); err != nil {
				return err
			}
			c, err := loadContainer(cmd)
			if err != nil {
				return err
			}
			if err := c.Resume(); err != nil {
				return fmt.Errorf("resume %s: %w", c.ID(), err)
			}
			return nil
		},
	}
}
