package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v3"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer"
	"github.com/berth-runtime/berth/libcontainer/hugeheap"
)

func runCommand() *cli.Command {
	flags := append(createFlags(),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
		&cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
		&cli.BoolFlag{Name: "no-subreaper", Usage: "do not reap the container's orphans (they go to the host's reaper)"},
	)
	return &cli.Command{
		Name:      "run",
		Usage:     "create and start a container, and wait for it",
		ArgsUsage: "<container-id>",
		Flags:     flags,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 1, true); err != nil {
				return err
			}
			id := cmd.Args().First()
			detach := cmd.Bool("detach")
			var sigs chan os.Signal
			if !detach {
				// Become the reaper of the container's init, which is not
				// our direct child when it was forked into a pid namespace
				// it joined (with --no-subreaper, only until init is known
				// to be our child: CreateOpts.OrphansToHost).
				if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
					return createError(cmd, fmt.Errorf("become subreaper: %w", err))
				}
				sigs = make(chan os.Signal, 128)
			}
			// In the foreground without --console-socket, berth relays a
			// terminal itself (tty.go).
			term := &terminalSink{}
			if !detach && cmd.String("console-socket") == "" {
				if err := term.openLocal(); err != nil {
					return createError(cmd, err)
				}
			}
			defer term.close()
			// run starts the process as soon as it is set up (no exec.fifo
			// round trip); its signals are forwarded from before it runs.
			// The relay starts (and sizes the pty) before the process
			// runs: its first `stty size` sees the user's terminal.
			c, closeConsole, err := createContainer(cmd, id, term.child, true, sigs, term.relay)
			term.started()
			if closeConsole != nil {
				closeConsole()
			}
			if err != nil {
				if libcontainer.ShownByProcess(err) {
					// init wrote it to the process's stderr and exited
					// 255; the container is gone (Create undid it)
					logrus.Debugf("run %s: %v", id, err)
					return &exitError{code: 255}
				}
				return createError(cmd, err)
			}
			if spec, _ := c.Spec(); spec != nil && spec.Process != nil && spec.Process.Terminal && term.master == nil {
				if err := term.relay(); err != nil {
					c.Destroy(true)
					return createError(cmd, err)
				}
			}
			if err := c.Poststart(); err != nil {
				c.Destroy(true)
				return createError(cmd, err)
			}
			if detach {
				// With NOTIFY_SOCKET, runc's order: back once the
				// container is ready or gone.
				if err := c.ForwardReady(); err != nil {
					logrus.Warnf("run %s: %v", id, err)
				}
				return nil
			}
			// Beside the container; a readiness sent just before init
			// exits is still passed on (waited for below).
			relayed := make(chan struct{})
			if c.Relays() {
				go func() {
					defer close(relayed)
					if err := c.ForwardReady(); err != nil {
						logrus.Warnf("run %s: %v", id, err)
					}
				}()
			} else {
				close(relayed)
			}
			if debugOn() {
				logrus.Debugf("run %s: waiting for init pid %d, forwarding signals", id, c.State().InitPid)
			}
			releaseMounts := c.HoldMounts()
			status := waitForwarding(c.State().InitPid, sigs)
			releaseMounts()
			<-relayed
			if debugOn() {
				logrus.Debugf("run %s: init exited with status %d; keep %t", id, status, cmd.Bool("keep"))
			}
			// No signal.Stop (see exec): the clean-up below must not be
			// cut short by a signal's default action either.
			term.drain()
			if !cmd.Bool("keep") {
				if err := c.Destroy(true); err != nil && !errors.Is(err, libcontainer.ErrNotExist) {
					return createError(cmd, err)
				}
			}
			return &exitError{code: status}
		},
	}
}

// waitForwarding forwards every signal we get to pid until it exits, and
// returns its exit status (128+signal when killed). As a subreaper we
// also reap orphans reparented to us. The command lives on as long as pid
// does, so its heap gives up huge pages first (hugeheap.Release).
//
// The calling goroutine waits itself: its thread sleeps in wait4 and goes
// on with the clean-up the moment pid exits, with no other goroutine to
// wake first. The signals go through a pidfd taken before the wait, so
// one that comes after pid is reaped finds the pidfd's exited process and
// never a new one that reuses the number.
func waitForwarding(pid int, sigs chan os.Signal) int {
	hugeheap.Release()
	if sigs != nil {
		send := func(sig unix.Signal) { _ = unix.Kill(pid, sig) }
		if pidfd, err := unix.PidfdOpen(pid, 0); err == nil {
			send = func(sig unix.Signal) { _ = unix.PidfdSendSignal(pidfd, sig, nil, 0) }
		} else {
			// A kernel without pidfds: by number, as runc does.
			logrus.Debugf("pidfd_open %d: %v; signals go by pid", pid, err)
		}
		go forwardSignals(sigs, send)
	}
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 255
		}
		if wpid != pid {
			continue
		}
		switch {
		case ws.Exited():
			return ws.ExitStatus()
		case ws.Signaled():
			return 128 + int(ws.Signal())
		}
	}
}

// forwardSignals passes what arrives on sigs to send, for as long as
// berth lives: once the process is reaped, a signal to its pidfd fails
// with ESRCH and is dropped, as one was dropped before it started.
func forwardSignals(sigs chan os.Signal, send func(unix.Signal)) {
	for s := range sigs {
		sig := s.(unix.Signal)
		switch sig {
		case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH:
			continue
		}
		send(sig)
	}
}
