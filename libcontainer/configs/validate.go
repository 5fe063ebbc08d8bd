package configs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/libcontainer/intelrdt"
	"github.com/berth-runtime/berth/libcontainer/netdev"
	"github.com/berth-runtime/berth/libcontainer/procattr"
)

// maxConfigSize bounds config.json: a real one is a few tens of KiB (a full
// seccomp profile included); anything near this is not a container config.
const maxConfigSize = 16 << 20

// LoadSpec reads and decodes <bundle>/config.json. It only parses; call
// Validate before acting on the result.
func LoadSpec(bundle string) (*specs.Spec, error) {
	path := filepath.Join(bundle, "config.json")
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("config.json not found in bundle %s", bundle)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, maxConfigSize)
	}
	return ParseSpec(data)
}

// ParseSpec decodes a config.json document, warning of what in it berth
// does not apply (unknown members, other platforms' sections). Trailing
// data after the JSON object is an error: a truncated or concatenated file
// must not half-apply.
func ParseSpec(data []byte) (*specs.Spec, error) {
	// Decoded as json.Unmarshal does, from data itself (a Decoder would
	// copy it into a buffer of its own first), refusing trailing data.
	spec, err := DecodeKnown[specs.Spec]("config.json", data)
	if nerr := (*NULError)(nil); errors.As(err, &nerr) {
		return nil, err
	}
	if err != nil {
		return nil, specError(data, err)
	}
	warnOtherPlatforms(spec)
	return spec, nil
}

// specError words why data, which Unmarshal refused with err, is not a
// config.json. Unmarshal's text for data after a complete object is
// "invalid character ... after top-level value"; a Decoder, which stops
// after the object, tells that case apart.
func specError(data []byte, err error) error {
	var spec specs.Spec
	if json.NewDecoder(bytes.NewReader(data)).Decode(&spec) == nil {
		return errors.New("parse config.json: trailing data after the JSON object")
	}
	return fmt.Errorf("parse config.json: %w", err)
}

// InBundle is a host path of the config (root.path, a bind mount's
// source): p itself when absolute, else relative to the bundle.
func InBundle(bundle, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(bundle, p)
}

// RootfsPath returns the absolute host path of the container's root
// filesystem: root.path, relative to the bundle when not absolute.
func RootfsPath(spec *specs.Spec, bundle string) string {
	return filepath.Clean(InBundle(bundle, spec.Root.Path))
}

// Validate checks everything about spec that can be checked before
// anything is made, so that bad input fails with one clear error and
// leaves nothing behind.
func Validate(spec *specs.Spec, bundle string) error {
	if spec.Root == nil || spec.Root.Path == "" {
		return errors.New("config.json: root.path is required")
	}
	rootfs := RootfsPath(spec, bundle)
	st, err := os.Stat(rootfs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rootfs %s does not exist", rootfs)
		}
		return fmt.Errorf("stat rootfs %s: %w", rootfs, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("rootfs %s is not a directory", rootfs)
	}
	if spec.Process == nil {
		return errors.New("config.json: process is required")
	}
	if err := ValidateProcess(spec.Process); err != nil {
		return err
	}
	if spec.Linux == nil {
		return errors.New("config.json: linux is required on Linux")
	}
	if err := validateNamespaces(spec); err != nil {
		return err
	}
	normalizeMountDestinations(spec, rootfs)
	normalizeDevicePaths(spec)
	if err := validateMounts(spec); err != nil {
		return err
	}
	if err := validateMountNS(spec); err != nil {
		return err
	}
	if err := validateLinux(spec); err != nil {
		return err
	}
	if err := checkLinuxFields(spec.Linux); err != nil {
		return err
	}
	if err := netdev.Validate(spec); err != nil {
		return err
	}
	return validateHooks(spec.Hooks)
}

// invalidID is (uid_t)-1 / (gid_t)-1: setresuid and setresgid read it as
// "leave this ID unchanged", so a process given it would stay root.
const invalidID = 1<<32 - 1

// validateUserMapped checks that the process's ids are mapped in the
// container's new user namespace: the kernel refuses an unmapped one at
// setresuid/setgroups, which init reaches only at start; runc's create
// fails on it.
func validateUserMapped(u specs.User, uids, gids []specs.LinuxIDMapping) error {
	if _, ok := HostID(uids, u.UID); !ok {
		return fmt.Errorf("process.user.uid %d is not mapped in the user namespace (linux.uidMappings)", u.UID)
	}
	if _, ok := HostID(gids, u.GID); !ok {
		return fmt.Errorf("process.user.gid %d is not mapped in the user namespace (linux.gidMappings)", u.GID)
	}
	for _, g := range u.AdditionalGids {
		if _, ok := HostID(gids, g); !ok {
			return fmt.Errorf("process.user.additionalGids: %d is not mapped in the user namespace (linux.gidMappings)", g)
		}
	}
	return nil
}

func validateUser(u *specs.User) error {
	if u.UID == invalidID {
		return fmt.Errorf("process.user.uid %d is not a valid user ID", u.UID)
	}
	if u.GID == invalidID {
		return fmt.Errorf("process.user.gid %d is not a valid group ID", u.GID)
	}
	for _, g := range u.AdditionalGids {
		if g == invalidID {
			return fmt.Errorf("process.user.additionalGids: %d is not a valid group ID", g)
		}
	}
	return nil
}

// ValidateProcess checks a process definition; exec's --process files go
// through it too.
func ValidateProcess(p *specs.Process) error {
	if len(p.Args) == 0 && p.CommandLine == "" {
		return errors.New("process.args must not be empty")
	}
	if p.Cwd == "" {
		return errors.New("process.cwd is required")
	}
	if !filepath.IsAbs(p.Cwd) {
		return fmt.Errorf("process.cwd %q must be an absolute path", p.Cwd)
	}
	if err := validateUser(&p.User); err != nil {
		return err
	}
	if u := p.User.Umask; u != nil && *u > 0o777 {
		logrus.Warnf("process.user.umask %#o: only its permission bits (%#o) take effect", *u, *u&0o777)
	}
	for _, e := range p.Env {
		if !strings.Contains(e, "=") {
			return fmt.Errorf("process.env entry %q is not of the form KEY=VALUE", e)
		}
		if e[0] == '=' {
			return fmt.Errorf("process.env entry %q has an empty name", e)
		}
		if strings.IndexByte(e, 0) >= 0 {
			return fmt.Errorf("process.env entry %q contains a NUL byte", e)
		}
	}
	seen := map[string]bool{}
	for _, r := range p.Rlimits {
		if _, err := RlimitResource(r.Type); err != nil {
			return err
		}
		if seen[r.Type] {
			return fmt.Errorf("process.rlimits: %s given twice", r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return fmt.Errorf("process.rlimits: %s soft limit %d is above hard limit %d", r.Type, r.Soft, r.Hard)
		}
	}
	if p.OOMScoreAdj != nil && (*p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000) {
		return fmt.Errorf("process.oomScoreAdj %d is outside [-1000, 1000]", *p.OOMScoreAdj)
	}
	// Unknown capability names are not refused: like runc, the runtime
	// warns and leaves them out (caps.Warn).
	if p.ConsoleSize != nil && !p.Terminal {
		// The spec: runtimes MUST ignore it without a terminal. Said,
		// as every field berth does not apply.
		logrus.Warn("process.consoleSize: not applied: process.terminal is false")
	}
	return checkProcessFields(p)
}

// checkProcessFields checks the process fields procattr applies; exec's
// process.json goes through it too.
func checkProcessFields(p *specs.Process) error {
	return procattr.CheckProcess(p)
}

// checkLinuxFields checks the linux fields of intelrdt and procattr.
func checkLinuxFields(l *specs.Linux) error {
	if l.IntelRdt != nil {
		if err := intelrdt.Check(l.IntelRdt); err != nil {
			return err
		}
		// The spec: an error when no resctrl is mounted.
		if _, err := intelrdt.Root(); err != nil {
			return err
		}
	}
	return procattr.CheckLinux(l)
}

// CapabilityValue parses an OCI capability name such as "CAP_SYS_ADMIN".
func CapabilityValue(name string) (capability.Cap, error) {
	short, ok := strings.CutPrefix(name, "CAP_")
	if !ok {
		return 0, fmt.Errorf("unknown capability %q", name)
	}
	short = strings.ToLower(short)
	for _, c := range capability.ListKnown() {
		if c.String() == short {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown capability %q", name)
}

func validateNamespaces(spec *specs.Spec) error {
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range spec.Linux.Namespaces {
		if _, err := NamespaceFlag(ns.Type); err != nil {
			return fmt.Errorf("linux.namespaces: %w", err)
		}
		if seen[ns.Type] {
			return fmt.Errorf("linux.namespaces: %s namespace given twice", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path != "" && !filepath.IsAbs(ns.Path) {
			return fmt.Errorf("linux.namespaces: %s path %q must be absolute", ns.Type, ns.Path)
		}
		if ns.Path != "" {
			if _, err := os.Stat(ns.Path); err != nil {
				return fmt.Errorf("linux.namespaces: %s namespace path: %w", ns.Type, err)
			}
		}
	}
	userns, hasUser := FindNamespace(spec, specs.UserNamespace)
	maps := len(spec.Linux.UIDMappings) > 0 || len(spec.Linux.GIDMappings) > 0
	switch {
	case hasUser && userns.Path == "" && (len(spec.Linux.UIDMappings) == 0 || len(spec.Linux.GIDMappings) == 0):
		return errors.New("linux.namespaces: a new user namespace needs linux.uidMappings and linux.gidMappings")
	case maps && !hasUser:
		return errors.New("linux.uidMappings/gidMappings are set but there is no user namespace")
	case maps && userns.Path != "":
		return errors.New("linux.uidMappings/gidMappings cannot be used with a joined user namespace")
	}
	for _, m := range append(append([]specs.LinuxIDMapping{}, spec.Linux.UIDMappings...), spec.Linux.GIDMappings...) {
		if m.Size == 0 {
			return errors.New("linux.uidMappings/gidMappings: a mapping has size 0")
		}
		if uint64(m.ContainerID)+uint64(m.Size) > 1<<32 || uint64(m.HostID)+uint64(m.Size) > 1<<32 {
			return fmt.Errorf("linux.uidMappings/gidMappings: mapping %d:%d:%d overflows", m.ContainerID, m.HostID, m.Size)
		}
	}
	if hasUser && userns.Path == "" && spec.Process != nil {
		if err := validateUserMapped(spec.Process.User, spec.Linux.UIDMappings, spec.Linux.GIDMappings); err != nil {
			return err
		}
	}
	timens, hasTime := FindNamespace(spec, specs.TimeNamespace)
	if len(spec.Linux.TimeOffsets) > 0 {
		if !hasTime {
			return errors.New("linux.timeOffsets are set but there is no time namespace")
		}
		if timens.Path != "" {
			return errors.New("linux.timeOffsets cannot be used with a joined time namespace")
		}
		for clock := range spec.Linux.TimeOffsets {
			if clock != "monotonic" && clock != "boottime" {
				return fmt.Errorf("linux.timeOffsets: unknown clock %q", clock)
			}
		}
	}
	for _, n := range []struct{ field, value string }{{"hostname", spec.Hostname}, {"domainname", spec.Domainname}} {
		if n.value == "" {
			continue
		}
		if err := validateUTSForName(spec, n.field); err != nil {
			return err
		}
	}
	return nil
}

// validateUTSForName checks that setting hostname or domainname (field)
// changes a UTS namespace of the container's: a new one, or one joined by
// path (as runc allows) that is not the runtime's own. Joining the
// runtime's own namespace is allowed by itself but would make the name the
// host's; runc sets it there, berth refuses it as if there were no UTS
// namespace at all.
func validateUTSForName(spec *specs.Spec, field string) error {
	ns, ok := FindNamespace(spec, specs.UTSNamespace)
	if !ok {
		return fmt.Errorf("unable to set %s without a private UTS namespace", field)
	}
	if ns.Path == "" {
		return nil
	}
	var joined, own unix.Stat_t
	if err := unix.Stat(ns.Path, &joined); err != nil {
		return fmt.Errorf("linux.namespaces: uts namespace path: stat %s: %w", ns.Path, err)
	}
	if err := unix.Stat("/proc/self/ns/uts", &own); err != nil {
		return fmt.Errorf("unable to set %s: stat /proc/self/ns/uts: %w", field, err)
	}
	if joined.Dev == own.Dev && joined.Ino == own.Ino {
		return fmt.Errorf("unable to set %s: the UTS namespace joined by path %s is the runtime's own", field, ns.Path)
	}
	return nil
}

// normalizeDevicePaths takes a relative linux.devices path as relative
// to "/", as runc does (it joins it to the rootfs), warned about as a
// relative mount destination is.
func normalizeDevicePaths(spec *specs.Spec) {
	if spec.Linux == nil {
		return
	}
	for i := range spec.Linux.Devices {
		d := &spec.Linux.Devices[i]
		if d.Path != "" && !filepath.IsAbs(d.Path) {
			logrus.Warnf("linux.devices[%d]: path %q is relative; using it as relative to /", i, d.Path)
			d.Path = "/" + d.Path
		}
	}
}

// normalizeMountDestinations rewrites two legacy forms of a mount's
// destination into the absolute in-container path everything after
// works with: a relative one, which the spec says is relative to "/"
// (deprecated, so it is warned about), and one spelled as the host path
// of the rootfs followed by the in-container path, which runc has always
// taken that way (the rootfs prefix is stripped).
func normalizeMountDestinations(spec *specs.Spec, rootfs string) {
	for i := range spec.Mounts {
		m := &spec.Mounts[i]
		if m.Destination == "" {
			continue
		}
		if rel, ok := strings.CutPrefix(filepath.Clean(m.Destination), rootfs); ok && rootfs != "/" && (rel == "" || rel[0] == '/') {
			m.Destination = "/" + strings.TrimPrefix(rel, "/")
			continue
		}
		if !filepath.IsAbs(m.Destination) {
			logrus.Warnf("mounts[%d]: destination %q is relative; using it as relative to / (relative destinations are deprecated)", i, m.Destination)
			m.Destination = "/" + m.Destination
		}
	}
}

func validateMounts(spec *specs.Spec) error {
	for i, m := range spec.Mounts {
		if m.Destination == "" {
			return fmt.Errorf("mounts[%d]: destination is required", i)
		}
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("mounts[%d]: destination %q must be an absolute path", i, m.Destination)
		}
		if err := CheckProcDest(filepath.Clean(m.Destination), m); err != nil {
			return fmt.Errorf("mounts[%d] (%s): %w", i, m.Destination, err)
		}
		mf, err := ParseMountOptions(m.Options)
		if err != nil {
			return fmt.Errorf("mounts[%d] (%s): %w", i, m.Destination, err)
		}
		if mf.CopyUp && (m.Type != "tmpfs" || IsBind(m)) {
			return fmt.Errorf("mounts[%d] (%s): mount option \"tmpcopyup\" is only for tmpfs", i, m.Destination)
		}
		if IsBind(m) && m.Source == "" {
			return fmt.Errorf("mounts[%d] (%s): a bind mount needs a source", i, m.Destination)
		}
		if IsBind(m) && len(mf.Data) > 0 {
			// The kernel ignores a bind's data, so these options cannot
			// be applied: said, never dropped in silence. runc 1.5
			// refuses such a mount; berth mounts it, as crun does and
			// as runtime-tools' mounts program (binds with mode= and
			// size=) expects.
			logrus.Warnf("mounts[%d] (%s): filesystem-specific options %s have no effect on a bind mount; ignoring them", i, m.Destination, strings.Join(mf.Data, ","))
		}
		if err := validateIDMapMount(spec, i, m); err != nil {
			return err
		}
		if !IsBind(m) && m.Type == "" {
			return fmt.Errorf("mounts[%d] (%s): type is required", i, m.Destination)
		}
	}
	return nil
}

func validateLinux(spec *specs.Spec) error {
	l := spec.Linux
	if _, ok := PropagationFlags(l.RootfsPropagation); !ok && l.RootfsPropagation != "" {
		return fmt.Errorf("linux.rootfsPropagation %q is not a propagation mode", l.RootfsPropagation)
	}
	for _, p := range append(append([]string{}, l.MaskedPaths...), l.ReadonlyPaths...) {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("linux.maskedPaths/readonlyPaths: %q must be an absolute path", p)
		}
	}
	for _, d := range l.Devices {
		if !filepath.IsAbs(d.Path) {
			return fmt.Errorf("linux.devices: path %q must be absolute", d.Path)
		}
		// Anywhere in the container's filesystem, as the spec allows
		// (made beneath the root, never through a link out of it), but
		// not the root itself.
		if filepath.Clean(d.Path) == "/" {
			return fmt.Errorf("linux.devices: path %q names the container's root", d.Path)
		}
		switch d.Type {
		case "c", "b", "u", "p":
		default:
			return fmt.Errorf("linux.devices: %s has unknown type %q", d.Path, d.Type)
		}
	}
	for key := range l.Sysctl {
		if err := validateSysctl(spec, key); err != nil {
			return err
		}
	}
	return nil
}

// validateSysctl refuses sysctls that would change the host. Each kind
// is allowed only in a namespace of its kind that is not the runtime's
// own: new, or joined by a path to another one (a path to the runtime's
// own namespace would write the host's value). The kinds are runc's:
// IPC (System V and mqueue limits), network, kernel.domainname (UTS;
// kernel.hostname has the hostname field, and conflicts with it), and
// user.* (the per-user-namespace ucounts, with a user namespace).
func validateSysctl(spec *specs.Spec, key string) error {
	if !validSysctlKey(key) {
		return fmt.Errorf("linux.sysctl: invalid key %q", key)
	}
	notHost := func(t specs.LinuxNamespaceType) bool {
		ns, ok := FindNamespace(spec, t)
		return ok && !joinsRuntimeOwn(ns)
	}
	k := strings.ReplaceAll(key, "/", ".")
	switch {
	case slices.Contains(ipcSysctls, k) || strings.HasPrefix(k, "fs.mqueue."):
		if !notHost(specs.IPCNamespace) {
			return fmt.Errorf("linux.sysctl: %s needs a private IPC namespace (not the runtime's own)", key)
		}
	case strings.HasPrefix(k, "net."):
		if !notHost(specs.NetworkNamespace) {
			return fmt.Errorf("linux.sysctl: %s needs a network namespace (not the runtime's own)", key)
		}
	case k == "kernel.domainname":
		if !notHost(specs.UTSNamespace) {
			return fmt.Errorf("linux.sysctl: %s needs a UTS namespace (not the runtime's own)", key)
		}
	case k == "kernel.hostname":
		return fmt.Errorf("linux.sysctl: set %s through the hostname field", key)
	case strings.HasPrefix(k, "user."):
		if !HasNamespace(spec, specs.UserNamespace) {
			return fmt.Errorf("linux.sysctl: %s needs a user namespace (ucounts of the host's otherwise)", key)
		}
	default:
		return fmt.Errorf("linux.sysctl: %s is not namespaced and would change the host", key)
	}
	return nil
}

// ipcSysctls are the System V IPC limits an IPC namespace has its own of.
var ipcSysctls = []string{"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}

// validSysctlKey accepts the dotted ("net.ipv4.ip_forward") and the
// slashed ("net/ipv4/ip_forward") forms; nothing that could name a path
// outside /proc/sys, or carry a NUL to the kernel.
func validSysctlKey(key string) bool {
	if key == "" || strings.IndexByte(key, 0) >= 0 || strings.Contains(key, "..") {
		return false
	}
	for _, part := range strings.Split(key, "/") {
		if part == "" || part == "." {
			return false
		}
	}
	return true
}

func validateHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	lists := map[string][]specs.Hook{
		"prestart": h.Prestart, "createRuntime": h.CreateRuntime, "createContainer": h.CreateContainer,
		"startContainer": h.StartContainer, "poststart": h.Poststart, "poststop": h.Poststop,
	}
	for name, hooks := range lists {
		for _, hk := range hooks {
			if !filepath.IsAbs(hk.Path) {
				return fmt.Errorf("hooks.%s: path %q must be absolute", name, hk.Path)
			}
			if hk.Timeout != nil && *hk.Timeout <= 0 {
				return fmt.Errorf("hooks.%s: %s: timeout must be positive", name, hk.Path)
			}
		}
	}
	return nil
}

// IDMapped says whether m is an idmapped mount: per-mount id mappings, or
// the idmap/ridmap option (which without mappings takes the container's).
func IDMapped(m specs.Mount) bool {
	if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
		return true
	}
	for _, o := range m.Options {
		if o == "idmap" || o == "ridmap" {
			return true
		}
	}
	return false
}

// MountIDMappings returns the mappings of an idmapped mount: its own, or
// for idmap/ridmap without any, the container's user namespace's.
func MountIDMappings(spec *specs.Spec, m specs.Mount) (uids, gids []specs.LinuxIDMapping) {
	if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
		return m.UIDMappings, m.GIDMappings
	}
	return spec.Linux.UIDMappings, spec.Linux.GIDMappings
}

// maxIDMapLines is the kernel's limit on lines in uid_map and gid_map.
const maxIDMapLines = 340

// validateIDMapMount checks an idmapped mount: a bind, with uid and gid
// mappings the kernel can write.
func validateIDMapMount(spec *specs.Spec, i int, m specs.Mount) error {
	if !IDMapped(m) {
		return nil
	}
	where := fmt.Sprintf("mounts[%d] (%s)", i, m.Destination)
	if !IsBind(m) {
		return fmt.Errorf("%s: uidMappings/gidMappings and idmap/ridmap are for bind mounts only", where)
	}
	if (len(m.UIDMappings) > 0) != (len(m.GIDMappings) > 0) {
		return fmt.Errorf("%s: an idmapped mount needs both uidMappings and gidMappings", where)
	}
	uids, gids := MountIDMappings(spec, m)
	if len(uids) == 0 && len(gids) == 0 {
		// idmap of a container that joins a user namespace by path: the
		// mount takes that namespace itself, as under runc.
		if ns, ok := FindNamespace(spec, specs.UserNamespace); ok && ns.Path != "" {
			return nil
		}
	}
	if len(uids) == 0 || len(gids) == 0 {
		return fmt.Errorf("%s: idmap without uidMappings/gidMappings takes the container's user namespace mappings, and the config has none", where)
	}
	for _, set := range []struct {
		name string
		maps []specs.LinuxIDMapping
	}{{"uidMappings", uids}, {"gidMappings", gids}} {
		if len(set.maps) > maxIDMapLines {
			return fmt.Errorf("%s: %d %s, the kernel takes at most %d", where, len(set.maps), set.name, maxIDMapLines)
		}
		for _, e := range set.maps {
			if e.Size == 0 {
				return fmt.Errorf("%s: %s entry %+v has size 0", where, set.name, e)
			}
		}
	}
	return nil
}
