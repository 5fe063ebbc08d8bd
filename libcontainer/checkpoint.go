package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/criu"
	"github.com/berth-runtime/berth/libcontainer/criu/rpc"
	"github.com/berth-runtime/berth/libcontainer/rootfs"
)

// CheckpointOpts are the inputs of `berth checkpoint`.
type CheckpointOpts struct {
	criu.Opts
	// CriuPath is the criu binary (--criu).
	CriuPath string
}

// descriptorsFile, in the image directory, names what init's stdio were
// at checkpoint ("pipe:[123]", a path): restore hands the pipes among
// them to its own stdio. runc's name and format, so either runtime can
// restore the other's images.
const descriptorsFile = "descriptors.json"

const (
	dumpLog    = "dump.log"
	preDumpLog = "pre-dump.log"
	restoreLog = "restore.log"
)

// Checkpoint saves a running or paused container with CRIU. Unless the
// options leave it running (--leave-running, --pre-dump), CRIU ends its
// processes and the container is then deleted, as runc does.
func (c *Container) Checkpoint(o *CheckpointOpts) error {
	if err := o.Validate(false); err != nil {
		return err
	}
	if err := c.dump(o); err != nil {
		return err
	}
	if o.LeaveRunning || o.PreDump {
		return nil
	}
	// The processes are gone (a zombie init counts as stopped): delete
	// what is left, as after an exit.
	return c.Destroy(true)
}

// dump runs the DUMP (or PRE_DUMP) request under the container's lock.
func (c *Container) dump(o *CheckpointOpts) error {
	dir, err := c.lockState()
	if err != nil {
		return err
	}
	defer dir.unlock()
	if st := c.Status(); st != Running && st != Paused {
		return fmt.Errorf("container cannot be checkpointed in %s state", st)
	}
	spec, err := c.Spec()
	if err != nil {
		return err
	}
	if err := checkStatusFd(o.StatusFd); err != nil {
		return err
	}
	if err := checkCriuFeatures(o.CriuPath, &o.Opts); err != nil {
		return err
	}
	images, err := openCriuDir(o.ImagePath)
	if err != nil {
		return err
	}
	defer images.Close()
	req, err := o.ToRPC()
	if err != nil {
		return err
	}
	if err := o.DumpRPC(req); err != nil {
		return err
	}
	logFile := dumpLog
	if o.PreDump {
		logFile = preDumpLog
	}
	req.ImagesDirFd = int32(images.Fd())
	req.LogFile = new(logFile)
	req.Root = new(c.state.Rootfs)
	req.Pid = new(int32(c.state.InitPid))
	logDir, work, err := setWorkDir(req, &o.Opts)
	if err != nil {
		return err
	}
	if work != nil {
		defer work.Close()
	}
	criuConfigFile(req, spec.Annotations)
	ext, err := externalNamespaces(spec)
	if err != nil {
		return err
	}
	req.External = append(req.External, ext...)
	// CRIU freezes the container through its cgroup's freezer (not by
	// ptrace alone): a v1 freezer, or the cgroup2 directory.
	if p := c.state.CgroupPaths["freezer"]; p != "" {
		req.FreezeCgroup = new(p)
	} else if p := c.state.CgroupPaths[""]; p != "" {
		req.FreezeCgroup = new(p)
	}
	if !o.PreDump {
		mnts, err := c.dumpMounts(spec)
		if err != nil {
			return err
		}
		req.ExtMnt = mnts
		ext, err := writeDescriptors(o.ImagePath, c.state.InitPid)
		if err != nil {
			return err
		}
		req.External = append(req.External, ext...)
	}
	t := rpc.ReqDump
	if o.PreDump {
		t = rpc.ReqPreDump
	}
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("checkpoint %s: criu %s request %v", c.state.ID, t, req)
	}
	sw := &criu.Swrk{Path: o.CriuPath, Notify: o.dumpNotify}
	if _, err := sw.Run(&rpc.Req{Type: t, Opts: req}); err != nil {
		return explainCriu(o.CriuPath, criu.WithLog(err, logDir, logFile))
	}
	return nil
}

// dumpNotify answers CRIU's notifications during a dump: with
// --lazy-pages, "status-ready" says the page server is listening, which
// --status-fd tells the caller with one \0 byte (runc's protocol).
func (o *CheckpointOpts) dumpNotify(n *rpc.Notify, fds []int) error {
	closeFds(fds)
	if n.GetScript() != "status-ready" || o.StatusFd < 0 {
		return nil
	}
	_, err := unix.Write(o.StatusFd, []byte{0})
	unix.Close(o.StatusFd)
	o.StatusFd = -1
	if err != nil {
		return fmt.Errorf("write to --status-fd: %w", err)
	}
	return nil
}

// checkStatusFd refuses a --status-fd that is not open for writing.
func checkStatusFd(fd int) error {
	if fd < 0 {
		return nil
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return fmt.Errorf("--status-fd %d: %w", fd, err)
	}
	if flags&unix.O_ACCMODE == unix.O_RDONLY {
		return fmt.Errorf("--status-fd %d: not open for writing", fd)
	}
	return nil
}

// explainCriu adds to a failed dump or restore that this criu cannot
// work on this kernel at all, when `criu check` says so: the log's own
// error is often a detail of that (an old criu's "Unexpected rt vDSO
// area bounds" on a newer kernel).
func explainCriu(path string, err error) error {
	if errors.Is(err, criu.ErrNotFound) {
		return err
	}
	if cerr := criu.Check(path); cerr != nil {
		return fmt.Errorf("%w; this criu cannot checkpoint on this kernel (%v)", err, cerr)
	}
	return err
}

// checkCriuFeatures refuses options whose CRIU feature this criu or
// kernel lacks (soft-dirty memory tracking, userfaultfd), naming it.
func checkCriuFeatures(path string, o *criu.Opts) error {
	want := o.NeededFeatures()
	if want == nil {
		return nil
	}
	have, err := criu.Features(path, want)
	if err != nil {
		return fmt.Errorf("criu feature check: %w", err)
	}
	if missing := criu.Missing(want, have); len(missing) > 0 {
		return fmt.Errorf("criu cannot do this here: %s", strings.Join(missing, "; "))
	}
	return nil
}

// setWorkDir points CRIU at the work directory (--work-path), made and
// opened; the returned handle is the caller's to close after the RPC. It
// returns where CRIU writes its log: the work directory, else the image
// directory.
func setWorkDir(req *rpc.Opts, o *criu.Opts) (logDir string, work *os.File, err error) {
	if o.WorkPath == "" {
		return o.ImagePath, nil, nil
	}
	if work, err = openCriuDir(o.WorkPath); err != nil {
		return "", nil, err
	}
	req.WorkDirFd = new(int32(work.Fd()))
	return o.WorkPath, work, nil
}

// openCriuDir makes (mode 0700) and opens an image or work directory; a
// container may be checkpointed more than once into one.
func openCriuDir(path string) (*os.File, error) {
	if path == "" {
		return nil, errors.New("no image directory given")
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, nil
}

// criuConfigFile points CRIU at a configuration file, as runc does: the
// org.criu.config annotation's (none when it is empty), else
// /etc/criu/runc.conf, the file CRIU's packagers ship for runtimes.
func criuConfigFile(req *rpc.Opts, annotations map[string]string) {
	if f, ok := annotations["org.criu.config"]; ok {
		if f != "" {
			req.ConfigFile = new(f)
		}
		return
	}
	req.ConfigFile = new("/etc/criu/runc.conf")
}

// externalKey is the key under which a joined namespace of type t is
// external to the checkpoint (runc's keys).
func externalKey(t specs.LinuxNamespaceType) string {
	name := configs.NamespaceProcName(t)
	return "extRoot" + strings.ToUpper(name[:1]) + name[1:] + "NS"
}

// externalNamespaces marks the network and pid namespaces the container
// joined by path as external: CRIU leaves them out of the images, and
// restore hands it the namespace to join.
func externalNamespaces(spec *specs.Spec) ([]string, error) {
	var out []string
	for _, t := range []specs.LinuxNamespaceType{specs.NetworkNamespace, specs.PIDNamespace} {
		ns, ok := configs.FindNamespace(spec, t)
		if !ok || ns.Path == "" {
			continue
		}
		var st unix.Stat_t
		if err := unix.Stat(ns.Path, &st); err != nil {
			return nil, fmt.Errorf("%s namespace %s: %w", t, ns.Path, err)
		}
		out = append(out, fmt.Sprintf("%s[%d]:%s", configs.NamespaceProcName(t), st.Ino, externalKey(t)))
	}
	return out, nil
}

// mountDest is a mount destination as CRIU names it: absolute and clean.
func mountDest(dest string) string {
	return filepath.Clean("/" + dest)
}

// extMount is one mount of the container whose source is outside it:
// Key is where it is in the container, Source what it is on the host.
type extMount struct {
	Key, Source string
}

// externalMounts lists the container's mounts that come from the host:
// bind mounts, the bound cgroup directories, the host's device nodes
// bound in a user namespace. cgroupPaths and cgPath are the container's
// cgroup (as rootfs.mountCgroup binds it). A bind's key is where it is
// mounted: its destination with the symlinks of the rootfs (its host
// path, "" for none) followed inside it.
func externalMounts(spec *specs.Spec, rootfsPath string, cgroupPaths map[string]string, cgPath string) ([]extMount, error) {
	var out []extMount
	for _, m := range spec.Mounts {
		switch {
		case configs.IsBind(m):
			key, err := criuMountKey(rootfsPath, m.Destination)
			if err != nil {
				return nil, err
			}
			out = append(out, extMount{Key: key, Source: m.Source})
		case m.Type == "cgroup" || m.Type == "cgroup2":
			out = append(out, cgroupBinds(m, spec, cgroupPaths, cgPath)...)
		}
	}
	if configs.HasNamespace(spec, specs.UserNamespace) && !devBound(spec) {
		for _, d := range rootfs.DevicePaths(spec) {
			out = append(out, extMount{Key: mountDest(d), Source: d})
		}
	}
	return out, nil
}

// criuMountKey is a bind's mount point as CRIU names it: dest resolved
// inside rootfsPath, as the rootfs code did when it mounted it (a
// destination through a symlink is mounted where the link points), as
// runc names it. CRIU's --ext-mount-map cannot take the root itself or
// a key holding its "]:" separator (a symlink inside the container can
// point anywhere): those are refused.
func criuMountKey(rootfsPath, dest string) (string, error) {
	key := mountDest(dest)
	if rootfsPath != "" {
		if resolved, ok := rootfs.InRootPath(rootfsPath, key); ok {
			key = resolved
		}
	}
	if key == "/" || strings.Contains(key, "]:") {
		return "", fmt.Errorf("invalid external mount destination %q (mounts[] %s): CRIU cannot name it", key, dest)
	}
	return key, nil
}

func devBound(spec *specs.Spec) bool {
	for _, m := range spec.Mounts {
		if mountDest(m.Destination) == "/dev" && configs.IsBind(m) {
			return true
		}
	}
	return false
}

// cgroupBinds are the binds of the host's cgroup directories that
// rootfs.mountCgroup makes for a cgroup mount: none when it mounts a
// cgroup2 of the container's own (cgroup2 host, cgroup namespace).
func cgroupBinds(m specs.Mount, spec *specs.Spec, paths map[string]string, cgPath string) []extMount {
	dest := mountDest(m.Destination)
	unified, isV2 := paths[""]
	if isV2 && len(paths) == 1 {
		if ns, ok := configs.FindNamespace(spec, specs.CgroupNamespace); ok && ns.Path == "" {
			return nil
		}
		return []extMount{{Key: dest, Source: unified}}
	}
	var out []extMount
	seen := map[string]bool{}
	for key, path := range paths {
		name := filepath.Base(strings.TrimSuffix(path, cgPath))
		if key == "" {
			name = "unified"
		}
		k := filepath.Join(dest, name)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, extMount{Key: k, Source: path})
	}
	return out
}

// dumpMounts describes the external mounts to CRIU's dump: each one
// is named by its own mount point. Masked files are binds of /dev/null,
// named "/dev/null" so that restore binds the host's.
func (c *Container) dumpMounts(spec *specs.Spec) ([]*rpc.ExtMountMap, error) {
	cgPath, err := c.cgroupPath()
	if err != nil {
		return nil, err
	}
	ext, err := externalMounts(spec, c.state.Rootfs, c.state.CgroupPaths, cgPath)
	if err != nil {
		return nil, err
	}
	var out []*rpc.ExtMountMap
	for _, m := range ext {
		out = append(out, &rpc.ExtMountMap{Key: m.Key, Val: m.Key})
	}
	if spec.Linux != nil {
		for _, p := range spec.Linux.MaskedPaths {
			fi, err := os.Stat(fmt.Sprintf("/proc/%d/root%s", c.state.InitPid, mountDest(p)))
			if err != nil || fi.IsDir() {
				continue // not there (not masked), or masked by a tmpfs of its own
			}
			out = append(out, &rpc.ExtMountMap{Key: mountDest(p), Val: "/dev/null"})
		}
	}
	return out, nil
}

// cgroupPath is the container's cgroup path as its manager has it (what
// rootfs.mountCgroup trims from each directory to name its bind).
func (c *Container) cgroupPath() (string, error) {
	if len(c.state.CgroupPaths) == 0 {
		return "", nil
	}
	mgr, err := c.manager()
	if err != nil {
		return "", err
	}
	cg, err := mgr.GetCgroups()
	if err != nil || cg == nil {
		return "", err
	}
	return cg.Path, nil
}

// writeDescriptors records what init's stdio are, for restore, and
// returns the ones CRIU must treat as external files: a file outside the
// container's mounts (the host's /dev/null, which Podman's conmon gives
// as stdin; a log file) cannot be dumped, so it is named by
// "file[MNT_ID:INODE]" (CRIU's external file form, in hex), and restore
// hands its own descriptor over in its place, as it does for pipes.
func writeDescriptors(imageDir string, pid int) ([]string, error) {
	fds := make([]string, 3)
	var external []string
	for i := range fds {
		link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(i))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read stdio of init %d: %w", pid, err)
		}
		fds[i] = link
		if !strings.HasPrefix(link, "/") {
			continue // pipe:[N], socket:[N], anon_inode:...
		}
		id, ok, err := outsideFile(pid, i)
		if err != nil {
			return nil, err
		}
		if ok {
			fds[i] = id
			external = append(external, id)
		}
	}
	data, err := json.Marshal(fds)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(imageDir, descriptorsFile), data, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", descriptorsFile, err)
	}
	return external, nil
}

// outsideFile reports whether fd of pid is a file on a mount that is not
// in pid's mount namespace, and its CRIU external id.
func outsideFile(pid, fd int) (string, bool, error) {
	proc := "/proc/" + strconv.Itoa(pid)
	info, err := os.ReadFile(proc + "/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return "", false, fmt.Errorf("read fdinfo of init %d: %w", pid, err)
	}
	mnt := -1
	for _, l := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(l, "mnt_id:"); ok {
			mnt, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if mnt < 0 {
		return "", false, nil
	}
	mounts, err := os.ReadFile(proc + "/mountinfo")
	if err != nil {
		return "", false, fmt.Errorf("read mountinfo of init %d: %w", pid, err)
	}
	for _, l := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == strconv.Itoa(mnt) {
			return "", false, nil
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(proc+"/fd/"+strconv.Itoa(fd), &st); err != nil {
		return "", false, fmt.Errorf("stat stdio %d of init %d: %w", fd, pid, err)
	}
	return fmt.Sprintf("file[%x:%x]", mnt, st.Ino), true, nil
}
