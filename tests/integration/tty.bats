#!/usr/bin/env bats
# Terminals: the pty master sent over --console-socket, runc's rules on
# detach/terminal/console-socket, and berth's own relay in the foreground.

load helpers

setup() { setup_bundle; }
teardown() {
	if [ -n "${RECV:-}" ]; then kill -9 "$RECV" 2>/dev/null; wait "$RECV" 2>/dev/null; fi
	teardown_bundle
}

# start_recvtty: a console-socket receiver relaying one terminal to
# $TEST_TMP/tty.out.
start_recvtty() {
	"$TESTBIN/recvtty" -mode single -no-stdin "$TEST_TMP/tty.sock" >"$TEST_TMP/tty.out" 2>&1 3>&- &
	RECV=$!
	for _ in $(seq 100); do [ -S "$TEST_TMP/tty.sock" ] && break; sleep 0.05; done
}

wait_recvtty() {
	local deadline=$((SECONDS + 10))
	while kill -0 "$RECV" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
	cat "$TEST_TMP/tty.out"
}

@test "tty-create: a terminal container sends its pty master to --console-socket" {
	update_config '.process.terminal = true | .process.consoleSize = {"height": 25, "width": 81}'
	set_args sh -c 'tty; stty size; ls -l /dev/console'
	start_recvtty
	berth create --console-socket "$TEST_TMP/tty.sock" --bundle "$BUNDLE" tty-c
	berth start tty-c
	run wait_recvtty
	echo "$output"
	[[ "${lines[0]}" == /dev/pts/0* ]]
	[[ "${lines[1]}" == "25 81"* ]]
	[[ "${lines[2]}" == c* ]]
}

@test "tty-exec: exec -t -d --console-socket sends the exec's pty master" {
	berth create --bundle "$BUNDLE" tty-e
	berth start tty-e
	start_recvtty
	run berth exec -t -d --console-socket "$TEST_TMP/tty.sock" --pid-file "$TEST_TMP/x.pid" tty-e sh -c 'tty; echo exec-tty-ok'
	[ "$status" -eq 0 ]
	[ -s "$TEST_TMP/x.pid" ]
	run wait_recvtty
	[[ "${lines[0]}" == /dev/pts/* ]]
	[[ "$output" == *exec-tty-ok* ]]
	# the shim's form: terminal from --process
	start_recvtty
	echo '{"terminal": true, "args": ["sh", "-c", "test -t 0 && echo process-tty-ok"], "cwd": "/", "env": ["PATH=/bin"]}' >"$TEST_TMP/p.json"
	berth exec --process "$TEST_TMP/p.json" --console-socket "$TEST_TMP/tty.sock" --detach --pid-file "$TEST_TMP/y.pid" tty-e
	run wait_recvtty
	[[ "$output" == *process-tty-ok* ]]
}

@test "tty-exec-notty: an exec into a terminal container has no terminal without -t (runc's exec.bats)" {
	update_config '.process.terminal = true'
	start_recvtty
	berth create --console-socket "$TEST_TMP/tty.sock" --bundle "$BUNDLE" tty-nt
	berth start tty-nt
	# detached, without a console socket: no terminal is asked for
	run berth exec -d tty-nt true </dev/null
	[ "$status" -eq 0 ]
	run berth exec tty-nt sh -c 'test -t 0 || test -t 1 || echo no-tty'
	[ "$status" -eq 0 ]
	[ "$output" = no-tty ]
}

@test "tty-rules: runc's detach/terminal/console-socket combinations" {
	berth create --bundle "$BUNDLE" tty-r
	berth start tty-r
	run berth exec -t -d tty-r true
	[ "$status" -eq 255 ]
	[[ "$output" == *"cannot allocate tty if berth will detach without setting console socket"* ]]
	start_recvtty
	run berth exec -d --console-socket "$TEST_TMP/tty.sock" tty-r true
	[ "$status" -eq 255 ]
	[[ "$output" == *"cannot use console socket if berth will not detach or allocate tty"* ]]
	run berth exec -t --console-socket "$TEST_TMP/tty.sock" tty-r true
	[ "$status" -eq 255 ]
	[[ "$output" == *"cannot use console socket"* ]]
	# create with a terminal and no socket
	update_config '.process.terminal = true'
	run berth create --bundle "$BUNDLE" tty-r2
	[ "$status" -eq 1 ]
	[[ "$output" == *"console socket"* ]]
}

@test "tty-run: foreground run relays the container's terminal (size and exit status)" {
	update_config '.process.terminal = true'
	set_args sh -c 'tty; stty size; exit 5'
	run python3 "$BATS_TEST_DIRNAME/ptyrun.py" "$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" tty-run
	echo "$output"
	[ "$status" -eq 5 ]
	[[ "$output" == *"/dev/pts/0\r\n"* ]]
	[[ "$output" == *"33 97\r\n"* ]]
}

@test "tty-run-size: the relayed terminal is sized before the process starts (no 0x0 for its first read)" {
	# The relay used to start after the start message: a program reading
	# its size at once could find 0x0 (busybox stty then fails). Each run
	# must see the size every time.
	update_config '.process.terminal = true'
	set_args stty size
	for i in 1 2 3 4 5 6 7 8 9 10; do
		run python3 "$BATS_TEST_DIRNAME/ptyrun.py" "$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" tty-size-$i
		echo "$i: $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"33 97\r\n"* ]]
	done
}

@test "tty-exec-size: a foreground exec -t is sized before its program runs (no 0x0 for its first read)" {
	berth create --bundle "$BUNDLE" tty-es
	berth start tty-es
	for i in 1 2 3 4 5 6 7 8 9 10; do
		run python3 "$BATS_TEST_DIRNAME/ptyrun.py" "$BERTH" --root "$STATE_ROOT" exec -t tty-es stty size
		echo "$i: $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"33 97\r\n"* ]]
	done
}

@test "tty-exec-fg: foreground exec -t relays the exec's terminal and input" {
	berth create --bundle "$BUNDLE" tty-f
	berth start tty-f
	run python3 "$BATS_TEST_DIRNAME/ptyrun.py" "$BERTH" --root "$STATE_ROOT" exec -t tty-f sh -c 'tty; stty size; exit 6'
	echo "$output"
	[ "$status" -eq 6 ]
	[[ "$output" == *"/dev/pts/"* ]]
	[[ "$output" == *"33 97\r\n"* ]]
	# keystrokes reach the container's terminal
	PTY_INPUT=$'hello\r' run python3 "$BATS_TEST_DIRNAME/ptyrun.py" "$BERTH" --root "$STATE_ROOT" exec -t tty-f sh -c 'echo ready; read x; echo "got-$x"'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"got-hello"* ]]
}

@test "tty-onlcr: a foreground run or exec with a terminal writes lines ending in \\n, as runc's (ONLCR cleared)" {
	update_config '.process.terminal = true'
	set_args sh -c 'echo one; echo two'
	run berth run --bundle "$BUNDLE" tty-nl
	[ "$status" -eq 0 ]
	[ "$(od -An -c "$TEST_TMP/berth.out" | tr -s ' ')" = " o n e \n t w o \n" ]
	update_config '.process.terminal = false'
	set_args sleep 1000
	berth run -d --bundle "$BUNDLE" tty-nl-e
	run berth exec -t tty-nl-e sh -c 'echo three; echo four'
	[ "$status" -eq 0 ]
	[ "$(od -An -c "$TEST_TMP/berth.out" | tr -s ' ')" = " t h r e e \n f o u r \n" ]
	# a --console-socket client gets the pty as the kernel makes it (runc
	# clears ONLCR only for the terminal it relays itself)
	start_recvtty
	berth exec -t -d --console-socket "$TEST_TMP/tty.sock" tty-nl-e sh -c 'stty -a | grep -o -- "-*onlcr"'
	run wait_recvtty
	[[ "$output" == *onlcr* ]]
	[[ "$output" != *-onlcr* ]]
}

@test "tty-owner: the pty belongs to the process's user, for run and exec" {
	update_config '.process.terminal = true | .process.user = {uid: 1000, gid: 100}'
	set_args sh -c 'stat -c %u:%g $(tty)'
	run berth run --bundle "$BUNDLE" tty-own1
	echo "$output"
	[ "$status" -eq 0 ]
	# gid 5: the group the default config's devpts mount gives every pty
	[ "$output" = 1000:5 ]
	# without a gid= on devpts, the process's group
	update_config '(.mounts[] | select(.destination == "/dev/pts") | .options) -= ["gid=5"]'
	run berth run --bundle "$BUNDLE" tty-own2
	echo "$output"
	[ "$output" = 1000:100 ]
	update_config '.process.terminal = false | .process.user = {uid: 0, gid: 0}'
	set_args sleep 1000
	berth run -d --bundle "$BUNDLE" tty-own3
	run berth exec -t --user 1001:1002 tty-own3 sh -c 'stat -c %u:%g $(tty)'
	echo "$output"
	[ "$output" = 1001:1002 ]
	run berth exec -t tty-own3 sh -c 'stat -c %u:%g $(tty)'
	[ "$output" = 0:0 ]
}

@test "tty-stdio-owner: exec --user gives the caller's stdio file to the user (its uid only, as runc), and leaves /dev/null as it is" {
	berth run -d --bundle "$BUNDLE" tty-stdio
	touch "$TEST_TMP/out"
	null=$(stat -c %u:%g /dev/null)
	"$BERTH" --root "$STATE_ROOT" exec --user 1000:1000 tty-stdio sh -c 'echo x' </dev/null >"$TEST_TMP/out" 2>/dev/null
	[ "$(cat "$TEST_TMP/out")" = x ]
	[ "$(stat -c %u:%g "$TEST_TMP/out")" = 1000:0 ]
	[ "$(stat -c %u:%g /dev/null)" = "$null" ]
}
