package configs

import (
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ProcDestFiles are the only paths under /proc that a mount may cover, as
// in runc: the files lxcfs emulates, ns_last_pid (CRIU) and fips_enabled.
// A mount anywhere else in the container's procfs could cover what the
// runtime writes there or what the kernel reports about the container
// (CVE-2019-16884 hid an LSM's attr files that way).
var ProcDestFiles = []string{
	"/proc/cpuinfo",
	"/proc/diskstats",
	"/proc/meminfo",
	"/proc/stat",
	"/proc/swaps",
	"/proc/uptime",
	"/proc/loadavg",
	"/proc/slabinfo",
	"/proc/sys/kernel/ns_last_pid",
	"/proc/sys/crypto/fips_enabled",
}

// CheckProcDest refuses mount m when dest (its destination inside the
// root: absolute, clean) is in the container's /proc: /proc itself takes
// only a proc filesystem or a bind (whose source must be a procfs: the
// caller checks it where the source is opened), and below it only
// ProcDestFiles may be covered.
func CheckProcDest(dest string, m specs.Mount) error {
	rel, ok := strings.CutPrefix(dest, "/proc")
	if !ok || (rel != "" && rel[0] != '/') {
		return nil
	}
	if rel == "" {
		if IsBind(m) || m.Type == "proc" {
			return nil
		}
		return fmt.Errorf("only a proc filesystem or a bind of one may be mounted on /proc, not %q", m.Type)
	}
	if slices.Contains(ProcDestFiles, dest) {
		return nil
	}
	return fmt.Errorf("%s is inside /proc, where a mount may cover only %s", dest, strings.Join(ProcDestFiles, ", "))
}
