package libcontainer

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resetIgnoredHupInt gives SIGHUP and SIGINT their default action when
// they are ignored, just before a Go init or Go exec process execve's its
// program. A runtime started with them ignored (a shell's background job)
// hands that on to the process it forks, and the Go runtime keeps an
// inherited SIG_IGN for exactly these two, where runc, crun and berth's
// direct init leave the container's program with their default action;
// other ignored signals are inherited alike under all of them.
func resetIgnoredHupInt() error {
	// The kernel's struct sigaction begins with the handler on every
	// architecture; all zeroes is SIG_DFL, no flags, an empty mask.
	var old, dfl [4]uint64
	for _, sig := range []unix.Signal{unix.SIGHUP, unix.SIGINT} {
		if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&old[0])), 8, 0, 0); e != 0 {
			return fmt.Errorf("rt_sigaction %v: %w", sig, e)
		}
		if old[0] != 1 { // SIG_IGN
			continue
		}
		if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl[0])), 0, 8, 0, 0); e != 0 {
			return fmt.Errorf("rt_sigaction %v: %w", sig, e)
		}
	}
	return nil
}
