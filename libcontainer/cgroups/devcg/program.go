package devcg

import (
	"encoding/binary"
	"fmt"

	"github.com/opencontainers/cgroups/devices/config"
)

// The v2 program. The kernel calls it with R1 pointing at
//
//	struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
//
// where access_type is (modes << 16) | device type, and takes R0 = 1 as
// allow, 0 as deny. The program is a prologue, one block per exception of
// the policy, and the default:
//
//	R2 = type       (access_type & 0xffff)
//	R3 = modes      (access_type >> 16)
//	R4 = major, R5 = minor
//	block, for an allow exception (the default denies):
//	    if R2 != type   goto next
//	    if R3 & ^modes  goto next    (W1 = R3 & modes; R1 != R3)
//	    if R4 != major  goto next    (left out for a '*' major)
//	    if R5 != minor  goto next    (left out for a '*' minor)
//	    R0 = 1; exit
//	block, for a deny exception (the default allows):
//	    the same, but any mode in common refuses (W1 = R3 & modes;
//	    R1 == 0 goto next), and R0 = 0
//	next: ... the default: R0 = default; exit
//
// Exceptions never overlap in their verdict (all are the default's
// opposite), so their order does not change the result.

// Instruction encoding (include/uapi/linux/bpf.h): op, dst and src
// registers in one byte, a 16-bit jump offset, a 32-bit immediate.
const (
	opLdxMemW  = 0x61 // dst = *(u32 *)(src + off)
	opAnd32Imm = 0x54 // wdst &= imm
	opRsh32Imm = 0x74 // wdst >>= imm
	opMov32Reg = 0xbc // wdst = wsrc
	opMov32Imm = 0xb4 // wdst = imm
	opJneImm   = 0x55 // if dst != imm: pc += off
	opJeqImm   = 0x15 // if dst == imm: pc += off
	opJneReg   = 0x5d // if dst != src: pc += off
	opExit     = 0x95
)

// Device types and access modes in access_type (BPF_DEVCG_*).
const (
	devcgBlock = 1
	devcgChar  = 2
	accMknod   = 1
	accRead    = 2
	accWrite   = 4
)

type insn struct {
	op       uint8
	dst, src uint8
	off      int16
	imm      int32
}

// next marks a jump to the block after the current one, resolved when the
// block is closed.
const next = -1 << 15

// program is the instruction list for a policy.
func program(p policy) ([]insn, error) {
	prog := []insn{
		{op: opLdxMemW, dst: 2, src: 1, off: 0},
		{op: opAnd32Imm, dst: 2, imm: 0xffff},
		{op: opLdxMemW, dst: 3, src: 1, off: 0},
		{op: opRsh32Imm, dst: 3, imm: 16},
		{op: opLdxMemW, dst: 4, src: 1, off: 4},
		{op: opLdxMemW, dst: 5, src: 1, off: 8},
	}
	verdict := int32(1)
	if p.allow {
		verdict = 0
	}
	for _, d := range p.devices() {
		start := len(prog)
		var typ int32
		switch d.typ {
		case config.CharDevice:
			typ = devcgChar
		case config.BlockDevice:
			typ = devcgBlock
		default:
			return nil, fmt.Errorf("device exception %s: no such device type in a cgroup v2 program", d)
		}
		modes := accessBits(p.except[d])
		prog = append(prog, insn{op: opJneImm, dst: 2, imm: typ, off: next})
		switch {
		case p.allow:
			prog = append(prog,
				insn{op: opMov32Reg, dst: 1, src: 3},
				insn{op: opAnd32Imm, dst: 1, imm: modes},
				insn{op: opJeqImm, dst: 1, imm: 0, off: next})
		case modes != accMknod|accRead|accWrite:
			prog = append(prog,
				insn{op: opMov32Reg, dst: 1, src: 3},
				insn{op: opAnd32Imm, dst: 1, imm: modes},
				insn{op: opJneReg, dst: 1, src: 3, off: next})
		}
		if d.major != config.Wildcard {
			prog = append(prog, insn{op: opJneImm, dst: 4, imm: int32(d.major), off: next})
		}
		if d.minor != config.Wildcard {
			prog = append(prog, insn{op: opJneImm, dst: 5, imm: int32(d.minor), off: next})
		}
		prog = append(prog, insn{op: opMov32Imm, dst: 0, imm: verdict}, insn{op: opExit})
		for i := start; i < len(prog); i++ {
			if prog[i].off == next {
				prog[i].off = int16(len(prog) - i - 1)
			}
		}
	}
	// the default is the exceptions' opposite
	return append(prog, insn{op: opMov32Imm, dst: 0, imm: 1 - verdict}, insn{op: opExit}), nil
}

func accessBits(modes config.Permissions) int32 {
	var bits int32
	for _, m := range modes {
		switch m {
		case 'r':
			bits |= accRead
		case 'w':
			bits |= accWrite
		case 'm':
			bits |= accMknod
		}
	}
	return bits
}

// encode lays the instructions out as the kernel reads them, in the
// machine's byte order; the register byte is a C bitfield (dst_reg:4,
// src_reg:4), whose first field is the low nibble on a little-endian
// machine and the high one on a big-endian one.
func encode(prog []insn) []byte {
	bigEndian := binary.NativeEndian.Uint16([]byte{0, 1}) == 1
	out := make([]byte, 8*len(prog))
	for i, in := range prog {
		b := out[8*i:]
		b[0] = in.op
		if bigEndian {
			b[1] = in.dst<<4 | in.src&0xf
		} else {
			b[1] = in.src<<4 | in.dst&0xf
		}
		binary.NativeEndian.PutUint16(b[2:], uint16(in.off))
		binary.NativeEndian.PutUint32(b[4:], uint32(in.imm))
	}
	return out
}
