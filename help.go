package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v3"
)

// berth's help has the layout of runc's, which scripts and users know:
// the root's NAME, USAGE, VERSION, COMMANDS and GLOBAL OPTIONS; a
// command's NAME, USAGE (its arguments, then what they are), DESCRIPTION
// and OPTIONS, each flag as "--name value, -n value  usage (default: x)".

// rootUsage is the text under NAME in `berth --help`.
const rootUsage = `Open Container Initiative runtime

berth runs containers from OCI bundles, as the Open Container Initiative
runtime specification describes them. It is a drop-in for runc: the same
commands, flags and state, for container engines and for people.

A bundle is a directory holding a "config.json" (the specification) and the
container's root filesystem. To run a container from the bundle in the
current directory:

    # berth run [ -b bundle ] <container-id>

"<container-id>" is the name you give this container instance; it must be
unique among the containers under --root. "-b" names the bundle directory
when it is not the current one.`

// commandHelp returns the arguments line (with what follows it under
// USAGE) and the description of the command name, for its help. A
// function, not a table: nothing of it is built unless asked for.
func commandHelp(name string) (args, desc string) {
	const idCreate = `<container-id>

Where "<container-id>" is the name you give the container instance. It must be
unique among the containers under --root.`
	const idExisting = `<container-id>

Where "<container-id>" is the name of the container instance.`
	const fromBundle = `from a bundle: a directory holding the
specification, "config.json", and the container's root filesystem.

The process the container runs is "process.args" in config.json; edit it to
run something else (see "berth spec --help").`
	switch name {
	case "create":
		return idCreate, `The create command sets up a container instance ` + fromBundle + `

The container stays "created", its process waiting, until "berth start".`
	case "start":
		return idExisting, `The start command runs the process of a created container.`
	case "run":
		return idCreate, `The run command creates and starts a container instance ` + fromBundle + `

Unless detached, berth waits for the process and exits with its status.`
	case "checkpoint":
		return idExisting, `The checkpoint command saves the state of the container instance with CRIU
(--criu), into --image-path. Unless --leave-running or --pre-dump is given the
container's processes end and the container is deleted.`
	case "restore":
		return idCreate, `The restore command restores the saved state of a container instance (from
"berth checkpoint" or "runc checkpoint") as a new container with this ID,
from the bundle's config.json. Unless detached, berth waits for the process
and exits with its status.`
	case "state":
		return idExisting, `The state command prints the OCI state of the container instance as JSON.`
	case "kill":
		return `<container-id> [signal]

Where "<container-id>" is the name of the container instance and "[signal]"
the signal sent to its init process (default: SIGTERM), by name or number.

EXAMPLE:
To send "KILL" to the init process of the container "web01":

       # berth kill web01 KILL`, ""
	case "delete":
		return `<container-id>

Where "<container-id>" is the name of the container instance.

EXAMPLE:
If "berth list" shows the container "web01" as "stopped", this removes what
it held (cgroups, state) and "web01" from the list:

       # berth delete web01`, ""
	case "list":
		return `

The containers listed are the ones under the global option "--root"
(default: "` + defaultRoot() + `").

EXAMPLE 1:
To list the containers under the default "--root":
       # berth list

EXAMPLE 2:
To list the containers under another "--root":
       # berth --root value list`, ""
	case "spec":
		return "", `The spec command writes a starter specification, "config.json", into the
bundle directory: a shell ("sh") in a container with its own namespaces, a
read-only root filesystem in "rootfs" and few capabilities. Edit it to suit:
the image may have no "sh" at all.

EXAMPLE:
To run the hello-world image's "/hello" in a container named "c1":

    mkdir hello && cd hello
    mkdir rootfs
    docker export $(docker create hello-world) | tar -C rootfs -xf -
    berth spec
    sed -i 's;"sh";"/hello";' config.json
    berth run c1

berth needs root to run containers this way. With --rootless the spec is for
a rootless container instead, run by an unprivileged user in a user namespace
of its own (not needed when already root in a user namespace made by an
unprivileged user).`
	case "exec":
		return `<container-id> <command> [command options]  || -p process.json <container-id>

Where "<container-id>" is the name of the container instance and "<command>"
the command to run in it, with its arguments. "<command>" may only be left out
when "-p" gives the process.

EXAMPLE:
To list the processes of the container "web01" with its own ps:

       # berth exec web01 ps`, ""
	case "ps":
		return "<container-id> [ps options]", ""
	case "pause":
		return `<container-id>

Where "<container-id>" is the name of the container instance to pause.`, `The pause command freezes every process of the container instance.

"berth list" shows the containers and their status.`
	case "resume":
		return `<container-id>

Where "<container-id>" is the name of the container instance to resume.`, `The resume command thaws every process of a paused container instance.

"berth list" shows the containers and their status.`
	case "events":
		return idExisting, `The events command prints the container's events: its resource usage
statistics, every 5 seconds unless told otherwise, and OOM notifications.`
	case "update":
		return `<container-id>`, `The update command changes the resource limits of a running container, from
the flags or, with --resources, from a runtime-spec "LinuxResources" JSON
object (a file, or "-" for the standard input; then the other flags are
ignored). Limits left out stay as they are.`
	case "features":
		return "", `The features command prints what this berth implements, as the
runtime-spec "features" JSON document.`
	case "check":
		return "", `The check command reports what this host provides of what containers need
(namespaces, cgroups, seccomp, LSMs) and what is missing.`
	}
	return "", ""
}

// printHelp is berth's cli.HelpPrinter.
func printHelp(w io.Writer, _ string, data any) {
	cmd, ok := data.(*cli.Command)
	if !ok {
		return
	}
	if cmd.Root() == cmd {
		printRootHelp(w, cmd)
	} else {
		printCommandHelp(w, cmd)
	}
}

func printRootHelp(w io.Writer, cmd *cli.Command) {
	fmt.Fprintf(w, "NAME:\n   %s - %s\n\n", cmd.Name, rootUsage)
	fmt.Fprintf(w, "USAGE:\n   %s [global options] command [command options] [arguments...]\n\n", cmd.Name)
	fmt.Fprintf(w, "VERSION:\n   %s\n\n", versionText(cmd))
	fmt.Fprint(w, "COMMANDS:\n")
	tw := tabwriter.NewWriter(w, 1, 8, 2, ' ', 0)
	help := false
	for _, c := range cmd.VisibleCommands() {
		help = help || c.Name == "help"
		fmt.Fprintf(tw, "   %s\t%s\n", strings.Join(c.Names(), ", "), c.Usage)
	}
	if !help {
		fmt.Fprintf(tw, "   help, h\t%s\n", cli.UsageCommandHelp)
	}
	tw.Flush()
	fmt.Fprint(w, "\nGLOBAL OPTIONS:\n")
	printFlags(w, cmd.VisibleFlags(), true)
}

func printCommandHelp(w io.Writer, cmd *cli.Command) {
	flags := commandFlags(cmd)
	fmt.Fprintf(w, "NAME:\n   %s - %s\n\n", cmd.FullName(), cmd.Usage)
	usage := cmd.FullName()
	if len(flags) > 0 {
		usage += " [command options]"
	}
	args := cmd.ArgsUsage
	if args == "" {
		args = "[arguments...]"
	}
	fmt.Fprintf(w, "USAGE:\n   %s %s\n", usage, args)
	if cmd.Description != "" {
		fmt.Fprintf(w, "\nDESCRIPTION:\n   %s\n", cmd.Description)
	}
	if len(flags) > 0 {
		fmt.Fprint(w, "\nOPTIONS:\n")
		printFlags(w, flags, false)
	}
}

// commandFlags are cmd's own visible flags, without the help flag that
// every command has (runc lists it only among the global options).
func commandFlags(cmd *cli.Command) []cli.Flag {
	var out []cli.Flag
	for _, f := range cmd.VisibleFlags() {
		if f.Names()[0] != "help" {
			out = append(out, f)
		}
	}
	return out
}

func printFlags(w io.Writer, flags []cli.Flag, withHelp bool) {
	tw := tabwriter.NewWriter(w, 1, 8, 2, ' ', 0)
	for _, f := range flags {
		if !withHelp && f.Names()[0] == "help" {
			continue
		}
		names, usage := flagHelp(f)
		fmt.Fprintf(tw, "   %s\t%s\n", names, usage)
	}
	tw.Flush()
}

// flagHelp renders a flag as runc's help does: "--name value, -n value"
// and its usage, with the default when the flag has one worth showing.
func flagHelp(f cli.Flag) (names, usage string) {
	doc, _ := f.(cli.DocGenerationFlag)
	value := ""
	if doc != nil && doc.TakesValue() {
		value = " value"
	}
	parts := make([]string, 0, len(f.Names()))
	for _, n := range f.Names() {
		dash := "--"
		if len(n) == 1 {
			dash = "-"
		}
		parts = append(parts, dash+n+value)
	}
	if doc == nil {
		return strings.Join(parts, ", "), ""
	}
	usage = doc.GetUsage()
	def := doc.GetDefaultText()
	if def == "" && value != "" {
		def = doc.GetValue()
	}
	if def != "" && def != `""` && def != "[]" && doc.IsDefaultVisible() {
		usage += fmt.Sprintf(" (default: %s)", def)
	}
	return strings.Join(parts, ", "), usage
}

// versionText is what `berth --version` prints after "berth version ".
func versionText(cmd *cli.Command) string {
	commit := gitCommit
	if commit == "" {
		commit = "unknown"
	}
	return fmt.Sprintf("%s\ncommit: %s\nspec: %s", cmd.Root().Version, commit, specs.Version)
}
