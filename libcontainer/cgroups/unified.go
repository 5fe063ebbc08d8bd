package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// setHybridUnified writes linux.resources.unified on a hybrid host, where
// the library's v1 driver refuses every key. A key goes to the
// container's directory in the cgroup2 tree mounted at root (dir) when
// its controller lives there: the cgroup core's own files ("cgroup.*"),
// and a controller the cgroup2 root offers (cgroup.controllers) that no
// v1 hierarchy holds (v1 says which: v1[ctrl] is its directory). The
// controller is delegated down to dir first (delegateUnified). Any other
// key is refused naming its controller: its limits are on cgroup v1 here,
// where linux.resources has a field of its own for them.
func setHybridUnified(root, dir string, v1 map[string]string, unified map[string]string) error {
	if dir == "" {
		return errors.New("linux.resources.unified: the container has no cgroup2 directory on this host")
	}
	offered := controllers(root)
	// Sorted: a failure names the same key each time.
	for _, key := range slices.Sorted(maps.Keys(unified)) {
		ctrl, _, _ := strings.Cut(key, ".")
		switch {
		case ctrl == "":
			return fmt.Errorf("linux.resources.unified: %q names no controller", key)
		case ctrl == "cgroup":
		case v1[ctrl] != "":
			return fmt.Errorf("invalid configuration: linux.resources.unified: %q: the %s controller is on cgroup v1 on this host", key, ctrl)
		case !slices.Contains(offered, ctrl):
			return fmt.Errorf("linux.resources.unified: %q: no %s controller in the cgroup2 tree %s", key, ctrl, root)
		default:
			if err := delegateUnified(root, dir, ctrl); err != nil {
				return fmt.Errorf("linux.resources.unified: %q: %w", key, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, key)); err != nil {
			return fmt.Errorf("linux.resources.unified: %q: %w", key, err)
		}
		if err := writeCgroupFile(dir, key, unified[key]); err != nil {
			return fmt.Errorf("linux.resources.unified: %w", err)
		}
	}
	return nil
}

// controllers lists the controllers a cgroup2 directory offers.
func controllers(dir string) []string {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(data))
}
