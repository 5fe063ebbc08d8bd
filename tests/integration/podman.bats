#!/usr/bin/env bats
# Podman (Debian's podman 4.3 with conmon) with `--runtime` berth. Podman
# has no daemon: every path it writes (storage root, runroot, its database,
# tmp dir, events log) is in one temp dir, set by flags and a private
# containers.conf (CONTAINERS_CONF), which also lists berth in
# runtime_supports_json (so berth gets --log-format=json --log) and pins
# the default ulimits to this machine's hard limits (root here lacks
# CAP_SYS_RESOURCE; podman's defaults would raise them).

load helpers
bats_require_minimum_version 1.5.0

IMAGE=docker.io/library/busybox:berth

setup_file() {
	command -v podman >/dev/null || { echo "podman is not installed (apt-get install podman)" >&2; return 1; }
	command -v conmon >/dev/null || { echo "conmon is not installed (apt-get install conmon)" >&2; return 1; }
	PM_DIR=$(mktemp -d /tmp/berth-podman.XXXXXX)
	export PM_DIR
	# podman itself lowers its nproc limit to 32768 before starting conmon.
	cat >"$PM_DIR/containers.conf" <<-CONF
		[containers]
		default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
		netns = "none"
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$PM_DIR/events.log"
		runtime_supports_json = ["crun", "runc", "berth"]
		static_dir = "$PM_DIR/libpod"
		volume_path = "$PM_DIR/volumes"
		tmp_dir = "$PM_DIR/tmp"
		[network]
		network_config_dir = "$PM_DIR/cni"
	CONF
	# podman checks for criu itself, and runs berth checkpoint/restore
	# without --criu: CRIU 4.2 (tests/criu/build.sh) is criu in PATH.
	# Without a CRIU only the checkpoint test fails (criu_ready).
	mkdir -p "$PM_DIR/criu-bin"
	if criu=$("$REPO/tests/criu/build.sh" 2>"$PM_DIR/criu-build.err"); then
		ln -sf "$criu" "$PM_DIR/criu-bin/criu"
	fi
	export PATH=$PM_DIR/criu-bin:$PATH
	"$REPO/tests/clients/mkimage.sh" "$ROOTFS_SRC" "$IMAGE" "$PM_DIR/busybox.tar"
	CONTAINERS_CONF=$PM_DIR/containers.conf podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" \
		--storage-driver overlay load -i "$PM_DIR/busybox.tar" 3>&-
}

teardown_file() {
	[ -n "${PM_DIR:-}" ] || return 0
	TEST_TMP=$PM_DIR pm rm -af -t 0 >/dev/null 2>&1 || true
	TEST_TMP=$PM_DIR pm system reset -f >/dev/null 2>&1 || true
	podman_settled "$PM_DIR"
	remove_tree "$PM_DIR"
	remove_cgroup_parents libpod_parent
}

setup() { TEST_TMP=$(mktemp -d /tmp/berth-test.XXXXXX); }

teardown() {
	pm rm -af -t 0 >/dev/null 2>&1 || true
	podman_settled "$PM_DIR"
	remove_tree "$TEST_TMP"
}

# pm runs podman on the private store with berth (or PM_RUNTIME), stdio
# through files.
pm() {
	local rc=0
	CONTAINERS_CONF=$PM_DIR/containers.conf podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" \
		--storage-driver overlay --runtime "${PM_RUNTIME:-$BERTH}" "$@" \
		>"$TEST_TMP/pm.out" 2>"$TEST_TMP/pm.err" </dev/null 3>&- || rc=$?
	cat "$TEST_TMP/pm.out"
	cat "$TEST_TMP/pm.err" >&2
	return $rc
}

@test "podman: run --rm prints output and the exit status" {
	run pm run --rm "$IMAGE" sh -c 'echo hello from berth; echo to-stderr >&2'
	[ "$status" -eq 0 ]
	[[ "$output" == *"hello from berth"* ]]
	[[ "$output" == *"to-stderr"* ]]
	run pm run --rm "$IMAGE" sh -c 'exit 3'
	[ "$status" -eq 3 ]
	# podman recorded berth as the runtime.
	pm create --name podman-which "$IMAGE" true
	[ "$(pm inspect -f '{{.OCIRuntime}}' podman-which)" = "$BERTH" ]
}

@test "podman: run's options give the same container under berth as under runc" {
	# Against runc: Debian's crun refuses a hybrid host ("cgroups in hybrid mode
	# not supported").
	command -v runc >/dev/null || { echo "runc is not installed (apt-get install runc)" >&2; false; }
	mkdir -p "$TEST_TMP/vol"
	echo data >"$TEST_TMP/vol/f"
	# One podman run option set per line, "@" a space inside an argument;
	# each set runs under both runtimes.
	local sets=(
		""
		"--read-only"
		"--device /dev/null:/dev/mynull:rw --device-cgroup-rule=c@1:5@rwm"
		"--cap-drop ALL --cap-add CHOWN --cap-add NET_ADMIN"
		"--security-opt no-new-privileges --security-opt seccomp=unconfined"
		"--security-opt unmask=/proc/acpi --security-opt mask=/etc/hostname"
		"--user 1000:1000 --group-add 5 --workdir /tmp"
		"--hostname foo.example"
		"--ulimit nofile=100:200 --ulimit nproc=50:60 --oom-score-adj 100"
		"--memory 64m --memory-swap 128m --memory-swappiness 10 --pids-limit 50"
		"--cpus 0.5 --cpuset-cpus 0 --cpu-shares 512"
		"--sysctl kernel.shm_rmid_forced=1"
		"--ipc host --pid host --uts host"
		"--ipc private --shm-size 1m"
		"--network host"
		"--cgroupns private"
		"--mount type=bind,src=$TEST_TMP/vol,dst=/mnt,ro --mount type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=0700"
		"-v $TEST_TMP/vol:/vol:rw,rprivate -v $TEST_TMP/vol/f:/etc/extra:ro"
		"-t"
		"--user nobody --tmpfs /tmp:rw,exec,size=2m --cpu-period 50000 --cpu-quota 25000"
		# Namespaces joined by path: a running container's.
		"--ipc container:flags-peer --pid container:flags-peer --uts container:flags-peer"
	)
	pm run -d --name flags-peer --ipc shareable "$IMAGE" sleep 1000 >/dev/null
	local differ=0 set
	for set in "${sets[@]}"; do
		local -a flags
		client_flags "$set"
		local b r out
		out=$(pm run --rm "${flags[@]}" "$IMAGE" sh -c "$CLIENT_PROBE" 2>&1) && b=$(client_norm <<<"$out") || b="FAILED: $out"
		out=$(PM_RUNTIME=runc pm run --rm "${flags[@]}" "$IMAGE" sh -c "$CLIENT_PROBE" 2>&1) && r=$(client_norm <<<"$out") || r="FAILED: $out"
		client_same "$set" "$b" "$r" || differ=$((differ + 1))
	done
	[ "$differ" -eq 0 ]
}

@test "podman: run -d, exec, stop, start, rm" {
	run pm run -d --name podman-life "$IMAGE" sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done'
	[ "$status" -eq 0 ]
	[ "$(pm inspect -f '{{.State.Status}}' podman-life)" = running ]
	run pm exec podman-life sh -c 'echo exec says $((6 * 7)); exit 4'
	[ "$status" -eq 4 ]
	[ "$output" = "exec says 42" ]
	wait_caught "$(pm inspect -f '{{.State.Pid}}' podman-life)" 15
	run pm stop -t 5 podman-life
	[ "$status" -eq 0 ]
	[ "$(pm inspect -f '{{.State.ExitCode}}' podman-life)" = 7 ]
	run pm start podman-life
	[ "$status" -eq 0 ]
	[ "$(pm inspect -f '{{.State.Status}}' podman-life)" = running ]
	run pm rm -f -t 0 podman-life
	[ "$status" -eq 0 ]
	run pm ps -aq
	[ -z "$output" ]
}

@test "podman: a tty container" {
	run script -qec "CONTAINERS_CONF=$PM_DIR/containers.conf podman --root $PM_DIR/root --runroot $PM_DIR/runroot --storage-driver overlay --runtime $BERTH run --rm -t $IMAGE sh -c 'tty; echo done'" /dev/null </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/pts/0"* ]]
	[[ "$output" == *done* ]]
}

@test "podman: berth's own error reaches the podman user (bad mount, missing binary)" {
	touch "$TEST_TMP/afile"
	run pm run --rm -v "$TEST_TMP/afile:/etc" "$IMAGE" true
	[ "$status" -eq 126 ]
	[[ "$output" == *"OCI runtime error"* ]]
	[[ "$output" == *"create failed: unable to start container process: error during container init: error mounting "*"$TEST_TMP/afile"*" to rootfs at "*"/etc"* ]]
	run -127 pm run --rm "$IMAGE" /no/such/binary
	[[ "$output" == *"/no/such/binary"*"no such file or directory"* ]]
}

@test "podman: a resource limit as podman passes it" {
	pm run -d --name podman-mem --memory 64m "$IMAGE" sleep 1000
	pid=$(pm inspect -f '{{.State.Pid}}' podman-mem)
	cg=/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid/cgroup")
	[ "$(cat "$cg/memory.limit_in_bytes")" -eq $((64 * 1024 * 1024)) ]
}

# podman run --read-only mounts /run, /tmp and /var/tmp as tmpfs with
# tmpcopyup: the image's files there must show up, on a writable tmpfs,
# under a read-only root. Failed before: "mount option tmpcopyup is not
# supported".
@test "podman: run --read-only (tmpcopyup tmpfs on /run, /tmp, /var/tmp)" {
	run pm run --rm --read-only "$IMAGE" sh -c 'ls -d /tmp /var/tmp /run >/dev/null && grep -E " /(run|tmp|var/tmp) " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1 | sort -u; touch /tmp/x /var/tmp/x /run/x && echo tmp-writable; touch /x 2>/dev/null || echo root-ro'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *tmpfs* ]]
	[[ "$output" == *tmp-writable* ]]
	[[ "$output" == *root-ro* ]]
}

@test "podman: container checkpoint and restore bring the container back where it was" {
	[ -x "$PM_DIR/criu-bin/criu" ] || { cat "$PM_DIR/criu-build.err"; false; }
	# rename, not truncate-and-write: a read (or the checkpoint) between
	# the two would find /tmp/count empty
	run pm run -d --name podman-ck "$IMAGE" sh -c 'r=$RANDOM$RANDOM; i=0; while true; do i=$((i+1)); echo $r $i > /tmp/count.new; mv /tmp/count.new /tmp/count; echo $i; sleep 0.1; done'
	[ "$status" -eq 0 ]
	for _ in $(seq 100); do
		n=$(pm exec podman-ck cat /tmp/count 2>/dev/null) && [ "${n#* }" -ge 3 ] 2>/dev/null && break
		sleep 0.1
	done
	run pm container checkpoint podman-ck
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(pm inspect -f '{{.State.Status}}' podman-ck)" = exited ]
	before=$(pm exec podman-ck cat /tmp/count 2>/dev/null || pm cp podman-ck:/tmp/count - | tar -xO)
	run pm container restore podman-ck
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(pm inspect -f '{{.State.Status}}' podman-ck)" = running ]
	for _ in $(seq 100); do
		n=$(pm exec podman-ck cat /tmp/count) && [ "$n" != "$before" ] && break
		sleep 0.1
	done
	echo "before $before after $n"
	# the same token, drawn once at the start: the shell's memory came back
	[ "${n% *}" = "${before% *}" ]
	[ "${n#* }" -gt "${before#* }" ]
	# and its output goes on in podman's log (stdio pipes handed over)
	run pm logs podman-ck
	[[ "$output" == *$'\n'"${before#* }"$'\n'"$((${before#* } + 1))"$'\n'* ]]
	run pm rm -f -t 0 podman-ck
	[ "$status" -eq 0 ]
}
