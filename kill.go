package main

import (
	"context"
	"fmt"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v3"
	"golang.org/x/sys/unix"
)

func killCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "send a signal to a container's init (default SIGTERM)",
		ArgsUsage: "<container-id> [signal]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "signal every process in the container"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, false); err != nil {
				return err
			}
			if cmd.Args().Len() > 2 {
				return fmt.Errorf("kill: at most 2 arguments expected, got %d", cmd.Args().Len())
			}
			sig := unix.SIGTERM
			if s := cmd.Args().Get(1); s != "" {
				var err error
				if sig, err = parseSignal(s); err != nil {
					return err
				}
			}
			c, err := loadContainer(cmd)
			if err != nil {
				return err
			}
			if debugOn() {
				debugContainer("loaded for kill", c)
				logrus.Debugf("kill %s: sending %s (all processes: %t)", c.ID(), unix.SignalName(sig), cmd.Bool("all"))
			}
			return c.Signal(sig, cmd.Bool("all"))
		},
	}
}
