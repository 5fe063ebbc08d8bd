//go:build linux

package nsenter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// How the id maps of a new user namespace get written. The writer is the
// runtime, outside the namespace, as the kernel requires:
//
//   - as root (capabilities over the parent namespace): straight to
//     /proc/PID/{setgroups,uid_map,gid_map}, whatever the maps;
//   - as an unprivileged user (rootless), the kernel takes from the
//     process itself only one line mapping its own euid (and, once
//     setgroups is denied, its own egid). Such a map is written straight;
//     anything more goes through the setuid helpers newuidmap/newgidmap
//     (Debian's uidmap), which check the ranges against /etc/subuid and
//     /etc/subgid. berth has no setuid helper of its own.

// write sets up the user namespace of pid.
func (m *idMaps) write(pid int) error {
	if os.Geteuid() == 0 {
		return m.writeDirect(pid)
	}
	return m.writeRootless(pid, os.Geteuid(), os.Getegid())
}

// writeDirect writes the maps to /proc/PID; setgroups must be denied
// before gid_map is written for the deny to be allowed at all.
func (m *idMaps) writeDirect(pid int) error {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	if m.setgroupsDeny {
		if err := writeProcFile(dir+"setgroups", "deny"); err != nil {
			return err
		}
	}
	if len(m.uid) > 0 {
		if err := writeProcFile(dir+"uid_map", formatIDMap(m.uid)); err != nil {
			return err
		}
	}
	if len(m.gid) > 0 {
		if err := writeProcFile(dir+"gid_map", formatIDMap(m.gid)); err != nil {
			return err
		}
	}
	return nil
}

// writeRootless writes the maps as the unprivileged user uid/gid.
func (m *idMaps) writeRootless(pid, uid, gid int) error {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	if len(m.uid) == 0 || len(m.gid) == 0 {
		return errors.New("rootless: a new user namespace needs both uidMappings and gidMappings")
	}
	ownGID := isOwnIDMap(m.gid, gid)
	if ownGID || m.setgroupsDeny {
		// The kernel lets an unprivileged writer map its own gid only
		// with setgroups denied (else dropping a group by setgroups
		// could gain access a negative group permission denies).
		if err := writeProcFile(dir+"setgroups", "deny"); err != nil {
			return fmt.Errorf("rootless: %w", err)
		}
	}
	if isOwnIDMap(m.uid, uid) {
		if err := writeProcFile(dir+"uid_map", formatIDMap(m.uid)); err != nil {
			return fmt.Errorf("rootless: %w", err)
		}
	} else if err := runIDMapHelper("newuidmap", "/etc/subuid", pid, uid, m.uid); err != nil {
		return err
	}
	if ownGID {
		if err := writeProcFile(dir+"gid_map", formatIDMap(m.gid)); err != nil {
			return fmt.Errorf("rootless: %w", err)
		}
		return nil
	}
	return runIDMapHelper("newgidmap", "/etc/subgid", pid, gid, m.gid)
}

// isOwnIDMap reports whether m is the one map the kernel takes from an
// unprivileged writer: a single id, the writer's own.
func isOwnIDMap(m []specs.LinuxIDMapping, id int) bool {
	return len(m) == 1 && m[0].Size == 1 && int64(m[0].HostID) == int64(id)
}

// runIDMapHelper writes m for pid through helper (newuidmap or
// newgidmap), found in $PATH of the runtime, never inside the container.
// A missing helper, or subordinate ids the caller does not have, is
// reported up front, naming the file to fix; a refusal of the helper
// itself carries its own message.
func runIDMapHelper(helper, subFile string, pid, id int, m []specs.LinuxIDMapping) error {
	kind := strings.TrimSuffix(strings.TrimPrefix(helper, "new"), "map") // uid, gid
	path, err := exec.LookPath(helper)
	if err != nil {
		return fmt.Errorf("rootless: the %s mappings %s need %s (Debian package uidmap), which is not in $PATH: %w",
			kind, strings.TrimSpace(strings.ReplaceAll(formatIDMap(m), "\n", ", ")), helper, err)
	}
	if err := checkSubIDs(subFile, id, m); err != nil {
		return fmt.Errorf("rootless: %w", err)
	}
	args := []string{strconv.Itoa(pid)}
	for _, e := range m {
		args = append(args, strconv.FormatUint(uint64(e.ContainerID), 10), strconv.FormatUint(uint64(e.HostID), 10), strconv.FormatUint(uint64(e.Size), 10))
	}
	cmd := exec.Command(path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Env = []string{}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("rootless: %s %s: %s", path, strings.Join(args, " "), oneLine(msg))
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// subRange is one line of /etc/subuid or /etc/subgid.
type subRange struct{ start, count uint64 }

// checkSubIDs checks that every host id m maps, other than the caller's
// own id, lies in one of the caller's ranges in subFile (entries name
// the user or its numeric id).
func checkSubIDs(subFile string, id int, m []specs.LinuxIDMapping) error {
	kind := "uid"
	if strings.HasSuffix(subFile, "subgid") {
		kind = "gid"
	}
	// newuidmap and newgidmap both look the ranges up by the calling
	// user, by name or by number.
	names := []string{strconv.Itoa(os.Getuid())}
	if u, err := user.LookupId(names[0]); err == nil {
		names = append(names, u.Username)
	}
	f, err := os.Open(subFile)
	if err != nil {
		return fmt.Errorf("the %s mappings need subordinate %ss in %s: %w", kind, kind, subFile, err)
	}
	defer f.Close()
	ranges, err := parseSubIDs(f, names)
	if err != nil {
		return fmt.Errorf("read %s: %w", subFile, err)
	}
	for _, e := range m {
		if e.Size == 1 && int64(e.HostID) == int64(id) {
			continue
		}
		if !coveredBy(ranges, uint64(e.HostID), uint64(e.Size)) {
			if len(ranges) == 0 {
				return fmt.Errorf("%s mapping %d %d %d: %s has no range for %s", kind, e.ContainerID, e.HostID, e.Size, subFile, names[len(names)-1])
			}
			return fmt.Errorf("%s mapping %d %d %d: host %ss %d-%d are not in %s's ranges in %s", kind, e.ContainerID, e.HostID, e.Size,
				kind, e.HostID, uint64(e.HostID)+uint64(e.Size)-1, names[len(names)-1], subFile)
		}
	}
	return nil
}

// parseSubIDs returns the ranges of the lines "name:start:count" whose
// name is one of names.
func parseSubIDs(r io.Reader, names []string) ([]subRange, error) {
	var out []subRange
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 || !contains(names, f[0]) {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			continue // newuidmap skips such lines too
		}
		out = append(out, subRange{start, count})
	}
	return out, sc.Err()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// coveredBy reports whether [start, start+size) lies in one range.
func coveredBy(ranges []subRange, start, size uint64) bool {
	for _, r := range ranges {
		if start >= r.start && start+size <= r.start+r.count {
			return true
		}
	}
	return false
}
