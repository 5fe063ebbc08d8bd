//go:build linux && cgo

// Package hugeheap lets the first chunks of the Go heap be backed by huge
// pages, so that a short-lived berth command takes a few page faults for its
// heap instead of hundreds. Importing it is all there is to it; hugeheap.c
// says how and why. A process that lives on calls Release.
package hugeheap

// #cgo LDFLAGS: -Wl,--wrap=mmap
// #include <stddef.h>
// int berth_hugeheap_release(void);
// size_t berth_hugeheap_advised(void);
import "C"

// Release stops huge pages for the heap from here on (MADV_NOHUGEPAGE on the
// chunks that were advised): the ones already faulted stay, and khugepaged
// never fills the rest of a long-lived process's heap. It returns how many
// ranges it marked.
func Release() int { return int(C.berth_hugeheap_release()) }

// advised returns how many bytes of the heap were marked for huge pages.
func advised() uintptr { return uintptr(C.berth_hugeheap_advised()) }
