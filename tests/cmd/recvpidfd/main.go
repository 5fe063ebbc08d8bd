// Command recvpidfd is a test helper that plays the receiving end of a
// runtime's --pidfd-socket: it listens on a unix socket, accepts one
// connection, receives a pidfd and prints the pid it refers to (from
// /proc/self/fdinfo). With -kill-when FILE it then waits for FILE to
// exist (the test says the process runs), sends SIGKILL through the pidfd
// and waits until the process is gone (the pidfd polls readable).
//
//	recvpidfd [-kill-when FILE] [-ready FILE] SOCKET_PATH
//
// -ready FILE is created once the socket listens.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/utils"
	"github.com/berth-runtime/berth/tests/cmd/internal/sockready"
)

func main() {
	kill := flag.String("kill-when", "", "once this file exists, kill the process through the pidfd and wait for it")
	ready := flag.String("ready", "", "file to create once listening")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: recvpidfd [-kill-when FILE] [-ready FILE] SOCKET_PATH")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *ready, *kill); err != nil {
		fmt.Fprintln(os.Stderr, "recvpidfd:", err)
		os.Exit(1)
	}
}

func run(path, ready, kill string) error {
	ln, err := sockready.Listen(path)
	if err != nil {
		return err
	}
	defer ln.Close()
	if ready != "" {
		if err := os.WriteFile(ready, nil, 0o644); err != nil {
			return err
		}
	}
	conn, err := ln.AcceptUnix()
	if err != nil {
		return err
	}
	defer conn.Close()
	sock, err := conn.File()
	if err != nil {
		return err
	}
	defer sock.Close()
	pidfd, err := utils.RecvFile(sock)
	if err != nil {
		return fmt.Errorf("receive pidfd: %w", err)
	}
	defer pidfd.Close()
	pid, err := fdinfoPid(int(pidfd.Fd()))
	if err != nil {
		return err
	}
	fmt.Println(pid)
	if kill == "" {
		return nil
	}
	for {
		if _, err := os.Stat(kill); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := unix.PidfdSendSignal(int(pidfd.Fd()), unix.SIGKILL, nil, 0); err != nil {
		return fmt.Errorf("pidfd_send_signal: %w", err)
	}
	fds := []unix.PollFd{{Fd: int32(pidfd.Fd()), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// fdinfoPid reads the "Pid:" line the kernel shows for a pidfd.
func fdinfoPid(fd int) (string, error) {
	f, err := os.Open(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "Pid:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", errors.New("received fd is not a pidfd (no Pid: in its fdinfo)")
}
