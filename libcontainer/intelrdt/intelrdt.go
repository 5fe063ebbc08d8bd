// Package intelrdt applies linux.intelRdt through the resctrl filesystem
// (Intel RDT, AMD PQoS): the container's processes join a resource group
// (a CTRL_MON group, named by closID or the container's ID) whose
// schemata limit their cache and memory bandwidth, and, with
// enableMonitoring, a monitoring group of their own inside it.
//
// Every function takes the resctrl mount point, so the tests run against
// a temporary directory; Root finds the real one.
package intelrdt

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ErrNoResctrl is the host's refusal: the spec requires an error when
// intelRdt is set and no resctrl filesystem is mounted.
var ErrNoResctrl = errors.New("linux.intelRdt: no resctrl filesystem is mounted on this host (no Intel RDT or AMD QoS, or /sys/fs/resctrl not mounted)")

// Root returns where resctrl is mounted, from /proc/self/mountinfo.
func Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("linux.intelRdt: %w", err)
	}
	defer f.Close()
	return rootFrom(f)
}

// rootFrom scans a mountinfo for the first resctrl mount. The fields
// after " - " are the filesystem type, the source and the options.
func rootFrom(f *os.File) (string, error) {
	s := bufio.NewScanner(f)
	for s.Scan() {
		pre, post, ok := strings.Cut(s.Text(), " - ")
		fields := strings.Fields(pre)
		if !ok || len(fields) < 5 || !strings.HasPrefix(post, "resctrl ") {
			continue
		}
		return unescape(fields[4]), nil
	}
	if err := s.Err(); err != nil {
		return "", fmt.Errorf("linux.intelRdt: read mountinfo: %w", err)
	}
	return "", ErrNoResctrl
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+3 < len(p) {
			if n, err := strconv.ParseUint(p[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// Check validates linux.intelRdt without touching the host.
func Check(r *specs.LinuxIntelRdt) error {
	switch c := r.ClosID; {
	case c == "/":
	case c == "." || c == ".." || strings.ContainsAny(c, "/\n\x00"):
		return fmt.Errorf("linux.intelRdt.closID %q is not a resctrl group name", c)
	}
	if strings.Contains(r.L3CacheSchema, "\n") {
		return errors.New("linux.intelRdt.l3CacheSchema must not contain a newline")
	}
	if r.MemBwSchema != "" && !strings.HasPrefix(r.MemBwSchema, "MB:") {
		return fmt.Errorf("linux.intelRdt.memBwSchema %q must start with \"MB:\"", r.MemBwSchema)
	}
	if strings.Contains(r.MemBwSchema, "\n") {
		return errors.New("linux.intelRdt.memBwSchema must not contain a newline")
	}
	for _, l := range r.Schemata {
		if strings.Contains(l, "\n") {
			return fmt.Errorf("linux.intelRdt.schemata: line %q contains a newline", l)
		}
	}
	return nil
}

// groupDir is the container's CTRL_MON group: closID, the root for "/",
// else the container's ID (created by the runtime).
func groupDir(root, id string, r *specs.LinuxIntelRdt) (dir string, own bool) {
	switch r.ClosID {
	case "":
		return filepath.Join(root, id), true
	case "/":
		return root, false
	default:
		return filepath.Join(root, r.ClosID), false
	}
}

// monDir is the container's MON group inside group.
func monDir(group, id string) string { return filepath.Join(group, "mon_groups", id) }

// schemaLines are the lines written to the schemata file, in the order
// the spec sets: l3CacheSchema, memBwSchema, then schemata.
func schemaLines(r *specs.LinuxIntelRdt) []string {
	var lines []string
	for _, l := range []string{r.L3CacheSchema, r.MemBwSchema} {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return append(lines, r.Schemata...)
}

// Made records which of a container's resctrl directories Apply created.
// The state keeps it, and Remove takes those and no others: the spec
// forbids removing a group the runtime did not create, such as a
// pre-existing group named after the container.
type Made struct {
	// Group: the CTRL_MON group named after the container (no closID).
	// A closID group berth created stays after the container, as the
	// spec says: other containers may have joined it since.
	Group bool `json:"group,omitempty"`
	// Mon: the container's monitoring group (enableMonitoring).
	Mon bool `json:"mon,omitempty"`
}

// Apply makes (or checks) the container's group, writes its schemata
// and moves pid (the container's init) into it, and into its monitoring
// group with enableMonitoring. It reports what it made; after a failure
// it has removed that again and reports nothing.
func Apply(root, id string, r *specs.LinuxIntelRdt, pid int) (Made, error) {
	return apply(root, id, r, pid, mkdir)
}

// mkdir makes a group directory. resctrl fills a new CTRL_MON group
// with its files and its mon_groups directory; the tests pass a mkdir
// that does the same in a plain directory.
func mkdir(dir string) error { return os.Mkdir(dir, 0o755) }

func apply(root, id string, r *specs.LinuxIntelRdt, pid int, mkdir func(string) error) (made Made, err error) {
	dir, own := groupDir(root, id, r)
	lines := schemaLines(r)
	madeDir := false
	defer func() {
		if err == nil {
			return
		}
		if made.Mon {
			unix.Rmdir(monDir(dir, id))
		}
		if madeDir {
			unix.Rmdir(dir)
		}
		made = Made{}
	}()
	switch _, statErr := os.Stat(dir); {
	case statErr == nil && !own && len(lines) > 0:
		// A pre-configured group (or the default one, "/"): it must
		// already be what was asked for.
		if err := compareSchemata(dir, lines); err != nil {
			return made, err
		}
		lines = nil
	case statErr == nil:
		// The container's ID names a group that exists already: used,
		// not made, so not removed (spec).
	case errors.Is(statErr, os.ErrNotExist) && (own || len(lines) > 0):
		if err := mkdir(dir); err != nil {
			return made, fmt.Errorf("linux.intelRdt: create resctrl group: %w", err)
		}
		madeDir = true
		made.Group = own
	case errors.Is(statErr, os.ErrNotExist):
		return made, fmt.Errorf("linux.intelRdt: closID %q: no such resctrl group %s (and no schemata to create it with)", r.ClosID, dir)
	default:
		return made, fmt.Errorf("linux.intelRdt: %w", statErr)
	}
	if len(lines) > 0 {
		if err := writeFile(dir, "schemata", strings.Join(lines, "\n")+"\n"); err != nil {
			return made, err
		}
	}
	if err := writeFile(dir, "tasks", strconv.Itoa(pid)); err != nil {
		return made, err
	}
	if !r.EnableMonitoring {
		return made, nil
	}
	// The spec asks for a dedicated monitoring group: one that exists
	// already is an error, and stays.
	mon := monDir(dir, id)
	if err := mkdir(mon); err != nil {
		return made, fmt.Errorf("linux.intelRdt: create monitoring group: %w", err)
	}
	made.Mon = true
	if err := writeFile(mon, "tasks", strconv.Itoa(pid)); err != nil {
		return made, err
	}
	return made, nil
}

// Join moves pid (an exec process) into the container's group and its
// monitoring group, which Apply made.
func Join(root, id string, r *specs.LinuxIntelRdt, pid int) error {
	dir, _ := groupDir(root, id, r)
	if err := writeFile(dir, "tasks", strconv.Itoa(pid)); err != nil {
		return err
	}
	if r.EnableMonitoring {
		return writeFile(monDir(dir, id), "tasks", strconv.Itoa(pid))
	}
	return nil
}

// Remove deletes what Apply made (made): the monitoring group, then the
// container's own group. Missing directories are not an error.
func Remove(root, id string, r *specs.LinuxIntelRdt, made Made) error {
	dir, _ := groupDir(root, id, r)
	var errs []error
	if made.Mon {
		errs = append(errs, rmdir(monDir(dir, id)))
	}
	if made.Group {
		errs = append(errs, rmdir(dir))
	}
	return errors.Join(errs...)
}

// Update writes new schemata lines (update's --l3-cache-schema and
// --mem-bw-schema) to the container's group.
func Update(root, id string, r *specs.LinuxIntelRdt) error {
	dir, _ := groupDir(root, id, r)
	lines := schemaLines(r)
	if len(lines) == 0 {
		return nil
	}
	return writeFile(dir, "schemata", strings.Join(lines, "\n")+"\n")
}

func rmdir(dir string) error {
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("linux.intelRdt: remove %s: %w", dir, err)
	}
	return nil
}

// compareSchemata checks that each line asked for is in dir's schemata
// file, for each of its domains. The kernel pads values on output
// ("MB:0= 70") and prints bitmasks without leading zeros, so values are
// compared normalized.
func compareSchemata(dir string, lines []string) error {
	data, err := os.ReadFile(filepath.Join(dir, "schemata"))
	if err != nil {
		return fmt.Errorf("linux.intelRdt: %w", err)
	}
	have := map[string]string{} // "L3:0" -> "7ff"
	for _, l := range strings.Split(string(data), "\n") {
		for k, v := range schemaEntries(l) {
			have[k] = v
		}
	}
	for _, l := range lines {
		for k, v := range schemaEntries(l) {
			if have[k] != v {
				return fmt.Errorf("linux.intelRdt: closID %s exists with schemata %q, not %q as asked", filepath.Base(dir), strings.TrimSpace(string(data)), l)
			}
		}
	}
	return nil
}

// schemaEntries splits "L3:0=7ff;1=0ff" into {"L3:0": "7ff", "L3:1": "ff"}.
func schemaEntries(line string) map[string]string {
	res, doms, ok := strings.Cut(strings.TrimSpace(line), ":")
	if !ok {
		return nil
	}
	out := map[string]string{}
	for _, d := range strings.Split(doms, ";") {
		id, v, ok := strings.Cut(d, "=")
		if !ok {
			continue
		}
		v = strings.TrimLeft(strings.TrimSpace(v), "0")
		if v == "" {
			v = "0"
		}
		out[strings.TrimSpace(res)+":"+strings.TrimSpace(id)] = strings.ToLower(v)
	}
	return out
}

func writeFile(dir, name, value string) error {
	path := filepath.Join(dir, name)
	// resctrl makes a group's files with the group; O_CREATE only
	// matters in the tests' plain directories.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("linux.intelRdt: open %s: %w", path, err)
	}
	_, werr := f.WriteString(value)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("linux.intelRdt: write %q to %s: %w", strings.TrimSpace(value), path, werr)
	}
	return nil
}
