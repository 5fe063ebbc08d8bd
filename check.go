package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v3"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/cgroups"
	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
)

// Check statuses, as printed.
const (
	statusOK              = "ok"
	statusMissing         = "missing"          // required: containers cannot run
	statusOptionalMissing = "optional-missing" // some configs will fail
)

// checkItem is one row of `berth check`.
type checkItem struct {
	Item     string `json:"item"`
	Status   string `json:"status"`
	Required bool   `json:"required"`
	Detail   string `json:"detail"`
}

// checkReport is the --format json document.
type checkReport struct {
	OK    bool        `json:"ok"`
	Items []checkItem `json:"items"`
}

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "report what this host supports and what is missing for containers to run",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 0, true); err != nil {
				return err
			}
			format := cmd.String("format")
			if format != "table" && format != "json" {
				return fmt.Errorf("check: unknown format %q (want table or json)", format)
			}
			items := runChecks()
			report := checkReport{OK: true, Items: items}
			var missing []string
			for _, it := range items {
				if it.Status == statusMissing {
					report.OK = false
					missing = append(missing, it.Item)
				}
			}
			if err := printCheck(report, format); err != nil {
				return err
			}
			if !report.OK {
				return fmt.Errorf("check: required host support missing: %s", strings.Join(missing, ", "))
			}
			return nil
		},
	}
}

func printCheck(r checkReport, format string) error {
	if format == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("check: write JSON: %w", err)
		}
		return nil
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "ITEM\tSTATUS\tDETAIL")
	for _, it := range r.Items {
		fmt.Fprintf(w, "%s\t%s\t%s\n", it.Item, it.Status, it.Detail)
	}
	return w.Flush()
}

// item builds a row: ok when err is nil, otherwise missing (required) or
// optional-missing, with err as the detail.
func item(name string, required bool, okDetail string, err error) checkItem {
	it := checkItem{Item: name, Required: required, Status: statusOK, Detail: okDetail}
	if err != nil {
		it.Detail = err.Error()
		it.Status = statusOptionalMissing
		if required {
			it.Status = statusMissing
		}
	}
	return it
}

func runChecks() []checkItem {
	var items []checkItem
	items = append(items, namespaceChecks()...)
	items = append(items, userNamespaceCheck())
	items = append(items, cgroupChecks()...)
	items = append(items, seccompCheck(), overlayCheck())
	items = append(items, syscallChecks()...)
	return items
}

// requiredNamespace: the kinds every usual container config asks for
// (Docker, containerd and CRI defaults); the others are optional.
// A function, not a map: a package-level map is built at every start.
func requiredNamespace(t specs.LinuxNamespaceType) bool {
	switch t {
	case specs.MountNamespace, specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace:
		return true
	}
	return false
}

// namespaceChecks creates each kind of namespace for real, in a child
// (berth --version with unshare(2) done between fork and exec), so that a
// kernel or sysctl that forbids it shows up here, not in a container.
func namespaceChecks() []checkItem {
	self, err := os.Executable()
	if err != nil {
		self = "/proc/self/exe"
	}
	var items []checkItem
	for _, t := range configs.AllNamespaceTypes() {
		name := "namespace " + string(t)
		items = append(items, item(name, requiredNamespace(t), "can be created", probeNamespace(self, t)))
	}
	return items
}

func probeNamespace(self string, t specs.LinuxNamespaceType) error {
	proc := "/proc/self/ns/" + configs.NamespaceProcName(t)
	if _, err := os.Lstat(proc); err != nil {
		return fmt.Errorf("kernel without %s namespaces (%s: %w)", t, proc, err)
	}
	flag, err := configs.NamespaceFlag(t)
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "--version")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: flag}
	if t == specs.PIDNamespace {
		// unshare(CLONE_NEWPID) only moves future children; the child
		// itself must be born in the new namespace (as its pid 1), or
		// its Go runtime cannot start threads.
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flag}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("unshare %s namespace: %w %s", t, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func userNamespaceCheck() checkItem {
	const sysctl = "/proc/sys/user/max_user_namespaces"
	data, err := os.ReadFile(sysctl)
	if err != nil {
		return item("user namespaces", false, "", fmt.Errorf("read %s: %w", sysctl, err))
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return item("user namespaces", false, "", fmt.Errorf("parse %s: %w", sysctl, err))
	}
	if n == 0 {
		return item("user namespaces", false, "", fmt.Errorf("%s is 0: rootless and user-namespaced containers cannot run", sysctl))
	}
	return item("user namespaces", false, fmt.Sprintf("%s = %d", sysctl, n), nil)
}

// controllerUse says what each cgroup controller is needed for.
var controllerUse = []struct{ name, use string }{
	{"cpu", "linux.resources.cpu shares/quota"},
	{"cpuset", "linux.resources.cpu cpus/mems"},
	{"memory", "linux.resources.memory"},
	{"pids", "linux.resources.pids"},
	{"blkio", "linux.resources.blockIO"},
	{"hugetlb", "linux.resources.hugepageLimits"},
	{"freezer", "pause/resume"},
	{"devices", "linux.resources.devices (v1)"},
}

func cgroupChecks() []checkItem {
	mode := cgroups.Mode()
	items := []checkItem{item("cgroup mode", false, mode, nil)}
	available, err := availableControllers(mode)
	if err != nil {
		return append(items, item("cgroup controllers", true, "", err))
	}
	for _, c := range controllerUse {
		name := "cgroup " + c.name
		required := c.name == "devices" && mode != cgroups.ModeV2 // device isolation needs it on v1
		if !available[c.name] {
			items = append(items, item(name, required, "", fmt.Errorf("controller not enabled or not mounted: %s will fail", c.use)))
			continue
		}
		items = append(items, item(name, required, "for "+c.use, nil))
	}
	return items
}

// availableControllers lists the usable controllers: on cgroup v2 those in
// the root's cgroup.controllers (freezer and devices are built into v2);
// on v1 and hybrid those enabled in /proc/cgroups whose hierarchy is
// mounted under /sys/fs/cgroup.
func availableControllers(mode string) (map[string]bool, error) {
	avail := map[string]bool{}
	if mode == cgroups.ModeV2 {
		data, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
		if err != nil {
			return nil, fmt.Errorf("read cgroup.controllers: %w", err)
		}
		for _, c := range strings.Fields(string(data)) {
			avail[c] = true
		}
		avail["freezer"], avail["devices"] = true, true
		if avail["io"] {
			avail["blkio"] = true
		}
		return avail, nil
	}
	f, err := os.Open("/proc/cgroups")
	if err != nil {
		return nil, fmt.Errorf("open /proc/cgroups: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 4 || strings.HasPrefix(fields[0], "#") || fields[3] != "1" {
			continue
		}
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", fields[0])); err == nil {
			avail[fields[0]] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read /proc/cgroups: %w", err)
	}
	return avail, nil
}

// seccompCheck needs both halves: the kernel's filter mode and a linked
// libseccomp that can compile profiles.
func seccompCheck() checkItem {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return item("seccomp", false, "", fmt.Errorf("read /proc/self/status: %w", err))
	}
	if !strings.Contains(string(status), "\nSeccomp:") {
		return item("seccomp", false, "", errors.New("kernel built without CONFIG_SECCOMP: linux.seccomp profiles will fail"))
	}
	if !seccomp.Enabled() {
		return item("seccomp", false, "", errors.New("seccomp filters unavailable (libseccomp or kernel filter mode): linux.seccomp profiles will fail"))
	}
	return item("seccomp", false, "kernel filter mode and libseccomp", nil)
}

// overlayCheck: berth seals its own binary on an overlay mount before
// running it in a container (memfd copy otherwise, which is slower).
func overlayCheck() checkItem {
	data, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return item("overlayfs", false, "", fmt.Errorf("read /proc/filesystems: %w", err))
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "overlay" {
			return item("overlayfs", false, "in /proc/filesystems", nil)
		}
	}
	return item("overlayfs", false, "", errors.New("not in /proc/filesystems (modprobe overlay): berth falls back to a memfd copy of itself"))
}

// syscallChecks probes each system call with arguments that make it fail
// harmlessly: ENOSYS means the kernel lacks it, any other error means it
// exists.
func syscallChecks() []checkItem {
	return []checkItem{
		item("pidfd_open", false, "race-free signalling of init", probePidfd()),
		item("openat2", false, "in-root path resolution (RESOLVE_IN_ROOT)", probeOpenat2()),
		item("clone3", false, "one clone into the container's cgroup", probeSyscall(unix.SYS_CLONE3, 0, 0, 0)),
		item("CLONE_INTO_CGROUP", false, "cgroup2 mounted, clone3 present", probeCloneIntoCgroup()),
		item("open_tree", true, "fd-based mounts", probeSyscall(unix.SYS_OPEN_TREE, ^uintptr(0), 0, 0)),
		item("move_mount", true, "fd-based mounts", probeSyscall(unix.SYS_MOVE_MOUNT, ^uintptr(0), 0, ^uintptr(0))),
		item("fsopen", true, "new tmpfs/overlay mounts by fd", probeSyscall(unix.SYS_FSOPEN, 0, ^uintptr(0), 0)),
		item("mount_setattr", true, "recursive mount attributes (rro, ...)", probeSyscall(unix.SYS_MOUNT_SETATTR, ^uintptr(0), 0, 0)),
		item("pivot_root", true, "rootfs switch (without --no-pivot)", probePivotRoot()),
	}
}

// probeSyscall calls nr with arguments that must fail (bad fd, NULL
// pointer, invalid flags) and reports only ENOSYS as missing.
func probeSyscall(nr, a1, a2, a3 uintptr) error {
	r, _, errno := unix.Syscall(nr, a1, a2, a3)
	if errno == unix.ENOSYS {
		return errors.New("not supported by this kernel (ENOSYS)")
	}
	if errno == 0 {
		// A probe that unexpectedly succeeded returned an fd; close it.
		unix.Close(int(r))
	}
	return nil
}

func probePidfd() error {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return fmt.Errorf("pidfd_open: %w", err)
	}
	return unix.Close(fd)
}

func probeOpenat2() error {
	fd, err := unix.Openat2(unix.AT_FDCWD, "/", &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT,
	})
	if err != nil {
		return fmt.Errorf("openat2: %w (berth falls back to slower userspace resolution)", err)
	}
	return unix.Close(fd)
}

func probeCloneIntoCgroup() error {
	if err := probeSyscall(unix.SYS_CLONE3, 0, 0, 0); err != nil {
		return fmt.Errorf("clone3 %w", err)
	}
	var st unix.Statfs_t
	for _, dir := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return nil
		}
	}
	return errors.New("no cgroup2 hierarchy mounted: init joins its cgroup after clone")
}

// probePivotRoot asks for a pivot to paths that do not exist: the lookup
// fails before anything is changed, with ENOSYS only if the call is absent.
// (An initramfs root is no obstacle: the Go init pivots from a clone.)
func probePivotRoot() error {
	missing := "/nonexistent-berth-check-probe"
	p, err := unix.BytePtrFromString(missing)
	if err != nil {
		return err
	}
	_, _, errno := unix.Syscall(unix.SYS_PIVOT_ROOT, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(p)), 0)
	if errno == unix.ENOSYS {
		return errors.New("not supported by this kernel (ENOSYS)")
	}
	return nil
}
