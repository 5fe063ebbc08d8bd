package main

import (
	"fmt"
	"os"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer"
	"github.com/berth-runtime/berth/libcontainer/console"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// terminalSink is where a container process's pty master goes: the
// client's --console-socket, or, for a foreground run/exec, one end of a
// socketpair whose other end berth reads to relay the terminal itself.
type terminalSink struct {
	// child is the end handed to the container process.
	child *os.File
	// local is berth's end when berth relays the terminal itself.
	local  *os.File
	master *os.File
	relayR *console.Relay
}

// open prepares the console socket for a process with a terminal and
// sets it in opts. Without a terminal it does nothing.
func (t *terminalSink) open(opts *libcontainer.ExecOpts, tty bool, consolePath string) error {
	if !tty {
		return nil
	}
	if consolePath != "" {
		sock, err := dialConsoleSocket(consolePath)
		if err != nil {
			return err
		}
		t.child = sock
	} else {
		if err := t.openLocal(); err != nil {
			return err
		}
		opts.RelayConsole = true
	}
	opts.ConsoleSocket = t.child
	return nil
}

// userTerminalSize is the size of berth's own terminal (stdin, else
// stdout), or nil when neither is a terminal.
func userTerminalSize() *specs.Box {
	for _, f := range []*os.File{os.Stdin, os.Stdout} {
		ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
		if err == nil && ws.Row > 0 && ws.Col > 0 {
			return &specs.Box{Height: uint(ws.Row), Width: uint(ws.Col)}
		}
	}
	return nil
}

// openLocal makes the socketpair for a relay by berth itself.
func (t *terminalSink) openLocal() error {
	local, child, err := utils.NewSockPair("console")
	if err != nil {
		return fmt.Errorf("console socketpair: %w", err)
	}
	t.local, t.child = local, child
	return nil
}

// started drops berth's copy of the container's end once the process
// holds its own: if the process dies before sending the master, reading
// the local end then sees EOF instead of blocking.
func (t *terminalSink) started() {
	if t.child != nil {
		t.child.Close()
		t.child = nil
	}
}

// relay receives the pty master and starts relaying it to berth's own
// stdin and stdout (raw mode, window size, SIGWINCH). Without a local end
// there is nothing to do.
func (t *terminalSink) relay() error {
	if t.local == nil || t.master != nil {
		return nil
	}
	master, err := utils.RecvFile(t.local)
	if err != nil {
		return fmt.Errorf("receive pty master: %w", err)
	}
	t.master = master
	r, err := console.StartRelay(master, os.Stdin, os.Stdout)
	if err != nil {
		return err
	}
	t.relayR = r
	return nil
}

// drain waits briefly for the last output once the process has exited:
// a background process still holding the terminal must not keep berth
// running.
func (t *terminalSink) drain() {
	if t.relayR == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		t.relayR.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
}

// close stops the relay, restores the user's terminal and closes every
// end still open.
func (t *terminalSink) close() {
	if t.relayR != nil {
		t.relayR.Close()
	}
	for _, f := range []*os.File{t.child, t.local, t.master} {
		if f != nil {
			f.Close()
		}
	}
}
