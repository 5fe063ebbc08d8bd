package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	bcgroups "github.com/berth-runtime/berth/libcontainer/cgroups"
	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/criu"
	"github.com/berth-runtime/berth/libcontainer/criu/rpc"
	"github.com/berth-runtime/berth/libcontainer/hooks"
	"github.com/berth-runtime/berth/libcontainer/rootfs"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// RestoreOpts are the inputs of `berth restore`.
type RestoreOpts struct {
	criu.Opts
	CriuPath string
	Root     string
	ID       string
	Bundle   string
	Spec     *specs.Spec
	PidFile  string
	// ConsoleSocket receives the new pty master of a terminal container.
	ConsoleSocket *os.File
	Systemd       bool
	Rootless      bool
	// Stdio of the restore: the pipes init had at checkpoint are
	// replaced by these, as runc does.
	Stdin, Stdout, Stderr *os.File
}

// Restore makes a container from a checkpoint: a new state under o.ID, a
// cgroup with the config's limits, and CRIU's restored processes in it.
// On failure nothing is left: no process, cgroup or state.
func Restore(o *RestoreOpts) (c *Container, retErr error) {
	if err := configs.ValidateID(o.ID); err != nil {
		return nil, err
	}
	if err := o.Validate(true); err != nil {
		return nil, err
	}
	if err := configs.Validate(o.Spec, o.Bundle); err != nil {
		return nil, err
	}
	if o.Spec.Process.Terminal && o.ConsoleSocket == nil {
		return nil, errors.New("process.terminal is true but no console socket was given (--console-socket)")
	}
	if !o.Spec.Process.Terminal && o.ConsoleSocket != nil {
		return nil, errors.New("--console-socket given but process.terminal is false")
	}
	if err := checkCriuFeatures(o.CriuPath, &o.Opts); err != nil {
		return nil, err
	}
	images, err := os.OpenFile(o.ImagePath, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("image directory: %w", err)
	}
	defer images.Close()
	stdio, err := readDescriptors(o.ImagePath)
	if err != nil {
		return nil, err
	}
	cgChecked, err := bcgroups.Check(cgroupConfig(o.ID, o.Spec, o.Systemd, o.Rootless)) // create.go
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	dir, err := openStateDir(o.Root, o.ID, true)
	if err != nil {
		return nil, err
	}
	defer dir.unlock()
	self, _ := readProcStat(os.Getpid())
	st := &State{
		ID: o.ID, Bundle: o.Bundle, Rootfs: configs.RootfsPath(o.Spec, o.Bundle),
		Created: time.Now().UTC(), Status: Creating, Owner: os.Geteuid(),
		CreatorPid: os.Getpid(), CreatorStartTime: self.StartTime,
		Systemd: o.Systemd, Rootless: o.Rootless,
	}
	st.setSpec(o.Spec)
	c = &Container{root: o.Root, state: st}
	r := &restorer{o: o, c: c, dir: dir, stdio: stdio}
	defer func() {
		if retErr != nil {
			r.undo()
		}
	}()
	// Saved before anything is made on the host: a restore killed from
	// here on leaves a state delete clears.
	mgr, err := cgChecked.Manager()
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	if err := bcgroups.CheckUnused(mgr); err != nil {
		return nil, err
	}
	r.mgr = mgr
	st.CgroupPaths = maps.Clone(mgr.GetPaths())
	if err := dir.save(st); err != nil {
		return nil, err
	}
	if err := r.run(images); err != nil {
		return nil, err
	}
	st.Status = Running
	st.CreatorPid, st.CreatorStartTime = 0, 0
	if err := dir.save(st); err != nil {
		return nil, err
	}
	if o.PidFile != "" {
		if err := utils.WriteFileAtomic(o.PidFile, []byte(strconv.Itoa(st.InitPid)), 0o644); err != nil {
			return nil, fmt.Errorf("write pid file: %w", err)
		}
	}
	c.written = dir.written
	return c, nil
}

// restorer holds a restore's moving parts.
type restorer struct {
	o     *RestoreOpts
	c     *Container
	dir   *stateDir
	mgr   cgroups.Manager
	stdio []string
	// pid is the restored init, once CRIU has said (post-restore).
	pid int
}

// undo removes what a failed restore made.
func (r *restorer) undo() {
	if r.pid > 0 {
		unix.Kill(r.pid, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(r.pid, &ws, 0, nil) // our child (RstSibling)
	}
	if r.mgr != nil {
		if err := destroyCgroup(r.mgr); err != nil {
			logrus.Warnf("remove cgroup of %s: %v", r.o.ID, err)
		}
	}
	removeIntelRdt(r.c.state, r.o.Spec.Linux.IntelRdt) // intelrdt_linux.go
	if err := r.dir.remove(); err != nil {
		logrus.Warnf("remove state of %s: %v", r.o.ID, err)
	}
}

// run prepares the rootfs and the request and runs CRIU's restore.
func (r *restorer) run(images *os.File) error {
	o, st := r.o, r.c.state
	if err := rootfs.MakeMountpoints(st.Rootfs, o.Bundle, o.Spec.Mounts); err != nil {
		return err
	}
	// CRIU's root must be a mount point whose parent is not overmounted:
	// a bind of the rootfs in the state directory, for the restore only.
	root := r.dir.file(criuRoot)
	if err := os.Mkdir(root, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", root, err)
	}
	defer os.Remove(root)
	if err := unix.Mount(st.Rootfs, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs %s for criu: %w", st.Rootfs, err)
	}
	defer unix.Unmount(root, unix.MNT_DETACH)

	req, err := o.ToRPC()
	if err != nil {
		return err
	}
	o.RestoreRPC(req)
	req.ImagesDirFd = int32(images.Fd())
	req.LogFile = new(restoreLog)
	req.Root = new(root)
	logDir, work, err := setWorkDir(req, &o.Opts)
	if err != nil {
		return err
	}
	if work != nil {
		defer work.Close()
	}
	criuConfigFile(req, o.Spec.Annotations)
	extra, err := restoreNamespaces(req, o.Spec)
	if err != nil {
		return err
	}
	defer closeFiles(extra)
	cgPath := ""
	if cg, _ := r.mgr.GetCgroups(); cg != nil {
		cgPath = cg.Path
	}
	ext, err := externalMounts(o.Spec, configs.RootfsPath(o.Spec, o.Bundle), st.CgroupPaths, cgPath)
	if err != nil {
		return err
	}
	for _, m := range ext {
		// A bind's source may be relative to the bundle, as at create;
		// CRIU runs elsewhere. (The cgroup and device sources are
		// absolute already.)
		src := configs.InBundle(o.Bundle, m.Source)
		req.ExtMnt = append(req.ExtMnt, &rpc.ExtMountMap{Key: m.Key, Val: src})
	}
	if o.Spec.Linux != nil && len(o.Spec.Linux.MaskedPaths) > 0 {
		req.ExtMnt = append(req.ExtMnt, &rpc.ExtMountMap{Key: "/dev/null", Val: "/dev/null"})
	}
	for i, d := range r.stdio {
		if strings.HasPrefix(d, "pipe:") || strings.HasPrefix(d, "file[") {
			req.InheritFd = append(req.InheritFd, &rpc.InheritFd{Key: d, Fd: int32(i)})
		}
	}
	sw := &criu.Swrk{
		Path: o.CriuPath, Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr,
		ExtraFiles: extra, Started: r.joinCgroup, Notify: r.notify,
	}
	t := rpc.ReqRestore
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		logrus.Debugf("restore %s: criu request %v", o.ID, req)
	}
	if _, err := sw.Run(&rpc.Req{Type: t, Opts: req}); err != nil {
		return explainCriu(o.CriuPath, criu.WithLog(err, logDir, restoreLog))
	}
	if r.pid == 0 {
		return errors.New("criu restored no process")
	}
	return r.recordInit()
}

// criuRoot is the state directory's mount point for CRIU's root during
// a restore.
const criuRoot = "criu-root"

// releaseCriuRoot unmounts and removes the rootfs bind a restore made in
// the state directory, when a restore killed midway left it there. The
// state directory must not be removed recursively before: that would
// remove the rootfs's files through the bind.
func releaseCriuRoot(d *stateDir) error {
	p := d.file(criuRoot)
	if _, err := os.Lstat(p); err != nil {
		return nil
	}
	if err := unix.Unmount(p, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("unmount %s: %w", p, err)
	}
	if err := unix.Rmdir(p); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	return nil
}

// joinCgroup moves criu into the container's cgroup, with its limits,
// and into its resctrl group (intelRdt), so that what it restores is born
// there, and tells CRIU where that cgroup is (cgroup roots) in place of
// the one in the images.
func (r *restorer) joinCgroup(pid int, req *rpc.Req) error {
	if err := r.mgr.Apply(pid); err != nil {
		return fmt.Errorf("create cgroup: %w", err)
	}
	if err := applyIntelRdt(r.c.state, r.o.Spec, pid); err != nil { // intelrdt_linux.go
		return err
	}
	r.c.state.CgroupPaths = maps.Clone(r.mgr.GetPaths())
	if err := setCgroup(r.mgr); err != nil {
		return err
	}
	paths, err := cgroups.ParseCgroupFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return fmt.Errorf("read cgroup of criu: %w", err)
	}
	for ctrl, p := range paths {
		req.Opts.CgRoot = append(req.Opts.CgRoot, &rpc.CgroupRoot{Ctrl: ctrl, Path: p})
	}
	return nil
}

// notify answers CRIU's notifications during a restore.
func (r *restorer) notify(n *rpc.Notify, fds []int) error {
	defer closeFds(fds)
	switch n.GetScript() {
	case "setup-namespaces":
		// The processes exist in their namespaces but do not run yet:
		// the runtime's hooks of a create run here, as in runc.
		sum := r.o.Spec.Hooks
		state := r.c.specState(Creating)
		state.Pid = int(n.GetPid())
		for _, kind := range []string{hooks.Prestart, hooks.CreateRuntime} {
			if err := hooks.Run(kind, hooks.List(sum, kind), &state); err != nil {
				return err
			}
		}
	case "post-restore":
		r.pid = int(n.GetPid())
	case "orphan-pts-master":
		if len(fds) != 1 {
			return fmt.Errorf("criu sent %d descriptors for the pty master", len(fds))
		}
		master := os.NewFile(uintptr(fds[0]), "orphan-pts-master")
		fds = nil
		defer master.Close()
		if err := utils.SendFile(r.o.ConsoleSocket, master); err != nil {
			return fmt.Errorf("send pty master to console socket: %w", err)
		}
	}
	return nil
}

// recordInit records the restored init: its pid and start time, and a
// time namespace CRIU put it in (exec must join it too).
func (r *restorer) recordInit() error {
	st := r.c.state
	pst, err := readProcStat(r.pid)
	if err != nil {
		return fmt.Errorf("restored init %d: %w", r.pid, err)
	}
	st.InitPid, st.InitStartTime = r.pid, pst.StartTime
	if !configs.HasNamespace(r.o.Spec, specs.TimeNamespace) && ownTimeNS(r.pid) {
		spec := r.o.Spec
		spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		st.setSpec(spec)
	}
	return nil
}

// ownTimeNS reports whether pid is in a time namespace other than ours.
func ownTimeNS(pid int) bool {
	var a, b unix.Stat_t
	if unix.Stat("/proc/self/ns/time", &a) != nil || unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/time", &b) != nil {
		return false
	}
	return a.Ino != b.Ino || a.Dev != b.Dev
}

// restoreNamespaces tells CRIU about the namespaces the config joins by
// path: the network and pid ones were external to the checkpoint and are
// handed over as descriptors (inherit-fd, after stdio and the RPC
// socket); the others CRIU joins itself. It returns the files to pass.
func restoreNamespaces(req *rpc.Opts, spec *specs.Spec) ([]*os.File, error) {
	var extra []*os.File
	for _, ns := range spec.Linux.Namespaces {
		if ns.Path == "" {
			continue
		}
		switch ns.Type {
		case specs.NetworkNamespace, specs.PIDNamespace:
			f, err := os.Open(ns.Path)
			if err != nil {
				closeFiles(extra)
				return nil, fmt.Errorf("%s namespace to restore into: %w", ns.Type, err)
			}
			req.InheritFd = append(req.InheritFd, &rpc.InheritFd{
				Key: externalKey(ns.Type),
				Fd:  int32(criu.FirstExtraFd + len(extra)),
			})
			extra = append(extra, f)
		case specs.CgroupNamespace:
			closeFiles(extra)
			return nil, errors.New("restore cannot join a cgroup namespace by path: CRIU has no way to")
		default:
			req.JoinNs = append(req.JoinNs, &rpc.JoinNamespace{
				Ns: configs.NamespaceProcName(ns.Type), NsFile: ns.Path,
			})
		}
	}
	return extra, nil
}

// readDescriptors reads what init's stdio were at checkpoint (pipes, and
// files outside the container, see writeDescriptors); a
// checkpoint without the file (made by another tool) has no pipes to
// hand over.
func readDescriptors(imageDir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(imageDir, descriptorsFile))
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(imageDir, "inventory.img")); err != nil {
			return nil, fmt.Errorf("%s holds no checkpoint (no inventory.img)", imageDir)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", descriptorsFile, err)
	}
	var fds []string
	if err := json.Unmarshal(data, &fds); err != nil {
		return nil, fmt.Errorf("decode %s: %w", descriptorsFile, err)
	}
	return fds, nil
}
