package libcontainer

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/wire"
)

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   planInput
		want []step
	}{
		{"create, cgroup v2: born in its cgroup", planInput{},
			[]step{stepConfig, stepRootfs, stepPivot, stepFinish, stepReady, stepStartFifo, stepExecve}},
		{"run, cgroup v1: joins itself", planInput{Cgroup: stepCgroupJoin, StartNow: true},
			[]step{stepConfig, stepCgroupJoin, stepRootfs, stepPivot, stepFinish, stepReady, stepStart, stepExecve}},
		{"systemd, no hooks: the move overlaps the whole rootfs", planInput{Cgroup: stepCgroupReady},
			[]step{stepConfig, stepRootfs, stepPivot, stepFinish, stepCgroupReady, stepReady, stepStartFifo, stepExecve}},
		{"systemd, prestart hooks: in the cgroup before them", planInput{Cgroup: stepCgroupReady, RuntimeHooks: true},
			[]step{stepConfig, stepRootfs, stepCgroupReady, stepHooks, stepPivot, stepFinish, stepReady, stepStartFifo, stepExecve}},
		{"systemd, createContainer hooks only", planInput{Cgroup: stepCgroupReady, ContainerHooks: true},
			[]step{stepConfig, stepRootfs, stepCgroupReady, stepPivot, stepFinish, stepReady, stepStartFifo, stepExecve}},
		{"v1, runtime hooks, seccomp listener, run", planInput{Cgroup: stepCgroupJoin, RuntimeHooks: true, SeccompListener: true, StartNow: true},
			[]step{stepConfig, stepCgroupJoin, stepRootfs, stepHooks, stepPivot, stepFinish, stepSeccompFd, stepReady, stepStart, stepExecve}},
		{"exec", planInput{Exec: true, Cgroup: stepCgroupJoin},
			[]step{stepConfig, stepCgroupJoin, stepEnter, stepExecve}},
		{"exec into a frozen cgroup, seccomp listener", planInput{Exec: true, SeccompListener: true},
			[]step{stepConfig, stepEnter, stepSeccompFd, stepExecve}},
		{"exec ignores what only init does", planInput{Exec: true, RuntimeHooks: true, ContainerHooks: true, StartNow: true},
			[]step{stepConfig, stepEnter, stepExecve}},
		{"exec --exec-wait-fifo: the wait comes last", planInput{Exec: true, Cgroup: stepCgroupJoin, SeccompListener: true, ExecWait: true},
			[]step{stepConfig, stepCgroupJoin, stepEnter, stepSeccompFd, stepExecWait, stepExecve}},
		{"init ignores --exec-wait-fifo", planInput{StartNow: true, ExecWait: true},
			[]step{stepConfig, stepRootfs, stepPivot, stepFinish, stepReady, stepStart, stepExecve}},
	} {
		if got := plan(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: plan(%+v) =\n  %v\nwant\n  %v", tc.name, tc.in, got, tc.want)
		}
	}
}

// Every plan starts with the config, ends with execve, and holds each
// step at most once: the process's side walks it without a lookahead.
func TestPlanShape(t *testing.T) {
	for _, in := range allPlanInputs() {
		s := plan(in)
		if s[0] != stepConfig || s[len(s)-1] != stepExecve {
			t.Errorf("plan(%+v) = %v: not config ... execve", in, s)
		}
		seen := map[step]bool{}
		for _, st := range s {
			if seen[st] {
				t.Errorf("plan(%+v) = %v: %s twice", in, s, st)
			}
			seen[st] = true
		}
	}
}

func allPlanInputs() []planInput {
	var out []planInput
	for bits := 0; bits < 1<<6; bits++ {
		for _, cg := range []step{"", stepCgroupJoin, stepCgroupReady} {
			out = append(out, planInput{
				Exec: bits&1 != 0, Cgroup: cg, RuntimeHooks: bits&2 != 0, ContainerHooks: bits&4 != 0,
				SeccompListener: bits&8 != 0, StartNow: bits&16 != 0, ExecWait: bits&32 != 0,
			})
		}
	}
	return out
}

// TestProtocol drives both ends of the sync socket through every plan,
// each side making its one call per step, as Create/Exec and init do:
// the frames pair up, descriptors arrive, a mount-source request is
// served while the runtime waits, and execve's EOF ends it.
func TestProtocol(t *testing.T) {
	for _, in := range allPlanInputs() {
		if in.Exec && in.Cgroup == stepCgroupReady {
			continue // no exec placement has it
		}
		t.Run(fmt.Sprintf("%+v", in), func(t *testing.T) {
			parent, child := syncPair(t)
			steps := plan(in)
			r := &runtimeEnd{syncConn: parent, who: "init"}
			served := 0
			r.mountSource = func(m syncMsg) error {
				served++
				return serveTestMountSource(parent, m)
			}
			done := make(chan error, 1)
			go func() { done <- runtimeWalk(r, steps) }()
			// With --debug the process sends log frames between the
			// steps' own (here for half the plans).
			if err := processWalk(&processEnd{syncConn: child, debug: in.StartNow}, steps, len(steps)); err != nil {
				t.Fatalf("process side: %v", err)
			}
			child.Close() // execve of the close-on-exec socket
			if err := <-done; err != nil {
				t.Fatalf("runtime side: %v", err)
			}
			want := 0
			if !in.Exec {
				want = 2
			}
			if served != want {
				t.Errorf("mount-source requests served: %d, want %d", served, want)
			}
		})
	}
}

// A step that fails on the process's side reaches the runtime as the
// process's own error, whichever step the runtime is at.
func TestProtocolError(t *testing.T) {
	steps := plan(planInput{Cgroup: stepCgroupJoin, RuntimeHooks: true, SeccompListener: true, StartNow: true})
	for i, failAt := range steps {
		if failAt == stepConfig || failAt == stepExecve {
			continue
		}
		parent, child := syncPair(t)
		r := &runtimeEnd{syncConn: parent, who: "init"}
		r.mountSource = func(m syncMsg) error { return serveTestMountSource(parent, m) }
		done := make(chan error, 1)
		go func() { done <- runtimeWalk(r, steps) }()
		err := processWalk(&processEnd{syncConn: child}, steps, i)
		if err != nil {
			t.Fatalf("%s: steps before it: %v", failAt, err)
		}
		child.sendError(fmt.Errorf("%s failed", failAt))
		child.Close()
		err = <-done
		if !isChildError(err) || err.Error() != string(failAt)+" failed" {
			t.Errorf("process failing at %s: runtime got %v, want the process's error", failAt, err)
		}
	}
}

// runtimeWalk is the runtime's side: one call per step, as
// creation.step and execution.step make them.
func runtimeWalk(r *runtimeEnd, steps []step) error {
	for _, s := range steps {
		var err error
		switch s {
		case stepConfig:
			var fd int
			if fd, err = unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
				return err
			}
			err = r.sendConfig(&initConfig{ID: "proto", Steps: steps}, fd)
			unix.Close(fd)
		case stepCgroupJoin:
			var fd int
			if fd, err = unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
				return err
			}
			err = r.sendCgroupJoin([]int{fd, fd})
			unix.Close(fd)
		case stepCgroupReady:
			err = r.sendCgroupReady()
		case stepHooks:
			err = r.hooks(func() error { return nil })
		case stepSeccompFd:
			err = r.seccompFd(func(fd int) error {
				if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
					return fmt.Errorf("notify fd not open: %w", err)
				}
				return nil
			})
		case stepReady:
			err = r.awaitReady()
		case stepStart:
			err = r.sendStart()
		case stepExecve:
			err = r.awaitExecve()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// processWalk is the process's side, as processSide.step makes the calls
// (its local work left out), for the first n steps.
func processWalk(p *processEnd, steps []step, n int) error {
	for _, s := range steps[:n] {
		p.logf("step %s", s) // sent only with debug; the runtime reads past them
		switch s {
		case stepConfig:
			cfg, fds, err := p.recvConfig()
			if err != nil {
				return err
			}
			closeFds(fds)
			if cfg.ID != "proto" || !reflect.DeepEqual(cfg.Steps, steps) || len(fds) != 1 {
				return fmt.Errorf("config: %+v with %d fds", cfg, len(fds))
			}
		case stepCgroupJoin:
			fds, err := p.recvCgroupJoin()
			closeFds(fds)
			if err != nil {
				return err
			}
			if len(fds) != 2 {
				return fmt.Errorf("cgroup-join: %d fds, want 2", len(fds))
			}
		case stepRootfs:
			fd, err := p.mountSource(3)
			if err != nil {
				return err
			}
			unix.Close(fd)
			if _, err := p.mountSource(-1); err == nil || !strings.Contains(err.Error(), "not a bind mount") {
				return fmt.Errorf("mount source refused: got %v", err)
			}
		case stepCgroupReady:
			if err := p.recvCgroupReady(); err != nil {
				return err
			}
		case stepHooks:
			if err := p.hooks(); err != nil {
				return err
			}
		case stepSeccompFd:
			fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			err = p.seccompFd(fd)
			unix.Close(fd)
			if err != nil {
				return err
			}
		case stepReady:
			if err := p.ready(); err != nil {
				return err
			}
		case stepStart:
			if err := p.awaitStart(); err != nil {
				return err
			}
		case stepExecWait:
			p.debug = false
			p.Close() // the runtime's part ends here
		}
	}
	return nil
}

// serveTestMountSource answers index 3 with a descriptor and anything
// else with the refusal serveMountSource sends.
func serveTestMountSource(conn *syncConn, m syncMsg) error {
	var req mountSourceRequest
	if err := wire.Unmarshal(m.Payload, &req); err != nil || req.Index != 3 {
		return conn.sendMsg(syncMsg{Type: msgMountSourceFd, Error: "mount source request for mounts[-1]: not a bind mount"}, nil)
	}
	fd, err := unix.Open("/", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return conn.send(msgMountSourceFd, nil, fd)
}
