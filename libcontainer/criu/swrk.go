// Package criu talks to CRIU through its RPC protocol: `criu swrk FD`
// serves protobuf requests (package rpc's types) on one end of
// a SOCK_SEQPACKET socketpair, with notifications the caller answers on
// the way. What a request holds is the caller's business; this package
// runs the conversation and reads CRIU's logs for a useful error.
package criu

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/criu/rpc"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// Swrk is one `criu swrk` session.
type Swrk struct {
	// Path is the criu binary (--criu): a name is looked up in PATH.
	Path string
	// Stdio of the criu process. On restore the restored tree's pipes can
	// be these (rpc.InheritFd with Fd 0..2).
	Stdin, Stdout, Stderr *os.File
	// ExtraFiles are passed to criu from fd FirstExtraFd on, in order.
	ExtraFiles []*os.File
	// Started, when set, is called with criu's pid before the request
	// is sent (restore moves criu into the container's cgroup then, and
	// adds cgroup roots to the request).
	Started func(pid int, req *rpc.Req) error
	// Notify, when set, handles a notification; fds are the descriptors
	// that came with it (orphan-pts-master), which it owns.
	Notify func(n *rpc.Notify, fds []int) error
}

// FirstExtraFd is the descriptor number of Swrk.ExtraFiles[0] in criu:
// 0-2 are stdio and 3 is the RPC socket.
const FirstExtraFd = 4

// maxMessage bounds one RPC message from criu; its responses are small.
const maxMessage = 64 << 10

// ErrNotFound is returned when the criu binary cannot be found.
var ErrNotFound = errors.New("criu not found")

// LookPath resolves the criu binary, with a clear error when missing.
func LookPath(path string) (string, error) {
	if path == "" {
		path = "criu"
	}
	p, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("%w: %q (install CRIU or pass --criu PATH): %v", ErrNotFound, path, err)
	}
	return p, nil
}

// Run starts criu swrk, sends req and serves notifications until the
// final response, which it returns. A failed response is an error.
func (s *Swrk) Run(req *rpc.Req) (*rpc.Resp, error) {
	bin, err := LookPath(s.Path)
	if err != nil {
		return nil, err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("criu socketpair: %w", err)
	}
	client := os.NewFile(uintptr(fds[0]), "criu-client")
	defer client.Close()
	server := os.NewFile(uintptr(fds[1]), "criu-server")
	cmd := exec.Command(bin, "swrk", "3")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.Stdin, s.Stdout, s.Stderr
	cmd.ExtraFiles = append([]*os.File{server}, s.ExtraFiles...)
	err = cmd.Start()
	server.Close() // criu's copy only: its exit is then EOF here
	if err != nil {
		return nil, fmt.Errorf("start %s swrk: %w", bin, err)
	}
	resp, runErr := s.converse(cmd.Process.Pid, client, req)
	client.Close()
	// Only criu itself is waited for (cmd.Wait would also wait for the
	// copies of stdio a restored process keeps).
	st, waitErr := cmd.Process.Wait()
	if runErr != nil {
		return resp, runErr
	}
	if waitErr != nil {
		return resp, fmt.Errorf("wait for criu: %w", waitErr)
	}
	// After a pre-dump criu stays for the next request and is ended by
	// the closed socket; any other request must end in a clean exit.
	if !st.Success() && req.Type != rpc.ReqPreDump {
		return resp, fmt.Errorf("criu %s: %s", strings.ToLower(req.Type.String()), st)
	}
	return resp, nil
}

// converse sends the request and answers notifications until the
// response to the request arrives.
func (s *Swrk) converse(pid int, conn *os.File, req *rpc.Req) (*rpc.Resp, error) {
	if s.Started != nil {
		if err := s.Started(pid, req); err != nil {
			return nil, err
		}
	}
	if err := send(conn, req); err != nil {
		return nil, err
	}
	for {
		resp, fds, err := recv(conn)
		if err != nil {
			return nil, err
		}
		if !resp.Success {
			utils.CloseFds(fds)
			return resp, failure(req.Type, resp)
		}
		if resp.Type != rpc.ReqNotify {
			utils.CloseFds(fds)
			return resp, nil
		}
		if s.Notify != nil {
			err = s.Notify(resp.Notify, fds)
		} else {
			utils.CloseFds(fds)
		}
		if err != nil {
			return resp, fmt.Errorf("criu notification %q: %w", resp.Notify.GetScript(), err)
		}
		if err := send(conn, &rpc.Req{Type: rpc.ReqNotify, NotifySuccess: new(true)}); err != nil {
			return nil, err
		}
	}
}

func failure(t rpc.ReqType, resp *rpc.Resp) error {
	msg := fmt.Sprintf("criu %s failed", strings.ToLower(t.String()))
	if m := cleanErrmsg(resp.CrErrmsg); m != "" {
		msg += ": " + m
	}
	if e := resp.CrErrno; e != 0 {
		msg += fmt.Sprintf(" (%v)", unix.Errno(e))
	}
	return errors.New(msg)
}

// cleanErrmsg keeps the lines of criu's error message that say what
// failed, without their log prefixes, on one line.
func cleanErrmsg(m string) string {
	var out []string
	for _, l := range strings.Split(m, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || ignorable(l) {
			continue
		}
		out = append(out, trimLogPrefix(l))
	}
	return strings.Join(out, "; ")
}

func send(conn *os.File, req *rpc.Req) error {
	if _, err := conn.Write(req.Marshal()); err != nil {
		return fmt.Errorf("send criu request: %w", err)
	}
	return nil
}

// recv reads one message and the descriptors passed with it.
func recv(conn *os.File) (*rpc.Resp, []int, error) {
	buf := make([]byte, maxMessage)
	oob := make([]byte, unix.CmsgSpace(4*8))
	var n, oobn int
	var err error
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, nil, err
	}
	cerr := rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, err = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
		return err != unix.EAGAIN
	})
	if cerr != nil {
		return nil, nil, fmt.Errorf("read from criu: %w", cerr)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read from criu: %w", err)
	}
	fds, err := utils.ParseRights(oob[:oobn])
	if err != nil {
		utils.CloseFds(fds)
		return nil, nil, fmt.Errorf("criu control message: %w", err)
	}
	if n == 0 {
		utils.CloseFds(fds)
		return nil, nil, errors.New("criu exited without an answer")
	}
	if n == len(buf) {
		utils.CloseFds(fds)
		return nil, nil, errors.New("criu sent a message larger than expected")
	}
	resp, err := rpc.UnmarshalResp(buf[:n])
	if err != nil {
		utils.CloseFds(fds)
		return nil, nil, fmt.Errorf("decode criu response: %w", err)
	}
	return resp, fds, nil
}

// Features asks criu which of the features in want it has (FEATURE_CHECK).
func Features(path string, want *rpc.Features) (*rpc.Features, error) {
	resp, err := (&Swrk{Path: path}).Run(&rpc.Req{Type: rpc.ReqFeatureCheck, Features: want})
	if err != nil {
		return nil, err
	}
	return resp.Features, nil
}

// Check runs `criu check`: whether this criu can work on this kernel. The
// error holds criu's own complaint.
func Check(path string) error {
	bin, err := LookPath(path)
	if err != nil {
		return err
	}
	out, err := exec.Command(bin, "check").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s check: %s", bin, checkErrors(string(out), err.Error()))
	}
	return nil
}

// checkErrors picks the "Error" lines of criu's output (else its last
// line, else def), without criu's log prefixes, on one line.
func checkErrors(out, def string) string {
	var last string
	var errs []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || ignorable(l) {
			continue
		}
		last = l
		if strings.Contains(l, "Error") {
			errs = append(errs, trimLogPrefix(l))
		}
	}
	switch {
	case len(errs) > 0:
		return strings.Join(errs, "; ")
	case last != "":
		return trimLogPrefix(last)
	}
	return def
}

// trimLogPrefix drops criu's "(00.012345) " timestamp and the
// "Error (criu/file.c:123): " source position.
func trimLogPrefix(l string) string {
	if strings.HasPrefix(l, "(") {
		if i := strings.Index(l, ") "); i > 0 {
			l = l[i+2:]
		}
	}
	if strings.HasPrefix(l, "Error (") {
		if i := strings.Index(l, "): "); i > 0 {
			l = l[i+3:]
		}
	}
	return strings.TrimSpace(l)
}

// LogErrors returns the error lines of a criu log (at most max, the
// last ones), without their prefixes; none when the log is unreadable.
func LogErrors(path string, max int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var errs []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.Contains(l, "Error") && !ignorable(l) {
			errs = append(errs, trimLogPrefix(l))
		}
	}
	if len(errs) > max {
		errs = errs[len(errs)-max:]
	}
	return errs
}

// ignorable: lines with "Error" in them that are no failure (criu's
// harmless RLIMIT_NOFILE complaint on a host without CAP_SYS_RESOURCE).
func ignorable(l string) bool {
	return strings.Contains(l, "RLIMIT_NOFILE")
}

// WithLog adds the first error of criu's log (dir/file) to err, and
// says where the whole log is.
func WithLog(err error, dir, file string) error {
	if err == nil {
		return nil
	}
	path := filepath.Join(dir, file)
	errs := LogErrors(path, 3)
	if len(errs) == 0 {
		return fmt.Errorf("%w (log: %s)", err, path)
	}
	return fmt.Errorf("%w: %s (log: %s)", err, strings.Join(errs, "; "), path)
}
