// Package hooks runs OCI lifecycle hooks.
package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// Names of the hook lists, as config.json spells them.
const (
	Prestart        = "prestart"
	CreateRuntime   = "createRuntime"
	CreateContainer = "createContainer"
	StartContainer  = "startContainer"
	Poststart       = "poststart"
	Poststop        = "poststop"
)

// List returns the hooks of the named kind from h.
func List(h *specs.Hooks, kind string) []specs.Hook {
	if h == nil {
		return nil
	}
	switch kind {
	case Prestart:
		return h.Prestart //nolint:staticcheck // deprecated in the spec, still honoured
	case CreateRuntime:
		return h.CreateRuntime
	case CreateContainer:
		return h.CreateContainer
	case StartContainer:
		return h.StartContainer
	case Poststart:
		return h.Poststart
	case Poststop:
		return h.Poststop
	}
	return nil
}

// Run runs the hooks of one kind in order, each with the container state
// on stdin, and stops at the first failure. The error names the hook as
// runc's does ("error running createRuntime hook #0: ...").
func Run(kind string, hooks []specs.Hook, state *specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	input, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("encode state for %s hooks: %w", kind, err)
	}
	dir := hookDir(kind, state)
	for i, h := range hooks {
		if err := runOne(h, input, runtimeSide(kind), dir); err != nil {
			return hookError(kind, i, err)
		}
	}
	return nil
}

// RunWarn runs every hook of one kind, logging each failure as a warning
// and going on with the next: the spec's rule for poststop ("the runtime
// MUST log a warning, but the remaining hooks and lifecycle continue as if
// the hook had succeeded"), and for poststart before spec 1.3.0.
func RunWarn(kind string, hooks []specs.Hook, state *specs.State) {
	if len(hooks) == 0 {
		return
	}
	input, err := json.Marshal(state)
	if err != nil {
		logrus.Warnf("encode state for %s hooks: %v", kind, err)
		return
	}
	dir := hookDir(kind, state)
	for i, h := range hooks {
		if err := runOne(h, input, runtimeSide(kind), dir); err != nil {
			logrus.Warn(hookError(kind, i, err))
		}
	}
}

func hookError(kind string, i int, err error) error {
	return fmt.Errorf("error running %s hook #%d: %w", kind, i, err)
}

// WithDefaultEnv gives env to the hooks that have no env of their own.
// runc runs startContainer hooks so, with the container process's
// environment. An empty "env": [] counts as none, as under runc (the
// config reaches init without it either way).
func WithDefaultEnv(hooks []specs.Hook, env []string) []specs.Hook {
	out := make([]specs.Hook, len(hooks))
	for i, h := range hooks {
		if len(h.Env) == 0 {
			h.Env = env
		}
		out[i] = h
	}
	return out
}

// maxOutput bounds how much of a failing hook's stdout and stderr each
// goes into the error; the rest of what a hook prints is discarded as it
// comes, so a hook printing without end cannot grow berth.
const maxOutput = 512

// runtimeSide: the kinds that run in the runtime's namespaces, from the
// runtime. One of them without an env of its own inherits the runtime's
// environment, as under runc and crun (a hook finds its tools through
// PATH); "env": [] is an empty one. The kinds run in the container (from
// init, whose environment is berth's to hand over) get none, or the
// process's through WithDefaultEnv.
func runtimeSide(kind string) bool {
	switch kind {
	case Prestart, CreateRuntime, Poststart, Poststop:
		return true
	}
	return false
}

// hookDir is the working directory of a runtime-side hook: the bundle,
// as under runc (which moves into it to create a container) and crun,
// so a hook may name the bundle's files relatively; "" (the runtime's
// own) when the bundle is gone, as it may be by a late delete.
func hookDir(kind string, state *specs.State) string {
	if !runtimeSide(kind) || state == nil || state.Bundle == "" {
		return ""
	}
	if st, err := os.Stat(state.Bundle); err != nil || !st.IsDir() {
		return ""
	}
	return state.Bundle
}

func runOne(h specs.Hook, input []byte, inherit bool, dir string) error {
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	}
	cmd.Env = h.Env
	if cmd.Env == nil && !inherit {
		cmd.Env = []string{}
	}
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(input)
	stdout, stderr := &tailBuffer{max: maxOutput}, &tailBuffer{max: maxOutput}
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	// A hook that forks a daemon keeping our pipes open must not hang us.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("hook ran past specified timeout of %.1fs", float64(*h.Timeout))
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("error running hook: %w, stdout: %s, stderr: %s", err, stdout, stderr)
	}
	return err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max       int
	buf       []byte
	truncated bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= t.max {
		t.truncated = t.truncated || len(t.buf) > 0 || len(p) > t.max
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return n, nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.truncated = true
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

func (t *tailBuffer) String() string {
	s := strings.TrimSpace(string(t.buf))
	if t.truncated {
		return "..." + s
	}
	return s
}
