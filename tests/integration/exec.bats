#!/usr/bin/env bats
# berth exec: a new process in a running container's namespaces and
# cgroup, with the container's hardening, every flag, and wrong states.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

# start_container ID: create (from one berth process) and start (from
# another), as containerd's shim does, then wait until running.
start_container() {
	berth create --bundle "$BUNDLE" "$1"
	berth start "$1"
	wait_status "$1" running
}

@test "ex-ns: exec joins every namespace of the container and returns its exit status" {
	start_container ex-ns
	pid=$(init_pid ex-ns)
	run berth exec ex-ns sh -c 'for n in ipc mnt net pid uts cgroup; do readlink /proc/self/ns/$n; done; exit 3'
	[ "$status" -eq 3 ]
	want=$(for n in ipc mnt net pid uts cgroup; do readlink /proc/$pid/ns/$n; done)
	[ "$output" = "$want" ]
	# and not the host's
	[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/$pid/ns/mnt)" ]
}

@test "ex-pid1: exec sees the container's pid namespace and rootfs" {
	echo marker >"$BUNDLE/rootfs/marker"
	start_container ex-pid1
	run berth exec ex-pid1 sh -c 'cat /proc/1/cmdline | tr "\0" " "; cat /marker'
	[ "$status" -eq 0 ]
	[[ "$output" == "sleep 1000 "* ]]
	[[ "$output" == *marker ]]
}

@test "ex-userns: exec joins a user-namespaced container (mapped root)" {
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
	# the container's root (host uid 200000) must reach its rootfs
	chmod 755 "$TEST_TMP"
	start_container ex-userns
	pid=$(init_pid ex-userns)
	run berth exec ex-userns sh -c 'id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[[ "${lines[1]}" == *"0"*"200000"*"65536"* ]]
	[ "${lines[2]}" = "$(readlink /proc/$pid/ns/user)" ]
	# the exec'd process is host uid 200000
	berth exec -d --pid-file "$TEST_TMP/ex.pid" ex-userns sleep 100
	[ "$(awk '/^Uid:/ {print $2}' /proc/$(cat "$TEST_TMP/ex.pid")/status)" = 200000 ]
}

@test "ex-detach: exec -d leaves the process running, its host pid in --pid-file, in the container's cgroup" {
	start_container ex-detach
	pid=$(init_pid ex-detach)
	run berth exec -d --pid-file "$TEST_TMP/ex.pid" ex-detach sleep 200
	[ "$status" -eq 0 ]
	xpid=$(cat "$TEST_TMP/ex.pid")
	[ -d "/proc/$xpid" ]
	grep -q 'sleep' "/proc/$xpid/cmdline"
	[ "$(readlink /proc/$xpid/ns/pid)" = "$(readlink /proc/$pid/ns/pid)" ]
	if cgroup_v2; then
		grep -qx '0::/berth/ex-detach' "/proc/$xpid/cgroup"
	else
		for c in memory pids cpu freezer; do
			grep -q ":$c[^:]*:/berth/ex-detach\$" "/proc/$xpid/cgroup"
		done
	fi
	# the pid file is the only file left in its directory (atomic rename)
	[ "$(ls "$TEST_TMP" | grep -c 'ex.pid')" -eq 1 ]
}

@test "ex-shim: exec --process FILE --detach --pid-file as containerd's shim calls it" {
	update_config '.root.readonly = false'
	start_container ex-shim
	cat >"$TEST_TMP/process.json" <<-'JSON'
	{"terminal": false, "user": {"uid": 1000, "gid": 1000, "additionalGids": [44]},
	 "args": ["sh", "-c", "id > /tmp/out; echo $FOO >> /tmp/out; pwd >> /tmp/out; exec sleep 100"],
	 "env": ["PATH=/bin:/sbin", "FOO=bar"], "cwd": "/etc"}
	JSON
	# through the berth wrapper: the detached process must not hold bats' pipe
	run berth --log "$TEST_TMP/log.json" --log-format json \
		exec --process "$TEST_TMP/process.json" --detach --pid-file "$TEST_TMP/x.pid" ex-shim
	[ "$status" -eq 0 ]
	[ -d "/proc/$(cat "$TEST_TMP/x.pid")" ]
	for _ in $(seq 100); do [ -s "$BUNDLE/rootfs/tmp/out" ] && [ "$(wc -l <"$BUNDLE/rootfs/tmp/out")" -ge 3 ] && break; sleep 0.05; done
	run cat "$BUNDLE/rootfs/tmp/out"
	[[ "${lines[0]}" == "uid=1000 gid=1000 groups=44"* ]]
	[ "${lines[1]}" = bar ]
	[ "${lines[2]}" = /etc ]
}

@test "ex-flags: --cwd, --env, --user, --additional-gids" {
	start_container ex-flags
	run berth exec --cwd /tmp --env A=1 -e B=2 --user 1000:1001 -g 7 -g 8 ex-flags sh -c 'pwd; echo $A$B; id'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /tmp ]
	[ "${lines[1]}" = 12 ]
	[[ "${lines[2]}" == "uid=1000 gid=1001 groups=7,8"* ]]
	# uid alone keeps the container's gid
	run berth exec -u 1234 ex-flags id -g
	[ "$output" = 0 ]
}

@test "ex-caps: exec gets the container's capabilities unless --cap adds one" {
	update_config '.process.capabilities = {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}'
	start_container ex-caps
	run berth exec ex-caps sh -c 'grep CapEff /proc/self/status'
	[ "$output" = "CapEff:	0000000000000020" ]
	run berth exec --cap CAP_NET_ADMIN ex-caps sh -c 'grep CapEff /proc/self/status'
	[ "$output" = "CapEff:	0000000000001020" ]
}

@test "ex-caps-ambient: with an inheritable set in the config, exec --cap also raises the capability's ambient bit (runc's capabilities.bats)" {
	update_config '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SYSLOG"], "effective": ["CAP_CHOWN", "CAP_KILL"],
		"permitted": ["CAP_CHOWN", "CAP_KILL"], "inheritable": ["CAP_CHOWN", "CAP_SYSLOG"], "ambient": ["CAP_CHOWN"]}
		| .process.noNewPrivileges = false'
	start_container ex-capa
	run berth exec ex-capa grep Cap /proc/self/status
	[[ "$output" == *"CapAmb:	0000000000000001"* ]]
	run berth exec --cap CAP_SYSLOG ex-capa grep Cap /proc/self/status
	echo "$output"
	[[ "$output" == *"CapInh:	0000000400000001"* ]]
	[[ "$output" == *"CapPrm:	0000000400000021"* ]]
	[[ "$output" == *"CapEff:	0000000400000021"* ]]
	[[ "$output" == *"CapAmb:	0000000400000001"* ]]
}

@test "ex-hardening: exec inherits rlimits, no_new_privs and the seccomp filter" {
	update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 321}]
		| .process.noNewPrivileges = true
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	start_container ex-hard
	run berth exec ex-hard sh -c 'ulimit -n; grep NoNewPrivs /proc/self/status; grep Seccomp: /proc/self/status; mkdir /tmp/d'
	echo "$output"
	[ "$status" -ne 0 ]
	[ "${lines[0]}" = 321 ]
	[ "${lines[1]}" = "NoNewPrivs:	1" ]
	[ "${lines[2]}" = "Seccomp:	2" ]
	[[ "$output" == *"mkdir"* ]]
}

@test "ex-nnp: --no-new-privs sets no_new_privs for one exec" {
	update_config '.process.noNewPrivileges = false'
	start_container ex-nnp
	run berth exec ex-nnp grep NoNewPrivs /proc/self/status
	[ "$output" = "NoNewPrivs:	0" ]
	run berth exec --no-new-privs ex-nnp grep NoNewPrivs /proc/self/status
	[ "$output" = "NoNewPrivs:	1" ]
}

@test "ex-fds: exec closes berth's fds and passes --preserve-fds" {
	start_container ex-fds
	echo preserved >"$TEST_TMP/fd3"
	run "$BERTH" --root "$STATE_ROOT" exec --preserve-fds 1 ex-fds sh -c 'cat /proc/self/fd/3; ls /proc/self/fd' 3<"$TEST_TMP/fd3" </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = preserved ]
	# 0 1 2 3 and the fd ls opens: nothing of berth's
	[ "$(echo "${lines[@]:1}" | wc -w)" -le 5 ]
	run berth exec ex-fds ls /proc/self/fd
	[ "$(echo "$output" | wc -w)" -le 4 ]
}

@test "ex-signal: foreground exec forwards signals and exits 128+signal when killed" {
	start_container ex-sig
	"$BERTH" --root "$STATE_ROOT" exec ex-sig sh -c 'trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done' >"$TEST_TMP/out" 2>&1 </dev/null &
	bpid=$!
	for _ in $(seq 100); do grep -q ready "$TEST_TMP/out" && break; sleep 0.05; done
	kill -TERM $bpid
	rc=0
	wait $bpid || rc=$?
	[ "$rc" -eq 7 ]

	"$BERTH" --root "$STATE_ROOT" exec ex-sig sh -c 'echo ready; exec sleep 100' >"$TEST_TMP/out2" 2>&1 </dev/null &
	bpid=$!
	for _ in $(seq 100); do grep -q ready "$TEST_TMP/out2" && break; sleep 0.05; done
	kill -USR1 $bpid
	rc=0
	wait $bpid || rc=$?
	[ "$rc" -eq $((128 + 10)) ]
}

@test "ex-cgroup: --cgroup runs the process in an existing sub-cgroup" {
	requires_cgroup_v1
	start_container ex-sub
	mem=$(cgroup_path memory ex-sub)
	mkdir "$mem/sub"
	berth exec -d --pid-file "$TEST_TMP/x.pid" --cgroup memory:sub ex-sub sleep 100
	xpid=$(cat "$TEST_TMP/x.pid")
	grep -qx "$xpid" "$mem/sub/cgroup.procs"
	# other controllers stay in the container's own cgroup
	grep -qx "$xpid" "$(cgroup_path pids ex-sub)/cgroup.procs"
	run berth exec --cgroup memory:nope ex-sub true
	[ "$status" -ne 0 ]
	[[ "$output" == *" adding pid "*"no such file or directory"* ]]
	# runc's words and rules (its exec.bats): no climbing out, to the
	# parent or to a sibling sharing the name's prefix; "/" is the
	# container's own cgroup; an unknown controller is named
	mkdir "$mem-sibling"
	for bad in .. "../$(basename "$mem")-sibling" "memory:../$(basename "$mem")-sibling"; do
		run berth exec --cgroup "$bad" ex-sub true
		[ "$status" -ne 0 ]
		[[ "$output" == *"bad sub cgroup path"* ]]
	done
	rmdir "$mem-sibling"
	berth exec -d --pid-file "$TEST_TMP/own.pid" --cgroup / ex-sub sleep 100
	grep -qx "$(cat "$TEST_TMP/own.pid")" "$mem/cgroup.procs"
	kill -9 "$(cat "$TEST_TMP/own.pid")"
	run berth exec --cgroup whaaat:/ ex-sub true
	[ "$status" -ne 0 ]
	[[ "$output" == *"unknown controller "* ]]
	kill -9 "$xpid"
	# The kernel may still hold the emptied cgroup for a moment (EBUSY).
	for _ in $(seq 100); do rmdir "$mem/sub" 2>/dev/null && break; sleep 0.05; done
	[ ! -d "$mem/sub" ]
}

@test "ex-states: exec into a paused, stopped, created or missing container" {
	berth create --bundle "$BUNDLE" ex-st
	# created: init's namespaces exist, exec works (runc allows it)
	run berth exec ex-st true
	[ "$status" -eq 0 ]
	berth start ex-st
	berth pause ex-st
	run berth exec ex-st true
	[ "$status" -eq 255 ]
	[[ "$output" == *"cannot exec in a paused container"* ]]
	# --ignore-paused: the process is frozen with the rest of the container
	berth exec -d --ignore-paused --pid-file "$TEST_TMP/p.pid" ex-st sleep 100
	xpid=$(cat "$TEST_TMP/p.pid")
	grep -qx "$xpid" "$(cgroup_path freezer ex-st)/cgroup.procs"
	berth resume ex-st
	berth kill ex-st KILL
	wait_status ex-st stopped
	run berth exec ex-st true
	[ "$status" -eq 255 ]
	[[ "$output" == *"cannot exec in a stopped container"* ]]
	run berth exec ex-none true
	[ "$status" -eq 255 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "ex-errors: a missing program, a bad --process and no command fail clearly" {
	start_container ex-err
	run berth exec ex-err /nonexistent
	[ "$status" -eq 255 ]
	[[ "$output" == *"/nonexistent"* ]]
	echo '{"args": [], "cwd": "/"}' >"$TEST_TMP/p.json"
	run berth exec --process "$TEST_TMP/p.json" ex-err
	[ "$status" -eq 255 ]
	[[ "$output" == *"args must not be empty"* ]]
	echo '{"args": ["true"], "cwd": "relative"}' >"$TEST_TMP/p.json"
	run berth exec --process "$TEST_TMP/p.json" ex-err
	[[ "$output" == *"absolute"* ]]
	run berth exec ex-err
	[ "$status" -eq 255 ]
	[[ "$output" == *"args cannot be empty"* ]]
	# a failed exec leaves no process behind in the cgroup
	[ "$(wc -l <"$(cgroup_path pids ex-err)/cgroup.procs")" -eq 1 ]
}

@test "cli-exec-status: the process's status is exec's; exec's own failures exit 255, usage errors 1" {
	start_container cli-xst
	for code in 0 3 42 254 255; do
		run berth exec cli-xst sh -c "exit $code"
		[ "$status" -eq "$code" ]
	done
	# killed by a signal (not one berth forwarded): 128+signal
	run berth exec cli-xst sh -c 'kill -KILL $$'
	[ "$status" -eq 137 ]
	run berth exec cli-xst sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
	# could not start the process, foreground and detached
	run berth exec cli-xst /cli-no-such-binary
	[ "$status" -eq 255 ]
	[[ "$output" == *"/cli-no-such-binary"* ]]
	run berth exec -d cli-xst /cli-no-such-binary
	[ "$status" -eq 255 ]
	# refused: a paused container without --ignore-paused
	berth pause cli-xst
	run berth exec cli-xst true
	[ "$status" -eq 255 ]
	[[ "$output" == *"cannot exec in a paused container (use --ignore-paused to override)"* ]]
	[ "${#lines[@]}" -eq 1 ]
	run berth exec -d --ignore-paused cli-xst true
	[ "$status" -eq 0 ]
	berth resume cli-xst
	# refused: no such container
	run berth exec cli-xst-none true
	[ "$status" -eq 255 ]
	[[ "$output" == *"does not exist"* ]]
	# a usage error is not exec's failure: runc exits 1 there too
	run berth exec
	[ "$status" -eq 1 ]
	run berth exec --no-such-flag cli-xst true
	[ "$status" -eq 1 ]
}

@test "cli-exec-user: --user UID[:GID] and --additional-gids parse and apply as runc's" {
	start_container cli-xu
	groups='awk '\''/^Groups:/ {$1 = ""; print "[" $0 "]"}'\'' /proc/self/status'
	run berth exec -u 1000:1001 -g 5 -g 6 cli-xu sh -c "id -u; id -g; $groups"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1001 ]
	[ "${lines[2]}" = "[ 5 6]" ]
	# uid alone keeps the container's gid and no extra groups
	run berth exec -u 1234 cli-xu sh -c "id -u; id -g; $groups"
	[ "${lines[0]}" = 1234 ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = "[]" ]
	# one value per flag, as runc's: a comma is no separator
	run berth exec -e CLI=1,2 cli-xu sh -c 'echo "$CLI"'
	[ "$status" -eq 0 ]
	[ "$output" = "1,2" ]
	run berth exec -g 3,4 cli-xu true
	[ "$status" -eq 1 ]
	[[ "$output" == *"3,4"* ]]
	run berth exec -g nogid cli-xu true
	[ "$status" -eq 1 ]
	# refused values are exec's failures (255), each in one line
	for u in 1000: :5 abc 1000:1001:3 -1 4294967296; do
		run berth exec -u "$u" cli-xu true
		[ "$status" -eq 255 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == *"--user"* ]]
	done
	run berth exec -g -3 cli-xu true
	[ "$status" -eq 255 ]
	[[ "$output" == *"additional-gids"* ]]
}

@test "cli-exec-cgroup: --cgroup ctrl,ctrl:path and a lone path for every hierarchy (v1)" {
	requires_cgroup_v1
	start_container cli-xcg
	for c in cpu memory pids; do
		[ -d "$(cgroup_path $c cli-xcg)" ] || skip "no v1 $c hierarchy"
	done
	for c in cpu memory; do mkdir "$(cgroup_path $c cli-xcg)/sub"; done
	# several controllers in one entry (a comma is no flag separator)
	run berth exec --cgroup cpu,memory:sub cli-xcg cat /proc/self/cgroup
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *":cpu:/sub"* ]]
	[[ "$output" == *":memory:/sub"* ]]
	[[ "$output" == *":pids:/"$'\n'* ]]
	# entries for different controllers add up
	mkdir "$(cgroup_path pids cli-xcg)/other"
	run berth exec --cgroup memory:sub --cgroup pids:other cli-xcg cat /proc/self/cgroup
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *":memory:/sub"* ]]
	[[ "$output" == *":pids:/other"* ]]
	[[ "$output" == *":cpu:/"$'\n'* ]]
	# a path alone: that sub-cgroup in every hierarchy, which must exist
	run berth exec --cgroup sub cli-xcg true
	[ "$status" -eq 255 ]
	[[ "$output" == *"no such file or directory"* ]]
	paths=$(init_cgroup_dirs cli-xcg)
	for d in $paths; do mkdir -p "$d/sub"; done
	# a new v1 cpuset cgroup has no CPUs or memory nodes until given some
	cs=$(cgroup_path cpuset cli-xcg)
	cat "$cs/cpuset.cpus" >"$cs/sub/cpuset.cpus"
	cat "$cs/cpuset.mems" >"$cs/sub/cpuset.mems"
	run berth exec --cgroup sub cli-xcg cat /proc/self/cgroup
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -vc '/sub$' <<<"$output")" -eq 0 ]
	# runc's syntax errors
	run berth exec --cgroup a:b:c cli-xcg true
	[ "$status" -eq 255 ]
	run berth exec --cgroup sub --cgroup memory:sub cli-xcg true
	[ "$status" -eq 255 ]
	run berth exec --cgroup nosuchctl:sub cli-xcg true
	[ "$status" -eq 255 ]
	for d in $paths; do rmdir "$d/sub"; done
	rmdir "$(cgroup_path pids cli-xcg)/other"
}

# The probe of what an exec process got, for ex-direct-*: everything the
# set-up applies, one line each.
DIRECT_PROBE='id; grep -E "^(Cap|NoNewPrivs|Seccomp|Cpus_allowed_list|SigBlk|SigIgn)" /proc/self/status;
	umask; pwd; env | sort; ulimit -a; ls /proc/self/fd; cat /proc/self/cgroup; cat /proc/self/oom_score_adj;
	readlink /proc/self/ns/mnt /proc/self/ns/pid /proc/self/ns/net; cat /proc/self/attr/current 2>/dev/null; true'

@test "ex-direct-same: a direct exec gets exactly what the Go exec process gets, also from a caller that ignores SIGHUP, SIGINT and SIGQUIT" {
	# --debug keeps the Go exec process (it logs its steps); without it
	# this config is a direct exec (ex-direct-taken checks that).
	update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}, {"type": "RLIMIT_NPROC", "soft": 99, "hard": 100}]
		| .process.oomScoreAdj = 321
		| .process.noNewPrivileges = false
		| .process.env += ["DUP=1", "DUP=2", "HOME="]
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	start_container ex-dsame
	echo pfd >"$TEST_TMP/fd3"
	# A caller that ignores signals (a shell's background job, nohup):
	# SIGHUP and SIGINT get their default action in both, as a container's
	# init does (directinit.bats di-sigign); SIGQUIT, which berth's Go
	# runtime handles, has it in both too.
	for ignore in "" 'trap "" HUP INT QUIT;'; do
		for flags in "" "--user 1000:1001 -g 7 -g 8 --cwd /tmp --env X=1 --cap CAP_SYS_ADMIN --no-new-privs" "--user 65534:65534 --cwd /root"; do
			sh -c "$ignore"' exec "$@"' sh taskset -c 0 "$BERTH" --root "$STATE_ROOT" exec --preserve-fds 1 $flags ex-dsame sh -c "cat /proc/self/fd/3; $DIRECT_PROBE" 3<"$TEST_TMP/fd3" >"$TEST_TMP/direct" 2>&1 </dev/null
			sh -c "$ignore"' exec "$@"' sh taskset -c 0 "$BERTH" --root "$STATE_ROOT" --log "$TEST_TMP/debug.log" --debug exec --preserve-fds 1 $flags ex-dsame sh -c "cat /proc/self/fd/3; $DIRECT_PROBE" 3<"$TEST_TMP/fd3" >"$TEST_TMP/go" 2>&1 </dev/null
			cat "$TEST_TMP/direct"
			diff "$TEST_TMP/direct" "$TEST_TMP/go"
			grep -q '^pfd$' "$TEST_TMP/direct"
			mask=$((16#$(awk '$1 == "SigIgn:" {print $2}' "$TEST_TMP/direct")))
			[ $((mask & 3)) -eq 0 ]
		done
	done
	# the filter is in force in both
	run berth exec ex-dsame mkdir /tmp/d
	[ "$status" -ne 0 ]
	[[ "$output" == *"ermission"* || "$output" == *"not permitted"* ]]
}

@test "ex-direct-errors: a direct exec fails as the Go exec process does" {
	echo '#!/bin/nothing' >"$BUNDLE/rootfs/badinterp"
	printf '\0\1\2\3' >"$BUNDLE/rootfs/garbage"
	chmod 755 "$BUNDLE/rootfs/badinterp" "$BUNDLE/rootfs/garbage"
	echo 'x' >"$BUNDLE/rootfs/noexec"
	start_container ex-derr
	for args in "nothere" "/nothere" "/etc" "/noexec" "/garbage" "/badinterp" "--cwd /nothere true" "--cwd /etc/passwd true"; do
		run "$BERTH" --root "$STATE_ROOT" exec ex-derr $args
		direct_status=$status
		direct_msg=$(echo "$output" | grep 'level=error' | sed -e 's/^.*msg=//' -e 's/ func=.*$//')
		run "$BERTH" --root "$STATE_ROOT" --debug exec ex-derr $args
		go_msg=$(echo "$output" | grep 'level=error' | sed -e 's/^.*msg=//' -e 's/ func=.*$//')
		echo "$args: direct [$direct_status] $direct_msg / go [$status] $go_msg"
		[ "$direct_status" -eq 255 ]
		[ "$status" -eq 255 ]
		[ -n "$direct_msg" ]
		[ "$direct_msg" = "$go_msg" ]
	done
}

@test "ex-direct-large: a program too large for one nsenter request runs through the Go exec process" {
	start_container ex-dlarge
	big=$(head -c 70000 /dev/zero | tr '\0' x)
	# The fallback once waited for a seal the direct start had taken: a hang.
	run timeout 30 "$BERTH" --root "$STATE_ROOT" exec --env "BIG=$big" ex-dlarge sh -c 'echo ${#BIG}'
	echo "$output" | cut -c1-200
	[ "$status" -eq 0 ]
	[ "$output" = 70000 ]
}

@test "ex-direct-taken: a plain exec starts no Go runtime in the container process; a terminal or --debug does" {
	# oomScoreAdj (exec inherits the container's) is nsenter's on both paths
	update_config '.process.oomScoreAdj = 222'
	start_container ex-dtaken
	# Go installs a handler for every signal at start-up: ~65 rt_sigaction
	# calls per Go process. Count the calls of the whole exec, both ways.
	count() {
		strace -f -qq -e trace=rt_sigaction -o "$TEST_TMP/st" "$BERTH" --root "$STATE_ROOT" "$@" >/dev/null 2>&1 </dev/null
		grep -c rt_sigaction "$TEST_TMP/st"
	}
	direct=$(count exec ex-dtaken true)
	gopath=$(count --log "$TEST_TMP/d.log" --debug exec ex-dtaken true)
	echo "direct $direct, go $gopath"
	[ "$gopath" -ge $((direct + 40)) ]
	run berth exec ex-dtaken cat /proc/self/oom_score_adj
	[ "$output" = 222 ]
}

@test "ex-wait-fifo: exec --exec-wait-fifo holds the program until the fifo has a reader" {
	update_config '.root.readonly = false'
	start_container ex-wait
	mkfifo -m 600 "$TEST_TMP/wait.fifo"
	# -d returns once the process is set up, its pid in the file, while
	# it waits for a reader before its execve. Not through `run`: the
	# waiting process holds the stdio it was given.
	berth exec -d --pid-file "$TEST_TMP/ex.pid" --exec-wait-fifo "$TEST_TMP/wait.fifo" ex-wait \
		sh -c 'echo ran > /marker' </dev/null >/dev/null 2>&1
	xpid=$(cat "$TEST_TMP/ex.pid")
	[ -d "/proc/$xpid" ]
	! grep -q marker "/proc/$xpid/cmdline" || false
	[ "$(tr '\0' ' ' <"/proc/$xpid/cmdline")" = "berth init " ]
	[ ! -e "$BUNDLE/rootfs/marker" ]
	# The reader gets one byte, "0"; then the program runs.
	[ "$(timeout 10 cat "$TEST_TMP/wait.fifo")" = 0 ]
	for _ in $(seq 100); do
		[ -e "$BUNDLE/rootfs/marker" ] && break
		sleep 0.1
	done
	[ "$(cat "$BUNDLE/rootfs/marker")" = ran ]

	# In the foreground, as a user the root-owned fifo (mode 0600) does
	# not admit: the process waits before it changes user. exec returns
	# the program's status, and no descriptor of the fifo reaches it.
	(sleep 0.5; timeout 10 cat "$TEST_TMP/wait.fifo" >"$TEST_TMP/read") &
	run berth exec -u 1000:1000 --exec-wait-fifo "$TEST_TMP/wait.fifo" ex-wait \
		sh -c 'id -u; ls -l /proc/self/fd/ | grep -c fifo; exit 7'
	wait
	echo "$output"
	[ "$status" -eq 7 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 0 ]
	[ "$(cat "$TEST_TMP/read")" = 0 ]

	# Refused before any process starts, in runc's words.
	: >"$TEST_TMP/plain"
	run berth exec --exec-wait-fifo "$TEST_TMP/plain" ex-wait true
	[ "$status" -eq 255 ]
	[[ "$output" == *"exec wait fifo $TEST_TMP/plain is not a fifo"* ]]
	run berth exec --exec-wait-fifo "$TEST_TMP/none.fifo" ex-wait true
	[ "$status" -eq 255 ]
	[[ "$output" == *"failed to open exec wait fifo"*"no such file or directory"* ]]
	# Nothing was left running: the container holds its init alone.
	run berth ps --format json ex-wait
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" -eq 1 ]
}
