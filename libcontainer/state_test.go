package libcontainer

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/intelrdt"
)

func sampleState(id string) *State {
	s := &State{
		ID: id, Bundle: "/b", Rootfs: "/b/rootfs",
		Created: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		InitPid: 42, InitStartTime: 12345, Status: Created,
		CgroupPaths: map[string]string{"memory": "/sys/fs/cgroup/memory/berth/" + id, "": "/sys/fs/cgroup/unified/berth/" + id},
		Owner:       0,
		// Only what berth made in resctrl is removed at delete: it must
		// survive a save and a load.
		IntelRdt: &intelrdt.Made{Mon: true},
	}
	s.setSpec(&specs.Spec{Version: specs.Version, Annotations: map[string]string{"k": "v"}})
	return s
}

// persisted is s as a load sees it: the decoded caches cleared.
func persisted(s *State) State {
	c := *s
	c.spec, c.specChanged, c.summary = nil, false, nil
	return c
}

// onlyStateFile fails when anything but the lock and state.json is in dir:
// a leftover temp file means save is not atomic-and-clean.
func onlyStateFile(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != stateFile && e.Name() != lockFile {
			t.Errorf("unexpected file %q left in state directory", e.Name())
		}
	}
}

func TestStateSaveLoadRoundTrip(t *testing.T) {
	root := t.TempDir()
	d, err := openStateDir(root, "rt1", true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.unlock()
	want := sampleState("rt1")
	if err := d.save(want); err != nil {
		t.Fatal(err)
	}
	got, err := d.load("rt1")
	if err != nil {
		t.Fatal(err)
	}
	if got.file != d.written {
		t.Errorf("load names the file it read as %+v, the save wrote %+v", got.file, d.written)
	}
	got.file = fileID{}
	if !reflect.DeepEqual(*got, persisted(want)) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	spec, err := got.FullSpec()
	if err != nil || !reflect.DeepEqual(spec, want.spec) {
		t.Errorf("config after a round trip: %+v, %v; want %+v", spec, err, want.spec)
	}
	// A second save replaces the first.
	want.Status, want.InitPid = Running, 43
	if err := d.save(want); err != nil {
		t.Fatal(err)
	}
	got, err = d.load("rt1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != Running || got.InitPid != 43 {
		t.Errorf("second save not visible: %+v", got)
	}
	onlyStateFile(t, d.path)
	if fi, err := os.Stat(d.file(stateFile)); err != nil || fi.Size() == 0 {
		t.Errorf("state.json: %v", err)
	}
}

// A failed save (here: the rename target is a non-empty directory) must
// leave neither a temp file nor a torn state.json behind.
func TestStateSaveFailureLeavesNoTempFile(t *testing.T) {
	root := t.TempDir()
	d, err := openStateDir(root, "rt2", true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.unlock()
	if err := os.MkdirAll(filepath.Join(d.file(stateFile), "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := d.save(sampleState("rt2")); err == nil {
		t.Fatal("save over a directory succeeded")
	}
	ents, _ := os.ReadDir(d.path)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".state-") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}

// Readers never see a partial state.json while a writer saves over and
// over: every load decodes a whole state.
func TestStateSaveIsAtomicForReaders(t *testing.T) {
	root := t.TempDir()
	d, err := openStateDir(root, "rt3", true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.unlock()
	s := sampleState("rt3")
	// A big spec makes a torn write likely if save wrote in place.
	big := map[string]string{}
	for i := 0; i < 2000; i++ {
		big[strings.Repeat("k", 20)+string(rune('a'+i%26))+time.Duration(i).String()] = strings.Repeat("v", 50)
	}
	s.setSpec(&specs.Spec{Version: specs.Version, Annotations: big})
	if err := d.save(s); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := d.load("rt3"); err != nil {
				errs <- err
				return
			}
		}
	}()
	for i := 0; i < 50; i++ {
		s.InitPid = i + 1
		if err := d.save(s); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if err := <-errs; err != nil {
		t.Fatalf("reader saw a partial state: %v", err)
	}
	onlyStateFile(t, d.path)
}

func TestOpenStateDir(t *testing.T) {
	root := t.TempDir()
	d, err := openStateDir(root, "dup", true)
	if err != nil {
		t.Fatal(err)
	}
	d.unlock()
	if _, err := openStateDir(root, "dup", true); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second create: got %v, want an \"already exists\" error", err)
	}
	if _, err := openStateDir(root, "nope", false); !errors.Is(err, ErrNotExist) {
		t.Errorf("open unknown: got %v, want ErrNotExist", err)
	}
	if _, err := Load(root, "nope"); !errors.Is(err, ErrNotExist) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Load unknown: got %v", err)
	}
	if _, err := Load(root, "../x"); err == nil {
		t.Error("Load accepted ../x")
	}
}

func TestDecodeState(t *testing.T) {
	good := `{"id":"a1","status":"created","init_pid":7,"init_start_time":99}`
	if s, err := decodeState([]byte(good), "a1"); err != nil || s.InitPid != 7 {
		t.Fatalf("decode good state: %v %+v", err, s)
	}
	bad := map[string]string{
		"mismatched id": `{"id":"other"}`,
		"no id":         `{"status":"created"}`,
		"garbage":       `not json`,
		"empty":         ``,
		"truncated":     `{"id":"a1","status":"cr`,
		"wrong type":    `{"id":"a1","init_pid":"seven"}`,
		"array":         `[1,2,3]`,
		// a pid without its start time would name any process
		"init no start":    `{"id":"a1","init_pid":7}`,
		"init start 0":     `{"id":"a1","init_pid":7,"init_start_time":0}`,
		"creator no start": `{"id":"a1","creator_pid":7}`,
		"negative pid":     `{"id":"a1","init_pid":-1,"init_start_time":5}`,
		// what follows the object: a Decoder stopped before it
		"trailing object": `{"id":"a1","status":"created"} {"id":"a1"}`,
		"trailing brace":  `{"id":"a1","status":"created"}}`,
	}
	for name, data := range bad {
		if _, err := decodeState([]byte(data), "a1"); err == nil {
			t.Errorf("%s: decodeState(%q) accepted it", name, data)
		}
	}
}

// decodeState decodes from the bytes it is given. A json.Decoder copied
// them into a buffer of its own first, a step at a time, so that every
// state loaded (each container in `list`) cost fresh heap of more than the
// file's size on top of the decoded state.
func TestDecodeStateNoCopy(t *testing.T) {
	spec := `{"ociVersion":"1.3.0","process":{"args":["sh"],"env":["` + strings.Repeat("x", 6000) + `"],"cwd":"/"},"root":{"path":"rootfs"}}`
	data := []byte(`{"id":"a1","bundle":"/b","status":"running","init_pid":7,"init_start_time":9,"spec":` + spec + `,"owner":0}`)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 20
	for i := 0; i < n; i++ {
		if _, err := decodeState(data, "a1"); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	// The state keeps a copy of the spec; anything near a second copy of
	// the file is the Decoder's buffer.
	per := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("%d bytes allocated per decode of a %d-byte state", per, len(data))
	if limit := uint64(len(data)) * 2; per > limit {
		t.Errorf("decoding a %d-byte state allocates %d bytes, more than %d", len(data), per, limit)
	}
}

func TestParseProcStat(t *testing.T) {
	// 52 fields like a real /proc/PID/stat; comm holds spaces and ')'.
	rest := "S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49"
	for _, comm := range []string{"sh", "a b", "x) S 1 2 (y", ") )", "(((", "name with ) and spaces"} {
		data := []byte("1234 (" + comm + ") " + rest + "\n")
		st, err := parseProcStat(data)
		if err != nil {
			t.Errorf("comm %q: %v", comm, err)
			continue
		}
		if st.State != 'S' || st.StartTime != 987654 {
			t.Errorf("comm %q: got state %c start %d, want S 987654", comm, st.State, st.StartTime)
		}
	}
	for _, bad := range []string{"", "1234 (sh", "1234 (sh)", "1234 (sh) S 1 2 3", "1234 (sh) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 notanumber"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) accepted it", bad)
		}
	}
}

func TestProcessAlive(t *testing.T) {
	self, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !processAlive(os.Getpid(), self.StartTime) {
		t.Error("self with its start time: not alive")
	}
	if processAlive(os.Getpid(), self.StartTime+1) {
		t.Error("self with another start time (a recycled pid) counted as alive")
	}
	for _, pid := range []int{0, -1} {
		if processAlive(pid, 0) {
			t.Errorf("pid %d counted as alive", pid)
		}
	}
	if processAlive(os.Getpid(), 0) {
		t.Error("a live pid with start time 0 counted as alive: 0 must match nothing")
	}

	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	st, err := readProcStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Not reaped yet: it becomes a zombie, which counts as stopped.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cur, err := readProcStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		if cur.State == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("child never became a zombie")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if processAlive(pid, st.StartTime) {
		t.Error("zombie counted as alive")
	}
	cmd.Wait()
	if processAlive(pid, st.StartTime) {
		t.Error("reaped pid counted as alive")
	}
}

func TestStateDirRemove(t *testing.T) {
	root := t.TempDir()
	d, err := openStateDir(root, "gone", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.save(&State{ID: "gone"}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(d.file(fifoFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.remove(); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := os.Stat(d.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory still there after remove: %v", err)
	}
	d.unlock()

	// Something berth does not know of (a temp file left by a crash)
	// still goes: remove falls back to removing the whole tree.
	d, err = openStateDir(root, "stray", true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.unlock()
	if err := os.WriteFile(d.file(".state-123"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.remove(); err != nil {
		t.Fatalf("remove with a stray file: %v", err)
	}
	if _, err := os.Stat(d.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory with a stray file still there: %v", err)
	}
	// Removing what is already gone is not an error.
	if err := d.remove(); err != nil {
		t.Errorf("remove of a removed directory: %v", err)
	}
}

// Most commands read only a summary of the config; the whole of it is
// decoded only when asked for, and a changed config (update) is saved.
func TestStateConfigLazyAndSummary(t *testing.T) {
	root := t.TempDir()
	d, err := openStateDir(root, "lz1", true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.unlock()
	s := sampleState("lz1")
	limit := int64(1 << 20)
	spec := &specs.Spec{
		Version: specs.Version, Annotations: map[string]string{"a": "b"},
		Hooks: &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}},
		Linux: &specs.Linux{CgroupsPath: "/x/lz1", Resources: &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}},
	}
	s.setSpec(spec)
	if err := d.save(s); err != nil {
		t.Fatal(err)
	}
	got, err := d.load("lz1")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := got.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Annotations["a"] != "b" || sum.CgroupsPath() != "/x/lz1" || sum.Hooks == nil || len(sum.Hooks.Poststop) != 1 {
		t.Errorf("summary: %+v", sum)
	}
	if got.spec != nil {
		t.Error("Summary decoded the whole config")
	}
	full, err := got.FullSpec()
	if err != nil || full.Linux == nil || *full.Linux.Resources.Memory.Limit != limit {
		t.Fatalf("FullSpec: %+v, %v", full, err)
	}
	// An update changes the config; the next load sees it.
	newLimit := int64(2 << 20)
	full.Linux.Resources.Memory.Limit = &newLimit
	got.setSpec(full)
	if err := d.save(got); err != nil {
		t.Fatal(err)
	}
	again, err := d.load("lz1")
	if err != nil {
		t.Fatal(err)
	}
	if full, err := again.FullSpec(); err != nil || *full.Linux.Resources.Memory.Limit != newLimit {
		t.Errorf("after update: %+v, %v", full, err)
	}
	// A state without a config says so instead of handing out nil.
	empty := &State{ID: "e"}
	if _, err := empty.FullSpec(); err == nil {
		t.Error("FullSpec of a state without config succeeded")
	}
	if _, err := empty.Summary(); err == nil {
		t.Error("Summary of a state without config succeeded")
	}
}

func TestStateRootTrust(t *testing.T) {
	root := t.TempDir()
	if err := os.Chmod(root, 0o1777); err != nil {
		t.Fatal(err)
	}
	if _, err := openStateDir(root, "t1", true); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Fatalf("create under a 1777 root: got %v", err)
	}
	if _, err := Load(root, "t1"); err == nil || !strings.Contains(err.Error(), "refusing to trust") {
		t.Fatalf("load under a 1777 root: got %v", err)
	}
	if _, err := List(root); err == nil {
		t.Fatal("list under a 1777 root accepted it")
	}
	if err := os.Chmod(root, 0o711); err != nil {
		t.Fatal(err)
	}
	d, err := openStateDir(root, "t1", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.save(&State{ID: "t1", Status: Created}); err != nil {
		t.Fatal(err)
	}
	d.unlock()
	if _, err := Load(root, "t1"); err != nil {
		t.Fatalf("load own state: %v", err)
	}
	// A state file others may write is not the caller's word.
	if err := os.Chmod(filepath.Join(root, "t1", stateFile), 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(root, "t1"); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Fatalf("load a 0666 state file: got %v", err)
	}
	if err := os.Chmod(filepath.Join(root, "t1", stateFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(root, "t1", stateFile), 12345, 12345); err == nil {
		if _, err := Load(root, "t1"); err == nil || !strings.Contains(err.Error(), "owned by uid 12345") {
			t.Fatalf("load a state file of another user: got %v", err)
		}
	}
}

func TestPartialStateDir(t *testing.T) {
	root := t.TempDir()
	d, err := openStateDir(root, "p1", true)
	if err != nil {
		t.Fatal(err)
	}
	// Held by its create: creating, and visible.
	c, err := Load(root, "p1")
	if err != nil {
		t.Fatalf("load a directory without state.json: %v", err)
	}
	if st := c.Status(); st != Creating {
		t.Fatalf("partial state with its lock held: %s, want creating", st)
	}
	if cs, _ := List(root); len(cs) != 1 {
		t.Fatalf("list: %d containers, want the partial one", len(cs))
	}
	d.unlock()
	// Its create died: stopped, and delete removes it.
	if st := c.Status(); st != Stopped {
		t.Fatalf("partial state with a free lock: %s, want stopped", st)
	}
	if err := c.Destroy(false); err != nil {
		t.Fatalf("destroy abandoned partial state: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "p1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state directory left: %v", err)
	}
}

func TestLockStateRefusesAnotherContainer(t *testing.T) {
	root := t.TempDir()
	mk := func(created time.Time) {
		d, err := openStateDir(root, "r1", true)
		if err != nil {
			t.Fatal(err)
		}
		defer d.unlock()
		if err := d.save(&State{ID: "r1", Status: Created, Created: created, RawSpec: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	mk(time.Unix(100, 0))
	old, err := Load(root, "r1")
	if err != nil {
		t.Fatal(err)
	}
	// deleted and made again under the same ID meanwhile
	if err := os.RemoveAll(filepath.Join(root, "r1")); err != nil {
		t.Fatal(err)
	}
	mk(time.Unix(200, 0))
	if _, err := old.lockState(); !errors.Is(err, ErrNotExist) {
		t.Fatalf("lockState on a container made anew: got %v, want ErrNotExist", err)
	}
	if err := old.Destroy(true); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Destroy on a container made anew: got %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(root, "r1", stateFile)); err != nil {
		t.Fatalf("the new container's state was touched: %v", err)
	}
	cur, _ := Load(root, "r1")
	d, err := cur.lockState()
	if err != nil {
		t.Fatalf("lockState on the current container: %v", err)
	}
	d.unlock()
}

func TestLockSurvivesRemoval(t *testing.T) {
	// A lock taken on a lock file that a delete then unlinked guards
	// nothing: lockStateDir must notice and not hand it out.
	root := t.TempDir()
	d, err := openStateDir(root, "g1", true)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		d2, err := openStateDir(root, "g1", false)
		if err == nil {
			d2.unlock()
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := d.remove(); err != nil {
		t.Fatal(err)
	}
	d.unlock()
	if err := <-done; !errors.Is(err, ErrNotExist) {
		t.Fatalf("lock of a removed directory: got %v, want ErrNotExist", err)
	}
}

// initExecd tells a created init (still running the binary recorded at
// creation) from one that went on to execve.
func TestInitExecd(t *testing.T) {
	self, err := exeID(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	st, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	s := &State{InitPid: os.Getpid(), InitStartTime: st.StartTime}
	if s.initExecd() {
		t.Error("no InitExe recorded (an older state): must not count as execve'd")
	}
	s.InitExe = self
	if s.initExecd() {
		t.Error("same binary as at creation: must not count as execve'd")
	}
	s.InitExe = "1:1"
	if !s.initExecd() {
		t.Error("another binary than at creation: must count as execve'd")
	}
	if _, err := exeID(-1); err == nil {
		t.Error("exeID of pid -1 must fail")
	}
}

// Only a held exclusive lock saves or removes a container's state: a
// shared one (exec, kill) or one already released refuses.
func TestSaveNeedsExclusiveLock(t *testing.T) {
	root := t.TempDir()
	d, err := openStateDir(root, "lk1", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.save(sampleState("lk1")); err != nil {
		t.Fatalf("save under the exclusive lock: %v", err)
	}
	d.unlock()
	if err := d.save(sampleState("lk1")); err == nil || !strings.Contains(err.Error(), "lock is not held") {
		t.Errorf("save after unlock: got %v, want a refusal", err)
	}
	if err := d.remove(); err == nil {
		t.Error("remove after unlock: no refusal")
	}
	sh, err := lockStateDir(root, "lk1", false, unix.LOCK_SH)
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.save(sampleState("lk1")); err == nil {
		t.Error("save under a shared lock: no refusal")
	}
	if err := sh.remove(); err == nil {
		t.Error("remove under a shared lock: no refusal")
	}
	sh.unlock()
	if _, err := os.Stat(filepath.Join(root, "lk1", stateFile)); err != nil {
		t.Errorf("state gone after refused changes: %v", err)
	}
	unlocked := &stateDir{path: filepath.Join(root, "lk1")}
	if err := unlocked.save(sampleState("lk1")); err == nil {
		t.Error("save on a stateDir never locked: no refusal")
	}
}

// A container this process saved is not read back under the lock while
// its state.json is the one it wrote; once another command saved, it is.
func TestLockStateRereadsAnotherSave(t *testing.T) {
	root := t.TempDir()
	d, err := openStateDir(root, "lk2", true)
	if err != nil {
		t.Fatal(err)
	}
	s := sampleState("lk2")
	if err := d.save(s); err != nil {
		t.Fatal(err)
	}
	d.unlock()
	c := &Container{root: root, state: s, written: d.written}
	d, err = c.lockState()
	if err != nil {
		t.Fatal(err)
	}
	if c.state != s {
		t.Error("a state this process saved was read back")
	}
	// Another command (pause, update) saves meanwhile.
	other := sampleState("lk2")
	other.Status = Paused
	if err := d.save(other); err != nil {
		t.Fatal(err)
	}
	d.unlock()
	d, err = c.lockState()
	if err != nil {
		t.Fatal(err)
	}
	defer d.unlock()
	if c.state == s || c.state.Status != Paused {
		t.Errorf("after another save: state %p status %s, want the new one re-read", c.state, c.state.Status)
	}
}

// A state read without the lock is kept under the lock, with its decoded
// config, while its file is still the one at the path; a save by another
// command in the meantime makes lockState read the state again.
func TestLockStateKeepsAnUnchangedState(t *testing.T) {
	root := t.TempDir()
	d, err := openStateDir(root, "k1", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.save(sampleState("k1")); err != nil {
		t.Fatal(err)
	}
	d.unlock()
	c, err := Load(root, "k1")
	if err != nil {
		t.Fatal(err)
	}
	before, err := c.Spec()
	if err != nil {
		t.Fatal(err)
	}
	ld, err := c.lockState()
	if err != nil {
		t.Fatal(err)
	}
	after, err := c.Spec()
	if err != nil || after != before {
		t.Errorf("lockState read an unchanged state again (config %p, was %p; %v)", after, before, err)
	}
	ld.unlock()

	other, err := Load(root, "k1")
	if err != nil {
		t.Fatal(err)
	}
	od, err := other.lockState()
	if err != nil {
		t.Fatal(err)
	}
	other.state.InitPid = 77
	if err := od.save(other.state); err != nil {
		t.Fatal(err)
	}
	od.unlock()
	ld, err = c.lockState()
	if err != nil {
		t.Fatal(err)
	}
	defer ld.unlock()
	if c.state.InitPid != 77 {
		t.Errorf("lockState kept a state another command replaced: init pid %d, want 77", c.state.InitPid)
	}
}

// List reads every state.json into one buffer; what each container keeps
// (its config, read lazily for the annotations) must be its own, not a
// view of that buffer, which the next container's file overwrites.
func TestListSharedReadBuffer(t *testing.T) {
	root := t.TempDir()
	sizes := map[string]int{"b1": 100, "b2": 5000, "b3": 10}
	for id, n := range sizes {
		d, err := openStateDir(root, id, true)
		if err != nil {
			t.Fatal(err)
		}
		s := &State{ID: id, Status: Stopped}
		s.setSpec(&specs.Spec{Version: "1.3.0", Annotations: map[string]string{"who": id + strings.Repeat("-", n)}})
		if err := d.save(s); err != nil {
			t.Fatal(err)
		}
		d.unlock()
	}
	cs, err := List(root)
	if err != nil || len(cs) != len(sizes) {
		t.Fatalf("list: %d containers, %v", len(cs), err)
	}
	for _, c := range cs {
		id := c.State().ID
		got := c.OCIState().Annotations["who"]
		if want := id + strings.Repeat("-", sizes[id]); got != want {
			t.Errorf("%s: annotation %.20q... (%d bytes), want its own (%d bytes)", id, got, len(got), len(want))
		}
	}
}

// A listed state has its config's summary, not the config: FullSpec says
// so, and lockState reads the state whole again before any command acts
// on it, so that no save can write it back without its config.
func TestListedStateIsReadAgainToAct(t *testing.T) {
	root := t.TempDir()
	d, err := openStateDir(root, "q1", true)
	if err != nil {
		t.Fatal(err)
	}
	s := &State{ID: "q1", Status: Stopped}
	s.setSpec(&specs.Spec{Version: "1.3.0", Hostname: "h", Annotations: map[string]string{"a": "b"},
		Linux: &specs.Linux{CgroupsPath: "/x/q1"}})
	if err := d.save(s); err != nil {
		t.Fatal(err)
	}
	d.unlock()
	cs, err := List(root)
	if err != nil || len(cs) != 1 {
		t.Fatalf("list: %v %v", cs, err)
	}
	c := cs[0]
	sum, err := c.State().Summary()
	if err != nil || sum.Annotations["a"] != "b" || sum.CgroupsPath() != "/x/q1" {
		t.Fatalf("summary of a listed state: %+v %v", sum, err)
	}
	if _, err := c.State().FullSpec(); err == nil || !strings.Contains(err.Error(), "listing") {
		t.Fatalf("FullSpec of a listed state: %v", err)
	}
	dir, err := c.lockState()
	if err != nil {
		t.Fatal(err)
	}
	defer dir.unlock()
	spec, err := c.State().FullSpec()
	if err != nil || spec.Hostname != "h" {
		t.Fatalf("config after lockState: %+v %v", spec, err)
	}
}

// A state whose config has no summary to decode (a tampered annotations
// field) is still listed, without annotations, as before decodeListed.
func TestListedStateWithBadConfig(t *testing.T) {
	root := t.TempDir()
	d, err := openStateDir(root, "q2", true)
	if err != nil {
		t.Fatal(err)
	}
	s := &State{ID: "q2", Status: Stopped, RawSpec: json.RawMessage(`{"ociVersion":"1.3.0","annotations":5}`)}
	if err := d.save(s); err != nil {
		t.Fatal(err)
	}
	d.unlock()
	cs, err := List(root)
	if err != nil || len(cs) != 1 {
		t.Fatalf("list: %d containers, %v", len(cs), err)
	}
	if a := cs[0].OCIState().Annotations; a != nil {
		t.Fatalf("annotations %v from a config that has none to give", a)
	}
}
