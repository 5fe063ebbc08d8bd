package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/sdnotify"
)

// The sd_notify relay (package sdnotify), as runc has it: create, given
// the runtime's $NOTIFY_SOCKET (CreateOpts.NotifySocket), binds the
// relay's directory into the container and points its process at it; run
// binds the relay's socket before init starts, start binds it before it
// releases init; then either waits for the container's readiness and
// passes it to the host (run -d and start return after that, or once
// init is gone; a foreground run waits beside the container).

// setUpNotify gives the container of o the relay: its directory in the
// state directory stateDir, bound at /run/notify by o.Spec, and for a run
// (StartNow) the bound socket. A container without a mount namespace of
// its own gets the bind under its rootfs's HostTree, with its other
// mounts (rootfs/nomountns.go), as runc binds it in the caller's.
func setUpNotify(o *CreateOpts, stateDir string) (*sdnotify.Relay, error) {
	dir := sdnotify.Dir(stateDir)
	if err := sdnotify.MakeDir(dir); err != nil {
		return nil, err
	}
	sdnotify.SetupSpec(o.Spec, dir)
	if !o.StartNow {
		return nil, nil
	}
	return sdnotify.Listen(dir)
}

// StartNotified is Start for a runtime given $NOTIFY_SOCKET (host): the
// relay's socket is bound before init is released, and StartNotified
// returns once the container said it is ready (passed on to host) or its
// init is gone. A container created without the relay (no
// NOTIFY_SOCKET at create) just starts, with a warning.
func (c *Container) StartNotified(host string) error {
	relay, err := sdnotify.Listen(sdnotify.Dir(c.stateDirPath()))
	if errors.Is(err, os.ErrNotExist) {
		logrus.Warnf("NOTIFY_SOCKET: container %s was created without it: no sd_notify relay", c.state.ID)
		return c.Start()
	}
	if err != nil {
		return err
	}
	c.notify, c.notifyHost = relay, host
	if err := c.Start(); err != nil {
		c.closeNotify()
		return err
	}
	return c.ForwardReady()
}

// Relays says whether the container has a bound sd_notify relay for
// ForwardReady (a run's, with NOTIFY_SOCKET).
func (c *Container) Relays() bool { return c.notify != nil }

// ForwardReady waits on the relay for the container's readiness and
// passes it to the host's notify socket with init as MAINPID; it returns
// nil at once without a relay, and once init is gone without readiness.
func (c *Container) ForwardReady() error {
	if c.notify == nil {
		return nil
	}
	defer c.closeNotify()
	pid := c.state.InitPid
	pidfd, err := unix.PidfdOpen(pid, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		// Already reaped (a foreground run's wait can be first): what
		// init sent before it exited is still in the socket.
		pidfd = -1
	case err != nil:
		return fmt.Errorf("notify: pidfd of init %d: %w", pid, err)
	case !processAlive(pid, c.state.InitStartTime):
		// A zombie, or the pid reused before the pidfd: gone, as above.
		unix.Close(pidfd)
		pidfd = -1
	default:
		defer unix.Close(pidfd)
	}
	ready, err := c.notify.WaitReady(pidfd)
	if err != nil || ready == nil {
		return err
	}
	return sdnotify.Notify(c.notifyHost, ready, pid)
}

func (c *Container) closeNotify() {
	if c.notify != nil {
		c.notify.Close()
		c.notify = nil
	}
}

// stateDirPath is the container's state directory.
func (c *Container) stateDirPath() string { return filepath.Join(c.root, c.state.ID) }
