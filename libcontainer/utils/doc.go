// Package utils holds small file-descriptor and file helpers shared by the
// runtime: passing an fd over a unix socket (the console-socket protocol),
// atomic file replacement (pid files), socketpairs and fd hygiene.
package utils
