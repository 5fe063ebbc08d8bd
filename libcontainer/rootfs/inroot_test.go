package rootfs

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// realPath is where a handle really points (through its /proc magic link).
func realPath(t *testing.T, h handle) string {
	t.Helper()
	p, err := os.Readlink(procFdPath(h))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func openRoot(t *testing.T) (string, handle) {
	t.Helper()
	dir := t.TempDir()
	root, err := openHost(dir, unix.O_DIRECTORY)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return dir, root
}

func TestMkdirAllInRoot(t *testing.T) {
	dir, root := openRoot(t)
	outside := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(filepath.Join(dir, "dev"), 0o755))
	// An image symlink that points out of the rootfs, absolutely and by "..".
	must(os.Symlink(outside, filepath.Join(dir, "abs")))
	must(os.Symlink("../../../../../../"+outside, filepath.Join(dir, "rel")))
	must(os.WriteFile(filepath.Join(dir, "file"), nil, 0o644))
	// In-root, both links lead to root+outside: make it exist there.
	must(os.MkdirAll(filepath.Join(dir, outside), 0o755))

	for _, tc := range []struct{ path, want string }{
		{"/dev", "dev"},             // exists
		{"/dev/pts", "dev/pts"},     // last component missing (the fast path)
		{"dev/shm/", "dev/shm"},     // trailing slash, relative
		{"/a/b/c", "a/b/c"},         // several missing (pathrs-lite)
		{"/abs/x", outside + "/x"},  // through an absolute symlink: stays in root
		{"/rel/y", outside + "/y"},  // through ".." symlinks: clamped at root
		{"/dev/../up/z", "up/z"},    // ".." in the path itself
		{"/../../escape", "escape"}, // ".." above the root
	} {
		h, err := mkdirAllInRoot(root, tc.path, 0o755)
		if err != nil {
			t.Errorf("mkdirAllInRoot(%q): %v", tc.path, err)
			continue
		}
		want := filepath.Join(dir, tc.want)
		if got := realPath(t, h); got != want {
			t.Errorf("mkdirAllInRoot(%q) is %s, want %s", tc.path, got, want)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(h), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			t.Errorf("mkdirAllInRoot(%q): not a directory (%v)", tc.path, err)
		}
		h.Close()
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("created outside the root: %v", ents)
	}
	if h, err := mkdirAllInRoot(root, "/file", 0o755); err == nil {
		h.Close()
		t.Error("mkdirAllInRoot over a regular file succeeded")
	}
	if h, err := mkdirAllInRoot(root, "/file/sub", 0o755); err == nil {
		h.Close()
		t.Error("mkdirAllInRoot under a regular file succeeded")
	}
}

// The fast path must refuse a last component that is (or races to be) a
// symlink, leaving it to pathrs-lite, which resolves it in-root.
func TestMkdirLastInRootRefusesSymlink(t *testing.T) {
	dir, root := openRoot(t)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if h, ok := mkdirLastInRoot(root, "/link", 0o755); ok {
		h.Close()
		t.Fatal("mkdirLastInRoot returned a handle for a symlink")
	}
	if h, ok := mkdirLastInRoot(root, "/x/../y", 0o755); ok {
		h.Close()
		t.Error("mkdirLastInRoot took a path with \"..\"")
	}
	if h, ok := mkdirLastInRoot(root, "/missing/parent", 0o755); ok {
		h.Close()
		t.Error("mkdirLastInRoot created under a missing parent")
	}
	h, ok := mkdirLastInRoot(root, "/new", 0o700)
	if !ok {
		t.Fatal("mkdirLastInRoot(/new) failed")
	}
	defer h.Close()
	if got, want := realPath(t, h), filepath.Join(dir, "new"); got != want {
		t.Errorf("mkdirLastInRoot(/new) is %s, want %s", got, want)
	}
}

// The pathrs-lite fallback (an *os.File API) gets a duplicate of root and
// hands back a handle that outlives its *os.File.
func TestHandleFileRoundTrip(t *testing.T) {
	dir, root := openRoot(t)
	f, err := asFile(root, "root")
	if err != nil {
		t.Fatal(err)
	}
	if int(f.Fd()) == int(root) {
		t.Fatal("asFile did not duplicate")
	}
	h, err := fromFile(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// f is closed by fromFile; h and root still work.
	if _, err := f.Stat(); err == nil {
		t.Error("fromFile left its *os.File open")
	}
	if got := realPath(t, h); got != dir {
		t.Errorf("handle from fromFile is %s, want %s", got, dir)
	}
	if got := realPath(t, root); got != dir {
		t.Errorf("root after asFile is %s, want %s", got, dir)
	}
}

func TestMkdirBeneath(t *testing.T) {
	dir := t.TempDir()
	pfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	parent := handle(pfd)
	defer parent.Close()
	for i := 0; i < 2; i++ { // made, then found
		h, err := mkdirBeneath(parent, "cpu,cpuacct", 0o755)
		if err != nil {
			t.Fatalf("try %d: %v", i, err)
		}
		h.Close()
	}
	if st, err := os.Stat(filepath.Join(dir, "cpu,cpuacct")); err != nil || !st.IsDir() {
		t.Fatalf("not a directory: %v", err)
	}
	if err := os.Symlink("/", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"link", "..", ".", "", "a/b"} {
		if h, err := mkdirBeneath(parent, name, 0o755); err == nil {
			h.Close()
			t.Errorf("%q: accepted", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); err == nil {
		t.Error("a/b made a")
	}
}

func TestMakeMountpointsNestedInBind(t *testing.T) {
	bundle := t.TempDir()
	for _, d := range []string{"rootfs", "b1", "b2"} {
		if err := os.Mkdir(filepath.Join(bundle, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bundle, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mounts := []specs.Mount{
		{Type: "bind", Source: "b1", Destination: "/test", Options: []string{"bind"}},
		{Type: "bind", Source: "b2", Destination: "/test/for/nested", Options: []string{"bind"}},
		{Type: "bind", Source: "file", Destination: "/test/for/f", Options: []string{"bind"}},
		{Type: "tmpfs", Source: "tmpfs", Destination: "/run"},
		{Type: "bind", Source: "b2", Destination: "/run/x", Options: []string{"bind"}},
	}
	if err := MakeMountpoints(filepath.Join(bundle, "rootfs"), bundle, mounts); err != nil {
		t.Fatal(err)
	}
	for path, dir := range map[string]bool{"rootfs/test": true, "b1/for/nested": true, "b1/for/f": false} {
		fi, err := os.Lstat(filepath.Join(bundle, path))
		if err != nil || fi.IsDir() != dir {
			t.Errorf("%s: %v, %v; want a directory: %t", path, fi, err, dir)
		}
	}
	for _, path := range []string{"rootfs/test/for", "rootfs/run/x"} {
		if _, err := os.Lstat(filepath.Join(bundle, path)); err == nil {
			t.Errorf("%s was made", path)
		}
	}
}
