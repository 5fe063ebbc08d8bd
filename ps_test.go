package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestPsErrorHasStderr(t *testing.T) {
	_, err := exec.Command("sh", "-c", "echo out; printf 'ps: bad option\n\nUsage: ps\n' >&2; exit 1").Output()
	got := psError([]string{"-Z"}, err).Error()
	if want := "run ps -Z: exit status 1: ps: bad option"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = exec.Command("sh", "-c", "exit 2").Output()
	if got := psError([]string{"-ef"}, err).Error(); got != "run ps -ef: exit status 2" {
		t.Errorf("no stderr: got %q", got)
	}
	err = psError(nil, exec.ErrNotFound)
	if !errors.Is(err, exec.ErrNotFound) || strings.Count(err.Error(), ":") != 1 {
		t.Errorf("not an exit: %v", err)
	}
}
