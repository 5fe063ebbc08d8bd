package seccomp

import specs "github.com/opencontainers/runtime-spec/specs-go"

// KnownFlags lists the filter flags config.json may name, whether or not
// the running kernel accepts them (SupportedFlags says that). Each name is
// put through parseFlags so the list cannot drift from the parser.
func KnownFlags() []string {
	var out []string
	for _, f := range []specs.LinuxSeccompFlag{
		FlagTsync, specs.LinuxSeccompFlagLog,
		specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv,
	} {
		if _, err := parseFlags([]specs.LinuxSeccompFlag{f}); err == nil {
			out = append(out, string(f))
		}
	}
	return out
}
