package main

import (
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v3"
)

func stateCommand() *cli.Command {
	return &cli.Command{
		Name:      "state",
		Usage:     "print the state of a container as JSON",
		ArgsUsage: "<container-id>",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, true); err != nil {
				return err
			}
			c, err := loadContainer(cmd)
			if err != nil {
				return err
			}
			data, err := c.MarshalState()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(os.Stdout, "%s\n", data)
			return err
		},
	}
}
