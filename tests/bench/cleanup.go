package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const cgroupMounts = "/sys/fs/cgroup"

// cleanupAll force-deletes every container of this run that a runtime
// still knows, then removes this run's cgroups, killing (by pid) any
// process still in them: all of them were started by this run.
func (b *bench) cleanupAll() {
	prefix := "bench-" + b.tag + "-"
	for _, rt := range b.runtimes {
		entries, err := os.ReadDir(rt.root)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
				b.forceDelete(rt, e.Name())
			}
		}
	}
	controllers, err := os.ReadDir(cgroupMounts)
	if err != nil {
		return
	}
	for _, c := range controllers {
		if c.IsDir() && isCgroupV1(filepath.Join(cgroupMounts, c.Name())) {
			removeCgroupTree(filepath.Join(cgroupMounts, c.Name(), strings.TrimPrefix(b.cgroupParent(), "/")))
		}
	}
}

// removeCgroupTree removes a cgroup directory bottom-up.
func removeCgroupTree(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			removeCgroupTree(filepath.Join(dir, e.Name()))
		}
	}
	for attempt := 0; attempt < 50; attempt++ {
		killCgroupProcs(dir)
		err = unix.Rmdir(dir)
		if err == nil || os.IsNotExist(err) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "bench: cleanup: remove cgroup %s: %v\n", dir, err)
}

func killCgroupProcs(dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return
	}
	for _, field := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(field); err == nil && pid > 1 {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
}

func isCgroupV1(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP_SUPER_MAGIC
}
