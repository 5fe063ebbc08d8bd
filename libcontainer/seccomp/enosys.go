package seccomp

import (
	"fmt"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// The -ENOSYS stub. A profile lists the syscalls its author knew; a
// syscall newer than all of them (a number above the highest the profile
// names, on that architecture) would get the profile's default action,
// usually EPERM, and programs that probe a new syscall (glibc's clone3,
// faccessat2, ...) take EPERM as a real refusal instead of falling back
// to the old one. So, as runc does, the filter is prefixed with a stub
// that answers ENOSYS for those numbers, and the profile decides the
// rest. The stub is left out when the default action lets a syscall
// through anyway (allow, log, trace) or already returns ENOSYS.
//
// The stub, for each architecture of the profile (plus the native one):
//
//	ld  [arch]
//	jeq AUDIT_ARCH_a, next-arch     ; per architecture
//	ld  [nr]
//	jset X32_BIT, x32               ; x86_64 only: x32 calls set this bit
//	jgt max_a, enosys, filter
//	x32: jgt max_x32, enosys, filter  (or ja filter: no x32 in the profile)
//	...
//	ja  filter                      ; an architecture the stub has no block for
//	enosys: ret ERRNO(ENOSYS)
//	filter: the profile's program, from libseccomp
//
// Architectures whose numbering is not one plain range per audit arch
// (MIPS's ABIs, s390x's multiplexer) get no block: the profile decides
// for them, as without the stub.

// x32SyscallBit marks an x32 syscall on the x86_64 audit arch.
const x32SyscallBit = 0x40000000

// auditArch maps the libseccomp architectures the stub handles to the
// kernel's AUDIT_ARCH_* value seen in seccomp_data.arch.
func auditArch(a libseccomp.ScmpArch) (uint32, bool) {
	switch a {
	case libseccomp.ArchAMD64, libseccomp.ArchX32:
		return unix.AUDIT_ARCH_X86_64, true
	case libseccomp.ArchX86:
		return unix.AUDIT_ARCH_I386, true
	case libseccomp.ArchARM64:
		return unix.AUDIT_ARCH_AARCH64, true
	case libseccomp.ArchARM:
		return unix.AUDIT_ARCH_ARM, true
	case libseccomp.ArchPPC64LE:
		return unix.AUDIT_ARCH_PPC64LE, true
	case libseccomp.ArchRISCV64:
		return unix.AUDIT_ARCH_RISCV64, true
	}
	return 0, false
}

// archLimits is the highest syscall number a profile names on one audit
// arch: native (for x86_64: without the x32 bit) and, for x86_64, x32
// (with the bit; 0 when the profile has no x32).
type archLimits struct {
	audit       uint32
	native, x32 uint32
}

// needsEnosysStub reports whether the default action would hide a
// syscall's absence (see the top of this file).
func needsEnosysStub(cfg *specs.LinuxSeccomp) bool {
	switch cfg.DefaultAction {
	case specs.ActAllow, specs.ActLog, specs.ActTrace:
		return false
	case specs.ActErrno:
		return cfg.DefaultErrnoRet == nil || *cfg.DefaultErrnoRet != uint(unix.ENOSYS)
	}
	return true
}

// syscallLimits finds, per audit arch, the highest syscall number the
// profile names. The native architecture counts even when the profile
// does not list it (Docker's profiles leave it out on some hosts).
func syscallLimits(cfg *specs.LinuxSeccomp, native libseccomp.ScmpArch) ([]archLimits, error) {
	archs := map[libseccomp.ScmpArch]bool{native: true}
	for _, a := range cfg.Architectures {
		sa, err := convertArch(a)
		if err != nil {
			return nil, err
		}
		archs[sa] = true
	}
	byAudit := map[uint32]*archLimits{}
	for a := range archs {
		audit, ok := auditArch(a)
		if !ok {
			continue
		}
		var highest uint32
		for _, sc := range cfg.Syscalls {
			for _, name := range sc.Names {
				n, err := libseccomp.GetSyscallFromNameByArch(name, a)
				if err != nil || n < 0 {
					continue // unknown on this architecture
				}
				highest = max(highest, uint32(n))
			}
		}
		if highest == 0 {
			continue // the profile names nothing here: no range to bound
		}
		l := byAudit[audit]
		if l == nil {
			l = &archLimits{audit: audit}
			byAudit[audit] = l
		}
		if a == libseccomp.ArchX32 {
			l.x32 = highest
		} else {
			l.native = highest
		}
	}
	var out []archLimits
	for _, l := range byAudit {
		if l.native == 0 && l.x32 == 0 {
			continue
		}
		out = append(out, *l)
	}
	// A fixed order: the same profile always gives the same program.
	sort.Slice(out, func(i, j int) bool { return out[i].audit < out[j].audit })
	return out, nil
}

// Offsets in struct seccomp_data.
const (
	seccompDataNr   = 0
	seccompDataArch = 4
)

// stubInsn is an instruction whose jumps name labels (instruction
// indexes of the stub, or labelFilter for the profile's first one).
type stubInsn struct {
	op     uint16
	k      uint32
	jt, jf int // labels, for conditional jumps; ja uses jt
}

const labelFilter = -1

// enosysStub assembles the stub for limits. The returned instructions
// go in front of the profile's program.
func enosysStub(limits []archLimits) ([]unix.SockFilter, error) {
	if len(limits) == 0 {
		return nil, nil
	}
	const (
		ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jgt   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
		jset  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		ja    = unix.BPF_JMP | unix.BPF_JA
		ret   = unix.BPF_RET | unix.BPF_K
	)
	// First pass: the blocks' sizes give every label's index.
	size := func(l archLimits) int {
		if l.audit == unix.AUDIT_ARCH_X86_64 {
			return 5 // jeq, ld nr, jset, jgt, jgt|ja
		}
		return 3 // jeq, ld nr, jgt
	}
	n := 1 // ld arch
	for _, l := range limits {
		n += size(l)
	}
	enosys := n + 1 // after the final ja
	prog := []stubInsn{{op: ldAbs, k: seccompDataArch}}
	for _, l := range limits {
		next := len(prog) + size(l)
		prog = append(prog,
			stubInsn{op: jeq, k: l.audit, jt: len(prog) + 1, jf: next},
			stubInsn{op: ldAbs, k: seccompDataNr})
		nativeLimit := func() stubInsn {
			if l.native == 0 {
				return stubInsn{op: ja, jt: labelFilter}
			}
			return stubInsn{op: jgt, k: l.native, jt: enosys, jf: labelFilter}
		}
		if l.audit != unix.AUDIT_ARCH_X86_64 {
			prog = append(prog, nativeLimit())
			continue
		}
		x32At := len(prog) + 2
		prog = append(prog, stubInsn{op: jset, k: x32SyscallBit, jt: x32At, jf: len(prog) + 1}, nativeLimit())
		if l.x32 == 0 {
			prog = append(prog, stubInsn{op: ja, jt: labelFilter})
		} else {
			prog = append(prog, stubInsn{op: jgt, k: l.x32, jt: enosys, jf: labelFilter})
		}
	}
	prog = append(prog, stubInsn{op: ja, jt: labelFilter})
	prog = append(prog, stubInsn{op: ret, k: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)})
	if len(prog) != enosys+1 {
		return nil, fmt.Errorf("seccomp: -ENOSYS stub: %d instructions, planned %d", len(prog), enosys+1)
	}

	filter := len(prog)
	out := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		target := func(label int) (int, error) {
			if label == labelFilter {
				label = filter
			}
			off := label - (i + 1)
			if off < 0 {
				return 0, fmt.Errorf("seccomp: -ENOSYS stub: backward jump at %d", i)
			}
			return off, nil
		}
		out[i] = unix.SockFilter{Code: in.op, K: in.k}
		switch in.op {
		case ja:
			off, err := target(in.jt)
			if err != nil {
				return nil, err
			}
			out[i].K = uint32(off)
		case jeq, jgt, jset:
			t, err := target(in.jt)
			if err != nil {
				return nil, err
			}
			f, err := target(in.jf)
			if err != nil {
				return nil, err
			}
			if t > 255 || f > 255 {
				return nil, fmt.Errorf("seccomp: -ENOSYS stub: jump too far at %d", i)
			}
			out[i].Jt, out[i].Jf = uint8(t), uint8(f)
		}
	}
	return out, nil
}
