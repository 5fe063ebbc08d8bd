package console

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitReturns runs wait and fails the test if it does not return promptly.
func waitReturns(t *testing.T, wait func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return")
		return nil
	}
}

func termios(t *testing.T, f *os.File) *unix.Termios {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio
}

// TestRelayTerminal plays the user's terminal with a second pty: its peer is
// the relay's stdin and stdout, its master is the "keyboard and screen".
func TestRelayTerminal(t *testing.T) {
	ctrMaster, ctrPeer := newTestPty(t)
	userMaster, userTerm := newTestPty(t)
	if err := Resize(userMaster, 100, 30); err != nil {
		t.Fatal(err)
	}
	before := termios(t, userTerm)
	if before.Lflag&unix.ICANON == 0 || before.Lflag&unix.ECHO == 0 {
		t.Fatal("fresh pty is not in canonical mode with echo")
	}

	relay, err := StartRelay(ctrMaster, userTerm, userTerm)
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()

	raw := termios(t, userTerm)
	if raw.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 {
		t.Errorf("user terminal not raw: lflag %#x", raw.Lflag)
	}
	if w, h := winsize(t, ctrPeer); w != 100 || h != 30 {
		t.Errorf("container terminal size = %dx%d, want the user's 100x30", w, h)
	}

	// The user's window changes and SIGWINCH arrives.
	if err := Resize(userMaster, 132, 50); err != nil {
		t.Fatal(err)
	}
	if err := unix.Kill(os.Getpid(), unix.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "resize to follow SIGWINCH", func() bool {
		w, h := winsize(t, ctrPeer)
		return w == 132 && h == 50
	})

	screen, ctrIn := pollable(t, userMaster), pollable(t, ctrPeer)
	// Container output reaches the user's screen. containerd/console's raw
	// mode keeps output processing (so the runtime's own messages still
	// render), hence a CR from each terminal's ONLCR.
	if _, err := ctrPeer.Write([]byte("out\n")); err != nil {
		t.Fatal(err)
	}
	if got := readUntil(t, screen, "\n"); got != "out\r\r\n" {
		t.Errorf("screen shows %q, want %q", got, "out\r\r\n")
	}
	// Keystrokes reach the container, with no echo from the raw user side
	// (the echo comes from the container's own terminal instead).
	if _, err := userMaster.Write([]byte("ls\n")); err != nil {
		t.Fatal(err)
	}
	if got := readUntil(t, ctrIn, "\n"); got != "ls\n" {
		t.Errorf("container read %q, want %q", got, "ls\n")
	}
	if got := readUntil(t, screen, "\n"); got != "ls\r\r\n" {
		t.Errorf("screen echo %q, want the container's echo %q", got, "ls\r\r\n")
	}

	// Output written just before the container's side closes is not lost.
	if _, err := ctrPeer.Write([]byte("bye\n")); err != nil {
		t.Fatal(err)
	}
	ctrIn.Close()
	ctrPeer.Close()
	if err := waitReturns(t, relay.Wait); err != nil {
		t.Errorf("Wait = %v, want nil at end of output", err)
	}
	if got := readUntil(t, screen, "bye"); !strings.Contains(got, "bye") {
		t.Errorf("screen shows %q", got)
	}

	if err := relay.Close(); err != nil {
		t.Fatal(err)
	}
	after := termios(t, userTerm)
	if *after != *before {
		t.Errorf("terminal not restored: %+v, want %+v", after, before)
	}
	if err := relay.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// syncBuffer is a goroutine-safe strings.Builder.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRelayWithoutTerminal(t *testing.T) {
	ctrMaster, ctrPeer := newTestPty(t)
	var stdout syncBuffer
	relay, err := StartRelay(ctrMaster, strings.NewReader("piped\n"), &stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()

	ctrIn := pollable(t, ctrPeer)
	if got := readUntil(t, ctrIn, "\n"); got != "piped\n" {
		t.Errorf("container read %q, want %q", got, "piped\n")
	}
	if _, err := ctrPeer.Write([]byte("result\n")); err != nil {
		t.Fatal(err)
	}
	ctrIn.Close()
	ctrPeer.Close()
	if err := waitReturns(t, relay.Wait); err != nil {
		t.Errorf("Wait = %v", err)
	}
	// The container terminal echoes the piped input, then prints its result.
	if got, want := stdout.String(), "piped\r\nresult\r\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestRelayPipes(t *testing.T) {
	ctrMaster, ctrPeer := newTestPty(t)
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinR.Close()
	defer stdinW.Close()
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdoutR.Close()
	defer stdoutW.Close()

	relay, err := StartRelay(ctrMaster, stdinR, stdoutW)
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()

	if _, err := stdinW.Write([]byte("abc\n")); err != nil {
		t.Fatal(err)
	}
	if got := readUntil(t, pollable(t, ctrPeer), "\n"); got != "abc\n" {
		t.Errorf("container read %q", got)
	}
	if _, err := ctrPeer.Write([]byte("xyz\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, stdoutR, "xyz\r\n")
}

// Close must end Wait even while the container still holds its terminal.
func TestRelayCloseInterruptsWait(t *testing.T) {
	ctrMaster, _ := newTestPty(t)
	var stdout syncBuffer
	relay, err := StartRelay(ctrMaster, nil, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = relay.Wait()
	}()
	select {
	case <-done:
		t.Fatal("Wait returned while the peer is still open")
	case <-time.After(100 * time.Millisecond):
	}
	if err := relay.Close(); err != nil {
		t.Fatal(err)
	}
	if err := waitReturns(t, relay.Wait); err != nil {
		t.Errorf("Wait after Close = %v", err)
	}
	// The caller's master is still usable for ioctls.
	if err := Resize(ctrMaster, 10, 10); err != nil {
		t.Errorf("caller's master after Close: %v", err)
	}
}
