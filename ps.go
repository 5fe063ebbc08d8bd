package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/urfave/cli/v3"
)

func psCommand() *cli.Command {
	return &cli.Command{
		Name: "ps",
		// Everything after the container id is the command (or ps's
		// options), never berth's flags.
		StopOnNthArg: new(1), // the arguments after the id are ps's
		Usage:        "list the processes running inside a container",
		ArgsUsage:    "<container-id> [ps options]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json (an array of host pids)"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, false); err != nil {
				return err
			}
			id := cmd.Args().First()
			if err := runPs(cmd); err != nil {
				return fmt.Errorf("ps %s: %w", id, err)
			}
			return nil
		},
	}
}

func runPs(cmd *cli.Command) error {
	format := cmd.String("format")
	if format != "table" && format != "json" {
		return fmt.Errorf("invalid format %q (want table or json)", format)
	}
	c, err := loadContainer(cmd)
	if err != nil {
		return err
	}
	pids, err := c.Processes()
	if err != nil {
		return err
	}
	if format == "json" {
		if pids == nil {
			pids = []int{}
		}
		return json.NewEncoder(os.Stdout).Encode(pids)
	}
	psArgs := cmd.Args().Slice()[1:]
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	out, err := exec.Command("ps", psArgs...).Output()
	if err != nil {
		return psError(psArgs, err)
	}
	table, err := filterPsTable(out, pids)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(table)
	return err
}

// psError is ps's failure with the first line ps said on its stderr
// (runc shows all of it; the rest is usually ps's usage text), which
// Output kept in the *exec.ExitError.
func psError(args []string, err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		msg, _, _ := strings.Cut(strings.TrimSpace(string(ee.Stderr)), "\n")
		if msg != "" {
			return fmt.Errorf("run ps %s: %w: %s", strings.Join(args, " "), err, msg)
		}
	}
	return fmt.Errorf("run ps %s: %w", strings.Join(args, " "), err)
}

// filterPsTable keeps ps's header and the rows whose PID column is one of
// pids.
func filterPsTable(out []byte, pids []int) ([]byte, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := -1
	for i, name := range strings.Fields(lines[0]) {
		if name == "PID" {
			col = i
			break
		}
	}
	if col < 0 {
		return nil, errors.New("ps output has no PID column (pass options that print it)")
	}
	in := make(map[int]bool, len(pids))
	for _, p := range pids {
		in[p] = true
	}
	var buf bytes.Buffer
	buf.WriteString(lines[0] + "\n")
	for _, line := range lines[1:] {
		fields := strings.Fields(line)
		if col >= len(fields) {
			continue
		}
		pid, err := strconv.Atoi(fields[col])
		if err == nil && in[pid] {
			buf.WriteString(line + "\n")
		}
	}
	return buf.Bytes(), nil
}
