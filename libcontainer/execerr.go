package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

// The words of an exec process's set-up failures. The Go process
// (init_linux.go) fails with these functions, and so does a direct exec
// (directexec.go: directFailureError words the C process's report with
// them), so that `berth exec` fails alike whichever process set it up.
// What other packages apply, they word (caps.BoundingError and the rest,
// seccomp.LoadError, utils.CloseRangeError); a lookup fails with os/exec's
// errors, as runc's does.

func errJoinCgroup(err error) error { return fmt.Errorf("join cgroup: %w", err) }

// errRlimit: setting the limit typ (RLIMIT_NOFILE) to soft and hard.
func errRlimit(typ string, soft, hard uint64, err error) error {
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("set rlimit %s (soft %d, hard %d): %w (raising a hard limit needs CAP_SYS_RESOURCE)", typ, soft, hard, err)
	}
	return fmt.Errorf("set rlimit %s (soft %d, hard %d): %w", typ, soft, hard, err)
}

// errNotFound: no candidate of PATH is the program name.
func errNotFound(name string) error { return &exec.Error{Name: name, Err: exec.ErrNotFound} }

func errChdir(cwd string, err error) error { return fmt.Errorf("chdir to cwd %q: %w", cwd, err) }

func errCwdOutside(cwd string) error {
	return fmt.Errorf("cwd %q is outside the container root", cwd)
}

func errGetcwd(cwd string, err error) error {
	return fmt.Errorf("getcwd after chdir %q: %w", cwd, err)
}

func errLoadSeccomp(err error) error { return fmt.Errorf("load seccomp filter: %w", err) }

func errKeepcapsSet(err error) error   { return fmt.Errorf("set keepcaps: %w", err) }
func errKeepcapsClear(err error) error { return fmt.Errorf("clear keepcaps: %w", err) }

func errSetgroups(groups []int, err error) error {
	return fmt.Errorf("setgroups %v: %w", groups, err)
}

// intGroups is gids as setgroups takes (and words) them.
func intGroups(gids []uint32) []int {
	groups := make([]int, 0, len(gids))
	for _, g := range gids {
		groups = append(groups, int(g))
	}
	return groups
}

func errSetgid(gid int, err error) error { return fmt.Errorf("setgid %d: %w", gid, err) }
func errSetuid(uid int, err error) error { return fmt.Errorf("setuid %d: %w", uid, err) }

// errStdioOwner: fd (0, 1 or 2) could not be given to the process's user.
func errStdioOwner(fd int, err error) error {
	return fmt.Errorf("give stdio fd %d to the process's user: %w", fd, err)
}

func errNoNewPrivs(err error) error { return fmt.Errorf("set no_new_privs: %w", err) }

func errPdeathsig(err error) error { return fmt.Errorf("clear parent death signal: %w", err) }

// errExecve: execve of path failed.
func errExecve(path string, err error) error {
	return &os.PathError{Op: "exec", Path: path, Err: err}
}

// errKeyring: the container's session keyring (keyring.go) could not be
// joined (0), described (1) or made searchable (2).
func errKeyring(step uint32, err error) error {
	switch step {
	case 1:
		return fmt.Errorf("read session keyring permissions: %w", err)
	case 2:
		return fmt.Errorf("make session keyring searchable: %w", err)
	}
	return fmt.Errorf("unable to join session keyring: %w", err)
}

// errExecWait: an exec process could not take its go-ahead from the
// caller's --exec-wait-fifo: reopening it (1) or writing it (2).
func errExecWait(index uint32, err error) error {
	if index == 1 {
		return fmt.Errorf("open exec wait fifo: %w", err)
	}
	return fmt.Errorf("write exec wait fifo: %w", err)
}

// errStart: a created init could not take its start: the start message
// (0), reopening exec.fifo (1) or writing it (2).
func errStart(index uint32, err error) error {
	switch index {
	case 1:
		return fmt.Errorf("open exec fifo: %w", err)
	case 2:
		return fmt.Errorf("write exec fifo: %w", err)
	}
	return fmt.Errorf("read start message: %w", err)
}
