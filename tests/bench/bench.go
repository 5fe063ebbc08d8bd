package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

const commandTimeout = 60 * time.Second

// runtimeUnderTest is one of berth, runc, crun, with its own state root.
type runtimeUnderTest struct {
	name    string
	bin     string
	root    string
	errLog  *os.File // stderr of every command, appended
	hasExec bool
	note    string // why a measurement is missing
}

// key names one series of samples: a metric for one runtime.
type key struct{ metric, runtime string }

type bench struct {
	opts       options
	tag        string // unique to this run; in every ID and cgroup path
	runtimes   []*runtimeUnderTest
	reaper     *reaper
	devNull    *os.File
	baseCfg    []byte
	samples    map[key][]float64
	failures   map[key]int
	recording  bool   // off during the warm-up
	itersDone  int    // lifecycle iterations completed by every runtime
	batchDone  int    // batch repetitions completed by every runtime
	workDone   int    // counted iterations completed by every runtime
	tracepoint uint64 // raw_syscalls:sys_enter, 0 if system calls cannot be counted
	// syscallPass is set while the counted iterations count system
	// calls alone (measureWork).
	syscallPass bool
	workErr     string // why work was not counted
	scaleDone   []int  // levels of existing containers measured
	ctrDone     int    // `ctr run` rounds completed by every runtime
	ctrErr      string // why containerd was not measured
}

func newBench(opts options) (*bench, error) {
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	base, err := os.ReadFile(filepath.Join(opts.work, "base", "config.json"))
	if err != nil {
		return nil, fmt.Errorf("read base config: %w", err)
	}
	b := &bench{
		opts:       opts,
		tag:        strings.TrimPrefix(filepath.Base(opts.work), "berth-bench."),
		reaper:     newReaper(),
		devNull:    devNull,
		baseCfg:    base,
		samples:    map[key][]float64{},
		failures:   map[key]int{},
		tracepoint: syscallTracepoint(),
	}
	for _, rt := range [][2]string{{"berth", opts.berth}, {"runc", opts.runc}, {"crun", opts.crun}} {
		r, err := b.newRuntime(rt[0], rt[1])
		if err != nil {
			b.close()
			return nil, err
		}
		b.runtimes = append(b.runtimes, r)
	}
	return b, nil
}

func (b *bench) newRuntime(name, bin string) (*runtimeUnderTest, error) {
	root := filepath.Join(b.opts.work, "root-"+name)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("make state root %s: %w", root, err)
	}
	logPath := filepath.Join(b.opts.work, name+".stderr")
	errLog, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", logPath, err)
	}
	return &runtimeUnderTest{name: name, bin: bin, root: root, errLog: errLog, hasExec: true}, nil
}

func (b *bench) close() {
	for _, rt := range b.runtimes {
		rt.errLog.Close()
	}
	b.devNull.Close()
}

// outcome is one timed runtime command.
type outcome struct {
	elapsed time.Duration
	err     error
}

// invoke runs `bin --root ROOT args...` with stdio on /dev/null (stderr
// to the runtime's log) and times it from just before the fork to the
// moment wait4 returned.
func (b *bench) invoke(rt *runtimeUnderTest, args ...string) outcome {
	return b.invokeWrapped(rt, nil, args...)
}

// invokeWrapped is invoke with a wrapper command (such as /usr/bin/time)
// in front of the runtime.
func (b *bench) invokeWrapped(rt *runtimeUnderTest, wrapper []string, args ...string) outcome {
	argv := append(append(append([]string(nil), wrapper...), rt.bin, "--root", rt.root), args...)
	logStart, _ := rt.errLog.Seek(0, io.SeekEnd)
	files := []uintptr{b.devNull.Fd(), b.devNull.Fd(), rt.errLog.Fd()}
	pid, began, done, err := b.reaper.spawn(argv, files)
	if err != nil {
		return outcome{err: err}
	}
	info, err := waitSpawned(pid, done, commandTimeout)
	out := outcome{elapsed: info.at.Sub(began), err: err}
	if out.err == nil && !(info.status.Exited() && info.status.ExitStatus() == 0) {
		out.err = fmt.Errorf("%s %s: %s: %s", rt.name, args[0], describeStatus(info.status), lastLine(rt.errLog.Name(), logStart))
	}
	return out
}

func describeStatus(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ws.ExitStatus())
}

// lastLine returns the last non-empty line written to a log after offset.
func lastLine(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no stderr)"
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "(no stderr)"
	}
	data, _ := io.ReadAll(io.LimitReader(f, 64<<10))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func (b *bench) record(metric string, rt *runtimeUnderTest, value float64) {
	if b.recording {
		k := key{metric, rt.name}
		b.samples[k] = append(b.samples[k], value)
	}
}

func (b *bench) fail(metric string, rt *runtimeUnderTest, err error) {
	fmt.Fprintf(os.Stderr, "bench: %s: %v\n", metric, err)
	if b.recording {
		b.failures[key{metric, rt.name}]++
	}
}

// timed runs one command, records its duration in ms, and reports
// whether it succeeded.
func (b *bench) timed(metric string, rt *runtimeUnderTest, args ...string) bool {
	out := b.invoke(rt, args...)
	if out.err != nil {
		b.fail(metric, rt, out.err)
		return false
	}
	b.record(metric, rt, float64(out.elapsed)/float64(time.Millisecond))
	return true
}

func (b *bench) id(rt *runtimeUnderTest, what string) string {
	return "bench-" + b.tag + "-" + rt.name + "-" + what
}

func (b *bench) cgroupParent() string { return "/bench-" + b.tag }

// bundle writes (once) a bundle for one container ID: the shared rootfs,
// the base config with these args, and a cgroup path of its own. Only
// args and cgroupsPath differ between bundles, and not between runtimes.
func (b *bench) bundle(id string, args ...string) (string, error) {
	dir := filepath.Join(b.opts.work, "bundles", id)
	cfgPath := filepath.Join(dir, "config.json")
	if _, err := os.Stat(cfgPath); err == nil {
		return dir, nil
	}
	var cfg map[string]any
	if err := json.Unmarshal(b.baseCfg, &cfg); err != nil {
		return "", fmt.Errorf("parse base config: %w", err)
	}
	cfg["process"].(map[string]any)["args"] = args
	cfg["root"].(map[string]any)["path"] = filepath.Join(b.opts.work, "rootfs")
	cfg["linux"].(map[string]any)["cgroupsPath"] = b.cgroupParent() + "/" + id
	data, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return "", fmt.Errorf("encode config for %s: %w", id, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("make bundle %s: %w", dir, err)
	}
	if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", cfgPath, err)
	}
	return dir, nil
}

func rotate(rts []*runtimeUnderTest, by int) []*runtimeUnderTest {
	n := len(rts)
	out := make([]*runtimeUnderTest, 0, n)
	for i := range n {
		out = append(out, rts[(i+by)%n])
	}
	return out
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// measure runs the warm-up, the interleaved lifecycle iterations and the
// batches, then prints the table (also after an interrupt, with what it has).
func (b *bench) measure(ctx context.Context) error {
	loadBefore := loadAverage()
	if err := b.warmUp(); err != nil {
		return err
	}
	b.recording = true
	start := time.Now()
	for i := 0; i < b.opts.iters && ctx.Err() == nil; i++ {
		if i%10 == 0 {
			progress("lifecycle iteration %d/%d", i+1, b.opts.iters)
		}
		for _, rt := range rotate(b.runtimes, i) {
			b.measureRun(rt)
		}
		for _, rt := range rotate(b.runtimes, i) {
			b.measureSteps(rt)
		}
		b.itersDone = i + 1
	}
	b.measureWork(ctx)
	for i := 0; i < b.opts.rssReps && ctx.Err() == nil; i++ {
		if i == 0 {
			progress("peak RSS, %d rounds", b.opts.rssReps)
		}
		for _, rt := range rotate(b.runtimes, i) {
			b.measureRSS(rt)
			b.measureWaiting(rt)
		}
	}
	for rep := 0; rep < b.opts.batchReps && ctx.Err() == nil; rep++ {
		for _, rt := range rotate(b.runtimes, rep) {
			if ctx.Err() != nil {
				break
			}
			progress("batch %d/%d: %s", rep+1, b.opts.batchReps, rt.name)
			b.measureBatch(ctx, rt)
		}
		if ctx.Err() == nil {
			b.batchDone = rep + 1
		}
	}
	if ctx.Err() == nil {
		b.measureContainerd(ctx)
	}
	if ctx.Err() == nil {
		b.measureScale(ctx)
	}
	b.printReport(time.Since(start), loadBefore, loadAverage())
	if ctx.Err() != nil {
		return errors.New("interrupted; the table holds what was measured so far")
	}
	return nil
}

// warmUp runs every measurement once per runtime without recording, so
// page cache and first-run costs stay out of the medians, and finds out
// which runtimes can exec.
func (b *bench) warmUp() error {
	for _, rt := range b.runtimes {
		if rt.name == "berth" {
			b.detectExec(rt)
		}
		id := b.id(rt, "warm")
		bundle, err := b.bundle(id, "/bin/true")
		if err != nil {
			return err
		}
		if out := b.invoke(rt, "run", "--bundle", bundle, id); out.err != nil {
			b.forceDelete(rt, id)
			return fmt.Errorf("warm-up: the bundle does not run: %w", out.err)
		}
		b.measureSteps(rt)
	}
	return nil
}

func (b *bench) detectExec(rt *runtimeUnderTest) {
	if out := b.invoke(rt, "exec", "--help"); out.err != nil {
		rt.hasExec = false
		rt.note = "n/a (" + rt.name + " has no exec)"
	}
}

func (b *bench) forceDelete(rt *runtimeUnderTest, id string) {
	_ = b.invoke(rt, "delete", "--force", id)
}

func (b *bench) measureRun(rt *runtimeUnderTest) {
	id := b.id(rt, "run")
	bundle, err := b.bundle(id, "/bin/true")
	if err != nil {
		b.fail(metricRun, rt, err)
		return
	}
	if !b.timed(metricRun, rt, "run", "--bundle", bundle, id) {
		b.forceDelete(rt, id)
	}
}

// measureSteps times create, start, state, exec, kill and delete on one
// container that sleeps, so it is still running for state, exec and kill.
func (b *bench) measureSteps(rt *runtimeUnderTest) {
	id := b.id(rt, "life")
	bundle, err := b.bundle(id, "/bin/sleep", "1000")
	if err != nil {
		b.fail(metricCreate, rt, err)
		return
	}
	pidFile := filepath.Join(b.opts.work, "pid-"+id)
	_ = os.Remove(pidFile)
	if !b.timed(metricCreate, rt, "create", "--bundle", bundle, "--pid-file", pidFile, id) {
		b.forceDelete(rt, id)
		return
	}
	initPid, err := readPid(pidFile)
	if err != nil {
		b.fail(metricCreate, rt, err)
		b.forceDelete(rt, id)
		return
	}
	// The init is alive now, so any exit filed under its pid is stale.
	b.reaper.forget(initPid)
	if !b.runningSteps(rt, id) {
		b.forceDelete(rt, id)
		return
	}
	if _, err := b.reaper.waitPid(initPid, 10*time.Second); err != nil {
		b.fail(metricKill, rt, err)
		b.forceDelete(rt, id)
		return
	}
	if !b.timed(metricDelete, rt, "delete", id) {
		b.forceDelete(rt, id)
	}
}

// runningSteps: start, state and exec on the running container, then kill.
func (b *bench) runningSteps(rt *runtimeUnderTest, id string) bool {
	if !b.timed(metricStart, rt, "start", id) || !b.timed(metricState, rt, "state", id) {
		return false
	}
	if rt.hasExec {
		out := b.invoke(rt, "exec", id, "/bin/true")
		switch {
		case out.err != nil && !b.recording:
			rt.hasExec = false
			rt.note = "failed: " + out.err.Error()
		case out.err != nil:
			b.fail(metricExec, rt, out.err)
		default:
			b.record(metricExec, rt, float64(out.elapsed)/float64(time.Millisecond))
		}
	}
	return b.timed(metricKill, rt, "kill", id, "KILL")
}

func readPid(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s holds %q", path, data)
	}
	return pid, nil
}

// measureBatch creates opts.batch containers, opts.parallel at a time,
// then deletes them the same way, and records both wall times.
func (b *bench) measureBatch(ctx context.Context, rt *runtimeUnderTest) {
	ids := make([]string, b.opts.batch)
	bundles := make([]string, b.opts.batch)
	for i := range ids {
		ids[i] = b.id(rt, fmt.Sprintf("b%03d", i))
		bundle, err := b.bundle(ids[i], "/bin/true")
		if err != nil {
			b.fail(metricBatch, rt, err)
			return
		}
		bundles[i] = bundle
	}
	began := time.Now()
	created := b.parallel(ctx, len(ids), func(i int) error {
		return b.invoke(rt, "create", "--bundle", bundles[i], ids[i]).err
	})
	mid := time.Now()
	deleted := b.parallel(ctx, len(ids), func(i int) error {
		return b.invoke(rt, "delete", ids[i]).err
	})
	end := time.Now()
	if created+deleted > 0 || ctx.Err() != nil {
		b.fail(metricBatch, rt, fmt.Errorf("%d creates and %d deletes failed", created, deleted))
		for _, id := range ids {
			b.forceDelete(rt, id)
		}
		return
	}
	b.record(metricBatchCreate, rt, mid.Sub(began).Seconds())
	b.record(metricBatchDelete, rt, end.Sub(mid).Seconds())
	b.record(metricBatch, rt, end.Sub(began).Seconds())
}

// parallel runs job(0..n-1) on opts.parallel workers and returns how many
// failed; it stops handing out jobs once ctx is done.
func (b *bench) parallel(ctx context.Context, n int, job func(int) error) int {
	next := make(chan int)
	var mu sync.Mutex
	failed := 0
	var wg sync.WaitGroup
	for range b.opts.parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := job(i); err != nil {
					fmt.Fprintf(os.Stderr, "bench: batch: %v\n", err)
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return failed
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return "?"
	}
	return strings.Join(fields[:3], " ")
}

// measureRSS records the peak RSS of `run` and of `create` as
// /usr/bin/time reports it (ru_maxrss of the runtime and the children it
// waited for). Not from the driver's own wait4: the driver forks with
// CLONE_VM, so each child's high-water mark starts at the driver's RSS.
func (b *bench) measureRSS(rt *runtimeUnderTest) {
	id := b.id(rt, "rss")
	bundle, err := b.bundle(id, "/bin/true")
	if err != nil {
		b.fail(metricRSSRun, rt, err)
		return
	}
	if kib, err := b.peakRSS(rt, "run", "--bundle", bundle, id); err != nil {
		b.fail(metricRSSRun, rt, err)
		b.forceDelete(rt, id)
	} else {
		b.record(metricRSSRun, rt, float64(kib))
	}
	if kib, err := b.peakRSS(rt, "create", "--bundle", bundle, id); err != nil {
		b.fail(metricRSSCreate, rt, err)
	} else {
		b.record(metricRSSCreate, rt, float64(kib))
	}
	b.forceDelete(rt, id)
}

// measureWaiting records the memory of a foreground `run` while its
// container runs: the runtime process's resident set and, of that, its
// anonymous memory (heap, stacks, written data), which is what each such
// process adds to the machine. The rest of its resident set is the page
// cache of its binary and libraries, shared with every other process that
// maps them.
func (b *bench) measureWaiting(rt *runtimeUnderTest) {
	id := b.id(rt, "wait")
	bundle, err := b.bundle(id, "/bin/sleep", "1000")
	if err != nil {
		b.fail(metricWaitRSS, rt, err)
		return
	}
	argv := []string{rt.bin, "--root", rt.root, "run", "--bundle", bundle, id}
	pid, _, done, err := b.reaper.spawn(argv, []uintptr{b.devNull.Fd(), b.devNull.Fd(), rt.errLog.Fd()})
	if err != nil {
		b.fail(metricWaitRSS, rt, err)
		return
	}
	defer func() {
		_ = b.invoke(rt, "kill", id, "KILL")
		if _, err := waitSpawned(pid, done, commandTimeout); err != nil {
			b.fail(metricWaitRSS, rt, err)
		}
		b.forceDelete(rt, id)
	}()
	if err := b.waitRunning(rt, id, 10*time.Second); err != nil {
		b.fail(metricWaitRSS, rt, err)
		return
	}
	// Past its start: the runtime only waits from here.
	time.Sleep(300 * time.Millisecond)
	rss, anon, err := rollup(pid)
	if err != nil {
		b.fail(metricWaitRSS, rt, err)
		return
	}
	b.record(metricWaitRSS, rt, float64(rss))
	b.record(metricWaitAnon, rt, float64(anon))
}

// waitRunning polls `state` until the container is running. Through
// script, which the reaper waits for: an os/exec wait would race with it.
func (b *bench) waitRunning(rt *runtimeUnderTest, id string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	path := filepath.Join(b.opts.work, "state-"+id)
	for {
		var st struct{ Status string }
		if b.script(path, rt.bin, "--root", rt.root, "state", id) == nil {
			if out, err := os.ReadFile(path); err == nil && json.Unmarshal(out, &st) == nil && st.Status == "running" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s %s: not running after %s", rt.name, id, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rollup returns a process's resident and anonymous KiB.
func rollup(pid int) (rss, anon int64, err error) {
	path := "/proc/" + strconv.Itoa(pid) + "/smaps_rollup"
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("read %s: %w", path, err)
	}
	found := 0
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, perr := strconv.ParseInt(f[1], 10, 64)
		switch {
		case perr != nil:
		case f[0] == "Rss:":
			rss, found = n, found+1
		case f[0] == "Anonymous:":
			anon, found = n, found+1
		}
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("%s: no Rss or Anonymous line", path)
	}
	return rss, anon, nil
}

func (b *bench) peakRSS(rt *runtimeUnderTest, args ...string) (int64, error) {
	report := filepath.Join(b.opts.work, "rss-"+rt.name)
	out := b.invokeWrapped(rt, []string{b.opts.timeBin, "-f", "%M", "-o", report}, args...)
	if out.err != nil {
		return 0, out.err
	}
	data, err := os.ReadFile(report)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", report, err)
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 0, fmt.Errorf("%s is empty", report)
	}
	kib, err := strconv.ParseInt(fields[len(fields)-1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", report, err)
	}
	return kib, nil
}
