#!/usr/bin/env bats
# Rootless on a delegated cgroup v2 subtree: limits, update, pause/resume,
# ps and kill --all work for an unprivileged caller whose cgroup v2
# subtree is its own, as under runc. Needs a pure cgroup v2 host and root
# (to make the user's subtree): `make test-cgroup2` runs it in the
# user-mode-linux guest. The caller is a uid without a passwd entry (the
# guest's /etc is read-only), started through setpriv, with a single
# mapping of its own ids.
#
# The subtree, as systemd delegates one: $CG2_PARENT (root's, with the
# memory and pids controllers given to its children) holds $CG2_DELEG,
# owned by the user with its cgroup.procs, cgroup.subtree_control and
# cgroup.threads; the caller runs in $CG2_DELEG/shell, so that by
# default (no cgroupsPath) a container's cgroup is made next to the
# caller's, in $CG2_DELEG: under the parent of the caller's own cgroup,
# as runc does.

load helpers

setup_file() {
	cg2_feature_check || return 0
	local uid=4711
	while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do
		uid=$((uid + 1))
	done
	CG2_UID=$uid
	CG2_XDG=/run/berth-rlcg2-$uid
	mkdir -p "$CG2_XDG"
	chown "$uid:$uid" "$CG2_XDG"
	chmod 700 "$CG2_XDG"
	# A copy of berth the user can reach (the checkout may not be).
	CG2_BIN=$(mktemp -d /tmp/berth-rlcg2-bin.XXXXXX)
	chmod 755 "$CG2_BIN"
	cp "$BERTH" "$CG2_BIN/berth"
	export CG2_UID CG2_XDG CG2_BIN BERTH=$CG2_BIN/berth
}

teardown_file() {
	[ -n "${CG2_BIN:-}" ] && rm -rf "$CG2_BIN"
	[ -n "${CG2_XDG:-}" ] && rm -rf "$CG2_XDG"
	return 0
}

# cg2_feature_check: a pure cgroup v2 host with memory and pids, and root.
cg2_feature_check() {
	[ "$(id -u)" = 0 ] || return 1
	[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] || return 1
	local c
	for c in memory pids; do
		grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control || return 1
	done
}

setup() {
	cg2_feature_check || skip "needs root on a pure cgroup v2 host with memory and pids delegated from its root (make test-cgroup2)"
	setup_bundle
	chmod 755 "$TEST_TMP"
	CG2_PARENT=/sys/fs/cgroup/berth-rlcg2-$$
	CG2_DELEG=$CG2_PARENT/deleg
	mkdir "$CG2_PARENT"
	echo "+memory +pids" >"$CG2_PARENT/cgroup.subtree_control"
	mkdir "$CG2_DELEG" "$CG2_DELEG/shell" "$CG2_PARENT/rootowned"
	CG2_SHELL=$CG2_DELEG/shell
	chown "$CG2_UID:$CG2_UID" "$CG2_DELEG" "$CG2_DELEG"/cgroup.{procs,subtree_control,threads} \
		"$CG2_DELEG/shell" "$CG2_DELEG"/shell/cgroup.{procs,subtree_control,threads}
	chown -R "$CG2_UID:$CG2_UID" "$BUNDLE"
	mkdir -p "$STATE_ROOT"
	chown "$CG2_UID:$CG2_UID" "$STATE_ROOT"
	chmod 700 "$STATE_ROOT"
	rm -f "$BUNDLE/config.json"
	(cd "$BUNDLE" && cg2_user "$BERTH" spec --rootless)
	cg2_config '.process.terminal = false | .process.args = ["sleep", "1000"]'
}

teardown() {
	if [ -d "${STATE_ROOT:-}" ]; then
		for id in $(cg2_user "$BERTH" --root "$STATE_ROOT" list -q 2>/dev/null); do
			cg2_user "$BERTH" --root "$STATE_ROOT" delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	teardown_bundle
	if [ -d "${CG2_PARENT:-}" ]; then
		find "$CG2_PARENT" -depth -type d -exec rmdir {} + 2>/dev/null || true
	fi
}

# cg2_user CMD...: CMD as the test user, from $CG2_SHELL (the shell
# moves itself there while it is still root, then drops to the user).
cg2_user() {
	sh -c 'echo $$ >"$1/cgroup.procs" || exit 1; shift
		exec setpriv --reuid="$CG2_UID" --regid="$CG2_UID" --clear-groups \
			env -i PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR="$CG2_XDG" HOME=/ "$@"' \
		sh "$CG2_SHELL" "$@"
}

# cg2_berth ARGS...: berth as the test user with the test's state root;
# stdio through files, as helpers.bash's berth.
cg2_berth() {
	local rc=0
	cg2_user "$BERTH" --root "$STATE_ROOT" "$@" >"$TEST_TMP/berth.out" 2>"$TEST_TMP/berth.err" </dev/null || rc=$?
	cat "$TEST_TMP/berth.out"
	cat "$TEST_TMP/berth.err" >&2
	return $rc
}

cg2_config() {
	update_config "$@"
	chown "$CG2_UID:$CG2_UID" "$BUNDLE/config.json"
}

cg2_status() {
	cg2_user "$BERTH" --root "$STATE_ROOT" state "$1" 2>/dev/null | jq -r .status
}

cg2_wait_status() {
	local id=$1 want=$2 deadline=$((SECONDS + ${3:-20}))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(cg2_status "$id")" = "$want" ] && return 0
		sleep 0.1
	done
	echo "container $id did not reach $want (is $(cg2_status "$id"))" >&2
	return 1
}

# cg2_pid ID: the container's init, as the host sees it.
cg2_pid() {
	cg2_user "$BERTH" --root "$STATE_ROOT" state "$1" | jq -r .pid
}

@test "rl-cg2-limits-1: memory and pids limits in a cgroup of its own next to the caller's; the pids limit bites" {
	cg2_config '.linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 8}}'
	cg2_berth run -d --bundle "$BUNDLE" rl-cg2-lim-1
	cg=$CG2_DELEG/rl-cg2-lim-1
	[ "$(cat "/proc/$(cg2_pid rl-cg2-lim-1)/cgroup")" = "0::${cg#/sys/fs/cgroup}" ]
	[ "$(cat "$cg/memory.max")" = 67108864 ]
	[ "$(cat "$cg/pids.max")" = 8 ]
	[ "$(stat -c %u "$cg")" = "$CG2_UID" ]
	# Its own cgroup is what it sees at /sys/fs/cgroup.
	run cg2_berth exec rl-cg2-lim-1 cat /proc/self/cgroup /sys/fs/cgroup/pids.max
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "0::/" ]
	[ "${lines[1]}" = 8 ]
	run cg2_berth exec rl-cg2-lim-1 sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1000 & done; echo forked'
	[[ "$output" == *"can't fork"* ]] || [[ "$output" == *"Resource temporarily unavailable"* ]]
	grep -Eq '^max [1-9]' "$cg/pids.events"
	# ps lists the cgroup's processes (json: the guest's procps ps
	# cannot read its boot time).
	run cg2_berth ps --format json rl-cg2-lim-1
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq 'length')" -eq "$(wc -l <"$cg/cgroup.procs")" ]
	echo "$output" | jq -e --argjson p "$(cg2_pid rl-cg2-lim-1)" 'index($p) != null'

}

@test "rl-cg2-update-1: update changes the limits as the caller" {
	cg2_config '.linux.resources = {"pids": {"limit": 20}}'
	cg2_berth run -d --bundle "$BUNDLE" rl-cg2-upd-1
	cg2_berth update --pids-limit 30 --memory 100M rl-cg2-upd-1
	[ "$(cat "$CG2_DELEG/rl-cg2-upd-1/pids.max")" = 30 ]
	[ "$(cat "$CG2_DELEG/rl-cg2-upd-1/memory.max")" = 104857600 ]
}

@test "rl-cg2-pause-1: pause freezes the container's cgroup, resume thaws it" {
	cg2_berth run -d --bundle "$BUNDLE" rl-cg2-pause-1
	cg=$CG2_DELEG/rl-cg2-pause-1
	cg2_berth pause rl-cg2-pause-1
	[ "$(cg2_status rl-cg2-pause-1)" = paused ]
	grep -qx 'frozen 1' "$cg/cgroup.events"
	cg2_berth resume rl-cg2-pause-1
	[ "$(cg2_status rl-cg2-pause-1)" = running ]
	grep -qx 'frozen 0' "$cg/cgroup.events"
}

@test "rl-cg2-kill-1: kill --all signals every process in the container's cgroup; delete removes it" {
	cg2_berth run -d --bundle "$BUNDLE" rl-cg2-kill-1
	cg=$CG2_DELEG/rl-cg2-kill-1
	cg2_berth exec -d rl-cg2-kill-1 sleep 1001
	cg2_berth exec -d rl-cg2-kill-1 sleep 1002
	[ "$(wc -l <"$cg/cgroup.procs")" -eq 3 ]
	# TERM: the two exec'd sleeps die of it; init, pid 1 of its pid
	# namespace without a handler, ignores it. Only the cgroup finds
	# the other two.
	cg2_berth kill --all rl-cg2-kill-1 TERM
	for _ in $(seq 100); do [ "$(wc -l <"$cg/cgroup.procs")" -eq 1 ] && break; sleep 0.1; done
	[ "$(cat "$cg/cgroup.procs")" = "$(cg2_pid rl-cg2-kill-1)" ]
	cg2_berth kill --all rl-cg2-kill-1 KILL
	cg2_wait_status rl-cg2-kill-1 stopped
	cg2_berth delete rl-cg2-kill-1
	[ ! -e "$cg" ]
}

@test "rl-cg2-path-1: a cgroupsPath in the caller's subtree is used; one outside it fails with nothing left" {
	sub=${CG2_DELEG#/sys/fs/cgroup}
	cg2_config --arg p "$sub/pinned/rl-cg2-path-1" '.linux.cgroupsPath = $p | .linux.resources = {"pids": {"limit": 5}}'
	cg2_berth run -d --bundle "$BUNDLE" rl-cg2-path-1
	[ "$(cat "$CG2_DELEG/pinned/rl-cg2-path-1/pids.max")" = 5 ]
	cg2_config --arg p "${CG2_PARENT#/sys/fs/cgroup}/rl-cg2-path-2" '.linux.cgroupsPath = $p'
	run cg2_berth run -d --bundle "$BUNDLE" rl-cg2-path-2
	[ "$status" -ne 0 ]
	[[ "$output" == *"permission denied"* ]]
	[ ! -e "$CG2_PARENT/rl-cg2-path-2" ]
	[ ! -e "$STATE_ROOT/rl-cg2-path-2" ]
}

@test "rl-cg2-nodeleg-1: without a delegated cgroup a container runs without one; limits are refused with nothing left" {
	# The caller in a cgroup of root's: its parent is not the user's.
	CG2_SHELL=$CG2_PARENT/rootowned
	cg2_berth run -d --bundle "$BUNDLE" rl-cg2-nodeleg-1
	[ "$(cg2_status rl-cg2-nodeleg-1)" = running ]
	[ ! -e "$CG2_PARENT/rl-cg2-nodeleg-1" ]
	run cg2_berth ps rl-cg2-nodeleg-1
	[ "$status" -ne 0 ]
	[[ "$output" == *"no cgroup"* ]]
	cg2_berth delete -f rl-cg2-nodeleg-1
	cg2_config '.linux.resources = {"pids": {"limit": 10}}'
	run cg2_berth run -d --bundle "$BUNDLE" rl-cg2-nodeleg-2
	[ "$status" -ne 0 ]
	[[ "$output" == *"rootless needs no limits"*"permission denied"* ]]
	[ ! -e "$STATE_ROOT/rl-cg2-nodeleg-2" ]
	[ ! -e "$CG2_PARENT/rl-cg2-nodeleg-2" ]
}
