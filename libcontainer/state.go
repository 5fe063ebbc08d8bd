package libcontainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/intelrdt"
	"github.com/berth-runtime/berth/libcontainer/rootfs"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// Status is a container's OCI status, plus "paused" as runc reports it.
type Status string

const (
	Creating Status = "creating"
	Created  Status = "created"
	Running  Status = "running"
	Paused   Status = "paused"
	Stopped  Status = "stopped"
)

const (
	stateFile = "state.json"
	lockFile  = "lock"
	fifoFile  = "exec.fifo"
)

// State is what berth persists about a container between commands.
// The status in it is informational only: every load recomputes it.
type State struct {
	ID      string    `json:"id"`
	Bundle  string    `json:"bundle"`
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	// InitPid is the host pid of the container's init, 0 while creating.
	InitPid int `json:"init_pid"`
	// InitStartTime is field 22 of /proc/PID/stat at creation: together
	// with InitPid it names the process even after pid reuse.
	InitStartTime uint64 `json:"init_start_time"`
	// InitExe names the binary init ran at creation (exeID): berth's
	// sealed copy. Once init runs anything else it has gone past
	// exec.fifo, even if the start that released it died before it
	// could remove the fifo.
	InitExe string `json:"init_exe,omitempty"`
	// CreatorPid / CreatorStartTime name the `berth create` that is
	// still setting the container up (status creating).
	CreatorPid       int    `json:"creator_pid,omitempty"`
	CreatorStartTime uint64 `json:"creator_start_time,omitempty"`
	Status           Status `json:"status"`
	// CgroupPaths are the manager's paths, to act on the cgroup without
	// re-reading config.json (which must not affect a created container).
	CgroupPaths map[string]string `json:"cgroup_paths,omitempty"`
	// Systemd records --systemd-cgroup at create time.
	Systemd  bool `json:"systemd,omitempty"`
	Rootless bool `json:"rootless,omitempty"`
	// NoNewKeyring records --no-new-keyring at create time: init kept
	// the caller's session keyring, and so does every exec process
	// (keyring.go).
	NoNewKeyring bool `json:"no_new_keyring,omitempty"`
	// HostTree is the bind of the rootfs onto itself that berth made in
	// the caller's mount namespace for a container without one of its
	// own (rootfs.HostTree): delete detaches it, with the container's
	// mounts under it.
	HostTree *rootfs.HostTree `json:"host_tree,omitempty"`
	// IntelRdt is what berth made in resctrl for the container: delete
	// removes that and nothing else (a group named after the container
	// that existed before it stays, as the spec says).
	IntelRdt *intelrdt.Made `json:"intel_rdt,omitempty"`
	// RawSpec is config.json as it was at create time (with later
	// updates), kept as JSON: most commands need little of it (Summary)
	// and decoding it whole is most of what loading a state costs (a
	// process's first decode; README, Speed). FullSpec decodes it.
	RawSpec json.RawMessage `json:"spec"`
	// Owner is the uid that created the container.
	Owner int `json:"owner"`

	// spec is the decoded config (set by Create, or by FullSpec); save
	// re-encodes RawSpec from it when specChanged.
	spec        *specs.Spec
	specChanged bool
	summary     *SpecSummary
	// file is the state.json this state was read from (load).
	file fileID
	// partial: the directory exists but holds no state.json yet: a
	// create between making the directory and its first save, or one
	// killed in that window (see Container.Status).
	partial bool
	// listed: decoded by List with its config's summary only
	// (decodeListed); FullSpec refuses it.
	listed bool
}

// SpecSummary is what state, kill, delete, start, pause and resume need
// of the config. Decoded on its own it costs a scan of the JSON, not the
// building of the whole spec's types.
type SpecSummary struct {
	Annotations map[string]string `json:"annotations,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Linux       *linuxSummary     `json:"linux,omitempty"`
}

type linuxSummary struct {
	CgroupsPath string `json:"cgroupsPath,omitempty"`
	// IntelRdt: delete removes the resctrl groups create made.
	IntelRdt *specs.LinuxIntelRdt `json:"intelRdt,omitempty"`
}

// CgroupsPath is linux.cgroupsPath.
func (s *SpecSummary) CgroupsPath() string {
	if s.Linux == nil {
		return ""
	}
	return s.Linux.CgroupsPath
}

// setSpec records a new or changed config; save encodes it.
func (s *State) setSpec(spec *specs.Spec) {
	s.spec, s.specChanged, s.summary = spec, true, nil
}

// FullSpec returns the container's config, decoding it on first use.
func (s *State) FullSpec() (*specs.Spec, error) {
	if s.spec != nil {
		return s.spec, nil
	}
	if s.listed {
		return nil, fmt.Errorf("state of %s was loaded for a listing, without its config", s.ID)
	}
	if len(s.RawSpec) == 0 {
		return nil, fmt.Errorf("state of %s holds no config", s.ID)
	}
	var spec specs.Spec
	if err := json.Unmarshal(s.RawSpec, &spec); err != nil {
		return nil, fmt.Errorf("decode config in state of %s: %w", s.ID, err)
	}
	s.spec = &spec
	return s.spec, nil
}

// Summary returns the parts of the config most commands need, from the
// decoded spec when there is one.
func (s *State) Summary() (*SpecSummary, error) {
	if s.summary != nil {
		return s.summary, nil
	}
	sum := &SpecSummary{}
	switch {
	case s.spec != nil:
		sum.Annotations, sum.Hooks = s.spec.Annotations, s.spec.Hooks
		if s.spec.Linux != nil {
			sum.Linux = &linuxSummary{CgroupsPath: s.spec.Linux.CgroupsPath, IntelRdt: s.spec.Linux.IntelRdt}
		}
	case len(s.RawSpec) == 0:
		return nil, fmt.Errorf("state of %s holds no config", s.ID)
	default:
		if err := json.Unmarshal(s.RawSpec, sum); err != nil {
			return nil, fmt.Errorf("decode config in state of %s: %w", s.ID, err)
		}
	}
	s.summary = sum
	return sum, nil
}

// stateDir is the per-container directory under the root, and the
// container's lock while it is held. Only a stateDir whose exclusive
// lock is held writes or removes the state (save, remove): every change
// to a container is made under its lock, by a command that re-read the
// state under it (Container.lockState).
type stateDir struct {
	path string
	// lockFd is the open lock file while how is not 0. A bare fd, not an
	// *os.File: that would set up Go's poller in kill, state and delete.
	lockFd int
	// how is the lock held: LOCK_EX or LOCK_SH; 0 when not held.
	how int
	// written is the state.json this stateDir saved last.
	written fileID
}

// fileID names one file: a save replaces state.json by a new file, so
// the same ID at the path means nobody saved since.
type fileID struct {
	dev, ino uint64
	ctime    unix.Timespec
}

func statID(st *unix.Stat_t) fileID {
	return fileID{dev: st.Dev, ino: st.Ino, ctime: st.Ctim}
}

// errNoLock is the error of a change to a state whose exclusive lock is
// not held: a bug in berth, never a user's error.
func (d *stateDir) holdsExclusive(op string) error {
	if d.how != unix.LOCK_EX {
		return fmt.Errorf("%s %s: the container's lock is not held exclusively", op, d.path)
	}
	return nil
}

// openStateDir takes the container's lock, exclusively. create=true makes
// the directory exclusively (an existing one means a duplicate ID).
func openStateDir(root, id string, create bool) (*stateDir, error) {
	return lockStateDir(root, id, create, unix.LOCK_EX)
}

// lockStateDir is openStateDir with the kind of lock: LOCK_SH for what
// may run beside its like (exec, kill) but not beside a command that
// changes the container (start, delete, pause, update).
func lockStateDir(root, id string, create bool, how int) (*stateDir, error) {
	if err := checkRoot(root, create); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	if create {
		if err := os.Mkdir(dir, 0o711); err != nil {
			if errors.Is(err, os.ErrExist) {
				return nil, fmt.Errorf("container with id %s already exists", id)
			}
			return nil, fmt.Errorf("create state directory %s: %w", dir, err)
		}
	}
	for {
		lockPath := filepath.Join(dir, lockFile)
		lock, err := unix.Open(lockPath, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil, errNotExist(id)
			}
			return nil, fmt.Errorf("open lock %s: %w", dir, &os.PathError{Op: "open", Path: lockPath, Err: err})
		}
		if err := flock(lock, how); err != nil {
			unix.Close(lock)
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		// A delete may have removed the directory (and a create made it
		// anew) while we waited: the lock held must be the one at the
		// path, or it guards nothing.
		same, err := sameFile(lock, lockPath)
		if err != nil {
			unix.Close(lock)
			if errors.Is(err, os.ErrNotExist) {
				return nil, errNotExist(id)
			}
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		if same {
			return &stateDir{path: dir, lockFd: lock, how: how}, nil
		}
		unix.Close(lock)
		if create {
			return nil, fmt.Errorf("container with id %s already exists", id)
		}
	}
}

func flock(fd int, how int) error {
	for {
		err := unix.Flock(fd, how)
		if err != unix.EINTR {
			return err
		}
	}
}

// sameFile reports whether the open fd is the file now at path.
func sameFile(fd int, path string) (bool, error) {
	var a, b unix.Stat_t
	if err := unix.Fstat(fd, &a); err != nil {
		return false, err
	}
	if err := unix.Lstat(path, &b); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, os.ErrNotExist
		}
		return false, err
	}
	return a.Dev == b.Dev && a.Ino == b.Ino, nil
}

// checkRoot refuses a state root that another user could have written
// to: a state.json there names the hooks berth runs and the processes it
// signals, so only its owner may have made it. With create, a missing
// root is made (mode 0711).
func checkRoot(root string, create bool) error {
	st, err := os.Stat(root)
	if err != nil && create && errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(root, 0o711); err != nil {
			return fmt.Errorf("create state root %s: %w", root, err)
		}
		st, err = os.Stat(root)
	}
	if err != nil {
		return fmt.Errorf("state root %s: %w", root, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("state root %s is not a directory", root)
	}
	return trusted("state root "+root, st.Sys().(*syscall.Stat_t))
}

// trusted refuses a state file or directory not owned by the caller, or
// writable by group or others.
func trusted(what string, st *syscall.Stat_t) error {
	return trustedOwner(what, st.Uid, st.Mode)
}

// trustedOwner is trusted for an owner and mode from any stat.
func trustedOwner(what string, uid, mode uint32) error {
	if int(uid) != os.Geteuid() {
		return fmt.Errorf("%s is owned by uid %d, not by the caller (uid %d): refusing to trust it", what, uid, os.Geteuid())
	}
	if mode&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %#o): refusing to trust it", what, mode&0o7777)
	}
	return nil
}

func (d *stateDir) unlock() {
	if d.how != 0 {
		unix.Close(d.lockFd)
		d.lockFd, d.how = -1, 0
	}
}

func (d *stateDir) file(name string) string { return filepath.Join(d.path, name) }

// save writes state.json atomically: temp file, then rename, so a reader
// sees a whole old or a whole new state. There is no fsync: the state
// root lives on /run (tmpfs) and describes processes that a crash of the
// machine ends anyway; durability would buy nothing and an fsync on a
// disk-backed --root costs milliseconds on every command.
func (d *stateDir) save(s *State) error {
	if err := d.holdsExclusive("save state in"); err != nil {
		return err
	}
	if s.specChanged {
		raw, err := json.Marshal(s.spec)
		if err != nil {
			return fmt.Errorf("encode config: %w", err)
		}
		s.RawSpec, s.specChanged = raw, false
	}
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	st, err := utils.ReplaceFile(d.file(stateFile), data, 0o600, false)
	if err != nil {
		return fmt.Errorf("save state in %s: %w", d.path, err)
	}
	d.written = statID(&st)
	return nil
}

// remove deletes the state directory. The names berth puts there go
// first, one unlink each; anything else (a temp file left by a crash)
// falls to RemoveAll.
func (d *stateDir) remove() error {
	if err := d.holdsExclusive("remove state directory"); err != nil {
		return err
	}
	for _, name := range []string{stateFile, fifoFile, lockFile} {
		if err := unix.Unlink(d.file(name)); err != nil && !errors.Is(err, unix.ENOENT) {
			return os.RemoveAll(d.path)
		}
	}
	if err := unix.Rmdir(d.path); err != nil && !errors.Is(err, unix.ENOENT) {
		// Never remove through a mount: RemoveAll would empty the rootfs.
		if err := releaseCriuRoot(d); err != nil {
			return err
		}
		return os.RemoveAll(d.path)
	}
	return nil
}

// load reads state.json, which must be the caller's own and not writable
// by others (checkRoot). A directory without one is a partial state. The
// file is read through a bare descriptor: an *os.File would set up Go's
// poller (epoll, eventfd, a registration refused for a regular file) in
// state, kill and delete, whose only file this is.
func (d *stateDir) load(id string) (*State, error) { return d.loadWith(id, nil) }

// lister is what List reuses from one state it loads to the next.
type lister struct {
	// buf is the read buffer (readSized's scratch); a state decoded
	// from it keeps nothing of it.
	buf []byte
}

// loadWith is load; with a lister (List), the file is read into its
// buffer and decoded by decodeListed.
func (d *stateDir) loadWith(id string, l *lister) (*State, error) {
	path := d.file(stateFile)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			if _, err := os.Lstat(d.path); err == nil {
				return &State{ID: id, Status: Creating, partial: true}, nil
			}
			return nil, errNotExist(id)
		}
		return nil, fmt.Errorf("read state of %s: %w", id, &os.PathError{Op: "open", Path: path, Err: err})
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("read state of %s: %w", id, &os.PathError{Op: "stat", Path: path, Err: err})
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("state of %s is not a regular file", id)
	}
	if err := trustedOwner("state of "+id, st.Uid, st.Mode); err != nil {
		return nil, err
	}
	if st.Size > maxStateSize {
		return nil, fmt.Errorf("state of %s is %d bytes, more than %d", id, st.Size, maxStateSize)
	}
	var scratch *[]byte
	if l != nil {
		scratch = &l.buf
	}
	data, err := readSized(fd, path, st.Size, scratch)
	if err != nil {
		return nil, fmt.Errorf("read state of %s: %w", id, err)
	}
	if l != nil {
		// No file identity: a listed state is never the one lockState
		// keeps, so that a command acting on it reads it whole again.
		return decodeListed(data, id)
	}
	s, err := decodeState(data, id)
	if err != nil {
		return nil, err
	}
	s.file = statID(&st)
	return s, nil
}

// maxStateSize bounds state.json: it holds the config, which the
// runtime's own config loading bounds the same way.
const maxStateSize = 64 << 20

// lockHeld reports whether some process holds the directory's lock: a
// partial state whose lock is free was left by a create that died.
func (d *stateDir) lockHeld() bool {
	fd, err := unix.Open(d.file(lockFile), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) != nil
}

func decodeState(data []byte, id string) (*State, error) {
	var s State
	// Unmarshal decodes from data itself; a Decoder would first copy it
	// into a buffer of its own, grown a step at a time (in `list`, fresh
	// pages for every container). It also refuses anything after the
	// object, which a state written whole by rename never has.
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode state of %s: %w", id, err)
	}
	if err := checkDecoded(&s, id); err != nil {
		return nil, err
	}
	return &s, nil
}

// decodeListed is decodeState for List: the config is decoded as far as
// its summary (annotations, hooks, cgroup path; a listing shows the
// annotations) instead of kept as a copy, a few KB of fresh heap per
// container. FullSpec refuses such a state. One whose config does not
// decode that way goes through decodeState, as it did before.
func decodeListed(data []byte, id string) (*State, error) {
	// The outer "spec" is shallower than State's RawSpec, so it is the
	// one filled.
	var ls struct {
		State
		Spec *SpecSummary `json:"spec"`
	}
	if err := json.Unmarshal(data, &ls); err != nil || ls.Spec == nil {
		return decodeState(data, id)
	}
	s := &ls.State
	if err := checkDecoded(s, id); err != nil {
		return nil, err
	}
	s.summary, s.listed = ls.Spec, true
	return s, nil
}

// checkDecoded refuses a decoded state that is not id's or names a
// process it could not tell from another.
func checkDecoded(s *State, id string) error {
	if s.ID != id {
		return fmt.Errorf("state of %s names container %q", id, s.ID)
	}
	// A pid without its start time would name whatever process has that
	// pid now: berth would signal it.
	if s.InitPid < 0 || s.CreatorPid < 0 || (s.InitPid > 0 && s.InitStartTime == 0) || (s.CreatorPid > 0 && s.CreatorStartTime == 0) {
		return fmt.Errorf("state of %s names a process without its start time", id)
	}
	return nil
}

// ErrNotExist is the error for an unknown container. Its text is what
// clients match on ("does not exist").
var ErrNotExist = errors.New("container does not exist")

func errNotExist(id string) error { return fmt.Errorf("%s: %w", id, ErrNotExist) }

// ErrNotRunning is returned when signalling a container that has no
// live init. Clients match on "container not running".
var ErrNotRunning = errors.New("container not running")

// ShownByProcess reports whether err is the container process's own
// failure that it has already written to its stderr (a failed execve
// after start): run exits with init's status (255) without repeating it,
// as runc's does.
func ShownByProcess(err error) bool { return utils.ShownByChild(err) }

// procStat holds the fields of /proc/PID/stat berth needs.
type procStat struct {
	State     byte
	StartTime uint64
}

// readProcStat parses /proc/PID/stat. The comm field can hold spaces and
// parentheses, so fields are counted from the last ')'.
func readProcStat(pid int) (procStat, error) {
	data, err := utils.ReadSmallFile("/proc/"+strconv.Itoa(pid)+"/stat", 4096)
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(data)
}

func parseProcStat(data []byte) (procStat, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return procStat{}, errors.New("malformed /proc stat")
	}
	fields := bytes.Fields(data[i+2:])
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return procStat{}, errors.New("malformed /proc stat: too few fields")
	}
	st, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("malformed /proc stat starttime: %w", err)
	}
	return procStat{State: fields[0][0], StartTime: st}, nil
}

// processAlive reports whether pid is still the process that had
// startTime, and not a zombie (a zombie init counts as stopped: here the
// reaper may take its time).
// exeID names the file a process runs, as "device:inode" of
// /proc/PID/exe: what the process cannot change except by execve.
func exeID(pid int) (string, error) {
	var st unix.Stat_t
	path := "/proc/" + strconv.Itoa(pid) + "/exe"
	if err := unix.Stat(path, &st); err != nil {
		return "", fmt.Errorf("stat %s: %w", path, err)
	}
	return strconv.FormatUint(st.Dev, 10) + ":" + strconv.FormatUint(st.Ino, 10), nil
}

// initExecd reports whether the container's (live) init has execve'd its
// process: it no longer runs the binary recorded at creation.
func (s *State) initExecd() bool {
	if s.InitExe == "" {
		return false
	}
	id, err := exeID(s.InitPid)
	return err == nil && id != s.InitExe
}

func processAlive(pid int, startTime uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := readProcStat(pid)
	if err != nil {
		return false
	}
	if st.State == 'Z' || st.State == 'X' {
		return false
	}
	return startTime != 0 && st.StartTime == startTime
}
