package devcg

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The bpf(2) commands this package makes, each with the leading part of
// union bpf_attr it fills (the kernel takes a shorter attr as zeroes
// after it):
//
//	BPF_PROG_LOAD          prog_type, insn_cnt, insns, license, log_level, log_size, log_buf
//	BPF_PROG_QUERY         target_fd, attach_type, query_flags, attach_flags, prog_ids, prog_cnt
//	BPF_PROG_GET_FD_BY_ID  prog_id
//	BPF_PROG_ATTACH        target_fd, attach_bpf_fd, attach_type, attach_flags, replace_bpf_fd
//	BPF_PROG_DETACH        target_fd, attach_bpf_fd, attach_type

type loadAttr struct {
	progType, insnCnt  uint32
	insns, license     uint64
	logLevel, logSize  uint32
	logBuf             uint64
	kernVersion, flags uint32
}

type queryAttr struct {
	targetFd, attachType, queryFlags, attachFlags uint32
	progIDs                                       uint64
	progCnt                                       uint32
	_                                             uint32
}

type idAttr struct {
	id, nextID, openFlags uint32
}

type attachAttr struct {
	targetFd, attachBpfFd, attachType, attachFlags, replaceBpfFd uint32
}

// bpf makes one call. A program load that a signal interrupts (Go's
// preemption signal among them) fails with EAGAIN and is made again.
func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	for try := 0; ; try++ {
		r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
		if errno == unix.EAGAIN && cmd == unix.BPF_PROG_LOAD && try < 20 {
			continue
		}
		if errno != 0 {
			return -1, errno
		}
		return int(r), nil
	}
}

// load loads the program and returns its fd. When the kernel refuses it,
// it is loaded once more with the verifier's log, whose text is added to
// the error.
func load(code []byte) (int, error) {
	license := []byte("Apache-2.0\x00")
	var log []byte
	// The kernel reads code and license, and writes log, through the
	// pointers in attr: they stay alive until the calls are done.
	defer func() {
		runtime.KeepAlive(code)
		runtime.KeepAlive(license)
		runtime.KeepAlive(log)
	}()
	attr := loadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(code) / 8),
		insns:    uint64(uintptr(unsafe.Pointer(&code[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
	}
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err == nil {
		return fd, nil
	}
	log = make([]byte, 64<<10)
	attr.logLevel, attr.logSize = 1, uint32(len(log))
	attr.logBuf = uint64(uintptr(unsafe.Pointer(&log[0])))
	if fd, err2 := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err2 == nil {
		return fd, nil
	}
	if n := bytes.IndexByte(log, 0); n > 0 {
		return -1, fmt.Errorf("bpf prog load: %w: %s", err, bytes.TrimSpace(log[:n]))
	}
	return -1, fmt.Errorf("bpf prog load: %w", err)
}

// attached returns fds of the device programs attached to the cgroup
// directory (systemd's, or an earlier one of ours on update). A program
// this process may not open (an LSM's refusal) is left out: it stays
// attached beside ours, and programs attached together must all allow an
// access.
func attached(dir int) ([]int, error) {
	ids := make([]uint32, 16)
	for try := 0; ; try++ {
		q := queryAttr{targetFd: uint32(dir), attachType: unix.BPF_CGROUP_DEVICE, progIDs: uint64(uintptr(unsafe.Pointer(&ids[0]))), progCnt: uint32(len(ids))}
		_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&q), unsafe.Sizeof(q))
		runtime.KeepAlive(ids)
		if errors.Is(err, unix.ENOSPC) && try < 5 {
			ids = make([]uint32, q.progCnt+16)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("bpf prog query: %w", err)
		}
		var fds []int
		for _, id := range ids[:q.progCnt] {
			a := idAttr{id: id}
			fd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&a), unsafe.Sizeof(a))
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				continue
			}
			if errors.Is(err, unix.ENOENT) { // detached since the query
				continue
			}
			if err != nil {
				closeAll(fds)
				return nil, fmt.Errorf("bpf prog get fd by id %d: %w", id, err)
			}
			fds = append(fds, fd)
		}
		return fds, nil
	}
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// attach puts the program on the cgroup directory in place of the device
// programs there: replacing the one there is (BPF_F_REPLACE, so that the
// cgroup is never without a filter), or, with several or on a kernel
// without BPF_F_REPLACE, attaching next to them and then detaching them.
func attach(dir, prog int) error {
	old, err := attached(dir)
	if err != nil {
		return err
	}
	defer closeAll(old)
	a := attachAttr{targetFd: uint32(dir), attachBpfFd: uint32(prog), attachType: unix.BPF_CGROUP_DEVICE, attachFlags: unix.BPF_F_ALLOW_MULTI}
	if len(old) == 1 {
		r := a
		r.attachFlags |= unix.BPF_F_REPLACE
		r.replaceBpfFd = uint32(old[0])
		_, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&r), unsafe.Sizeof(r))
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("bpf prog attach (replace): %w", err)
		}
	}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&a), unsafe.Sizeof(a)); err != nil {
		return fmt.Errorf("bpf prog attach: %w", err)
	}
	for _, fd := range old {
		d := attachAttr{targetFd: uint32(dir), attachBpfFd: uint32(fd), attachType: unix.BPF_CGROUP_DEVICE}
		if _, err := bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&d), unsafe.Sizeof(d)); err != nil {
			return fmt.Errorf("bpf prog detach: %w", err)
		}
	}
	return nil
}
