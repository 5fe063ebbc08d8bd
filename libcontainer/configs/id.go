// Package configs holds the checks and small derived types berth's core
// works on: container IDs, the validation of a bundle's config.json, and
// the mapping between OCI namespace names and clone flags.
package configs

import (
	"errors"
	"fmt"
)

// MaxIDLength bounds a container ID. IDs become directory names under
// --root and parts of cgroup paths, so they must stay well below NAME_MAX
// plus path limits; 1024 matches what clients (64-hex-char IDs) need with room.
const MaxIDLength = 1024

// ErrInvalidID is what every error of ValidateID matches (errors.Is): a
// caller can tell a refused ID from the failures that follow it.
var ErrInvalidID = errors.New("invalid container id")

type idError struct{ msg string }

func (e *idError) Error() string        { return e.msg }
func (e *idError) Is(target error) bool { return target == ErrInvalidID }

func badID(format string, args ...any) error {
	return &idError{msg: fmt.Sprintf(format, args...)}
}

// ValidateID checks that id can be used as a single path component under
// the state root: it matches ^[A-Za-z0-9][A-Za-z0-9_+.-]*$ and is not "."
// or "..". Nothing a client sends may escape the root through the ID.
func ValidateID(id string) error {
	if id == "" {
		return badID("container id cannot be empty")
	}
	if len(id) > MaxIDLength {
		return badID("invalid container id %.32q...: longer than %d bytes", id, MaxIDLength)
	}
	if id == "." || id == ".." {
		return badID("invalid container id %q", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum {
			continue
		}
		if i > 0 && (c == '_' || c == '+' || c == '.' || c == '-') {
			continue
		}
		return badID("invalid container id %q: only [A-Za-z0-9_+.-] allowed, starting with a letter or digit", id)
	}
	return nil
}
