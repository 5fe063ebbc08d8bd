// Command berth is an OCI low-level container runtime, a drop-in for runc.

// berth is a short-lived command (and its re-executed init lives only until
// execve): the runtime must not keep re-reading the cgroup CPU limits in the
// background to adjust GOMAXPROCS, nor keep the host cgroup's CPU files open
// for that (a created init would hold them, in reach of the container).
//
//go:debug updatemaxprocs=0
//go:debug containermaxprocs=0
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
	// Most of a command's page faults were its heap's first touches.
	"github.com/berth-runtime/berth/libcontainer/hugeheap"
	// The binary's code and data, mapped in a call each rather than
	// fault by fault.
	_ "github.com/berth-runtime/berth/libcontainer/prefault"
	// sysmon's 20 µs wake-ups were most of a command's context switches.
	_ "github.com/berth-runtime/berth/libcontainer/threadslack"
	"github.com/berth-runtime/berth/libcontainer/utils"
)

// version and gitCommit are set with -ldflags -X at build time.
var (
	version   = "0.1.0-dev"
	gitCommit = ""
)

// newApp builds the command line. With only set (see commandName) it
// holds that one subcommand: urfave/cli sets up help and checks the flags
// of every command it is given on each run, which for all of berth's
// every call of a container's lifecycle would pay (README, Speed).
func newApp(only string) *cli.Command {
	cmds := buildCommands(only)
	for _, c := range cmds {
		if args, desc := commandHelp(c.Name); args != "" || desc != "" {
			c.ArgsUsage, c.Description = args, desc
		}
		// Each repeated flag is one value, as runc's: "-e A=1,2" is one
		// variable and "--cgroup cpu,memory:sub" one sub-cgroup entry.
		c.DisableSliceFlagSeparator = true
	}
	return &cli.Command{
		Name:    utils.ProgramName(os.Args),
		Usage:   "Open Container Initiative runtime",
		Version: version,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "debug", Usage: "enable debug logging"},
			&cli.StringFlag{Name: "log", Usage: "append log messages to this file instead of stderr"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: 'text' or 'json'"},
			&cli.StringFlag{Name: "root", Value: defaultRoot(), Usage: "root directory for storage of container state (best on a tmpfs)"},
			&cli.StringFlag{Name: "criu", Value: "criu", Usage: "path to the criu binary used for checkpoint and restore"},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "use the systemd cgroup manager; cgroupsPath is then \"slice:prefix:name\", e.g. \"system.slice:berth:434234\""},
			&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "ignore cgroup permission errors ('true', 'false' or 'auto': true when not root, or root only in a user namespace)"},
		},
		Before:   before,
		Commands: cmds,
		OnUsageError: func(ctx context.Context, cmd *cli.Command, err error, isSubcommand bool) error {
			// A subcommand's flag error comes before Before has run:
			// set up logging so the error still reaches --log.
			if _, lerr := setupLogging(ctx, cmd.Root()); lerr != nil {
				return lerr
			}
			return err
		},
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
	}
}

// commandTable lists the subcommands in runc's order, which its help
// lists; check is berth's own. The name is the one the constructor gives.
var commandTable = []struct {
	name  string
	build func() *cli.Command
}{
	{"checkpoint", checkpointCommand}, {"create", createCommand}, {"delete", deleteCommand},
	{"events", eventsCommand}, {"exec", execCommand}, {"kill", killCommand}, {"list", listCommand},
	{"pause", pauseCommand}, {"ps", psCommand}, {"restore", restoreCommand}, {"resume", resumeCommand},
	{"run", runCommand}, {"spec", specCommand}, {"start", startCommand}, {"state", stateCommand},
	{"update", updateCommand}, {"features", featuresCommand}, {"check", checkCommand},
}

// buildCommands makes the subcommand only, when it is one of
// commandTable's, and every subcommand otherwise: the others' flags and
// texts are never made on a container's hot path.
func buildCommands(only string) []*cli.Command {
	for _, c := range commandTable {
		if only != "" && c.name == only {
			return []*cli.Command{c.build()}
		}
	}
	cmds := make([]*cli.Command, len(commandTable))
	for i, c := range commandTable {
		cmds[i] = c.build()
	}
	return cmds
}

// init pins the main goroutine to the process's main thread: a lock
// taken in an init function holds through main.
//   - `berth init`: the namespaces it joins or makes on its own (network,
//     cgroup) are per thread, and /proc/PID/ns/*, which hooks, exec and
//     clients go by, shows the main thread's.
//   - Every other command: goroutines that lock a thread and move it into
//     a container's namespaces (the network namespace made ahead, a
//     direct init's rootfs thread, netDevices' netlink socket) end it by
//     returning locked, which Go does for every thread but the main one:
//     that one it parks, still in those namespaces, and /proc/self is the
//     main thread's. With the main goroutine on it, no other goroutine
//     ever runs there. The command itself runs on another goroutine
//     (main).
func init() {
	runtime.LockOSThread()
}

func main() {
	// The container side, re-executed by berth itself with exactly these
	// arguments, and only so: its one entry point. It skips the
	// command-line machinery: it takes no flags, and every step here
	// delays the container. (The error went to the runtime over the sync
	// socket.)
	if len(os.Args) == 2 && os.Args[1] == "init" {
		// A created init may wait long for start (hugeheap.Release).
		hugeheap.Release()
		libcontainer.Init()
		os.Exit(1)
	}
	cli.VersionPrinter = func(cmd *cli.Command) {
		fmt.Printf("%s version %s\n", cmd.Root().Name, cmd.Root().Version)
		if gitCommit != "" {
			fmt.Printf("commit: %s\n", gitCommit)
		} else {
			fmt.Println("commit: unknown")
		}
		fmt.Printf("spec: %s\n", specs.Version)
	}
	cli.HelpPrinter = printHelp
	// The command runs on a goroutine of its own while the main
	// goroutine holds the main thread (init) and waits. A locked
	// goroutine runs on its thread only: each time it waits, its thread
	// hands the processor to another and sleeps, and each time it can go
	// on, whichever thread finds it hands the processor back and sleeps.
	// A command waits many times (for the seal, the network namespace,
	// the cgroup, the rootfs thread, its child), and each of those waits
	// cost two context switches and a wake-up on its way; unlocked, the
	// goroutine goes on on whichever thread is running.
	done := make(chan struct{})
	go func() {
		defer close(done)
		runCommandLine()
	}()
	<-done
}

// runCommandLine parses the command line and runs the command.
func runCommandLine() {
	app := newApp(commandName(os.Args))
	// A subcommand's usage error must be one line through fatal, not
	// the library's "Incorrect Usage" text.
	for _, c := range app.Commands {
		if c.OnUsageError == nil {
			c.OnUsageError = app.OnUsageError
		}
	}
	if err := app.Run(context.Background(), os.Args); err != nil {
		fatal(err)
	}
}

// commandName returns the subcommand args names, found by skipping the
// global flags, or "" when that is not certain (help, --version, an
// unknown flag): then the whole command line is built.
func commandName(args []string) string {
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a
		}
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		switch name {
		case "root", "log", "log-format", "rootless", "criu":
			i++ // its value
		case "debug", "systemd-cgroup":
		default:
			return ""
		}
	}
	return ""
}

// exitError carries an exit status without an error message (run's
// container exit status).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// statusError is a failure reported like any other, but with its own
// exit status: exec's own failures exit 255, as runc's do, so a caller
// can tell them from the process's status.
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// fatal reports err as one line and exits 1 (or a statusError's
// status). With --log the line goes to the log too, where containerd's
// shim reads the last error entry.
func fatal(err error) {
	if ee, ok := err.(*exitError); ok {
		os.Exit(ee.code)
	}
	code := 1
	if se, ok := err.(*statusError); ok {
		code = se.code
	}
	msg := strings.TrimSpace(err.Error())
	logrus.Error(msg)
	if logrus.StandardLogger().Out != os.Stderr {
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(code)
}

// before runs ahead of every command: logging, then the default state
// root under $XDG_RUNTIME_DIR (rootless.go).
func before(ctx context.Context, cmd *cli.Command) (context.Context, error) {
	ctx, err := setupLogging(ctx, cmd)
	if err != nil {
		return ctx, err
	}
	return ctx, prepareXDGRoot(cmd)
}

func setupLogging(ctx context.Context, cmd *cli.Command) (context.Context, error) {
	switch f := cmd.String("log-format"); f {
	case "text":
		logrus.SetFormatter(&logrus.TextFormatter{DisableColors: true})
	case "json":
		logrus.SetFormatter(&logrus.JSONFormatter{})
	default:
		return ctx, fmt.Errorf("unknown log format %q (want text or json)", f)
	}
	debug := cmd.Bool("debug")
	if debug {
		// As runc's: each debug line says where in berth it comes from.
		logrus.SetLevel(logrus.DebugLevel)
		logrus.SetReportCaller(true)
		setCallerFormat(logrus.StandardLogger().Formatter)
	}
	var out io.Writer = os.Stderr
	if path := cmd.String("log"); path != "" {
		// O_APPEND: clients share one log file across calls.
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return ctx, fmt.Errorf("open log file %s: %w", path, err)
		}
		out = f
	}
	logrus.SetOutput(out)
	if debug {
		logrus.Debugf("berth %s %s, pid %d: %s", version, gitCommit, os.Getpid(), strings.Join(os.Args[1:], " "))
	}
	return ctx, nil
}
