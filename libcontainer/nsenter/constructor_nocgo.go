//go:build linux && !cgo

package nsenter

// Without cgo there is no constructor: a child started by Start would run
// without ever reading its request, so Start refuses.
const haveConstructor = false
