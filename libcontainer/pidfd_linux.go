package libcontainer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/utils"
)

// sendPidfd is --pidfd-socket: a pidfd of the container's process (pid,
// init or an exec process, still in its set-up so it cannot have been
// reaped and its pid reused) goes over sock, a connected unix socket, as
// runc sends it. Nothing without a socket.
func sendPidfd(sock *os.File, pid int) error {
	if sock == nil {
		return nil
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd socket: pidfd_open %d: %w", pid, err)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	if err := utils.SendFile(sock, f); err != nil {
		return fmt.Errorf("pidfd socket: send the pidfd of %d: %w", pid, err)
	}
	return nil
}
