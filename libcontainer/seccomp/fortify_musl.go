//go:build musl

// fortify_musl.c, which a musl build (make build) links for libseccomp, is
// compiled only in a cgo package: the import below makes this one a cgo
// package on musl, and costs nothing at run time.

package seccomp

import "C"
