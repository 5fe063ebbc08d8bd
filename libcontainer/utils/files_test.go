package utils

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pid")

	old := unix.Umask(0o077)
	defer unix.Umask(old)

	if err := WriteFileAtomic(path, []byte("123"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("4567"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "4567" {
		t.Errorf("content = %q, want %q", data, "4567")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644 despite umask 077", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the target (temp file left behind?)", len(entries))
	}
}

func TestWriteFileAtomicRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := WriteFileAtomic("pid", []byte("1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile("pid"); err != nil || string(data) != "1" {
		t.Fatalf("read back %q, %v", data, err)
	}
}

func TestWriteFileAtomicErrors(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "pid"), []byte("1"), 0o644); err == nil {
		t.Error("write into a missing directory succeeded")
	}
	// Renaming over a non-empty directory fails; the temp file must not remain.
	target := filepath.Join(dir, "target")
	if err := os.MkdirAll(filepath.Join(target, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(target, []byte("1"), 0o644); err == nil {
		t.Error("rename over a non-empty directory succeeded")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after failure, want 1", len(entries))
	}
}

func TestNewSockPair(t *testing.T) {
	parent, child, err := NewSockPair("init")
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	defer child.Close()
	if parent.Name() != "init-p" || child.Name() != "init-c" {
		t.Errorf("names = %q, %q", parent.Name(), child.Name())
	}
	for _, f := range []*os.File{parent, child} {
		flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
		if err != nil {
			t.Fatal(err)
		}
		if flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("%s is not close-on-exec", f.Name())
		}
	}
	if _, err := parent.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := child.Read(buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

func TestCloseExecFrom(t *testing.T) {
	for name, closeExec := range map[string]func(int) error{
		"close_range": CloseExecFrom,
		"proc":        closeExecFromProc,
	} {
		t.Run(name, func(t *testing.T) {
			// High fixed numbers keep clear of the runtime's own fds. Dup3
			// without flags leaves close-on-exec cleared.
			const below, first = 900, 901
			for fd := below; fd <= first+2; fd++ {
				if err := unix.Dup3(0, fd, 0); err != nil {
					t.Fatal(err)
				}
				defer unix.Close(fd)
			}
			if err := closeExec(first); err != nil {
				t.Fatal(err)
			}
			for fd := below; fd <= first+2; fd++ {
				flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := flags&unix.FD_CLOEXEC != 0, fd >= first; got != want {
					t.Errorf("fd %d: close-on-exec = %v, want %v", fd, got, want)
				}
			}
		})
	}
	if err := CloseExecFrom(-1); err == nil {
		t.Error("negative minFd accepted")
	}
}

func TestReadSmallFile(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 1500)
	if err := os.WriteFile(dir+"/f", []byte(long), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSmallFile(dir+"/f", 4096)
	if err != nil || string(got) != long {
		t.Fatalf("ReadSmallFile = %d bytes, %v; want %d bytes", len(got), err, len(long))
	}
	if _, err := ReadSmallFile(dir+"/f", 1000); err == nil {
		t.Fatal("ReadSmallFile over the limit: no error")
	}
	if _, err := ReadSmallFile(dir+"/missing", 10); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadSmallFile of a missing file: %v, want ErrNotExist", err)
	}
	stat, err := ReadSmallFile("/proc/self/stat", 4096)
	if err != nil || !strings.Contains(string(stat), ") ") {
		t.Fatalf("ReadSmallFile(/proc/self/stat) = %q, %v", stat, err)
	}
}
