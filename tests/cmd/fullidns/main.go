// Command fullidns is a test helper that runs a command in a new user
// namespace whose uid and gid maps are the full identity, "0 0
// 4294967295": the same map as the initial user namespace's, in a
// namespace that is not it (as systemd's PrivateUsers=full makes).
// util-linux's unshare cannot write that map (its count does not parse).
//
//	fullidns COMMAND [ARG...]
//
// It exits with the command's status.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fullidns COMMAND [ARG...]")
		os.Exit(2)
	}
	full := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1<<32 - 1}}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER,
		UidMappings:                full,
		GidMappings:                full,
		GidMappingsEnableSetgroups: true,
	}
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.ExitCode())
	case err != nil:
		fmt.Fprintln(os.Stderr, "fullidns:", err)
		os.Exit(127)
	}
}
