package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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
// content); a bind of a file gets an empty file.
func MakeMountpoints(rootfsPath string, mounts []specs.Mount) error {
	root, err := openHost(rootfsPath, unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("open rootfs: %w", err)
	}
	defer root.Close()
	var tmpfs []string
	for _, m := range mounts {
		if m.Type == "tmpfs" {
			tmpfs = append(tmpfs, filepath.Clean("/"+m.Destination))
		}
	}
	for _, m := range mounts {
		dest := filepath.Clean("/" + m.Destination)
		if underAny(dest, tmpfs) {
			continue
		}
		file := false
		if m.Source != "" && (m.Type == "bind" || hasBindOption(m.Options)) {
			if fi, err := os.Stat(m.Source); err == nil && !fi.IsDir() {
				file = true
			}
		}
		h, err := resolveDest(root, dest, file)
		if err != nil {
			return fmt.Errorf("mount point %s: %w", dest, err)
		}
		h.Close()
	}
	return nil
}

func hasBindOption(opts []string) bool {
	for _, o := range opts {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
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
