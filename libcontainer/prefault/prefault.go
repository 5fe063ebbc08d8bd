//go:build linux && cgo

// Package prefault maps the running binary's code, read-only data and
// initialised data into the process in a call each, from a C constructor
// that runs before the Go runtime starts.
//
// berth is a static binary of 8 MiB: 3.7 MiB of code and 4.2 MiB of
// read-only data (its Go function tables among it). A command runs code
// spread over nearly all of it, and each first touch of a 64 KiB window
// (the kernel's fault-around) is a page fault. A fault is an exception,
// and on a virtualised host an expensive one: touching every window of
// berth's file here costs ~3 ms, where one madvise(MADV_POPULATE_READ)
// of the same 8 MiB, already in the page cache, costs ~0.2 ms. The
// pages are the page cache's, shared by every berth process; what grows
// is only what each process maps (its RSS counts them). The initialised
// data (past RELRO), which the Go runtime writes as it starts, is copied
// in one call too (MADV_POPULATE_WRITE), and so is the first part of the
// zeroed data (bss), where the variables the runtime writes as it
// starts lie (prefault.c); the rest of the bss and the heap are left
// alone: what is never written costs nothing.
//
// Importing the package is what links the constructor in (main does).
// BERTH_PREFAULT=off turns it off, for measurements and tests.
package prefault

// #cgo CFLAGS: -Wall -Wextra -O2
// #include <stddef.h>
// size_t berth_prefault_populated(void);
// size_t berth_prefault_bss_hot(void);
import "C"

// EnvOff, set to "off", leaves the binary to fault in page by page.
const EnvOff = "BERTH_PREFAULT"

// populated returns how many bytes the constructor populated.
func populated() uint64 { return uint64(C.berth_prefault_populated()) }

// bssHot returns how much of the zeroed data the constructor populates.
func bssHot() int { return int(C.berth_prefault_bss_hot()) }
