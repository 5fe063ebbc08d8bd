package utils

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// MaxNameLen bounds the name sent along with a file descriptor. Clients of the
// console socket (containerd's shim, conmon) read the name into a buffer of
// this size, so a longer name would be split or truncated on their side.
const MaxNameLen = 4096

// oobFds is how many descriptors RecvFile makes room for. Only one is valid,
// but leaving room for a few more lets us receive and close a misbehaving
// peer's extras instead of relying on the kernel to drop them.
const oobFds = 16

// SendFile sends f's file descriptor over the unix socket sock as an
// SCM_RIGHTS control message, with f.Name() as the data payload. This is the
// wire format runc's console-socket clients expect.
func SendFile(sock *os.File, f *os.File) error {
	name := f.Name()
	if len(name) > MaxNameLen {
		return fmt.Errorf("sendfile %s: name longer than %d bytes", name, MaxNameLen)
	}
	fileConn, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("sendfile %s: %w", name, err)
	}
	var sendErr error
	ctlErr := fileConn.Control(func(fd uintptr) {
		sendErr = sendFd(sock, name, int(fd))
	})
	if ctlErr != nil {
		return fmt.Errorf("sendfile %s: %w", name, ctlErr)
	}
	if sendErr != nil {
		return fmt.Errorf("sendfile %s over %s: %w", name, sock.Name(), sendErr)
	}
	return nil
}

func sendFd(sock *os.File, name string, fd int) error {
	sockConn, err := sock.SyscallConn()
	if err != nil {
		return err
	}
	rights := unix.UnixRights(fd)
	var sendErr error
	// Write waits on the poller for non-blocking sockets, so the callback
	// reports false on EAGAIN and is retried when the socket is writable.
	err = sockConn.Write(func(sockFd uintptr) bool {
		// unix.Sendmsg adds a dummy byte for an empty payload on stream
		// sockets, where ancillary data needs at least one byte to ride on.
		sendErr = unix.Sendmsg(int(sockFd), []byte(name), rights, nil, 0)
		return !errors.Is(sendErr, unix.EAGAIN)
	})
	if err != nil {
		return err
	}
	return sendErr
}

// RecvFile receives one file descriptor, and the name sent with it, from the
// unix socket sock. The descriptor is received close-on-exec. Messages that
// carry more or fewer than one descriptor are rejected (any received
// descriptors are closed), as are messages whose control data was truncated.
func RecvFile(sock *os.File) (*os.File, error) {
	sockConn, err := sock.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("recvfile from %s: %w", sock.Name(), err)
	}
	nameBuf := make([]byte, MaxNameLen)
	oob := make([]byte, unix.CmsgSpace(oobFds*4))
	var n, oobn, flags int
	var recvErr error
	err = sockConn.Read(func(fd uintptr) bool {
		n, oobn, flags, _, recvErr = unix.Recvmsg(int(fd), nameBuf, oob, unix.MSG_CMSG_CLOEXEC)
		return !errors.Is(recvErr, unix.EAGAIN)
	})
	if err == nil {
		err = recvErr
	}
	if err != nil {
		return nil, fmt.Errorf("recvfile from %s: %w", sock.Name(), err)
	}
	fds, err := ParseRights(oob[:oobn])
	if err == nil && flags&unix.MSG_CTRUNC != 0 {
		err = errors.New("control message truncated")
	}
	if err == nil && len(fds) != 1 {
		if n == 0 && oobn == 0 {
			err = io.ErrUnexpectedEOF
		} else {
			err = fmt.Errorf("got %d file descriptors, want 1", len(fds))
		}
	}
	if err != nil {
		CloseFds(fds)
		return nil, fmt.Errorf("recvfile from %s: %w", sock.Name(), err)
	}
	// Trailing NULs come from C senders that include the terminator, or from
	// the dummy byte sent for an empty name.
	name := string(bytes.TrimRight(nameBuf[:n], "\x00"))
	return os.NewFile(uintptr(fds[0]), name), nil
}
