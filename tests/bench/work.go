package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// work is what one runtime command cost the machine, whatever the wall
// clock says: CPU time of every process and thread it ran (user+system,
// on-CPU nanoseconds as perf's task-clock counts them), minor page
// faults, context switches and system calls. It does not move with the
// machine's speed the way wall time does.
type work struct {
	cpuMs    float64
	faults   float64
	switches float64
	syscalls float64
}

func (w work) add(o work) work {
	return work{w.cpuMs + o.cpuMs, w.faults + o.faults, w.switches + o.switches, w.syscalls + o.syscalls}
}

// counterSet holds the perf counters of one command, or of one existing
// process's threads. Counters are inherited: every process and thread the
// counted tasks start is counted too, including a container init that
// outlives the command (the kernel sums live inherited counters on read).
type counterSet struct {
	fds [][4]int // per counted task: task-clock, minor faults, context switches, sys_enter
}

// syscallTracepoint is the id of raw_syscalls:sys_enter, 0 when tracefs
// is not mounted (then system calls are not counted).
func syscallTracepoint() uint64 {
	for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		data, err := os.ReadFile(filepath.Join(dir, "events/raw_syscalls/sys_enter/id"))
		if err == nil {
			if id, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64); err == nil {
				return id
			}
		}
	}
	return 0
}

// openCounters opens counters on one task: task-clock, minor faults and
// context switches, or (syscallsOnly) the system-call tracepoint alone.
// The tracepoint is never counted beside the others because it changes
// what they measure: with it enabled every system call takes the
// kernel's tracing path, and that cost lands in the task's CPU time
// (WORK.md, "The syscall counter's own cost"). With onExec the counters
// start at the task's next execve (the command, not the trampoline in
// front of it); otherwise at once.
func openCounters(tid int, tracepoint uint64, syscallsOnly, onExec bool) ([4]int, error) {
	fds := [4]int{-1, -1, -1, -1}
	events := [4][2]uint64{
		{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_TASK_CLOCK},
		{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS_MIN},
		{unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CONTEXT_SWITCHES},
		{unix.PERF_TYPE_TRACEPOINT, tracepoint},
	}
	for i, ev := range events {
		if (ev[0] == unix.PERF_TYPE_TRACEPOINT) != syscallsOnly || (syscallsOnly && tracepoint == 0) {
			continue
		}
		attr := unix.PerfEventAttr{
			Type:   uint32(ev[0]),
			Size:   uint32(unix.PERF_ATTR_SIZE_VER5),
			Config: ev[1],
			Bits:   unix.PerfBitInherit,
		}
		if onExec {
			attr.Bits |= unix.PerfBitDisabled | unix.PerfBitEnableOnExec
		}
		fd, err := unix.PerfEventOpen(&attr, tid, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			closeFds(fds)
			return fds, fmt.Errorf("perf_event_open(task %d, event %d/%d): %w", tid, ev[0], ev[1], err)
		}
		fds[i] = fd
	}
	return fds, nil
}

func closeFds(fds [4]int) {
	for _, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// countThreads opens counters on every thread of an existing process
// (threads it starts later inherit them).
func countThreads(pid int, tracepoint uint64, syscallsOnly bool) (*counterSet, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil, fmt.Errorf("list threads of %d: %w", pid, err)
	}
	cs := &counterSet{}
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fds, err := openCounters(tid, tracepoint, syscallsOnly, false)
		if errors.Is(err, unix.ESRCH) {
			continue // the thread exited meanwhile
		}
		if err != nil {
			cs.close()
			return nil, err
		}
		cs.fds = append(cs.fds, fds)
	}
	return cs, nil
}

func (cs *counterSet) read() (work, error) {
	var sum [4]uint64
	buf := make([]byte, 8)
	for _, fds := range cs.fds {
		for i, fd := range fds {
			if fd < 0 {
				continue
			}
			if n, err := unix.Read(fd, buf); err != nil || n != 8 {
				return work{}, fmt.Errorf("read perf counter: %d bytes, %v", n, err)
			}
			sum[i] += binary.NativeEndian.Uint64(buf)
		}
	}
	return work{
		cpuMs:    float64(sum[0]) / float64(time.Millisecond),
		faults:   float64(sum[1]),
		switches: float64(sum[2]),
		syscalls: float64(sum[3]),
	}, nil
}

func (cs *counterSet) close() {
	for _, fds := range cs.fds {
		closeFds(fds)
	}
	cs.fds = nil
}

// trampoline holds a spawned command before its execve until its counters
// are open: sh blocks reading fd 3, then execs the command with its
// own stdio. Counting starts at that execve (enable-on-exec), so neither
// sh nor the driver's fork is in the numbers.
const trampoline = `read -r _ <&3; exec 3<&-; exec "$@"`

// invokeCounted runs `bin --root ROOT args...` like invoke and returns its
// work: the command and everything it started, up to its exit.
func (b *bench) invokeCounted(rt *runtimeUnderTest, args ...string) (work, outcome) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return work{}, outcome{err: fmt.Errorf("pipe: %w", err)}
	}
	defer pw.Close()
	argv := append([]string{"/bin/sh", "-c", trampoline, "sh", rt.bin, "--root", rt.root}, args...)
	files := []uintptr{b.devNull.Fd(), b.devNull.Fd(), rt.errLog.Fd(), pr.Fd()}
	pid, began, done, err := b.reaper.spawn(argv, files)
	pr.Close()
	if err != nil {
		return work{}, outcome{err: err}
	}
	fds, openErr := openCounters(pid, b.tracepoint, b.syscallPass, true)
	cs := &counterSet{fds: [][4]int{fds}}
	defer cs.close()
	pw.Write([]byte("go\n"))
	pw.Close()
	info, err := waitSpawned(pid, done, commandTimeout)
	out := outcome{elapsed: info.at.Sub(began), err: err}
	if out.err == nil && !(info.status.Exited() && info.status.ExitStatus() == 0) {
		out.err = fmt.Errorf("%s %s: %s", rt.name, args[0], describeStatus(info.status))
	}
	if out.err == nil && openErr != nil {
		out.err = openErr
	}
	if out.err != nil {
		return work{}, out
	}
	w, err := cs.read()
	if err != nil {
		out.err = err
	}
	return w, out
}

// recordWork files one command's work under its metric: what this pass
// counted (measureWork).
func (b *bench) recordWork(metric string, rt *runtimeUnderTest, w work) {
	if b.syscallPass {
		b.record(metric+workSyscalls, rt, w.syscalls)
		return
	}
	b.record(metric+workCPU, rt, w.cpuMs)
	b.record(metric+workFaults, rt, w.faults)
	b.record(metric+workSwitches, rt, w.switches)
}

const (
	workCPU      = " · CPU"
	workFaults   = " · faults"
	workSwitches = " · ctx switches"
	workSyscalls = " · syscalls"
)

// countedStep runs one command with its work counted; false if it failed.
func (b *bench) countedStep(metric string, rt *runtimeUnderTest, args ...string) bool {
	w, out := b.invokeCounted(rt, args...)
	if out.err != nil {
		b.fail(metric, rt, out.err)
		return false
	}
	b.recordWork(metric, rt, w)
	return true
}

// measureWorkFloor counts `--version`: a process of the runtime that
// starts, prints a line and exits. It is what every other command pays
// before its own work (for berth and runc the Go runtime's start and
// every linked package's initialisation; for crun the dynamic loader and
// its libraries), so the rows below it read as this plus the operation.
func (b *bench) measureWorkFloor(rt *runtimeUnderTest) {
	b.countedStep(metricFloor, rt, "--version")
}

// measureWorkRun counts one whole `run /bin/true`.
func (b *bench) measureWorkRun(rt *runtimeUnderTest) {
	id := b.id(rt, "wrun")
	bundle, err := b.bundle(id, "/bin/true")
	if err != nil {
		b.fail(metricRun, rt, err)
		return
	}
	if !b.countedStep(metricRun, rt, "run", "--bundle", bundle, id) {
		b.forceDelete(rt, id)
	}
}

// measureWorkSteps counts create, start, state, exec, kill and delete on
// one sleeping container. create's count includes the container init up
// to the moment create returns; start's adds what the init does from
// then until it has exec'd the container's program (in every runtime the
// init, not `start`, does that part).
func (b *bench) measureWorkSteps(rt *runtimeUnderTest) {
	id := b.id(rt, "wlife")
	bundle, err := b.bundle(id, "/bin/sleep", "1000")
	if err != nil {
		b.fail(metricCreate, rt, err)
		return
	}
	pidFile := filepath.Join(b.opts.work, "pid-"+id)
	_ = os.Remove(pidFile)
	ok := b.countedStep(metricCreate, rt, "create", "--bundle", bundle, "--pid-file", pidFile, id)
	initPid, err := readPid(pidFile)
	if !ok || err != nil {
		b.forceDelete(rt, id)
		return
	}
	b.reaper.forget(initPid)
	if !b.countedStart(rt, id, initPid) || !b.countedStep(metricState, rt, "state", id) {
		b.forceDelete(rt, id)
		return
	}
	if rt.hasExec && !b.countedStep(metricExec, rt, "exec", id, "/bin/true") {
		b.forceDelete(rt, id)
		return
	}
	if !b.countedStep(metricKill, rt, "kill", id, "KILL") {
		b.forceDelete(rt, id)
		return
	}
	if _, err := b.reaper.waitPid(initPid, 10*time.Second); err != nil {
		b.fail(metricKill, rt, err)
		b.forceDelete(rt, id)
		return
	}
	if !b.countedStep(metricDelete, rt, "delete", id) {
		b.forceDelete(rt, id)
	}
}

func (b *bench) countedStart(rt *runtimeUnderTest, id string, initPid int) bool {
	initCounters, err := countThreads(initPid, b.tracepoint, b.syscallPass)
	if err != nil {
		b.fail(metricStart, rt, err)
		return false
	}
	defer initCounters.close()
	w, out := b.invokeCounted(rt, "start", id)
	if out.err != nil {
		b.fail(metricStart, rt, out.err)
		return false
	}
	if err := waitComm(initPid, "sleep", 5*time.Second); err != nil {
		b.fail(metricStart, rt, err)
		return false
	}
	iw, err := initCounters.read()
	if err != nil {
		b.fail(metricStart, rt, err)
		return false
	}
	b.recordWork(metricStart, rt, w.add(iw))
	return true
}

// waitComm waits until a process's command name is comm (it has exec'd).
func waitComm(pid int, comm string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	path := fmt.Sprintf("/proc/%d/comm", pid)
	for {
		data, err := os.ReadFile(path)
		if err == nil && strings.TrimSpace(string(data)) == comm {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("init %d did not exec %s within %s (comm %q, %v)", pid, comm, timeout, strings.TrimSpace(string(data)), err)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// measureWork runs the counted iterations: --version, a whole run, then
// the steps, each runtime in turn, in rotating order; each iteration
// twice when system calls can be counted, once for CPU time, faults and
// context switches, once for system calls (openCounters says why).
func (b *bench) measureWork(ctx context.Context) {
	if err := b.probeCounters(); err != nil {
		b.workErr = err.Error()
		progress("work not counted: %v", err)
		return
	}
	passes := []bool{false}
	if b.tracepoint != 0 {
		passes = append(passes, true)
	}
	defer func() { b.syscallPass = false }()
	for i := 0; i < b.opts.workIters && ctx.Err() == nil; i++ {
		if i%5 == 0 {
			progress("counted iteration %d/%d", i+1, b.opts.workIters)
		}
		for _, b.syscallPass = range passes {
			for _, rt := range rotate(b.runtimes, i) {
				b.measureWorkFloor(rt)
			}
			for _, rt := range rotate(b.runtimes, i) {
				b.measureWorkRun(rt)
			}
			for _, rt := range rotate(b.runtimes, i) {
				b.measureWorkSteps(rt)
			}
		}
		b.workDone = i + 1
	}
}

// probeCounters checks that perf counters can be opened here (a kernel
// without perf events, or perf_event_paranoid for non-root).
func (b *bench) probeCounters() error {
	for _, syscallsOnly := range []bool{false, true} {
		fds, err := openCounters(os.Getpid(), b.tracepoint, syscallsOnly, true)
		if err != nil {
			return err
		}
		closeFds(fds)
	}
	return nil
}
