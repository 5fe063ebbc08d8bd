package main

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// exitInfo is what wait4 reported for one process, stamped with the
// monotonic time at which the reaper saw it exit.
type exitInfo struct {
	status unix.WaitStatus
	rusage unix.Rusage
	at     time.Time
}

// reaper owns every wait in the driver. The driver is a child subreaper,
// so container inits orphaned by `create` become its children; one
// wait4(-1) loop reaps them and the runtime commands alike, and hands
// each exit to whoever waits for that pid. No os/exec: its per-child
// waits would race with wait4(-1).
type reaper struct {
	mu      sync.Mutex
	waiting map[int]chan exitInfo
	unowned map[int]exitInfo // reaped before anyone asked: orphans, fast exits
	wake    chan struct{}    // a child exists again after ECHILD
}

func newReaper() *reaper {
	r := &reaper{
		waiting: map[int]chan exitInfo{},
		unowned: map[int]exitInfo{},
		wake:    make(chan struct{}, 1),
	}
	go r.loop()
	return r
}

func (r *reaper) loop() {
	for {
		var status unix.WaitStatus
		var usage unix.Rusage
		pid, err := unix.Wait4(-1, &status, 0, &usage)
		at := time.Now()
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD):
			<-r.wake
			continue
		case err != nil:
			fmt.Fprintf(os.Stderr, "bench: wait4: %v\n", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		r.deliver(pid, exitInfo{status: status, rusage: usage, at: at})
	}
}

func (r *reaper) deliver(pid int, info exitInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ch, ok := r.waiting[pid]; ok {
		delete(r.waiting, pid)
		ch <- info
		return
	}
	r.unowned[pid] = info
}

// spawn starts argv with the given stdio and returns its pid, the time
// just before the fork, and a channel that receives its exit. The lock is
// held across the fork so the reaper cannot file this pid's exit under a
// stale entry of an earlier process that had the same pid.
func (r *reaper) spawn(argv []string, files []uintptr) (int, time.Time, <-chan exitInfo, error) {
	attr := &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: files,
		// Own process group: a Ctrl-C on the terminal reaches the driver,
		// which finishes the step in flight and cleans up, not the runtime
		// half-way through a create.
		Sys: &syscall.SysProcAttr{Setpgid: true},
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	began := time.Now()
	pid, err := syscall.ForkExec(argv[0], argv, attr)
	if err != nil {
		return 0, began, nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	delete(r.unowned, pid)
	ch := make(chan exitInfo, 1)
	r.waiting[pid] = ch
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return pid, began, ch, nil
}

// waitPid waits for a process the driver did not spawn but will reap
// (a container init re-parented to the subreaper).
func (r *reaper) waitPid(pid int, timeout time.Duration) (exitInfo, error) {
	r.mu.Lock()
	if info, ok := r.unowned[pid]; ok {
		delete(r.unowned, pid)
		r.mu.Unlock()
		return info, nil
	}
	ch := make(chan exitInfo, 1)
	r.waiting[pid] = ch
	r.mu.Unlock()
	select {
	case info := <-ch:
		return info, nil
	case <-time.After(timeout):
		r.mu.Lock()
		delete(r.waiting, pid)
		r.mu.Unlock()
		return exitInfo{}, fmt.Errorf("pid %d did not exit within %s", pid, timeout)
	}
}

// waitSpawned waits for a spawned process, killing it (by its pid, which
// is still ours until reaped) when it overruns the timeout.
func waitSpawned(pid int, ch <-chan exitInfo, timeout time.Duration) (exitInfo, error) {
	select {
	case info := <-ch:
		return info, nil
	case <-time.After(timeout):
		_ = unix.Kill(pid, unix.SIGKILL)
		info := <-ch
		return info, fmt.Errorf("pid %d killed after %s", pid, timeout)
	}
}

// forget drops an exit filed under pid: called once a new, live process
// is known to hold that pid, so the old exit cannot be mistaken for its.
func (r *reaper) forget(pid int) {
	r.mu.Lock()
	delete(r.unowned, pid)
	r.mu.Unlock()
}
