#!/usr/bin/env bats
# CRI, the kubelet's path: containerd's CRI plugin with the runtime handler
# of docs/deploy.md (BinaryName = berth), driven by crictl. containerd runs
# privately in a network namespace of its own; pods get their network from
# Debian's CNI plugins (bridge + host-local on 10.214.0.0/24, loopback).
# The pause image is built locally from the busybox rootfs.

load helpers
bats_require_minimum_version 1.5.0

IMAGE=docker.io/library/busybox:berth
PAUSE=docker.io/library/pause:berth

setup_file() {
	CRICTL=$(command -v crictl || echo "$(go env GOPATH 2>/dev/null || echo /root/go)/bin/crictl")
	[ -x "$CRICTL" ] || { echo "crictl is not installed (go install sigs.k8s.io/cri-tools/cmd/crictl@v1.34.0)" >&2; return 1; }
	[ -x /usr/lib/cni/bridge ] || { echo "CNI plugins missing (apt-get install containernetworking-plugins)" >&2; return 1; }
	export CRICTL
	CRI_DIR=$(mktemp -d /tmp/berth-cri.XXXXXX)
	chmod 755 "$CRI_DIR"
	export CRI_DIR
	mkdir -p "$CRI_DIR/logs"
	# The handler exactly as the guide writes it, plus a private Root.
	"$REPO/tests/clients/cri-config.sh" "$CRI_DIR" "$BERTH" "$PAUSE" berthcri0 10.214.0.0/24
	{
		# Debian's runc as a second handler, for the comparison test.
		echo '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc-ref]'
		echo '  runtime_type = "io.containerd.runc.v2"'
		echo '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc-ref.options]'
		echo "    BinaryName = \"$(command -v runc || echo /usr/sbin/runc)\""
		echo "    Root = \"$CRI_DIR/runc-ref\""
	} >>"$CRI_DIR/cri.toml"
	CRI_PID=$(CTD_NETNS=1 "$REPO/tests/clients/containerd.sh" "$CRI_DIR" "$CRI_DIR/cri.toml" 3>&-)
	export CRI_PID
	"$REPO/tests/clients/mkimage.sh" "$ROOTFS_SRC" "$IMAGE" "$CRI_DIR/busybox.tar"
	"$REPO/tests/clients/mkimage.sh" "$ROOTFS_SRC" "$PAUSE" "$CRI_DIR/pause.tar" /bin/sleep 2147483647
	for t in busybox pause; do
		ctr --address "$CRI_DIR/containerd.sock" -n k8s.io images import "$CRI_DIR/$t.tar" >/dev/null
	done
	# CRI sees the imported images.
	local deadline=$((SECONDS + 10))
	until "$CRICTL" --runtime-endpoint "unix://$CRI_DIR/containerd.sock" --image-endpoint "unix://$CRI_DIR/containerd.sock" \
		inspecti "$PAUSE" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || { echo "CRI does not list $PAUSE" >&2; return 1; }
		sleep 0.2
	done
}

teardown_file() {
	[ -n "${CRI_DIR:-}" ] || return 0
	TEST_TMP=$CRI_DIR
	for p in $(cri pods -q 2>/dev/null); do cri stopp "$p" >/dev/null 2>&1 || true; cri rmp -f "$p" >/dev/null 2>&1 || true; done
	if [ -n "${CRI_PID:-}" ]; then
		kill "$CRI_PID" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$CRI_PID" 2>/dev/null || break; sleep 0.1; done
	fi
	remove_tree "$CRI_DIR"
	remove_cgroup_parents k8s.io
}

setup() {
	TEST_TMP=$(mktemp -d /tmp/berth-test.XXXXXX)
	STATE_ROOT=$CRI_DIR/runc/k8s.io
}

teardown() {
	for p in $(cri pods -q 2>/dev/null); do cri stopp "$p" >/dev/null 2>&1 || true; cri rmp -f "$p" >/dev/null 2>&1 || true; done
	remove_tree "$TEST_TMP"
}

# cri runs crictl on the private containerd, stdio through files.
cri() {
	local rc=0
	"$CRICTL" --runtime-endpoint "unix://$CRI_DIR/containerd.sock" --image-endpoint "unix://$CRI_DIR/containerd.sock" \
		--timeout 30s "$@" >"$TEST_TMP/cri.out" 2>"$TEST_TMP/cri.err" </dev/null 3>&- || rc=$?
	cat "$TEST_TMP/cri.out"
	# crictl's own warnings (no /etc/crictl.yaml, no cgroup_parent) are noise.
	grep -v 'level=warning' "$TEST_TMP/cri.err" >&2 || true
	return $rc
}

# pod_json NAME: a sandbox config.
pod_json() {
	jq -n --arg n "$1" --arg logs "$CRI_DIR/logs" \
		'{metadata: {name: $n, namespace: "default", uid: ("uid-" + $n), attempt: 0}, log_directory: $logs, linux: {}}' \
		>"$TEST_TMP/pod-$1.json"
	echo "$TEST_TMP/pod-$1.json"
}

# ctr_json NAME CMD...: a container config running CMD in the busybox image.
ctr_json() {
	local name=$1
	shift
	jq -n --arg n "$name" --arg img "$IMAGE" --argjson cmd "$(printf '%s\n' "$@" | jq -R . | jq -cs .)" \
		'{metadata: {name: $n}, image: {image: $img}, command: $cmd, log_path: ($n + ".log"), linux: {}}' \
		>"$TEST_TMP/ctr-$name.json"
	echo "$TEST_TMP/ctr-$name.json"
}

@test "cri: pod lifecycle with two containers sharing the pod's network" {
	pod=$(pod_json cri-pod)
	# doc: crictl runp --runtime berth pod.json
	pid=$(cri runp --runtime berth "$pod")
	[ -n "$pid" ]
	# berth runs the sandbox: it is in berth's state root.
	"$BERTH" --root "$STATE_ROOT" state "$pid" | jq -e '.status == "running"'
	ip=$(cri inspectp "$pid" | jq -r .status.network.ip)
	[[ "$ip" == 10.214.0.* ]]

	c1=$(cri create "$pid" "$(ctr_json c1 sleep 1000)" "$pod")
	run cri start "$c1"
	[ "$status" -eq 0 ]
	c2=$(cri create "$pid" "$(ctr_json c2 sleep 1000)" "$pod")
	cri start "$c2"
	[ "$(cri inspect "$c1" | jq -r .status.state)" = CONTAINER_RUNNING ]

	# ExecSync: output and exit status.
	run cri exec -s "$c1" sh -c 'echo exec says $((6 * 7))'
	[ "$status" -eq 0 ]
	[ "$output" = "exec says 42" ]
	run cri exec -s "$c1" sh -c 'exit 3'
	[ "$status" -ne 0 ]
	[[ "$output" == *"exited with 3"* ]]
	# Both containers are in the sandbox's network namespace, with its address.
	ns1=$(cri exec -s "$c1" readlink /proc/self/ns/net)
	ns2=$(cri exec -s "$c2" readlink /proc/self/ns/net)
	[ "$ns1" = "$ns2" ]
	run cri exec -s "$c2" ip -4 -o addr show eth0
	[[ "$output" == *"inet $ip/24"* ]]

	# UpdateContainerResources reaches the container's cgroup.
	run cri update --memory $((80 * 1024 * 1024)) "$c1"
	[ "$status" -eq 0 ]
	cpid=$(cri inspect "$c1" | jq -r .info.pid)
	cg=/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' "/proc/$cpid/cgroup")
	[ "$(cat "$cg/memory.limit_in_bytes")" -eq $((80 * 1024 * 1024)) ]

	run cri stop --timeout 5 "$c1"
	[ "$status" -eq 0 ]
	[ "$(cri inspect "$c1" | jq -r .status.state)" = CONTAINER_EXITED ]
	run cri rm "$c1"
	[ "$status" -eq 0 ]
	run "$BERTH" --root "$STATE_ROOT" state "$c1"
	[[ "$output" == *"does not exist"* ]]

	run cri stopp "$pid"
	[ "$status" -eq 0 ]
	run cri rmp "$pid"
	[ "$status" -eq 0 ]
	[ -z "$("$BERTH" --root "$STATE_ROOT" list -q)" ]
}

@test "cri: a container's logs reach the kubelet's log file" {
	pod=$(pod_json cri-logs)
	pid=$(cri runp --runtime berth "$pod")
	c=$(cri create "$pid" "$(ctr_json logger sh -c 'echo out-line; echo err-line >&2')" "$pod")
	cri start "$c"
	deadline=$((SECONDS + 10))
	until [ "$(cri inspect "$c" | jq -r .status.state)" = CONTAINER_EXITED ] || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
	[ "$(cri inspect "$c" | jq -r .status.exitCode)" = 0 ]
	run cri logs "$c"
	[[ "$output" == *out-line* ]]
	[[ "$output" == *err-line* ]]
}

# Kubernetes' Bidirectional mount propagation (a CSI node plugin's): the
# CRI plugin sets rootfsPropagation rshared and binds the volume rshared
# from a shared host mount. Mounts go both ways: the host's into the
# container, the container's out to the host. The container's way out
# failed before (critest's "mount with 'rshared' should support
# propagation from host to container and vice versa"). The volume is a
# tmpfs of the test's own, made shared.
@test "cri: a Bidirectional volume's mounts go both ways" {
	mkdir "$TEST_TMP/vol"
	mount -t tmpfs cri-bidi "$TEST_TMP/vol"
	mount --make-shared "$TEST_TMP/vol"
	pod=$(pod_json cri-bidi)
	pid=$(cri runp --runtime berth "$pod")
	ctr_json bidi sleep 1000 >/dev/null
	# propagation 2: PROPAGATION_BIDIRECTIONAL (crictl takes the number)
	jq --arg v "$TEST_TMP/vol" '.mounts = [{container_path: "/vol", host_path: $v, propagation: 2}]
		| .linux.security_context.capabilities.add_capabilities = ["SYS_ADMIN"]' \
		"$TEST_TMP/ctr-bidi.json" >"$TEST_TMP/ctr-bidi2.json"
	c=$(cri create "$pid" "$TEST_TMP/ctr-bidi2.json" "$pod")
	cri start "$c"
	[ "$(jq -r .linux.rootfsPropagation "$CRI_DIR/state/io.containerd.runtime.v2.task/k8s.io/$c/config.json")" = rshared ]
	mkdir "$TEST_TMP/vol/h"
	mount -t tmpfs cri-bidi-host "$TEST_TMP/vol/h"
	echo host >"$TEST_TMP/vol/h/f"
	run cri exec -s "$c" cat /vol/h/f
	[ "$output" = host ]
	run cri exec -s "$c" sh -c 'mkdir /vol/c && mount -t tmpfs cri-bidi-ctr /vol/c && echo ctr >/vol/c/f'
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_TMP/vol/c/f")" = ctr ]
	cri stopp "$pid" >/dev/null
	cri rmp "$pid" >/dev/null
}

@test "cri: berth's own error reaches the CRI client (bad mount)" {
	pod=$(pod_json cri-bad)
	pid=$(cri runp --runtime berth "$pod")
	touch "$TEST_TMP/afile"
	jq --arg f "$TEST_TMP/afile" '.mounts = [{container_path: "/etc", host_path: $f}]' "$(ctr_json bad true)" >"$TEST_TMP/bad.json"
	c=$(cri create "$pid" "$TEST_TMP/bad.json" "$pod")
	run cri start "$c"
	[ "$status" -ne 0 ]
	[[ "$output" == *"OCI runtime create failed"* ]]
	[[ "$output" == *"create failed: unable to start container process: error during container init: error mounting "*"$TEST_TMP/afile"*" to rootfs at "*"/etc"* ]]
}

# cri_probe HANDLER NAME CTR.JSON: runs the container of CTR.JSON in a pod
# of its own under the runtime handler, waits for it to exit, and prints
# its log (CLIENT_PROBE's output), or FAILED and the error.
cri_probe() {
	local handler=$1 name=$2 cfg=$3 pod pid c deadline
	pod=$(pod_json "$name-$handler")
	pid=$(cri runp --runtime "$handler" "$pod") || { echo "FAILED: runp"; return 0; }
	# a log file of its own (the pods share one log directory)
	jq --arg l "$name-$handler.log" '.log_path = $l' "$cfg" >"$cfg.$handler"
	c=$(cri create "$pid" "$cfg.$handler" "$pod" 2>&1) || { echo "FAILED: create: $c"; return 0; }
	cri start "$c" >/dev/null 2>&1 || { echo "FAILED: start"; return 0; }
	deadline=$((SECONDS + 20))
	until [ "$(cri inspect "$c" | jq -r .status.state)" = CONTAINER_EXITED ] || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
	# containerd may still be copying the output to the log when it
	# reports the exit: wait (deadline) for the probe's last line.
	local out
	until out=$(cri logs "$c" 2>&1) && [[ "$out" == *end-of-output* ]] || [ $SECONDS -ge $deadline ]; do sleep 0.1; done
	echo "$out"
	cri stopp "$pid" >/dev/null 2>&1 || true
	cri rmp -f "$pid" >/dev/null 2>&1 || true
}

@test "cri: a pod's container settings give the same container under berth as under runc" {
	command -v runc >/dev/null || { echo "runc (Debian package runc) is needed for the comparison" >&2; false; }
	mkdir -p "$TEST_TMP/vol"
	echo data >"$TEST_TMP/vol/f"
	# One jq edit of the container's config per line, as a kubelet would
	# write it for a pod's settings; each runs under both handlers.
	local sets=(
		'.'
		'.linux.security_context.readonly_rootfs = true'
		'.linux.security_context.capabilities = {add_capabilities: ["SYS_ADMIN"], drop_capabilities: ["NET_RAW", "CHOWN"]}'
		'.linux.security_context.run_as_user = {value: 1000} | .linux.security_context.run_as_group = {value: 1000} | .linux.security_context.supplemental_groups = [5]'
		'.linux.security_context.no_new_privs = true | .linux.security_context.seccomp = {profile_type: 0}'
		'.linux.security_context.seccomp = {profile_type: 1}'
		'.linux.resources = {cpu_period: 100000, cpu_quota: 50000, cpu_shares: 512, memory_limit_in_bytes: 67108864, oom_score_adj: 500, cpuset_cpus: "0"}'
		'.linux.security_context.namespace_options = {pid: 1}'
		'.linux.security_context.masked_paths = ["/proc/kcore"] | .linux.security_context.readonly_paths = ["/proc/sys"]'
		'.mounts = [{container_path: "/mnt", host_path: $vol, readonly: true}, {container_path: "/etc/extra", host_path: ($vol + "/f")}]'
		'.envs = [{key: "A", value: "1"}] | .working_dir = "/tmp"'
		'.tty = true'
	)
	local differ=0 set n=0
	for set in "${sets[@]}"; do
		n=$((n + 1))
		# (the probe by --arg: ctr_json takes its arguments a line each)
		jq --arg vol "$TEST_TMP/vol" --arg p "$CLIENT_PROBE; echo end-of-output" ".command = [\"sh\", \"-c\", \$p] | $set" \
			"$(ctr_json "opt$n" true)" >"$TEST_TMP/opt$n.json"
		local b r
		b=$(cri_probe berth "cri-opt$n" "$TEST_TMP/opt$n.json" | sed -E 's/^[^ ]+ (stdout|stderr) [FP] //' | client_norm)
		r=$(cri_probe runc-ref "cri-opt$n" "$TEST_TMP/opt$n.json" | sed -E 's/^[^ ]+ (stdout|stderr) [FP] //' | client_norm)
		# the probe ran to its end (a lost log would compare equal too)
		[[ "$b" == FAILED* || "$b" == *end-of-output* ]] || { echo "berth's log for [$set] is cut: $b"; false; }
		client_same "$set" "$b" "$r" || differ=$((differ + 1))
	done
	[ "$differ" -eq 0 ]
}

