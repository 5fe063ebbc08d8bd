package configs

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// RlimitResource parses an OCI rlimit type such as "RLIMIT_NOFILE". A
// switch, not a package-level map: nothing to build at start-up.
func RlimitResource(name string) (int, error) {
	switch name {
	case "RLIMIT_AS":
		return unix.RLIMIT_AS, nil
	case "RLIMIT_CORE":
		return unix.RLIMIT_CORE, nil
	case "RLIMIT_CPU":
		return unix.RLIMIT_CPU, nil
	case "RLIMIT_DATA":
		return unix.RLIMIT_DATA, nil
	case "RLIMIT_FSIZE":
		return unix.RLIMIT_FSIZE, nil
	case "RLIMIT_LOCKS":
		return unix.RLIMIT_LOCKS, nil
	case "RLIMIT_MEMLOCK":
		return unix.RLIMIT_MEMLOCK, nil
	case "RLIMIT_MSGQUEUE":
		return unix.RLIMIT_MSGQUEUE, nil
	case "RLIMIT_NICE":
		return unix.RLIMIT_NICE, nil
	case "RLIMIT_NOFILE":
		return unix.RLIMIT_NOFILE, nil
	case "RLIMIT_NPROC":
		return unix.RLIMIT_NPROC, nil
	case "RLIMIT_RSS":
		return unix.RLIMIT_RSS, nil
	case "RLIMIT_RTPRIO":
		return unix.RLIMIT_RTPRIO, nil
	case "RLIMIT_RTTIME":
		return unix.RLIMIT_RTTIME, nil
	case "RLIMIT_SIGPENDING":
		return unix.RLIMIT_SIGPENDING, nil
	case "RLIMIT_STACK":
		return unix.RLIMIT_STACK, nil
	}
	return 0, fmt.Errorf("process.rlimits: unknown rlimit type %q", name)
}
