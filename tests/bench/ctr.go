package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const (
	metricCtrRun = "ctr run --rm"
	ctrImage     = "docker.io/library/busybox:berth"
)

// containerd is a private containerd started in the bench's mount
// namespace (tests/clients/containerd.sh), with the offline busybox image.
type containerd struct {
	ctr  string // ctr's path
	dir  string
	pid  int
	sock string
	ns   string
	log  *os.File
}

// script runs a helper script to completion, its stdout to a file.
func (b *bench) script(stdout string, argv ...string) error {
	out, err := os.OpenFile(stdout, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", stdout, err)
	}
	defer out.Close()
	errPath := stdout + ".err"
	errFile, err := os.OpenFile(errPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", errPath, err)
	}
	defer errFile.Close()
	pid, _, done, err := b.reaper.spawn(argv, []uintptr{b.devNull.Fd(), out.Fd(), errFile.Fd()})
	if err != nil {
		return err
	}
	info, err := waitSpawned(pid, done, 2*time.Minute)
	if err == nil && !(info.status.Exited() && info.status.ExitStatus() == 0) {
		err = fmt.Errorf("%s: %s: %s", filepath.Base(argv[0]), describeStatus(info.status), lastLine(errPath, 0))
	}
	return err
}

func (b *bench) startContainerd() (*containerd, error) {
	if b.opts.repo == "" {
		return nil, fmt.Errorf("-repo not given")
	}
	c := &containerd{dir: filepath.Join(b.opts.work, "containerd"), ns: "bench-" + b.tag}
	c.sock = filepath.Join(c.dir, "containerd.sock")
	ctr, err := exec.LookPath("ctr")
	if err != nil {
		return nil, fmt.Errorf("ctr (Debian package containerd): %w", err)
	}
	c.ctr = ctr
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("make %s: %w", c.dir, err)
	}
	clients := filepath.Join(b.opts.repo, "tests", "clients")
	tar := filepath.Join(c.dir, "busybox.tar")
	if err := b.script(filepath.Join(c.dir, "mkimage.out"), filepath.Join(clients, "mkimage.sh"), filepath.Join(b.opts.work, "rootfs"), ctrImage, tar); err != nil {
		return nil, err
	}
	pidFile := filepath.Join(c.dir, "containerd.pid")
	if err := b.script(pidFile, filepath.Join(clients, "containerd.sh"), c.dir); err != nil {
		return nil, err
	}
	pid, err := readPid(pidFile)
	if err != nil {
		return nil, err
	}
	c.pid = pid
	if err := b.script(filepath.Join(c.dir, "import.out"), c.ctr, "--address", c.sock, "-n", c.ns, "images", "import", tar); err != nil {
		b.stopContainerd(c)
		return nil, err
	}
	return c, nil
}

func (b *bench) stopContainerd(c *containerd) {
	_ = unix.Kill(c.pid, unix.SIGTERM)
	if _, err := b.reaper.waitPid(c.pid, 20*time.Second); err != nil {
		_ = unix.Kill(c.pid, unix.SIGKILL)
		_, _ = b.reaper.waitPid(c.pid, 5*time.Second)
	}
}

// ctrRun times one `ctr run --rm` of /bin/true with rt as the shim's
// runc binary: containerd, the shim, the runtime's create, start, state
// and delete, and the task's exit events.
func (b *bench) ctrRun(c *containerd, rt *runtimeUnderTest, n int) error {
	id := b.id(rt, "ctr"+strconv.Itoa(n))
	argv := []string{c.ctr, "--address", c.sock, "-n", c.ns, "run", "--rm",
		"--runc-binary", rt.bin, "--runc-root", rt.root + "-ctr", ctrImage, id, "/bin/true"}
	pid, began, done, err := b.reaper.spawn(argv, []uintptr{b.devNull.Fd(), b.devNull.Fd(), rt.errLog.Fd()})
	if err != nil {
		return err
	}
	info, err := waitSpawned(pid, done, commandTimeout)
	if err == nil && !(info.status.Exited() && info.status.ExitStatus() == 0) {
		err = fmt.Errorf("ctr run (%s): %s: %s", rt.name, describeStatus(info.status), lastLine(rt.errLog.Name(), 0))
	}
	if err != nil {
		return err
	}
	b.record(metricCtrRun, rt, float64(info.at.Sub(began))/float64(time.Millisecond))
	return nil
}

// measureContainerd runs `ctr run --rm` for every runtime, interleaved,
// after one unrecorded warm-up each.
func (b *bench) measureContainerd(ctx context.Context) {
	if b.opts.ctrN <= 0 {
		return
	}
	progress("containerd: starting a private one, importing the busybox image")
	c, err := b.startContainerd()
	if err != nil {
		b.ctrErr = err.Error()
		progress("containerd: %v", err)
		return
	}
	defer b.stopContainerd(c)
	recording := b.recording
	b.recording = false
	for _, rt := range b.runtimes {
		if err := b.ctrRun(c, rt, 0); err != nil {
			b.ctrErr = strings.TrimSpace(err.Error())
			progress("containerd: warm-up: %v", err)
			b.recording = recording
			return
		}
	}
	b.recording = recording
	for i := 1; i <= b.opts.ctrN && ctx.Err() == nil; i++ {
		for _, rt := range rotate(b.runtimes, i) {
			if err := b.ctrRun(c, rt, i); err != nil {
				b.fail(metricCtrRun, rt, err)
			}
		}
		b.ctrDone = i
	}
}
