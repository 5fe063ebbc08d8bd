package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// Procs lists every process in the cgroup given by paths (one directory
// per hierarchy), sub-cgroups included, each pid once. Directories that
// do not exist hold nothing.
func Procs(paths map[string]string) ([]int, error) {
	seen := map[int]bool{}
	var pids []int
	for _, dir := range DistinctDirs(paths, true) {
		if err := checkNotRoot(dir); err != nil {
			return nil, err
		}
		err := walkCgroups(dir, func(sub string) error {
			ids, threads, err := readMembers(sub)
			if err != nil {
				if gone(err) {
					return nil
				}
				return err
			}
			for _, pid := range ids {
				if threads {
					// a thread's process; one that is gone has no
					// process left to list or kill
					if pid, err = tgidOf(pid); err != nil {
						continue
					}
				}
				if !seen[pid] {
					seen[pid] = true
					pids = append(pids, pid)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list processes of cgroup %s: %w", dir, err)
		}
	}
	return pids, nil
}

// readMembers reads the pids in a cgroup's cgroup.procs. A threaded
// cgroup of cgroup v2 (a process of the container may make one under its
// cgroup) refuses that read with EOPNOTSUPP; its members are read from
// cgroup.threads instead, and threads is true: they are thread ids.
func readMembers(dir string) (ids []int, threads bool, err error) {
	file := "cgroup.procs"
	data, err := os.ReadFile(filepath.Join(dir, file))
	if errors.Is(err, unix.EOPNOTSUPP) {
		file, threads = "cgroup.threads", true
		data, err = os.ReadFile(filepath.Join(dir, file))
	}
	if err != nil {
		return nil, false, err
	}
	for _, f := range strings.Fields(string(data)) {
		id, err := strconv.Atoi(f)
		if err != nil || id < 0 {
			return nil, false, fmt.Errorf("%s/%s: bad id %q", dir, file, f)
		}
		if id == 0 {
			// A process of a pid namespace berth cannot see (berth
			// run in a container): cgroup2 lists it as 0. It cannot
			// be named, so it is left to whoever sees it; kill(0)
			// would signal berth's own process group.
			continue
		}
		ids = append(ids, id)
	}
	return ids, threads, nil
}

// tgidOf returns the process (thread group) a thread id belongs to.
func tgidOf(tid int) (int, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseTgid(data)
}

// parseTgid reads the Tgid line of a /proc/PID/status.
func parseTgid(status []byte) (int, error) {
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("no Tgid in status")
}

// KillAll sends SIGKILL to every process of the cgroup given by paths,
// sub-cgroups included, once. On cgroup v1 a frozen process dies only
// once thawed, so every frozen cgroup of the v1 freezer subtree is
// thawed too (the container's own and any sub-cgroup a process of it
// froze); the cgroup v2 freezer lets SIGKILL through. It reports how many
// processes it signalled. Processes forked meanwhile are the next call's.
func KillAll(paths map[string]string) (int, error) {
	pids, err := Procs(paths)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, pid := range pids {
		if err := unix.Kill(pid, unix.SIGKILL); err != nil {
			if errors.Is(err, unix.ESRCH) {
				continue
			}
			return n, fmt.Errorf("kill %d: %w", pid, err)
		}
		n++
	}
	if dir := paths["freezer"]; dir != "" {
		if err := thawTree(dir, v1Freezer); err != nil {
			return n, err
		}
	}
	// The cgroup v2 freezer does not hold SIGKILL back, but a cgroup
	// left frozen would stay so (as runc, which thaws after signalling).
	if dir := paths[""]; dir != "" && cgroups.IsCgroup2UnifiedMode() {
		if err := thawTree(dir, v2Freezer); err != nil {
			return n, err
		}
	}
	return n, nil
}

// freezerFile is a freezer's state file and its thawed value.
type freezerFile struct{ name, thawed string }

var (
	v1Freezer = freezerFile{"freezer.state", string(cgroups.Thawed)}
	v2Freezer = freezerFile{"cgroup.freeze", "0"}
)

// KillAllAndWait kills every process of the cgroup (KillAll) until none
// is left, or fails after timeout. Exited processes leave the cgroup at
// once (their zombies do not keep it busy), so once this returns the
// directories can be removed without waiting for any reaper.
func KillAllAndWait(paths map[string]string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	for {
		n, err := KillAll(paths)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d process(es) of the cgroup still alive after SIGKILL", n)
		}
		// Killed processes take a moment to exit; back off so a
		// slow exit does not cost a busy loop.
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// thawTree thaws every frozen cgroup at or under dir (cgroup v1 freezer
// or cgroup v2, as f says), parents first (on v1 a child cannot thaw
// under a frozen parent).
func thawTree(dir string, f freezerFile) error {
	return walkCgroups(dir, func(sub string) error {
		data, err := os.ReadFile(filepath.Join(sub, f.name))
		if err != nil {
			if gone(err) {
				return nil
			}
			return err
		}
		if strings.TrimSpace(string(data)) == f.thawed {
			return nil
		}
		if err := os.WriteFile(filepath.Join(sub, f.name), []byte(f.thawed), 0); err != nil && !gone(err) {
			return fmt.Errorf("thaw %s: %w", sub, err)
		}
		return nil
	})
}

// checkNotRoot refuses the root of a cgroup hierarchy (a mount point):
// no container's cgroup is one, and a state naming one would make the
// caller act on every process of the host.
func checkNotRoot(dir string) error {
	var st, parent unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		if gone(err) {
			return nil
		}
		return fmt.Errorf("stat %s: %w", dir, err)
	}
	if err := unix.Stat(filepath.Dir(dir), &parent); err != nil {
		return fmt.Errorf("stat %s: %w", filepath.Dir(dir), err)
	}
	if st.Dev != parent.Dev {
		return fmt.Errorf("refusing to act on %s: it is the root of a cgroup hierarchy, not a container's cgroup", dir)
	}
	return nil
}

// walkCgroups calls fn on dir and every cgroup below it, parents first.
// A missing dir, or a sub-cgroup removed while walking, is skipped.
func walkCgroups(dir string, fn func(string) error) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if gone(err) {
				if p == dir {
					return fs.SkipAll
				}
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		return fn(p)
	})
}

// gone reports an error meaning the cgroup (or file) is not there (any
// more).
func gone(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENODEV)
}
