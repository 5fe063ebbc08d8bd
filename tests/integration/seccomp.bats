#!/usr/bin/env bats
# linux.seccomp: every action berth supports, argument conditions, flags,
# unknown syscalls, and SCMP_ACT_NOTIFY with a listener.

load helpers

setup() {
	setup_bundle
	# The tests make directories in the rootfs.
	update_config '.root.readonly = false'
}
teardown() {
	if [ -n "${AGENT_PID:-}" ]; then
		kill "$AGENT_PID" 2>/dev/null || true
		wait "$AGENT_PID" 2>/dev/null || true
	fi
	teardown_bundle
}

# seccomp_rule ACTION [EXTRA-JQ]: an ALLOW-by-default filter that applies
# ACTION to mkdir and mkdirat (busybox uses either, depending on the arch).
seccomp_rule() {
	update_config --arg act "$1" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": $act}]}'
}

@test "scmp-errno: SCMP_ACT_ERRNO returns errnoRet, ALLOW by default" {
	seccomp_rule SCMP_ACT_ERRNO
	update_config '.linux.seccomp.syscalls[0].errnoRet = 13'
	set_args sh -c 'mkdir /tmp/d; echo rc=$?; echo still-running'
	run berth run --bundle "$BUNDLE" scmp-errno
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Permission denied"* ]]
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *still-running* ]]
	[ ! -e "$BUNDLE/rootfs/tmp/d" ]

	# Without errnoRet: EPERM.
	update_config 'del(.linux.seccomp.syscalls[0].errnoRet)'
	run berth run --bundle "$BUNDLE" scmp-errno2
	echo "$output"
	[[ "$output" == *"Operation not permitted"* ]]
}

@test "scmp-kill: SCMP_ACT_KILL_PROCESS ends the process with SIGSYS" {
	seccomp_rule SCMP_ACT_KILL_PROCESS
	# mkdir as the container's process itself: a shell would survive the
	# death of its forked child.
	set_args mkdir /tmp/d
	run berth run --bundle "$BUNDLE" scmp-kill
	echo "$output"
	[ "$status" -eq 159 ] # 128 + SIGSYS
	[ ! -e "$BUNDLE/rootfs/tmp/d" ]
}

@test "scmp-trap: SCMP_ACT_TRAP delivers SIGSYS" {
	seccomp_rule SCMP_ACT_TRAP
	# mkdir as the container's process itself: a shell would survive the
	# death of its forked child.
	set_args mkdir /tmp/d
	run berth run --bundle "$BUNDLE" scmp-trap
	echo "$output"
	[ "$status" -eq 159 ]
	[ ! -e "$BUNDLE/rootfs/tmp/d" ]
}

@test "scmp-log: SCMP_ACT_LOG lets the syscall through" {
	seccomp_rule SCMP_ACT_LOG
	set_args sh -c 'mkdir /tmp/d && echo made'
	run berth run --bundle "$BUNDLE" scmp-log
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = made ]
	[ -d "$BUNDLE/rootfs/tmp/d" ]
}

@test "scmp-default-errno: defaultAction ERRNO uses defaultErrnoRet for unlisted syscalls" {
	# Deny by default with ENOSYS (38); allow what sh, cat and the
	# runtime's last steps before execve need, but not mkdir/mkdirat.
	allowed='["read","write","writev","readv","pread64","pwrite64","open","openat","openat2","close","close_range",
		"fstat","newfstatat","stat","lstat","statx","lseek","mmap","munmap","mprotect","brk","madvise","mremap",
		"rt_sigaction","rt_sigprocmask","rt_sigreturn","sigaltstack","ioctl","access","faccessat","faccessat2",
		"pipe","pipe2","dup","dup2","dup3","fcntl","getpid","getppid","gettid","getuid","geteuid","getgid",
		"getegid","getpgrp","getpgid","setpgid","getcwd","chdir","fchdir","uname","arch_prctl","set_tid_address",
		"set_robust_list","rseq","prlimit64","getrandom","futex","sched_yield","nanosleep","clock_nanosleep",
		"clock_gettime","gettimeofday","exit","exit_group","wait4","waitid","clone","clone3","fork","vfork",
		"execve","execveat","kill","tgkill","tkill","getdents64","readlink","readlinkat","umask","prctl",
		"capget","capset","setgroups","setresuid","setresgid","epoll_create1","epoll_ctl","epoll_pwait",
		"epoll_wait","poll","ppoll","select","pselect6","sysinfo","getrlimit","setrlimit","sched_getaffinity",
		"mincore","membarrier","restart_syscall","seccomp"]'
	update_config --argjson allowed "$allowed" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO",
		"defaultErrnoRet": 38, "syscalls": [{"names": $allowed, "action": "SCMP_ACT_ALLOW"}]}'
	set_args sh -c 'mkdir /tmp/d; echo rc=$?'
	run berth run --bundle "$BUNDLE" scmp-deferr
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Function not implemented"* ]]
	[[ "$output" == *"rc=1"* ]]
}

@test "scmp-enosys: a syscall newer than every one the profile names gets ENOSYS, a known unlisted one the default action (runc's -ENOSYS stub)" {
	cat >"$TEST_TMP/probe.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
static int probe(long nr) { return syscall(nr, 0, 0, 0) < 0 ? errno : 0; }
int main(void) {
	printf("new=%d known=%d\n", probe(1000), probe(SYS_unshare));
	return 0;
}
EOF
	gcc -static -O2 -o "$BUNDLE/rootfs/probe" "$TEST_TMP/probe.c"
	allowed='["read","write","writev","open","openat","close","fstat","newfstatat","lseek","mmap","munmap",
		"mprotect","brk","rt_sigaction","rt_sigprocmask","rt_sigreturn","ioctl","arch_prctl","set_tid_address",
		"set_robust_list","rseq","prlimit64","getrandom","futex","exit","exit_group","execve","uname",
		"readlink","readlinkat","getpid","gettid","close_range","fcntl"]'
	update_config --argjson allowed "$allowed" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO",
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		"syscalls": [{"names": $allowed, "action": "SCMP_ACT_ALLOW"}]}'
	set_args /probe
	run berth run --bundle "$BUNDLE" scmp-enosys
	echo "$output"
	[ "$status" -eq 0 ]
	# ENOSYS is 38, EPERM 1
	[ "$output" = "new=38 known=1" ]
	# a default that lets syscalls through, or already says ENOSYS: no stub
	update_config '.linux.seccomp.defaultErrnoRet = 38'
	run berth run --bundle "$BUNDLE" scmp-enosys-2
	[ "$output" = "new=38 known=38" ]
	# exec gets the same filter (the direct exec runs the same program)
	update_config 'del(.linux.seccomp.defaultErrnoRet)'
	set_args sleep 1000
	update_config '.linux.seccomp.syscalls[0].names += ["nanosleep","clock_nanosleep","restart_syscall"]'
	berth run -d --bundle "$BUNDLE" scmp-enosys-x
	run berth exec scmp-enosys-x /probe
	echo "$output"
	[ "$output" = "new=38 known=1" ]
}

@test "scmp-args: an argument condition narrows the rule" {
	# Deny chmod only when the mode is exactly 0700 (chmod's arg 1,
	# fchmodat's arg 2; busybox passes the mode through unchanged).
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
		 "args": [{"index": 1, "value": 448, "op": "SCMP_CMP_EQ"}]},
		{"names": ["fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
		 "args": [{"index": 2, "value": 448, "op": "SCMP_CMP_EQ"}]}]}'
	set_args sh -c 'touch /tmp/f; chmod 700 /tmp/f; echo a=$?; chmod 750 /tmp/f; echo b=$?'
	run berth run --bundle "$BUNDLE" scmp-args
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"a=1"* ]]
	[[ "$output" == *"b=0"* ]]
	[ "$(stat -c %a "$BUNDLE/rootfs/tmp/f")" = 750 ]
}

@test "scmp-unknown: a syscall name libseccomp does not know is skipped" {
	seccomp_rule SCMP_ACT_ERRNO
	update_config '.linux.seccomp.syscalls[0].names += ["berth_no_such_syscall"]'
	set_args sh -c 'mkdir /tmp/d; echo rc=$?'
	run berth run --bundle "$BUNDLE" scmp-unknown
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"rc=1"* ]]
}

@test "scmp-flags: filter flags are accepted and the filter is in force" {
	seccomp_rule SCMP_ACT_ERRNO
	update_config '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"]'
	set_args sh -c 'grep -E "^Seccomp(_filters)?:" /proc/self/status; mkdir /tmp/d; echo rc=$?'
	run berth run --bundle "$BUNDLE" scmp-flags
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Seccomp:	2"* ]]
	[[ "$output" == *"rc=1"* ]]
	# --debug reports the seccomp(2) flags value, in runc's words:
	# LOG 2 + SPEC_ALLOW 4, and TSYNC accepted but not passed on (0, as
	# runc's seccomp.bats expects: the thread that loads the filter is the
	# one that execs); no flags field: runc's SPEC_ALLOW
	run berth --debug run --bundle "$BUNDLE" scmp-flags-d
	[[ "$output" == *'msg="seccomp filter flags: 6"'* ]]
	[[ "$output" == *"SECCOMP_FILTER_FLAG_TSYNC met without it"* ]]
	update_config 'del(.linux.seccomp.flags)'
	run berth --debug run --bundle "$BUNDLE" scmp-flags-d2
	[[ "$output" == *'msg="seccomp filter flags: 4"'* ]]

	update_config '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_BOGUS"]'
	run berth run --bundle "$BUNDLE" scmp-flags2
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"SECCOMP_FILTER_FLAG_BOGUS"* ]]
}

# start_agent ERRNO: runs tests/cmd/seccompagent on a socket in TEST_TMP.
start_agent() {
	"$TESTBIN/seccompagent" -socket "$TEST_TMP/agent.sock" -log "$TEST_TMP/agent.log" -mkdir-errno "$1" &
	AGENT_PID=$!
	for _ in $(seq 200); do [ -S "$TEST_TMP/agent.sock" ] && return 0; sleep 0.05; done
	echo "seccompagent did not start" >&2
	return 1
}

@test "scmp-notify: SCMP_ACT_NOTIFY hands the fd and state to the listener, which answers mkdir" {
	start_agent 0
	seccomp_rule SCMP_ACT_NOTIFY
	update_config --arg sock "$TEST_TMP/agent.sock" '.linux.seccomp.listenerPath = $sock
		| .linux.seccomp.listenerMetadata = "berth-meta-42"'
	set_args sh -c 'mkdir /tmp/notified; echo rc=$?; ls -d /tmp/notified 2>&1; exit 0'
	run berth run --bundle "$BUNDLE" scmp-notify
	echo "$output"
	cat "$TEST_TMP/agent.log"
	[ "$status" -eq 0 ]
	# The agent faked success: mkdir returned 0 but made nothing.
	[[ "$output" == *"rc=0"* ]]
	[[ "$output" == *"No such file or directory"* ]]
	grep -q 'container=scmp-notify metadata="berth-meta-42"' "$TEST_TMP/agent.log"
	grep -q 'fds=\[seccompFd\]' "$TEST_TMP/agent.log"
	grep -Eq 'container=scmp-notify: mkdir(at)? from pid [0-9]+: faked success' "$TEST_TMP/agent.log"
}

@test "scmp-notify-errno: the listener's errno reaches the container" {
	start_agent 13
	seccomp_rule SCMP_ACT_NOTIFY
	update_config --arg sock "$TEST_TMP/agent.sock" '.linux.seccomp.listenerPath = $sock'
	set_args sh -c 'mkdir /tmp/n; echo rc=$?'
	run berth run --bundle "$BUNDLE" scmp-notify2
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Permission denied"* ]]
	grep -Eq 'mkdir(at)? from pid [0-9]+: errno 13' "$TEST_TMP/agent.log"
}

@test "scmp-notify-late: SCMP_ACT_NOTIFY on syscalls the init makes once the listener has the fd (execve, open, read, close, fcntl), for run and exec" {
	# The init waits on those until the agent answers (it continues them),
	# as under runc. Refused before: "cannot be used for the execve syscall".
	start_agent 0
	local nnp
	for nnp in false true; do
		update_config --arg sock "$TEST_TMP/agent.sock" --argjson nnp "$nnp" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
			"listenerPath": $sock,
			"syscalls": [{"names": ["execve", "openat", "open", "read", "close", "fcntl"], "action": "SCMP_ACT_NOTIFY"}]}
			| .process.noNewPrivileges = $nnp'
		set_args true
		run berth run --bundle "$BUNDLE" "scmp-late-$nnp"
		echo "$output"
		[ "$status" -eq 0 ]
		grep -Eq "container=scmp-late-$nnp: execve from pid [0-9]+: continue" "$TEST_TMP/agent.log"
	done
	set_args sleep 100
	berth run -d --bundle "$BUNDLE" scmp-late-exec </dev/null >/dev/null 2>&1
	run berth exec scmp-late-exec cat /etc/passwd
	echo "$output"
	[ "$status" -eq 0 ]
	[ -n "$output" ]
	cat "$TEST_TMP/agent.log"
	# exec's process loaded the filter too: its execve of cat was notified,
	# beside init's of sleep
	[ "$(grep -Ec 'container=scmp-late-exec: execve from pid [0-9]+: continue' "$TEST_TMP/agent.log")" -eq 2 ]
	berth delete -f scmp-late-exec
}

@test "scmp-notify-nolistener: a listenerPath nobody listens on fails create clearly" {
	seccomp_rule SCMP_ACT_NOTIFY
	update_config --arg sock "$TEST_TMP/none.sock" '.linux.seccomp.listenerPath = $sock'
	run berth run --bundle "$BUNDLE" scmp-nolisten
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"seccomp listener $TEST_TMP/none.sock"* ]]
	[[ "$output" != *"is not used"* ]] # scmp-listener-unused's warning
	[ -z "$("$BERTH" --root "$STATE_ROOT" list -q)" ]
}

@test "scmp-listener-unused: a listenerPath without a notify rule runs (as runc) and says it is unused" {
	seccomp_rule SCMP_ACT_ERRNO
	update_config --arg sock "$TEST_TMP/none.sock" '.linux.seccomp.listenerPath = $sock
		| .linux.seccomp.listenerMetadata = "m"'
	set_args echo ran
	run berth run --bundle "$BUNDLE" scmp-unused
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ran"* ]]
	[[ "$output" == *"seccomp listenerPath $TEST_TMP/none.sock is not used: no rule has SCMP_ACT_NOTIFY"* ]]
}

@test "scmp-deny-all: a profile that refuses execve fails create saying so, before anything runs; one refusing it only for some arguments runs" {
	# Before: init loaded the filter and its execve failed; when the
	# profile refused write and exit too, no error could get out (runc
	# reports an empty exec fifo), and run ended with a bare 1, 132 or 159.
	local nnp p
	for nnp in false true; do
		for p in '{"defaultAction": "SCMP_ACT_ERRNO"}|SCMP_ACT_ERRNO, errno 1' \
			'{"defaultAction": "SCMP_ACT_KILL"}|SCMP_ACT_KILL' \
			'{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["exit", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}|SCMP_ACT_ERRNO, errno 1' \
			'{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}|SCMP_ACT_ERRNO, errno 13'; do
			update_config --argjson n "$nnp" --argjson p "${p%|*}" '.linux.seccomp = $p | .process.noNewPrivileges = $n'
			set_args echo ran
			run berth run --bundle "$BUNDLE" "scmp-deny-$nnp"
			echo "nnp=$nnp ${p%|*}: $status: $output"
			[ "$status" -eq 1 ]
			[[ "$output" == *"seccomp: the profile refuses execve (${p#*|}), so the container's process could never start"* ]]
			[[ "$output" != *ran* ]]
			[ ! -e "$STATE_ROOT/scmp-deny-$nnp" ]
		done
	done
	# A rule on execve's arguments (pointers, unknown before it runs)
	# leaves the kernel to decide: here it allows this execve.
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["execve"],
		"action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]}]}'
	run berth run --bundle "$BUNDLE" scmp-deny-args
	[ "$status" -eq 0 ]
	[ "$output" = ran ]
}

@test "scmp-deny-all-but-execve: init failing after a filter that refuses write and exit ends instead of spinning, and run returns" {
	# Before: musl's _exit retried the refused exit forever, at 100% CPU,
	# and run (and a delete -f waiting on its lock) never returned. An
	# executable that is not a program fails execve (ENOEXEC) after the
	# filter; the refused write and exit leave init its trap (SIGILL).
	printf 'not a program\n' >"$BUNDLE/rootfs/junk"
	chmod 755 "$BUNDLE/rootfs/junk"
	local nnp rc
	for nnp in false true; do
		update_config --argjson n "$nnp" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO",
			"syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ALLOW"}]} | .process.noNewPrivileges = $n'
		set_args /junk
		rc=0
		timeout -k 5 30 "$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" "scmp-deny-$nnp" </dev/null || rc=$?
		echo "nnp=$nnp: exit status $rc"
		# Ended by a signal (the trap's SIGILL, 132), not by timeout (124,
		# or 137 after its SIGKILL).
		[ "$rc" -gt 128 ] && [ "$rc" -ne 137 ]
		[ ! -e "$STATE_ROOT/scmp-deny-$nnp" ]
	done
}

@test "scmp-old-profile: a profile that refuses close_range and getcwd still starts, for run and exec, with the filter loaded early or late" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["close_range", "getcwd"], "action": "SCMP_ACT_ERRNO"}]}'
	for nnp in true false; do
		update_config --argjson n "$nnp" '.process.noNewPrivileges = $n'
		set_args echo "started-$nnp"
		run berth run --bundle "$BUNDLE" "scmp-old-$nnp"
		echo "$output"
		[ "$status" -eq 0 ]
		[ "$output" = "started-$nnp" ]
	done
	# no fd above stdio leaks through the fallback either, and exec works
	set_args sleep 1000
	berth run -d --bundle "$BUNDLE" scmp-old-exec 3<"$BUNDLE/config.json"
	run berth exec scmp-old-exec ls /proc/self/fd
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo $output)" = "0 1 2 3" ]
}

# filter_flags ID: the flags init passed to seccomp(SECCOMP_SET_MODE_FILTER)
# when berth ran the bundle (seccomp(2) is the only place they show).
filter_flags() {
	strace -f -qq -e trace=seccomp -o "$TEST_TMP/strace" "$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" "$1" </dev/null >/dev/null 2>&1
	sed -n 's/.*seccomp(SECCOMP_SET_MODE_FILTER, \([^,]*\), {.*) = 0$/\1/p' "$TEST_TMP/strace"
}

@test "scmp-default-flags: no flags field means runc's default SPEC_ALLOW; an empty list or explicit flags are applied as given" {
	seccomp_rule SCMP_ACT_ERRNO
	set_args true
	run filter_flags scmp-df1
	echo "$output"
	[ "$output" = SECCOMP_FILTER_FLAG_SPEC_ALLOW ]
	update_config '.linux.seccomp.flags = []'
	run filter_flags scmp-df2
	echo "$output"
	[ "$output" = 0 ]
	update_config '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_LOG"]'
	run filter_flags scmp-df3
	echo "$output"
	[ "$output" = SECCOMP_FILTER_FLAG_LOG ]
}

@test "scmp-rlimit-as: a small RLIMIT_AS does not break the filter (compiled before the rlimits)" {
	# The validation suite's process_rlimits: RLIMIT_AS soft 1 GiB is less
	# than a Go process has reserved, so libseccomp could not allocate a
	# large profile's rules once the limit was in force. Here: a rule for
	# every x86_64 syscall, on an argument value no call passes.
	local names
	names=$(grep -o '__NR_[a-z0-9_]*' /usr/include/x86_64-linux-gnu/asm/unistd_64.h | sed 's/__NR_//' | jq -R . | jq -sc .)
	update_config --argjson names "$names" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		"syscalls": [{"names": $names, "action": "SCMP_ACT_ERRNO",
			"args": [{"index": 5, "value": 140737488355327, "op": "SCMP_CMP_EQ"}]},
			{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	update_config '.process.rlimits = [{"type": "RLIMIT_AS", "soft": 1073741824, "hard": 2147483648}]'
	set_args sh -c 'ulimit -v; mkdir /tmp/d; echo rc=$?'
	run berth run --bundle "$BUNDLE" scmp-rlimit-as
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *1048576* ]]
	[[ "$output" == *"rc=1"* ]]
}
