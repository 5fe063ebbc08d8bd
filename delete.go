package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
)

func deleteCommand() *cli.Command {
	return &cli.Command{
		Name:      "delete",
		Usage:     "delete a container and everything it holds",
		ArgsUsage: "<container-id>",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill the container first if it is not stopped"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, true); err != nil {
				return err
			}
			force := cmd.Bool("force")
			c, err := loadContainer(cmd)
			if err != nil {
				if force && errors.Is(err, libcontainer.ErrNotExist) {
					return nil
				}
				return err
			}
			if debugOn() {
				debugContainer("loaded for delete", c)
				logrus.Debugf("delete %s: force %t", c.ID(), force)
			}
			if err := c.Destroy(force); err != nil {
				if force && errors.Is(err, libcontainer.ErrNotExist) {
					return nil
				}
				return fmt.Errorf("delete %s: %w", c.ID(), err)
			}
			return nil
		},
	}
}
