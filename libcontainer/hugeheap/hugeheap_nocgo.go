//go:build linux && !cgo

// Package hugeheap lets the first chunks of the Go heap be backed by huge
// pages. Without cgo the runtime maps its memory with mmap(2) itself, and
// there is nothing to wrap: the heap keeps the kernel's default.
package hugeheap

// Release does nothing without cgo.
func Release() int { return 0 }

func advised() uintptr { return 0 }
