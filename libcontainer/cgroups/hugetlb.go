package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
)

// setUnifiedHugetlb writes hugetlb limits into dir, a cgroup under the
// cgroup2 hierarchy mounted at root (a hybrid host's "unified" tree).
//
// The controller is enabled in the cgroup.subtree_control of dir's
// ancestors below root, top-down. The root's own subtree_control is never
// written: it belongs to whoever runs the host (PID 1), so when the root
// does not delegate hugetlb the limits fail with an error that says so
// instead of being silently dropped.
func setUnifiedHugetlb(root, dir string, limits []*cgroups.HugepageLimit) error {
	if dir == "" {
		return errors.New("hugetlb limits: no hugetlb cgroup controller on this host")
	}
	if err := delegateUnified(root, dir, "hugetlb"); err != nil {
		return fmt.Errorf("hugetlb limits: %w", err)
	}
	for _, l := range limits {
		value := strconv.FormatUint(l.Limit, 10)
		if err := writeCgroupFile(dir, "hugetlb."+l.Pagesize+".max", value); err != nil {
			return fmt.Errorf("hugetlb limits: %w", err)
		}
		// Reservations are limited too when the kernel has them, so a
		// mapping cannot reserve past the limit and fault later.
		rsvd := "hugetlb." + l.Pagesize + ".rsvd.max"
		if _, err := os.Stat(filepath.Join(dir, rsvd)); err == nil {
			if err := writeCgroupFile(dir, rsvd, value); err != nil {
				return fmt.Errorf("hugetlb limits: %w", err)
			}
		}
	}
	return nil
}

// delegateUnified enables ctrl for dir, a cgroup under the cgroup2
// hierarchy mounted at root, in the cgroup.subtree_control of dir's
// ancestors below root, top-down. The root's own subtree_control is never
// written: it belongs to whoever runs the host (PID 1), so a controller
// the root does not delegate is an error that says so.
func delegateUnified(root, dir, ctrl string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("cgroup %s is not below %s", dir, root)
	}
	if !hasController(root, ctrl) {
		return fmt.Errorf("the %s controller is not enabled in %s/cgroup.subtree_control (not delegated to containers on this host)", ctrl, root)
	}
	parent := root
	for _, elem := range strings.Split(filepath.Dir(rel), string(filepath.Separator)) {
		if elem == "." {
			break
		}
		parent = filepath.Join(parent, elem)
		if err := enableController(parent, ctrl); err != nil {
			return err
		}
	}
	return nil
}

// hasController reports whether dir's subtree_control enables ctrl for
// its children.
func hasController(dir, ctrl string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	return err == nil && slices.Contains(strings.Fields(string(data)), ctrl)
}

// enableController enables ctrl for dir's children, unless it already is.
func enableController(dir, ctrl string) error {
	if hasController(dir, ctrl) {
		return nil
	}
	return writeCgroupFile(dir, "cgroup.subtree_control", "+"+ctrl)
}

func writeCgroupFile(dir, name, value string) error {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	_, werr := f.WriteString(value)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, werr)
	}
	if cerr != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, cerr)
	}
	return nil
}
