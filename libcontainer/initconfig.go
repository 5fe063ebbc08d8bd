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

// initConfig is the first message of the sync protocol: everything the
// container process needs, decided by the runtime.
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
	// CgroupNS asks init to unshare its cgroup namespace once the runtime
	// has put it in its cgroup, so the namespace is rooted there.
	CgroupNS bool `json:"cgroupns,omitempty"`
	// WaitCgroup: the runtime moves init into its cgroup itself (only the
	// systemd manager needs that, or a v2 host without a cgroup fd to
	// clone into), after sending this config: init builds the rootfs
	// meanwhile and waits for msgCgroupReady before anything that must
	// happen inside the cgroup: the cgroup namespace, hooks, and the
	// container's process. Otherwise init is in its cgroup before it does
	// anything: cloned into the cgroup2 one (CLONE_INTO_CGROUP), and
	// joining the v1 ones itself as soon as the msgCgroupJoin that follows
	// this config brings their "tasks" files (joinCgroups).
	WaitCgroup bool `json:"wait_cgroup,omitempty"`
	// CgroupWaitLate: no hook runs before pivot_root, so init does the
	// whole rootfs (pivot_root, masks, read-only paths) before waiting.
	// Nothing of that depends on the cgroup: on cgroup v1 the container's
	// cgroup mounts are binds of its directories, made by path.
	CgroupWaitLate bool              `json:"cgroup_wait_late,omitempty"`
	CgroupPaths    map[string]string `json:"cgroup_paths,omitempty"`
	CgroupPath     string            `json:"cgroup_path,omitempty"`
	UserNS         bool              `json:"userns,omitempty"`
	// RuntimeHooks says prestart/createRuntime hooks exist, so init must
	// stop for them before pivot_root.
	RuntimeHooks bool `json:"runtime_hooks,omitempty"`
	// State is the container state handed to createContainer and
	// startContainer hooks.
	State *specs.State `json:"state,omitempty"`
	// JoinNetNS: the runtime made the container's network namespace
	// (netnsAhead) and sent it with this message; init joins it first.
	JoinNetNS bool `json:"join_netns,omitempty"`
	// StartNow (`berth run`): after "ready" init waits for msgStart on
	// the sync socket instead of for `berth start` on exec.fifo, and
	// reports its outcome there (EOF after execve, or an error frame).
	StartNow bool `json:"start_now,omitempty"`
	// SeccompToParent: the filter has a notify action, so it is loaded
	// before "ready" and its fd sent to the runtime for the listener.
	SeccompToParent bool `json:"seccomp_to_parent,omitempty"`
}
