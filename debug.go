package main

import (
	"path"
	"runtime"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"
)

// --debug writes what berth does, at debug level, to stderr or --log in
// the chosen format. Every debug line is behind debugOn (one atomic
// load), so nothing of it is built, formatted or allocated on a run
// without --debug.

// debugOn reports whether --debug is set.
func debugOn() bool { return logrus.IsLevelEnabled(logrus.DebugLevel) }

// setCallerFormat makes the caller fields of debug lines short, as runc's:
// "func=main.runExec" and "file=exec.go:123", not full paths.
func setCallerFormat(f logrus.Formatter) {
	pretty := func(fr *runtime.Frame) (string, string) {
		fn := fr.Function
		if i := strings.LastIndex(fn, "/"); i >= 0 {
			fn = fn[i+1:]
		}
		return fn, path.Base(fr.File) + ":" + strconv.Itoa(fr.Line)
	}
	switch f := f.(type) {
	case *logrus.TextFormatter:
		f.CallerPrettyfier = pretty
	case *logrus.JSONFormatter:
		f.CallerPrettyfier = pretty
	}
}
