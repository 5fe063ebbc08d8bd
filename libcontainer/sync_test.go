package libcontainer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/wire"
	"github.com/berth-runtime/berth/libcontainer/wire/wiretest"
)

func syncPair(t *testing.T) (parent, child *syncConn) {
	t.Helper()
	p, c, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	parent, child = newSyncConn(p), newSyncConn(c)
	t.Cleanup(func() { parent.Close(); child.Close() })
	return parent, child
}

// writeRaw writes bytes straight onto the socket, bypassing the framing.
func writeRaw(t *testing.T, c *syncConn, data []byte) {
	t.Helper()
	if _, err := c.f.Write(data); err != nil {
		t.Fatal(err)
	}
}

func header(n uint32) []byte {
	var h [4]byte
	binary.BigEndian.PutUint32(h[:], n)
	return h[:]
}

func TestSyncRoundTrip(t *testing.T) {
	parent, child := syncPair(t)
	type payload struct {
		Name  string            `json:"name"`
		Paths map[string]string `json:"paths"`
	}
	want := payload{Name: "x y\n\"z\"", Paths: map[string]string{"memory": "/a/b"}}
	// Big enough to need several reads on the other side.
	want.Paths["big"] = strings.Repeat("p", 1<<20)
	done := make(chan error, 1)
	go func() { done <- parent.send(msgConfig, want) }()
	m, err := child.expect(msgConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got payload
	if err := wire.Unmarshal(m.Payload, &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != want.Name || got.Paths["memory"] != "/a/b" || len(got.Paths["big"]) != 1<<20 {
		t.Errorf("payload changed in transit: name %q", got.Name)
	}
	// Frames keep their boundaries when sent back to back.
	for _, typ := range []string{msgCgroupReady, msgHooks, msgReady} {
		if err := child.send(typ, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, typ := range []string{msgCgroupReady, msgHooks, msgReady} {
		m, err := parent.recv()
		if err != nil || m.Type != typ {
			t.Fatalf("got %q, %v; want %q", m.Type, err, typ)
		}
	}
}

func TestSyncErrorFrame(t *testing.T) {
	parent, child := syncPair(t)
	if err := child.sendError(errors.New("mount proc on /proc: permission denied")); err != nil {
		t.Fatal(err)
	}
	_, err := parent.expect(msgReady)
	if !isChildError(err) || err.Error() != "mount proc on /proc: permission denied" {
		t.Errorf("got %v, want the child's error verbatim", err)
	}
	if err := child.send(msgHooks, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := parent.expect(msgReady); err == nil || isChildError(err) {
		t.Errorf("unexpected type: got %v, want a protocol error", err)
	}
}

func TestSyncOversizeFrame(t *testing.T) {
	if _, err := encodeFrame(make([]byte, maxSyncFrame+1)); err == nil {
		t.Error("encodeFrame accepted an oversize body")
	}
	if _, err := encodeFrame(make([]byte, maxSyncFrame)); err != nil {
		t.Errorf("encodeFrame refused a frame of exactly the limit: %v", err)
	}
	parent, child := syncPair(t)
	// Only the header: the receiver must refuse before allocating.
	writeRaw(t, child, header(maxSyncFrame+1))
	if _, err := parent.recv(); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversize header: got %v", err)
	}
	parent2, child2 := syncPair(t)
	writeRaw(t, child2, header(0xffffffff))
	if _, err := parent2.recv(); err == nil {
		t.Error("0xffffffff-byte frame accepted")
	}
}

func TestSyncUnknownTypeAndGarbage(t *testing.T) {
	for name, body := range map[string]string{
		"unknown type":        string(encodeSyncMsg(syncMsg{Type: "launch-missiles"})),
		"no type":             string(encodeSyncMsg(syncMsg{})),
		"JSON, the old codec": `{"type":"ready"}`,
		"type past the end":   "\x09ready",
		"error past the end":  "\x05ready\x40oops",
		"huge length":         "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01ready",
		"empty body":          ``,
	} {
		parent, child := syncPair(t)
		writeRaw(t, child, append(header(uint32(len(body))), body...))
		if m, err := parent.recv(); err == nil {
			t.Errorf("%s: accepted as %q", name, m.Type)
		}
	}
}

func TestSyncTruncated(t *testing.T) {
	cases := map[string][]byte{
		"truncated body":   append(header(100), encodeSyncMsg(syncMsg{Type: msgReady})...),
		"truncated header": {0, 0},
	}
	for name, raw := range cases {
		parent, child := syncPair(t)
		writeRaw(t, child, raw)
		child.f.Close()
		_, err := parent.recv()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: got %v, want io.ErrUnexpectedEOF", name, err)
		}
	}
	// A close between frames is a clean EOF (how a successful execve of
	// a close-on-exec socket looks).
	parent, child := syncPair(t)
	child.f.Close()
	if _, err := parent.recv(); err != io.EOF {
		t.Errorf("clean close: got %v, want io.EOF", err)
	}
}

func TestSyncFdPassing(t *testing.T) {
	parent, child := syncPair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := child.send(msgSeccompFd, nil, int(r.Fd())); err != nil {
		t.Fatal(err)
	}
	if _, err := parent.expect(msgSeccompFd); err != nil {
		t.Fatal(err)
	}
	fd, err := parent.takeFd()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if fd == int(r.Fd()) {
		t.Fatal("received the sender's own fd number: not passed")
	}
	// It is the same pipe, and arrived close-on-exec.
	if _, err := w.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if n, err := unix.Read(fd, buf); err != nil || string(buf[:n]) != "hi" {
		t.Errorf("read through passed fd: %q, %v", buf[:n], err)
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("passed fd is not close-on-exec (flags %#x, %v)", flags, err)
	}
	// takeFd consumed it; a frame without an fd has nothing to take.
	if err := child.send(msgReady, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := parent.expect(msgReady); err != nil {
		t.Fatal(err)
	}
	if fd, err := parent.takeFd(); err == nil {
		t.Errorf("takeFd without a passed fd returned %d", fd)
	}
}

// msgCgroupJoin carries one "tasks" fd per v1 hierarchy: every fd of a
// frame must arrive, in order, and takeFds must hand them all over once.
func TestSyncManyFds(t *testing.T) {
	parent, child := syncPair(t)
	var writers []*os.File
	var fds []int
	for i := 0; i < 10; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		writers = append(writers, w)
		fds = append(fds, int(r.Fd()))
	}
	if err := parent.send(msgCgroupJoin, nil, fds...); err != nil {
		t.Fatal(err)
	}
	if _, err := child.expect(msgCgroupJoin); err != nil {
		t.Fatal(err)
	}
	got := child.takeFds()
	if len(got) != len(fds) {
		t.Fatalf("got %d fds, want %d", len(got), len(fds))
	}
	for i, fd := range got {
		defer unix.Close(fd)
		if _, err := writers[i].Write([]byte{byte('a' + i)}); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1)
		if n, err := unix.Read(fd, buf); err != nil || n != 1 || buf[0] != byte('a'+i) {
			t.Errorf("fd %d: read %q, %v: not the %dth pipe", i, buf[:n], err, i)
		}
	}
	if rest := child.takeFds(); len(rest) != 0 {
		t.Errorf("takeFds twice: second call returned %v", rest)
	}
	tooMany := make([]int, maxSyncFds+1)
	for i := range tooMany {
		tooMany[i] = fds[0]
	}
	if err := parent.send(msgCgroupJoin, nil, tooMany...); err == nil {
		t.Errorf("sending %d fds in one frame succeeded, want a refusal", len(tooMany))
	}
}

func TestChildFailure(t *testing.T) {
	sendErr := errors.New("send cgroup to container process: broken pipe")
	parent, child := syncPair(t)
	if err := child.sendError(errors.New("apparmor profile \"x\" requested but AppArmor is not enabled")); err != nil {
		t.Fatal(err)
	}
	child.Close()
	if got := rt(parent).failure(sendErr); !isChildError(got) || !strings.Contains(got.Error(), "AppArmor") {
		t.Errorf("with an error frame waiting: got %v, want the child's message", got)
	}
	parent2, child2 := syncPair(t)
	child2.Close()
	if got := rt(parent2).failure(sendErr); got != sendErr {
		t.Errorf("without an error frame: got %v, want the send error", got)
	}
}

func TestAwaitExecve(t *testing.T) {
	parent, child := syncPair(t)
	child.Close() // what execve of a close-on-exec socket looks like
	if err := rt(parent).awaitExecve(); err != nil {
		t.Errorf("EOF: got %v, want success", err)
	}
	parent, child = syncPair(t)
	if err := child.sendError(errors.New("startContainer hook: exit status 3")); err != nil {
		t.Fatal(err)
	}
	if err := rt(parent).awaitExecve(); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("error frame: got %v", err)
	}
	parent, child = syncPair(t)
	if err := child.send(msgReady, nil); err != nil {
		t.Fatal(err)
	}
	if err := rt(parent).awaitExecve(); err == nil || !strings.Contains(err.Error(), "unexpected") {
		t.Errorf("stray frame: got %v", err)
	}
}

// rt is the runtime's end of a test socket.
func rt(c *syncConn) *runtimeEnd { return &runtimeEnd{syncConn: c, who: "init"} }

// TestInitConfigOnWire: the config reaches the container process exactly
// as a JSON round trip delivered it before (wire.Marshal's rules), with
// every field of initConfig and the spec set, and with them all empty.
func TestInitConfigOnWire(t *testing.T) {
	for _, full := range []bool{true, false} {
		for _, str := range []string{"/a b", "bad \xff utf-8"} {
			var cfg initConfig
			wiretest.Fill(reflect.ValueOf(&cfg).Elem(), full, str)
			wiretest.SameAsJSON(t, &cfg)
			req := mountSourceRequest{Index: 3}
			wiretest.SameAsJSON(t, &req)
		}
	}
	wiretest.SameAsJSON(t, &initConfig{})
}

// An error frame carries whether the process already showed the error
// on its stderr (run does not repeat an init's failed execve).
func TestErrorFrameShown(t *testing.T) {
	for _, shown := range []bool{false, true} {
		m, err := decodeSyncMsg(encodeSyncMsg(syncMsg{Type: msgError, Error: "exec /x: no such file or directory", Shown: shown}))
		if err != nil || m.Type != msgError || m.Error != "exec /x: no such file or directory" || m.Shown != shown || m.Payload != nil {
			t.Errorf("shown %t: %+v, %v", shown, m, err)
		}
	}
	if _, err := decodeSyncMsg(encodeSyncMsg(syncMsg{Type: msgError, Error: "x"})[:7]); err == nil {
		t.Error("an error frame without its shown byte decoded")
	}
	var se *shownError
	if !errors.As(fmt.Errorf("wrapped: %w", &shownError{errors.New("e")}), &se) {
		t.Error("shownError not found through wrapping")
	}
}

// The frame body's bytes: type and error as wire strings (uvarint length,
// bytes kept as they are, even when not UTF-8), then the shown byte or the
// payload. Pinned so that a change to the shared string codec shows here.
func TestSyncMsgFormat(t *testing.T) {
	for want, m := range map[string]syncMsg{
		"\x05ready\x00":                 {Type: msgReady},
		"\x06config\x00\x02id":          {Type: msgConfig, Payload: []byte{2, 'i', 'd'}},
		"\x05error\x06bad \xff\xfe\x01": {Type: msgError, Error: "bad \xff\xfe", Shown: true},
		"\x05error\x00\x00":             {Type: msgError},
		"\x03log\x0bstep config":        {Type: msgLog, Error: "step config"},
	} {
		got := encodeSyncMsg(m)
		if string(got) != want {
			t.Errorf("%+v: encoded %q, want %q", m, got, want)
			continue
		}
		back, err := decodeSyncMsg(got)
		if err != nil || back.Type != m.Type || back.Error != m.Error || back.Shown != m.Shown || string(back.Payload) != string(m.Payload) {
			t.Errorf("%q: decoded %+v, %v", want, back, err)
		}
	}
}
