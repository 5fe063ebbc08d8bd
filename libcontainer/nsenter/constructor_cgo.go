//go:build linux && cgo

package nsenter

// The constructor lives in nsenter.c; importing "C" is what links it into
// every binary that imports this package.

// #cgo CFLAGS: -Wall -Wextra -O2
import "C"

// haveConstructor reports whether nsenter.c is linked in, that is whether a
// re-executed binary will act on _BERTH_NSENTER_FD at all.
const haveConstructor = true
