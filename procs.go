package main

import "runtime"

// Every berth process is short-lived and mostly waits on system calls, so
// one P is enough, and it keeps the Go runtime from doing work a second
// P costs: with an idle P beside one blocked in a system call, sysmon
// polls every 20-40 µs (a context switch each) instead of parking, and
// goroutines that become runnable start extra threads (a clone, a stack
// and their page faults each). The container's init gets GOMAXPROCS=1 in
// its environment instead (see startProcess), which takes effect before
// its scheduler starts; here, in the runtime, it can only be set after.
func init() { runtime.GOMAXPROCS(1) }
