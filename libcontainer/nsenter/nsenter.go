//go:build linux

// Package nsenter starts a re-executed berth process inside namespaces that
// must be joined or created before the Go runtime starts threads (setns into
// user and mount namespaces, unshare of a user namespace, time namespaces).
//
// The work is done by a C constructor (nsenter.c) that runs before the Go
// runtime in every binary importing this package; it does nothing unless
// the environment variable _BERTH_NSENTER_FD names the child end of a
// socket over which Start sends the request.
//
// Protocol (keep in sync with nsenter.c). The socket is one end of an
// AF_UNIX SOCK_SEQPACKET socketpair, so every send is exactly one message.
// Integers are in host byte order (both ends run on the same machine).
//
//	parent -> child, one message, at most 64 KiB:
//	  u32 magic 0x424e5331, u32 total length (header included, must equal
//	  the message size), then attributes back to back, no padding:
//	    u16 type, u16 payload length, payload
//	  JOIN    (1): u32 CLONE_NEW* type, then the path (1..PATH_MAX-1 bytes,
//	               no NUL); at most one per namespace type
//	  UNSHARE (2): u32 CLONE_NEW* flags; at most once
//	  TIMENS  (3): text for /proc/self/timens_offsets (1..255 bytes); at
//	               most once, only with CLONE_NEWTIME in UNSHARE
//	  OOM     (4): text for /proc/self/oom_score_adj (1..15 bytes), written
//	               before the process stops being dumpable; at most once
//	  EXEC_* (16..23): a direct exec's program (direct.go); joins only
//	  Any other type, a short or overrunning attribute is an error.
//	child -> parent, one message each, first byte is the kind:
//	  'M'          unshared a user namespace: write my uid_map/gid_map (and
//	               setgroups) now; the pid is the started process
//	  'P' + i32    done, no fork: this pid continues into Go
//	  'C' + i32    done, forked: i32 is the child's pid (in the parent's pid
//	               namespace); the sender exits 0 right after
//	  'E' + text   failed; the sender exits 1
//	parent -> child:
//	  'A'          ack of 'M', the maps are written
//
// The process that continues into Go is not dumpable (it may hold host fds
// while it joins namespaces); execve of the container process resets that.
// It stops being dumpable once it has read the request and written its
// oom_score_adj, before it opens or joins anything.
package nsenter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// EnvFD is the environment variable that switches the constructor on; its
// value is the child's fd number of the request socket.
const EnvFD = "_BERTH_NSENTER_FD"

const (
	requestMagic    = 0x424e5331
	headerSize      = 8
	attrHeaderSize  = 4
	maxRequestSize  = 64 << 10
	maxPathLen      = unix.PathMax - 1 // the C side adds the NUL
	maxTimeOffsets  = 255
	maxReplySize    = 8 << 10
	attrJoin        = 1
	attrUnshare     = 2
	attrTimeOffsets = 3
	attrOOMScoreAdj = 4
	attrStackRoot   = 5

	msgMapRequest = 'M'
	msgMapAck     = 'A'
	msgPid        = 'P'
	msgChildPid   = 'C'
	msgError      = 'E'
)

// namespaceFlags are the CLONE_NEW* flags the C side accepts.
const namespaceFlags = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID |
	unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS |
	unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

// Join names an existing namespace to enter.
type Join struct {
	Type string // "user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time" (also "mount", "network")
	Path string
}

// Request says which namespaces the started process joins and creates.
type Request struct {
	Join          []Join
	Unshare       uintptr                // CLONE_NEW* flags to create after joining
	UIDMappings   []specs.LinuxIDMapping // written by the parent when Unshare has CLONE_NEWUSER
	GIDMappings   []specs.LinuxIDMapping
	SetgroupsDeny bool
	TimeOffsets   map[string]specs.LinuxTimeOffset // keys "monotonic", "boottime"
	// OOMScoreAdj is written to the process's oom_score_adj first thing,
	// while it may still do so (see nsenter.c's write_oom_score_adj).
	OOMScoreAdj *int
	// StackRoot says "/" is its mount namespace's root mount (an
	// initramfs): before any join or unshare, the process stacks a clone
	// of "/" on it in a mount namespace of the caller's user namespace
	// (nsenter.c's stack_root_clone). Only with CLONE_NEWNS in Unshare.
	StackRoot bool
}

// NamespaceFlag returns the CLONE_NEW* flag for a namespace type name:
// an OCI type or a /proc/PID/ns name (configs' table).
func NamespaceFlag(name string) (uintptr, error) {
	return configs.NamespaceFlagByName(name)
}

// procNsName is the /proc/self/ns entry a new child starts in for flag.
// pid and time namespaces of a process apply to its children, so a child
// starts in its parent's *_for_children ones.
func procNsName(flag uintptr) string {
	name := configs.NamespaceProcNameOf(flag)
	if flag == unix.CLONE_NEWPID || flag == unix.CLONE_NEWTIME {
		name += "_for_children"
	}
	return name
}

type joinAttr struct {
	flag uint32
	path string
}

// resolveJoins checks the joins and drops those naming the namespace a
// child of this process starts in anyway: joining one's own user namespace
// fails with EINVAL, and an own pid or time namespace would cost a fork.
func resolveJoins(joins []Join) ([]joinAttr, error) {
	var seen uintptr
	attrs := make([]joinAttr, 0, len(joins))
	for _, j := range joins {
		flag, err := NamespaceFlag(j.Type)
		if err != nil {
			return nil, err
		}
		if seen&flag != 0 {
			return nil, fmt.Errorf("namespace type %q joined twice", j.Type)
		}
		seen |= flag
		if j.Path == "" || len(j.Path) > maxPathLen || strings.IndexByte(j.Path, 0) >= 0 {
			return nil, fmt.Errorf("bad %s namespace path %q", j.Type, j.Path)
		}
		var target unix.Stat_t
		if err := unix.Stat(j.Path, &target); err != nil {
			return nil, fmt.Errorf("stat %s: %w", j.Path, err)
		}
		var own unix.Stat_t
		ownPath := "/proc/self/ns/" + procNsName(flag)
		if unix.Stat(ownPath, &own) == nil && own.Dev == target.Dev && own.Ino == target.Ino {
			continue
		}
		attrs = append(attrs, joinAttr{flag: uint32(flag), path: j.Path})
	}
	return attrs, nil
}

// timeOffsetsText formats offsets the way /proc/PID/timens_offsets reads them.
func timeOffsetsText(offsets map[string]specs.LinuxTimeOffset) (string, error) {
	var b strings.Builder
	for _, clock := range []string{"monotonic", "boottime"} {
		if off, ok := offsets[clock]; ok {
			fmt.Fprintf(&b, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
		}
	}
	for clock := range offsets {
		if clock != "monotonic" && clock != "boottime" {
			return "", fmt.Errorf("unknown time namespace clock %q", clock)
		}
	}
	return b.String(), nil
}

// encodeRequest builds the request message (format in the package comment).
func encodeRequest(joins []joinAttr, unshare uint32, timeOffsets string, oomScoreAdj *int, stackRoot bool) ([]byte, error) {
	return encodeRequestWith(joins, unshare, timeOffsets, oomScoreAdj, stackRoot, nil)
}

// encodeRequestWith builds the request message with an exec program
// (direct.go), when prog is set.
func encodeRequestWith(joins []joinAttr, unshare uint32, timeOffsets string, oomScoreAdj *int, stackRoot bool, prog *ExecProgram) ([]byte, error) {
	var buf bytes.Buffer
	ne := binary.NativeEndian
	buf.Write(ne.AppendUint32(nil, requestMagic))
	buf.Write(ne.AppendUint32(nil, 0)) // length, patched below
	attr := func(typ uint16, payload ...[]byte) error {
		size := 0
		for _, p := range payload {
			size += len(p)
		}
		if size > 0xffff {
			return fmt.Errorf("attribute %d too large (%d bytes)", typ, size)
		}
		buf.Write(ne.AppendUint16(nil, typ))
		buf.Write(ne.AppendUint16(nil, uint16(size)))
		for _, p := range payload {
			buf.Write(p)
		}
		return nil
	}
	for _, j := range joins {
		if err := attr(attrJoin, ne.AppendUint32(nil, j.flag), []byte(j.path)); err != nil {
			return nil, err
		}
	}
	if err := attr(attrUnshare, ne.AppendUint32(nil, unshare)); err != nil {
		return nil, err
	}
	if timeOffsets != "" {
		if len(timeOffsets) > maxTimeOffsets {
			return nil, fmt.Errorf("time offsets too long (%d bytes)", len(timeOffsets))
		}
		if err := attr(attrTimeOffsets, []byte(timeOffsets)); err != nil {
			return nil, err
		}
	}
	if oomScoreAdj != nil {
		if err := attr(attrOOMScoreAdj, strconv.AppendInt(nil, int64(*oomScoreAdj), 10)); err != nil {
			return nil, err
		}
	}
	if stackRoot {
		if err := attr(attrStackRoot); err != nil {
			return nil, err
		}
	}
	if prog != nil {
		if err := prog.encode(attr); err != nil {
			return nil, ErrProgramTooLarge
		}
	}
	msg := buf.Bytes()
	if len(msg) > maxRequestSize {
		if prog != nil {
			return nil, ErrProgramTooLarge
		}
		return nil, fmt.Errorf("request too large (%d bytes)", len(msg))
	}
	ne.PutUint32(msg[4:], uint32(len(msg)))
	return msg, nil
}

// idMaps is what the parent writes when the child unshares a user namespace.
type idMaps struct {
	uid, gid      []specs.LinuxIDMapping
	setgroupsDeny bool
}

func formatIDMap(m []specs.LinuxIDMapping) string {
	var b strings.Builder
	for _, e := range m {
		fmt.Fprintf(&b, "%d %d %d\n", e.ContainerID, e.HostID, e.Size)
	}
	return b.String()
}

// writeProcFile writes an id map (or setgroups) of the child.
func writeProcFile(path, data string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	if err := utils.WriteProcFile(f, data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Start starts cmd (an *exec.Cmd for berth's own binary, not yet started)
// so that its constructor executes req, and returns the pid (in the
// caller's pid namespace) of the process that continues into Go.
//
// If forked is false that process is cmd.Process, and the caller must
// cmd.Wait for it as usual. If forked is true, cmd's process was an
// intermediate that Start has already reaped with cmd.Wait; the returned pid
// is its orphaned child, reparented to the nearest subreaper (make the
// caller one with PR_SET_CHILD_SUBREAPER to wait for it). A request that
// forks needs cmd.Stdin, cmd.Stdout and cmd.Stderr to be nil or *os.File,
// because cmd.Wait would otherwise wait for the continuing process to close
// its copy of the pipes.
//
// On error Start kills and reaps what it started, and the error names the
// failed step.
func Start(cmd *exec.Cmd, req *Request) (pid int, forked bool, err error) {
	if req.Unshare&^namespaceFlags != 0 {
		return 0, false, fmt.Errorf("nsenter: bad unshare flags %#x", req.Unshare&^namespaceFlags)
	}
	newUser := req.Unshare&unix.CLONE_NEWUSER != 0
	if !newUser && (len(req.UIDMappings) > 0 || len(req.GIDMappings) > 0 || req.SetgroupsDeny) {
		return 0, false, errors.New("nsenter: id mappings without a new user namespace")
	}
	if req.Unshare&unix.CLONE_NEWTIME == 0 && len(req.TimeOffsets) > 0 {
		return 0, false, errors.New("nsenter: time offsets without a new time namespace")
	}
	if req.StackRoot && req.Unshare&unix.CLONE_NEWNS == 0 {
		return 0, false, errors.New("nsenter: stack-root without a new mount namespace")
	}
	joins, err := resolveJoins(req.Join)
	if err != nil {
		return 0, false, fmt.Errorf("nsenter: %w", err)
	}
	timeOffsets, err := timeOffsetsText(req.TimeOffsets)
	if err != nil {
		return 0, false, fmt.Errorf("nsenter: %w", err)
	}
	msg, err := encodeRequest(joins, uint32(req.Unshare), timeOffsets, req.OOMScoreAdj, req.StackRoot)
	if err != nil {
		return 0, false, fmt.Errorf("nsenter: %w", err)
	}

	willFork := req.Unshare&(unix.CLONE_NEWPID|unix.CLONE_NEWTIME) != 0
	for _, j := range joins {
		willFork = willFork || j.flag&(unix.CLONE_NEWPID|unix.CLONE_NEWTIME) != 0
	}
	if willFork && !(isFileOrNil(cmd.Stdin) && isFileOrNil(cmd.Stdout) && isFileOrNil(cmd.Stderr)) {
		return 0, false, errors.New("nsenter: a request that forks needs *os.File (or nil) stdio")
	}

	var maps *idMaps
	if newUser {
		maps = &idMaps{uid: req.UIDMappings, gid: req.GIDMappings, setgroupsDeny: req.SetgroupsDeny}
	}
	return start(cmd, msg, maps)
}

func isFileOrNil(v any) bool {
	if v == nil {
		return true
	}
	f, ok := v.(*os.File)
	return ok && f != nil
}

// start runs the protocol with an already encoded request; tests use it to
// send requests Start would never build.
func start(cmd *exec.Cmd, msg []byte, maps *idMaps) (pid int, forked bool, err error) {
	pid, forked, _, err = startKeep(cmd, msg, maps, false)
	return pid, forked, err
}

// startKeep is start; with keep, it returns the parent's end of the
// socket open, for a direct exec's go-ahead and outcome.
func startKeep(cmd *exec.Cmd, msg []byte, maps *idMaps, keep bool) (pid int, forked bool, sock *os.File, err error) {
	return startKeepIn(cmd, msg, maps, keep, false)
}

// startKeepIn is startKeep; ownPidNS: cmd is cloned into a new pid
// namespace, where it reports itself as pid 1.
func startKeepIn(cmd *exec.Cmd, msg []byte, maps *idMaps, keep, ownPidNS bool) (pid int, forked bool, sock *os.File, err error) {
	if !haveConstructor {
		return 0, false, nil, errors.New("nsenter: built without cgo, the constructor is missing")
	}
	if cmd.Process != nil {
		return 0, false, nil, errors.New("nsenter: command already started")
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, false, nil, fmt.Errorf("nsenter: socketpair: %w", err)
	}
	parentEnd := os.NewFile(uintptr(fds[0]), "nsenter parent socket")
	defer func() {
		if !keep || err != nil {
			parentEnd.Close()
		}
	}()
	childEnd := os.NewFile(uintptr(fds[1]), "nsenter child socket")

	childFD := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, childEnd)
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = withEnv(env, EnvFD, strconv.Itoa(childFD))

	// The request is queued before the child exists: it reads it as soon
	// as its constructor runs, while cmd.Start here still waits to learn
	// that the execve succeeded.
	if _, err := parentEnd.Write(msg); err != nil {
		childEnd.Close()
		return 0, false, nil, fmt.Errorf("nsenter: send request: %w", err)
	}
	err = cmd.Start()
	// Only the child may hold its end, so that its exit reads as EOF here.
	childEnd.Close()
	if err != nil {
		return 0, false, nil, fmt.Errorf("nsenter: start %s: %w", cmd.Path, err)
	}

	pid, forked, err = serve(parentEnd, cmd.Process.Pid, maps, ownPidNS)
	if err != nil {
		// A child that reported its error exits by itself; let it, so
		// that its exit status is the real one.
		reported := utils.IsChildError(err)
		if !reported {
			_ = cmd.Process.Kill()
		}
		if werr := cmd.Wait(); werr != nil && !expectedEnd(cmd.ProcessState, reported) {
			err = fmt.Errorf("%w (%v)", err, werr)
		}
		return 0, false, nil, err
	}
	if forked {
		if err := cmd.Wait(); err != nil {
			_ = unix.Kill(pid, unix.SIGKILL)
			return 0, false, nil, fmt.Errorf("nsenter: wait for intermediate process %d: %w", cmd.Process.Pid, err)
		}
	}
	if keep {
		return pid, forked, parentEnd, nil
	}
	return pid, forked, nil, nil
}

// expectedEnd says whether a child that failed ended as it should have,
// so that its exit status adds nothing to the error: exit status 1 after
// reporting its error ('E'), killed by SIGKILL when Start killed it.
func expectedEnd(ps *os.ProcessState, reported bool) bool {
	if ps == nil {
		return false
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok {
		return false
	}
	if reported {
		return ws.Exited() && ws.ExitStatus() == 1
	}
	return ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// withEnv returns env with key set to value, dropping earlier settings of key.
func withEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

// serve answers the child, which has the request, until it reports a pid.
func serve(sock *os.File, childPid int, maps *idMaps, ownPidNS bool) (pid int, forked bool, err error) {
	buf := make([]byte, maxReplySize)
	for {
		n, err := sock.Read(buf)
		if n == 0 || err != nil {
			return 0, false, fmt.Errorf("nsenter: process %d exited without reporting a pid (read: %v)", childPid, err)
		}
		reply := buf[:n]
		switch reply[0] {
		case msgMapRequest:
			if maps == nil {
				return 0, false, errors.New("nsenter: unexpected id map request")
			}
			if err := maps.write(childPid); err != nil {
				return 0, false, fmt.Errorf("nsenter: %w", err)
			}
			maps = nil // only one user namespace is created
			if _, err := sock.Write([]byte{msgMapAck}); err != nil {
				return 0, false, fmt.Errorf("nsenter: send map ack: %w", err)
			}
		case msgPid, msgChildPid:
			if n != 5 {
				return 0, false, fmt.Errorf("nsenter: bad pid message (%d bytes)", n)
			}
			pid := int(int32(binary.NativeEndian.Uint32(reply[1:])))
			forked := reply[0] == msgChildPid
			if !forked && ownPidNS && pid == 1 {
				pid = childPid
			}
			if pid <= 0 || (!forked && pid != childPid) {
				if forked && pid > 0 {
					_ = unix.Kill(pid, unix.SIGKILL)
				}
				return 0, false, fmt.Errorf("nsenter: bad pid %d reported by process %d", pid, childPid)
			}
			return pid, forked, nil
		case msgError:
			return 0, false, &utils.ChildError{Prefix: "nsenter: ", Msg: string(reply[1:])}
		default:
			return 0, false, fmt.Errorf("nsenter: unknown message kind %q", reply[0])
		}
	}
}

// UserNSMaps returns the uid and gid maps of the user namespace at path.
// A namespace file that is not /proc/PID/ns/user (a bind mount of one,
// as CRI runtimes pin a pod's namespaces) has no process to read them
// from, so a copy of this binary joins it just long enough to be looked
// at: it runs `--version` and exits, and its maps stay readable until
// it is reaped (a zombie keeps its credentials). It is not dumpable
// from before it joins the namespace (the constructor), so the
// namespace's root cannot reach it.
func UserNSMaps(path string) (uids, gids []specs.LinuxIDMapping, err error) {
	cmd := exec.Command("/proc/self/exe", "--version")
	pid, forked, err := Start(cmd, &Request{Join: []Join{{Type: "user", Path: path}}})
	if err != nil {
		return nil, nil, fmt.Errorf("join user namespace %s to read its id maps: %w", path, err)
	}
	if !forked {
		defer func() { _ = cmd.Wait() }()
	}
	read := func(name string) ([]specs.LinuxIDMapping, error) {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + name)
		if err != nil {
			return nil, fmt.Errorf("read %s of user namespace %s: %w", name, path, err)
		}
		return configs.ParseIDMap(string(data))
	}
	if uids, err = read("uid_map"); err != nil {
		return nil, nil, err
	}
	if gids, err = read("gid_map"); err != nil {
		return nil, nil, err
	}
	return uids, gids, nil
}
