//go:build !linux || !cgo

// Package sigrelay catches signals for a channel. Without cgo it is
// os/signal.Notify.
package sigrelay

import (
	"os"
	"os/signal"
)

// Notify relays sigs to ch through os/signal.
func Notify(ch chan<- os.Signal, sigs ...os.Signal) error {
	signal.Notify(ch, sigs...)
	return nil
}
