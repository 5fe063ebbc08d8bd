//go:build linux && cgo

// Package sigrelay catches signals for channels, as os/signal.Notify
// does, at a fraction of its cost. os/signal enables each signal with a
// round trip to a goroutine the runtime keeps locked to a thread of its
// own (so that one thread always has the signal unblocked): two hand-offs
// of the processor and their context switches per signal, which for the
// fifteen signals a foreground run forwards came to about a millisecond
// of CPU, a sizeable part of a whole `berth run`. Here a C handler takes
// the signals instead (sigrelay.c) and writes each to a pipe; a goroutine
// reads the pipe, through the runtime's poller, and sends to the channels.
//
// The signals given to Notify stop reaching the Go runtime: nothing else
// in the process may use them through os/signal.
package sigrelay

// int berth_sigrelay_install(int fd, const int *sigs, int n);
import "C"

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// relay is the process's one pipe and the channels each signal goes to.
var relay struct {
	sync.Mutex
	w     int // the pipe's write end, which the handler writes; -1 before the first Notify
	chans map[syscall.Signal][]chan<- os.Signal
}

func init() { relay.w = -1 }

// Notify relays sigs, which must be signal numbers (syscall.Signal), to
// ch, added to the channels they already go to. Like os/signal it never
// blocks on ch: a signal that finds ch full is dropped.
func Notify(ch chan<- os.Signal, sigs ...os.Signal) error {
	nums := make([]syscall.Signal, 0, len(sigs))
	for _, s := range sigs {
		n, ok := s.(syscall.Signal)
		if !ok || n <= 0 || n > 64 {
			return fmt.Errorf("sigrelay: cannot relay signal %v", s)
		}
		nums = append(nums, n)
	}
	relay.Lock()
	defer relay.Unlock()
	if relay.w < 0 {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
			return fmt.Errorf("sigrelay: pipe: %w", err)
		}
		// The write end stays open for the life of the process: the
		// handler may run at any time.
		relay.w = p[1]
		relay.chans = make(map[syscall.Signal][]chan<- os.Signal)
		go deliver(os.NewFile(uintptr(p[0]), "sigrelay"))
	}
	var install []C.int
	for _, n := range nums {
		if len(relay.chans[n]) == 0 {
			install = append(install, C.int(n))
		}
		relay.chans[n] = append(relay.chans[n], ch)
	}
	if len(install) > 0 {
		if bad := C.berth_sigrelay_install(C.int(relay.w), (*C.int)(unsafe.Pointer(&install[0])), C.int(len(install))); bad != 0 {
			return fmt.Errorf("sigrelay: install the handler of %v", syscall.Signal(bad))
		}
	}
	return nil
}

// deliver reads the pipe and passes each signal on.
func deliver(r *os.File) {
	buf := make([]byte, 64)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			relay.Lock()
			chans := relay.chans[syscall.Signal(b)]
			relay.Unlock()
			for _, ch := range chans {
				select {
				case ch <- syscall.Signal(b):
				default:
				}
			}
		}
		if err != nil {
			return
		}
	}
}
