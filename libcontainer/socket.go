package libcontainer

import (
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// withEnv returns nil when env is empty (init then runs the config's
// process, not sent twice), else a copy of p whose environment has env's
// variables in place of its own of the same names.
func withEnv(p *specs.Process, env []string) *specs.Process {
	if len(env) == 0 || p == nil {
		return nil
	}
	out := *p
	out.Env = slices.DeleteFunc(slices.Clone(p.Env), func(e string) bool {
		name, _, _ := strings.Cut(e, "=")
		return slices.ContainsFunc(env, func(x string) bool { return strings.HasPrefix(x, name+"=") })
	})
	out.Env = append(out.Env, env...)
	return &out
}
