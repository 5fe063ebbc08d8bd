package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/opencontainers/cgroups"
)

// CheckUnused refuses to make a container in a cgroup that already exists
// and is in use, as runc does: one holding processes (they would share the
// container's limits and be killed with it), or one that is frozen (init
// would freeze on joining it, and create would wait for it forever).
//
// Call it on a new manager before Apply: the manager has computed its
// paths but created nothing, so a refusal leaves nothing to clean up, and
// the caller must not Destroy the manager (the cgroup is not the
// container's).
//
// It costs one failed open per hierarchy when the cgroup does not exist
// yet, the usual case.
func CheckUnused(m cgroups.Manager) error {
	return checkUnusedPaths(m.GetPaths())
}

func checkUnusedPaths(paths map[string]string) error {
	for _, key := range []string{"freezer", ""} {
		dir := paths[key]
		if dir == "" {
			continue
		}
		frozen, err := isFrozen(key, dir)
		if err != nil {
			return err
		}
		if frozen {
			return fmt.Errorf("container's cgroup unexpectedly frozen: %s is frozen: thaw it or choose another cgroupsPath", dir)
		}
	}
	for _, dir := range DistinctDirs(paths, true) {
		n, err := countProcs(dir)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("container's cgroup is not empty: %s: %d process(es) found", dir, n)
		}
	}
	return nil
}

// isFrozen reads the freezer state of a v1 freezer directory (key
// "freezer") or a cgroup2 one (key ""). A missing file means the cgroup
// does not exist (or has no freezer): not frozen.
func isFrozen(key, dir string) (bool, error) {
	file, want := "cgroup.freeze", []string{"1"}
	if key == "freezer" {
		// FREEZING: a freeze in progress ends FROZEN.
		file, want = "freezer.state", []string{"FROZEN", "FREEZING"}
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		if gone(err) {
			return false, nil
		}
		return false, fmt.Errorf("read %s/%s: %w", dir, file, err)
	}
	state := strings.TrimSpace(string(data))
	for _, w := range want {
		if state == w {
			return true, nil
		}
	}
	return false, nil
}

// countProcs counts the processes in the cgroup at dir and its
// sub-cgroups; 0 when dir does not exist.
func countProcs(dir string) (int, error) {
	pids, err := Procs(map[string]string{"": dir})
	return len(pids), err
}

// DistinctDirs lists every directory of a manager's paths once
// (co-mounted controllers share one), sorted; the cgroup2 one (key "")
// only with unified.
func DistinctDirs(paths map[string]string, unified bool) []string {
	seen := map[string]bool{}
	var dirs []string
	for key, d := range paths {
		if d == "" || seen[d] || (key == "" && !unified) {
			continue
		}
		seen[d] = true
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs
}
