package main

import (
	"fmt"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// pageCost measures what this machine charges for a page a process
// touches for the first time: a private anonymous mapping of pages pages,
// each written once, on a locked thread; the median of rounds. The work
// table counts page faults, and a fault's price is what differs most
// between machines (a paravirtualised guest pays microseconds per fault,
// where bare metal pays a fraction of one), so the same counts give
// different wall-time ratios on different machines.
func pageCost(rounds, pages int) (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	page := unix.Getpagesize()
	size := pages * page
	per := make([]time.Duration, 0, rounds)
	for r := 0; r < rounds; r++ {
		mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			return 0, fmt.Errorf("mmap %d bytes: %w", size, err)
		}
		start := time.Now()
		for i := 0; i < size; i += page {
			mem[i] = 1
		}
		per = append(per, time.Since(start)/time.Duration(pages))
		if err := unix.Munmap(mem); err != nil {
			return 0, fmt.Errorf("munmap: %w", err)
		}
	}
	slices.Sort(per)
	return per[len(per)/2], nil
}

// printPageCost is -page-cost: one line for the bench's header.
func printPageCost() error {
	const rounds, pages = 9, 1024
	d, err := pageCost(rounds, pages)
	if err != nil {
		return err
	}
	fmt.Printf("%.2f µs per first touch of an anonymous page (median of %d rounds of %d pages)\n",
		float64(d)/float64(time.Microsecond), rounds, pages)
	return nil
}
