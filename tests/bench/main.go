// Command benchdrv is the measuring half of `make bench` (bench.sh builds
// it and starts it inside a private mount namespace). It drives berth,
// runc and crun interleaved on the same busybox rootfs and prints a table
// of medians. It prints; it never asserts.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

type options struct {
	work      string
	berth     string
	runc      string
	crun      string
	iters     int
	batch     int
	parallel  int
	batchReps int
	rssReps   int
	workIters int
	scale     string
	ctrN      int
	repo      string
	timeBin   string
	cleanup   bool
	pageCost  bool
	hostMntNS string
}

func parseOptions() options {
	var o options
	flag.StringVar(&o.work, "work", "", "temp dir made by bench.sh (rootfs, base config, state roots)")
	flag.StringVar(&o.berth, "berth", "", "berth binary")
	flag.StringVar(&o.runc, "runc", "", "runc binary")
	flag.StringVar(&o.crun, "crun", "", "crun binary")
	flag.IntVar(&o.iters, "n", 100, "iterations of the lifecycle measurements, per runtime")
	flag.IntVar(&o.batch, "batch", 100, "containers in the batch measurement")
	flag.IntVar(&o.parallel, "parallel", 4, "concurrent commands in the batch measurement")
	flag.IntVar(&o.batchReps, "batch-reps", 3, "repetitions of the batch measurement, per runtime")
	flag.IntVar(&o.rssReps, "rss-n", 10, "rounds of the peak-RSS measurement, per runtime")
	flag.IntVar(&o.workIters, "work-n", 20, "iterations of the counted (perf) lifecycle, per runtime")
	flag.StringVar(&o.scale, "scale", "1,100", "comma-separated counts of existing containers for the create/state/list growth measurement (empty: skip)")
	flag.IntVar(&o.ctrN, "ctr-n", 20, "interleaved `ctr run --rm` per runtime through a private containerd (0: skip)")
	flag.StringVar(&o.repo, "repo", "", "berth checkout (for tests/clients: containerd.sh, mkimage.sh)")
	flag.StringVar(&o.timeBin, "time", "/usr/bin/time", "GNU time, for peak RSS (%M)")
	flag.BoolVar(&o.cleanup, "cleanup", false, "only delete whatever an earlier run left under -work, then exit")
	flag.BoolVar(&o.pageCost, "page-cost", false, "only print what the first touch of a page costs here, then exit")
	flag.StringVar(&o.hostMntNS, "host-mntns", "", "readlink of the caller's /proc/self/ns/mnt, to prove this is another namespace")
	flag.Parse()
	return o
}

func main() {
	opts := parseOptions()
	if err := run(opts); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func run(opts options) error {
	if opts.pageCost {
		return printPageCost()
	}
	if opts.work == "" || opts.berth == "" || opts.runc == "" || opts.crun == "" {
		return fmt.Errorf("-work, -berth, -runc and -crun are required")
	}
	if err := enterPrivateCgroupView(opts.hostMntNS); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become child subreaper: %w", err)
	}
	b, err := newBench(opts)
	if err != nil {
		return err
	}
	defer b.close()
	if opts.cleanup {
		b.cleanupAll()
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	defer b.cleanupAll()
	return b.measure(ctx)
}

// enterPrivateCgroupView makes the mount tree private, mounts tracefs
// when it is not, and unmounts the cgroup2 mount of the hybrid layout,
// which crun refuses. It acts only
// when this process is provably not in the caller's mount namespace.
func enterPrivateCgroupView(hostMntNS string) error {
	own, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return fmt.Errorf("read own mount namespace: %w", err)
	}
	if hostMntNS == "" || own == hostMntNS {
		return fmt.Errorf("refusing to unmount anything: mount namespace %s is the caller's (%q); run me under unshare -m", own, hostMntNS)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / rprivate: %w", err)
	}
	// System calls are counted with a tracepoint whose id tracefs gives
	// (syscallTracepoint): a host that has it unmounted gets it here, in
	// this namespace only. Without it they are not counted.
	if syscallTracepoint() == 0 {
		_ = unix.Mount("tracefs", "/sys/kernel/tracing", "tracefs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	}
	const unified = "/sys/fs/cgroup/unified"
	mounted, err := isMountPoint(unified)
	if err != nil || !mounted {
		return err
	}
	if err := unix.Unmount(unified, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount %s in the private namespace: %w", unified, err)
	}
	// crun still writes <cgroup>/cgroup.procs under the now plain
	// directory; a throwaway tmpfs keeps that off the host's
	// /sys/fs/cgroup tmpfs (it vanishes with the namespace).
	if err := unix.Mount("tmpfs", unified, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755,size=4m"); err != nil {
		return fmt.Errorf("mount a scratch tmpfs on %s: %w", unified, err)
	}
	return nil
}

func isMountPoint(path string) (bool, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, fmt.Errorf("read mountinfo: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && fields[4] == path {
			return true, nil
		}
	}
	return false, nil
}
