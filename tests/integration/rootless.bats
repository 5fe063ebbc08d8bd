#!/usr/bin/env bats
# Rootless: berth run by an unprivileged user (RL_USER, made here with
# /etc/subuid and /etc/subgid ranges and a /run/user/UID directory), with
# bundles made by `berth spec --rootless`. The suite itself runs as root,
# to make that user; every berth call of a test goes through rl_berth.

load helpers

RL_USER=berth-rl
RL_SUB_START=400000
RL_SUB_COUNT=65536

setup_file() {
	if ! id -u "$RL_USER" >/dev/null 2>&1; then
		useradd --no-create-home --shell /usr/sbin/nologin "$RL_USER"
	fi
	local f
	for f in /etc/subuid /etc/subgid; do
		touch "$f"
		sed -i "/^$RL_USER:/d" "$f"
		echo "$RL_USER:$RL_SUB_START:$RL_SUB_COUNT" >>"$f"
	done
	local uid
	uid=$(id -u "$RL_USER")
	mkdir -p "/run/user/$uid"
	chown "$RL_USER:" "/run/user/$uid"
	chmod 700 "/run/user/$uid"
	# The user runs a copy of berth it can reach: the checkout may be
	# under a directory only root may enter (a mktemp -d clone).
	RL_BIN=$(mktemp -d /tmp/berth-rl-bin.XXXXXX)
	chmod 755 "$RL_BIN"
	cp "$BERTH" "$RL_BIN/berth"
	export RL_BIN BERTH=$RL_BIN/berth
}

teardown_file() {
	local uid
	uid=$(id -u "$RL_USER")
	rm -rf "/run/user/$uid"
	sed -i "/^$RL_USER:/d" /etc/subuid /etc/subgid
	userdel "$RL_USER" 2>/dev/null || true
	[ -n "${RL_BIN:-}" ] && rm -rf "$RL_BIN"
}

setup() {
	RL_UID=$(id -u "$RL_USER")
	RL_GID=$(id -g "$RL_USER")
	RL_XDG=/run/user/$RL_UID
	setup_bundle
	# The user must reach the bundle and own its state root; the bundle
	# is the user's own, as it would be for a real rootless caller.
	chmod 755 "$TEST_TMP"
	chown -R "$RL_USER:" "$BUNDLE"
	mkdir -p "$STATE_ROOT"
	chown "$RL_USER:" "$STATE_ROOT"
	chmod 700 "$STATE_ROOT"
	rm -f "$BUNDLE/config.json"
	(cd "$BUNDLE" && rl_exec "$BERTH" spec --rootless)
	rl_config '.process.terminal = false | .process.args = ["sleep", "1000"]'
}

teardown() {
	if [ -d "${STATE_ROOT:-}" ]; then
		for id in $(rl_exec "$BERTH" --root "$STATE_ROOT" list -q 2>/dev/null); do
			rl_exec "$BERTH" --root "$STATE_ROOT" delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	if [ -d "${RL_XDG:-}/berth" ]; then
		for id in $(rl_exec "$BERTH" list -q 2>/dev/null); do
			rl_exec "$BERTH" delete --force "$id" >/dev/null 2>&1 || true
		done
		rm -rf "$RL_XDG/berth"
	fi
	teardown_bundle
}

# rl_exec CMD...: runs CMD as the test user, in its session's environment.
rl_exec() {
	runuser -u "$RL_USER" -- env -i PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR="$RL_XDG" HOME=/ USER="$RL_USER" "$@"
}

# rl_berth ARGS...: berth as the test user with the test's state root;
# stdio through files, as helpers.bash's berth.
rl_berth() {
	local rc=0
	rl_exec "$BERTH" --root "$STATE_ROOT" "$@" >"$TEST_TMP/berth.out" 2>"$TEST_TMP/berth.err" </dev/null || rc=$?
	cat "$TEST_TMP/berth.out"
	cat "$TEST_TMP/berth.err" >&2
	return $rc
}

# rl_berth_at ROOT ARGS...: rl_berth with another state root ("" for the
# default one).
rl_berth_at() {
	local rc=0 root=$1
	shift
	if [ -n "$root" ]; then
		set -- --root "$root" "$@"
	fi
	rl_exec "$BERTH" "$@" >"$TEST_TMP/berth.out" 2>"$TEST_TMP/berth.err" </dev/null || rc=$?
	cat "$TEST_TMP/berth.out"
	cat "$TEST_TMP/berth.err" >&2
	return $rc
}

rl_config() {
	update_config "$@"
	chown "$RL_USER:" "$BUNDLE/config.json"
}

rl_status() {
	rl_exec "$BERTH" --root "$STATE_ROOT" state "$1" 2>/dev/null | jq -r .status
}

rl_wait_status() {
	local id=$1 want=$2 deadline=$((SECONDS + ${3:-10}))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(rl_status "$id")" = "$want" ] && return 0
		sleep 0.05
	done
	echo "container $id did not reach $want (is $(rl_status "$id"))" >&2
	return 1
}

# no_state ID: nothing of the container is left in the state root.
no_state() {
	[ ! -e "$STATE_ROOT/$1" ]
}

@test "rl-spec-1: spec --rootless maps the caller alone, no network namespace, /sys bound, no resources" {
	run jq -c '[.linux.uidMappings, .linux.gidMappings]' "$BUNDLE/config.json"
	[ "$output" = "[[{\"containerID\":0,\"hostID\":$RL_UID,\"size\":1}],[{\"containerID\":0,\"hostID\":$RL_GID,\"size\":1}]]" ]
	run jq -r '[.linux.namespaces[].type] | sort | join(",")' "$BUNDLE/config.json"
	[ "$output" = "ipc,mount,pid,user,uts" ]
	run jq -c '.mounts[] | select(.destination == "/sys") | [.type, .source, .options]' "$BUNDLE/config.json"
	[ "$output" = '["none","/sys",["rbind","nosuid","noexec","nodev","ro"]]' ]
	run jq -c '.linux.resources' "$BUNDLE/config.json"
	[ "$output" = null ]
}

@test "rl-run-1: run as an unprivileged user: root in the container, the caller's uid outside" {
	rl_config '.process.args = ["sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; exit 7"]'
	run rl_berth run --bundle "$BUNDLE" rl-run-1
	[ "$status" -eq 7 ]
	[ "${lines[0]}" = 0 ]
	[ "$(echo "${lines[1]}" | tr -s ' ' | sed 's/^ //')" = "0 $RL_UID 1" ]
	[ "$(echo "${lines[2]}" | tr -s ' ' | sed 's/^ //')" = "0 $RL_GID 1" ]
	[ "${lines[3]}" = deny ]
	no_state rl-run-1 || rl_status rl-run-1 | grep -q stopped
}

@test "rl-noroot-1: the caller mapped alone as a non-root user (runc issue 1800): the process is that user, for run and exec" {
	rl_config --argjson u "$RL_UID" --argjson g "$RL_GID" '
		  .linux.uidMappings = [{containerID: 1000, hostID: $u, size: 1}]
		| .linux.gidMappings = [{containerID: 1000, hostID: $g, size: 1}]
		| .process.user = {uid: 1000, gid: 1000}
		| (.mounts[] | select(.destination == "/dev/pts") | .options) -= ["gid=5"]
		| .process.args = ["sh", "-c", "id -u; id -g; cat /proc/self/uid_map"]'
	run rl_berth run --bundle "$BUNDLE" rl-noroot-1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1000 ]
	[ "$(echo "${lines[2]}" | tr -s ' ' | sed 's/^ //')" = "1000 $RL_UID 1" ]
	rl_config '.process.args = ["sleep", "1000"]'
	rl_berth run -d --bundle "$BUNDLE" rl-noroot-2
	run rl_berth exec rl-noroot-2 sh -c 'id -u; id -g'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1000 ]
	rl_berth delete -f rl-noroot-2
}

@test "rl-lifecycle-1: create, start, state, exec, list, kill, delete as an unprivileged user" {
	rl_berth create --bundle "$BUNDLE" rl-life-1
	[ "$(rl_status rl-life-1)" = created ]
	run rl_berth list
	[[ "$output" == *"rl-life-1"*created* ]]
	rl_berth start rl-life-1
	[ "$(rl_status rl-life-1)" = running ]
	pid=$(rl_exec "$BERTH" --root "$STATE_ROOT" state rl-life-1 | jq -r .pid)
	# init runs as the caller on the host.
	[ "$(stat -c %u "/proc/$pid")" = "$RL_UID" ]
	run rl_berth exec rl-life-1 sh -c 'id -u; echo $$'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	run rl_berth exec rl-life-1 sh -c 'exit 3'
	[ "$status" -eq 3 ]
	rl_berth kill rl-life-1 KILL
	rl_wait_status rl-life-1 stopped
	rl_berth delete rl-life-1
	no_state rl-life-1
	run rl_berth list -q
	[ -z "$output" ]
}

@test "rl-exec-tty-1: exec -t and run with a terminal, as an unprivileged user" {
	rl_berth run -d --bundle "$BUNDLE" rl-tty-1
	run python3 "$BATS_TEST_DIRNAME/ptyrun.py" runuser -u "$RL_USER" -- "$BERTH" --root "$STATE_ROOT" exec -t rl-tty-1 sh -c 'tty; stty size; exit 6'
	[ "$status" -eq 6 ]
	[[ "$output" == *"/dev/pts/"* ]]
	[[ "$output" == *"33 97"* ]]
}

@test "rl-ps-1: ps without a cgroup says so; kill --all reaches init" {
	rl_berth run -d --bundle "$BUNDLE" rl-ps-1
	run rl_berth ps rl-ps-1
	[ "$status" -ne 0 ]
	[[ "$output" == *"no cgroup"* ]]
	rl_berth kill --all rl-ps-1 KILL
	rl_wait_status rl-ps-1 stopped
	# Stopped: without --all, "container not running"; with it, nothing
	# left to signal is no error (runc's kill -a), as with a cgroup.
	run rl_berth kill rl-ps-1 0
	[ "$status" -ne 0 ]
	[[ "$output" == *"container not running"* ]]
	rl_berth kill --all rl-ps-1 0
}

@test "rl-nopidns-1: without a pid namespace and a cgroup, create warns in runc's words" {
	rl_config '.linux.namespaces -= [{"type": "pid"}]
		| .mounts |= map((select(.type == "proc") | .type = "none" | .source = "/proc" | .options = ["rbind", "nosuid", "nodev", "noexec"]) // .)'
	run rl_berth create --bundle "$BUNDLE" rl-nopidns-1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Such configuration is strongly discouraged"* ]]
	rl_berth delete -f rl-nopidns-1
}

@test "rl-timens-1: a time namespace with offsets, as an unprivileged user" {
	[ -e /proc/self/timens_offsets ] || skip "no time namespaces in this kernel"
	rl_config '.linux.namespaces += [{"type": "time"}]
		| .linux.timeOffsets = {"monotonic": {"secs": 7881, "nanosecs": 2718281}, "boottime": {"secs": 1337, "nanosecs": 3141519}}
		| .process.args = ["cat", "/proc/self/timens_offsets"]'
	run rl_berth run --bundle "$BUNDLE" rl-timens-1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"monotonic"*"7881"*"2718281"* ]]
	[[ "$output" == *"boottime"*"1337"*"3141519"* ]]
}

@test "rl-root-1: default state root is \$XDG_RUNTIME_DIR/berth; --root is honoured" {
	rl_berth_at "" run -d --bundle "$BUNDLE" rl-root-1
	[ -f "$RL_XDG/berth/rl-root-1/state.json" ]
	[ "$(stat -c %u "$RL_XDG/berth")" = "$RL_UID" ]
	run rl_berth_at "" list -q
	[ "$output" = rl-root-1 ]
	run rl_berth list -q
	[ -z "$output" ]
	rl_berth_at "" delete -f rl-root-1
	[ ! -e "$RL_XDG/berth/rl-root-1" ]
}

@test "rl-root-4: the default state root is made 0700 with the sticky bit by any command, as runc's" {
	# XDG: files in $XDG_RUNTIME_DIR without the sticky bit may be pruned.
	# (setup's `berth spec` made it already.)
	rm -rf "$RL_XDG/berth"
	run rl_berth_at "" list -q
	[ "$status" -eq 0 ]
	[ "$(stat -c %a:%u "$RL_XDG/berth")" = "1700:$RL_UID" ]
	# One made before without it gets it.
	chmod 0700 "$RL_XDG/berth"
	rl_berth_at "" run -d --bundle "$BUNDLE" rl-root-4
	[ "$(stat -c %a "$RL_XDG/berth")" = 1700 ]
	# A --root given is left as it is.
	run rl_berth list -q
	[ "$(stat -c %a "$STATE_ROOT")" = 700 ]
}

@test "rl-list-1: list names the owner from /etc/passwd, as runc's" {
	rl_berth run -d --bundle "$BUNDLE" rl-list-1
	run rl_berth list
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" == rl-list-1*" $RL_USER" ]]
	run rl_berth list --format json
	[ "$(echo "$output" | jq -r '.[0].owner')" = "$RL_USER" ]
}

@test "rl-root-2: a state root owned by another user is refused, nothing written there" {
	other=$TEST_TMP/rootowned
	mkdir -m 0711 "$other"
	run rl_berth_at "$other" run -d --bundle "$BUNDLE" rl-root-2
	[ "$status" -ne 0 ]
	[[ "$output" == *"owned by uid 0, not by the caller (uid $RL_UID)"* ]]
	[ -z "$(ls -A "$other")" ]
	# Nor can it be listed.
	run rl_berth_at "$other" list
	[ "$status" -ne 0 ]
}

@test "rl-root-3: files the caller may not write stay untouched (pid file, log)" {
	run rl_berth run -d --pid-file /etc/rl-root-3.pid --bundle "$BUNDLE" rl-root-3
	[ "$status" -ne 0 ]
	[[ "$output" == *"permission denied"* ]]
	[ ! -e /etc/rl-root-3.pid ]
	no_state rl-root-3
	run rl_berth --log /etc/rl-root-3.log list
	[ "$status" -ne 0 ]
	[ ! -e /etc/rl-root-3.log ]
}

@test "rl-flag-1: --rootless false keeps cgroup errors, auto and true skip them, a bad value is refused" {
	run rl_berth --rootless false run -d --bundle "$BUNDLE" rl-flag-1
	[ "$status" -ne 0 ]
	[[ "$output" == *"create cgroup"*"permission denied"* ]]
	no_state rl-flag-1
	run rl_berth --rootless maybe run -d --bundle "$BUNDLE" rl-flag-1
	[ "$status" -ne 0 ]
	[[ "$output" == *"want true, false or auto"* ]]
	no_state rl-flag-1
	rl_berth --rootless true run -d --bundle "$BUNDLE" rl-flag-1
	rl_berth delete -f rl-flag-1
	rl_berth --rootless auto run -d --bundle "$BUNDLE" rl-flag-1
	[ "$(rl_status rl-flag-1)" = running ]
}

@test "rl-cgroup-1: linux.resources on cgroup v1 without a delegated cgroup is refused, as runc; nothing left" {
	rl_config '.linux.resources = {"pids": {"limit": 100}}'
	run rl_berth run -d --bundle "$BUNDLE" rl-cg-1
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot set pids limit: container could not join or create cgroup"* ]]
	no_state rl-cg-1
	! pgrep -u "$RL_UID" -f 'berth init' >/dev/null
}

@test "rl-cgroup-2: an explicit cgroupsPath the caller may not write fails with its permission error" {
	rl_config '.linux.cgroupsPath = "/rl-cg-2"'
	run rl_berth run -d --bundle "$BUNDLE" rl-cg-2
	[ "$status" -ne 0 ]
	[[ "$output" == *"permission denied"* ]]
	no_state rl-cg-2
	[ ! -e /sys/fs/cgroup/pids/rl-cg-2 ]
}

@test "rl-dev-1: device nodes are bind mounts of the host's, /sys is a read-only bind" {
	rl_config '.process.args = ["sh", "-c", "echo x >/dev/null && echo null-ok; grep -E \" /dev/(null|zero) \" /proc/self/mountinfo | wc -l; grep \" /sys \" /proc/self/mountinfo | grep -v \" ro,\" | wc -l"]'
	run rl_berth run --bundle "$BUNDLE" rl-dev-1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = null-ok ]
	[ "${lines[1]}" = 2 ]
	[ "${lines[2]}" = 0 ]
}

@test "rl-limits-1: rlimits, oomScoreAdj and sysctls: refused with a clear error beyond as far as the kernel lets the user" {
	# Lowering a limit: allowed.
	rl_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}]
		| .process.args = ["sh", "-c", "ulimit -n; ulimit -Hn"]'
	run rl_berth run --bundle "$BUNDLE" rl-lim-1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 100 ]
	[ "${lines[1]}" = 200 ]
	# Raising the hard limit over the caller's: refused, said why.
	hard=$(runuser -u "$RL_USER" -- sh -c 'ulimit -Hn')
	rl_config --argjson h "$((hard + 1))" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": $h}]'
	run rl_berth run --bundle "$BUNDLE" rl-lim-2
	[ "$status" -ne 0 ]
	[[ "$output" == *"set rlimit RLIMIT_NOFILE"*"CAP_SYS_RESOURCE"* ]]
	no_state rl-lim-2
	# Lowering oom_score_adj below the caller's: refused.
	rl_config '.process.rlimits = null | .process.oomScoreAdj = -500'
	run rl_berth run --bundle "$BUNDLE" rl-lim-3
	[ "$status" -ne 0 ]
	[[ "$output" == *"oom_score_adj"* ]]
	no_state rl-lim-3
	# A network sysctl without a network namespace of its own: refused.
	rl_config '.process.oomScoreAdj = null | .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	run rl_berth run --bundle "$BUNDLE" rl-lim-4
	[ "$status" -ne 0 ]
	[[ "$output" == *"net.ipv4.ip_forward"* ]]
	no_state rl-lim-4
}

@test "rl-oom-1: a raised oomScoreAdj reaches init and exec processes; lowering it is still refused" {
	# The caller's own value (runuser keeps root's): 500 is above it.
	[ "$(rl_exec cat /proc/self/oom_score_adj)" -lt 500 ]
	rl_config '.process.oomScoreAdj = 500'
	rl_berth run -d --bundle "$BUNDLE" rl-oom-1
	run rl_berth exec rl-oom-1 cat /proc/1/oom_score_adj /proc/self/oom_score_adj
	[ "$status" -eq 0 ]
	# init has it, and so has an exec process, as runc's.
	[ "${lines[0]}" = 500 ]
	[ "${lines[1]}" = 500 ]
	# Lowering below the caller's needs CAP_SYS_RESOURCE in the host.
	rl_config '.process.oomScoreAdj = -1'
	run rl_berth run --bundle "$BUNDLE" rl-oom-2
	[ "$status" -ne 0 ]
	[[ "$output" == *"set oom_score_adj to -1"*"lowering it needs CAP_SYS_RESOURCE"* ]]
	no_state rl-oom-2
}

@test "rl-idmap-1: several ranges go through newuidmap/newgidmap (caller as root, subordinate ids above)" {
	# A file of subordinate id 999 (host id start+999) is 1000 inside.
	touch "$BUNDLE/rootfs/etc/rl-idmap-1"
	chown "$((RL_SUB_START + 999)):$((RL_SUB_START + 999))" "$BUNDLE/rootfs/etc/rl-idmap-1"
	rl_config --argjson u "$RL_UID" --argjson g "$RL_GID" --argjson s "$RL_SUB_START" '
		.linux.uidMappings = [{"containerID": 0, "hostID": $u, "size": 1}, {"containerID": 1, "hostID": $s, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": $g, "size": 1}, {"containerID": 1, "hostID": $s, "size": 65536}]
		| .process.args = ["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map | tr -s \" \" | sed \"s/^ //\"; stat -c %u:%g /etc/rl-idmap-1"]'
	run rl_berth run --bundle "$BUNDLE" rl-idmap-1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "0 $RL_UID 1" ]
	[ "${lines[1]}" = "1 $RL_SUB_START 65536" ]
	[ "${lines[2]}" = "0 $RL_GID 1" ]
	[ "${lines[3]}" = "1 $RL_SUB_START 65536" ]
	[ "${lines[4]}" = "1000:1000" ]
}

@test "rl-idmap-2: ranges outside the caller's /etc/subuid are refused before anything is made" {
	rl_config --argjson u "$RL_UID" '
		.linux.uidMappings = [{"containerID": 0, "hostID": $u, "size": 1}, {"containerID": 1, "hostID": 100000, "size": 1000}]'
	run rl_berth run -d --bundle "$BUNDLE" rl-idmap-2
	[ "$status" -ne 0 ]
	[[ "$output" == *"uid mapping 1 100000 1000: host uids 100000-100999 are not in $RL_USER's ranges in /etc/subuid"* ]]
	# berth's own kill of the waiting process is no news.
	[[ "$output" != *"signal: killed"* ]]
	no_state rl-idmap-2
	# A user without any range is told which file lacks it.
	sed -i "/^$RL_USER:/d" /etc/subgid
	rl_config --argjson g "$RL_GID" --argjson s "$RL_SUB_START" '.linux.uidMappings = [.linux.uidMappings[0]]
		| .linux.gidMappings = [{"containerID": 0, "hostID": $g, "size": 1}, {"containerID": 1, "hostID": $s, "size": 10}]'
	run rl_berth run -d --bundle "$BUNDLE" rl-idmap-2
	echo "$RL_USER:$RL_SUB_START:$RL_SUB_COUNT" >>/etc/subgid
	[ "$status" -ne 0 ]
	[[ "$output" == *"gid mapping 1 $RL_SUB_START 10: /etc/subgid has no range for $RL_USER"* ]]
	no_state rl-idmap-2
}

@test "rl-idmap-3: several ranges without newuidmap in \$PATH: a clear error naming the helper and its package" {
	rl_config --argjson u "$RL_UID" --argjson s "$RL_SUB_START" '
		.linux.uidMappings = [{"containerID": 0, "hostID": $u, "size": 1}, {"containerID": 1, "hostID": $s, "size": 100}]'
	mkdir -m 755 "$TEST_TMP/emptybin"
	status=0
	runuser -u "$RL_USER" -- env -i PATH="$TEST_TMP/emptybin" XDG_RUNTIME_DIR="$RL_XDG" "$BERTH" --root "$STATE_ROOT" run -d --bundle "$BUNDLE" rl-idmap-3 </dev/null >"$TEST_TMP/out" 2>&1 || status=$?
	output=$(cat "$TEST_TMP/out")
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"need newuidmap (Debian package uidmap), which is not in \$PATH"* ]]
	no_state rl-idmap-3
}

# rl_podman_setup: a private podman store of the test user (vfs, cgroupfs,
# no network) holding the offline busybox image; rl_pm runs podman on it
# with berth as the runtime, stdio through files.
rl_podman_setup() {
	command -v podman >/dev/null || { echo "podman is not installed (apt-get install podman)" >&2; return 1; }
	PM_DIR=$TEST_TMP/podman
	mkdir -p "$PM_DIR"
	cat >"$PM_DIR/containers.conf" <<-CONF
		[containers]
		netns = "none"
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$PM_DIR/events.log"
		runtime_supports_json = ["crun", "runc", "berth"]
		static_dir = "$PM_DIR/libpod"
		volume_path = "$PM_DIR/volumes"
		tmp_dir = "$PM_DIR/tmp"
	CONF
	"$REPO/tests/clients/mkimage.sh" "$ROOTFS_SRC" docker.io/library/busybox:berth "$PM_DIR/busybox.tar" >/dev/null
	chown -R "$RL_USER:" "$PM_DIR"
	rl_pm load -i "$PM_DIR/busybox.tar" >/dev/null
}

rl_pm() {
	local rc=0
	(cd "$PM_DIR" && rl_exec env HOME="$PM_DIR" CONTAINERS_CONF="$PM_DIR/containers.conf" podman --root "$PM_DIR/root" \
		--runroot "$PM_DIR/runroot" --storage-driver vfs --runtime "$BERTH" "$@") \
		>"$TEST_TMP/pm.out" 2>"$TEST_TMP/pm.err" </dev/null 3>&- || rc=$?
	cat "$TEST_TMP/pm.out"
	cat "$TEST_TMP/pm.err" >&2
	return $rc
}

# rl_podman_teardown: podman's containers gone, and the pause process
# rootless podman leaves to hold its user namespace ended (by its pid).
rl_podman_teardown() {
	rl_pm rm -af -t 0 >/dev/null 2>&1 || true
	local pidfile
	for pidfile in "$PM_DIR/tmp/pause.pid" "$RL_XDG/libpod/tmp/pause.pid"; do
		if [ -f "$pidfile" ]; then
			kill -9 "$(cat "$pidfile")" 2>/dev/null || true
		fi
	done
	rm -rf "$RL_XDG/libpod" "$RL_XDG/containers"
}

@test "rl-podman-1: rootless podman run --rm and exec with berth as its runtime" {
	rl_podman_setup
	run rl_pm run --rm docker.io/library/busybox:berth sh -c 'echo hello-rootless; id -u; exit 4'
	status_run=$status
	out_run=$output
	rl_pm run -d --name rl-pm-1 docker.io/library/busybox:berth sleep 1000 >/dev/null
	run rl_pm exec rl-pm-1 sh -c 'echo exec-ok; id -u'
	status_exec=$status
	out_exec=$output
	[ "$(rl_pm inspect -f '{{.OCIRuntime}}' rl-pm-1)" = "$BERTH" ]
	rl_podman_teardown
	[ "$status_run" -eq 4 ]
	[[ "$out_run" == *hello-rootless* ]]
	[ "$status_exec" -eq 0 ]
	[[ "$out_exec" == *exec-ok*0* ]]
}

@test "rl-podman-2: a berth failure under rootless podman shows berth's own message" {
	rl_podman_setup
	run rl_pm run --rm --oom-score-adj -900 docker.io/library/busybox:berth true
	rl_podman_teardown
	[ "$status" -ne 0 ]
	[[ "$output" == *"set oom_score_adj to -900"*"permission denied (lowering it needs CAP_SYS_RESOURCE)"* ]]
}
