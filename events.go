package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
	"github.com/berth-runtime/berth/libcontainer/hugeheap"
)

// event is one line of `berth events`, in runc's format (what
// containerd's go-runc decodes): type "stats" with Data, or "oom".
type event struct {
	Type string              `json:"type"`
	ID   string              `json:"id"`
	Data *libcontainer.Stats `json:"data,omitempty"`
}

func eventsCommand() *cli.Command {
	return &cli.Command{
		Name:      "events",
		Usage:     "print resource usage statistics and OOM events of a container",
		ArgsUsage: "<container-id>",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "interval between stats"},
			&cli.BoolFlag{Name: "stats", Usage: "print the stats once and exit"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, true); err != nil {
				return err
			}
			id := cmd.Args().First()
			if err := runEvents(cmd); err != nil {
				return fmt.Errorf("events %s: %w", id, err)
			}
			return nil
		},
	}
}

func runEvents(cmd *cli.Command) error {
	interval := cmd.Duration("interval")
	if interval <= 0 {
		return errors.New("--interval must be greater than 0")
	}
	c, err := loadContainer(cmd)
	if err != nil {
		return err
	}
	if st := c.Status(); st == libcontainer.Stopped || st == libcontainer.Creating {
		return libcontainer.ErrNotRunning
	}
	enc := json.NewEncoder(os.Stdout)
	emitStats := func() error {
		s, err := c.Stats()
		if err != nil {
			return err
		}
		return enc.Encode(&event{Type: "stats", ID: c.ID(), Data: s})
	}
	if cmd.Bool("stats") {
		return emitStats()
	}
	oom, err := c.NotifyOOM()
	if err != nil {
		return err
	}
	defer oom.Close()
	// One snapshot at once (once OOMs are being watched), then one per
	// interval: a client need not wait a whole interval to see the first.
	if err := emitStats(); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
		return err
	}
	// From here on the command lives as long as the container does
	// (hugeheap.Release).
	hugeheap.Release()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	// A short poll notices the container stopping long before a long
	// --interval would.
	alive := time.NewTicker(100 * time.Millisecond)
	defer alive.Stop()
	oomEvent := &event{Type: "oom", ID: c.ID()}
	for {
		select {
		case _, ok := <-oom.C:
			if !ok {
				oom.C = nil
				continue
			}
			if err := enc.Encode(oomEvent); err != nil {
				return err
			}
		case <-tick.C:
			if c.Status() == libcontainer.Stopped {
				return nil
			}
			if err := emitStats(); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
				return err
			}
		case <-alive.C:
			for n := oom.Poll(); n > 0; n-- {
				if err := enc.Encode(oomEvent); err != nil {
					return err
				}
			}
			if c.Status() == libcontainer.Stopped || c.Deleted() {
				return drainOOM(oom, enc, oomEvent)
			}
		}
	}
}

// drainOOM prints OOM events already delivered when the container
// stopped: an OOM kill of init is what often stops it.
func drainOOM(oom *libcontainer.OOMNotifier, enc *json.Encoder, ev *event) error {
	for {
		select {
		case _, ok := <-oom.C:
			if !ok {
				return nil
			}
			if err := enc.Encode(ev); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}
