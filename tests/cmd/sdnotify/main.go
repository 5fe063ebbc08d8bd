// Command sdnotify is a test helper for systemd's notify protocol
// (sd_notify(3)), both ends of it, with no other dependency than the
// kernel (static: it runs in the busybox container too).
//
//	sdnotify listen [-ready FILE] SOCKET OUT
//	sdnotify send MESSAGE
//
// listen plays systemd: it binds a datagram socket at SOCKET and appends
// each message it gets to OUT, a line "fds=N" after it when descriptors
// came with it, which it closes (that is BARRIER=1's acknowledgement).
// -ready FILE is created once it listens. It runs until killed.
// send plays a service: it sends MESSAGE to $NOTIFY_SOCKET.
package main

import (
	"flag"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "listen":
		listen(os.Args[2:])
	case "send":
		if len(os.Args) != 3 {
			usage()
		}
		send(os.Args[2])
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: sdnotify listen [-ready FILE] SOCKET OUT | sdnotify send MESSAGE")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sdnotify:", err)
	os.Exit(1)
}

func send(msg string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		fail(fmt.Errorf("NOTIFY_SOCKET is not set"))
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fail(err)
	}
	if err := unix.Sendmsg(fd, []byte(msg), nil, &unix.SockaddrUnix{Name: path}, 0); err != nil {
		fail(fmt.Errorf("send to %s: %w", path, err))
	}
}

func listen(args []string) {
	fs := flag.NewFlagSet("listen", flag.ExitOnError)
	ready := fs.String("ready", "", "file to create once listening")
	_ = fs.Parse(args)
	if fs.NArg() != 2 {
		usage()
	}
	sock, out := fs.Arg(0), fs.Arg(1)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fail(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: sock}); err != nil {
		fail(fmt.Errorf("bind %s: %w", sock, err))
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fail(err)
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, nil, 0o644); err != nil {
			fail(err)
		}
	}
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*16))
	for {
		n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			fail(err)
		}
		rec := string(buf[:n]) + "\n"
		var fds []int
		if oobn > 0 {
			msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err != nil {
				fail(err)
			}
			for _, m := range msgs {
				if got, err := unix.ParseUnixRights(&m); err == nil {
					fds = append(fds, got...)
				}
			}
			rec += fmt.Sprintf("fds=%d\n", len(fds))
		}
		if _, err := f.WriteString(rec); err != nil {
			fail(err)
		}
		for _, d := range fds {
			unix.Close(d)
		}
	}
}
