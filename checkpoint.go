package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
	"github.com/berth-runtime/berth/libcontainer/criu"
	"github.com/berth-runtime/berth/libcontainer/hugeheap"
)

// criuFlags are the CRIU options checkpoint and restore share (runc's).
func criuFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "image-path", Usage: "path for saving criu image files (default: ./checkpoint)"},
		&cli.StringFlag{Name: "work-path", Usage: "path for saving work files and logs"},
		&cli.BoolFlag{Name: "tcp-established", Usage: "allow open tcp connections"},
		&cli.BoolFlag{Name: "ext-unix-sk", Usage: "allow external unix sockets"},
		&cli.BoolFlag{Name: "shell-job", Usage: "allow shell jobs"},
		&cli.BoolFlag{Name: "lazy-pages", Usage: "use userfaultfd to lazily restore memory pages"},
		&cli.BoolFlag{Name: "file-locks", Usage: "handle file locks, for safety"},
		&cli.StringFlag{Name: "manage-cgroups-mode", Usage: "cgroups mode: soft|full|strict|ignore (default: soft)"},
		&cli.StringSliceFlag{Name: "empty-ns", Usage: "create a namespace, but don't restore its properties (network only)"},
		&cli.BoolFlag{Name: "auto-dedup", Usage: "enable auto deduplication of memory images"},
	}
}

func checkpointCommand() *cli.Command {
	flags := append(criuFlags(),
		&cli.StringFlag{Name: "parent-path", Usage: "path for previous criu image files in pre-dump (relative to --image-path)"},
		&cli.BoolFlag{Name: "leave-running", Usage: "leave the process running after checkpointing"},
		&cli.IntFlag{Name: "status-fd", Value: -1, Usage: "criu writes \\0 to this FD once lazy-pages is ready"},
		&cli.StringFlag{Name: "page-server", Usage: "ADDRESS:PORT of the page server"},
		&cli.BoolFlag{Name: "pre-dump", Usage: "dump container's memory information only, leave the container running after this"},
		&cli.BoolFlag{Name: "tcp-skip-in-flight", Usage: "skip in-flight tcp connections (those not yet accepted or still connecting)"},
		&cli.BoolFlag{Name: "link-remap", Usage: "allow criu to link files that are open but unlinked back into the filesystem while dumping"},
	)
	return &cli.Command{
		Name:      "checkpoint",
		Usage:     "checkpoint a running container",
		ArgsUsage: "<container-id>",
		Flags:     flags,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, true); err != nil {
				return err
			}
			c, err := loadContainer(cmd)
			if err != nil {
				return err
			}
			o, err := criuOpts(cmd, false)
			if err != nil {
				return fmt.Errorf("checkpoint %s: %w", c.ID(), err)
			}
			// CRIU may take long over a big container (hugeheap.Release).
			hugeheap.Release()
			if err := c.Checkpoint(&libcontainer.CheckpointOpts{Opts: *o, CriuPath: cmd.Root().String("criu")}); err != nil {
				return fmt.Errorf("checkpoint %s: %w", c.ID(), err)
			}
			return nil
		},
	}
}

// criuOpts reads the CRIU flags of checkpoint (restore=false) or restore.
func criuOpts(cmd *cli.Command, restore bool) (*criu.Opts, error) {
	image := cmd.String("image-path")
	if image == "" {
		image = "checkpoint"
	}
	image, err := filepath.Abs(image)
	if err != nil {
		return nil, fmt.Errorf("--image-path: %w", err)
	}
	work := cmd.String("work-path")
	if work != "" {
		if work, err = filepath.Abs(work); err != nil {
			return nil, fmt.Errorf("--work-path: %w", err)
		}
	}
	o := &criu.Opts{
		ImagePath: image, WorkPath: work,
		TCPEstablished: cmd.Bool("tcp-established"), ExtUnixSk: cmd.Bool("ext-unix-sk"),
		ShellJob: cmd.Bool("shell-job"), LazyPages: cmd.Bool("lazy-pages"),
		FileLocks: cmd.Bool("file-locks"), AutoDedup: cmd.Bool("auto-dedup"),
		ManageCgroupsMode: cmd.String("manage-cgroups-mode"), EmptyNs: cmd.StringSlice("empty-ns"),
		StatusFd: -1,
	}
	if restore {
		o.LsmProfile, o.LsmMountContext = cmd.String("lsm-profile"), cmd.String("lsm-mount-context")
	} else {
		o.LeaveRunning, o.PreDump = cmd.Bool("leave-running"), cmd.Bool("pre-dump")
		o.PageServer, o.StatusFd = cmd.String("page-server"), int(cmd.Int("status-fd"))
		o.ParentPath = cmd.String("parent-path")
		o.TCPSkipInFlight, o.LinkRemap = cmd.Bool("tcp-skip-in-flight"), cmd.Bool("link-remap")
		if err := checkParentPath(image, o.ParentPath); err != nil {
			return nil, err
		}
	}
	if err := o.Validate(restore); err != nil {
		return nil, err
	}
	return o, nil
}

// checkParentPath: --parent-path is relative to the image directory and
// must name a directory there (a previous pre-dump's).
func checkParentPath(image, parent string) error {
	if parent == "" {
		return nil
	}
	if filepath.IsAbs(parent) {
		return errors.New("--parent-path must be relative (to --image-path)")
	}
	fi, err := os.Stat(filepath.Join(image, parent))
	if err != nil {
		return fmt.Errorf("invalid --parent-path: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("invalid --parent-path: %s is not a directory", filepath.Join(image, parent))
	}
	return nil
}
