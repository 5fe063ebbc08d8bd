package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// A profile that refuses execve can never start the container's process:
// init loads the filter, then calls execve, and nothing it would say about
// the refusal may get out when the profile refuses write and exit too
// (runc reports an empty exec fifo, or hangs). Compile runs the filter
// on execve's seccomp_data first, as the kernel will (a classic BPF
// interpreter of the instructions seccomp accepts), and refuses such a
// profile with a line naming the action. The pointers execve passes are
// unknown before it runs: the filter is run with them all 0 and all 1s,
// and only a refusal both ways counts, so a rule on execve's arguments
// never makes a runnable profile fail.

// seccompDataSize is the size of the kernel's struct seccomp_data:
// nr (int), arch (u32), instruction_pointer (u64), args[6] (u64).
const seccompDataSize = 64

// bpfMemWords is classic BPF's scratch memory (BPF_MEMWORDS).
const bpfMemWords = 16

// runFilter runs insns on the seccomp_data data and returns the filter's
// verdict (SECCOMP_RET_*).
func runFilter(insns []unix.SockFilter, data *[seccompDataSize]byte) (uint32, error) {
	var a, x uint32
	var mem [bpfMemWords]uint32
	for pc := 0; pc < len(insns); pc++ {
		in := insns[pc]
		k := in.K
		switch in.Code & 0x07 {
		case unix.BPF_LD, unix.BPF_LDX:
			var v uint32
			switch in.Code & 0xe0 {
			case unix.BPF_IMM:
				v = k
			case unix.BPF_ABS:
				if in.Code&0x18 != unix.BPF_W || k%4 != 0 || k > seccompDataSize-4 {
					return 0, fmt.Errorf("instruction %d: load of %d at %d", pc, in.Code&0x18, k)
				}
				v = binary.NativeEndian.Uint32(data[k:])
			case unix.BPF_MEM:
				if k >= bpfMemWords {
					return 0, fmt.Errorf("instruction %d: scratch word %d", pc, k)
				}
				v = mem[k]
			case unix.BPF_LEN:
				v = seccompDataSize
			default:
				return 0, fmt.Errorf("instruction %d: load mode %#x", pc, in.Code&0xe0)
			}
			if in.Code&0x07 == unix.BPF_LD {
				a = v
			} else {
				x = v
			}
		case unix.BPF_ST, unix.BPF_STX:
			if k >= bpfMemWords {
				return 0, fmt.Errorf("instruction %d: scratch word %d", pc, k)
			}
			if in.Code&0x07 == unix.BPF_ST {
				mem[k] = a
			} else {
				mem[k] = x
			}
		case unix.BPF_ALU:
			v := k
			if in.Code&unix.BPF_X != 0 {
				v = x
			}
			switch in.Code & 0xf0 {
			case unix.BPF_ADD:
				a += v
			case unix.BPF_SUB:
				a -= v
			case unix.BPF_MUL:
				a *= v
			case unix.BPF_DIV, unix.BPF_MOD:
				if v == 0 {
					return 0, nil // the kernel's verdict for a division by 0: kill
				}
				if in.Code&0xf0 == unix.BPF_DIV {
					a /= v
				} else {
					a %= v
				}
			case unix.BPF_OR:
				a |= v
			case unix.BPF_AND:
				a &= v
			case unix.BPF_XOR:
				a ^= v
			case unix.BPF_LSH:
				a <<= v & 31
			case unix.BPF_RSH:
				a >>= v & 31
			case unix.BPF_NEG:
				a = -a
			default:
				return 0, fmt.Errorf("instruction %d: alu op %#x", pc, in.Code&0xf0)
			}
		case unix.BPF_JMP:
			if in.Code&0xf0 == unix.BPF_JA {
				pc += int(k)
				continue
			}
			v := k
			if in.Code&unix.BPF_X != 0 {
				v = x
			}
			var taken bool
			switch in.Code & 0xf0 {
			case unix.BPF_JEQ:
				taken = a == v
			case unix.BPF_JGT:
				taken = a > v
			case unix.BPF_JGE:
				taken = a >= v
			case unix.BPF_JSET:
				taken = a&v != 0
			default:
				return 0, fmt.Errorf("instruction %d: jump op %#x", pc, in.Code&0xf0)
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_RET:
			if in.Code&0x18 == unix.BPF_A {
				return a, nil
			}
			return k, nil
		case unix.BPF_MISC:
			if in.Code&0xf8 == unix.BPF_TXA {
				a = x
			} else {
				x = a
			}
		}
	}
	return 0, errors.New("the program ends without a verdict")
}

// refusedVerdict names a verdict that makes a system call fail or ends
// the process; "" for the others (allow, log, and trace and notify,
// where a tracer or a listener decides).
func refusedVerdict(v uint32) string {
	switch v & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_KILL_PROCESS:
		return "SCMP_ACT_KILL_PROCESS"
	case unix.SECCOMP_RET_KILL_THREAD:
		return "SCMP_ACT_KILL"
	case unix.SECCOMP_RET_TRAP:
		return "SCMP_ACT_TRAP"
	case unix.SECCOMP_RET_ERRNO:
		return fmt.Sprintf("SCMP_ACT_ERRNO, errno %d", v&unix.SECCOMP_RET_DATA)
	}
	return ""
}

// execveRefusal returns how insns treat the native execve, when they
// refuse it whatever its arguments (see above), else "".
func execveRefusal(insns []unix.SockFilter) string {
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return ""
	}
	arch, ok := auditArch(native)
	if !ok {
		return ""
	}
	var refusal string
	for _, fill := range []byte{0, 0xff} {
		var data [seccompDataSize]byte
		for i := 8; i < seccompDataSize; i++ { // instruction pointer and arguments
			data[i] = fill
		}
		binary.NativeEndian.PutUint32(data[0:], uint32(unix.SYS_EXECVE))
		binary.NativeEndian.PutUint32(data[4:], arch)
		v, err := runFilter(insns, &data)
		if err != nil {
			return "" // not a program this reads: the kernel decides
		}
		if refusal = refusedVerdict(v); refusal == "" {
			return ""
		}
	}
	return refusal
}
