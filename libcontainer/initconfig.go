package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Environment variables through which the runtime tells a re-executed
// `berth init` where its descriptors are. Only these are passed: berth's
// own environment never reaches the container.
const (
	envSyncFd    = "_BERTH_SYNC_FD"
	envFifoFd    = "_BERTH_FIFO_FD"
	envExeFd     = "_BERTH_EXE_FD"
	envConsoleFd = "_BERTH_CONSOLE_FD"
)

// initConfig is the payload of the config step (sync.go): everything the
// container process needs, decided by the runtime, and the order of the
// steps that follow.
type initConfig struct {
	ID     string `json:"id"`
	Bundle string `json:"bundle"`
	Rootfs string `json:"rootfs"`
	// Exec is true for a `berth exec` process: it joins a running
	// container and does no rootfs set-up.
	Exec bool `json:"exec,omitempty"`
	// ClearONLCR: the runtime relays the terminal to its own stdio (a
	// foreground run or exec), where runc clears ONLCR on the pty so that
	// output lines end in "\n"; init does it before the process can write.
	ClearONLCR bool        `json:"clear_onlcr,omitempty"`
	Spec       *specs.Spec `json:"spec"`
	// Process is the process to run: an exec's, or (omitted) the spec's.
	Process *specs.Process `json:"process,omitempty"`
	NoPivot bool           `json:"no_pivot,omitempty"`
	// NoNewKeyring keeps the runtime's session keyring (--no-new-keyring).
	NoNewKeyring bool `json:"no_new_keyring,omitempty"`
	// PreserveFds is how many fds after stdio stay open across execve.
	PreserveFds int `json:"preserve_fds,omitempty"`
	// CgroupNS asks init to unshare its cgroup namespace once it is in
	// its cgroup, so the namespace is rooted there.
	CgroupNS    bool              `json:"cgroupns,omitempty"`
	CgroupPaths map[string]string `json:"cgroup_paths,omitempty"`
	CgroupPath  string            `json:"cgroup_path,omitempty"`
	UserNS      bool              `json:"userns,omitempty"`
	// State is the container state handed to createContainer and
	// startContainer hooks.
	State *specs.State `json:"state,omitempty"`
	// JoinNetNS: the runtime made the container's network namespace
	// (netnsAhead) and sent it with this message; init joins it first.
	JoinNetNS bool `json:"join_netns,omitempty"`
	// Steps is the plan of the set-up (sync.go), computed by the runtime:
	// the process walks it, one call per step.
	Steps []step `json:"steps"`
	// Debug: the runtime logs at debug level (--debug); the process sends
	// it log frames of what it does.
	Debug bool `json:"debug,omitempty"`
}
