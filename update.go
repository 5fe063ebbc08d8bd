package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

func updateCommand() *cli.Command {
	return &cli.Command{
		Name:      "update",
		Usage:     "update a running container's resource limits",
		ArgsUsage: "<container-id>",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: `JSON LinuxResources file, or "-" for stdin`},
			&cli.StringFlag{Name: "blkio-weight", Usage: "block IO weight (10-1000)"},
			&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period in microseconds"},
			&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS quota in microseconds (-1: none)"},
			&cli.StringFlag{Name: "cpu-burst", Usage: "CPU CFS burst in microseconds: CPU time saved up beyond the quota"},
			&cli.StringFlag{Name: "cpu-idle", Usage: "1: the container's cgroup is SCHED_IDLE, 0: normal"},
			&cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period in microseconds"},
			&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime runtime in microseconds"},
			&cli.StringFlag{Name: "cpu-share", Aliases: []string{"cpu-shares"}, Usage: "CPU shares (relative weight)"},
			&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs allowed (e.g. 0-1)"},
			&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes allowed (e.g. 0)"},
			&cli.StringFlag{Name: "memory", Usage: "memory limit (bytes, or with k/m/g suffix; -1: none)"},
			&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit"},
			&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit (-1: unlimited swap)"},
			&cli.StringFlag{Name: "pids-limit", Usage: "maximum number of processes (-1 or 0: none)"},
			&cli.StringFlag{Name: "kernel-memory", Usage: "kernel memory limit (deprecated in the kernel: warned of, not applied)"},
			&cli.StringFlag{Name: "kernel-memory-tcp", Usage: "kernel TCP buffer memory limit (deprecated in the kernel: warned of, not applied)"},
			&cli.StringFlag{Name: "l3-cache-schema", Usage: `Intel RDT L3 cache schema ("L3:0=7ff;1=7ff"), where resctrl is mounted`},
			&cli.StringFlag{Name: "mem-bw-schema", Usage: `Intel RDT memory bandwidth schema ("MB:0=70;1=70"), where resctrl is mounted`},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, true); err != nil {
				return err
			}
			id := cmd.Args().First()
			if err := runUpdate(cmd); err != nil {
				return fmt.Errorf("update %s: %w", id, err)
			}
			return nil
		},
	}
}

func runUpdate(cmd *cli.Command) error {
	c, err := loadContainer(cmd)
	if err != nil {
		return err
	}
	r := &specs.LinuxResources{}
	if path := cmd.String("resources"); path != "" {
		if r, err = readResources(path); err != nil {
			return err
		}
	}
	if err := applyUpdateFlags(cmd, r); err != nil {
		return err
	}
	// First: refused where no resctrl is mounted, before any change.
	if err := c.UpdateIntelRdt(cmd.String("l3-cache-schema"), cmd.String("mem-bw-schema")); err != nil {
		return err
	}
	return c.Update(r)
}

// readResources decodes a LinuxResources from a file or stdin ("-").
func readResources(path string) (*specs.LinuxResources, error) {
	var in io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open resources: %w", err)
		}
		defer f.Close()
		in = f
	}
	// As runc, the first JSON value is read and nothing after it, which a
	// pipe left open would make wait; seen holds what the decoder read.
	var r specs.LinuxResources
	var seen bytes.Buffer
	dec := json.NewDecoder(io.TeeReader(io.LimitReader(in, 4<<20), &seen))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode resources %s: %w", path, err)
	}
	configs.WarnUnknown[specs.LinuxResources]("resources "+path, seen.Bytes())
	return &r, nil
}

// applyUpdateFlags sets the fields named by the individual flags.
func applyUpdateFlags(cmd *cli.Command, r *specs.LinuxResources) error {
	mem := func() *specs.LinuxMemory {
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		return r.Memory
	}
	cpu := func() *specs.LinuxCPU {
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
		return r.CPU
	}
	sizes := []struct {
		flag string
		dst  func() **int64
	}{
		{"memory", func() **int64 { return &mem().Limit }},
		{"memory-reservation", func() **int64 { return &mem().Reservation }},
		{"memory-swap", func() **int64 { return &mem().Swap }},
		// Both are warned of and not applied (the kernel has dropped
		// them), as in a config and as runc does.
		{"kernel-memory", func() **int64 { return &mem().Kernel }},
		{"kernel-memory-tcp", func() **int64 { return &mem().KernelTCP }},
	}
	for _, s := range sizes {
		if v := cmd.String(s.flag); v != "" {
			n, err := parseSize(v)
			if err != nil {
				return fmt.Errorf("--%s: %w", s.flag, err)
			}
			*s.dst() = &n
		}
	}
	ints := []struct {
		flag string
		dst  func(int64) error
	}{
		{"cpu-quota", func(n int64) error { cpu().Quota = &n; return nil }},
		{"cpu-rt-runtime", func(n int64) error { cpu().RealtimeRuntime = &n; return nil }},
		{"pids-limit", func(n int64) error { r.Pids = &specs.LinuxPids{Limit: &n}; return nil }},
		{"cpu-period", func(n int64) error { return setUint(&cpu().Period, n) }},
		{"cpu-burst", func(n int64) error { return setUint(&cpu().Burst, n) }},
		{"cpu-idle", func(n int64) error { cpu().Idle = &n; return nil }},
		{"cpu-rt-period", func(n int64) error { return setUint(&cpu().RealtimePeriod, n) }},
		{"cpu-share", func(n int64) error { return setUint(&cpu().Shares, n) }},
		{"blkio-weight", func(n int64) error {
			if n < 0 || n > 0xffff {
				return fmt.Errorf("%d is out of range", n)
			}
			w := uint16(n)
			if r.BlockIO == nil {
				r.BlockIO = &specs.LinuxBlockIO{}
			}
			r.BlockIO.Weight = &w
			return nil
		}},
	}
	for _, i := range ints {
		v := cmd.String(i.flag)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("--%s %q: not an integer", i.flag, v)
		}
		if err := i.dst(n); err != nil {
			return fmt.Errorf("--%s: %w", i.flag, err)
		}
	}
	if v := cmd.String("cpuset-cpus"); v != "" {
		cpu().Cpus = v
	}
	if v := cmd.String("cpuset-mems"); v != "" {
		cpu().Mems = v
	}
	return nil
}

func setUint(dst **uint64, n int64) error {
	if n < 0 {
		return fmt.Errorf("%d must not be negative", n)
	}
	u := uint64(n)
	*dst = &u
	return nil
}

// parseSize parses a byte count with an optional binary suffix (k, m, g,
// t, optionally followed by b), or -1 for "no limit".
func parseSize(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	lower := strings.TrimSuffix(strings.ToLower(s), "b")
	mult := int64(1)
	if n := len(lower); n > 0 {
		switch lower[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult > 1 {
			lower = lower[:n-1]
		}
	}
	n, err := strconv.ParseInt(lower, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	if n > (1<<63-1)/mult {
		return 0, fmt.Errorf("size %q overflows", s)
	}
	return n * mult, nil
}
