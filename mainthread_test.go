package main

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNoGoroutineOnMainThread: goroutines that lock their thread and end
// it in a container's namespaces (the network namespace made ahead, the
// direct init's rootfs thread) must never run on the main thread, which Go
// parks instead of ending (main.go's init keeps the main goroutine there).
// The test's main goroutine waits in testing's machinery meanwhile, so
// without that lock the main thread is free for them.
func TestNoGoroutineOnMainThread(t *testing.T) {
	for i := 0; i < 300; i++ {
		onMain := make(chan bool)
		go func() {
			runtime.LockOSThread() // ended with the goroutine, as theirs
			onMain <- unix.Gettid() == unix.Getpid()
		}()
		if <-onMain {
			t.Fatalf("goroutine %d ran on the main thread", i)
		}
	}
}
