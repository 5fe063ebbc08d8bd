#!/usr/bin/env bats
# OCI lifecycle hooks: when and where each kind runs, what it gets
# (state on stdin, args, env), timeouts, and what a failing hook does.

load helpers

HOOK_KINDS="prestart createRuntime createContainer startContainer poststart poststop"

setup() {
	setup_bundle
	REC=$TEST_TMP/rec
	mkdir -p "$REC"
	# The same record directory at the same path on the host and in the
	# container, so hooks in either mount namespace write to one place.
	mkdir -p "$BUNDLE/rootfs$REC"
	update_config --arg r "$REC" '.mounts += [{"destination": $r, "type": "bind", "source": $r, "options": ["rbind"]}]
		| .hostname = "hk-ctr" | .annotations = {"org.berth.test": "hooks"}'
}

teardown() { teardown_bundle; }

# The hook body (POSIX sh: dash on the host, busybox in the container).
# /bin/sh is run with argv[0] "hookzero" so argv[0] is checked too
# (except startContainer's: busybox picks its applet by argv[0]). It
# logs its kind (order), saves stdin (state), argv, environ, hostname and
# namespaces, then exits with the code it was given. /proc/self is opened by the shell
# itself (a redirection, no fork): before pivot_root, createContainer
# sees the host's /proc, where $$ (a container pid) names another process.
HOOK_SCRIPT='n=$0; rc=$1; d=$2
echo "$n" >>"$d/order"
cat >"$d/$n.json"
exec 3</proc/self/cmdline 4</proc/self/environ
cat <&3 >"$d/$n.argv"
tr "\0" "\n" <&4 >"$d/$n.env"
hostname >"$d/$n.host"
readlink /proc/self/ns/mnt >"$d/$n.mntns"
echo "$PPID" >"$d/$n.ppid"
pwd -P >"$d/$n.cwd"
[ "$rc" = 0 ] || echo "boom from $n" >&2
exit "$rc"'

# add_hook KIND [EXIT_CODE [EXTRA_JSON]]: appends a recording hook.
add_hook() {
	local kind=$1 rc=${2:-0} extra=${3:-'{}'} argv0=hookzero
	[ "$kind" != startContainer ] || argv0=sh
	update_config --arg k "$kind" --arg s "$HOOK_SCRIPT" --arg rc "$rc" --arg d "$REC" --argjson x "$extra" --arg a0 "$argv0" \
		'.hooks[$k] += [{"path": "/bin/sh", "args": [$a0, "-c", $s, $k, $rc, $d],
			"env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOOK_VAR=a b=c", "EMPTY="]} + $x]'
}

add_all_hooks() {
	for k in $HOOK_KINDS; do add_hook "$k"; done
}

# nothing_left ID PID: no state dir, no cgroup, no process.
nothing_left() {
	[ ! -e "$STATE_ROOT/$1" ] || { echo "state dir left"; return 1; }
	local left
	left=$(ls -d /sys/fs/cgroup/*/berth/"$1" 2>/dev/null || true)
	[ -z "$left" ] || { echo "cgroup left: $left"; return 1; }
	if [ -n "${2:-}" ]; then
		local deadline=$((SECONDS + 5))
		while [ -d "/proc/$2" ] && [ "$(awk '{print $3}' "/proc/$2/stat" 2>/dev/null)" != Z ]; do
			[ $SECONDS -lt $deadline ] || { echo "process $2 left"; return 1; }
			sleep 0.05
		done
	fi
}

@test "hk-order: every hook kind runs once, in lifecycle order, with the right state" {
	add_all_hooks
	berth create --bundle "$BUNDLE" hk-order
	pid=$(init_pid hk-order)
	[ "$(cat "$REC/order" | tr '\n' ' ')" = "prestart createRuntime createContainer " ]
	berth start hk-order
	[ "$(cat "$REC/order" | tr '\n' ' ')" = "prestart createRuntime createContainer startContainer poststart " ]
	berth kill hk-order KILL
	wait_status hk-order stopped
	berth delete hk-order
	[ "$(cat "$REC/order" | tr '\n' ' ')" = "$HOOK_KINDS " ]

	declare -A want=([prestart]=creating [createRuntime]=creating [createContainer]=creating
		[startContainer]=created [poststart]=running [poststop]=stopped)
	for k in $HOOK_KINDS; do
		f=$REC/$k.json
		echo "$k: $(cat "$f")"
		[ "$(jq -r .ociVersion "$f")" = 1.3.0 ]
		[ "$(jq -r .id "$f")" = hk-order ]
		[ "$(jq -r .status "$f")" = "${want[$k]}" ]
		[ "$(jq -r .bundle "$f")" = "$BUNDLE" ]
		[ "$(jq -r '.annotations["org.berth.test"]' "$f")" = hooks ]
		if [ "$k" = poststop ]; then
			[ "$(jq -r '.pid // 0' "$f")" = 0 ]
		else
			[ "$(jq -r .pid "$f")" = "$pid" ]
		fi
	done
}

@test "hk-ns: createContainer and startContainer run in the container's namespaces, the others in the runtime's" {
	add_all_hooks
	host_mnt=$(readlink /proc/self/ns/mnt)
	berth create --bundle "$BUNDLE" hk-ns
	pid=$(init_pid hk-ns)
	ctr_mnt=$(readlink "/proc/$pid/ns/mnt")
	[ "$ctr_mnt" != "$host_mnt" ]
	berth start hk-ns
	berth delete --force hk-ns
	for k in prestart createRuntime poststart poststop; do
		[ "$(cat "$REC/$k.mntns")" = "$host_mnt" ]
		[ "$(cat "$REC/$k.host")" = "$(hostname)" ]
	done
	for k in createContainer startContainer; do
		[ "$(cat "$REC/$k.mntns")" = "$ctr_mnt" ]
	done
	# startContainer runs after the hostname is set, in the new UTS ns.
	[ "$(cat "$REC/startContainer.host")" = hk-ctr ]
	# and in the container's pid namespace: its parent is init, pid 1
	[ "$(cat "$REC/startContainer.ppid")" = 1 ]
	[ "$(cat "$REC/createContainer.ppid")" = 1 ]
	# createContainer runs in the rootfs (runc's hooks_so.bats names
	# ./lib/... from it); startContainer in the process's cwd.
	[ "$(cat "$REC/createContainer.cwd")" = "$(readlink -f "$BUNDLE/rootfs")" ]
	[ "$(cat "$REC/startContainer.cwd")" = / ]
	# The runtime-side ones run in the bundle, as under runc (which moves
	# into it) and crun, wherever berth was started (the previous build:
	# in the caller's directory).
	for k in prestart createRuntime poststart poststop; do
		[ "$(cat "$REC/$k.cwd")" = "$(readlink -f "$BUNDLE")" ] || { echo "$k ran in $(cat "$REC/$k.cwd")"; false; }
	done
}

@test "hk-args-env: hook args and env are passed exactly" {
	add_all_hooks
	update_config '.process.env = ["LEAK=container-env"]'
	set_args true
	export BERTH_HOST_LEAK=host-env
	run berth run --bundle "$BUNDLE" hk-args
	[ "$status" -eq 0 ]
	for k in $HOOK_KINDS; do
		mapfile -d '' -t argv <"$REC/$k.argv"
		if [ "$k" = startContainer ]; then [ "${argv[0]}" = sh ]; else [ "${argv[0]}" = hookzero ]; fi
		[ "${argv[1]}" = -c ]
		[ "${argv[2]}" = "$HOOK_SCRIPT" ]
		[ "${argv[3]}" = "$k" ]
		[ "${argv[4]}" = 0 ]
		[ "${argv[5]}" = "$REC" ]
		[ "${#argv[@]}" -eq 6 ]
		printf 'PATH=/usr/sbin:/usr/bin:/sbin:/bin\nHOOK_VAR=a b=c\nEMPTY=\n' | diff - "$REC/$k.env"
	done
}

@test "hk-poststop-failed: a failed create runs the poststop hooks once it has undone itself (spec: a failed create hook goes on at steps 12 and 13), as runc" {
	update_config --arg d "$REC" '.hooks.createRuntime = [{"path": "/bin/false"}]
		| .hooks.poststop = [{"path": "/bin/sh", "args": ["sh", "-c", "cat >\"$0/poststop.state\"", $d]}]'
	set_args true
	run berth create --bundle "$BUNDLE" hk-psf
	[ "$status" -ne 0 ]
	[[ "$output" == *"error running createRuntime hook #0"* ]]
	jq -e '.id == "hk-psf" and .status == "stopped"' "$REC/poststop.state"
	[ ! -e "$STATE_ROOT/hk-psf" ]
	# and after a failure that is not a hook's (a mount the kernel refuses)
	rm -f "$REC/poststop.state"
	update_config 'del(.hooks.createRuntime) | .mounts += [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["size=not-a-size"]}]'
	run berth run --bundle "$BUNDLE" hk-psf2
	[ "$status" -ne 0 ]
	jq -e '.id == "hk-psf2" and .status == "stopped"' "$REC/poststop.state"
}

@test "hk-timeout: a hook that outlives its timeout is killed and fails create" {
	update_config --arg d "$REC" '.hooks.createRuntime = [{"path": "/bin/sh",
		"args": ["sh", "-c", "echo $$ >\"$0/hang.pid\"; exec sleep 60", $d], "timeout": 1}]'
	start=$SECONDS
	run berth create --bundle "$BUNDLE" hk-to
	echo "$output"
	[ "$status" -eq 1 ]
	[ $((SECONDS - start)) -lt 10 ]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	[[ "$output" == *"error running createRuntime hook #0: hook ran past specified timeout of 1.0s"* ]]
	hang=$(cat "$REC/hang.pid")
	nothing_left hk-to "$hang"
}

@test "hk-fail-create: a failing prestart, createRuntime or createContainer hook fails create and leaves nothing" {
	for k in prestart createRuntime createContainer; do
		rm -f "$REC"/*
		update_config 'del(.hooks)'
		add_hook "$k" 3
		run berth create --bundle "$BUNDLE" "hk-f$k"
		echo "$output"
		[ "$status" -eq 1 ]
		[ "$(wc -l <<<"$output")" -eq 1 ]
		[[ "$output" == *"$k hook"* ]]
		[[ "$output" == *"boom from $k"* ]]
		# the container's init (from the state the hook got) is gone too
		pid=$(jq -r .pid "$REC/$k.json")
		[ "$pid" -gt 0 ]
		nothing_left "hk-f$k" "$pid"
	done
}

@test "hk-fail-start: a failing startContainer hook fails start and the program never runs" {
	add_hook startContainer 4
	set_args sh -c "touch $REC/program-ran; sleep 1000"
	berth create --bundle "$BUNDLE" hk-fs
	pid=$(init_pid hk-fs)
	run berth start hk-fs
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	[[ "$output" == *"startContainer hook"*"boom from startContainer"* ]]
	wait_status hk-fs stopped
	[ ! -e "$REC/program-ran" ]
	berth delete hk-fs
	nothing_left hk-fs "$pid"
}

@test "hk-fail-poststart: a failing poststart hook fails start and stops the container; run deletes it (spec 1.3.0)" {
	add_hook poststart 5
	update_config --arg d "$REC" '.hooks.poststart += [{"path": "/bin/sh", "args": ["sh", "-c", "touch \"$0/second-ran\"", $d]}]'
	set_args sleep 1000
	berth create --bundle "$BUNDLE" hk-fp
	pid=$(init_pid hk-fp)
	run berth start hk-fp
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(wc -l <<<"$output")" -eq 1 ]
	[[ "$output" == *"error running poststart hook #0"*"boom from poststart"* ]]
	# the hook saw the program running; the hooks after it did not run
	[ "$(jq -r .status "$REC/poststart.json")" = running ]
	[ ! -e "$REC/second-ran" ]
	# start returned once the program was gone: stopped, not stopping
	[ "$(container_status hk-fp)" = stopped ]
	berth delete hk-fp
	nothing_left hk-fp "$pid"
	# run: the same error and exit status, and nothing left behind
	rm -f "$REC"/*
	run berth run --bundle "$BUNDLE" hk-fp2
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"error running poststart hook #0"*"boom from poststart"* ]]
	[ ! -e "$REC/second-ran" ]
	pid=$(jq -r .pid "$REC/poststart.json")
	[ "$pid" -gt 0 ]
	nothing_left hk-fp2 "$pid"
}

@test "hk-fail-poststop: a failing poststop hook only warns; delete succeeds" {
	add_hook poststop 6
	set_args true
	berth create --bundle "$BUNDLE" hk-fps
	berth start hk-fps
	wait_status hk-fps stopped
	run berth delete hk-fps
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"level=warning"*"poststop hook"*"boom from poststop"* ]]
	[ -e "$REC/poststop.json" ]
	nothing_left hk-fps
	# and --force on a running one, too
	rm -f "$REC"/*
	set_args sleep 1000
	berth create --bundle "$BUNDLE" hk-fps2
	berth start hk-fps2
	run berth delete --force hk-fps2
	[ "$status" -eq 0 ]
	[ -e "$REC/poststop.json" ]
	nothing_left hk-fps2
}

@test "hk-fail-poststop-rest: after a failing poststop hook the rest still run" {
	add_hook poststop 6
	update_config --arg d "$REC" '.hooks.poststop += [{"path": "/bin/sh", "args": ["sh", "-c", "touch \"$0/second-ran\"", $d]}]'
	set_args true
	berth create --bundle "$BUNDLE" hk-fpr
	run berth delete hk-fpr
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"level=warning"*"error running poststop hook #0"* ]]
	[ -e "$REC/second-ran" ]
}

@test "hk-errtext: a failing hook is named as runc names it" {
	for k in prestart createRuntime createContainer; do
		update_config 'del(.hooks)'
		add_hook "$k" 3
		run berth create --bundle "$BUNDLE" "hk-t$k"
		echo "$output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"error running $k hook #0: error running hook: exit status 3, stdout: , stderr: boom from $k"* ]]
	done
	update_config 'del(.hooks)'
	add_hook startContainer 4
	berth create --bundle "$BUNDLE" hk-tsc
	run berth start hk-tsc
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"error running startContainer hook #0: error running hook: exit status 4"* ]]
}

@test "hk-start-env: a startContainer hook without env gets the process's environment, a runtime-side one berth's (as runc and crun)" {
	update_config --arg d "$REC" '.process.env = ["PATH=/bin:/usr/bin", "PROC_VAR=from-process"]
		| .hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "env >\"$0/sc.env\"", $d]}]
		| .hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "env >\"$0/cr.env\"", $d]}]
		| .hooks.prestart = [{"path": "/bin/sh", "args": ["sh", "-c", "env >\"$0/ps.env\"", $d], "env": []}]'
	set_args true
	export BERTH_CALLER_VAR=from-berth
	run berth run --bundle "$BUNDLE" hk-senv
	echo "$output"
	[ "$status" -eq 0 ]
	grep -x PROC_VAR=from-process "$REC/sc.env"
	! grep -q BERTH_CALLER_VAR "$REC/sc.env" || false
	# a runtime-side hook gets berth's environment (its PATH to find its
	# tools), nothing of the process's; "env": [] is an empty one
	grep -x BERTH_CALLER_VAR=from-berth "$REC/cr.env"
	grep -x "PATH=$PATH" "$REC/cr.env"
	! grep -q PROC_VAR "$REC/cr.env" || false
	! grep -q BERTH_CALLER_VAR "$REC/ps.env" || false
	# a hook's own env is kept
	update_config '.hooks.startContainer[0].env = ["OWN=1"]'
	run berth run --bundle "$BUNDLE" hk-senv2
	[ "$status" -eq 0 ]
	grep -x OWN=1 "$REC/sc.env"
	! grep -q PROC_VAR "$REC/sc.env"
}

@test "hk-start-seccomp: a startContainer hook runs under the container's seccomp filter; its failure fails the start" {
	update_config --arg d "$REC" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
		| .hooks.startContainer = [{"path": "/bin/mkdir", "args": ["mkdir", ($d + "/by-hook")]}]'
	set_args sh -c "touch $REC/program-ran"
	for nnp in true false; do
		update_config --argjson n "$nnp" '.process.noNewPrivileges = $n'
		run berth run --bundle "$BUNDLE" "hk-sc-$nnp"
		echo "$output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"error running startContainer hook #0"* ]]
		[ ! -e "$REC/by-hook" ]
		[ ! -e "$REC/program-ran" ]
	done
}
