package libcontainer

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/netdev"
)

// moveNetDevices moves linux.netDevices into the container's network
// namespace, from the runtime, once that namespace exists and before init
// is sent its config: the made-ahead namespace (aheadFd), or init's own
// (made by the clone, or joined by path), so hooks and the process see
// the devices. An unprivileged runtime may not move the host's devices.
func moveNetDevices(spec *specs.Spec, rootless bool, aheadFd, initPid int) error {
	devs := spec.Linux.NetDevices
	if len(devs) == 0 {
		return nil
	}
	if rootless {
		return errors.New("linux.netDevices: not possible for a rootless container")
	}
	fd := aheadFd
	if fd < 0 {
		path := "/proc/" + strconv.Itoa(initPid) + "/ns/net"
		f, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("linux.netDevices: open %s: %w", path, err)
		}
		defer unix.Close(f)
		fd = f
	}
	return netdev.Move(devs, fd)
}
