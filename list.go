package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/moby/sys/user"
	"github.com/urfave/cli/v3"

	"github.com/berth-runtime/berth/libcontainer"
)

// listEntry is one row of `berth list --format json`, as runc prints it.
type listEntry struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

func listCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the containers under --root",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the IDs"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkArgs(cmd, 0, true); err != nil {
				return err
			}
			root, err := stateRoot(cmd)
			if err != nil {
				return err
			}
			if err := checkListRoot(cmd, root); err != nil {
				return err
			}
			cs, err := libcontainer.List(root)
			if err != nil {
				return err
			}
			entries := make([]listEntry, 0, len(cs))
			owners := ownerNames{}
			for _, c := range cs {
				st := c.OCIState()
				entries = append(entries, listEntry{
					OCIVersion: st.Version, ID: st.ID, Pid: st.Pid, Status: string(st.Status),
					Bundle: st.Bundle, Rootfs: st.Rootfs, Created: st.Created, Annotations: st.Annotations,
					Owner: owners.name(c.State().Owner),
				})
			}
			return printList(os.Stdout, entries, cmd.String("format"), cmd.Bool("quiet"))
		},
	}
}

// printList writes the entries as `list` prints them: their IDs (quiet),
// a table or JSON. It all goes out through one buffer: tabwriter hands on
// every cell and its padding with a call of its own, which straight to
// stdout was a write(2) each, a dozen per container.
func printList(out io.Writer, entries []listEntry, format string, quiet bool) error {
	if !quiet && format != "table" && format != "json" {
		return fmt.Errorf("invalid format %q (want table or json)", format)
	}
	w := bufio.NewWriter(out)
	switch {
	case quiet:
		for _, e := range entries {
			fmt.Fprintln(w, e.ID)
		}
	case format == "json":
		if err := json.NewEncoder(w).Encode(entries); err != nil {
			return err
		}
	default:
		tw := tabwriter.NewWriter(w, 12, 1, 3, ' ', 0)
		fmt.Fprint(tw, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", e.ID, e.Pid, e.Status, e.Bundle, e.Created.Format(time.RFC3339Nano), e.Owner)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return w.Flush()
}

// checkListRoot fails for a --root given on the command line that does
// not exist, as runc's list does: a mistyped root must not look like one
// without containers. The default root is made by the first create, so
// before that it is an empty list.
func checkListRoot(cmd *cli.Command, root string) error {
	if !cmd.Root().IsSet("root") {
		return nil
	}
	f, err := os.Open(root)
	if err != nil {
		return err
	}
	return f.Close()
}

// ownerNames names the owners of the listed containers as runc's list
// does: the user name in the host's /etc/passwd, "#uid" for a uid it
// lacks. One lookup per owner.
type ownerNames map[int]string

func (n ownerNames) name(uid int) string {
	if name, ok := n[uid]; ok {
		return name
	}
	name := fmt.Sprintf("#%d", uid)
	if u, err := user.LookupUid(uid); err == nil && u.Name != "" {
		name = u.Name
	}
	n[uid] = name
	return name
}
