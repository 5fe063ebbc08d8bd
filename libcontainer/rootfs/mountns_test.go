package rootfs

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// inPrivateMountNS runs f on a thread of its own in a new mount namespace
// with every mount private, and returns its error. The thread ends with
// f: nothing of the namespace outlives it.
func inPrivateMountNS(f func() error) error {
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
			done <- fmt.Errorf("unshare: %w", err)
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			done <- fmt.Errorf("make / private: %w", err)
			return
		}
		done <- f()
	}()
	return <-done
}
