#!/usr/bin/env bats
# NOTIFY_SOCKET: the sd_notify relay, as runc has it. A runtime started
# with systemd's notify socket in its environment (a Type=notify unit,
# podman --sdnotify=container) binds a directory of the container's state
# at /run/notify, points the container's NOTIFY_SOCKET there, and passes
# the container's READY= on to the host's socket with init as MAINPID;
# `run -d` and `start` return once it came, or once init is gone. The
# host's end is tests/cmd/sdnotify (listen), and so is the container's
# (send, copied into the rootfs).

load helpers

setup() {
	setup_bundle
	cp "$TESTBIN/sdnotify" "$BUNDLE/rootfs/bin/"
	HOST_SOCK=$TEST_TMP/host.sock
	"$TESTBIN/sdnotify" listen -ready "$TEST_TMP/listening" "$HOST_SOCK" "$TEST_TMP/host.out" &
	LISTENER=$!
	for _ in $(seq 100); do
		[ -e "$TEST_TMP/listening" ] && break
		sleep 0.05
	done
	[ -e "$TEST_TMP/listening" ]
}

teardown() {
	kill "$LISTENER" 2>/dev/null || true
	teardown_bundle
}

# host_got LINE: the host's socket got LINE, within 10 s.
host_got() {
	for _ in $(seq 200); do
		grep -qxF -- "$1" "$TEST_TMP/host.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "host got:" >&2
	cat "$TEST_TMP/host.out" >&2
	return 1
}

@test "sdn-run: run -d returns once the container is ready, and the host learns it with init as MAINPID" {
	set_args sh -c 'echo "$NOTIFY_SOCKET" >/dev/shm/env; grep " /run/notify " /proc/self/mounts >/dev/shm/mnt;
		sleep 1; sdnotify send STATUS=starting; touch /dev/shm/sent; sdnotify send "READY=1"; sleep 1000'
	NOTIFY_SOCKET=$HOST_SOCK berth run -d --bundle "$BUNDLE" sdn-run </dev/null >/dev/null 2>&1
	# Back only once READY=1 was sent (the STATUS before it is not passed on).
	run berth exec sdn-run cat /dev/shm/sent /dev/shm/env /dev/shm/mnt
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /run/notify/notify.sock ]
	[[ "${lines[1]}" == *" /run/notify "*" ro,nosuid,nodev,noexec"* ]]
	pid=$(init_pid sdn-run)
	host_got "MAINPID=$pid"
	host_got "READY=1"
	host_got "BARRIER=1"
	! grep -q STATUS "$TEST_TMP/host.out" || false
	# The relay's directory is the state's, read-only in the container.
	run berth exec sdn-run touch /run/notify/x
	[ "$status" -ne 0 ]
}

@test "sdn-start: start waits for the created container's readiness; a container that never says so does not hold start" {
	set_args sh -c 'sleep 1; touch /dev/shm/sent; sdnotify send "READY=1"; sleep 1000'
	NOTIFY_SOCKET=$HOST_SOCK berth create --bundle "$BUNDLE" sdn-start </dev/null >/dev/null 2>&1
	NOTIFY_SOCKET=$HOST_SOCK berth start sdn-start
	run berth exec sdn-start ls /dev/shm/sent
	[ "$status" -eq 0 ]
	host_got "MAINPID=$(init_pid sdn-start)"
	host_got "READY=1"

	# init exits without READY: start returns (bounded here), nothing sent.
	: >"$TEST_TMP/host.out"
	set_args sh -c 'sleep 0.5; exit 3'
	NOTIFY_SOCKET=$HOST_SOCK berth create --bundle "$BUNDLE" sdn-never </dev/null >/dev/null 2>&1
	run timeout 30 env NOTIFY_SOCKET="$HOST_SOCK" "$BERTH" --root "$STATE_ROOT" start sdn-never
	[ "$status" -eq 0 ]
	[ ! -s "$TEST_TMP/host.out" ]

	# Created without NOTIFY_SOCKET: start with it warns and just starts.
	set_args true
	berth create --bundle "$BUNDLE" sdn-plain </dev/null >/dev/null 2>&1
	run env NOTIFY_SOCKET="$HOST_SOCK" "$BERTH" --root "$STATE_ROOT" start sdn-plain
	[ "$status" -eq 0 ]
	[[ "$output" == *"was created without it: no sd_notify relay"* ]]
}

@test "sdn-fg: a foreground run passes on a readiness sent just before init exits, and returns init's status" {
	set_args sh -c 'sdnotify send "READY=1"; exit 4'
	run timeout 30 env NOTIFY_SOCKET="$HOST_SOCK" "$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" sdn-fg </dev/null
	[ "$status" -eq 4 ]
	host_got "READY=1"
	grep -q '^MAINPID=[0-9]' "$TEST_TMP/host.out"
}

@test "sdn-none: without NOTIFY_SOCKET the config is as written" {
	set_args sh -c 'echo "env=${NOTIFY_SOCKET:-}"; grep -c " /run/notify " /proc/self/mounts'
	run berth run --bundle "$BUNDLE" sdn-none </dev/null
	[ "${lines[0]}" = "env=" ]
	[ "${lines[1]}" = 0 ]
	[ ! -s "$TEST_TMP/host.out" ]
}

# Without a mount namespace the relay's bind is made under the rootfs in
# the caller's namespace (rootfs.HostTree), as runc binds it there, and
# delete removes it. In a mount namespace of the test's own, whose
# mountinfo must be as before. Shown failing on the build that gave such
# a container no relay ("no sd_notify relay", env empty).
@test "sdn-nomnt: a container without a mount namespace gets the relay too, its bind gone with delete" {
	update_config '.linux.namespaces -= [{"type": "mount"}] | .linux.maskedPaths = [] | .linux.readonlyPaths = [] | .root.readonly = false'
	set_args sh -c 'echo "env=${NOTIFY_SOCKET:-}" >/tmp/env; sdnotify send "READY=1"; sleep 1000'
	mkdir -p "$BUNDLE/rootfs/tmp"
	cat >"$TEST_TMP/inns.sh" <<-'EOS'
		set -u
		before=$(cat /proc/self/mountinfo)
		NOTIFY_SOCKET=$HOST_SOCK "$BERTH" --root "$STATE_ROOT" run -d --bundle "$BUNDLE" sdn-nomnt </dev/null 2>&1
		echo "rc=$?"
		cat "$BUNDLE/rootfs/tmp/env"
		echo "binds: $(grep -c " $BUNDLE/rootfs/run/notify " /proc/self/mountinfo)"
		"$BERTH" --root "$STATE_ROOT" delete --force sdn-nomnt
		[ "$before" = "$(cat /proc/self/mountinfo)" ] && echo UNCHANGED || echo CHANGED
	EOS
	run env BERTH="$BERTH" STATE_ROOT="$STATE_ROOT" BUNDLE="$BUNDLE" HOST_SOCK="$HOST_SOCK" \
		timeout 60 unshare -m --propagation private bash "$TEST_TMP/inns.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"no sd_notify relay"* ]]
	[[ "$output" == *"rc=0"* ]]
	[[ "$output" == *"env=/run/notify/notify.sock"* ]]
	[[ "$output" == *"binds: 1"* ]]
	[[ "$output" == *UNCHANGED* ]]
	host_got "READY=1"
}
