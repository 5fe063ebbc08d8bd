#!/usr/bin/env bats
# The direct init (libcontainer/directinit.go): a container's init in which
# no Go runtime starts, its rootfs built by a thread of the runtime. The
# container it makes must be the Go init's, to the byte, and so must its
# errors. BERTH_GO_INIT=1 asks for the Go init.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

# init_threads ID: the thread count of a created container's init.
init_threads() {
	awk '/^Threads:/ { print $2 }' "/proc/$(init_pid "$1")/status"
}

# What a container sees of itself, without what differs from one run to
# the next (mount ids, peer groups, pids of the host, and the order of the
# cgroup v1 binds, which follows a Go map's).
PROBE='hostname; echo "cwd $(pwd) umask $(umask)"; id
grep -E "^(Cap|NoNewPrivs|Seccomp|Uid|Gid|Groups)" /proc/self/status
ulimit -a; cat /proc/self/oom_score_adj /proc/sys/net/ipv4/ip_forward
awk "{ for (i = 7; \$i != \"-\"; i++); print \$4, \$5, \$6, \$(i+1), \$(i+2), \$(i+3) }" /proc/self/mountinfo | sort
cat /proc/self/cgroup; ls /proc/self/fd; env | sort; stat -c "%A %u %g %t %T %n" /dev/* /dev/pts/*
echo "$$"; mkdir /tmp/probe-dir 2>&1; cat /proc/1/cmdline | tr "\0" " "; echo'

# probe_both NAME: runs the probe in a container with the Go init and with
# the direct one; both outputs must be the same.
probe_both() {
	set_args sh -c "$PROBE"
	BERTH_GO_INIT=1 run berth run --bundle "$BUNDLE" "$1-go"
	[ "$status" -eq 0 ]
	local go_out=$output
	run berth run --bundle "$BUNDLE" "$1-direct"
	[ "$status" -eq 0 ]
	if [ "$output" != "$go_out" ]; then
		diff <(echo "$go_out") <(echo "$output") || true
		return 1
	fi
	[[ "$output" == *" /proc rw,relatime proc proc "* ]]
}

@test "di-threads: a default config's init runs no Go runtime; BERTH_GO_INIT=1 gets the Go init" {
	berth create --bundle "$BUNDLE" di-threads
	[ "$(init_threads di-threads)" -eq 1 ]
	# Its root and its cwd are the container's root, none of the host's
	# (CVE-2024-21626: pivot_root moves the root, not the cwd).
	pid=$(init_pid di-threads)
	root_id=$(stat -L -c %d:%i "$BUNDLE/rootfs")
	[ "$(stat -L -c %d:%i "/proc/$pid/root")" = "$root_id" ]
	[ "$(stat -L -c %d:%i "/proc/$pid/cwd")" = "$root_id" ]
	BERTH_GO_INIT=1 berth create --bundle "$BUNDLE" di-threads-go
	[ "$(init_threads di-threads-go)" -gt 1 ]
	pid=$(init_pid di-threads-go)
	[ "$(stat -L -c %d:%i "/proc/$pid/cwd")" = "$root_id" ]
	# Both start and run the same.
	berth start di-threads
	berth start di-threads-go
	[ "$(container_status di-threads)" = running ]
	[ "$(container_status di-threads-go)" = running ]
}

@test "di-same: the container is the Go init's (root, hostname, sysctl, cgroup namespace, read-only root)" {
	update_config '.hostname = "di-host" | .linux.sysctl = {"net.ipv4.ip_forward": "1"}
		| .root.readonly = true | .process.oomScoreAdj = 100'
	probe_both di-same
	[[ "$output" == *di-host* ]]
}

@test "di-same-user: the container is the Go init's (user, groups, caps, no_new_privs, rlimits, seccomp, cwd, umask)" {
	update_config '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20], "umask": 63}
		| .process.cwd = "/tmp" | .process.noNewPrivileges = true
		| .process.env += ["A=1", "A=2"]
		| .process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 777, "soft": 555}, {"type": "RLIMIT_NPROC", "hard": 99, "soft": 88}]
		| .process.capabilities = {"bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}
		| .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	probe_both di-user
	[[ "$output" == *"uid=1000 gid=1000 groups=10,20"* ]]
	[[ "$output" == *"Operation not permitted"* ]]
}

@test "di-fallback: configs the direct init cannot take keep the Go init" {
	update_config '.hooks = {"createContainer": [{"path": "/bin/true"}]}'
	berth create --bundle "$BUNDLE" di-fb-hook
	[ "$(init_threads di-fb-hook)" -gt 1 ]
	update_config 'del(.hooks)'
	berth --debug create --bundle "$BUNDLE" di-fb-debug
	[ "$(init_threads di-fb-debug)" -gt 1 ]
	update_config '.mounts |= map(select(.type != "proc"))'
	berth create --bundle "$BUNDLE" di-fb-noproc
	[ "$(init_threads di-fb-noproc)" -gt 1 ]
}

# untimed: output without logrus' timestamps.
untimed() { sed -E 's/time="[^"]*" //' <<<"$1"; }

@test "di-execve: a failed execve after start reads the same either way (start, run)" {
	printf '\177ELF not really' >"$BUNDLE/rootfs/bad"
	chmod 755 "$BUNDLE/rootfs/bad"
	set_args /bad
	for how in go direct; do
		if [ $how = go ]; then export BERTH_GO_INIT=1; else unset BERTH_GO_INIT; fi
		berth create --bundle "$BUNDLE" di-ex
		run berth start di-ex
		[ "$status" -eq 1 ]
		[[ "$output" == *"start container: exec /bad: exec format error"* ]]
		eval "start_$how=\$(untimed \"\$output\")"
		berth delete --force di-ex
		run berth run --bundle "$BUNDLE" di-exr
		[ "$status" -eq 255 ]
		# Once, by init on the process's stderr.
		[ "$(grep -c 'exec /bad: exec format error' <<<"$output")" -eq 1 ]
		eval "run_$how=\$(untimed \"\$output\")"
		berth delete --force di-exr || true
	done
	unset BERTH_GO_INIT
	[ "$start_go" = "$start_direct" ]
	[ "$run_go" = "$run_direct" ]
}

@test "di-errors: set-up errors read the same either way and leave nothing behind" {
	check_error() {
		BERTH_GO_INIT=1 run berth run --bundle "$BUNDLE" di-err
		[ "$status" -ne 0 ]
		local go_out
		go_out=$(untimed "$output")
		run berth run --bundle "$BUNDLE" di-err
		[ "$status" -ne 0 ]
		[ "$(untimed "$output")" = "$go_out" ]
		[ -z "$(berth list -q)" ]
		local d
		for d in /sys/fs/cgroup/*/berth/di-err /sys/fs/cgroup/berth/di-err; do [ ! -e "$d" ]; done
	}
	cp "$BUNDLE/config.json" "$TEST_TMP/config.orig"
	# proc's own options are the container process's mount(2) to refuse.
	update_config '.mounts += [{"destination": "/proc2", "type": "proc", "source": "proc", "options": ["nosuchoption"]}]'
	check_error
	[[ "$output" == *'error mounting \"proc\" to rootfs at \"/proc2\": mount: invalid argument'* ]]
	cp "$TEST_TMP/config.orig" "$BUNDLE/config.json"
	# A mount the runtime's thread makes.
	update_config '.mounts += [{"destination": "/x", "type": "tmpfs", "source": "tmpfs", "options": ["size=nonsense"]}]'
	check_error
	[[ "$output" == *'to rootfs at \"/x\"'* ]]
	cp "$TEST_TMP/config.orig" "$BUNDLE/config.json"
	# A program that is not there fails create, before ready.
	set_args /nonexistent
	check_error
	[[ "$output" == *"/nonexistent"* ]]
	cp "$TEST_TMP/config.orig" "$BUNDLE/config.json"
	update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 10, "soft": 20}]'
	check_error
	[[ "$output" == *RLIMIT_NOFILE* ]]
}

@test "di-pod: a container joining a sandbox's network, IPC and UTS namespaces by path is a direct init too" {
	update_config '.hostname = "di-sandbox"'
	berth run -d --bundle "$BUNDLE" di-sandbox
	sandbox=$(init_pid di-sandbox)
	update_config --arg p "/proc/$sandbox/ns" 'del(.hostname) | .linux.namespaces |= map(
		if .type == "network" or .type == "ipc" or .type == "uts" then .path = ($p + "/" + (if .type == "network" then "net" else .type end)) else . end)'
	berth create --bundle "$BUNDLE" di-member
	[ "$(init_threads di-member)" -eq 1 ]
	member=$(init_pid di-member)
	for ns in net ipc uts; do
		[ "$(readlink "/proc/$member/ns/$ns")" = "$(readlink "/proc/$sandbox/ns/$ns")" ]
	done
	for ns in pid mnt; do
		[ "$(readlink "/proc/$member/ns/$ns")" != "$(readlink "/proc/$sandbox/ns/$ns")" ]
	done
	berth start di-member
	run berth exec di-member hostname
	[ "$output" = di-sandbox ]
	# And the same container as the Go init makes of it.
	update_config '.process.args = ["sh", "-c", "hostname; readlink /proc/self/ns/net /proc/self/ns/ipc; ls /proc/1/root >/dev/null && echo ok"]'
	BERTH_GO_INIT=1 run berth run --bundle "$BUNDLE" di-m-go
	[ "$status" -eq 0 ]
	go_out=$output
	run berth run --bundle "$BUNDLE" di-m-direct
	[ "$status" -eq 0 ]
	[ "$output" = "$go_out" ]
	[[ "$output" == di-sandbox* ]]
}

@test "di-kill-created: kill's default SIGTERM ends a created init, as it ends the Go init" {
	for how in go direct; do
		if [ $how = go ]; then export BERTH_GO_INIT=1; else unset BERTH_GO_INIT; fi
		berth create --bundle "$BUNDLE" "di-kc-$how"
		berth kill "di-kc-$how"
		wait_status "di-kc-$how" stopped
		# SIGUSR1 is caught and ignored by both.
		berth create --bundle "$BUNDLE" "di-ku-$how"
		berth kill "di-ku-$how" USR1
		sleep 0.2
		[ "$(container_status "di-ku-$how")" = created ]
	done
	unset BERTH_GO_INIT
}

@test "di-tty: a terminal container is a direct init, with the Go init's terminal" {
	update_config '.process.terminal = true | .process.consoleSize = {"height": 25, "width": 81}'
	set_args sh -c 'tty; stty size; ls -ln /dev/console | cut -c1-10; readlink /proc/self/fd/0; readlink /proc/self/fd/2; ps -o tty,comm | head -2'
	for how in go direct; do
		if [ $how = go ]; then export BERTH_GO_INIT=1; else unset BERTH_GO_INIT; fi
		"$TESTBIN/recvtty" -mode single -no-stdin "$TEST_TMP/tty-$how.sock" >"$TEST_TMP/tty-$how.out" 2>&1 3>&- &
		recv=$!
		for _ in $(seq 100); do [ -S "$TEST_TMP/tty-$how.sock" ] && break; sleep 0.05; done
		berth create --console-socket "$TEST_TMP/tty-$how.sock" --bundle "$BUNDLE" "di-tty-$how"
		if [ $how = go ]; then
			[ "$(init_threads "di-tty-$how")" -gt 1 ]
		else
			[ "$(init_threads "di-tty-$how")" -eq 1 ]
		fi
		berth start "di-tty-$how"
		deadline=$((SECONDS + 10))
		while kill -0 "$recv" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
		kill -9 "$recv" 2>/dev/null || true
		wait "$recv" 2>/dev/null || true
	done
	unset BERTH_GO_INIT
	cat "$TEST_TMP/tty-direct.out"
	diff "$TEST_TMP/tty-go.out" "$TEST_TMP/tty-direct.out"
	grep -q '^/dev/pts/0' "$TEST_TMP/tty-direct.out"
	grep -q '^25 81' "$TEST_TMP/tty-direct.out"
}

@test "di-cgroup-v1: on a cgroup v1 host init's rootfs is built while its cgroup is made; binds and a refused limit read the same either way" {
	# A pure v1 host, in a mount namespace of the test's own with the
	# hybrid host's cgroup2 mount hidden: the cgroup is then made after
	# init's clone, while the runtime's thread builds init's rootfs, and
	# the cgroup mount waits for it (rootfs.Config.AwaitCgroup). On a
	# hybrid or a v2 host the cgroup is made before the clone.
	requires_cgroup_v1
	set_args sh -c 'ls /sys/fs/cgroup; cat /sys/fs/cgroup/pids/cgroup.procs'
	cp "$BUNDLE/config.json" "$TEST_TMP/config.orig"
	cat >"$TEST_TMP/inns.sh" <<-'EOS'
		if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified || exit 1; fi
		b() { "$BERTH" --root "$STATE_ROOT" "$@" </dev/null 2>&1; }
		cgroups_left() { ls -d /sys/fs/cgroup/*/berth/di-v1 2>/dev/null; }
		b run --bundle "$BUNDLE" di-v1 >"$TEST_TMP/direct.out"
		BERTH_GO_INIT=1 b run --bundle "$BUNDLE" di-v1 >"$TEST_TMP/go.out"
		# A CPU this host cannot have: the kernel refuses the cpuset as
		# the limits are written, after the clone.
		jq '.linux.resources.cpu.cpus = "4095"' "$TEST_TMP/config.orig" >"$BUNDLE/config.json"
		b run --bundle "$BUNDLE" di-v1 | sed 's/^time="[^"]*" //' >"$TEST_TMP/direct.err"
		echo left: $(b list -q) $(cgroups_left) >>"$TEST_TMP/direct.err"
		BERTH_GO_INIT=1 b run --bundle "$BUNDLE" di-v1 | sed 's/^time="[^"]*" //' >"$TEST_TMP/go.err"
		echo left: $(b list -q) $(cgroups_left) >>"$TEST_TMP/go.err"
	EOS
	run env BERTH="$BERTH" STATE_ROOT="$STATE_ROOT" BUNDLE="$BUNDLE" TEST_TMP="$TEST_TMP" \
		unshare -m --propagation private bash "$TEST_TMP/inns.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	cat "$TEST_TMP/direct.out" "$TEST_TMP/direct.err"
	diff "$TEST_TMP/go.out" "$TEST_TMP/direct.out"
	# The container's own cgroups, bound in (not an empty tmpfs): its
	# pids cgroup holds the cat alone (pid 1: sh runs its last command
	# in its own place).
	# No cgroup2 view: this host is v1 now.
	grep -qx cpu "$TEST_TMP/direct.out"
	grep -qx memory "$TEST_TMP/direct.out"
	! grep -qx unified "$TEST_TMP/direct.out" || false
	[ "$(grep -x '[0-9]*' "$TEST_TMP/direct.out" | tr '\n' ' ')" = "1 " ]
	diff "$TEST_TMP/go.err" "$TEST_TMP/direct.err"
	grep -q 'level=error msg="berth run failed: unable to start container process: .*cpuset.cpus' "$TEST_TMP/direct.err"
	grep -qx left: "$TEST_TMP/direct.err"
}

@test "di-proc: a direct init's /proc is mounted by the runtime's thread (fsconfig pidns), not by a round trip to init, and shows the container's pid namespace" {
	set_args sh -c 'echo /proc/[0-9]*; cat /proc/1/comm'
	strace -f -qq -o "$TEST_TMP/strace" -e trace=fsopen,fsconfig,mount \
		"$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" di-proc >"$TEST_TMP/out" </dev/null
	# the shell's own glob: the shell (pid 1) alone, which then execs cat
	[ "$(sed -n 1p "$TEST_TMP/out")" = /proc/1 ]
	[ "$(sed -n 2p "$TEST_TMP/out")" = cat ]
	# fsconfig's pidns is Linux 6.17's (the user-mode-linux suite's 6.1
	# has none): before it, init mounts its proc, as it did
	local v major minor
	v=$(uname -r)
	major=${v%%.*}
	minor=${v#*.}
	minor=${minor%%[!0-9]*}
	if [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 17 ]; }; then
		grep -q 'fsconfig(.*FSCONFIG_SET_FD, "pidns"' "$TEST_TMP/strace"
		# and that is the one procfs the runtime makes: the mount
		# points' symlink check (CVE-2023-27561) needs no private procfs
		# of its own when there is no symlink
		[ "$(grep -c 'fsopen("proc"' "$TEST_TMP/strace")" -eq 1 ]
		if grep -E 'mount\([^)]*"proc"' "$TEST_TMP/strace"; then
			false
		fi
	else
		grep -qE 'mount\([^)]*"proc"' "$TEST_TMP/strace"
	fi
}

@test "di-sigign: SIGHUP and SIGINT ignored by the runtime's caller have their default action in the container, with either init, as under runc and crun; SIGQUIT stays ignored" {
	set_args sh -c 'grep ^SigIgn /proc/self/status'
	for init in go direct; do
		env=()
		[ "$init" = go ] && env=(BERTH_GO_INIT=1)
		run env "${env[@]}" sh -c 'trap "" INT HUP QUIT; exec "$0" --root "$1" run --bundle "$2" "$3"' "$BERTH" "$STATE_ROOT" "$BUNDLE" "di-ign-$init"
		echo "$init: $output"
		[ "$status" -eq 0 ]
		mask=$((16#$(echo "$output" | awk '{print $2}')))
		# SIGHUP is bit 0, SIGINT bit 1, SIGQUIT bit 2
		[ $((mask & 3)) -eq 0 ]
		[ $((mask & 4)) -eq 4 ]
	done
}
