// Command recvtty is a test helper that plays the receiving end of a
// runtime's console socket: it accepts one connection on a unix socket,
// receives the container's pty master, and relays it.
//
//	recvtty [-mode single|null] [-pid-file F] [-no-stdin] SOCKET_PATH
//
// In single mode the master's output is copied to stdout and stdin to the
// master until the container's side of the terminal is gone; recvtty then
// exits 0. In null mode output is read and discarded until SIGTERM or
// SIGINT, for detached containers whose output nobody watches.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/utils"
	"github.com/berth-runtime/berth/tests/cmd/internal/sockready"
)

type options struct {
	mode       string
	pidFile    string
	noStdin    bool
	socketPath string
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "recvtty:", err)
		os.Exit(1)
	}
}

func parseArgs(args []string) (*options, error) {
	var opts options
	fs := flag.NewFlagSet("recvtty", flag.ContinueOnError)
	fs.StringVar(&opts.mode, "mode", "single", "single: relay one terminal until it closes; null: discard output until SIGTERM")
	fs.StringVar(&opts.pidFile, "pid-file", "", "write recvtty's pid here once the socket is listening")
	fs.BoolVar(&opts.noStdin, "no-stdin", false, "do not copy stdin to the terminal")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: recvtty [-mode single|null] [-pid-file F] [-no-stdin] SOCKET_PATH")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, errors.New("need exactly one SOCKET_PATH")
	}
	opts.socketPath = fs.Arg(0)
	if opts.mode != "single" && opts.mode != "null" {
		return nil, fmt.Errorf("unknown mode %q (want single or null)", opts.mode)
	}
	return &opts, nil
}

func run(args []string) error {
	opts, err := parseArgs(args)
	if err != nil {
		return err
	}
	// Subscribe early so a SIGTERM that arrives while waiting for the
	// runtime to connect still ends us cleanly.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, unix.SIGTERM, unix.SIGINT)

	master, err := receiveMaster(opts)
	if err != nil {
		return err
	}
	defer master.Close()

	switch opts.mode {
	case "null":
		go func() { _, _ = io.Copy(io.Discard, master) }()
		<-stop
		return nil
	default:
		if !opts.noStdin {
			go func() { _, _ = io.Copy(master, os.Stdin) }()
		}
		done := make(chan error, 1)
		go func() {
			_, err := io.Copy(os.Stdout, master)
			done <- err
		}()
		select {
		case err := <-done:
			// EIO is how a pty master reports that every peer fd is closed.
			if err != nil && !errors.Is(err, unix.EIO) {
				return fmt.Errorf("copy from %s: %w", master.Name(), err)
			}
			return nil
		case <-stop:
			return nil
		}
	}
}

// receiveMaster listens on opts.socketPath, writes the pid file, accepts one
// connection and receives the pty master from it.
func receiveMaster(opts *options) (*os.File, error) {
	ln, err := sockready.Listen(opts.socketPath)
	if err != nil {
		return nil, err
	}
	defer ln.Close() // also removes the socket file

	// The pid file doubles as a readiness signal: the socket accepts
	// connections from here on.
	if opts.pidFile != "" {
		if err := utils.WriteFileAtomic(opts.pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return nil, err
		}
	}

	conn, err := ln.AcceptUnix()
	if err != nil {
		return nil, fmt.Errorf("accept on %s: %w", opts.socketPath, err)
	}
	defer conn.Close()
	sock, err := conn.File()
	if err != nil {
		return nil, fmt.Errorf("accept on %s: %w", opts.socketPath, err)
	}
	defer sock.Close()
	master, err := utils.RecvFile(sock)
	if err != nil {
		return nil, err
	}
	return master, nil
}
