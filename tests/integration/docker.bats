#!/usr/bin/env bats
# Docker (Debian's docker.io) with berth added as the runtime "berth". The
# daemon is private (tests/clients/dockerd.sh: own data-root, exec-root,
# socket and network namespace) and stopped by PID when the file ends. The
# busybox image is built offline and loaded with `docker load`.

load helpers
bats_require_minimum_version 1.5.0

IMAGE=busybox:berth

setup_file() {
	DK_DIR=$(mktemp -d /tmp/berth-docker.XXXXXX)
	export DK_DIR
	"$REPO/tests/clients/mkimage.sh" "$ROOTFS_SRC" "docker.io/library/$IMAGE" "$DK_DIR/busybox.tar"
	DK_PID=$("$REPO/tests/clients/dockerd.sh" "$DK_DIR" "$BERTH" 3>&-)
	export DK_PID
	/usr/bin/docker -H "unix://$DK_DIR/docker.sock" load -i "$DK_DIR/busybox.tar"
}

teardown_file() {
	if [ -n "${DK_PID:-}" ]; then
		ids=$(/usr/bin/docker -H "unix://$DK_DIR/docker.sock" ps -aq 2>/dev/null || true)
		[ -z "$ids" ] || /usr/bin/docker -H "unix://$DK_DIR/docker.sock" rm -f $ids >/dev/null 2>&1 || true
		kill "$DK_PID" 2>/dev/null || true
		for _ in $(seq 150); do kill -0 "$DK_PID" 2>/dev/null || break; sleep 0.1; done
	fi
	remove_tree "$DK_DIR"
	remove_cgroup_parents berth-docker
}

setup() { TEST_TMP=$(mktemp -d /tmp/berth-test.XXXXXX); }

teardown() {
	ids=$(dk ps -aq 2>/dev/null || true)
	[ -z "$ids" ] || dk rm -f $ids >/dev/null 2>&1 || true
	remove_tree "$TEST_TMP"
}

# dk runs the docker CLI on the private daemon, stdio through files.
dk() {
	local rc=0
	/usr/bin/docker -H "unix://$DK_DIR/docker.sock" "$@" >"$TEST_TMP/dk.out" 2>"$TEST_TMP/dk.err" </dev/null || rc=$?
	cat "$TEST_TMP/dk.out"
	cat "$TEST_TMP/dk.err" >&2
	return $rc
}

@test "docker: run --runtime berth prints output, exit status and gets the bridge network" {
	run dk run --rm --runtime berth "$IMAGE" sh -c 'echo hello from berth; ip -4 -o addr show eth0; cat /sys/class/net/eth0/mtu'
	[ "$status" -eq 0 ]
	[[ "$output" == *"hello from berth"* ]]
	# The daemon's --bip subnet and --mtu reach the container.
	[[ "$output" == *"inet 10.213.0."* ]]
	[ "${lines[-1]}" = 1400 ]
	run dk run --rm --runtime berth "$IMAGE" sh -c 'exit 3'
	[ "$status" -eq 3 ]
	# The runtime really was berth: docker records it.
	dk run -d --runtime berth --name docker-which "$IMAGE" sleep 1000
	[ "$(dk inspect -f '{{.HostConfig.Runtime}}' docker-which)" = berth ]
	[ -d "$DK_DIR/exec/runtime-berth/moby" ] || [ -d "$DK_DIR/exec/runtime-runc/moby" ]
	# dockerd's containerd writes what it leaves (a stack dump when it is
	# slow to stop) under the daemon's directory, not in /tmp.
	ctd=$(pgrep -x -P "$DK_PID" containerd)
	tr '\0' '\n' <"/proc/$ctd/environ" | grep -qx "TMPDIR=$DK_DIR/tmp"
}

@test "docker: the container looks the same under berth as under runc" {
	probe='id; hostname | wc -c; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; ls /dev; cat /proc/self/cgroup | wc -l; mount | grep -E " (/|/proc|/sys|/dev) " | cut -d" " -f1-5'
	run dk run --rm --runtime berth "$IMAGE" sh -c "$probe"
	[ "$status" -eq 0 ]
	berth_out=$output
	run dk run --rm --runtime runc "$IMAGE" sh -c "$probe"
	[ "$status" -eq 0 ]
	diff <(echo "$berth_out") <(echo "$output")
	# Docker's default profile is on (Seccomp: 2) without no_new_privs.
	[[ "$berth_out" == *"Seccomp:"*2* ]]
}

@test "docker: run's options give the same container under berth as under runc" {
	mkdir -p "$TEST_TMP/vol"
	echo data >"$TEST_TMP/vol/f"
	# One docker run option set per line, "@" a space inside an argument;
	# each set runs under both runtimes.
	local sets=(
		""
		# Refused by both on a machine whose root lacks a capability
		# (this VM: CAP_SYS_RESOURCE); compared where root has them all.
		"--privileged"
		# (no mode=: over an existing directory runc 1.1.5 chmods the tmpfs to
		# that directory's mode after mounting, over the option; berth, as
		# runc main, lets the option win)
		"--read-only --tmpfs /run:rw,size=1m"
		"--device /dev/null:/dev/mynull:rw --device-cgroup-rule=c@1:5@rwm"
		"--cap-drop ALL --cap-add CHOWN --cap-add NET_ADMIN"
		"--security-opt no-new-privileges --security-opt seccomp=unconfined"
		"--security-opt systempaths=unconfined"
		"--user 1000:1000 --group-add 5 --workdir /tmp"
		"--hostname foo.example --domainname example"
		"--ulimit nofile=100:200 --ulimit nproc=50:60 --oom-score-adj 100"
		"--memory 64m --memory-swap 128m --memory-swappiness 10 --pids-limit 50"
		"--cpus 0.5 --cpuset-cpus 0 --cpu-shares 512"
		"--sysctl net.ipv4.ip_forward=1 --sysctl kernel.shm_rmid_forced=1"
		"--ipc host"
		"--ipc private --shm-size 1m"
		"--pid host"
		"--network none"
		"--network host --uts host"
		"--init"
		"--cgroupns private"
		"--mount type=bind,src=$TEST_TMP/vol,dst=/mnt,readonly --mount type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=0700"
		"-v $TEST_TMP/vol:/vol:rw,rprivate -v $TEST_TMP/vol/f:/etc/extra:ro"
		"-t"
		"--user nobody --tmpfs /tmp:rw,exec,size=2m --cpu-period 50000 --cpu-quota 25000"
		# Namespaces joined by path: a running container's, as docker asks.
		"--ipc container:flags-peer --pid container:flags-peer --network container:flags-peer"
	)
	dk run -d --runtime berth --name flags-peer --ipc shareable "$IMAGE" sleep 1000 >/dev/null
	local differ=0 set
	for set in "${sets[@]}"; do
		local -a flags
		client_flags "$set"
		local b r out
		out=$(dk run --rm --runtime berth "${flags[@]}" "$IMAGE" sh -c "$CLIENT_PROBE" 2>&1) && b=$(client_norm <<<"$out") || b="FAILED: $out"
		out=$(dk run --rm --runtime runc "${flags[@]}" "$IMAGE" sh -c "$CLIENT_PROBE" 2>&1) && r=$(client_norm <<<"$out") || r="FAILED: $out"
		client_same "$set" "$b" "$r" || differ=$((differ + 1))
	done
	[ "$differ" -eq 0 ]
}

@test "docker: run -d, exec, top, pause, unpause, stop, restart, rm" {
	run dk run -d --runtime berth --name docker-life "$IMAGE" sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done'
	[ "$status" -eq 0 ]
	run dk exec docker-life sh -c 'echo exec says $((6 * 7)); exit 4'
	[ "$status" -eq 4 ]
	[ "$output" = "exec says 42" ]
	run dk top docker-life
	[ "$status" -eq 0 ]
	[[ "$output" == *"trap"* ]] || [[ "$output" == *"sh -c"* ]]
	run dk pause docker-life
	[ "$status" -eq 0 ]
	[ "$(dk inspect -f '{{.State.Status}}' docker-life)" = paused ]
	run dk unpause docker-life
	[ "$status" -eq 0 ]
	[ "$(dk inspect -f '{{.State.Status}}' docker-life)" = running ]
	pid1=$(dk inspect -f '{{.State.Pid}}' docker-life)
	wait_caught "$pid1" 15
	run dk stop -t 5 docker-life
	[ "$status" -eq 0 ]
	[ "$(dk inspect -f '{{.State.ExitCode}}' docker-life)" = 7 ]
	run dk restart -t 5 docker-life
	[ "$status" -eq 0 ]
	[ "$(dk inspect -f '{{.State.Status}}' docker-life)" = running ]
	pid2=$(dk inspect -f '{{.State.Pid}}' docker-life)
	[ "$pid1" != "$pid2" ]
	run dk exec docker-life echo after-restart
	[ "$output" = after-restart ]
	run dk rm -f docker-life
	[ "$status" -eq 0 ]
	run dk ps -aq
	[ -z "$output" ]
}

@test "docker: update --memory changes the running container's limit" {
	dk run -d --runtime berth --name docker-upd --memory 64m "$IMAGE" sleep 1000
	pid=$(dk inspect -f '{{.State.Pid}}' docker-upd)
	cg=/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid/cgroup")
	[ "$(cat "$cg/memory.limit_in_bytes")" -eq $((64 * 1024 * 1024)) ]
	run dk update --memory 96m --memory-swap 96m docker-upd
	[ "$status" -eq 0 ]
	[ "$(cat "$cg/memory.limit_in_bytes")" -eq $((96 * 1024 * 1024)) ]
}

@test "docker: logs show the container's output" {
	dk run -d --runtime berth --name docker-logs "$IMAGE" sh -c 'echo line-one; echo line-two >&2'
	run dk wait docker-logs
	[ "$output" = 0 ]
	run dk logs docker-logs
	[[ "$output" == *line-one* ]]
	[[ "$output" == *line-two* ]]
}

@test "docker: berth's own error reaches the docker user (bad mount, missing binary)" {
	touch "$TEST_TMP/afile"
	run dk run --rm --runtime berth -v "$TEST_TMP/afile:/etc" "$IMAGE" true
	[ "$status" -eq 125 ]
	[[ "$output" == *"OCI runtime create failed"* ]]
	[[ "$output" == *"create failed: unable to start container process: error during container init: error mounting "*"$TEST_TMP/afile"*" to rootfs at "*"/etc"* ]]
	run -127 dk run --rm --runtime berth "$IMAGE" /no/such/binary
	# Same status as runc's: 127, command not found.
	[ "$status" -eq 127 ]
	[[ "$output" == *"/no/such/binary"*"no such file or directory"* ]]
}
