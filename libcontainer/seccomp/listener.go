package seccomp

import (
	"encoding/json"
	"fmt"
	"net"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// SendToListener hands notifyFd to the seccomp agent listening on the unix
// stream socket at listenerPath: one connection, one message carrying the fd
// (SCM_RIGHTS) and the JSON container process state, then close, as the
// runtime spec asks. Fds is always set to ["seccompFd"] since that is the one
// fd sent, and Version defaults to the spec version; state is not modified.
func SendToListener(listenerPath string, notifyFd int, state *specs.ContainerProcessState) error {
	if notifyFd < 0 {
		return fmt.Errorf("send seccomp fd to %s: invalid fd %d", listenerPath, notifyFd)
	}
	msg := specs.ContainerProcessState{}
	if state != nil {
		msg = *state
	}
	if msg.Version == "" {
		msg.Version = specs.Version
	}
	msg.Fds = []string{specs.SeccompFdName}
	payload, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("send seccomp fd to %s: encode state: %w", listenerPath, err)
	}

	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: listenerPath, Net: "unix"})
	if err != nil {
		return fmt.Errorf("send seccomp fd: failed to connect with seccomp agent at %s: %w", listenerPath, err)
	}
	defer conn.Close()
	n, oobn, err := conn.WriteMsgUnix(payload, unix.UnixRights(notifyFd), nil)
	if err != nil {
		return fmt.Errorf("send seccomp fd to %s: %w", listenerPath, err)
	}
	if n != len(payload) || oobn == 0 {
		return fmt.Errorf("send seccomp fd to %s: short write (%d of %d bytes)", listenerPath, n, len(payload))
	}
	if err := conn.Close(); err != nil {
		return fmt.Errorf("send seccomp fd to %s: close: %w", listenerPath, err)
	}
	return nil
}
