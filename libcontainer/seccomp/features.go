package seccomp

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Enabled reports whether seccomp filters can be used: libseccomp is recent
// enough for the bindings and the kernel has seccomp filter mode.
func Enabled() bool {
	if _, err := libseccomp.GetAPI(); err != nil {
		return false
	}
	return kernelHasFlag(0)
}

// SupportedActions lists every action this build understands.
func SupportedActions() []string {
	return []string{
		string(specs.ActAllow), string(specs.ActErrno), string(specs.ActKill),
		string(specs.ActKillProcess), string(specs.ActKillThread), string(specs.ActLog),
		string(specs.ActNotify), string(specs.ActTrace), string(specs.ActTrap),
	}
}

// SupportedOperators lists every argument operator this build understands.
func SupportedOperators() []string {
	return []string{
		string(specs.OpEqualTo), string(specs.OpGreaterEqual), string(specs.OpGreaterThan),
		string(specs.OpLessEqual), string(specs.OpLessThan), string(specs.OpMaskedEqual),
		string(specs.OpNotEqual),
	}
}

// SupportedArchs lists the architectures the linked libseccomp knows.
func SupportedArchs() []string {
	var out []string
	for _, a := range specArchs() {
		if _, err := convertArch(a); err == nil {
			out = append(out, string(a))
		}
	}
	return out
}

// SupportedFlags lists the flags the running kernel accepts (each is probed,
// since they arrived in different kernel versions).
func SupportedFlags() []string {
	candidates := []struct {
		flag uintptr
		name specs.LinuxSeccompFlag
	}{
		{unix.SECCOMP_FILTER_FLAG_TSYNC, FlagTsync},
		{unix.SECCOMP_FILTER_FLAG_LOG, specs.LinuxSeccompFlagLog},
		{unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW, specs.LinuxSeccompFlagSpecAllow},
		{unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, specs.LinuxSeccompFlagWaitKillableRecv},
	}
	var out []string
	for _, c := range candidates {
		if kernelHasFlag(c.flag) {
			out = append(out, string(c.name))
		}
	}
	return out
}

// SetDefaultFlags gives a profile without a flags field (not even an empty
// one) runc's default, SECCOMP_FILTER_FLAG_SPEC_ALLOW, when the kernel and
// libseccomp can do it: without it, loading the filter turns on the
// Speculative Store Bypass mitigation for the container (slower), which
// neither runc nor Docker's profile does. An explicit "flags": [] keeps no
// flag. The runtime calls it on the config before anything else reads it:
// the config reaches init as JSON, where nil and empty are one.
func SetDefaultFlags(cfg *specs.LinuxSeccomp) {
	if cfg == nil || cfg.Flags != nil {
		return
	}
	if !kernelHasFlag(unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW) {
		return
	}
	if api, err := libseccomp.GetAPI(); err != nil || api < 4 {
		return // libseccomp without SCMP_FLTATR_CTL_SSB
	}
	cfg.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow}
}
