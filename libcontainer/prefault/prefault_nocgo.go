//go:build !linux || !cgo

package prefault

// EnvOff, set to "off", leaves the binary to fault in page by page; without
// cgo there is no constructor, and it always does.
const EnvOff = "BERTH_PREFAULT"
