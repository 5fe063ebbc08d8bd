#!/usr/bin/env bats
# berth checkpoint / restore with CRIU 4.2, built once from the project's
# shared/criu (tests/criu/build.sh). The containers' stdio are pipes, as
# under containerd's shim, Podman's conmon and runc's own tests: CRIU
# cannot dump a host file or the host's /dev/null as stdio, and restore
# hands the pipes over to its own stdio (runc's descriptors.json).

load helpers

setup_file() {
	CRIU=$("$BATS_TEST_DIRNAME/../criu/build.sh")
	export CRIU
}

setup() {
	setup_bundle
	IMG=$TEST_TMP/img
	# A counter kept in the shell's memory: after a restore it goes on
	# from where it was, where a restart would begin at 1 again.
	set_args sh -c 'i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done'
}

teardown() {
	teardown_bundle
	# Namespace holders: `unshare --fork` ignores SIGTERM while it waits,
	# and its child is pid 1 of its own namespace: both get SIGKILL.
	local pid
	for pid in "${HOLDER_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	# Reap the shell's own job quietly (bash reports "Killed" otherwise).
	wait "${HOLDER_PIDS[@]}" 2>/dev/null || true
}

# bcriu runs berth with the test's root and the built criu, stdio in files.
bcriu() { berth --criu "$CRIU" "$@"; }

# piped LOG ARGS...: runs berth ARGS with stdio pipes: stdin one at EOF,
# stdout and stderr one into LOG (a cat that ends when the last writer
# does; its pid goes to LOG.pid). The container inherits them.
piped() {
	local log=$1 rc=0
	shift
	"$BERTH" --root "$STATE_ROOT" --criu "$CRIU" "$@" < <(:) > >(cat >>"$log" 3>&-) 2>&1 || rc=$?
	echo $! >"$log.pid"
	return $rc
}

# wait_lines FILE N: until FILE has at least N lines.
wait_lines() {
	local deadline=$((SECONDS + 10))
	while [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
		[ $SECONDS -lt $deadline ] || { echo "$1 has fewer than $2 lines" >&2; cat "$1" >&2; return 1; }
		sleep 0.05
	done
}

# wait_reader LOG: until the cat behind LOG has read everything and ended.
wait_reader() {
	local pid deadline=$((SECONDS + 10))
	pid=$(cat "$1.pid")
	while kill -0 "$pid" 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || { echo "reader of $1 still running" >&2; return 1; }
		sleep 0.05
	done
}

# wait_gone PID: until the process has exited (a zombie counts).
wait_gone() {
	local deadline=$((SECONDS + 10))
	while [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || { echo "process $1 still there" >&2; return 1; }
		sleep 0.05
	done
}

@test "checkpoint: a counter in memory goes on after restore; state, exec, kill and delete work on it" {
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-count
	wait_lines "$TEST_TMP/log1" 3
	old=$(init_pid ck-count)
	run bcriu checkpoint --image-path "$IMG" ck-count
	[ "$status" -eq 0 ]
	[ -f "$IMG/inventory.img" ]
	[ -f "$IMG/descriptors.json" ]
	# Without --leave-running the container is gone, as under runc.
	run bcriu state ck-count
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
	wait_gone "$old"
	wait_reader "$TEST_TMP/log1"
	last=$(tail -n 1 "$TEST_TMP/log1")

	piped "$TEST_TMP/log2" restore -d --bundle "$BUNDLE" --image-path "$IMG" --pid-file "$TEST_TMP/pid" ck-count
	wait_lines "$TEST_TMP/log2" 2
	[ "$(head -n 1 "$TEST_TMP/log2")" -eq $((last + 1)) ]
	[ "$(container_status ck-count)" = running ]
	pid=$(init_pid ck-count)
	[ "$(cat "$TEST_TMP/pid")" = "$pid" ]
	# exec joins the restored namespaces (pid: init is 1 there) and cgroup.
	run bcriu exec ck-count sh -c 'echo $$ > /dev/null; cat /proc/1/cmdline | tr "\0" " "'
	[ "$status" -eq 0 ]
	[[ "$output" == "sh -c i=0;"* ]]
	grep -qx "$pid" "$(cgroup_path pids ck-count)/cgroup.procs"
	run bcriu kill ck-count KILL
	[ "$status" -eq 0 ]
	wait_status ck-count stopped
	run bcriu delete ck-count
	[ "$status" -eq 0 ]
	[ ! -d "$(dirname "$STATE_ROOT/ck-count/x")" ]
}

@test "checkpoint --leave-running: the container goes on, and the checkpoint restores as a new container" {
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-leave
	wait_lines "$TEST_TMP/log1" 3
	pid=$(init_pid ck-leave)
	run bcriu checkpoint --leave-running --image-path "$IMG" --work-path "$TEST_TMP/work" ck-leave
	[ "$status" -eq 0 ]
	[ -f "$TEST_TMP/work/dump.log" ]
	[ "$(container_status ck-leave)" = running ]
	[ "$(init_pid ck-leave)" = "$pid" ]
	n=$(wc -l <"$TEST_TMP/log1")
	wait_lines "$TEST_TMP/log1" $((n + 2))

	piped "$TEST_TMP/log2" restore -d --bundle "$BUNDLE" --image-path "$IMG" ck-leave-copy
	wait_lines "$TEST_TMP/log2" 1
	first=$(head -n 1 "$TEST_TMP/log2")
	# The copy goes on from the checkpoint, as the original did.
	grep -qx $((first - 1)) "$TEST_TMP/log1"
	grep -qx "$first" "$TEST_TMP/log1"
	[ "$(container_status ck-leave)" = running ]
	[ "$(container_status ck-leave-copy)" = running ]
	[ "$(init_pid ck-leave-copy)" != "$pid" ]
	# Each in its own cgroup, made for its ID.
	[[ "$(cgroup_path memory ck-leave-copy)" == */ck-leave-copy ]]
	grep -qx "$(init_pid ck-leave-copy)" "$(cgroup_path memory ck-leave-copy)/cgroup.procs"
	run bcriu delete --force ck-leave-copy
	[ "$status" -eq 0 ]
	[ ! -d "$(cgroup_path memory ck-leave 2>/dev/null | sed 's/ck-leave$/ck-leave-copy/')" ]
}

@test "checkpoint: a bind mount, a tmpfs and the container's own network namespace are restored" {
	mkdir "$TEST_TMP/data"
	echo from-host >"$TEST_TMP/data/in"
	update_config --arg d "$TEST_TMP/data" '.mounts += [
		{"destination": "/data", "type": "bind", "source": $d, "options": ["rbind", "rw"]},
		{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m"]}]'
	set_args sh -c 'echo in-memory > /scratch/f; while true; do sleep 0.1; done'
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-mounts
	# run -d returns once the process runs, not once it has written:
	# poll with a deadline (10 s).
	for _ in $(seq 100); do
		run bcriu exec ck-mounts cat /scratch/f
		[ "$output" = in-memory ] && break
		sleep 0.1
	done
	[ "$output" = in-memory ]
	# The dumped container's network namespace, held open (by a process of
	# the test's, not inherited by berth and CRIU) so that the kernel
	# cannot give its inode number to the restored one's.
	netns=$(readlink "/proc/$(init_pid ck-mounts)/ns/net")
	sleep 120 9<"/proc/$(init_pid ck-mounts)/ns/net" >/dev/null 2>&1 </dev/null &
	holder=$!
	run bcriu checkpoint --image-path "$IMG" ck-mounts
	[ "$status" -eq 0 ]
	piped "$TEST_TMP/log2" restore -d --bundle "$BUNDLE" --image-path "$IMG" ck-mounts
	# The tmpfs's content came back from the images.
	run bcriu exec ck-mounts cat /scratch/f
	[ "$status" -eq 0 ]
	[ "$output" = in-memory ]
	# The bind mount is the host's directory again, both ways.
	run bcriu exec ck-mounts sh -c 'cat /data/in; echo from-container > /data/out'
	[ "$output" = from-host ]
	[ "$(cat "$TEST_TMP/data/out")" = from-container ]
	# A network namespace of its own (a new one: as runc, berth leaves
	# network devices to whoever set them up), with its loopback device.
	pid=$(init_pid ck-mounts)
	[ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ]
	[ "$(readlink "/proc/$pid/ns/net")" != "$netns" ]
	kill "$holder"
	run bcriu exec ck-mounts cat /proc/net/dev
	[[ "$output" == *"lo:"* ]]
}

@test "checkpoint: a bind whose destination is a symlink is named where it is mounted; one CRIU cannot name is refused and the container goes on (runc's checkpoint.bats)" {
	mkdir -p "$BUNDLE/rootfs/real/conf" "$TEST_TMP/src"
	echo conf-data >"$TEST_TMP/src/f"
	ln -s /real/conf "$BUNDLE/rootfs/conf"
	update_config --arg s "$TEST_TMP/src" '.mounts += [{"source": $s, "destination": "/conf", "options": ["bind"]}]'
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-symdest
	wait_lines "$TEST_TMP/log1" 2
	run bcriu checkpoint --image-path "$IMG" ck-symdest
	echo "$output"
	[ "$status" -eq 0 ]
	wait_reader "$TEST_TMP/log1"
	piped "$TEST_TMP/log2" restore -d --bundle "$BUNDLE" --image-path "$IMG" ck-symdest
	wait_lines "$TEST_TMP/log2" 2
	run bcriu exec ck-symdest cat /real/conf/f
	[ "$output" = conf-data ]
	bcriu kill ck-symdest KILL
	wait_status ck-symdest stopped
	bcriu delete ck-symdest

	# a mount point's parent renamed under it, and a symlink in its place
	# that CRIU cannot take as a key: refused, the container runs on
	update_config --arg s "$TEST_TMP/src" '.mounts[-1] = {"source": $s, "destination": "/a/data", "options": ["bind"]}'
	berth run -d --bundle "$BUNDLE" ck-badkey </dev/null >/dev/null 2>&1
	mv "$BUNDLE/rootfs/a" "$BUNDLE/rootfs/b"
	mkdir "$BUNDLE/rootfs/a"
	for target in "/b/data]:/name" "/"; do
		ln -sfn "$target" "$BUNDLE/rootfs/a/data"
		run bcriu checkpoint --image-path "$IMG-2" ck-badkey
		[ "$status" -ne 0 ]
		[[ "$output" == *"invalid external mount destination"* ]]
		[ "$(container_status ck-badkey)" = running ]
	done
}

@test "checkpoint: nested binds with sources relative to the bundle are restored, their mount points made again (runc's checkpoint.bats)" {
	mkdir "$BUNDLE/b1" "$BUNDLE/b2"
	echo nested >"$BUNDLE/b2/f"
	update_config '.mounts += [{"type": "bind", "source": "b1", "destination": "/test", "options": ["rw", "bind"]},
		{"type": "bind", "source": "b2", "destination": "/test/for/nested", "options": ["rw", "bind"]}]'
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-nested
	wait_lines "$TEST_TMP/log1" 2
	run bcriu checkpoint --image-path "$IMG" ck-nested
	[ "$status" -eq 0 ]
	wait_reader "$TEST_TMP/log1"
	# the mount point inside the first bind's source is gone
	rm -rf "$BUNDLE/b1/for"
	cd "$TEST_TMP"
	piped "$TEST_TMP/log2" restore -d --bundle "$BUNDLE" --image-path "$IMG" ck-nested || { cat "$TEST_TMP/log2"; false; }
	wait_lines "$TEST_TMP/log2" 2
	run bcriu exec ck-nested cat /test/for/nested/f
	[ "$output" = nested ]
}

@test "checkpoint: cgroup limits from the config are in place after restore" {
	update_config '.linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 99}}'
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-limits
	run bcriu checkpoint --image-path "$IMG" ck-limits
	[ "$status" -eq 0 ]
	piped "$TEST_TMP/log2" restore -d --bundle "$BUNDLE" --image-path "$IMG" ck-limits-2
	pid=$(init_pid ck-limits-2)
	mem=$(cgroup_path memory ck-limits-2)
	pids=$(cgroup_path pids ck-limits-2)
	[ "$(cat "$mem/memory.limit_in_bytes")" = 67108864 ]
	[ "$(cat "$pids/pids.max")" = 99 ]
	grep -qx "$pid" "$mem/cgroup.procs"
	grep -qx "$pid" "$pids/cgroup.procs"
	# and the container sees its own cgroup as its root
	run bcriu exec ck-limits-2 cat /sys/fs/cgroup/memory/memory.limit_in_bytes
	[ "$output" = 67108864 ]
}

@test "restore without --detach waits for the container and exits with its status" {
	set_args sh -c 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo $i; sleep 0.1; done; exit 7'
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-wait
	wait_lines "$TEST_TMP/log1" 2
	run bcriu checkpoint --image-path "$IMG" ck-wait
	[ "$status" -eq 0 ]
	rc=0
	piped "$TEST_TMP/log2" restore --bundle "$BUNDLE" --image-path "$IMG" ck-wait || rc=$?
	[ "$rc" -eq 7 ]
	[ "$(tail -n 1 "$TEST_TMP/log2")" = 40 ]
	# and the container is deleted, as after run
	run bcriu state ck-wait
	[ "$status" -ne 0 ]
}

@test "checkpoint of a paused container (containerd's pause, checkpoint --leave-running, resume)" {
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-paused
	wait_lines "$TEST_TMP/log1" 2
	run bcriu pause ck-paused
	[ "$status" -eq 0 ]
	run bcriu checkpoint --leave-running --image-path "$IMG" ck-paused
	[ "$status" -eq 0 ]
	[ "$(container_status ck-paused)" = paused ]
	run bcriu resume ck-paused
	[ "$status" -eq 0 ]
	n=$(wc -l <"$TEST_TMP/log1")
	wait_lines "$TEST_TMP/log1" $((n + 2))
}

@test "checkpoint: errors are clear and change nothing" {
	run berth --criu /nonexistent/criu checkpoint --image-path "$IMG" ck-none
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not exist"* ]]
	run berth create --bundle "$BUNDLE" ck-err
	[ "$status" -eq 0 ]
	run bcriu checkpoint --image-path "$IMG" ck-err
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot be checkpointed in created state"* ]]
	run bcriu delete ck-err
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-err
	pid=$(init_pid ck-err)
	run berth --criu /nonexistent/criu checkpoint --image-path "$IMG" ck-err
	[ "$status" -ne 0 ]
	[[ "$output" == *"criu not found"*"--criu"* ]]
	for bad in "--manage-cgroups-mode bogus:invalid --manage-cgroups-mode" "--empty-ns ipc:is supported" \
		"--page-server nohost:want ADDRESS:PORT" "--parent-path /abs:must be relative" \
		"--pre-dump --leave-running:always leaves the container running" "--status-fd 5:only used with --lazy-pages"; do
		# shellcheck disable=SC2086
		run bcriu checkpoint --image-path "$IMG" ${bad%%:*} ck-err
		echo "$bad -> $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"${bad#*:}"* ]]
	done
	# This kernel has no soft-dirty tracking: no pre-dump.
	run bcriu checkpoint --pre-dump --image-path "$IMG" ck-err
	[ "$status" -ne 0 ]
	[[ "$output" == *"memory tracking"*"soft-dirty"* ]]
	[ "$(container_status ck-err)" = running ]
	[ "$(init_pid ck-err)" = "$pid" ]
	run bcriu kill ck-err KILL
	wait_status ck-err stopped
	run bcriu checkpoint --image-path "$IMG" ck-err
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot be checkpointed in stopped state"* ]]
}

@test "checkpoint with a criu that cannot work on this kernel says so" {
	old_criu=$("$BATS_TEST_DIRNAME/../criu/debian-criu.sh")
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-oldcriu
	run berth --criu "$old_criu" checkpoint --image-path "$IMG" ck-oldcriu
	[ "$status" -ne 0 ]
	[[ "$output" == *"criu dump failed"*"this criu cannot checkpoint on this kernel"* ]]
	[ "${#lines[@]}" -eq 1 ]
	# and the container is left running
	[ "$(container_status ck-oldcriu)" = running ]
	[ "$("$BERTH" --criu "$old_criu" features | jq -r '.annotations["org.berth-runtime.berth.checkpoint.enabled"]')" = false ]
	[ "$("$BERTH" --criu "$CRIU" features | jq -r '.annotations["org.berth-runtime.berth.checkpoint.enabled"]')" = true ]
	[ "$("$BERTH" --criu /nonexistent/criu features | jq -r '.annotations["org.berth-runtime.berth.checkpoint.enabled"]')" = false ]
}

@test "restore: errors are clear and leave no container, cgroup or state" {
	mkdir "$IMG"
	run bcriu restore -d --bundle "$BUNDLE" --image-path "$IMG" ck-rerr
	[ "$status" -ne 0 ]
	[[ "$output" == *"holds no checkpoint"* ]]
	run bcriu restore -d --bundle "$BUNDLE" --image-path "$TEST_TMP/missing" ck-rerr
	[ "$status" -ne 0 ]
	[[ "$output" == *"image directory"*"no such file"* ]]
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-rerr
	run bcriu checkpoint --leave-running --image-path "$IMG" ck-rerr
	[ "$status" -eq 0 ]
	# The ID is taken: the running container is left alone.
	run bcriu restore -d --bundle "$BUNDLE" --image-path "$IMG" ck-rerr
	[ "$status" -ne 0 ]
	[[ "$output" == *"already exists"* ]]
	[ "$(container_status ck-rerr)" = running ]
	run bcriu restore -d --bundle "$BUNDLE" --image-path "$IMG" --console-socket "$TEST_TMP/nosock" ck-rerr2
	[ "$status" -ne 0 ]
	run bcriu restore -d --bundle "$BUNDLE" --image-path "$IMG" --empty-ns pid ck-rerr2
	[ "$status" -ne 0 ]
	[[ "$output" == *"--empty-ns"*"pid"*"only"*"network"*"is supported"* ]]
	# CRIU itself fails: a bind mount whose source is gone on the host.
	mkdir "$TEST_TMP/data"
	update_config --arg d "$TEST_TMP/data" '.mounts += [{"destination": "/data", "type": "bind", "source": $d, "options": ["rbind"]}]'
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-rerr3
	run bcriu checkpoint --image-path "$TEST_TMP/img3" ck-rerr3
	[ "$status" -eq 0 ]
	rmdir "$TEST_TMP/data"
	run bcriu restore -d --bundle "$BUNDLE" --image-path "$TEST_TMP/img3" ck-rerr3
	[ "$status" -ne 0 ]
	[[ "$output" == *"criu restore failed"*"log: $TEST_TMP/img3/restore.log"* ]]
	[ "${#lines[@]}" -eq 1 ]
	run bcriu state ck-rerr3
	[[ "$output" == *"does not exist"* ]]
	[ ! -e "$STATE_ROOT/ck-rerr3" ]
	for d in /sys/fs/cgroup/*/berth/ck-rerr3; do
		[ ! -d "$d" ]
	done
}

# recvtty SOCK OUT: a console-socket receiver relaying one terminal to OUT.
recvtty() {
	"$TESTBIN/recvtty" -mode single -no-stdin "$1" >"$2" 2>&1 3>&- &
	for _ in $(seq 100); do [ -S "$1" ] && break; sleep 0.05; done
}

@test "checkpoint of a terminal container: restore sends a new pty master to --console-socket" {
	update_config '.process.terminal = true'
	recvtty "$TEST_TMP/tty1.sock" "$TEST_TMP/tty1.out"
	run bcriu run -d --console-socket "$TEST_TMP/tty1.sock" --bundle "$BUNDLE" ck-tty
	[ "$status" -eq 0 ]
	wait_lines "$TEST_TMP/tty1.out" 3
	run bcriu checkpoint --image-path "$IMG" ck-tty
	[ "$status" -eq 0 ]
	recvtty "$TEST_TMP/tty2.sock" "$TEST_TMP/tty2.out"
	run bcriu restore -d --console-socket "$TEST_TMP/tty2.sock" --bundle "$BUNDLE" --image-path "$IMG" ck-tty
	[ "$status" -eq 0 ]
	wait_lines "$TEST_TMP/tty2.out" 2
	first=$(head -n 1 "$TEST_TMP/tty2.out" | tr -d '\r')
	grep -qx "$((first - 1))"$'\r' "$TEST_TMP/tty1.out"
	# without a console socket a terminal container cannot be restored
	run bcriu restore -d --bundle "$BUNDLE" --image-path "$IMG" ck-tty2
	[ "$status" -ne 0 ]
	[[ "$output" == *"no console socket"* ]]
}

@test "checkpoint: namespaces joined by path are external (network) or joined again (uts) at restore" {
	unshare --net --uts --pid --fork --mount-proc sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	holder=$!
	HOLDER_PIDS+=("$holder")
	for _ in $(seq 100); do
		child=$(pgrep -P "$holder" sleep) && [ -n "$child" ] && break
		sleep 0.05
	done
	[ -n "$child" ]
	HOLDER_PIDS+=("$child")
	update_config --arg n "/proc/$child/ns/net" --arg u "/proc/$child/ns/uts" '.linux.namespaces |= map(
		if .type == "network" then .path = $n elif .type == "uts" then .path = $u else . end)
		| del(.hostname)'
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-joined
	wait_lines "$TEST_TMP/log1" 2
	run bcriu checkpoint --image-path "$IMG" ck-joined
	[ "$status" -eq 0 ]
	piped "$TEST_TMP/log2" restore -d --bundle "$BUNDLE" --image-path "$IMG" ck-joined
	pid=$(init_pid ck-joined)
	[ "$(readlink "/proc/$pid/ns/net")" = "$(readlink "/proc/$child/ns/net")" ]
	[ "$(readlink "/proc/$pid/ns/uts")" = "$(readlink "/proc/$child/ns/uts")" ]
	wait_lines "$TEST_TMP/log2" 1
}

@test "restore runs the prestart and createRuntime hooks with the restored init's pid" {
	update_config --arg f "$TEST_TMP/hooks" '.hooks = {
		"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "echo prestart $(jq .pid) >> \($f)"]}],
		"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo createRuntime $(jq .pid) >> \($f)"]}]}'
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-hooks || { cat "$TEST_TMP/log1"; false; }
	run bcriu checkpoint --image-path "$IMG" ck-hooks
	[ "$status" -eq 0 ]
	: >"$TEST_TMP/hooks"
	piped "$TEST_TMP/log2" restore -d --bundle "$BUNDLE" --image-path "$IMG" ck-hooks
	pid=$(init_pid ck-hooks)
	cat "$TEST_TMP/hooks"
	[ "$(cat "$TEST_TMP/hooks")" = "prestart $pid
createRuntime $pid" ]
}

@test "checkpoint: stdio on host files (the host's /dev/null, a log file) is handed over at restore" {
	# Stdin the host's /dev/null and stdout a file of the host: CRIU
	# cannot dump those as the container's own files.
	"$BERTH" --root "$STATE_ROOT" run -d --bundle "$BUNDLE" ck-files </dev/null >>"$TEST_TMP/out" 2>&1
	wait_lines "$TEST_TMP/out" 3
	run bcriu checkpoint --image-path "$IMG" ck-files
	[ "$status" -eq 0 ]
	grep -q '"file\[' "$IMG/descriptors.json"
	last=$(tail -n 1 "$TEST_TMP/out")
	# CRIU checks that a file is the one dumped (its size): the log
	# file goes on, appended to.
	"$BERTH" --root "$STATE_ROOT" --criu "$CRIU" restore -d --bundle "$BUNDLE" --image-path "$IMG" ck-files </dev/null >>"$TEST_TMP/out" 2>&1 || { cat "$TEST_TMP/out"; false; }
	wait_lines "$TEST_TMP/out" $((last + 2))
	grep -qx "$last" "$TEST_TMP/out"
	grep -qx $((last + 1)) "$TEST_TMP/out"
	[ "$(grep -cx 1 "$TEST_TMP/out")" -eq 1 ]
	[ "$(readlink "/proc/$(init_pid ck-files)/fd/0")" = /dev/null ]
}

@test "checkpoint and restore take every runc option (CRIU's defaults for this container)" {
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-opts
	wait_lines "$TEST_TMP/log1" 2
	run bcriu checkpoint --leave-running --tcp-established --tcp-skip-in-flight --link-remap --ext-unix-sk --shell-job \
		--file-locks --auto-dedup --manage-cgroups-mode soft --empty-ns network --image-path "$IMG" \
		--work-path "$TEST_TMP/work" ck-opts
	[ "$status" -eq 0 ]
	# (restore --shell-job: CRIU gives the process restore's own
	# terminal, which this restore, on pipes, has not)
	piped "$TEST_TMP/log2" restore -d --tcp-established --ext-unix-sk --file-locks --auto-dedup \
		--manage-cgroups-mode full --empty-ns network --no-pivot --no-subreaper \
		--bundle "$BUNDLE" --image-path "$IMG" --work-path "$TEST_TMP/work" ck-opts-2 || { cat "$TEST_TMP/log2"; false; }
	wait_lines "$TEST_TMP/log2" 1
	[ "$(container_status ck-opts-2)" = running ]
	# CRIU's logs say it did
	grep -q 'Dumping finished successfully' "$TEST_TMP/work/dump.log"
	grep -q 'Restore finished successfully' "$TEST_TMP/work/restore.log"
}

@test "checkpoint --link-remap: a file open by a removed name (another link left) is dumped; without it CRIU refuses" {
	update_config '.root.readonly = false'
	# fd 3 is open by /lr-a, which is gone; its inode lives on as /lr-b.
	# Each "go" file makes the shell print what fd 3 reads.
	set_args sh -c 'echo linked > /lr-a; ln /lr-a /lr-b; exec 3</lr-a; rm /lr-a; echo ready
		while true; do if [ -e /go ]; then rm /go; cat <&3; echo read; fi; sleep 0.05; done'
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-lr
	wait_lines "$TEST_TMP/log1" 1
	run bcriu checkpoint --leave-running --image-path "$IMG" --work-path "$TEST_TMP/work" ck-lr
	[ "$status" -ne 0 ]
	# berth's error carries CRIU's reason
	[[ "$output" == *"Can't create link remap for /lr-a. Use link-remap option."* ]]
	[ "$(container_status ck-lr)" = running ]

	rm -rf "$IMG" "$TEST_TMP/work"
	run bcriu checkpoint --link-remap --image-path "$IMG" --work-path "$TEST_TMP/work" ck-lr
	[ "$status" -eq 0 ] || { cat "$TEST_TMP/work/dump.log" | tail -20; false; }
	wait_reader "$TEST_TMP/log1"
	piped "$TEST_TMP/log2" restore -d --bundle "$BUNDLE" --image-path "$IMG" --work-path "$TEST_TMP/work" ck-lr
	[ "$(container_status ck-lr)" = running ]
	touch "$BUNDLE/rootfs/go"
	wait_lines "$TEST_TMP/log2" 2
	[ "$(head -n 2 "$TEST_TMP/log2")" = "$(printf 'linked\nread')" ]
	# The restored fd is the same inode as /lr-b, and the name CRIU linked
	# at the dump (link_remap.N) is gone again.
	[ "$(stat -c %h "$BUNDLE/rootfs/lr-b")" -eq 1 ]
	[ -z "$(ls "$BUNDLE/rootfs" | grep link_remap)" ]
}

@test "restore killed midway: delete --force removes what it made (state, rootfs bind, cgroup)" {
	piped "$TEST_TMP/log1" run -d --bundle "$BUNDLE" ck-killed
	run bcriu checkpoint --image-path "$IMG" ck-killed
	[ "$status" -eq 0 ]
	# A prestart hook (run while CRIU waits, the rootfs bound for it)
	# that never ends: the restore is killed there.
	update_config --arg f "$TEST_TMP/hook.pid" '.hooks = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "echo $$ > \($f); exec sleep 1000"]}]}'
	"$BERTH" --root "$STATE_ROOT" --criu "$CRIU" restore -d --bundle "$BUNDLE" --image-path "$IMG" ck-killed \
		< <(:) >"$TEST_TMP/restore.out" 2>&1 3>&- &
	restore=$!
	for _ in $(seq 200); do [ -s "$TEST_TMP/hook.pid" ] && break; sleep 0.05; done
	[ -s "$TEST_TMP/hook.pid" ]
	grep -q " $STATE_ROOT/ck-killed/criu-root " /proc/self/mounts
	kill -9 "$restore"
	kill -9 "$(cat "$TEST_TMP/hook.pid")"
	wait "$restore" || true
	run bcriu delete --force ck-killed
	[ "$status" -eq 0 ]
	[ ! -e "$STATE_ROOT/ck-killed" ]
	# unmounted first, not emptied through the bind
	[ -x "$BUNDLE/rootfs/bin/sh" ]
	! grep -q "$STATE_ROOT/ck-killed" /proc/self/mounts || false
	for d in /sys/fs/cgroup/*/berth/ck-killed; do
		[ ! -d "$d" ]
	done
}
