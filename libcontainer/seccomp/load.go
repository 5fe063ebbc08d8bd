package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// bpfMaxInsns is the kernel's limit on one classic BPF program (BPF_MAXINSNS).
const bpfMaxInsns = 4096

// program is a compiled filter plus what is needed to install it.
type program struct {
	insns   []unix.SockFilter
	flags   uintptr  // SECCOMP_FILTER_FLAG_* for seccomp(2)
	actions []uint32 // SECCOMP_RET_* values the filter can return
}

// Filter is a profile compiled to BPF, ready to install. Compiling needs
// libseccomp and memory; installing is one seccomp(2) call. Init compiles
// before it applies the process's rlimits, so that a small RLIMIT_AS (the
// validation suite sets 1 GiB, less than a Go process's reservations) cannot
// make libseccomp's allocations fail.
type Filter struct {
	prog *program
}

// Compile validates and compiles cfg and checks that the kernel has every
// flag and action it needs. A nil cfg gives a nil Filter, which installs
// nothing.
func Compile(cfg *specs.LinuxSeccomp) (*Filter, error) {
	if cfg == nil {
		return nil, nil
	}
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	prog, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkKernel(prog); err != nil {
		return nil, err
	}
	if how := execveRefusal(prog.insns); how != "" { // simulate.go
		return nil, fmt.Errorf("seccomp: the profile refuses execve (%s), so the container's process could never start", how)
	}
	return &Filter{prog: prog}, nil
}

// Install loads f on the calling thread. It never sets no_new_privs (the
// caller decides that); without it the thread must hold CAP_SYS_ADMIN.
// Only that thread gets it (filterFlags never asks for TSYNC). The
// returned fd is the notify listener (close on exec) when a rule uses
// SCMP_ACT_NOTIFY, else -1. A nil f installs nothing.
func (f *Filter) Install() (notifyFd int, err error) {
	if f == nil {
		return -1, nil
	}
	// The caller has locked the thread already; locking again (it nests)
	// keeps this function correct on its own.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return install(f.prog)
}

// Load compiles cfg and installs it on the calling thread (Compile, then
// Install).
func Load(cfg *specs.LinuxSeccomp) (notifyFd int, err error) {
	f, err := Compile(cfg)
	if err != nil {
		return -1, err
	}
	return f.Install()
}

// compile builds the libseccomp filter for cfg and exports it as BPF.
func compile(cfg *specs.LinuxSeccomp) (*program, error) {
	flags, err := parseFlags(cfg.Flags)
	if err != nil {
		return nil, err
	}
	defaultAction, err := convertAction(cfg.DefaultAction, cfg.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	filter, err := libseccomp.NewFilter(defaultAction)
	if err != nil {
		return nil, fmt.Errorf("seccomp: new filter: %w", err)
	}
	defer filter.Release()

	// libseccomp does not load this filter (install does), but its
	// attributes are where it checks that it and the kernel can do a flag,
	// and they are read back below to build the seccomp(2) flags.
	if err := filter.SetNoNewPrivsBit(false); err != nil {
		return nil, fmt.Errorf("seccomp: clear no_new_privs attribute: %w", err)
	}
	if flags.log {
		if err := filter.SetLogBit(true); err != nil {
			return nil, fmt.Errorf("seccomp: %s not supported by libseccomp or kernel: %w", specs.LinuxSeccompFlagLog, err)
		}
	}
	if flags.specAllow {
		if err := filter.SetSSB(true); err != nil {
			return nil, fmt.Errorf("seccomp: %s not supported by libseccomp or kernel: %w", specs.LinuxSeccompFlagSpecAllow, err)
		}
	}

	for _, arch := range cfg.Architectures {
		a, err := convertArch(arch)
		if err != nil {
			return nil, err
		}
		if err := filter.AddArch(a); err != nil {
			return nil, fmt.Errorf("seccomp: add architecture %s: %w", arch, err)
		}
	}

	prog := &program{}
	used := map[uint32]bool{}
	defaultInfo, _ := lookupAction(cfg.DefaultAction)
	used[defaultInfo.kernel] = true
	notify := false
	for _, sc := range cfg.Syscalls {
		action, err := convertAction(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, err
		}
		if action == defaultAction {
			// The kernel would never see a difference, and libseccomp
			// refuses such a rule.
			continue
		}
		added, err := addRules(filter, sc, action)
		if err != nil {
			return nil, err
		}
		if added {
			info, _ := lookupAction(sc.Action)
			used[info.kernel] = true
			notify = notify || sc.Action == specs.ActNotify
		}
	}
	var stub []unix.SockFilter
	if needsEnosysStub(cfg) {
		native, err := libseccomp.GetNativeArch()
		if err != nil {
			return nil, fmt.Errorf("seccomp: native architecture: %w", err)
		}
		limits, err := syscallLimits(cfg, native)
		if err != nil {
			return nil, err
		}
		if stub, err = enosysStub(limits); err != nil {
			return nil, err
		}
		if len(stub) > 0 {
			used[unix.SECCOMP_RET_ERRNO] = true
		}
	}
	for a := range used {
		prog.actions = append(prog.actions, a)
	}

	if prog.insns, err = exportBPF(filter); err != nil {
		return nil, err
	}
	if len(stub) > 0 {
		if len(stub)+len(prog.insns) > bpfMaxInsns {
			return nil, fmt.Errorf("seccomp: filter has %d instructions with the -ENOSYS stub, the kernel allows %d", len(stub)+len(prog.insns), bpfMaxInsns)
		}
		prog.insns = append(stub, prog.insns...)
	}

	// The log and spec_allow attributes were set above only when asked
	// for, and libseccomp refuses them where the kernel lacks them; read
	// back, they are the flags as asked.
	if log, err := filter.GetLogBit(); err != nil {
		return nil, fmt.Errorf("seccomp: read log attribute: %w", err)
	} else if log != flags.log {
		return nil, fmt.Errorf("seccomp: log attribute reads %t, set %t", log, flags.log)
	}
	if ssb, err := filter.GetSSB(); err != nil {
		return nil, fmt.Errorf("seccomp: read spec_allow attribute: %w", err)
	} else if ssb != flags.specAllow {
		return nil, fmt.Errorf("seccomp: spec_allow attribute reads %t, set %t", ssb, flags.specAllow)
	}
	if flags.waitKillableRecv && !notify {
		logrus.Debugf("seccomp: %s ignored: no rule uses %s", specs.LinuxSeccompFlagWaitKillableRecv, specs.ActNotify)
	}
	prog.flags = filterFlags(flags, notify)
	return prog, nil
}

// filterFlags is the seccomp(2) flags of a filter with these "flags" and,
// when notify, a rule that notifies a listener.
//
// SECCOMP_FILTER_FLAG_TSYNC is accepted and not passed on, as runc does
// (its seccomp.bats expects the value without it): the filter is loaded
// by the thread that then execs the container's program, and execve
// leaves a process with that one thread, so every thread the container
// ever has is under the filter either way. TSYNC would only put berth's
// own threads (a Go init's runtime threads, which execve ends) under it
// before the exec, where a rule against a call the Go runtime makes could
// break the init instead of the container's program.
func filterFlags(flags loadFlags, notify bool) uintptr {
	var f uintptr
	if flags.log {
		f |= unix.SECCOMP_FILTER_FLAG_LOG
	}
	if flags.specAllow {
		f |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
	}
	if notify {
		f |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		if flags.waitKillableRecv {
			f |= unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
		}
	}
	return f
}

// FilterFlags is the seccomp(2) flags value cfg's filter is loaded with
// (as --debug reports it, in runc's words): its "flags", and the listener
// flags when a rule notifies (a notify rule naming only syscalls libseccomp
// does not know adds none when compiled; this reports them anyway).
func FilterFlags(cfg *specs.LinuxSeccomp) (uintptr, error) {
	flags, err := parseFlags(cfg.Flags)
	if err != nil {
		return 0, err
	}
	return filterFlags(flags, UsesNotify(cfg)), nil
}

// addRules adds the rules of one syscalls[] entry; it reports whether any
// syscall name was known to libseccomp.
func addRules(filter *libseccomp.ScmpFilter, sc specs.LinuxSyscall, action libseccomp.ScmpAction) (bool, error) {
	var condSets [][]libseccomp.ScmpCondition
	for _, set := range expandArgs(sc.Args) {
		var conds []libseccomp.ScmpCondition
		for _, a := range set {
			c, err := convertCondition(a)
			if err != nil {
				return false, err
			}
			conds = append(conds, c)
		}
		condSets = append(condSets, conds)
	}

	added := false
	for _, name := range sc.Names {
		call, err := libseccomp.GetSyscallFromName(name)
		if err != nil {
			// Profiles list syscalls of newer kernels and other
			// architectures; libseccomp not knowing one is expected.
			logrus.Debugf("seccomp: skipping syscall %q unknown to libseccomp", name)
			continue
		}
		if len(condSets) == 0 {
			if err := filter.AddRule(call, action); err != nil {
				return false, fmt.Errorf("seccomp: add rule for %s: %w", name, err)
			}
		}
		for _, conds := range condSets {
			if err := filter.AddRuleConditional(call, action, conds); err != nil {
				return false, fmt.Errorf("seccomp: add conditional rule for %s: %w", name, err)
			}
		}
		added = true
	}
	return added, nil
}

// exportBPF has libseccomp write the filter's BPF into a memfd and decodes
// it. (libseccomp 2.5 has no in-memory export.)
func exportBPF(filter *libseccomp.ScmpFilter) ([]unix.SockFilter, error) {
	fd, err := unix.MemfdCreate("berth-seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("seccomp: memfd_create: %w", err)
	}
	file := os.NewFile(uintptr(fd), "berth-seccomp-bpf")
	defer file.Close()
	if err := filter.ExportBPF(file); err != nil {
		return nil, fmt.Errorf("seccomp: export BPF: %w", err)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seccomp: rewind BPF memfd: %w", err)
	}
	raw, err := io.ReadAll(file)
	if err != nil {
		return nil, fmt.Errorf("seccomp: read BPF memfd: %w", err)
	}
	const insnSize = 8 // struct sock_filter: u16 code, u8 jt, u8 jf, u32 k
	if len(raw) == 0 || len(raw)%insnSize != 0 {
		return nil, fmt.Errorf("seccomp: exported BPF has bad size %d", len(raw))
	}
	if len(raw)/insnSize > bpfMaxInsns {
		return nil, fmt.Errorf("seccomp: filter has %d instructions, the kernel allows %d", len(raw)/insnSize, bpfMaxInsns)
	}
	insns := make([]unix.SockFilter, len(raw)/insnSize)
	for i := range insns {
		b := raw[i*insnSize:]
		insns[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b[0:2]),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.NativeEndian.Uint32(b[4:8]),
		}
	}
	return insns, nil
}

// checkKernel fails with a clear message when the kernel lacks a flag or an
// action the program needs, instead of a bare EINVAL from seccomp(2).
func checkKernel(prog *program) error {
	named := []struct {
		flag uintptr
		name string
	}{
		{unix.SECCOMP_FILTER_FLAG_LOG, string(specs.LinuxSeccompFlagLog)},
		{unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW, string(specs.LinuxSeccompFlagSpecAllow)},
		{unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, "SECCOMP_FILTER_FLAG_NEW_LISTENER (needed by SCMP_ACT_NOTIFY)"},
		{unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, string(specs.LinuxSeccompFlagWaitKillableRecv)},
	}
	for _, f := range named {
		if prog.flags&f.flag != 0 && !kernelHasFlag(f.flag) {
			return fmt.Errorf("seccomp: the kernel does not support %s", f.name)
		}
	}
	for _, a := range prog.actions {
		if !kernelHasAction(a) {
			return fmt.Errorf("seccomp: the kernel does not support action %#x", a)
		}
	}
	return nil
}

// kernelHasFlag asks seccomp(2) about a flag without installing anything: a
// known flag gets as far as reading the (NULL) program and fails with EFAULT,
// an unknown one fails with EINVAL first.
func kernelHasFlag(flag uintptr) bool {
	if flag&unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 {
		flag |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER // only valid together
	}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flag, 0)
	return errno == unix.EFAULT
}

func kernelHasAction(action uint32) bool {
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&action)))
	return errno == 0
}

// LoadError is the error of seccomp(2) loading a filter with flags. A
// direct exec, which loads BPF in C, fails with it too
// (libcontainer/execerr.go).
func LoadError(flags uintptr, errno unix.Errno) error {
	if errno == unix.EACCES {
		return errors.New("seccomp: load filter: permission denied (needs no_new_privs or CAP_SYS_ADMIN)")
	}
	return fmt.Errorf("seccomp: load filter (flags %#x): %w", flags, errno)
}

// install loads prog with seccomp(2) on the calling thread.
func install(prog *program) (int, error) {
	fprog := unix.SockFprog{Len: uint16(len(prog.insns)), Filter: &prog.insns[0]}
	ret, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, prog.flags, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return -1, LoadError(prog.flags, errno)
	}
	if prog.flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		// The kernel opens the listener with O_CLOEXEC.
		return int(ret), nil
	}
	return -1, nil
}

// BPF returns the compiled program and its seccomp(2) flags, for a
// process that installs it without this package (a direct exec).
// listener reports a notify filter, whose fd only Install hands back.
func (f *Filter) BPF() (insns []unix.SockFilter, flags uintptr, listener bool) {
	if f == nil {
		return nil, 0, false
	}
	return f.prog.insns, f.prog.flags, f.prog.flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0
}
