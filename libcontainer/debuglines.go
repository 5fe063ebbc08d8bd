package libcontainer

import (
	"fmt"
	"os"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/exeseal"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// runc's --debug output has a few fixed phrases, one for each stage of a
// container process's start, which tools and runc's own integration tests
// (debug.bats, exec.bats, cpu_affinity.bats, run.bats) look for. berth's
// stages are its own, but the same points exist in them, and berth's debug
// line at each such point carries runc's phrase, so that whatever reads a
// drop-in's debug log finds it:
//
//	phrase                          where berth says it
//	------------------------------  ----------------------------------------------------------
//	nsexec container setup,         the Go process's first line, once its config came: nsenter
//	child process in init()         (berth's C stage; runc's is nsexec) has set it up, and it
//	                                runs berth init's Go code; with the CPU affinity it runs on
//	                                ("affinity: 0x..", the mask of its CPUs, as nsexec prints it)
//	init: closing the pipe to       init's execve: the sync socket is close-on-exec, and its
//	signal completion               EOF is how the runtime learns that execve succeeded
//	setns_init: about to exec       an exec process's execve, the same way
//	NAME exeseal: using             the runtime, when the Go process is to start from berth's
//	/proc/self/exe clone            sealed binary (exeseal); NAME is the binary's as invoked.
//	                                With the overlayfs seal also "NAME exeseal: using overlayfs
//	                                for sealed /proc/self/exe"
//
// Only the Go process logs (--debug keeps it: directBlocker), so a direct
// process, which starts from berth-dinit, says none of them.
const (
	debugSetUp    = "nsexec container setup done, child process in init()"
	debugInitExec = "init: closing the pipe to signal completion"
	debugExecExec = "setns_init: about to exec"
)

// logSetUp is the process's first debug line (debugSetUp).
func (p *processSide) logSetUp() {
	if !p.end.debug {
		return
	}
	var cpus unix.CPUSet
	mask := "unknown"
	if err := unix.SchedGetaffinity(0, &cpus); err == nil {
		mask = cpuMask(&cpus)
	}
	p.end.logf("%s: %s: pid %d in its pid namespace, steps %v: affinity: %s", p.role(), debugSetUp, os.Getpid(), p.cfg.Steps, mask)
}

// logExecve is the process's last debug line, right before execve.
func (p *processSide) logExecve() {
	if !p.end.debug {
		return
	}
	prog := ""
	if len(p.cfg.Process.Args) > 0 {
		prog = p.cfg.Process.Args[0]
	}
	if p.cfg.Exec {
		p.end.logf("%s %q", debugExecExec, prog)
	} else {
		p.end.logf("%s: execve %q", debugInitExec, prog)
	}
}

// cpuMask writes a CPU set as a hexadecimal mask, CPU 0 its lowest bit.
func cpuMask(set *unix.CPUSet) string {
	hi := len(set) - 1
	for hi > 0 && set[hi] == 0 {
		hi--
	}
	s := fmt.Sprintf("%#x", set[hi])
	for i := hi - 1; i >= 0; i-- {
		s += fmt.Sprintf("%016x", set[i])
	}
	return s
}

// logSeal says which sealed binary the Go process starts from.
func logSeal(e *exeseal.Exe) {
	if !logrus.IsLevelEnabled(logrus.DebugLevel) {
		return
	}
	name := utils.ProgramName(os.Args)
	switch e.Method {
	case exeseal.AlreadySealed:
		logrus.Debugf("%s exeseal: /proc/self/exe is a sealed memfd already: no clone", name)
	case exeseal.Overlayfs:
		logrus.Debugf("%s exeseal: using /proc/self/exe clone (a read-only overlay)", name)
		logrus.Debugf("%s exeseal: using overlayfs for sealed /proc/self/exe", name)
	default:
		logrus.Debugf("%s exeseal: using /proc/self/exe clone (a sealed memfd copy)", name)
	}
}
