#!/usr/bin/env bats
# Bad input and wrong states: every failure is one clear line on stderr,
# exit status 1, the same message as the last "level":"error" entry of a
# JSON --log, and nothing left behind (state dir, cgroup, process).

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

# procs_in_test: processes whose cwd or root is under this test's temp
# dir (a leaked container init has its root in the bundle).
procs_in_test() {
	local p link out=""
	for p in /proc/[0-9]*; do
		for link in cwd root; do
			case "$(readlink "$p/$link" 2>/dev/null)" in
			"$TEST_TMP"*) out+=" ${p#/proc/}" ;;
			esac
		done
	done
	echo "$out"
}

# nothing_left ID: no state directory, cgroup or process of ID.
nothing_left() {
	local id=$1 left
	if [ -n "$id" ] && [ "$id" != . ] && [ "$id" != .. ] && [[ "$id" != */* ]]; then
		[ ! -e "$STATE_ROOT/$id" ] || { echo "state dir $STATE_ROOT/$id left"; return 1; }
		left=$(ls -d /sys/fs/cgroup/*/berth/"$id" 2>/dev/null || true)
		[ -z "$left" ] || { echo "cgroup left: $left"; return 1; }
	fi
	# nothing at all under the state root, however the id was spelled
	left=$(find "$STATE_ROOT" -mindepth 1 2>/dev/null || true)
	[ -z "$left" ] || { echo "left under the state root: $left"; return 1; }
	local deadline=$((SECONDS + 5))
	while [ -n "$(procs_in_test)" ]; do
		[ $SECONDS -lt $deadline ] || { echo "processes left:$(procs_in_test)"; return 1; }
		sleep 0.05
	done
}

# fails_cleanly PATTERN BERTH-ARGS...: berth fails with exit 1 and one
# line matching PATTERN on stderr, then again with --log json, where the
# last error entry must carry the same message as stderr.
fails_cleanly() {
	local pattern=$1
	shift
	local rc=0
	(cd "$BUNDLE" 2>/dev/null || cd /; "$BERTH" --root "$STATE_ROOT" "$@") >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || rc=$?
	echo "stderr: $(cat "$TEST_TMP/err")"
	[ "$rc" -eq 1 ] || { echo "exit status $rc, want 1"; return 1; }
	[ "$(wc -l <"$TEST_TMP/err")" -eq 1 ] || { echo "want one line on stderr"; return 1; }
	[ ! -s "$TEST_TMP/out" ] || { echo "unexpected stdout: $(cat "$TEST_TMP/out")"; return 1; }
	grep -Eq -- "$pattern" "$TEST_TMP/err" || { echo "stderr does not match $pattern"; return 1; }

	rc=0
	rm -f "$TEST_TMP/log.json"
	(cd "$BUNDLE" 2>/dev/null || cd /; "$BERTH" --root "$STATE_ROOT" --log "$TEST_TMP/log.json" --log-format json "$@") \
		>/dev/null 2>"$TEST_TMP/err" </dev/null || rc=$?
	[ "$rc" -eq 1 ] || { echo "with --log: exit status $rc"; return 1; }
	local logged
	logged=$(jq -r 'select(.level == "error") | .msg' "$TEST_TMP/log.json" | tail -1)
	echo "logged: $logged"
	[ "$logged" = "$(cat "$TEST_TMP/err")" ] || { echo "log and stderr differ"; return 1; }
	jq -e 'has("time") and has("level") and has("msg")' "$TEST_TMP/log.json" >/dev/null
}

# create_fails ID PATTERN: create fails cleanly and leaves nothing.
create_fails() {
	fails_cleanly "$2" create --bundle "$BUNDLE" "$1"
	nothing_left "$1"
}

@test "err-json: config.json with a syntax error" {
	echo '{"ociVersion": "1.3.0", "process": {' >"$BUNDLE/config.json"
	create_fails err-json 'config.json.*(unexpected|EOF)'
}

@test "err-types: config.json with wrong types" {
	update_config '.process.args = "sh"'
	create_fails err-types 'config.json.*cannot unmarshal'
	update_config '.process.args = ["sh"] | .linux.resources.memory.limit = "lots"'
	create_fails err-types2 'config.json.*cannot unmarshal'
}

@test "err-notapplied: members berth does not know and other platforms' sections run as in runc, each kind named in one warning line (config.json, exec's process file, update's resources)" {
	set_args sleep 1000
	update_config '.process.futureField = 1 | .linux.resources.pids.futureLimit = 2 | .mounts[0].futureOption = "x"
		| .windows = {"layerFolders": ["x"]} | .vm = {"kernel": {"path": "/k"}}'
	run berth run -d --bundle "$BUNDLE" err-na
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == *"config.json: unknown to berth (runtime-spec "*"), not applied: linux.resources.pids.futureLimit, mounts[0].futureOption, process.futureField"* ]] || { echo "$output"; false; }
	[[ "$output" == *"config.json: for another platform than Linux, not applied: windows, vm"* ]] || { echo "$output"; false; }
	[ "$(echo "$output" | grep -c level=warning)" -eq 2 ] || { echo "$output"; false; }
	[ "$(container_status err-na)" = running ]
	# exec's process file: the known members apply, the unknown one is named.
	jq -n '{"args": ["sh", "-c", "echo exec-ran"], "cwd": "/", "futureField": {"a": 1}}' >"$TEST_TMP/p.json"
	run berth exec --process "$TEST_TMP/p.json" err-na
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == *"exec-ran"* ]]
	[[ "$output" == *"process file $TEST_TMP/p.json: unknown to berth (runtime-spec "*"), not applied: futureField"* ]] || { echo "$output"; false; }
	# update's resources, from stdin: the limit is set, the unknown member named.
	echo '{"pids": {"limit": 77, "futureLimit": 1}}' >"$TEST_TMP/r.json"
	run bash -c "'$BERTH' --root '$STATE_ROOT' update -r - err-na <'$TEST_TMP/r.json'"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == *"resources -: unknown to berth (runtime-spec "*"), not applied: pids.futureLimit"* ]] || { echo "$output"; false; }
	[ "$(cat "$(cgroup_path pids err-na)/pids.max")" = 77 ]
	# A config berth knows whole warns of nothing.
	berth delete -f err-na
	update_config 'del(.process.futureField, .linux.resources.pids.futureLimit, .mounts[0].futureOption, .windows, .vm)'
	run berth run -d --bundle "$BUNDLE" err-na
	[ "$status" -eq 0 ]
	[ -z "$output" ] || { echo "$output"; false; }
	berth delete -f err-na
}

# The spec: runtimes MUST ignore process.consoleSize when process.terminal
# is false (berth refused it before); ignored, and said.
@test "err-consolesize: consoleSize without a terminal is not applied, with a warning, and the container runs" {
	update_config '.process.terminal = false | .process.consoleSize = {"height": 10, "width": 20}'
	set_args echo ran
	run berth run --bundle "$BUNDLE" err-cs
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == *"process.consoleSize: not applied: process.terminal is false"* ]] || { echo "$output"; false; }
	echo "$output" | grep -qx ran
}

@test "err-noconfig: missing config.json" {
	rm "$BUNDLE/config.json"
	create_fails err-noconfig 'config.json not found'
	fails_cleanly 'does not exist|not found|no such' create --bundle "$TEST_TMP/no-such-bundle" err-nobundle
	nothing_left err-nobundle
}

@test "err-rootfs: missing rootfs, and a rootfs that is not a directory" {
	update_config '.root.path = "missing"'
	create_fails err-rootfs 'rootfs .*missing does not exist'
	touch "$BUNDLE/file"
	update_config '.root.path = "file"'
	create_fails err-rootfs2 'rootfs .*file is not a directory'
}

@test "err-process: empty args, relative cwd, unknown rlimit" {
	update_config '.process.args = []'
	create_fails err-args 'process.args must not be empty'
	update_config '.process.args = ["sh"] | .process.cwd = "tmp"'
	create_fails err-cwd 'cwd .{0,2}tmp.{0,2} must be an absolute path'
	# an unknown capability is runc's warning, not an error (process.bats)
	update_config '.process.cwd = "/" | .process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
	create_fails err-rlimit 'unknown rlimit type .{0,2}RLIMIT_BOGUS'
}

@test "err-nul: a NUL in a string the kernel takes is refused at create, naming the member; one in an annotation is not" {
	# Before: args reached init ("exec string contains NUL"), a mount source
	# failed as "direct exec: protocol error 0", a hostname was cut short.
	local jqs=('.process.args = ["tr\u0000ue"]' '.mounts[0].source = "pr\u0000oc"' '.hostname = "a\u0000b"'
		'.linux.cgroupsPath = "/a\u0000b"' '.process.cwd = "/\u0000x"')
	local names=('process.args\[0\]' 'mounts\[0\]\.source' 'hostname' 'linux\.cgroupsPath' 'process\.cwd')
	local i orig
	orig=$(cat "$BUNDLE/config.json")
	for i in "${!jqs[@]}"; do
		echo "$orig" >"$BUNDLE/config.json"
		update_config "${jqs[$i]}"
		create_fails "err-nul$i" "config.json: ${names[$i]} contains a NUL byte"
	done
	echo "$orig" >"$BUNDLE/config.json"
	update_config '.annotations = {"a": "b\u0000c"} | .process.args = ["sleep", "100"]'
	berth run -d --bundle "$BUNDLE" err-nul-ann </dev/null >/dev/null 2>&1
	# exec's process file goes through the same check
	jq '.process | .args = ["e\u0000cho"]' "$BUNDLE/config.json" >"$TEST_TMP/proc.json"
	run berth exec --process "$TEST_TMP/proc.json" err-nul-ann
	echo "$output"
	[ "$status" -eq 255 ] # runc's exit status for a failed exec
	[[ "$output" == *"exec failed: process file $TEST_TMP/proc.json: args[0] contains a NUL byte"* ]]
	berth delete -f err-nul-ann
}

@test "err-caps: capability sets the kernel would refuse at start fail at create, leaving nothing" {
	# As under runc, whose init sets them before create returns. An
	# inheritable capability outside the bounding set (here: none given).
	update_config '.process.capabilities = {effective: ["CAP_SYS_ADMIN"], permitted: ["CAP_SYS_ADMIN"], inheritable: ["CAP_SYS_ADMIN"]}'
	create_fails err-caps1 'process\.capabilities\.inheritable: CAP_SYS_ADMIN is not in process\.capabilities\.bounding'
	update_config '.process.capabilities = {bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: []}'
	create_fails err-caps2 'process\.capabilities\.effective: CAP_KILL is not in process\.capabilities\.permitted'
	# A capability berth itself cannot hand on: berth started without
	# CAP_SYSLOG in its bounding set, and no user namespace.
	local real=$BERTH
	printf '#!/bin/sh\nexec setpriv --bounding-set -syslog %s "$@"\n' "$real" >"$TEST_TMP/berth-nosyslog"
	chmod +x "$TEST_TMP/berth-nosyslog"
	BERTH=$TEST_TMP/berth-nosyslog
	update_config '.process.capabilities = {bounding: ["CAP_SYSLOG"], effective: ["CAP_SYSLOG"], permitted: ["CAP_SYSLOG"]}'
	create_fails err-caps3 'process\.capabilities\.permitted: CAP_SYSLOG cannot be granted'
	# In a user namespace of the container's own, init holds every
	# capability (of that namespace): the same sets are granted.
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
	chmod 755 "$TEST_TMP" # the container's root (host uid 200000) must reach its rootfs
	set_args sh -c "awk '/^CapPrm:/ {print \$2}' /proc/self/status"
	run berth run --bundle "$BUNDLE" err-caps4
	BERTH=$real
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 0000000400000000 ] # CAP_SYSLOG (34)
}

@test "err-ns: unknown namespace, duplicate namespace, user ns without mappings, hostname without UTS, unmapped ids" {
	cp "$BUNDLE/config.json" "$TEST_TMP/orig.json"
	update_config '.linux.namespaces += [{"type": "bogus"}]'
	create_fails err-ns1 'bogus'
	cp "$TEST_TMP/orig.json" "$BUNDLE/config.json"
	update_config '.linux.namespaces += [{"type": "pid"}]'
	create_fails err-ns2 'pid namespace given twice'
	cp "$TEST_TMP/orig.json" "$BUNDLE/config.json"
	update_config '.linux.namespaces += [{"type": "user"}] | del(.linux.uidMappings, .linux.gidMappings)'
	create_fails err-ns3 'user namespace needs linux.uidMappings'
	cp "$TEST_TMP/orig.json" "$BUNDLE/config.json"
	update_config '.linux.namespaces |= map(select(.type != "uts")) | .hostname = "err-host"'
	create_fails err-ns4 'hostname without a private UTS namespace'
	# ids the user namespace does not map: the kernel would refuse them
	# at start; runc's create fails on them
	cp "$TEST_TMP/orig.json" "$BUNDLE/config.json"
	chmod 755 "$TEST_TMP" # the container's root (host uid 200000) reaches its rootfs
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
		| .process.user.uid = 70000'
	create_fails err-ns5 'process\.user\.uid 70000 is not mapped in the user namespace'
	update_config '.process.user.uid = 0 | .process.user.additionalGids = [5, 65536]'
	create_fails err-ns6 'process\.user\.additionalGids: 65536 is not mapped'
}

@test "err-mount: bad mount options, caught before or during set-up" {
	# refused by validation
	update_config '.mounts += [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]}]'
	create_fails err-mnt1 'idmap/ridmap are for bind mounts only'
	# refused by the kernel inside init: the error travels back to create
	update_config '.mounts[-1].options = ["size=not-a-size"]'
	create_fails err-mnt2 '/mnt.*invalid argument'
	# (a relative destination is relative to /, as the spec allows:
	# mounts.bats mnt-legacy-dest)
	update_config '.mounts[-1] = {"destination": "", "type": "tmpfs", "source": "tmpfs"}'
	create_fails err-mnt3 'mounts\[[0-9]+\]: destination is required'
}

@test "err-chain: a container process that failed to start reads as runc's error does (\"NAME create failed: unable to start container process: error during container init: ...\"), under the name berth is invoked by" {
	# a mount refused by the kernel during init's set-up, direct and Go init
	update_config '.mounts += [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["size=not-a-size"]}]'
	create_fails err-ch1 '^time=.* msg="berth create failed: unable to start container process: error during container init: error mounting \\"tmpfs\\" to rootfs at \\"/mnt\\": .*invalid argument"$'
	BERTH_GO_INIT=1 create_fails err-ch2 'berth create failed: unable to start container process: error during container init: error mounting \\"tmpfs\\" to rootfs at \\"/mnt\\": .*invalid argument'
	update_config 'del(.mounts[-1])'
	# a program that is not there: run as create
	set_args nosuch-program
	fails_cleanly 'berth run failed: unable to start container process: error during container init: exec: \\"nosuch-program\\": executable file not found in \$PATH' run --bundle "$BUNDLE" err-ch3
	nothing_left err-ch3
	# installed as runc, it says runc, as a drop-in's users and runc's
	# tests (mounts_sshfs.bats) expect
	ln -s "$BERTH" "$TEST_TMP/runc"
	BERTH=$TEST_TMP/runc fails_cleanly '"runc run failed: unable to start container process: error during container init: exec: ' run --bundle "$BUNDLE" err-ch4
	nothing_left err-ch4
	# what the caller got wrong is reported before any process starts
	set_args true
	berth create --bundle "$BUNDLE" err-ch5
	fails_cleanly 'msg="berth create failed: container with id err-ch5 already exists"$' create --bundle "$BUNDLE" err-ch5
	# exec: runc's "exec failed: ..." (exit 255: exec.bats err-exec-status)
	berth delete --force err-ch5
}

@test "err-id: unsafe and invalid container IDs are refused before anything is made" {
	long=$(printf 'a%.0s' $(seq 2000))
	for id in "../x" "a/b" "." ".." "" "$long" "a b" 'a$b' "x/../../y"; do
		echo "id: ${id:0:40}"
		fails_cleanly 'invalid container id|container id cannot be empty' create --bundle "$BUNDLE" "$id"
		nothing_left "$id"
		[ ! -e "$TEST_TMP/x" ]
		[ ! -e "$TEST_TMP/y" ]
	done
	# a leading "-" is taken for a flag, never for an ID
	fails_cleanly '-x|flag|invalid container id' create --bundle "$BUNDLE" -- "-x"
	fails_cleanly '-x|flag|invalid container id' create --bundle "$BUNDLE" "-x"
	nothing_left ""
	# the same checks for commands on existing containers
	for cmd in state start kill delete; do
		fails_cleanly 'invalid container id' "$cmd" ../x
	done
}

@test "err-dup: a duplicate ID fails and leaves the first container untouched" {
	berth create --bundle "$BUNDLE" err-dup
	pid=$(init_pid err-dup)
	before=$(cat "$STATE_ROOT/err-dup/state.json")
	cgdir=$(jq -r '.cgroup_paths.memory' "$STATE_ROOT/err-dup/state.json")
	fails_cleanly 'err-dup already exists' create --bundle "$BUNDLE" err-dup
	[ "$(cat "$STATE_ROOT/err-dup/state.json")" = "$before" ]
	[ -e "$STATE_ROOT/err-dup/exec.fifo" ]
	[ "$(container_status err-dup)" = created ]
	[ "$(init_pid err-dup)" = "$pid" ]
	grep -qx "$pid" "$cgdir/cgroup.procs"
	berth start err-dup
	[ "$(container_status err-dup)" = running ]
}

@test "err-state: commands in the wrong state fail with the state in the message" {
	berth create --bundle "$BUNDLE" err-st
	berth start err-st
	fails_cleanly 'already running' start err-st
	fails_cleanly 'not stopped' delete err-st
	[ "$(container_status err-st)" = running ]
	berth kill err-st KILL
	wait_status err-st stopped
	fails_cleanly 'stopped' start err-st
	fails_cleanly 'container not running' kill err-st
	fails_cleanly 'container not running' kill err-st 9
	[ -e "$STATE_ROOT/err-st/state.json" ]
	berth delete err-st
}

@test "err-unknown: every command on an unknown container says it does not exist" {
	for cmd in state start kill delete; do
		fails_cleanly 'err-nope.*does not exist' "$cmd" err-nope
	done
	fails_cleanly 'does not exist' kill err-nope 9
	fails_cleanly 'does not exist' kill --all err-nope 9
	nothing_left err-nope
	# but delete --force of nothing is silent success (containerd relies on it)
	run berth delete --force err-nope
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "err-args: missing and extra arguments are one-line errors" {
	fails_cleanly 'argument|container id' start
	fails_cleanly 'argument' start a b
	fails_cleanly 'argument|container id' create --bundle "$BUNDLE"
	fails_cleanly 'signal' kill err-x NOSUCHSIG
	nothing_left ""
}
