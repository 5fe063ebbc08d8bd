//go:build linux && !cgo

// Package threadslack gives the Go runtime's sysmon thread a timer slack.
// Without cgo the runtime makes its threads with clone(2) itself, and there is
// nothing to wrap: every thread keeps the process's slack.
package threadslack

// SysmonSlack is the timer slack, in nanoseconds, that sysmon runs with: none
// of its own without cgo.
func SysmonSlack() uint64 { return 0 }

func sysmonChildren() uint64 { return 0 }
