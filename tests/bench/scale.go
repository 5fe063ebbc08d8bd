package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// scaleLevels parses -scale ("1,100,1000"): how many containers exist
// under the runtime's root while create, state and list are measured.
func (b *bench) scaleLevels() ([]int, error) {
	var levels []int
	for _, f := range strings.Split(b.opts.scale, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-scale: %q is not a count", f)
		}
		levels = append(levels, n)
	}
	sort.Ints(levels)
	return levels, nil
}

const scaleReps = 15

func scaleMetric(op string, n int, what string) string {
	return fmt.Sprintf("scale %s @%d %s", op, n, what)
}

// measureScale measures each runtime in turn beside its own running
// containers (busybox sleep) only: it grows them level by level, measures
// create, state and list at each level (scaleProbes), and removes
// them before the next runtime starts. Measured beside every runtime's
// containers at once (as this bench did before), a runtime's growth was
// mostly the host's, from the other runtimes' containers: berth's create
// grew with runc's containers beside its own, and not with its own
// (tests/bench/WORK.md has the numbers).
func (b *bench) measureScale(ctx context.Context) {
	levels, err := b.scaleLevels()
	if err != nil || len(levels) == 0 {
		if err != nil {
			progress("%v", err)
		}
		return
	}
	done := map[int]bool{}
	for _, rt := range b.runtimes {
		b.scaleRuntime(ctx, rt, levels, done)
	}
	for _, n := range levels {
		if done[n] {
			b.scaleDone = append(b.scaleDone, n)
		}
	}
}

// scaleRuntime is measureScale for one runtime. A runtime that cannot run
// n containers here (crun on hybrid cgroups runs out of cgroup2 room
// before 1000) is left out of that level and the ones above it, with its
// failure in the report.
func (b *bench) scaleRuntime(ctx context.Context, rt *runtimeUnderTest, levels []int, done map[int]bool) {
	have := 0
	defer func() {
		if have > 0 {
			progress("scale: removing %s's %d containers", rt.name, have)
			b.parallel(context.Background(), have, func(i int) error {
				b.forceDelete(rt, b.scaleID(rt, i))
				return nil
			})
		}
	}()
	for _, n := range levels {
		if ctx.Err() != nil {
			return
		}
		progress("scale: %s, filling to %d running containers", rt.name, n)
		err := b.fillTo(ctx, rt, have, n)
		if n > have {
			have = n // the failed ones too: removal is by ID
		}
		if err != nil {
			progress("scale: %s: %v; left out from %d containers on", rt.name, err, n)
			b.fail(scaleMetric("create", n, "wall"), rt, fmt.Errorf("filling to %d: %w", n, err))
			return
		}
		b.scaleProbes(ctx, rt, n)
		done[n] = true
	}
}

func (b *bench) scaleID(rt *runtimeUnderTest, i int) string {
	return b.id(rt, fmt.Sprintf("s%04d", i))
}

// fillTo creates and starts containers from index from until rt has n.
func (b *bench) fillTo(ctx context.Context, rt *runtimeUnderTest, from, n int) error {
	if n <= from {
		return nil
	}
	failed := b.parallel(ctx, n-from, func(i int) error {
		id := b.scaleID(rt, from+i)
		bundle, err := b.bundle(id, "/bin/sleep", "100000")
		if err != nil {
			return err
		}
		if out := b.invoke(rt, "create", "--bundle", bundle, id); out.err != nil {
			return out.err
		}
		return b.invoke(rt, "start", id).err
	})
	if failed > 0 {
		return fmt.Errorf("%d of %d containers did not start", failed, n-from)
	}
	return nil
}

// scaleProbes measures create, state and list beside n existing
// containers: scaleReps creates of one more container each, timed (wall),
// then scaleReps more counted (CPU), then state of each of them and list
// as many times, timed and counted alike. The probes are made one after
// another and removed only at the end. A create measured right after the
// previous probe's delete shared the machine with that delete's deferred
// kernel work (the cgroup's teardown runs in a kernel worker, and it grows
// with the machine's mounts and cgroups), so part of a delete's cost was
// read as create's growth (tests/bench/WORK.md has the profile).
func (b *bench) scaleProbes(ctx context.Context, rt *runtimeUnderTest, n int) {
	var ids []string
	defer func() {
		for _, id := range ids {
			b.forceDelete(rt, id)
		}
	}()
	for i := 0; i < 2*scaleReps && ctx.Err() == nil; i++ {
		id := b.id(rt, fmt.Sprintf("probe%02d", i))
		bundle, err := b.bundle(id, "/bin/sleep", "100000")
		if err != nil {
			b.fail(scaleMetric("create", n, "wall"), rt, err)
			return
		}
		ids = append(ids, id) // removed by ID even if its create fails
		if !b.scaleStep(rt, n, "create", i < scaleReps, "create", "--bundle", bundle, id) {
			return
		}
	}
	for i, id := range ids {
		if ctx.Err() != nil || !b.scaleStep(rt, n, "state", i < scaleReps, "state", id) {
			return
		}
	}
	for i := 0; i < 2*scaleReps && ctx.Err() == nil; i++ {
		if !b.scaleStep(rt, n, "list", i < scaleReps, "list") {
			return
		}
	}
}

// scaleStep runs one command of a growth probe, timed (wall) or counted
// (CPU); false if it failed.
func (b *bench) scaleStep(rt *runtimeUnderTest, n int, op string, timed bool, args ...string) bool {
	if timed {
		return b.timed(scaleMetric(op, n, "wall"), rt, args...)
	}
	w, out := b.invokeCounted(rt, args...)
	if out.err != nil {
		b.fail(scaleMetric(op, n, "cpu"), rt, out.err)
		return false
	}
	b.record(scaleMetric(op, n, "cpu"), rt, w.cpuMs)
	return true
}

func (b *bench) scaleRows() []row {
	ms := func(v float64) string { return fmt.Sprintf("%.2f ms", v) }
	var rows []row
	for _, op := range []string{"create", "state", "list"} {
		for _, n := range b.scaleDone {
			rows = append(rows,
				row{scaleMetric(op, n, "wall"), fmt.Sprintf("%s, %d existing: wall", op, n), ms},
				row{scaleMetric(op, n, "cpu"), fmt.Sprintf("%s, %d existing: CPU", op, n), ms})
		}
	}
	return rows
}
