package libcontainer

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
	"github.com/berth-runtime/berth/libcontainer/idmap"
	"github.com/berth-runtime/berth/libcontainer/wire"
)

// A bind source that the container's user namespace cannot reach (a
// directory under one only the host's root may enter) is opened by the
// runtime, which still has the caller's credentials, as runc does: init
// asks for mounts[i] (msgMountSource) and the runtime answers with a
// detached clone of the source (open_tree, recursive for rbind), which
// init attaches in the container's mount namespace. Only init's failure
// to open the source itself leads here: sources it can reach are opened
// by init, on the hot path, as before. Idmapped mounts always come from
// here: making one needs privileges over the source's mount namespace
// that init, in the container's namespaces, does not have.
//
// The runtime opens each source in init's mount namespace, from a thread
// that has joined it (nsThread), as runc does: a source inside the
// container's rootfs (a bind of an earlier mount's destination) is then
// the tree init has built so far, not the empty directory the host sees.
// The thread keeps the runtime's credentials: it reaches what the runtime
// reaches, and it may idmap the clone (the source's filesystem belongs to
// the runtime's user namespace, not the container's).

type mountSourceRequest struct {
	Index int `json:"index"`
}

// serveMountSource is the runtime's side of one request; in runs the
// function that opens the source in init's mount namespace.
func serveMountSource(conn *syncConn, spec *specs.Spec, bundle string, m syncMsg, in func(func() error) error) error {
	var req mountSourceRequest
	if err := wire.Unmarshal(m.Payload, &req); err != nil {
		return fmt.Errorf("decode mount source request: %w", err)
	}
	fd := -1
	err := in(func() error {
		var err error
		fd, err = openMountSource(spec, bundle, req.Index)
		return err
	})
	if err != nil {
		return conn.sendMsg(syncMsg{Type: msgMountSourceFd, Error: err.Error()}, nil)
	}
	defer unix.Close(fd)
	return conn.send(msgMountSourceFd, nil, fd)
}

// openMountSource clones the source of the bind mount spec.Mounts[i].
func openMountSource(spec *specs.Spec, bundle string, i int) (int, error) {
	if i < 0 || i >= len(spec.Mounts) || !configs.IsBind(spec.Mounts[i]) {
		return -1, fmt.Errorf("mount source request for mounts[%d]: not a bind mount", i)
	}
	m := spec.Mounts[i]
	mf, err := configs.ParseMountOptions(m.Options)
	if err != nil {
		return -1, err
	}
	src := configs.InBundle(bundle, m.Source)
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if mf.Flags&unix.MS_REC != 0 {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, flags)
	if err != nil {
		return -1, fmt.Errorf("open_tree %s: %w", src, err)
	}
	if configs.IDMapped(m) {
		if err := idmapTree(fd, spec, m, mf); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("idmapped mount of %s: %w", src, err)
		}
	}
	return fd, nil
}

// idmapTree makes the detached clone of an idmapped mount's source
// idmapped, with the mount's mappings (or the container's, for idmap
// without any). Only the runtime can: it needs CAP_SYS_ADMIN over the
// user namespace of the source's mount, the host's.
func idmapTree(tree int, spec *specs.Spec, m specs.Mount, mf configs.MountFlags) error {
	if os.Geteuid() != 0 {
		return errors.New("idmapped mounts need berth to run as root (not rootless)")
	}
	uids, gids := configs.MountIDMappings(spec, m)
	var userns *os.File
	var err error
	if ns, ok := configs.FindNamespace(spec, specs.UserNamespace); ok && ns.Path != "" && len(uids) == 0 && len(gids) == 0 {
		// The joined user namespace itself (validateIDMapMount).
		userns, err = os.Open(ns.Path)
		if err != nil {
			return fmt.Errorf("open user namespace %s: %w", ns.Path, err)
		}
	} else if userns, err = idmap.Userns(uids, gids); err != nil {
		return err
	}
	defer userns.Close()
	return idmap.Apply(tree, userns, mf.IDMapRec)
}
