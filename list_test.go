package main

import (
	"fmt"
	"os"
	"testing"

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
