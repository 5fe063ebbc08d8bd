package libcontainer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/caps"
	"github.com/berth-runtime/berth/libcontainer/nsenter"
	"github.com/berth-runtime/berth/libcontainer/seccomp"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// errorsProgram is a direct exec's program whose values the failures
// name: two candidates and two rlimits, so that an index picks one.
func errorsProgram() *nsenter.ExecProgram {
	return &nsenter.ExecProgram{
		Args: []string{"prog"}, Name: "prog", Candidates: []string{"/a/prog", "/b/prog"},
		Cwd: "/srv", UID: 5, GID: 6, Groups: []uint32{7, 8}, CloseFrom: 5,
		Rlimits: []nsenter.Rlimit{
			{Type: "RLIMIT_NOFILE", Resource: unix.RLIMIT_NOFILE, Soft: 1, Hard: 2},
			{Type: "RLIMIT_NPROC", Resource: unix.RLIMIT_NPROC, Soft: 10, Hard: 5},
		},
		SeccompFlags: unix.SECCOMP_FILTER_FLAG_LOG,
	}
}

// directErrorCase is one report of a direct exec and the error the Go
// exec process fails with for the same step and values: the step itself
// run where the test can make it fail harmlessly, else its error function.
type directErrorCase struct {
	name  string
	edit  func(*nsenter.ExecProgram) // nil: errorsProgram as is
	f     nsenter.DirectFailure
	goErr func(t *testing.T) error
}

func directErrorCases(t *testing.T) []directErrorCase {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The Go process's lookup of a path with a slash (prepareExec).
	lookup := func(file string) func(*testing.T) error {
		return func(t *testing.T) error {
			_, err := prepareExec(&specs.Process{Args: []string{file}})
			if err == nil {
				t.Fatalf("prepareExec(%q) succeeded", file)
			}
			return err
		}
	}
	slash := func(file string) func(*nsenter.ExecProgram) {
		return func(p *nsenter.ExecProgram) {
			p.Args, p.Name, p.Candidates, p.Slash = []string{file}, file, []string{file}, true
		}
	}
	goErr := func(err error) func(*testing.T) error { return func(*testing.T) error { return err } }
	p := errorsProgram()
	return []directErrorCase{
		{"protocol", nil, nsenter.DirectFailure{Kind: nsenter.DirectProtocol, Errno: unix.EBADF, Index: 2},
			goErr(fmt.Errorf("direct exec: protocol error 2: %w", unix.EBADF))},
		{"protocol without errno", nil, nsenter.DirectFailure{Kind: nsenter.DirectProtocol, Index: 1},
			goErr(errors.New("direct exec: protocol error 1"))},
		{"join cgroup", nil, nsenter.DirectFailure{Kind: nsenter.DirectJoinCgroup, Errno: unix.EBADF},
			func(t *testing.T) error {
				// A "tasks" file that cannot be written: one open read-only.
				fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err != nil {
					t.Fatal(err)
				}
				return joinCgroups([]int{fd})
			}},
		{"pdeathsig", nil, nsenter.DirectFailure{Kind: nsenter.DirectPdeathsig, Errno: unix.EINVAL},
			goErr(errPdeathsig(unix.EINVAL))},
		{"rlimit", nil, nsenter.DirectFailure{Kind: nsenter.DirectRlimit, Errno: unix.EINVAL, Index: 1},
			func(t *testing.T) error {
				// soft above hard: refused, nothing changed
				return setRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_NPROC", Soft: 10, Hard: 5}})
			}},
		{"rlimit EPERM", nil, nsenter.DirectFailure{Kind: nsenter.DirectRlimit, Errno: unix.EPERM, Index: 0},
			goErr(errRlimit("RLIMIT_NOFILE", 1, 2, unix.EPERM))},
		{"lookup: not found", func(p *nsenter.ExecProgram) {
			p.Args, p.Name = []string{"nothere"}, "nothere"
		}, nsenter.DirectFailure{Kind: nsenter.DirectLookupNotFound},
			func(t *testing.T) error {
				_, err := prepareExec(&specs.Process{Args: []string{"nothere"}, Env: []string{"PATH=" + dir}})
				return err
			}},
		{"lookup: stat", slash(missing), nsenter.DirectFailure{Kind: nsenter.DirectLookupStat, Errno: unix.ENOENT},
			lookup(missing)},
		{"lookup: directory", slash(dir), nsenter.DirectFailure{Kind: nsenter.DirectLookupErr, Errno: unix.EISDIR},
			lookup(dir)},
		// No execute bit where faccessat cannot tell: os/exec's
		// fs.ErrPermission, worded as faccessat's EACCES is.
		{"lookup: permission", slash(noexec), nsenter.DirectFailure{Kind: nsenter.DirectLookupPerm},
			lookup(noexec)},
		{"chdir", func(p *nsenter.ExecProgram) { p.Cwd = missing },
			nsenter.DirectFailure{Kind: nsenter.DirectChdir, Errno: unix.ENOENT},
			func(*testing.T) error { return enterCwd(missing) }},
		{"chdir: a direct init's new root", nil,
			nsenter.DirectFailure{Kind: nsenter.DirectChdir, Errno: unix.EACCES, Index: 1},
			goErr(errChdir("/", unix.EACCES))},
		{"cwd outside", nil, nsenter.DirectFailure{Kind: nsenter.DirectCwdOutside},
			goErr(errCwdOutside(p.Cwd))},
		{"getcwd", nil, nsenter.DirectFailure{Kind: nsenter.DirectGetcwd, Errno: unix.ENAMETOOLONG},
			goErr(errGetcwd(p.Cwd, unix.ENAMETOOLONG))},
		{"close-exec: close_range", nil, nsenter.DirectFailure{Kind: nsenter.DirectCloseExec, Errno: unix.EBADF},
			goErr(utils.CloseRangeError(5, unix.EBADF))},
		{"close-exec: /proc/self/fd", nil, nsenter.DirectFailure{Kind: nsenter.DirectCloseExec, Errno: unix.EMFILE, Index: 1},
			func(*testing.T) error {
				// os.ReadDir's error when the directory does not open.
				return utils.CloseExecDirError(5, &fs.PathError{Op: "open", Path: "/proc/self/fd", Err: unix.EMFILE})
			}},
		{"seccomp", nil, nsenter.DirectFailure{Kind: nsenter.DirectSeccomp, Errno: unix.EINVAL},
			goErr(errLoadSeccomp(seccomp.LoadError(unix.SECCOMP_FILTER_FLAG_LOG, unix.EINVAL)))},
		{"seccomp EACCES", nil, nsenter.DirectFailure{Kind: nsenter.DirectSeccomp, Errno: unix.EACCES},
			goErr(errLoadSeccomp(seccomp.LoadError(unix.SECCOMP_FILTER_FLAG_LOG, unix.EACCES)))},
		{"capget", nil, nsenter.DirectFailure{Kind: nsenter.DirectCapget, Errno: unix.EFAULT},
			goErr(caps.ReadError(unix.EFAULT))},
		{"bounding", nil, nsenter.DirectFailure{Kind: nsenter.DirectBounding, Errno: unix.EPERM, Index: 21},
			goErr(caps.BoundingError(unix.EPERM))},
		{"keepcaps set", nil, nsenter.DirectFailure{Kind: nsenter.DirectKeepcapsSet, Errno: unix.EINVAL},
			goErr(errKeepcapsSet(unix.EINVAL))},
		{"setgroups", nil, nsenter.DirectFailure{Kind: nsenter.DirectSetgroups, Errno: unix.EPERM},
			goErr(errSetgroups([]int{7, 8}, unix.EPERM))},
		{"setgid", nil, nsenter.DirectFailure{Kind: nsenter.DirectSetgid, Errno: unix.EPERM},
			goErr(errSetgid(6, unix.EPERM))},
		{"setuid", nil, nsenter.DirectFailure{Kind: nsenter.DirectSetuid, Errno: unix.EAGAIN},
			goErr(errSetuid(5, unix.EAGAIN))},
		{"keepcaps clear", nil, nsenter.DirectFailure{Kind: nsenter.DirectKeepcapsClear, Errno: unix.EINVAL},
			goErr(errKeepcapsClear(unix.EINVAL))},
		{"capset", nil, nsenter.DirectFailure{Kind: nsenter.DirectCapset, Errno: unix.EPERM},
			goErr(caps.ApplyError(unix.EPERM))},
		{"ambient", nil, nsenter.DirectFailure{Kind: nsenter.DirectAmbient, Errno: unix.EPERM, Index: 5},
			goErr(caps.AmbientError(unix.EPERM))},
		{"no_new_privs", nil, nsenter.DirectFailure{Kind: nsenter.DirectNNP, Errno: unix.EINVAL},
			goErr(errNoNewPrivs(unix.EINVAL))},
		{"exec", nil, nsenter.DirectFailure{Kind: nsenter.DirectExec, Errno: unix.ENOEXEC, Index: 1},
			goErr(errExecve("/b/prog", unix.ENOEXEC))},
		// The session keyring (joinSessionKeyring), and a direct init's
		// own steps: the Go init's words (waitForStart).
		{"keyring: join", nil, nsenter.DirectFailure{Kind: nsenter.DirectKeyring, Errno: unix.EDQUOT},
			goErr(fmt.Errorf("unable to join session keyring: %w", unix.EDQUOT))},
		{"keyring: describe", nil, nsenter.DirectFailure{Kind: nsenter.DirectKeyring, Errno: unix.EINVAL, Index: 1},
			goErr(fmt.Errorf("read session keyring permissions: %w", unix.EINVAL))},
		{"keyring: setperm", nil, nsenter.DirectFailure{Kind: nsenter.DirectKeyring, Errno: unix.EACCES, Index: 2},
			goErr(fmt.Errorf("make session keyring searchable: %w", unix.EACCES))},
		{"start: message", nil, nsenter.DirectFailure{Kind: nsenter.DirectStart, Errno: unix.ECONNRESET},
			goErr(fmt.Errorf("read start message: %w", unix.ECONNRESET))},
		{"start: fifo open", nil, nsenter.DirectFailure{Kind: nsenter.DirectStart, Errno: unix.ENXIO, Index: 1},
			goErr(fmt.Errorf("open exec fifo: %w", unix.ENXIO))},
		{"start: fifo write", nil, nsenter.DirectFailure{Kind: nsenter.DirectStart, Errno: unix.EPIPE, Index: 2},
			goErr(fmt.Errorf("write exec fifo: %w", unix.EPIPE))},
		{"stdio owner", nil, nsenter.DirectFailure{Kind: nsenter.DirectStdioOwner, Errno: unix.EIO, Index: 1},
			goErr(errStdioOwner(1, unix.EIO))},
	}
}

// Every kind of report a direct exec sends reads as the Go exec process's
// error for the same step and values (and keeps its errno reachable): a
// kind without words, or words changed on one side, fails here.
func TestDirectFailureWording(t *testing.T) {
	covered := map[nsenter.DirectKind]bool{}
	for _, tc := range directErrorCases(t) {
		covered[tc.f.Kind] = true
		prog := errorsProgram()
		if tc.edit != nil {
			tc.edit(prog)
		}
		f := tc.f
		got := directFailureError(prog, &f)
		want := tc.goErr(t)
		if want == nil {
			t.Errorf("%s: the Go process's step did not fail", tc.name)
			continue
		}
		if got.Error() != want.Error() {
			t.Errorf("%s: direct exec %q\n\tGo exec process %q", tc.name, got, want)
		}
		var raw *nsenter.DirectFailure
		if errors.As(got, &raw) {
			t.Errorf("%s: the report was not worded: %q", tc.name, got)
		}
		// EACCES from seccomp is worded without it, as in the Go process.
		if f.Errno != 0 && errors.Is(want, f.Errno) != errors.Is(got, f.Errno) {
			t.Errorf("%s: errno %v reachable: direct %t, Go %t", tc.name, f.Errno, errors.Is(got, f.Errno), errors.Is(want, f.Errno))
		}
	}
	for k := nsenter.DirectKind(1); k < nsenter.DirectKinds; k++ {
		if !covered[k] {
			t.Errorf("kind %d has no case here: word it in directFailureError and add it", k)
		}
	}
}

// A report the runtime cannot place (an index past the program's lists,
// a kind it does not know) comes back raw, not as someone else's words.
func TestDirectFailureRawFallback(t *testing.T) {
	for _, f := range []nsenter.DirectFailure{
		{Kind: nsenter.DirectRlimit, Errno: unix.EINVAL, Index: 2},
		{Kind: nsenter.DirectExec, Errno: unix.ENOENT, Index: 2},
		{Kind: nsenter.DirectKinds, Errno: unix.EPERM},
		{Kind: 0},
	} {
		err := directFailureError(errorsProgram(), &f)
		var raw *nsenter.DirectFailure
		if !errors.As(err, &raw) || *raw != f {
			t.Errorf("%+v: %v, want the raw report", f, err)
		}
	}
}
