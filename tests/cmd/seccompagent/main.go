// Command seccompagent is a minimal seccomp notify agent for berth's tests.
// It listens on a unix socket, takes the notify fd and container process
// state that a runtime sends for listenerPath, and answers every
// notification: mkdir/mkdirat get -mkdir-errno (or a faked success that
// creates nothing), every other syscall is let through to the kernel.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/tests/cmd/internal/sockready"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// agent holds the settings shared by all connections.
type agent struct {
	mkdirErrno int
	log        *log.Logger
}

func run(args []string) int {
	flags := flag.NewFlagSet("seccompagent", flag.ContinueOnError)
	socketPath := flags.String("socket", "", "unix socket to listen on (required)")
	logPath := flags.String("log", "", "append messages to this file instead of stdout")
	mkdirErrno := flags.Int("mkdir-errno", 0, "errno for notified mkdir/mkdirat; 0 fakes success without creating anything")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *socketPath == "" || *mkdirErrno < 0 {
		fmt.Fprintln(os.Stderr, "seccompagent: -socket PATH is required and -mkdir-errno must be >= 0")
		return 2
	}

	var out io.Writer = os.Stdout
	if *logPath != "" {
		f, err := os.OpenFile(*logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "seccompagent: open log %s: %v\n", *logPath, err)
			return 1
		}
		defer f.Close()
		out = f
	}
	a := &agent{mkdirErrno: *mkdirErrno, log: log.New(out, "seccompagent: ", 0)}

	ln, err := sockready.Listen(*socketPath)
	if err != nil {
		a.log.Printf("listen %s: %v", *socketPath, err)
		return 1
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		ln.Close()
	}()

	a.log.Printf("listening on %s", *socketPath)
	for {
		conn, err := ln.AcceptUnix()
		if errors.Is(err, net.ErrClosed) {
			a.log.Printf("stopping")
			return 0
		}
		if err != nil {
			a.log.Printf("accept: %v", err)
			continue
		}
		go a.handleConn(conn)
	}
}

// handleConn reads the one message a runtime sends per connection and starts
// serving the notify fd it carries.
func (a *agent) handleConn(conn *net.UnixConn) {
	defer conn.Close()
	buf, oob := make([]byte, 1<<20), make([]byte, unix.CmsgSpace(4*16))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		a.log.Printf("read state: %v", err)
		return
	}
	fds, err := receivedFds(oob[:oobn])
	if err != nil {
		a.log.Printf("read state: %v", err)
		return
	}
	var state specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &state); err != nil {
		a.log.Printf("decode state: %v", err)
		closeAll(fds)
		return
	}
	a.log.Printf("container=%s metadata=%q pid=%d fds=%v", state.State.ID, state.Metadata, state.Pid, state.Fds)

	notifyFd := -1
	for i, name := range state.Fds {
		if name == specs.SeccompFdName && i < len(fds) {
			notifyFd = fds[i]
			fds[i] = -1
		}
	}
	closeAll(fds)
	if notifyFd < 0 {
		a.log.Printf("container=%s: no %s among the received fds", state.State.ID, specs.SeccompFdName)
		return
	}
	go a.serve(notifyFd, state.State.ID)
}

func receivedFds(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for _, m := range msgs {
		if got, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, got...)
		}
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// serve answers notifications until every process using the filter is gone
// (the fd then polls as hung up).
func (a *agent) serve(fd int, id string) {
	defer unix.Close(fd)
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(pfd, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			a.log.Printf("container=%s: poll: %v", id, err)
			return
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			a.log.Printf("container=%s: filter has no more users", id)
			return
		}
		req, err := libseccomp.NotifReceive(libseccomp.ScmpFd(fd))
		if err != nil {
			// ENOENT: the caller went away before we read it.
			a.log.Printf("container=%s: receive: %v", id, err)
			continue
		}
		a.answer(fd, id, req)
	}
}

func (a *agent) answer(fd int, id string, req *libseccomp.ScmpNotifReq) {
	name, err := req.Data.Syscall.GetNameByArch(req.Data.Arch)
	if err != nil {
		name = fmt.Sprintf("syscall-%d", req.Data.Syscall)
	}
	resp := libseccomp.ScmpNotifResp{ID: req.ID}
	verdict := "continue"
	switch name {
	case "mkdir", "mkdirat":
		resp.Error = int32(a.mkdirErrno)
		verdict = fmt.Sprintf("errno %d", a.mkdirErrno)
		if a.mkdirErrno == 0 {
			verdict = "faked success"
		}
	default:
		resp.Flags = libseccomp.NotifRespFlagContinue
	}
	if err := libseccomp.NotifRespond(libseccomp.ScmpFd(fd), &resp); err != nil {
		a.log.Printf("container=%s: respond to %s from pid %d: %v", id, name, req.Pid, err)
		return
	}
	a.log.Printf("container=%s: %s from pid %d: %s", id, name, req.Pid, verdict)
}
