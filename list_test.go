package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/moby/sys/user"
)

// The owner column names the user in /etc/passwd, as runc's list does,
// and falls back to "#uid" for a uid without an entry.
func TestOwnerNames(t *testing.T) {
	n := ownerNames{}
	if _, err := os.Stat("/etc/passwd"); err == nil {
		if got := n.name(0); got != "root" {
			t.Errorf("uid 0: %q, want root", got)
		}
	}
	free := 4000000000
	for ; ; free++ {
		if _, err := user.LookupUid(free); err != nil {
			break
		}
	}
	if got, want := n.name(free), fmt.Sprintf("#%d", free); got != want {
		t.Errorf("uid %d: %q, want %q", free, got, want)
	}
	n[4242] = "cached"
	if got := n.name(4242); got != "cached" {
		t.Errorf("a second lookup of uid 4242 read /etc/passwd again: %q", got)
	}
}

// writeCounter records every Write it is given.
type writeCounter struct {
	writes int
	buf    bytes.Buffer
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.buf.Write(p)
}

// list's output leaves in one write(2) for a page of it: tabwriter hands
// on each cell and its padding separately, and straight to stdout that
// was a dozen system calls per container. The text is tabwriter's.
func TestPrintListBuffered(t *testing.T) {
	created := time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC)
	var entries []listEntry
	for i := 0; i < 30; i++ {
		entries = append(entries, listEntry{
			OCIVersion: "1.3.0", ID: fmt.Sprintf("c%d", i), Pid: 1000 + i, Status: "running",
			Bundle: "/b/" + strings.Repeat("x", i%5), Created: created, Owner: "root",
		})
	}
	var want bytes.Buffer
	tw := tabwriter.NewWriter(&want, 12, 1, 3, ' ', 0)
	fmt.Fprint(tw, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", e.ID, e.Pid, e.Status, e.Bundle, e.Created.Format(time.RFC3339Nano), e.Owner)
	}
	tw.Flush()

	for _, c := range []struct {
		format string
		quiet  bool
		want   string
	}{
		{"table", false, want.String()},
		{"json", false, ""},
		{"table", true, ""},
	} {
		var w writeCounter
		if err := printList(&w, entries, c.format, c.quiet); err != nil {
			t.Fatalf("%s (quiet %t): %v", c.format, c.quiet, err)
		}
		if w.writes != 1 {
			t.Errorf("%s (quiet %t): %d writes for %d bytes, want 1", c.format, c.quiet, w.writes, w.buf.Len())
		}
		if c.want != "" && w.buf.String() != c.want {
			t.Errorf("%s: got\n%s\nwant\n%s", c.format, w.buf.String(), c.want)
		}
		if c.quiet && strings.Count(w.buf.String(), "\n") != len(entries) {
			t.Errorf("quiet: %q", w.buf.String())
		}
		if c.format == "json" {
			var back []listEntry
			if err := json.Unmarshal(w.buf.Bytes(), &back); err != nil || len(back) != len(entries) || back[7].ID != "c7" {
				t.Errorf("json: %v, %d entries", err, len(back))
			}
		}
	}
	var w writeCounter
	if err := printList(&w, entries, "yaml", false); err == nil || w.writes != 0 {
		t.Errorf("format yaml: err %v, %d writes", err, w.writes)
	}
}
