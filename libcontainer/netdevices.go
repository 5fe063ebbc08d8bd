package libcontainer

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/netdev"
)

// setUpNetNS sets up the container's network namespace from the runtime,
// once that namespace exists and before init is sent its config: lo up
// in a namespace made for the container (loopbackUp), and linux.netDevices
// moved in, so that hooks and the process see them. The namespace is the
// made-ahead one (aheadFd), or init's own (made by the clone, or joined
// by path). An unprivileged runtime may not move the host's devices.
func setUpNetNS(spec *specs.Spec, rootless bool, aheadFd, initPid int) error {
	if err := loopbackUp(spec, rootless, aheadFd, initPid); err != nil {
		return err
	}
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

// loopbackUp sets lo up in a network namespace the clone of init made
// (a config with a new network namespace that is not made ahead: one
// with a user namespace, which must own it). newNetNS sets up the one
// made ahead, and a namespace joined by path is its maker's. A rootless
// runtime cannot enter the namespace (setns needs CAP_SYS_ADMIN in the
// runtime's own user namespace too): there lo stays down, as before;
// init would have to set it up itself.
func loopbackUp(spec *specs.Spec, rootless bool, aheadFd, initPid int) error {
	ns, ok := configs.FindNamespace(spec, specs.NetworkNamespace)
	if !ok || ns.Path != "" || aheadFd >= 0 || rootless {
		return nil
	}
	path := "/proc/" + strconv.Itoa(initPid) + "/ns/net"
	f, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("set lo up: open %s: %w", path, err)
	}
	defer unix.Close(f)
	return netdev.LoopbackUpIn(f)
}
