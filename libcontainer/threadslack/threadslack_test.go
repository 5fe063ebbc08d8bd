package threadslack

import (
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func readSlack(t *testing.T, tid int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/timerslack_ns")
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func threads(t *testing.T) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var tids []int
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		tids = append(tids, tid)
	}
	sort.Ints(tids)
	return tids
}

// makeSysmonStartThreads holds both Ps in blocking system calls while other
// goroutines are runnable, until sysmon has handed a P to a thread it made
// itself (it retakes a P from a system call only when there is work for it).
func makeSysmonStartThreads(t *testing.T) {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	deadline := time.Now().Add(10 * time.Second)
	for sysmonChildren() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("sysmon made no thread in 10 s")
		}
		var p [2]int
		if err := syscall.Pipe(p[:]); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var b [1]byte
				syscall.Read(p[0], b[:]) // blocking, holding its P
			}()
		}
		stop := make(chan struct{})
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
				}
			}()
		}
		time.Sleep(50 * time.Millisecond)
		close(stop)
		syscall.Write(p[1], make([]byte, 8))
		wg.Wait()
		syscall.Close(p[0])
		syscall.Close(p[1])
	}
}

// TestSlackOnSysmonOnly checks threadslack.c's table: the first thread the
// runtime made has the slack, every other thread (those sysmon made among
// them) has the process's own, and so do the processes they start.
func TestSlackOnSysmonOnly(t *testing.T) {
	want := SysmonSlack()
	if want == 0 {
		t.Skip("built without cgo: the runtime makes its own threads")
	}
	pid := os.Getpid()
	own := readSlack(t, pid)
	if own == want {
		t.Fatalf("the process's own slack is already %d ns: the test cannot tell them apart", want)
	}
	makeSysmonStartThreads(t)

	// A thread sysmon has just made runs with sysmon's slack from its clone
	// until its first instruction sets it back (it runs no Go code before
	// that), so a thread caught in that window is looked at again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		tids := threads(t)
		if len(tids) < 3 {
			t.Fatalf("threads %v: expected the main thread, sysmon and more", tids)
		}
		var slacked []int
		for _, tid := range tids {
			switch s := readSlack(t, tid); s {
			case want:
				slacked = append(slacked, tid)
			case own:
			default:
				t.Fatalf("thread %d: slack %d ns, neither sysmon's (%d) nor the process's (%d)", tid, s, want, own)
			}
		}
		// The first thread made after the main one has the lowest TID above it.
		if len(slacked) == 1 && slacked[0] == tids[1] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads with %d ns slack: %v; want only the first one made, %d (threads %v)", want, slacked, tids[1], tids)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Children started from many threads: none inherits sysmon's slack.
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			out, err := exec.Command("cat", "/proc/self/timerslack_ns").Output()
			if err != nil {
				errs <- err.Error()
				return
			}
			if got := strings.TrimSpace(string(out)); got != strconv.FormatUint(own, 10) {
				errs <- "child's slack " + got
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
