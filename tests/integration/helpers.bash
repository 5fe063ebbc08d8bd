# Shared helpers for berth's bats suites. Every test gets its own state
# root and bundle under a temp dir; teardown force-deletes whatever the
# test left, so no container, cgroup or mount outlives a test.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BERTH=${BERTH:-$REPO/berth}
ROOTFS_SRC=$REPO/tests/rootfs/busybox
TESTBIN=$REPO/tests/cmd/bin
# A notify socket in the environment (a test run from a systemd unit)
# makes run -d and start wait for each container's readiness (the
# sd_notify relay, sdnotify.bats): the tests that want it set it.
unset NOTIFY_SOCKET

setup_bundle() {
	TEST_TMP=$(mktemp -d /tmp/berth-test.XXXXXX)
	STATE_ROOT=$TEST_TMP/state
	BUNDLE=$TEST_TMP/bundle
	mkdir -p "$BUNDLE"
	cp -a "$ROOTFS_SRC" "$BUNDLE/rootfs"
	(cd "$BUNDLE" && "$BERTH" spec)
	# Non-interactive by default; tests that want a tty turn it back on.
	# A cgroup namespace always (berth spec, as runc's, adds one only on a
	# cgroup2-only host): the suites expect the container's own cgroup at /.
	update_config '.process.terminal = false | .process.args = ["sleep", "1000"]
		| if any(.linux.namespaces[]; .type == "cgroup") then . else .linux.namespaces += [{"type": "cgroup"}] end'
	DEVNULL_BEFORE=$(stat -c '%u:%g %a %i' /dev/null)
}

# check_host_devnull: the host's /dev/null keeps its owner, mode and
# inode through a test. Every test's stdio is /dev/null at some point,
# and a runtime that gives the process's user its stdio must leave
# /dev/null alone (runc once did not: runc#3674; crun 1.8.1 does not when
# the container's root is another host uid, as in crun's own
# test_start.py sd-notify-proxy). A change shows at the test that made it.
check_host_devnull() {
	[ -n "${DEVNULL_BEFORE:-}" ] || return 0
	local now
	now=$(stat -c '%u:%g %a %i' /dev/null)
	[ "$now" = "$DEVNULL_BEFORE" ] && return 0
	echo "the host's /dev/null changed during the test: $DEVNULL_BEFORE -> $now" >&2
	return 1
}

teardown_bundle() {
	if [ -n "${STATE_ROOT:-}" ] && [ -d "$STATE_ROOT" ]; then
		for id in $("$BERTH" --root "$STATE_ROOT" list -q 2>/dev/null); do
			"$BERTH" --root "$STATE_ROOT" delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	if [ -n "${TEST_TMP:-}" ]; then
		remove_tree "$TEST_TMP"
	fi
	# berth's default parent cgroup (/berth), once its containers are gone.
	remove_cgroup_parents berth
	check_host_devnull
}

# remove_cgroup_parents NAME...: removes the parent cgroups NAME (top-level,
# in every hierarchy) that a suite's containers were placed under, with
# whatever empty cgroups are left below them. rmdir only takes empty
# cgroups: one still holding a process or a child stays.
remove_cgroup_parents() {
	local name d
	for name in "$@"; do
		case "$name" in "" | */* | . | ..) continue ;; esac
		for d in /sys/fs/cgroup/*/"$name"; do
			[ -d "$d" ] || continue
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
		done
	done
}

# remove_tree DIR: unmounts whatever is mounted under DIR (a test's or a
# client daemon's mounts, on the host side), then removes DIR. A client's
# asynchronous clean-up (podman's, containerd's) can still be mounting or
# holding a mount for a moment, so it tries again for up to 5 s.
# podman_settled DIR: waits (10 s at most) until no process runs on the
# podman store under DIR. A removed container's conmon starts `podman
# container cleanup` on that store after the removal returns; run after
# remove_tree, it makes the store again and mounts its overlay directory
# on the host.
podman_settled() {
	local deadline=$((SECONDS + 10))
	while pgrep -f -- "--root $1/root" >/dev/null && [ $SECONDS -lt $deadline ]; do
		sleep 0.1
	done
}

remove_tree() {
	local dir=$1 deadline=$((SECONDS + 5))
	while :; do
		grep -o " $dir[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
		rm -rf "$dir" 2>/dev/null && return 0
		if [ $SECONDS -ge $deadline ]; then
			rm -rf "$dir" # fails, and says why
			return 1
		fi
		sleep 0.1
	done
}

# berth runs the binary with the test's root. Its stdio goes through
# files, not pipes: a container inherits berth's stdio, and a detached
# container holding the write end of bats' capture pipe would hang `run`.
berth() {
	local rc=0
	"$BERTH" --root "$STATE_ROOT" "$@" >"$TEST_TMP/berth.out" 2>"$TEST_TMP/berth.err" </dev/null || rc=$?
	cat "$TEST_TMP/berth.out"
	cat "$TEST_TMP/berth.err" >&2
	return $rc
}

# update_config applies a jq filter to the bundle's config.json.
update_config() {
	local tmp
	tmp=$(mktemp "$BUNDLE/config.XXXXXX")
	jq "$@" "$BUNDLE/config.json" >"$tmp"
	mv "$tmp" "$BUNDLE/config.json"
}

# set_args sets process.args from the arguments.
set_args() {
	local json
	json=$(jq -n '$ARGS.positional' --args -- "$@")
	update_config --argjson a "$json" '.process.args = $a'
}

# container_status prints the status field of berth state.
container_status() {
	"$BERTH" --root "$STATE_ROOT" state "$1" 2>/dev/null | jq -r .status
}

# wait_status ID STATUS [SECONDS]: polls until the container reaches
# STATUS; the host's init may be slow to reap, so no fixed sleeps.
wait_status() {
	local id=$1 want=$2 deadline=$((SECONDS + ${3:-10}))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(container_status "$id")" = "$want" ] && return 0
		sleep 0.05
	done
	echo "container $id did not reach $want (is $(container_status "$id"))" >&2
	return 1
}

# wait_caught PID SIGNUM...: polls until the process has a handler for
# each signal (SigCgt of /proc/PID/status). A shell's trap is set some
# time after start or run -d returns, and the init of a pid namespace
# drops a signal it has no handler for: a signal sent before the trap is
# lost, and the test would wait for an exit that never comes.
wait_caught() {
	local pid=$1 s need=0 mask='' deadline=$((SECONDS + 10))
	shift
	for s; do need=$((need | (1 << (s - 1)))); done
	while [ $SECONDS -lt $deadline ]; do
		mask=$(awk '$1 == "SigCgt:" {print $2}' "/proc/$pid/status" 2>/dev/null)
		[ -n "$mask" ] && [ $((0x$mask & need)) -eq $need ] && return 0
		sleep 0.02
	done
	echo "process $pid has no handler for signals $* (SigCgt ${mask:-unread})" >&2
	return 1
}

# init_pid prints the host pid of the container's init.
init_pid() {
	"$BERTH" --root "$STATE_ROOT" state "$1" | jq -r .pid
}

# run_busybox_cmd runs a one-off container with the given command and
# leaves berth run's output/status in $output/$status.
run_in_container() {
	set_args "$@"
	run berth run --bundle "$BUNDLE" "ct-$BATS_TEST_NUMBER"
}

# init_cgroup_dirs ID: every cgroup directory of the container's init, one
# a line (cgroup_path of each hierarchy in its /proc/PID/cgroup).
init_cgroup_dirs() {
	local pid ctrls
	pid=$("$BERTH" --root "$STATE_ROOT" state "$1" | jq -r .pid) || return 1
	[ "$pid" -gt 0 ] || { echo "init_cgroup_dirs $1: the container's init is not running" >&2; return 1; }
	cut -d: -f2 "/proc/$pid/cgroup" | while read -r ctrls; do
		cgroup_path "${ctrls%%,*}" "$1"
	done
}

# cgroup_path CONTROLLER ID: the container's cgroup directory of
# CONTROLLER; on a cgroup v2 only host, its one cgroup2 directory.
cgroup_path() {
	"$BERTH" --root "$STATE_ROOT" state "$2" >/dev/null || return 1
	if cgroup_v2; then
		jq -r '.cgroup_paths[""] // empty' "$STATE_ROOT/$2/state.json"
	else
		jq -r --arg c "$1" '.cgroup_paths[$c] // empty' "$STATE_ROOT/$2/state.json"
	fi
}

# cgroup_v2: whether this host has only the cgroup v2 hierarchy.
cgroup_v2() {
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]
}

# requires_cgroup_v1: skips a test that reads or writes cgroup v1 files
# (or the hybrid /sys/fs/cgroup/unified) on a cgroup v2 only host.
requires_cgroup_v1() {
	if cgroup_v2; then
		skip "cgroup v1 test: this host has only cgroup v2"
	fi
}

# requires_cgroup_v2: skips a test of the cgroup v2 only code path on a
# v1 or hybrid host (make test-cgroup2 runs them in user-mode-linux).
requires_cgroup_v2() {
	cgroup_v2 || skip "cgroup v2 only test: this host has cgroup v1 hierarchies (make test-cgroup2 runs it)"
}

# cgroup_frozen ID: FROZEN or THAWED, from the v1 freezer or cgroup.freeze.
cgroup_frozen() {
	local d
	d=$(cgroup_path freezer "$1") || return 1
	if cgroup_v2; then
		case $(cat "$d/cgroup.freeze") in 1) echo FROZEN ;; *) echo THAWED ;; esac
	else
		cat "$d/freezer.state"
	fi
}

# CLIENT_PROBE: what a client's run options change in a container (the
# docker and podman options tests run it under berth and another runtime).
# Mount sources and container IDs are left out (they differ per container).
CLIENT_PROBE='id; grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):" /proc/self/status
ls -ln /dev | awk "NR > 1 {print \$1, \$3, \$4, \$5, \$6, \$NF}"
awk "{for (i = 7; \$i != \"-\"; i++); print \$5, \$6, \$(i + 1), \$(i + 3)}" /proc/self/mountinfo | sed -E "s/[0-9a-f]{64}/ID/g"
ulimit -a; cat /proc/self/oom_score_adj; hostname | wc -c; cat /proc/sys/kernel/domainname; pwd; umask; cat /proc/1/comm
for f in memory/memory.limit_in_bytes memory/memory.swappiness pids/pids.max cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares cpuset/cpuset.cpus devices/devices.list; do echo "$f: $(cat /sys/fs/cgroup/$f 2>&1)"; done
cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced; df -k /dev/shm | awk "NR > 1 {print \$2}"; ls /proc/sys/kernel >/dev/null && echo procsys-readable
cat /proc/1/comm; ip -o link | cut -d" " -f2 | sed "s/@.*//" | sort | tr "\n" " "
stat -c "%a %u %g %n" /run /tmp /var/tmp /t /dev/shm /mnt 2>/dev/null; true'

# client_norm takes out of CLIENT_PROBE's output what differs between berth
# and Debian's runc (1.1.5) or crun (1.8.1) on purpose, or per container:
# - the root's overlay options (its layers are the container's own);
# - a hybrid host's cgroup2 part (/sys/fs/cgroup/unified), which berth
#   gives a container and runc 1.1.5 does not, and the read-only flag of
#   the tmpfs holding the cgroup binds: berth applies the mount's "ro" to
#   it, runc 1.1.5 only to the binds;
# - how a masked directory's tmpfs is mounted: berth's is also nosuid,
#   nodev, noexec and of size 0, and its /dev/null over a masked file
#   (the container's /dev tmpfs, bound) read-only; both hide the same paths;
# - a tmpfs's mode= option: berth (as runc main) gives a tmpfs over an
#   existing directory that directory's mode as an option, runc 1.1.5
#   chmods it after mounting; CLIENT_PROBE's stat line compares the modes;
# - a bind whose options clear a flag ("rw") gets exactly the flags asked
#   for, as in runc main (its ClearedFlags remount, since 1.2), where runc
#   1.1.5 keeps the source's: CRI's /dev/shm bind of the sandbox's
#   nosuid,nodev,noexec tmpfs, with options rbind,rprivate,rw;
# - the order of the mounts (the cgroup binds come in another order).
client_norm() {
	sed -E -e 's#^(/ [^ ]+ overlay) .*#\1#' \
		-e '/^\/sys\/fs\/cgroup\/unified /d' \
		-e 's#^/sys/fs/cgroup (ro|rw),#/sys/fs/cgroup #' \
		-e '/^\/sys\/fs\/cgroup /!s#^((/proc|/sys)/[^ ]*) [^ ]+ tmpfs .*#\1 masked#' \
		-e '/^\/dev /!s#^([^ ]+) (ro|rw),nosuid,noexec tmpfs rw,size=65536k,mode=755$#\1 masked#' \
		-e 's#^([^ ]+ [^ ]+ tmpfs [^ ]*),mode=[0-7]+#\1#' \
		-e 's#^(/dev/shm [a-z]+),nosuid,nodev,noexec,#\1,#' | sort
}

# client_flags SET: the client options of one line of an options test
# into the caller's array flags, split at spaces; "@" is a space inside
# an argument.
client_flags() {
	read -r -a flags <<<"$1"
	flags=("${flags[@]//@/ }")
}

# client_same SET BERTH RUNC: compares the normalised probe output of one
# option set under berth and under runc; prints the difference and fails
# when they differ. Both refusing is the same answer (their words differ).
client_same() {
	local set=$1 b=$2 r=$3
	if [[ "$b" == FAILED* && "$r" == FAILED* ]]; then
		echo "both refuse [$set]: ${b:0:300}"
	elif [ "$b" != "$r" ]; then
		echo "differs with [$set]:"
		diff <(echo "$r") <(echo "$b") | sed 's/^/  /'
		return 1
	fi
}

# blockdev: major:minor of a block device of this kernel (both UML
# harnesses give their guest a disk, tests/uml/harness.bash).
blockdev() {
	local d
	for d in /sys/block/*/dev; do
		[ -e "$d" ] && { cat "$d"; return 0; }
	done
	return 1
}
