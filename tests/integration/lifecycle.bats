#!/usr/bin/env bats
# The OCI lifecycle: create → created → start → running → stopped → delete.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "create, start, kill, delete walk through every status" {
	run berth create --bundle "$BUNDLE" --pid-file "$TEST_TMP/pid" lc1
	[ "$status" -eq 0 ]
	[ "$(container_status lc1)" = created ]
	pid=$(init_pid lc1)
	[ "$(cat "$TEST_TMP/pid")" = "$pid" ]
	[ -d "/proc/$pid" ]

	run berth start lc1
	[ "$status" -eq 0 ]
	[ "$(container_status lc1)" = running ]

	run berth kill lc1 KILL
	[ "$status" -eq 0 ]
	wait_status lc1 stopped
	# a stopped container reports no pid
	[ "$(berth state lc1 | jq -r .pid)" = 0 ]

	run berth delete lc1
	[ "$status" -eq 0 ]
	run berth state lc1
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
}

@test "state prints the OCI fields" {
	update_config '.annotations = {"org.example.key": "value"}'
	berth create --bundle "$BUNDLE" st1
	run berth state st1
	[ "$status" -eq 0 ]
	[ "$(jq -r .ociVersion <<<"$output")" = 1.3.0 ]
	[ "$(jq -r .id <<<"$output")" = st1 ]
	[ "$(jq -r .bundle <<<"$output")" = "$BUNDLE" ]
	[ "$(jq -r '.annotations["org.example.key"]' <<<"$output")" = value ]
	[ "$(jq -r .created <<<"$output")" != null ]
}

@test "trim-state-nopoll: state and kill read the lock and state.json through bare fds (no Go poller set up); a state.json that is not a regular file is still refused" {
	berth create --bundle "$BUNDLE" trim-st1
	strace -f -qq -o "$TEST_TMP/strace" -e trace=epoll_create1,epoll_ctl,openat \
		"$BERTH" --root "$STATE_ROOT" state trim-st1 >"$TEST_TMP/state.json"
	[ "$(jq -r .status "$TEST_TMP/state.json")" = created ]
	grep -q 'trim-st1/state.json' "$TEST_TMP/strace"
	if grep -E 'epoll_create1|epoll_ctl' "$TEST_TMP/strace"; then
		cat "$TEST_TMP/strace"
		false
	fi
	strace -f -qq -o "$TEST_TMP/strace" -e trace=epoll_create1,epoll_ctl,openat \
		"$BERTH" --root "$STATE_ROOT" kill trim-st1 KILL
	grep -q 'trim-st1/lock' "$TEST_TMP/strace"
	if grep -E 'epoll_create1|epoll_ctl' "$TEST_TMP/strace"; then
		cat "$TEST_TMP/strace"
		false
	fi
	wait_status trim-st1 stopped
	berth delete trim-st1

	# A fifo planted as state.json is not read (nor waited on).
	mkdir -m 0711 "$STATE_ROOT/trim-st2"
	mkfifo -m 0600 "$STATE_ROOT/trim-st2/state.json"
	run timeout 10 "$BERTH" --root "$STATE_ROOT" state trim-st2
	[ "$status" -ne 0 ]
	[[ "$output" == *"state of trim-st2 is not a regular file"* ]]
	rm -rf "${STATE_ROOT:?}/trim-st2"
}

@test "ic-init-nopoll: berth init reads /etc/passwd and /proc/self/setgroups through bare fds (no Go poller in init); HOME still comes from /etc/passwd" {
	update_config '.process.env = ["PATH=/bin:/usr/bin"]'
	set_args sh -c 'echo home=$HOME'
	# The Go init's (a direct init has no Go runtime: directinit.bats).
	BERTH_GO_INIT=1 strace -f -qq -o "$TEST_TMP/strace" -e trace=execve,epoll_create1,epoll_ctl,openat \
		"$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" ic-np1 >"$TEST_TMP/out" </dev/null
	[ "$(cat "$TEST_TMP/out")" = "home=/root" ]
	# init's pid: the process that execve'd "berth init".
	pid=$(awk '/execve\(.*\["berth", "init"\]/ {print $1; exit}' "$TEST_TMP/strace")
	[ -n "$pid" ]
	# from its execve on: before it, the pid is the runtime's child (or,
	# as strace shows a clone3 child on some kernels, lines of the
	# runtime's own threads under that pid)
	awk -v p="$pid" '$1 == p && (/execve\(.*\["berth", "init"\].* = 0$/ || /<\.\.\. execve resumed>.* = 0$/) {on = 1} on && $1 == p' "$TEST_TMP/strace" >"$TEST_TMP/init.strace"
	grep -q '"/etc/passwd"' "$TEST_TMP/init.strace"
	grep -q '"/proc/self/setgroups"' "$TEST_TMP/init.strace"
	if grep -E 'epoll_create1|epoll_ctl' "$TEST_TMP/init.strace"; then
		cat "$TEST_TMP/init.strace"
		false
	fi
}

@test "the container's process exiting makes it stopped" {
	set_args sh -c 'exit 0'
	berth create --bundle "$BUNDLE" ex1
	berth start ex1
	wait_status ex1 stopped
	run berth start ex1
	[ "$status" -ne 0 ]
	[[ "$output" == *"stopped"* ]]
}

@test "delete removes the container's cgroup directories" {
	berth create --bundle "$BUNDLE" cg1
	paths=$(init_cgroup_dirs cg1)
	[ -n "$paths" ]
	for p in $paths; do [ -d "$p" ]; done
	berth start cg1
	berth kill cg1 9
	wait_status cg1 stopped
	berth delete cg1
	for p in $paths; do [ ! -e "$p" ]; done
	[ ! -e "$STATE_ROOT/cg1" ]
}

@test "delete refuses a running container, delete --force kills it" {
	berth create --bundle "$BUNDLE" df1
	berth start df1
	pid=$(init_pid df1)
	run berth delete df1
	[ "$status" -ne 0 ]
	[[ "$output" == *"not stopped"* ]]
	[ "$(container_status df1)" = running ]
	run berth delete --force df1
	[ "$status" -eq 0 ]
	run berth state df1
	[[ "$output" == *"does not exist"* ]]
	# the init process is dead (or a zombie awaiting its reaper)
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)
	[ "$st" = gone ] || [ "$st" = Z ]
}

@test "delete of a created container that never started (no --force needed)" {
	berth create --bundle "$BUNDLE" dc1
	pid=$(init_pid dc1)
	run berth delete dc1
	[ "$status" -eq 0 ]
	[ ! -e "$STATE_ROOT/dc1" ]
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)
	[ "$st" = gone ] || [ "$st" = Z ]
}

@test "kill semantics the shim depends on" {
	# pid 1 ignores signals it has no handler for: trap TERM
	set_args sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
	berth create --bundle "$BUNDLE" k1
	berth start k1
	wait_caught "$(init_pid k1)" 15
	run berth kill k1
	[ "$status" -eq 0 ]
	wait_status k1 stopped
	run berth kill k1 15
	[ "$status" -eq 1 ]
	[[ "$output" == *"container not running"* ]]
	run berth kill --all k1 9
	[ "$status" -eq 0 ]
}

@test "kill-zero: signal 0 probes init: success while it runs, \"container not running\" after (runc's kill.bats)" {
	berth create --bundle "$BUNDLE" kz1
	berth start kz1
	run berth kill kz1 0
	[ "$status" -eq 0 ]
	[ "$(container_status kz1)" = running ]
	berth kill kz1 KILL
	wait_status kz1 stopped
	run berth kill kz1 0
	[ "$status" -eq 1 ]
	[[ "$output" == *"container not running"* ]]
	run berth kill kz1 -1
	[ "$status" -ne 0 ]
	[[ "$output" == *"invalid signal number -1"* ]]
}

@test "kill accepts names, SIG names and numbers" {
	set_args sh -c 'trap "exit 3" USR1; trap "exit 4" HUP; while :; do sleep 0.1; done'
	for sig in USR1 SIGUSR1 10; do
		berth run -d --bundle "$BUNDLE" "ks-$sig"
		wait_caught "$(init_pid "ks-$sig")" 10 1
		run berth kill "ks-$sig" "$sig"
		[ "$status" -eq 0 ]
		wait_status "ks-$sig" stopped
		berth delete "ks-$sig"
	done
	berth run -d --bundle "$BUNDLE" ks-bad
	run berth kill ks-bad NOTASIGNAL
	[ "$status" -ne 0 ]
	[[ "$output" == *"unknown signal"* ]]
}

@test "delete --force of an unknown container succeeds silently; plain delete fails" {
	run berth delete --force nosuch
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run berth delete nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"container does not exist"* ]]
}

@test "list shows containers in table, json and quiet form" {
	berth create --bundle "$BUNDLE" l1
	berth run -d --bundle "$BUNDLE" l2
	run berth list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == ID*PID*STATUS*BUNDLE* ]]
	[[ "$output" == *"l1"*created* ]]
	[[ "$output" == *"l2"*running* ]]
	run berth list --format json
	[ "$(jq -r '.[] | select(.id=="l2") | .status' <<<"$output")" = running ]
	run berth list -q
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "l1 l2 " ]
}

@test "a container ID can be reused after delete" {
	berth run -d --bundle "$BUNDLE" re1
	berth delete --force re1
	run berth run -d --bundle "$BUNDLE" re1
	[ "$status" -eq 0 ]
	[ "$(container_status re1)" = running ]
}

@test "run returns the container's exit status" {
	run_in_container sh -c 'exit 42'
	[ "$status" -eq 42 ]
	# run deletes the container afterwards
	run berth list -q
	[ -z "$output" ]
}

@test "run returns 128+signal when the process is killed" {
	set_args sleep 1000
	"$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" sk1 </dev/null >/dev/null 2>&1 &
	runpid=$!
	wait_status sk1 running
	berth kill sk1 KILL
	wait $runpid || rc=$?
	[ "${rc:-0}" -eq 137 ]
}

# While a foreground run waits, it holds its container's mount namespace
# (HoldMounts), so that init's exit does not tear the mounts down on the
# path the wait waits for; the runtime drops it as it cleans up. Without
# the hold, no fd of the runtime names the namespace.
@test "run-holdmnt: a foreground run holds its container's mount namespace while it waits, and drops it" {
	set_args sleep 1000
	"$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" hm1 </dev/null >/dev/null 2>&1 &
	runpid=$!
	wait_status hm1 running
	mnt=$(readlink "/proc/$(init_pid hm1)/ns/mnt")
	held=
	for fd in /proc/$runpid/fd/*; do
		[ "$(readlink "$fd")" = "$mnt" ] && held=$fd
	done
	echo "init's $mnt held by $held"
	[ -n "$held" ]
	berth kill hm1 KILL
	wait $runpid || rc=$?
	[ "${rc:-0}" -eq 137 ]
	[ -z "$(container_status hm1)" ]
}

@test "run forwards signals to the container" {
	# Each signal is caught by the container's shell, one at a time,
	# and TERM ends it. (The runtime catches them with sigrelay.) INT
	# too, though a background job of this shell starts with it ignored:
	# the container's program gets it with its default action, as under
	# runc (directinit.bats di-sigign).
	set_args sh -c 'for s in HUP INT USR1 USR2 ALRM; do trap "echo got-$s" $s; done
		trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
	"$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" fw1 >"$TEST_TMP/out" 2>&1 &
	runpid=$!
	for _ in $(seq 100); do grep -q ready "$TEST_TMP/out" && break; sleep 0.05; done
	grep -q ready "$TEST_TMP/out"
	for s in HUP INT USR1 USR2 ALRM; do
		kill -$s $runpid
		for _ in $(seq 100); do grep -q "got-$s" "$TEST_TMP/out" && break; sleep 0.05; done
		grep -q "got-$s" "$TEST_TMP/out"
	done
	kill -TERM $runpid
	wait $runpid || rc=$?
	[ "${rc:-0}" -eq 7 ]
	grep -q got-TERM "$TEST_TMP/out"
}

@test "run prints the container's output" {
	run_in_container echo hello-berth
	[ "$status" -eq 0 ]
	[ "$output" = hello-berth ]
}

@test "run -d: running state and pid file; a failure after set-up fails run and leaves nothing" {
	# run -d: the process runs as soon as it is set up; the state says
	# running with its pid, the pid file holds it, and no exec.fifo was
	# left (that is start's handshake, which run does without).
	set_args sleep 1000
	berth run -d --pid-file "$TEST_TMP/pid" --bundle "$BUNDLE" rn1
	[ "$(container_status rn1)" = running ]
	pid=$(init_pid rn1)
	[ "$(cat "$TEST_TMP/pid")" = "$pid" ]
	[ "$(readlink /proc/$pid/exe)" = /bin/busybox ] || [ "$(cat /proc/$pid/comm)" = sleep ]
	[ ! -e "$STATE_ROOT/rn1/exec.fifo" ]
	berth delete -f rn1

	# A failure after "ready" (here a startContainer hook, run by init
	# just before execve) comes back to run over the sync socket: run
	# fails with it and leaves no state, cgroup or process.
	set_args true
	update_config '.hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "echo no-start-today >&2; exit 3"]}]'
	run berth run --bundle "$BUNDLE" rn2
	[ "$status" -eq 1 ]
	[[ "$output" == *"start container"*"startContainer"*"no-start-today"* ]]
	[ ! -e "$STATE_ROOT/rn2" ]
	[ -z "$(ls -d /sys/fs/cgroup/*/berth/rn2 2>/dev/null)" ]
	! pgrep -f "berth.*rn2" >/dev/null
}

@test "--version prints version, commit and spec" {
	run "$BERTH" --version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "berth version "* ]]
	[[ "${lines[1]}" == "commit: "* ]]
	[ "${lines[2]}" = "spec: 1.3.0" ]
}

@test "spec writes a valid default config and refuses to overwrite" {
	d=$TEST_TMP/spec
	mkdir "$d"
	run "$BERTH" spec --bundle "$d"
	[ "$status" -eq 0 ]
	jq -e '.ociVersion == "1.3.0" and .root.path == "rootfs" and (.process.args | length) > 0' "$d/config.json"
	run "$BERTH" spec --bundle "$d"
	[ "$status" -ne 0 ]
	run "$BERTH" spec --rootless --bundle "$TEST_TMP"
	jq -e '[.linux.namespaces[].type] | index("user") != null' "$TEST_TMP/config.json"
}

@test "--log-format json puts the error in the log as the last error line" {
	run "$BERTH" --root "$STATE_ROOT" --log "$TEST_TMP/log.json" --log-format json state nosuch
	[ "$status" -eq 1 ]
	last=$(grep '"level":"error"' "$TEST_TMP/log.json" | tail -1)
	[[ "$(jq -r .msg <<<"$last")" == *"container does not exist"* ]]
	jq -e '.time != null' <<<"$last"
	# appended, not truncated
	"$BERTH" --root "$STATE_ROOT" --log "$TEST_TMP/log.json" --log-format json state nosuch2 || true
	[ "$(grep -c '"level":"error"' "$TEST_TMP/log.json")" -eq 2 ]
}

@test "cli-list-root: list of a --root that does not exist fails as runc's; an empty one prints the header" {
	mkdir -p "$STATE_ROOT"
	run berth list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == ID*PID*STATUS*BUNDLE*CREATED*OWNER ]]
	run berth list -q
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	for args in "" "-q" "--format json"; do
		# shellcheck disable=SC2086
		run "$BERTH" --root "$TEST_TMP/cli-no-root" list $args
		[ "$status" -eq 1 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == *' level=error msg="open '"$TEST_TMP/cli-no-root"': no such file or directory"' ]]
	done
	run "$BERTH" --root="$TEST_TMP/cli-no-root" list
	[ "$status" -eq 1 ]
	[[ "$output" == *"open $TEST_TMP/cli-no-root: no such file or directory"* ]]
	[ ! -e "$TEST_TMP/cli-no-root" ]
}

@test "cli-spec: berth spec writes runc's config (cgroup namespace only on a cgroup2-only host), --rootless as runc's" {
	d=$TEST_TMP/cli-spec
	mkdir -p "$d/berth" "$d/berth-rl"
	(cd "$d/berth" && "$BERTH" spec)
	(cd "$d/berth-rl" && "$BERTH" spec --rootless)
	nss=$(jq -c '[.linux.namespaces[].type]' "$d/berth/config.json")
	if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
		[ "$nss" = '["pid","network","ipc","uts","mount","cgroup"]' ]
	else
		[ "$nss" = '["pid","network","ipc","uts","mount"]' ]
	fi
	[ "$(jq -c .process.capabilities.ambient "$d/berth/config.json")" = null ]
	# rootless: no network namespace, a user namespace mapping the caller,
	# /sys bound, no uid=/gid= options, no resources, /sys/fs/cgroup kept
	rl=$d/berth-rl/config.json
	[ "$(jq -c '[.linux.namespaces[].type]' "$rl")" = "$(jq -c '. - ["network"] + ["user"]' <<<"$nss")" ]
	[ "$(jq -c '.linux.uidMappings' "$rl")" = "[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1}]" ]
	[ "$(jq -c '.mounts[] | select(.destination == "/sys") | .options' "$rl")" = '["rbind","nosuid","noexec","nodev","ro"]' ]
	[ "$(jq '[.mounts[].options[]? | select(startswith("gid=") or startswith("uid="))] | length' "$rl")" = 0 ]
	[ "$(jq -c .linux.resources "$rl")" = null ]
	jq -e '.mounts[] | select(.destination == "/sys/fs/cgroup")' "$rl"
	# the same as Debian's runc writes, but for berth's name, its spec
	# version, the ambient set runc main dropped and the one path berth
	# masks more
	command -v runc >/dev/null || return 0
	mkdir "$d/runc" "$d/runc-rl"
	(cd "$d/runc" && runc spec)
	(cd "$d/runc-rl" && runc spec --rootless)
	norm='del(.hostname, .ociVersion, .process.capabilities.ambient) | .linux.maskedPaths -= ["/sys/devices/virtual/powercap"]'
	diff <(jq -S "$norm" "$d/runc/config.json") <(jq -S "$norm" "$d/berth/config.json")
	diff <(jq -S "$norm" "$d/runc-rl/config.json") <(jq -S "$norm" "$rl")
}

# sections prints the help's section headers, one a line.
sections() { grep -E '^[A-Z][A-Z ]*:$' <<<"$1" | tr '\n' ' '; }
# flag_names prints the flags listed under the section $2 of help $1.
flag_names() { sed -n "/^$2:\$/,/^[A-Z]/p" <<<"$1" | grep -o '^   --[a-z-]*' | sort -u; }

@test "cli-name: installed under another name (a drop-in \"runc\"), help and version say that name, as runc's help.bats and version.bats expect" {
	ln -s "$BERTH" "$TEST_TMP/runc"
	run "$TEST_TMP/runc" -h
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "NAME:" ]
	[[ "${lines[1]}" =~ runc\ -\ Open\ Container\ Initiative\ runtime ]]
	run "$TEST_TMP/runc" state -h
	[[ "${lines[1]}" == "   runc state - "* ]]
	run "$TEST_TMP/runc" -v
	[[ "${lines[0]}" =~ ^runc\ version\ [0-9]+\.[0-9]+\.[0-9]+ ]]
	[[ "${lines[1]}" == commit:* ]]
	[[ "${lines[2]}" =~ ^spec:\ [0-9]+\.[0-9]+\.[0-9]+ ]]
	run "$BERTH" -v
	[[ "${lines[0]}" == "berth version "* ]]
}

@test "cli-debug-runc: --debug says runc's phrases at the same points of a start (nsexec set-up, init(), the pipe's close, setns_init's exec, exeseal), with the CPU affinity the set-up runs on" {
	ln -s "$BERTH" "$TEST_TMP/runc"
	set_args sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
	"$TEST_TMP/runc" --root "$STATE_ROOT" --debug run -d --bundle "$BUNDLE" cli-dbgr 2>"$TEST_TMP/run.err" </dev/null >/dev/null
	cat "$TEST_TMP/run.err"
	grep -q 'msg="runc exeseal: using /proc/self/exe clone' "$TEST_TMP/run.err"
	grep -q 'msg="container process: init: nsexec container setup done, child process in init(): pid 1 in its pid namespace, steps \[config .* execve\]: affinity: 0x[0-9a-f]*"' "$TEST_TMP/run.err"
	grep -q 'msg="container process: init: closing the pipe to signal completion: execve \\"sh\\""' "$TEST_TMP/run.err"
	# the affinity is the set-up's own: exec's initial one (runc's
	# cpu_affinity.bats reads it there), into --log as JSON
	cat >"$TEST_TMP/proc.json" <<-'EOF'
		{"args": ["true"], "cwd": "/", "execCPUAffinity": {"initial": "0"}}
	EOF
	"$TEST_TMP/runc" --root "$STATE_ROOT" --debug --log "$TEST_TMP/log.json" --log-format json exec --process "$TEST_TMP/proc.json" cli-dbgr
	jq -r 'select(.level == "debug") | .msg' "$TEST_TMP/log.json" >"$TEST_TMP/msgs"
	cat "$TEST_TMP/msgs"
	grep -q '^container process: exec process: nsexec container setup done, child process in init(): .*: affinity: 0x1$' "$TEST_TMP/msgs"
	grep -q '^container process: setns_init: about to exec "true"$' "$TEST_TMP/msgs"
	# none of them without --debug (the direct processes say nothing)
	"$BERTH" --root "$STATE_ROOT" exec cli-dbgr true 2>"$TEST_TMP/exec.err"
	[ ! -s "$TEST_TMP/exec.err" ]
	berth kill cli-dbgr TERM
	wait_status cli-dbgr stopped
	berth delete cli-dbgr
}

@test "cli-help: berth -h, --help, help and COMMAND -h print runc's layout, commands, usage lines and flags" {
	command -v runc >/dev/null || skip "runc is not installed to compare with"
	run "$BERTH" -h
	[ "$status" -eq 0 ]
	root=$output
	[ "$(sections "$root")" = "NAME: USAGE: VERSION: COMMANDS: GLOBAL OPTIONS: " ]
	[[ "${lines[1]}" == "   berth - Open Container Initiative runtime" ]]
	[ "$(sed -n '/^USAGE:$/{n;p}' <<<"$root")" = "   berth [global options] command [command options] [arguments...]" ]
	run "$BERTH" --help
	[ "$output" = "$root" ]
	run "$BERTH" help
	[ "$output" = "$root" ]
	runc_root=$(runc -h)
	diff <(flag_names "$runc_root" "GLOBAL OPTIONS") <(flag_names "$root" "GLOBAL OPTIONS")
	# runc's commands and berth's own check
	cmds() { sed -n '/^COMMANDS:$/,/^$/p' <<<"$1" | awk 'NR > 1 && NF {sub(",", "", $1); print $1}'; }
	want=$(cmds "$runc_root"; echo check)
	diff <(sort <<<"$want") <(cmds "$root" | sort)
	for c in $(cmds "$runc_root" | grep -vx 'help'); do
		run "$BERTH" "$c" -h
		[ "$status" -eq 0 ]
		help=$output
		echo "== $c"
		[[ "${lines[1]}" == "   berth $c - "?* ]]
		# the same usage line (arguments and all) as runc's
		[ "$(sed -n '/^USAGE:$/{n;p}' <<<"$help")" = "$(runc "$c" -h | sed -n '/^USAGE:$/{n;p}' | sed "s/runc/berth/")" ]
		s=$(sections "$help")
		[[ "$s" == "NAME: USAGE: "* ]]
		[[ "$s" != *"GLOBAL OPTIONS"* ]]
		# every flag runc's command has
		comm -23 <(flag_names "$(runc "$c" -h)" OPTIONS) <(flag_names "$help" OPTIONS) >"$TEST_TMP/missing"
		[ ! -s "$TEST_TMP/missing" ] || { cat "$TEST_TMP/missing"; false; }
		[ -z "$(flag_names "$help" OPTIONS | grep -x -- '   --help')" ]
		run "$BERTH" "$c" --help
		[ "$output" = "$help" ]
		run "$BERTH" help "$c"
		[ "$output" = "$help" ]
	done
}

@test "cli-debug: --debug writes what berth does to stderr, or to --log as JSON; nothing without it" {
	set_args sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
	"$BERTH" --root "$STATE_ROOT" --debug run -d --bundle "$BUNDLE" cli-dbg 2>"$TEST_TMP/run.err" </dev/null >/dev/null
	cat "$TEST_TMP/run.err"
	grep -q 'level=debug msg="berth .*run -d --bundle' "$TEST_TMP/run.err"
	grep -q 'level=debug msg="container cli-dbg: config.json of bundle '"$BUNDLE"' loaded' "$TEST_TMP/run.err"
	grep -q "level=debug msg=\"container cli-dbg created: status running, init pid $(init_pid cli-dbg)\"" "$TEST_TMP/run.err"
	# init's side too, step by step (log frames on the sync socket)
	grep -q 'level=debug msg="container process: init: step rootfs"' "$TEST_TMP/run.err"
	grep -q 'level=debug msg="container process: init: step ready"' "$TEST_TMP/run.err"
	# as runc's: each line says where it comes from
	[ -z "$(grep 'level=debug' "$TEST_TMP/run.err" | grep -v ' func=.* file="[a-z_]*\.go:[0-9]*"')" ]
	# into --log, as JSON, with exec's own steps and the process's status
	rc=0
	"$BERTH" --root "$STATE_ROOT" --debug --log "$TEST_TMP/log.json" --log-format json exec cli-dbg sh -c 'exit 3' \
		2>"$TEST_TMP/exec.err" </dev/null >/dev/null || rc=$?
	[ "$rc" -eq 3 ]
	[ ! -s "$TEST_TMP/exec.err" ]
	cat "$TEST_TMP/log.json"
	jq -e 'select(.level == "debug") | .func and .file' "$TEST_TMP/log.json" >/dev/null
	[ "$(jq -r 'select(.level != "debug") | .msg' "$TEST_TMP/log.json")" = "" ]
	jq -r .msg "$TEST_TMP/log.json" >"$TEST_TMP/msgs"
	grep -q '^exec cli-dbg: process \["sh" "-c" "exit 3"\] as 0:0' "$TEST_TMP/msgs"
	grep -q '^exec cli-dbg: process [0-9]* started' "$TEST_TMP/msgs"
	grep -q '^container process: exec process: step enter$' "$TEST_TMP/msgs"
	grep -q '^exec cli-dbg: process [0-9]* set up and executed "sh"' "$TEST_TMP/msgs"
	grep -q '^exec cli-dbg: process [0-9]* exited with status 3$' "$TEST_TMP/msgs"
	# kill and delete say what they act on
	"$BERTH" --root "$STATE_ROOT" --debug kill cli-dbg TERM 2>"$TEST_TMP/kill.err"
	grep -q 'level=debug msg="kill cli-dbg: sending SIGTERM (all processes: false)"' "$TEST_TMP/kill.err"
	wait_status cli-dbg stopped
	# without --debug: not one debug line, in text or in the log
	rm "$TEST_TMP/log.json"
	"$BERTH" --root "$STATE_ROOT" --log "$TEST_TMP/log.json" --log-format json state cli-dbg >/dev/null
	"$BERTH" --root "$STATE_ROOT" state cli-dbg 2>"$TEST_TMP/state.err" >/dev/null
	[ ! -s "$TEST_TMP/log.json" ]
	[ ! -s "$TEST_TMP/state.err" ]
	"$BERTH" --root "$STATE_ROOT" --debug delete cli-dbg 2>"$TEST_TMP/del.err"
	grep -q 'level=debug msg="delete cli-dbg: force false"' "$TEST_TMP/del.err"
}
