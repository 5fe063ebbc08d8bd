package main

import (
	"debug/elf"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

const (
	metricFloor       = "--version"
	metricRun         = "run /bin/true"
	metricCreate      = "create"
	metricStart       = "start"
	metricState       = "state"
	metricExec        = "exec /bin/true"
	metricKill        = "kill"
	metricDelete      = "delete"
	metricBatchCreate = "batch create"
	metricBatchDelete = "batch delete"
	metricBatch       = "batch create+delete"
	metricRSSCreate   = "peak RSS, create"
	metricRSSRun      = "peak RSS, run"
	metricWaitRSS     = "waiting run, RSS"
	metricWaitAnon    = "waiting run, anonymous"
)

// row is one line of the table: how to label a metric and format a value.
type row struct {
	metric string
	label  string
	format func(float64) string
}

func (b *bench) rows() []row {
	ms := func(v float64) string { return fmt.Sprintf("%.2f ms", v) }
	sec := func(v float64) string { return fmt.Sprintf("%.2f s", v) }
	mib := func(v float64) string { return fmt.Sprintf("%.1f MiB", v/1024) }
	batch := fmt.Sprintf("%d containers, %d at a time", b.opts.batch, b.opts.parallel)
	return []row{
		{metricRun, "run /bin/true (whole lifecycle)", ms},
		{metricCreate, "create", ms},
		{metricStart, "start", ms},
		{metricState, "state (running)", ms},
		{metricExec, "exec /bin/true", ms},
		{metricKill, "kill KILL", ms},
		{metricDelete, "delete (stopped)", ms},
		{metricBatchCreate, batch + ": create", sec},
		{metricBatchDelete, batch + ": delete", sec},
		{metricBatch, batch + ": total", sec},
		{metricRSSCreate, "peak RSS of create", mib},
		{metricRSSRun, "peak RSS of run", mib},
		{metricWaitRSS, "a waiting run: RSS", mib},
		{metricWaitAnon, "a waiting run: anonymous", mib},
	}
}

// workRows: for each operation, its CPU time, minor page faults, context
// switches and system calls.
func (b *bench) workRows() []row {
	ms := func(v float64) string { return fmt.Sprintf("%.2f ms", v) }
	count := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	ops := []struct{ metric, label string }{
		{metricFloor, "--version (start-up)"}, {metricRun, "run /bin/true"}, {metricCreate, "create"}, {metricStart, "start"},
		{metricState, "state"}, {metricExec, "exec /bin/true"}, {metricKill, "kill KILL"},
		{metricDelete, "delete"},
	}
	var rows []row
	for _, op := range ops {
		rows = append(rows,
			row{op.metric + workCPU, op.label + ": CPU (user+sys)", ms},
			row{op.metric + workFaults, op.label + ": minor faults", count},
			row{op.metric + workSwitches, op.label + ": context switches", count})
		if b.tracepoint != 0 {
			rows = append(rows, row{op.metric + workSyscalls, op.label + ": system calls", count})
		}
	}
	return rows
}

func median(values []float64) (float64, bool) {
	if len(values) == 0 {
		return 0, false
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2], true
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2, true
}

func ratio(num, den float64, ok bool) string {
	if !ok || den == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", num/den)
}

// printReport prints the table on stdout: medians per runtime, then
// berth/runc, berth/crun and crun/runc.
func (b *bench) printReport(elapsed time.Duration, loadBefore, loadAfter string) {
	header := []string{"metric (median)"}
	for _, rt := range b.runtimes {
		header = append(header, rt.name)
	}
	header = append(header, "berth/runc", "berth/crun", "crun/runc")
	table := [][]string{header}
	for _, r := range b.rows() {
		table = append(table, b.metricLine(r))
	}
	table = append(table, b.sizeLine())
	printAligned(table)
	if b.workDone > 0 {
		fmt.Println()
		work := [][]string{append([]string{"work per operation (median)"}, header[1:]...)}
		for _, r := range b.workRows() {
			work = append(work, b.metricLine(r))
		}
		printAligned(work)
	}
	b.printExtra()
	fmt.Printf("\nlifecycle: %d of %d iterations per runtime, interleaved; batch: %d of %d repetitions; measured in %s\n",
		b.itersDone, b.opts.iters, b.batchDone, b.opts.batchReps, elapsed.Round(time.Second))
	if b.workDone > 0 {
		fmt.Printf("work: %d of %d counted iterations per runtime (perf counters, inherited: the command and every process and thread it starts;\n"+
			"      --version is the start-up every command pays first; create includes the init until create returns,\n"+
			"      start adds the init's work until it has exec'd the container's program)\n",
			b.workDone, b.opts.workIters)
	} else if b.workErr != "" {
		fmt.Printf("work: not counted: %s\n", b.workErr)
	}
	if b.ctrDone > 0 {
		fmt.Printf("containerd: %d interleaved `ctr run --rm` per runtime (private containerd, Debian's shim, the runtime as its runc binary)\n", b.ctrDone)
	} else if b.ctrErr != "" {
		fmt.Printf("containerd: not measured: %s\n", b.ctrErr)
	}
	if len(b.scaleDone) > 0 {
		fmt.Printf("growth: %d probes per level and measure (creates of one more container each, made in a row and removed after; state of each; list), each runtime in turn beside N running busybox containers of its own only\n", scaleReps)
	}
	fmt.Printf("peak RSS: /usr/bin/time %%M (KiB of the runtime and the children it waited for), median of %d rounds\n", b.opts.rssReps)
	fmt.Printf("a waiting run: the runtime process of a foreground run while its container sleeps (smaps_rollup); anonymous is its own\n" +
		"      memory, the rest of its RSS the page cache of its binary and libraries, shared with every process that maps them\n")
	fmt.Printf("load average before %s, after %s\n", loadBefore, loadAfter)
	b.printNotes()
}

func (b *bench) metricLine(r row) []string {
	line := []string{r.label}
	med := map[string]float64{}
	have := map[string]bool{}
	for _, rt := range b.runtimes {
		v, ok := median(b.samples[key{r.metric, rt.name}])
		med[rt.name], have[rt.name] = v, ok
		switch {
		case ok:
			line = append(line, r.format(v))
		case strings.HasPrefix(r.metric, metricExec) && rt.note != "":
			line = append(line, rt.note)
		default:
			line = append(line, "n/a")
		}
	}
	return append(line,
		ratio(med["berth"], med["runc"], have["berth"] && have["runc"]),
		ratio(med["berth"], med["crun"], have["berth"] && have["crun"]),
		ratio(med["crun"], med["runc"], have["crun"] && have["runc"]))
}

func (b *bench) sizeLine() []string {
	line := []string{"binary size"}
	size := map[string]float64{}
	for _, rt := range b.runtimes {
		st, err := os.Stat(rt.bin)
		if err != nil {
			line = append(line, "?")
			continue
		}
		size[rt.name] = float64(st.Size())
		line = append(line, fmt.Sprintf("%.1f MiB%s", float64(st.Size())/(1<<20), linkage(rt.bin)))
	}
	return append(line,
		ratio(size["berth"], size["runc"], size["runc"] > 0),
		ratio(size["berth"], size["crun"], size["crun"] > 0),
		ratio(size["crun"], size["runc"], size["runc"] > 0))
}

// linkage marks dynamically linked binaries: their shared libraries are
// not in the size.
func linkage(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return " (dyn)"
		}
	}
	return ""
}

func printAligned(table [][]string) {
	widths := make([]int, len(table[0]))
	for _, line := range table {
		for i, cell := range line {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	for n, line := range table {
		var sb strings.Builder
		for i, cell := range line {
			pad := strings.Repeat(" ", widths[i]-len([]rune(cell)))
			if i == 0 {
				sb.WriteString(cell + pad)
			} else {
				sb.WriteString("  " + pad + cell)
			}
		}
		fmt.Println(strings.TrimRight(sb.String(), " "))
		if n == 0 {
			fmt.Println(strings.Repeat("-", len([]rune(sb.String()))))
		}
	}
}

func (b *bench) printNotes() {
	for _, rt := range b.runtimes {
		if rt.note != "" {
			fmt.Printf("%s exec: %s\n", rt.name, rt.note)
		}
	}
	var failed []string
	for k, n := range b.failures {
		failed = append(failed, fmt.Sprintf("%s %s: %d", k.runtime, k.metric, n))
	}
	sort.Strings(failed)
	if len(failed) > 0 {
		fmt.Printf("failures (left out of the medians; messages on stderr above): %s\n", strings.Join(failed, ", "))
	}
}

// printExtra prints the containerd lifecycle and the growth tables.
func (b *bench) printExtra() {
	header := []string{""}
	for _, rt := range b.runtimes {
		header = append(header, rt.name)
	}
	header = append(header, "berth/runc", "berth/crun", "crun/runc")
	if b.ctrDone > 0 {
		fmt.Println()
		header[0] = "through containerd (median)"
		ms := func(v float64) string { return fmt.Sprintf("%.2f ms", v) }
		printAligned([][]string{header, b.metricLine(row{metricCtrRun, "ctr run --rm /bin/true", ms})})
	}
	if len(b.scaleDone) > 0 {
		fmt.Println()
		header[0] = "with N running containers (median)"
		table := [][]string{header}
		for _, r := range b.scaleRows() {
			table = append(table, b.metricLine(r))
		}
		printAligned(table)
	}
}
