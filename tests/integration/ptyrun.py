#!/usr/bin/env python3
"""Runs a command on a new pty (window 33 rows x 97 cols), prints what it
wrote to the terminal (Python repr) and exits with its exit status. Used
to drive a foreground run/exec that relays a terminal itself. With
PTY_INPUT set, that text is typed once the output shows "ready"."""
import fcntl
import os
import pty
import struct
import sys
import termios

pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 97, 0, 0))
out = b""
pending = os.environ.get("PTY_INPUT", "").encode()
while True:
    if pending and b"ready" in out:
        os.write(fd, pending)
        pending = b""
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
_, status = os.waitpid(pid, 0)
print(repr(out))
sys.exit(os.waitstatus_to_exitcode(status))
