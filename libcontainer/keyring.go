package libcontainer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/lsm"
)

// The container's session keyring, as runc's: its init joins a new
// keyring named after the container, so that the caller's session keys
// (the shim's, a login's) are out of the container's reach, and makes it
// searchable, which joining it by name needs; every exec process then
// joins that same keyring by name. Without the join an exec process would
// keep the caller's session keyring. --no-new-keyring (kept in the state)
// skips both.
//
//	who              joins                 then
//	---------------  --------------------  ------------------------------------------
//	init (Go)        sessionKeyring(id)    perm |= keyringSearch (prepareRootfs)
//	init (direct)    sessionKeyring(id)    perm |= keyringSearch (nsenter's program)
//	exec (Go)        sessionKeyring(id)    - (enter)
//	exec (direct)    sessionKeyring(id)    - (nsenter's program)
//
// A kernel without keyrings (ENOSYS) is not an error, as in runc. With an
// SELinux process label the keyring is made with that label
// (lsm.SetKeyCreateLabel), which only the Go paths take: a label keeps the
// Go init and the Go exec process.

// sessionKeyring names the container's session keyring.
func sessionKeyring(id string) string { return "_ses." + id }

// Key permission bits (keyrings(7)): search by the key's user, and by
// anyone. A new keyring's user may view, read and link it, not search it.
const (
	keyUsrSearch = 0x00080000
	keyOthSearch = 0x00000008
)

// keyringSearch is the permission init adds to its keyring so that exec
// processes find it by name. A process joining by name needs search
// permission as the key's user when it is that user (the container's root,
// as an exec process is when it joins), so that always; in a user
// namespace also anyone's, as runc sets it there: names are looked up only
// among the keyrings of the caller's user namespace, so "anyone" is the
// container's own processes. Without a user namespace "anyone" would be
// every user of the host, who would get the container's keys by joining.
func keyringSearch(userns bool) uint32 {
	if userns {
		return keyUsrSearch | keyOthSearch
	}
	return keyUsrSearch
}

// joinSessionKeyring joins (or makes) the session keyring name, labelled
// label (SELinux) when that is set, and, when search is not 0, adds it to
// the keyring's permissions. The caller holds its thread.
func joinSessionKeyring(name string, search uint32, label string) error {
	if label != "" {
		if err := lsm.SetKeyCreateLabel(label); err != nil {
			return err
		}
		// Back to the default for whatever the thread makes next; a
		// failure there changes nothing the container sees.
		defer lsm.SetKeyCreateLabel("") //nolint:errcheck
	}
	id, err := unix.KeyctlJoinSessionKeyring(name)
	if errors.Is(err, unix.ENOSYS) {
		return nil
	}
	if err != nil {
		return errKeyring(0, err)
	}
	if search == 0 {
		return nil
	}
	desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil {
		return errKeyring(1, err)
	}
	perm, err := keyPerm(desc)
	if err != nil {
		return errKeyring(1, err)
	}
	if err := unix.KeyctlSetperm(id, perm|search); err != nil {
		return errKeyring(2, err)
	}
	return nil
}

// keyPerm reads the permissions from a key's description,
// "TYPE;UID;GID;PERM;DESCRIPTION" with PERM in hex (KEYCTL_DESCRIBE).
func keyPerm(desc string) (uint32, error) {
	f := strings.SplitN(desc, ";", 5)
	if len(f) < 5 {
		return 0, fmt.Errorf("malformed key description %q", desc)
	}
	perm, err := strconv.ParseUint(f[3], 16, 32)
	if err != nil {
		return 0, fmt.Errorf("malformed key permissions in %q", desc)
	}
	return uint32(perm), nil
}
