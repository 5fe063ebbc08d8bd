package cgroups

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fscommon"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// The real-time budget of berth's default parent cgroup (cgroup v1 with
// CONFIG_RT_GROUP_SCHED).
//
// The kernel lets a cgroup run real-time tasks for at most what its parent
// gives its children: the children's runtime/period ratios must add up to
// no more than the parent's own, and a new cgroup starts with a runtime of
// 0. runc's default cgroup is directly under the hierarchy's root, which
// holds the machine's whole budget, so there a realtimeRuntime works
// without a cgroupsPath. berth's default cgroups are under DefaultParent,
// a cgroup berth makes and owns, so berth gives that parent, and only
// that one, what its children ask for:
//
//	step        when                                    what is written
//	LendRt      before a cgroup directly under          the parent's cpu.rt_runtime_us, raised to the
//	            DefaultParent is made or updated with   sum of its children's shares with the new
//	            a real-time runtime or period           values (never lowered here)
//	ReturnRt    after such a cgroup was removed         the parent's, lowered to what the children
//	                                                    left need (0 when none has a runtime)
//
// Both hold an flock on the parent's cpu directory, taken only on these
// paths, so two containers' creates, updates and deletes never work from
// each other's halfway state. The parents of a cgroupsPath elsewhere are
// the caller's: they are left alone, and the kernel's refusal is explained
// (ExplainRt).

// bwShift is the kernel's fixed-point shift for bandwidth ratios
// (BW_SHIFT): a ratio of 1<<bwShift is a whole period.
const bwShift = 20

// defaultRtPeriod is the period a new cgroup starts with when the
// kernel's sysctl cannot be read (its own default, in µs).
const defaultRtPeriod = 1000000

// rtShare is one cgroup's cpu.rt_runtime_us and cpu.rt_period_us.
type rtShare struct {
	runtime int64 // µs; -1 is unlimited
	period  int64 // µs
}

// rtRatio is share's part of its period, as the kernel counts it
// (to_ratio, with runtime and period in ns): unlimited is a whole period.
func rtRatio(s rtShare) uint64 {
	if s.runtime < 0 {
		return 1 << bwShift
	}
	if s.period <= 0 || s.runtime == 0 {
		return 0
	}
	rt, p := uint64(s.runtime), uint64(s.period)
	if rt > p { // the kernel refuses it; count it as the whole period it asks at least
		return 1 << bwShift
	}
	// runtime <= period keeps the quotient within 1<<bwShift.
	hi, lo := bits.Mul64(rt, 1<<bwShift)
	q, _ := bits.Div64(hi, lo, p)
	return q
}

// rtNeed returns the smallest runtime (µs) a parent with period µs needs
// to hold children whose ratios add up to sum, rounded up.
func rtNeed(sum uint64, period int64) int64 {
	if sum == 0 || period <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(sum, uint64(period))
	q := hi<<(64-bwShift) | lo>>bwShift // (hi:lo) >> bwShift
	if lo&(1<<bwShift-1) != 0 {
		q++
	}
	return int64(q)
}

// rtParent returns the cgroup v1 cpu directory of berth's default parent
// when m's cgroup sits directly under it, and "" otherwise (cgroup v2,
// systemd, a cgroupsPath elsewhere, no cpu hierarchy).
func rtParent(m cgroups.Manager) string {
	if m == nil || cgroups.IsCgroup2UnifiedMode() {
		return ""
	}
	cg, err := m.GetCgroups()
	if err != nil || cg == nil || path.Dir(cg.Path) != DefaultParent {
		return ""
	}
	dir := m.Path("cpu")
	if dir == "" || !strings.HasSuffix(dir, cg.Path) {
		return ""
	}
	return filepath.Dir(dir)
}

// LendRt raises the real-time runtime of berth's default parent so that
// m's cgroup can take r's (see the table above). It returns a function
// that must be called once r is written to m's cgroup (it releases the
// parent's lock); nothing is done, and the function does nothing, when r
// sets no real-time runtime or period or m's cgroup is not directly
// under the default parent.
func LendRt(m cgroups.Manager, r *cgroups.Resources) (func(), error) {
	done := func() {}
	if r == nil || (r.CpuRtRuntime == 0 && r.CpuRtPeriod == 0) {
		return done, nil
	}
	parent := rtParent(m)
	if parent == "" {
		return done, nil
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return done, fmt.Errorf("lend real-time runtime: %w", err)
	}
	unlock, err := lockDir(parent)
	if err != nil {
		return done, fmt.Errorf("lend real-time runtime: %w", err)
	}
	self := filepath.Base(m.Path("cpu"))
	want := rtShare{runtime: r.CpuRtRuntime, period: int64(r.CpuRtPeriod)}
	if want.runtime == 0 || want.period == 0 {
		// The value not given stays what the cgroup has (a new one:
		// no runtime, the kernel's default period).
		cur := rtShare{period: defaultPeriod()}
		if s, err := readRtShare(filepath.Join(parent, self)); err == nil {
			cur = s
		}
		if want.runtime == 0 {
			want.runtime = cur.runtime
		}
		if want.period == 0 {
			want.period = cur.period
		}
	}
	if err := fitRt(parent, self, want, false); err != nil {
		unlock()
		return done, err
	}
	return unlock, nil
}

// RtLent is called before m's cgroup is removed. When it sits under
// berth's default parent and that parent lent real-time runtime, it sets
// the cgroup's own runtime to 0 (the kernel counts a removed cgroup's
// share until it is freed, some time after the rmdir, so the parent could
// not be lowered right after it) and returns the parent, for ReturnRt
// once the cgroup is gone; otherwise it returns "". The common case, a
// parent that lent nothing, costs one read.
func RtLent(m cgroups.Manager) string {
	parent := rtParent(m)
	if parent == "" {
		return ""
	}
	if n, err := fscommon.GetCgroupParamInt(parent, "cpu.rt_runtime_us"); err != nil || n == 0 {
		return ""
	}
	if n, err := fscommon.GetCgroupParamInt(m.Path("cpu"), "cpu.rt_runtime_us"); err == nil && n != 0 {
		// Refused while a real-time task is still in it; the removal
		// kills it, and ReturnRt then warns if the share still counts.
		_ = cgroups.WriteFile(m.Path("cpu"), "cpu.rt_runtime_us", "0")
	}
	return parent
}

// ReturnRt lowers the real-time runtime of berth's default parent cgroup
// (as RtLent returned it) to what its children left need. It only warns
// on failure: the container is gone either way, and what stays lent is
// given back at the next return.
func ReturnRt(parent string) {
	if parent == "" {
		return
	}
	unlock, err := lockDir(parent)
	if err != nil {
		logrus.Warnf("return real-time runtime to %s: %v", parent, err)
		return
	}
	defer unlock()
	if err := fitRt(parent, "", rtShare{}, true); err != nil {
		logrus.Warnf("return real-time runtime to %s: %v", parent, err)
	}
}

// fitRt sets parent's runtime to what its children need, with child self
// (when not "") counted with share: raised only, or with lower set,
// raised or lowered. The caller holds the parent's lock.
func fitRt(parent, self string, share rtShare, lower bool) error {
	have, err := readRtShare(parent)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return fmt.Errorf("read real-time budgets: %w", err)
	}
	kids := []rtShare{share}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == self {
			continue
		}
		s, err := readRtShare(filepath.Join(parent, e.Name()))
		if errors.Is(err, os.ErrNotExist) { // removed meanwhile
			continue
		}
		if err != nil {
			return err
		}
		kids = append(kids, s)
	}
	need, write := rtTarget(have, kids, lower)
	if !write {
		return nil
	}
	if err := cgroups.WriteFile(parent, "cpu.rt_runtime_us", strconv.FormatInt(need, 10)); err != nil {
		if errors.Is(err, unix.EINVAL) && need > have.runtime {
			return fmt.Errorf("give berth's parent cgroup %s the real-time runtime its containers need (%d µs of %d): %w (more than %s has to give)", parent, need, have.period, err, filepath.Dir(parent))
		}
		return fmt.Errorf("set the real-time runtime of berth's parent cgroup: %w", err)
	}
	return nil
}

// rtTarget is the runtime a parent whose share is have needs for its
// children kids, and whether it is to be written: not when the parent is
// unlimited or has it already, nor when it has more and lower is not set.
func rtTarget(have rtShare, kids []rtShare, lower bool) (int64, bool) {
	var sum uint64
	for _, k := range kids {
		sum += rtRatio(k)
	}
	need := rtNeed(sum, have.period)
	if have.runtime < 0 || need == have.runtime || (need < have.runtime && !lower) {
		return have.runtime, false
	}
	return need, true
}

// readRtShare reads dir's cpu.rt_runtime_us and cpu.rt_period_us.
func readRtShare(dir string) (rtShare, error) {
	var s rtShare
	var err error
	if s.runtime, err = fscommon.GetCgroupParamInt(dir, "cpu.rt_runtime_us"); err != nil {
		return s, err
	}
	s.period, err = fscommon.GetCgroupParamInt(dir, "cpu.rt_period_us")
	return s, err
}

// defaultPeriod is the real-time period a new cgroup starts with.
func defaultPeriod() int64 {
	if n, err := fscommon.GetCgroupParamInt("/proc/sys/kernel", "sched_rt_period_us"); err == nil && n > 0 {
		return n
	}
	return defaultRtPeriod
}

// lockDir takes an exclusive flock on dir and returns its release.
func lockDir(dir string) (func(), error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "flock", Path: dir, Err: err}
	}
	return func() { unix.Close(fd) }, nil
}
