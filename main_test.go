package main

import (
	"testing"

	"github.com/urfave/cli/v3"
)

func TestCommandName(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"berth", "run", "x"}, "run"},
		{[]string{"berth", "--root", "/run/r", "--log", "/l", "--log-format", "json", "create", "--bundle", "b", "x"}, "create"},
		{[]string{"berth", "--root=/run/r", "--debug", "--systemd-cgroup", "state", "x"}, "state"},
		{[]string{"berth", "--rootless", "true", "--criu", "c", "delete", "x"}, "delete"},
		{[]string{"berth", "--debug=false", "-root", "/r", "kill", "x", "KILL"}, "kill"},
		// Not certain: the whole command line is built.
		{[]string{"berth"}, ""},
		{[]string{"berth", "--help"}, ""},
		{[]string{"berth", "-v"}, ""},
		{[]string{"berth", "--no-such-flag", "run", "x"}, ""},
		{[]string{"berth", "--root"}, ""},
	} {
		if got := commandName(tc.args); got != tc.want {
			t.Errorf("commandName(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// commandName skips the global flags by name: it must know every one,
// and which take a value, or a value could be taken for the command.
func TestCommandNameKnowsGlobalFlags(t *testing.T) {
	for _, f := range newApp("").Flags {
		name := f.Names()[0]
		args := []string{"berth", "--" + name, "VALUE", "state", "x"}
		want := "state"
		if _, isBool := f.(*cli.BoolFlag); isBool {
			want = "VALUE"
		}
		if got := commandName(args); got != want {
			t.Errorf("global flag --%s: commandName(%q) = %q, want %q", name, args, got, want)
		}
	}
}

// newApp with one command keeps exactly that command, for each of them.
func TestNewAppOnlyOne(t *testing.T) {
	all := newApp("")
	// 16: `berth init` is not a command (main's one entry point).
	if len(all.Commands) < 16 {
		t.Fatalf("full app has %d commands", len(all.Commands))
	}
	for _, c := range all.Commands {
		one := newApp(c.Name)
		if len(one.Commands) != 1 || one.Commands[0].Name != c.Name {
			t.Errorf("newApp(%q) has %d commands", c.Name, len(one.Commands))
		}
	}
	if got := len(newApp("no-such-command").Commands); got != len(all.Commands) {
		t.Errorf("newApp(unknown) has %d commands, want all %d", got, len(all.Commands))
	}
}

// commandTable's names are the commands' own, and each is listed once.
func TestCommandTableNames(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range commandTable {
		if got := c.build().Name; got != c.name {
			t.Errorf("commandTable entry %q builds command %q", c.name, got)
		}
		if seen[c.name] {
			t.Errorf("commandTable lists %q twice", c.name)
		}
		seen[c.name] = true
	}
}

// With one command named, the others are not built: the hot commands
// (state, kill, delete, create, start) make their own flags only.
func TestNewAppBuildsOnlyOne(t *testing.T) {
	all := testing.AllocsPerRun(5, func() { newApp("") })
	one := testing.AllocsPerRun(5, func() { newApp("state") })
	if one*4 > all {
		t.Errorf("newApp(state) allocates %.0f times, newApp() %.0f: the other commands are built too", one, all)
	}
}

// A repeated flag's value is never split at commas (runc's flags take
// "-e A=1,2" and "--cgroup cpu,memory:sub" whole): every command, in the
// full app and in the one-command fast path.
func TestSliceFlagsNotSplit(t *testing.T) {
	for _, c := range newApp("").Commands {
		if !c.DisableSliceFlagSeparator {
			t.Errorf("%s: slice flags are split at commas", c.Name)
		}
		if one := newApp(c.Name).Commands[0]; !one.DisableSliceFlagSeparator {
			t.Errorf("newApp(%q): slice flags are split at commas", c.Name)
		}
	}
}

func TestFlagHelp(t *testing.T) {
	for _, tc := range []struct {
		f            cli.Flag
		names, usage string
	}{
		{&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"}, "--format value, -f value", `table or json (default: "table")`},
		{&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach"}, "--detach, -d", "detach"},
		{&cli.StringFlag{Name: "log", Usage: "log file"}, "--log value", "log file"},
		{&cli.IntFlag{Name: "preserve-fds", Usage: "pass N fds"}, "--preserve-fds value", "pass N fds (default: 0)"},
		{&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set env"}, "--env value, -e value", "set env"},
	} {
		names, usage := flagHelp(tc.f)
		if names != tc.names || usage != tc.usage {
			t.Errorf("flagHelp(%s) = %q, %q; want %q, %q", tc.f.Names()[0], names, usage, tc.names, tc.usage)
		}
	}
}

// Every visible command has its help text (arguments or description).
func TestCommandHelpCovers(t *testing.T) {
	for _, c := range newApp("").Commands {
		if c.Hidden {
			continue
		}
		if args, desc := commandHelp(c.Name); args == "" && desc == "" {
			t.Errorf("%s: no help text", c.Name)
		}
	}
}

// The container side has one entry point, main's: no command of the
// command line runs it.
func TestNoInitCommand(t *testing.T) {
	for _, c := range newApp("").Commands {
		if c.Name == "init" {
			t.Error("the command line has an init command besides main's entry point")
		}
	}
}
