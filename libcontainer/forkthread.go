package libcontainer

import "runtime"

// forkThread is a thread kept for the processes it forks. A child started
// with a parent-death signal (init until it is ready, an exec process
// until its execve) gets it when the thread that forked it exits, and Go
// ends a thread whenever a goroutine that locked it returns (the rootfs
// thread, the network namespace made ahead): the fork must come from a
// thread no such goroutine can run on, until the child no longer has the
// signal. Create and Exec once locked their own goroutine for that, for
// their whole run; but every wait of a locked goroutine hands its
// processor over and back, two context switches and a wake-up each, and
// those commands wait many times. Here only the fork, and what must
// happen on the forking thread around it (the initial CPU affinity), runs
// on the locked thread, which then idles until release.
//
//	caller                 forkThread's goroutine (locked)
//	newForkThread   --->   lock the thread, wait
//	do(f)           --->   f()   (the clone)
//	                <---   done
//	...                    waits, locked: no other goroutine runs here
//	release         --->   unlock, return: the thread goes back to Go
type forkThread struct {
	jobs chan func()
	done chan struct{}
}

func newForkThread() *forkThread {
	t := &forkThread{jobs: make(chan func()), done: make(chan struct{})}
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for f := range t.jobs {
			f()
			t.done <- struct{}{}
		}
	}()
	return t
}

// do runs f on the thread and returns when it is done.
func (t *forkThread) do(f func()) {
	t.jobs <- f
	<-t.done
}

// release lets the thread go once every child it forked is past its
// parent-death signal (or gone).
func (t *forkThread) release() { close(t.jobs) }
