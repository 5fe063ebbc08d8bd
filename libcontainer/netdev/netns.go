package netdev

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// InNetNS runs f on a thread that enters the network namespace nsFd
// refers to; what names the caller's step in the error of entering it.
// The thread is never unlocked, so it ends with its goroutine and no
// thread of the runtime is left in the container's namespace.
func InNetNS(nsFd int, what string, f func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(nsFd, unix.CLONE_NEWNET); err != nil {
			ch <- fmt.Errorf("%s: enter the container's network namespace: %w", what, err)
			return
		}
		ch <- f()
	}()
	return <-ch
}
