package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/configs"
)

// DevicePaths are the paths of the device nodes a container gets: the
// default ones and config.json's (CRIU must know them when they are
// binds of the host's, in a user namespace).
func DevicePaths(spec *specs.Spec) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, d := range defaultDevices() {
		add(d.Path)
	}
	if spec.Linux != nil {
		for _, d := range spec.Linux.Devices {
			add(d.Path)
		}
	}
	return out
}

// MakeMountpoints creates, in-root, the mount points CRIU needs to find
// in a rootfs it restores into: the rootfs may be a fresh copy of the
// image, without what create made in it. Mount points under a tmpfs of
// the container are left alone (CRIU restores the tmpfs with its
// content); a bind of a file gets an empty file. A mount point under an
// earlier bind of a directory is made in that bind's source (resolved
// inside it), where create made it through the mounted bind. Relative
// bind sources are relative to bundle.
func MakeMountpoints(rootfsPath, bundle string, mounts []specs.Mount) error {
	var tmpfs []string
	for _, m := range mounts {
		if m.Type == "tmpfs" {
			tmpfs = append(tmpfs, filepath.Clean("/"+m.Destination))
		}
	}
	type dirBind struct{ dest, src string }
	var binds []dirBind
	for _, m := range mounts {
		dest := filepath.Clean("/" + m.Destination)
		if underAny(dest, tmpfs) {
			continue
		}
		bind := m.Source != "" && configs.IsBind(m)
		src := ""
		file := false
		if bind {
			src = configs.InBundle(bundle, m.Source)
			if fi, err := os.Stat(src); err == nil && !fi.IsDir() {
				file = true
			}
		}
		// the innermost earlier directory bind holding dest
		base, rel, depth := rootfsPath, dest, 0
		for _, b := range binds {
			if strings.HasPrefix(dest, b.dest+"/") && len(b.dest) > depth {
				base, rel, depth = b.src, dest[len(b.dest):], len(b.dest)
			}
		}
		if err := makeMountpoint(base, rel, file); err != nil {
			return fmt.Errorf("mount point %s: %w", dest, err)
		}
		if bind && !file {
			binds = append(binds, dirBind{dest, src})
		}
	}
	return nil
}

// makeMountpoint makes rel (a directory, or an empty file) in-root of base.
func makeMountpoint(base, rel string, file bool) error {
	root, err := openHost(base, unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("open %s: %w", base, err)
	}
	defer root.Close()
	h, err := resolveDest(root, rel, file)
	if err != nil {
		return err
	}
	return h.Close()
}

// underAny reports whether p lies strictly below one of dirs.
func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if d == "/" || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}
