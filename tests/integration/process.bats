#!/usr/bin/env bats
# config.json process: user, umask, cwd, env, HOME, capabilities, rlimits,
# oomScoreAdj, noNewPrivileges; hostname, domainname, sysctl; exec errors
# and --preserve-fds.

load helpers

setup() {
	setup_bundle
	update_config '.root.readonly = false'
}
teardown() { teardown_bundle; }

# run_ct ID CMD: runs a one-off container running sh -c CMD.
run_ct() {
	set_args sh -c "$2"
	run berth run --bundle "$BUNDLE" "$1"
	echo "$output"
}

# CAPS prints CapInh, CapPrm, CapEff, CapBnd, CapAmb (in that order).
CAPS="grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status | awk '{print \$2}'"

# status_field NAME: a shell command printing /proc/self/status's NAME value.
status_field() {
	echo "awk '\$1 == \"$1:\" {print \$2}' /proc/self/status"
}

@test "proc: user uid, gid and additionalGids" {
	update_config '.process.user = {uid: 1000, gid: 1001, additionalGids: [10, 20, 1001]}'
	run_ct proc-user "id -u; id -g; grep -E '^(Uid|Gid|Groups):' /proc/self/status | tr -s '\t ' ' '"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1001 ]
	[ "${lines[2]}" = "Uid: 1000 1000 1000 1000" ]
	[ "${lines[3]}" = "Gid: 1001 1001 1001 1001" ]
	[ "${lines[4]}" = "Groups: 10 20 1001 " ] || [ "${lines[4]}" = "Groups: 10 20 1001" ]
}

@test "proc-stdio-owner: the process's stdio is its user's (not /dev/null): a non-root process reopens /dev/stdout, as under runc" {
	update_config '.process.user = {uid: 1000, gid: 1000}'
	# stdout: berth's helper gives a file of root's (mode 0644); stdin is
	# the host's /dev/null, which must stay root's.
	# (appended last: the file's first fd writes from offset 0)
	run_ct proc-stdio "stat -L -c '%u %g' /proc/self/fd/1 /proc/self/fd/0; echo reopened >>/dev/stdout"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1000 0" ] # only the owner changes
	[ "${lines[1]}" = "0 0" ]
	[ "${lines[2]}" = reopened ]
	[ "$(stat -c %u /dev/null)" = 0 ]
	# an exec process's too (a direct exec here, a Go one under BERTH_GO_INIT)
	set_args sleep 1000
	berth run -d --bundle "$BUNDLE" proc-stdio-x
	run berth exec --user 2000 proc-stdio-x sh -c "stat -L -c %u /proc/self/fd/1; echo again >>/proc/self/fd/1"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 2000 ]
	[ "${lines[1]}" = again ]
}

@test "proc: root by default with no supplementary groups" {
	run_ct proc-root "grep -E '^(Uid|Groups):' /proc/self/status | tr -s '\t ' ' '"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Uid: 0 0 0 0" ]
	[[ "${lines[1]}" =~ ^Groups:\ ?$ ]]
}

@test "proc: umask is applied, 0022 by default" {
	update_config '.process.user.umask = 23'
	run_ct proc-umask 'umask; touch /tmp/f; stat -c %a /tmp/f'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0027 ]
	[ "${lines[1]}" = 640 ]
	update_config 'del(.process.user.umask)'
	run_ct proc-umask2 'umask'
	[ "$output" = 0022 ]
	# Bits above 0777 are runc's too (umask(2) drops them), with a
	# warning; berth's direct exec refused them before ("bad values").
	update_config '.process.user.umask = 4294967295'
	run_ct proc-umask3 'umask'
	[ "$status" -eq 0 ]
	printf '%s\n' "${lines[@]}" | grep -qx 0777
	[[ "$output" == *"process.user.umask 037777777777: only its permission bits (0777) take effect"* ]]
}

@test "proc: cwd is the working directory" {
	update_config '.process.cwd = "/etc"'
	run_ct proc-cwd 'pwd; ls passwd'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /etc ]
	[ "${lines[1]}" = passwd ]
}

@test "proc: a cwd that does not exist is created (as runc does), even on a read-only root" {
	update_config '.process.cwd = "/new/work dir" | .root.readonly = true'
	run_ct proc-newcwd 'pwd'
	[ "$status" -eq 0 ]
	[ "$output" = "/new/work dir" ]
	[ -d "$BUNDLE/rootfs/new/work dir" ]
}

@test "proc: a cwd that is a file fails create naming it" {
	update_config '.process.cwd = "/etc/passwd"'
	set_args true
	run berth create --bundle "$BUNDLE" proc-filecwd
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"/etc/passwd"* ]]
	[ -z "$(container_status proc-filecwd)" ]
}

@test "proc: env is exactly process.env, nothing of berth's" {
	update_config '.process.env = ["PATH=/bin:/usr/bin", "FOO=bar baz", "EMPTY="]'
	export BERTH_TEST_LEAK=leaked
	run_ct proc-env 'env | grep -v "^HOME=" | sort'
	[ "$status" -eq 0 ]
	[[ "$output" != *leaked* ]]
	[[ "$output" != *_BERTH* ]]
	[ "$output" = "$(printf 'EMPTY=\nFOO=bar baz\nPATH=/bin:/usr/bin\nPWD=/\nSHLVL=1')" ] ||
		[ "$output" = "$(printf 'EMPTY=\nFOO=bar baz\nPATH=/bin:/usr/bin\nPWD=/')" ]
}

@test "proc: HOME comes from the container's /etc/passwd unless set" {
	update_config '.process.user = {uid: 1, gid: 1}'
	run_ct proc-home1 'echo $HOME'
	[ "$output" = /usr/sbin ]
	update_config '.process.user = {uid: 0, gid: 0}'
	run_ct proc-home0 'echo $HOME'
	[ "$output" = /root ]
	# not in /etc/passwd
	update_config '.process.user = {uid: 4242, gid: 4242}'
	run_ct proc-home2 'echo $HOME'
	[ "$output" = / ]
	# a passwd larger than what is read on the stack (16 KiB), the user
	# on its last line
	for i in $(seq 400); do echo "filler$i:x:$((10000 + i)):100:filler user $i:/home/filler$i:/bin/sh"; done >>"$BUNDLE/rootfs/etc/passwd"
	echo 'big:x:4343:4343:big:/home/big:/bin/sh' >>"$BUNDLE/rootfs/etc/passwd"
	[ "$(stat -c %s "$BUNDLE/rootfs/etc/passwd")" -gt 16384 ]
	update_config '.process.user = {uid: 4343, gid: 4343}'
	run_ct proc-home4 'echo $HOME'
	[ "$output" = /home/big ]
	update_config '.process.env += ["HOME=/custom"]'
	run_ct proc-home3 'echo $HOME'
	[ "$output" = /custom ]
}

@test "proc: an empty HOME is replaced from /etc/passwd, a non-empty one kept, for run and exec" {
	echo 'tempuser:x:2000:2000:tempuser:/home/tempuser:/bin/sh' >>"$BUNDLE/rootfs/etc/passwd"
	update_config '.process.user = {uid: 2000, gid: 2000} | .process.env += ["HOME="]'
	run_ct proc-home-empty 'echo "$HOME"; env | grep -c ^HOME='
	[ "${lines[0]}" = /home/tempuser ]
	[ "${lines[1]}" = 1 ]
	# the last of duplicates wins, as under runc
	update_config '.process.env += ["HOME=/first", "HOME=/last"]'
	run_ct proc-home-dup 'echo "$HOME"; env | grep -c ^HOME='
	[ "${lines[0]}" = /last ]
	[ "${lines[1]}" = 1 ]
	update_config '.process.env -= ["HOME=/first", "HOME=/last"] | .process.user = {uid: 0, gid: 0}'
	set_args sleep 1000
	berth run -d --bundle "$BUNDLE" proc-home-exec
	run berth exec --user 2000 proc-home-exec sh -c 'echo "$HOME"'
	[ "$output" = /home/tempuser ]
	run berth exec --env HOME= proc-home-exec sh -c 'echo "$HOME"'
	[ "$output" = /root ]
	run berth exec --env HOME=/kept proc-home-exec sh -c 'echo "$HOME"'
	[ "$output" = /kept ]
}

@test "proc: a cwd the process's user cannot search works as under runc (default HOME of a non-root user)" {
	echo 'tempuser:x:2000:2000:tempuser:/home/tempuser:/bin/sh' >>"$BUNDLE/rootfs/etc/passwd"
	chmod 700 "$BUNDLE/rootfs/root"
	update_config '.process.cwd = "/root" | .process.user = {uid: 2000, gid: 2000}'
	run_ct proc-cwd-noaccess 'echo "$HOME"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /home/tempuser ]
	set_args sleep 1000
	berth run -d --bundle "$BUNDLE" proc-cwd-exec
	run berth exec --user 2000 --cwd /root proc-cwd-exec sh -c 'echo ok'
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

# CAP_CHOWN=0 CAP_KILL=5 CAP_NET_BIND_SERVICE=10 CAP_SYS_ADMIN=21
@test "proc: the five capability sets are exactly what was asked" {
	update_config '.process.capabilities = {
		bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"],
		permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		effective: ["CAP_CHOWN", "CAP_KILL"],
		inheritable: [], ambient: []}'
	run_ct proc-caps "$CAPS"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0000000000000000 ]
	[ "${lines[1]}" = 0000000000000421 ]
	# execve as root raises effective to permitted (no SECBIT_NOROOT),
	# as under runc
	[ "${lines[2]}" = 0000000000000421 ]
	[ "${lines[3]}" = 0000000000200421 ]
	[ "${lines[4]}" = 0000000000000000 ]
}

@test "proc: inheritable is empty unless asked for (the default config)" {
	run_ct proc-capdef "$CAPS"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0000000000000000 ]
	# CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE (29)
	[ "${lines[1]}" = 0000000020000420 ]
	[ "${lines[2]}" = 0000000020000420 ]
	[ "${lines[3]}" = 0000000020000420 ]
	[ "${lines[4]}" = 0000000000000000 ]
}

@test "proc: ambient capabilities reach a non-root process" {
	update_config '.process.user = {uid: 1000, gid: 1000}
		| .process.capabilities = {
		bounding: ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
		permitted: ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
		effective: ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
		inheritable: ["CAP_NET_BIND_SERVICE"], ambient: ["CAP_NET_BIND_SERVICE"]}'
	run_ct proc-ambient "$CAPS"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0000000000000400 ]
	# after execve as non-root only the ambient set survives
	[ "${lines[1]}" = 0000000000000400 ]
	[ "${lines[2]}" = 0000000000000400 ]
	[ "${lines[3]}" = 0000000000000420 ]
	[ "${lines[4]}" = 0000000000000400 ]
}

@test "proc: a capability missing from the sets is really missing" {
	update_config '.process.capabilities = {bounding: ["CAP_KILL"], permitted: ["CAP_KILL"], effective: ["CAP_KILL"]}'
	run_ct proc-nochown 'touch /tmp/f; chown 1000 /tmp/f && echo CHOWNED; true'
	[ "$status" -eq 0 ]
	[[ "$output" != *CHOWNED* ]]
	[[ "$output" == *"Operation not permitted"* ]]
	update_config '.process.capabilities = {bounding: ["CAP_CHOWN"], permitted: ["CAP_CHOWN"], effective: ["CAP_CHOWN"]} | .root.readonly = false'
	run_ct proc-chown 'touch /tmp/f; chown 1000 /tmp/f && echo CHOWNED'
	[ "${lines[0]}" = CHOWNED ]
}

@test "proc: an unknown capability is ignored with runc's warning" {
	update_config '.process.capabilities.bounding += ["CAP_UNKNOWN"]
		| .process.capabilities.permitted += ["CAP_UNKNOWN", "CAP_NOT_A_CAP"]'
	run_ct proc-badcap "$CAPS"
	[ "$status" -eq 0 ]
	[[ "$output" == *'level=warning msg="ignoring unknown or unavailable capabilities: [CAP_NOT_A_CAP CAP_UNKNOWN]"'* ]]
	# the known ones are applied: the default bounding set
	[[ "$output" == *0000000020000420* ]]
}

@test "proc: a runc 1.1 spec (ambient not inheritable) runs with runc's warning, without the ambient capabilities" {
	# runc 1.1's spec: the three defaults in bounding, permitted,
	# effective and ambient, and no inheritable
	update_config '.process.capabilities = {
		bounding: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		effective: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		permitted: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		ambient: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]}'
	run_ct proc-rs11 "$CAPS"
	[ "$status" -eq 0 ]
	[[ "$output" == *'level=warning msg="can'"'"'t raise ambient capability CAP_KILL: operation not permitted'* ]]
	[ "${lines[0]}" = 0000000000000000 ]
	[ "${lines[1]}" = 0000000020000420 ]
	[ "${lines[4]}" = 0000000000000000 ]
	# exec --cap too
	set_args sleep 1000
	berth run -d --bundle "$BUNDLE" proc-rs11e
	run berth exec proc-rs11e true
	[ "$status" -eq 0 ]
	[[ "$output" == *"can't raise ambient capability"* ]]
}

@test "proc: rlimits are applied (lowering works)" {
	update_config '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 100, hard: 200}, {type: "RLIMIT_CORE", soft: 0, hard: 0}, {type: "RLIMIT_NPROC", soft: 500, hard: 600}]'
	run_ct proc-rlim 'ulimit -n; ulimit -Hn; grep -E "^Max (core file size|processes)" /proc/self/limits | tr -s " "'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 100 ]
	[ "${lines[1]}" = 200 ]
	[ "${lines[2]}" = "Max core file size 0 0 bytes " ]
	[ "${lines[3]}" = "Max processes 500 600 processes " ]
}

@test "proc: raising a hard rlimit above the host's fails with a clear error" {
	hard=$(ulimit -Hn)
	update_config --argjson h $((hard + 1)) '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 1024, hard: $h}]'
	set_args true
	run berth create --bundle "$BUNDLE" proc-rlimhi
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *RLIMIT_NOFILE* ]]
	[[ "$output" == *CAP_SYS_RESOURCE* ]]
	[ -z "$(container_status proc-rlimhi)" ]
}

@test "proc: a positive oomScoreAdj is applied" {
	update_config '.process.oomScoreAdj = 500'
	run_ct proc-oom 'cat /proc/self/oom_score_adj'
	[ "$status" -eq 0 ]
	[ "$output" = 500 ]
}

@test "proc-oom-exec: an exec process gets the container's oomScoreAdj, as runc's; one of its own is kept" {
	update_config '.process.oomScoreAdj = 500'
	berth run -d --bundle "$BUNDLE" proc-oom-exec
	run berth exec proc-oom-exec cat /proc/self/oom_score_adj
	[ "$status" -eq 0 ]
	[ "$output" = 500 ]
	jq '.process | .args = ["cat", "/proc/self/oom_score_adj"] | .oomScoreAdj = 600' "$BUNDLE/config.json" >"$TEST_TMP/process.json"
	run berth exec --process "$TEST_TMP/process.json" proc-oom-exec
	[ "$status" -eq 0 ]
	[ "$output" = 600 ]
}

@test "proc: a negative oomScoreAdj fails with an error naming CAP_SYS_RESOURCE" {
	update_config '.process.oomScoreAdj = -500'
	set_args true
	run berth create --bundle "$BUNDLE" proc-oomneg
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *oom_score_adj* ]]
	[[ "$output" == *CAP_SYS_RESOURCE* ]]
}

@test "proc: noNewPrivileges sets NoNewPrivs" {
	update_config '.process.noNewPrivileges = true'
	run_ct proc-nnp "$(status_field NoNewPrivs)"
	[ "$output" = 1 ]
	update_config '.process.noNewPrivileges = false'
	run_ct proc-nnp2 "$(status_field NoNewPrivs)"
	[ "$output" = 0 ]
}

@test "proc: hostname and domainname" {
	update_config '.hostname = "box-host" | .domainname = "example.test"'
	run_ct proc-uts 'hostname; cat /proc/sys/kernel/domainname'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = box-host ]
	[ "${lines[1]}" = example.test ]
	[ "$(hostname)" != box-host ]
}

@test "proc: linux.sysctl is set inside the container's namespaces only" {
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1"}'
	host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	host_shm=$(cat /proc/sys/kernel/shm_rmid_forced)
	run_ct proc-sysctl 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = 1 ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
	[ "$(cat /proc/sys/kernel/shm_rmid_forced)" = "$host_shm" ]
}

@test "proc-sysctl-ns: kernel.domainname with a UTS namespace and user.* with a user namespace are set there, as runc 1.5" {
	update_config '.linux.sysctl = {"kernel.domainname": "sysctl.example"}'
	run_ct proc-sysctl-uts 'cat /proc/sys/kernel/domainname'
	[ "$status" -eq 0 ]
	[ "$output" = sysctl.example ]
	[ "$(cat /proc/sys/kernel/domainname)" != sysctl.example ]

	host_userns=$(cat /proc/sys/user/max_user_namespaces)
	update_config '.linux.sysctl = {"user.max_user_namespaces": "7"}
		| .linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
	# the container's root (host uid 200000) must reach its rootfs
	chmod 755 "$TEST_TMP"
	run_ct proc-sysctl-user 'cat /proc/sys/user/max_user_namespaces'
	[ "$status" -eq 0 ]
	[ "$output" = 7 ]
	[ "$(cat /proc/sys/user/max_user_namespaces)" = "$host_userns" ]
}

@test "proc-sysctl-own: a sysctl in a namespace joined by the runtime's own path is refused; the value stays" {
	# In a network, UTS and IPC namespace of the test's own (unshare), which
	# stand for the host's: berth's own namespaces are these.
	set_args true
	update_config 'del(.hostname) | .linux.namespaces |= map(if .type == "network" or .type == "uts" or .type == "ipc" then .path = "/proc/self/ns/" + ({"network": "net", "uts": "uts", "ipc": "ipc"}[.type]) else . end)'
	for kv in net.ipv4.ip_forward=1 kernel.domainname=own.example kernel.shm_rmid_forced=1; do
		update_config --arg k "${kv%%=*}" --arg v "${kv#*=}" '.linux.sysctl = {($k): $v}'
		run unshare --net --uts --ipc sh -c 'before=$(cat /proc/sys/$2); "$1" --root "$3" run --bundle "$4" proc-sysctl-own; echo "rc=$?"; [ "$(cat /proc/sys/$2)" = "$before" ] && echo unchanged' \
			sh "$BERTH" "$(echo "${kv%%=*}" | tr . /)" "$STATE_ROOT" "$BUNDLE"
		echo "$output"
		[[ "$output" == *"linux.sysctl: ${kv%%=*} needs a"*"namespace (not the runtime's own)"* ]]
		[[ "$output" == *rc=1* ]]
		[[ "$output" == *unchanged* ]]
	done
}

@test "proc: a sysctl that is not namespaced, or without its namespace, is refused" {
	update_config '.linux.sysctl = {"kernel.panic": "1"}'
	run berth create --bundle "$BUNDLE" proc-sysctl-host
	[ "$status" -ne 0 ]
	[[ "$output" == *kernel.panic* ]]
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"} | .linux.namespaces = [.linux.namespaces[] | select(.type != "network")]'
	run berth create --bundle "$BUNDLE" proc-sysctl-nonet
	[ "$status" -ne 0 ]
	[[ "$output" == *"net.ipv4.ip_forward"*"network namespace"* ]]
	# One the kernel does not have: named as such (pathrs-lite's words
	# were "unsafe procfs detected"), nothing left.
	update_config '.linux.sysctl = {"net.nosuch.key": "1"} | .linux.namespaces += [{"type": "network"}]'
	run berth create --bundle "$BUNDLE" proc-sysctl-none
	[ "$status" -ne 0 ]
	[[ "$output" == *"set sysctl net.nosuch.key=1: no such sysctl (/proc/sys/net/nosuch/key does not exist)"* ]] || { echo "$output"; false; }
	[ -z "$(container_status proc-sysctl-none)" ]
}

@test "proc: a non-existent args[0] fails create with a clear error" {
	set_args no-such-program arg
	run berth create --bundle "$BUNDLE" proc-noexe
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *no-such-program* ]]
	[[ "$output" == *"not found"* ]]
	[ -z "$(container_status proc-noexe)" ]
	set_args /bin/no-such-program
	run berth create --bundle "$BUNDLE" proc-noexe2
	[ "$status" -ne 0 ]
	[[ "$output" == */bin/no-such-program* ]]
	[[ "$output" == *"no such file or directory"* ]]
}

@test "proc: a process that fails to start gives runc's message" {
	printf '#!/mmnnttbb foo bar\nsh\n' >"$BUNDLE/rootfs/run.sh"
	chmod +x "$BUNDLE/rootfs/run.sh"
	printf '#!/bin/sh\necho hi\n' >"$BUNDLE/rootfs/noexec.sh"
	chmod 644 "$BUNDLE/rootfs/noexec.sh"
	# execve itself fails: runc's init writes this line (to the process's
	# stderr, where a client's container log shows it)
	# and run exits with init's status without repeating it (runc's
	# run.bats "execve error": exactly one line)
	set_args /run.sh
	run berth run --bundle "$BUNDLE" proc-execve
	echo "$output"
	[ "$status" -eq 255 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "${lines[0]}" = "exec /run.sh: no such file or directory" ]
	[ -z "$(container_status proc-execve)" ]
	# start (create + start) still reports it, as the shims need
	berth create --bundle "$BUNDLE" proc-execve-2
	run berth start proc-execve-2
	[ "$status" -ne 0 ]
	[[ "$output" == *"exec /run.sh: no such file or directory"* ]]
	# found missing or not executable at create, in os/exec's words as runc
	set_args /missing.sh
	run berth run --bundle "$BUNDLE" proc-missing
	[ "$status" -ne 0 ]
	[[ "${lines[0]}" == *'exec: \"/missing.sh\": stat /missing.sh: no such file or directory'* ]]
	set_args /noexec.sh
	run berth run --bundle "$BUNDLE" proc-noperm
	[ "$status" -ne 0 ]
	[[ "${lines[0]}" == *'exec: \"/noexec.sh\": permission denied'* ]]
	set_args nope
	run berth run --bundle "$BUNDLE" proc-nope
	[ "$status" -ne 0 ]
	[[ "${lines[0]}" == *'exec: \"nope\": executable file not found in $PATH'* ]]
	# exec: one line, from berth, with the same message
	set_args sleep 1000
	berth run -d --bundle "$BUNDLE" proc-exec-fail
	run berth exec proc-exec-fail /run.sh
	echo "$output"
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == *"exec /run.sh: no such file or directory"* ]]
	run berth exec proc-exec-fail /noexec.sh
	[ "$status" -ne 0 ]
	[[ "${lines[0]}" == *'exec: \"/noexec.sh\": permission denied'* ]]
}

@test "proc: args[0] is looked up in the container's PATH" {
	mkdir -p "$BUNDLE/rootfs/opt/tools"
	printf '#!/bin/sh\necho from-opt\n' >"$BUNDLE/rootfs/opt/tools/mytool"
	chmod 755 "$BUNDLE/rootfs/opt/tools/mytool"
	update_config '.process.env = ["PATH=/opt/tools:/bin"]'
	set_args mytool
	run berth run --bundle "$BUNDLE" proc-path
	[ "$status" -eq 0 ]
	[ "$output" = from-opt ]
}

@test "proc: --preserve-fds passes fds 3.. and closes the rest" {
	echo preserved-data >"$TEST_TMP/pf"
	set_args sh -c 'cat <&3; ls /proc/self/fd/4 2>/dev/null && echo LEAKED; true'
	run berth run --preserve-fds 1 --bundle "$BUNDLE" proc-pfd 3<"$TEST_TMP/pf" 4<"$TEST_TMP/pf"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = preserved-data ]
	[[ "$output" != *LEAKED* ]]
}

@test "proc: without --preserve-fds no fd above stdio reaches the container" {
	set_args sh -c 'ls /proc/self/fd'
	run berth run --bundle "$BUNDLE" proc-nofd 3<"$BUNDLE/config.json" 4<"$BUNDLE/config.json"
	[ "$status" -eq 0 ]
	# 0 1 2 and ls's own directory fd
	[ "$(echo "$output" | wc -l)" -le 4 ]
	[[ "$output" != *4* ]]
}

# with_slack NS ARGS...: berth ARGS, started with a timer slack of NS ns.
with_slack() {
	local ns=$1
	shift
	sh -c 'echo "$0" >/proc/$$/timerslack_ns && exec "$@"' "$ns" \
		"$BERTH" --root "$STATE_ROOT" "$@" </dev/null
}

@test "proc-slack: the container's processes keep the runtime's timer slack, not sysmon's" {
	# berth's sysmon thread runs with a slack of its own
	# (libcontainer/threadslack); a process forked from a thread that had it
	# would keep it across execve.
	set_args cat /proc/self/timerslack_ns
	run with_slack 70001 run --bundle "$BUNDLE" proc-slack
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 70001 ]

	set_args sleep 1000
	with_slack 70002 run -d --bundle "$BUNDLE" proc-slack-d >/dev/null
	[ "$(cat /proc/"$(init_pid proc-slack-d)"/timerslack_ns)" = 70002 ]
	run with_slack 70003 exec proc-slack-d cat /proc/self/timerslack_ns
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 70003 ]
	berth delete -f proc-slack-d
}

# hg_bytes SMAPS: bytes of the mappings in an smaps file whose VmFlags
# mark them for huge pages (MADV_HUGEPAGE: "hg").
hg_bytes() {
	local line range sz=0 sum=0
	while read -r line; do
		case $line in
		VmFlags:*) [[ " ${line#VmFlags:} " == *" hg "* ]] && sum=$((sum + sz)) ;;
		[0-9a-f]*-*) range=${line%% *}; sz=$((16#${range#*-} - 16#${range%-*})) ;;
		esac
	done <"$1"
	echo "$sum"
}

@test "proc-hugeheap: huge pages for a short command's heap, given up by one that lives on" {
	# libcontainer/hugeheap marks the Go heap's first chunks (at most 8
	# MiB) MADV_HUGEPAGE. A foreground run gives that up when it starts
	# waiting for its container, a Go init at once. A prestart hook copies
	# berth's smaps while berth waits for the hook.
	local rec=$TEST_TMP/hook pid deadline early
	mkdir "$rec"
	update_config --arg d "$rec" '.hooks.prestart = [{"path": "/bin/sh",
		"args": ["sh", "-c", "cat /proc/$PPID/smaps >\"$0/smaps.tmp\" && mv \"$0/smaps.tmp\" \"$0/smaps\"", $d]}]'
	"$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" hh >/dev/null 2>&1 </dev/null &
	pid=$!
	wait_status hh running
	[ -s "$rec/smaps" ]
	early=$(hg_bytes "$rec/smaps")
	echo "advised while creating: $early bytes"
	[ "$early" -gt 0 ]
	[ "$early" -le $((8 << 20)) ]

	# The same berth run, waiting for its container: no advice left.
	deadline=$((SECONDS + 10))
	until [ "$(hg_bytes "/proc/$pid/smaps")" = 0 ] || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
	kill -0 "$pid"
	[ "$(hg_bytes "/proc/$pid/smaps")" = 0 ]
	berth kill hh KILL
	wait "$pid" || true
	berth delete -f hh

	# A Go init gives it up before it reports ready.
	update_config 'del(.hooks)'
	BERTH_GO_INIT=1 berth create --bundle "$BUNDLE" hh-go
	[ "$(hg_bytes "/proc/$(init_pid hh-go)/smaps")" = 0 ]
	berth delete -f hh-go
}

# bss_rss_kb SMAPS EXE: the resident KiB of EXE's zeroed data, the
# anonymous mapping right after EXE's last writable mapping.
bss_rss_kb() {
	awk -v exe="$2" '
		/^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); inbss = (prev_rw_end != "" && r[1] == prev_rw_end && NF == 5)
			prev_rw_end = ($NF == exe && $2 ~ /w/) ? r[2] : ""; next }
		inbss && $1 == "Rss:" { print $2; exit }' "$1"
}

@test "proc-bss: a command populates only the hot part of its zeroed data" {
	# libcontainer/prefault populates the first BSS_HOT of the zeroed data,
	# where the Go runtime's variables lie; the init code's large buffers
	# (COLD_BSS) lie past it. A waiting run has the hot part resident and
	# not the buffers (~0.7 MiB).
	local pid kb
	set_args sleep 100
	"$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" pb >/dev/null 2>&1 </dev/null &
	pid=$!
	wait_status pb running
	kb=$(bss_rss_kb "/proc/$pid/smaps" "$(readlink "/proc/$pid/exe")")
	echo "zeroed data resident: ${kb:-none} KiB"
	[ -n "$kb" ]
	[ "$kb" -ge 128 ]
	[ "$kb" -le 512 ]
	berth kill pb KILL
	wait "$pid" || true
	berth delete -f pb
}
