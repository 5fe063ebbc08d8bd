// Package cgroups is the thin layer between the OCI runtime spec and the
// github.com/opencontainers/cgroups managers: it turns linux.cgroupsPath and
// linux.resources into a library configuration, picks the right manager
// (cgroup v1 fs, cgroup v2 fs2 or systemd) and hands back an fd for
// clone3(CLONE_INTO_CGROUP).
package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-runtime/berth/libcontainer/cgroups/devcg"
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"github.com/opencontainers/cgroups/systemd"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The managers apply device rules through devcg; without it they refuse
// any (ErrDevicesUnsupported). Three assignments, before any manager can
// be made.
func init() { devcg.Install() }

// Defaults used when config.json has no linux.cgroupsPath.
const (
	// DefaultParent is the cgroupfs parent of every container cgroup.
	DefaultParent = "/berth"
	// DefaultSlice and DefaultScopePrefix make systemd create
	// system.slice/berth-<id>.scope.
	DefaultSlice       = "system.slice"
	DefaultScopePrefix = "berth"
)

// Host cgroup modes reported by Mode.
const (
	ModeV1     = "v1"
	ModeHybrid = "hybrid"
	ModeV2     = "v2"
)

const (
	cgroupRoot     = "/sys/fs/cgroup"
	hybridUnified  = "/sys/fs/cgroup/unified"
	systemdRunPath = "/run/systemd/system"
)

// Config is what a container's cgroup manager is made from.
type Config struct {
	ID          string                // container id
	CgroupsPath string                // linux.cgroupsPath from config.json ("" = default)
	Resources   *specs.LinuxResources // linux.resources (may be nil)
	Systemd     bool                  // --systemd-cgroup given
	Rootless    bool
	// Annotations of config.json: with Systemd, the
	// org.systemd.property.* ones become properties of the unit.
	Annotations map[string]string
	// OwnerUID, when set, is the host uid the cgroup directory (and
	// the files systemd delegates) is given to; the library applies it
	// with the systemd driver on cgroup v2, as under runc.
	OwnerUID *int
}

// New validates cfg, converts it and returns a manager. Nothing is created
// on the host: the caller calls Apply(-1) or Apply(pid).
//
// cgroupfs: an empty CgroupsPath means DefaultParent/<id> (rootless: <id>
// relative to the caller's own cgroup, as runc's); an absolute path
// is taken from the hierarchy root; a relative path is resolved by the
// library under berth's own cgroup (per controller on v1, under the parent
// of berth's cgroup on v2), exactly as runc does.
//
// systemd: an empty CgroupsPath means "system.slice:berth:<id>"; otherwise it
// must be "slice:prefix:name". systemd must be running on the host.
func New(cfg Config) (cgroups.Manager, error) {
	c, err := Check(cfg)
	if err != nil {
		return nil, err
	}
	return c.Manager()
}

// Checked is a Config that Check accepted, converted for the library.
type Checked struct {
	id string
	cg *cgroups.Cgroup
	// unified is linux.resources.unified kept out of cg on a host that
	// is not cgroup2-only, whose v1 drivers refuse any (withUnified).
	unified map[string]string
}

// Check validates and converts cfg as New does, without making the
// manager: on cgroup v1 that looks up every hierarchy's mount, which a
// caller may want to do later, off its critical path (Checked.Manager).
func Check(cfg Config) (*Checked, error) {
	cg, err := checkedConfig(cfg)
	if err != nil {
		return nil, err
	}
	c := &Checked{id: cfg.ID, cg: cg}
	if r := cg.Resources; r != nil && r.Unified != nil && !cgroups.IsCgroup2UnifiedMode() {
		if Mode() == ModeV1 {
			return nil, fmt.Errorf("container %q: linux.resources.unified: no cgroup2 hierarchy on this host", cfg.ID)
		}
		c.unified = r.Unified
		rest := *r
		rest.Unified = nil
		cg.Resources = &rest
	}
	return c, nil
}

// Manager makes the manager of a checked config; call it once.
func (c *Checked) Manager() (cgroups.Manager, error) {
	known, _ := knownV1Paths(c.cg) // nil: the library computes them
	m, err := manager.NewWithPaths(c.cg, known)
	if err != nil {
		return nil, fmt.Errorf("cgroup manager for %q: %w", c.id, err)
	}
	paths, err := hybridRelativePaths(c.cg, m.GetPaths())
	if err != nil {
		return nil, fmt.Errorf("cgroup manager for %q: %w", c.id, err)
	}
	if paths != nil {
		if m, err = manager.NewWithPaths(c.cg, paths); err != nil {
			return nil, fmt.Errorf("cgroup manager for %q: %w", c.id, err)
		}
	}
	if c.unified != nil {
		return &withUnified{Manager: m, unified: c.unified}, nil
	}
	return m, nil
}

// hybridRelativePaths puts the cgroup2 directory of a container with a
// relative cgroupsPath under berth's own cgroup2 cgroup, as the v1
// directories are under berth's own v1 cgroups. The library's v1 manager
// on a hybrid host resolves a relative path against the root of the
// cgroup2 tree (runc's containers land there too). It returns nil when
// paths need no change: not a hybrid host, the systemd driver, an absolute
// or default path, or berth in the root cgroup.
func hybridRelativePaths(cg *cgroups.Cgroup, paths map[string]string) (map[string]string, error) {
	// (On a cgroup v2 only host the library's rule, the parent of berth's
	// cgroup, is runc's and stays.)
	if cg.Systemd || cg.Path == "" || filepath.IsAbs(cg.Path) || paths[""] == "" || cgroups.IsCgroup2UnifiedMode() {
		return nil, nil
	}
	own, err := cgroups.ParseCgroupFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read own cgroup: %w", err)
	}
	dir, err := unifiedUnder(paths[""], own[""], cg.Path)
	if err != nil || dir == paths[""] {
		return nil, err
	}
	fixed := maps.Clone(paths)
	fixed[""] = dir
	return fixed, nil
}

// unifiedUnder is where a relative cgroupsPath rel belongs in the hybrid
// cgroup2 tree, given the directory the library chose (the tree's mount
// point joined with rel) and berth's own cgroup2 cgroup (from
// /proc/self/cgroup). rel is cleaned as the library cleans it, so it
// cannot climb out of berth's cgroup.
func unifiedUnder(libDir, own, rel string) (string, error) {
	inner, err := filepath.Rel("/", filepath.Clean("/"+rel))
	if err != nil {
		return "", err
	}
	mnt := strings.TrimSuffix(libDir, "/"+inner)
	if mnt == libDir || !filepath.IsAbs(mnt) {
		return "", fmt.Errorf("unexpected cgroup2 path %q for relative cgroupsPath %q", libDir, rel)
	}
	if own == "" || !filepath.IsAbs(own) {
		return libDir, nil
	}
	return filepath.Join(mnt, own, inner), nil
}

// withUnified is a manager whose config's unified keys the v1 driver
// cannot hold: GetCgroups gives them back, so that SetResources hands
// them to Set, which writes them itself (setHybridUnified).
type withUnified struct {
	cgroups.Manager
	unified map[string]string
}

func (m *withUnified) GetCgroups() (*cgroups.Cgroup, error) {
	cg, err := m.Manager.GetCgroups()
	if err != nil || cg == nil || cg.Resources == nil {
		return cg, err
	}
	c := *cg
	r := *cg.Resources
	r.Unified = m.unified
	c.Resources = &r
	return &c, nil
}

// checkedConfig turns cfg into the library's config and, for the systemd
// manager, checks that systemd runs: what New and Load both need.
func checkedConfig(cfg Config) (*cgroups.Cgroup, error) {
	cg, err := libConfig(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Systemd {
		if err := checkSystemd(); err != nil {
			return nil, err
		}
	}
	return cg, nil
}

// Load re-creates the manager of an existing container from the paths its
// state saved (manager.GetPaths()). It does not scan mountinfo: the library
// only computes paths when none are given, so Load costs one statfs. cfg
// should be the one New was given (for systemd it names the unit), but its
// Resources may be nil. The map is copied because the library's Destroy
// deletes entries from the map it holds; for the same reason, callers that
// save GetPaths() should save a copy.
func Load(cfg Config, paths map[string]string) (cgroups.Manager, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("load cgroup manager for %q: no cgroup paths saved", cfg.ID)
	}
	for ctrl, p := range paths {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return nil, fmt.Errorf("load cgroup manager for %q: controller %q: invalid path %q", cfg.ID, ctrl, p)
		}
	}
	cg, err := checkedConfig(cfg)
	if err != nil {
		return nil, err
	}
	m, err := manager.NewWithPaths(cg, maps.Clone(paths))
	if err != nil {
		return nil, fmt.Errorf("load cgroup manager for %q: %w", cfg.ID, err)
	}
	return m, nil
}

// libConfig turns Config into the library's Cgroup (path rules + resources).
func libConfig(cfg Config) (*cgroups.Cgroup, error) {
	res, err := ConvertResources(cfg.Resources)
	if err != nil {
		return nil, fmt.Errorf("container %q: linux.resources: %w", cfg.ID, err)
	}
	cg := &cgroups.Cgroup{
		Resources: res,
		Systemd:   cfg.Systemd,
		Rootless:  cfg.Rootless,
		OwnerUID:  cfg.OwnerUID,
	}
	if cfg.Systemd {
		if err := setSystemdPath(cg, cfg); err != nil {
			return nil, fmt.Errorf("systemd cgroup manager: %w", err)
		}
		if cg.SystemdProps, err = systemdProps(cfg.Annotations); err != nil {
			return nil, fmt.Errorf("systemd cgroup manager: %w", err)
		}
		return cg, nil
	}
	if cfg.CgroupsPath == "" {
		if err := checkID(cfg.ID); err != nil {
			return nil, fmt.Errorf("default cgroup path: %w", err)
		}
		if cfg.Rootless {
			// As runc's: the name alone, a path relative to the
			// caller's own cgroup (on v2 its parent's, which has no
			// processes of its own and so may give controllers to
			// children), where a delegated subtree makes it the
			// caller's own. Path stays empty: the library lets a
			// rootless manager skip what it may not write only then.
			cg.Name = cfg.ID
			return cg, nil
		}
		cg.Path = DefaultParent + "/" + cfg.ID
		return cg, nil
	}
	// The library cleans the path (so "../x" cannot climb out of the
	// hierarchy or out of berth's own cgroup) and keeps relative paths
	// relative, which is what makes them land under berth's cgroup.
	cg.Path = cfg.CgroupsPath
	return cg, nil
}

// setSystemdPath parses "slice:prefix:name" (or the default) into cg.
func setSystemdPath(cg *cgroups.Cgroup, cfg Config) error {
	if cfg.CgroupsPath == "" {
		if err := checkID(cfg.ID); err != nil {
			return fmt.Errorf("default unit name: %w", err)
		}
		cg.Parent = DefaultSlice
		cg.ScopePrefix = DefaultScopePrefix
		cg.Name = cfg.ID
		return nil
	}
	parts := strings.Split(cfg.CgroupsPath, ":")
	if len(parts) != 3 {
		return fmt.Errorf("cgroupsPath %q is not of the form \"slice:prefix:name\"", cfg.CgroupsPath)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("cgroupsPath %q: invalid unit name %q", cfg.CgroupsPath, name)
	}
	if strings.Contains(prefix, "/") {
		return fmt.Errorf("cgroupsPath %q: invalid prefix %q", cfg.CgroupsPath, prefix)
	}
	// An empty slice lets the library pick system.slice (or user.slice
	// when rootless); anything else must be a valid slice unit name.
	if slice != "" {
		if _, err := systemd.ExpandSlice(slice); err != nil {
			return fmt.Errorf("cgroupsPath %q: %w", cfg.CgroupsPath, err)
		}
	}
	cg.Parent, cg.ScopePrefix, cg.Name = slice, prefix, name
	return nil
}

// checkSystemd reports, in one clear error, that the systemd driver cannot be
// used. It looks at the same marker systemd itself creates at boot
// (sd_booted(3)), without the library's process-wide cache.
func checkSystemd() error {
	fi, err := os.Lstat(systemdRunPath)
	if err != nil || !fi.IsDir() {
		return errors.New("systemd cgroup manager: systemd not running on this host")
	}
	return nil
}

// checkID rejects container ids that cannot be one path element.
func checkID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") {
		return fmt.Errorf("invalid container id %q", id)
	}
	return nil
}

// Mode reports the host's cgroup mode: "v1", "hybrid" or "v2".
// Nothing is cached here; note the library caches its own v2 check for the
// life of the process.
func Mode() string {
	if cgroups.IsCgroup2UnifiedMode() {
		return ModeV2
	}
	var st unix.Statfs_t
	if err := unix.Statfs(hybridUnified, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return ModeHybrid
	}
	return ModeV1
}

// OpenUnified returns an O_RDONLY|O_DIRECTORY|O_CLOEXEC fd of the container's
// cgroup in the cgroup2 hierarchy, for clone3 CLONE_INTO_CGROUP
// (syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}). It returns -1, nil
// when the container has no cgroup2 directory (pure v1 host, or a hybrid
// host where the manager did not create one). The caller owns the fd.
//
// What the caller must do:
//   - call m.Apply(-1) first: the directory must exist before it is opened;
//   - pure v2: a process cloned into the fd is fully placed, Apply(pid) is
//     not needed (it is harmless);
//   - hybrid: CLONE_INTO_CGROUP only places the process in the cgroup2
//     tree (no controllers there except possibly hugetlb); the caller must
//     still call m.Apply(pid) to join the v1 controllers (memory, pids,
//     cpu, devices, freezer, ...) before the container process is allowed
//     to run the user's program;
//   - if clone3 fails with a CLONE_INTO_CGROUP error (old kernel), fall
//     back to a plain fork followed by Apply(pid).
func OpenUnified(m cgroups.Manager) (int, error) {
	if m == nil {
		return -1, errors.New("open unified cgroup: nil manager")
	}
	// fs2 and the systemd v2 manager ignore the argument; v1 managers on a
	// hybrid host keep the cgroup2 directory under the "" key.
	dir := m.Path("")
	if dir == "" {
		return -1, nil
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) && !cgroups.IsCgroup2UnifiedMode() {
			// Hybrid: the library joins the unified tree best-effort.
			return -1, nil
		}
		return -1, fmt.Errorf("open %s: %w", dir, err)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("statfs %s: %w", dir, err)
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		unix.Close(fd)
		return -1, fmt.Errorf("open unified cgroup: %s is not on a cgroup2 filesystem", dir)
	}
	return fd, nil
}

// SetResources writes the resources m was made with (Config.Resources)
// to the cgroup. The library's Set(nil) does nothing at all, so callers
// must pass the configured resources explicitly; this is that call.
func SetResources(m cgroups.Manager) error {
	cg, err := m.GetCgroups()
	if err != nil {
		return fmt.Errorf("read cgroup config: %w", err)
	}
	if cg == nil || cg.Resources == nil {
		return nil
	}
	return Set(m, cg.Resources)
}

// Set writes r to m's cgroup. On a hybrid host without a v1 hugetlb
// hierarchy, hugetlb limits go to the container's cgroup2 directory,
// where the kernel may offer the controller, and so do the unified keys
// of controllers that live there (setHybridUnified): the v1 driver alone
// would refuse them.
func Set(m cgroups.Manager, r *cgroups.Resources) error {
	if !cgroups.IsCgroup2UnifiedMode() {
		if err := checkV1Knobs(m.GetPaths(), r); err != nil {
			return err
		}
	} else {
		if err := checkV2Knobs(m.Path(""), r); err != nil {
			return err
		}
		warnV2Unapplied(r)
	}
	r, err := withIdle(m, r)
	if err != nil {
		return err
	}
	if len(r.HugetlbLimit) > 0 && m.Path("hugetlb") == "" && !cgroups.IsCgroup2UnifiedMode() {
		if err := setUnifiedHugetlb(hybridUnified, m.Path(""), r.HugetlbLimit); err != nil {
			return err
		}
		rest := *r
		rest.HugetlbLimit = nil
		r = &rest
	}
	if len(r.Unified) > 0 && !cgroups.IsCgroup2UnifiedMode() {
		if err := setHybridUnified(hybridUnified, m.Path(""), m.GetPaths(), r.Unified); err != nil {
			return err
		}
		rest := *r
		rest.Unified = nil
		r = &rest
	}
	unlock, err := LendRt(m, r) // rtbudget.go
	if err != nil {
		return err
	}
	defer unlock()
	return m.Set(r)
}
