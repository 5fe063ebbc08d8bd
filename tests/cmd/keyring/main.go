// Command keyring is a test helper for session keyrings (keyrings(7)),
// with no other dependency than the kernel (static: it runs in the
// busybox container too).
//
//	keyring show
//	keyring join NAME COMMAND [ARG...]
//
// show prints the serial of the calling process's session keyring and its
// description ("SERIAL keyring;UID;GID;PERM;NAME", KEYCTL_DESCRIBE), or
// "none" when it has none; it never makes one. join makes the process join (or create) the
// session keyring NAME and then executes COMMAND in it: a caller whose
// session keyring the test knows by name.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

func main() {
	// A session keyring is the calling thread's (its cred): join and
	// execve must run on the one thread, or the program executed keeps
	// another thread's session keyring (a CI run saw berth started
	// without the joined one, so init showed the user session keyring).
	runtime.LockOSThread()
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "keyring:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 1 && args[0] == "show":
		id, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
		if errors.Is(err, unix.ENOKEY) {
			fmt.Println("none")
			return nil
		}
		if err != nil {
			return fmt.Errorf("get session keyring: %w", err)
		}
		desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
		if err != nil {
			return fmt.Errorf("describe keyring %d: %w", id, err)
		}
		fmt.Println(id, desc)
		return nil
	case len(args) >= 3 && args[0] == "join":
		if _, err := unix.KeyctlJoinSessionKeyring(args[1]); err != nil {
			return fmt.Errorf("join session keyring %q: %w", args[1], err)
		}
		path, err := exec.LookPath(args[2])
		if err != nil {
			return err
		}
		return unix.Exec(path, args[2:], os.Environ())
	}
	return errors.New("usage: keyring show | keyring join NAME COMMAND [ARG...]")
}
