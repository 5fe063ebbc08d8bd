//go:build linux && cgo

// Package threadslack gives the Go runtime's sysmon thread a timer slack, so
// that a short-lived berth command is not woken every 20 µs by it. Importing
// it is all there is to it: threadslack.c says how and why.
package threadslack

// #cgo LDFLAGS: -Wl,--wrap=pthread_create
// unsigned long berth_sysmon_slack(void);
// unsigned long berth_sysmon_children(void);
import "C"

// SysmonSlack is the timer slack, in nanoseconds, that sysmon runs with.
func SysmonSlack() uint64 { return uint64(C.berth_sysmon_slack()) }

// sysmonChildren counts the threads sysmon has made, which the wrapper set
// back to the process's slack.
func sysmonChildren() uint64 { return uint64(C.berth_sysmon_children()) }
