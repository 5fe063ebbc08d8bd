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
// in a namespace init's clone made (newNetNS sets up the one made ahead;
// a namespace joined by path is its maker's), and linux.netDevices moved
// in, so that hooks and the process see them. The namespace is the
// made-ahead one (aheadFd), or init's own (made by the clone, or joined
// by path), opened once for both. An unprivileged runtime may not move
// the host's devices, and cannot enter the namespace (setns needs
// CAP_SYS_ADMIN in the runtime's own user namespace too): there lo stays
// down; init would have to set it up itself.
func setUpNetNS(spec *specs.Spec, rootless bool, aheadFd, initPid int) error {
	ns, ok := configs.FindNamespace(spec, specs.NetworkNamespace)
	lo := ok && ns.Path == "" && aheadFd < 0 && !rootless
	devs := spec.Linux.NetDevices
	if len(devs) > 0 && rootless {
		return errors.New("linux.netDevices: not possible for a rootless container")
	}
	if !lo && len(devs) == 0 {
		return nil
	}
	fd := aheadFd
	if fd < 0 {
		path := "/proc/" + strconv.Itoa(initPid) + "/ns/net"
		f, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			what := "set lo up"
			if len(devs) > 0 {
				what = "linux.netDevices"
			}
			return fmt.Errorf("%s: open %s: %w", what, path, err)
		}
		defer unix.Close(f)
		fd = f
	}
	if lo {
		if err := netdev.InNetNS(fd, "set lo up", netdev.LoopbackUp); err != nil {
			return err
		}
	}
	return netdev.Move(devs, fd)
}
