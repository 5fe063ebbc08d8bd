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

const scaleReps = 10

func scaleMetric(op string, n int, what string) string {
	return fmt.Sprintf("scale %s @%d %s", op, n, what)
}

// measureScale measures each runtime in turn beside its own running
// containers (busybox sleep) only: it grows them level by level, measures
// create of one more, state of it and list at each level, and removes
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
		for i := 0; i < scaleReps && ctx.Err() == nil; i++ {
			b.scaleProbe(rt, n)
		}
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

// scaleProbe measures create, state and list once each, plain (wall
// time) and counted (CPU), with n other containers present.
func (b *bench) scaleProbe(rt *runtimeUnderTest, n int) {
	id := b.id(rt, "probe")
	bundle, err := b.bundle(id, "/bin/sleep", "100000")
	if err != nil {
		b.fail(scaleMetric("create", n, "wall"), rt, err)
		return
	}
	defer b.forceDelete(rt, id)
	steps := []struct {
		op   string
		args []string
	}{
		{"create", []string{"create", "--bundle", bundle, id}},
		{"state", []string{"state", id}},
		{"list", []string{"list"}},
	}
	for _, s := range steps {
		if !b.timed(scaleMetric(s.op, n, "wall"), rt, s.args...) {
			return
		}
		if s.op == "create" {
			b.forceDelete(rt, id)
		}
		w, out := b.invokeCounted(rt, s.args...)
		if out.err != nil {
			b.fail(scaleMetric(s.op, n, "cpu"), rt, out.err)
			return
		}
		b.record(scaleMetric(s.op, n, "cpu"), rt, w.cpuMs)
	}
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
