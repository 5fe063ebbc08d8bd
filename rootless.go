package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
)

// parseRootless reads the global --rootless value: "true" or "false" (or
// any form strconv.ParseBool takes, as runc's), and "auto" or "" for nil,
// which leaves the choice to rootlessCgroups.
func parseRootless(s string) (*bool, error) {
	if s == "" || s == "auto" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, fmt.Errorf("--rootless %q: want true, false or auto", s)
	}
	return &b, nil
}

// rootlessCgroups says whether the cgroup manager may treat a cgroup it
// cannot make or join (permission denied) as absent rather than as an
// error. auto, as runc's: yes for any caller that is not root, and for a
// root that is root only inside a user namespace (it cannot know whether
// the cgroups it is given are its own); with the systemd driver such a
// root is taken as systemd's own root (runc asks systemd; berth has no
// bus client for that).
func rootlessCgroups(cmd *cli.Command) (bool, error) {
	b, err := parseRootless(cmd.Root().String("rootless"))
	if err != nil || b != nil {
		return b != nil && *b, err
	}
	if os.Geteuid() != 0 {
		return true, nil
	}
	if !libcontainer.RunningInUserNS() {
		return false, nil
	}
	return !cmd.Root().Bool("systemd-cgroup"), nil
}

// defaultRoot is where state goes without --root: $XDG_RUNTIME_DIR/berth
// for a caller that is not root (or is root only in a user namespace,
// unless $USER says root), as runc's $XDG_RUNTIME_DIR/runc; /run/berth
// otherwise, also for real root whose session has an XDG_RUNTIME_DIR.
func defaultRoot() string {
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" && honourXDGRuntimeDir() {
		return xdg + "/berth"
	}
	return "/run/berth"
}

func honourXDGRuntimeDir() bool {
	if os.Geteuid() != 0 {
		return true
	}
	if !libcontainer.RunningInUserNS() {
		return false
	}
	u, ok := os.LookupEnv("USER")
	return !ok || u != "root"
}

// prepareXDGRoot makes the default state root under $XDG_RUNTIME_DIR
// (no --root given) before any command, mode 0700 with the sticky bit,
// as runc does: the XDG base directory spec lets a session's manager
// prune what is left in $XDG_RUNTIME_DIR without it. A root of another
// user's is left alone for the state root's own check to refuse.
func prepareXDGRoot(cmd *cli.Command) error {
	xdg := os.Getenv("XDG_RUNTIME_DIR")
	if cmd.Root().IsSet("root") || xdg == "" || !honourXDGRuntimeDir() {
		return nil
	}
	root := xdg + "/berth"
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("make state root %s ($XDG_RUNTIME_DIR must be the caller's, writable): %w", root, err)
	}
	st, err := os.Lstat(root)
	if err != nil {
		return fmt.Errorf("state root %s: %w", root, err)
	}
	const want = 0o700 | os.ModeSticky | os.ModeDir
	if st.Mode()&(os.ModePerm|os.ModeSticky|os.ModeDir) == want || int(st.Sys().(*syscall.Stat_t).Uid) != os.Geteuid() {
		return nil
	}
	if err := os.Chmod(root, 0o700|os.ModeSticky); err != nil {
		return fmt.Errorf("set mode of state root %s: %w", root, err)
	}
	return nil
}
