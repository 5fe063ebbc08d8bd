#!/usr/bin/env bats
# berth --systemd-cgroup against a real systemd on cgroup v2: the
# container's transient scope (default name, and containerd's
# "slice:prefix:name"), Delegate=yes, limits as unit properties that land
# in the cgroup files, update, org.systemd.property.* annotations, block
# I/O throttles, pause, resume, kill and delete leaving no unit behind,
# and the cgroup given to the container's root with a user and cgroup
# namespace (as runc).
#
# CI runs this suite in a Debian rootfs with systemd as PID 1 of a
# user-mode-linux kernel (make test-systemd, tests/uml/run-systemd.sh);
# elsewhere, without systemd on cgroup v2, every test skips.

load helpers

setup() {
	[ -d /run/systemd/system ] || skip "systemd is not running here (make test-systemd runs this suite)"
	requires_cgroup_v2
	setup_bundle
}

teardown() { teardown_bundle; }

# sd_show UNIT PROPERTY: the unit's property, as systemctl shows it.
sd_show() { systemctl show -P "$2" "$1"; }

# no_unit UNIT: systemd has no such unit loaded any more.
no_unit() {
	local state
	for _ in $(seq 100); do
		state=$(sd_show "$1" LoadState)
		[ "$state" = not-found ] && return 0
		sleep 0.1
	done
	echo "unit $1 still there: $(systemctl status "$1" 2>&1 | head -5)" >&2
	return 1
}

sdberth() { berth --systemd-cgroup "$@"; }

@test "sd-default: no cgroupsPath makes system.slice/berth-ID.scope, delegated, with the limits as properties and in the files" {
	update_config '.linux.resources.memory = {"limit": 33554432} | .linux.resources.pids = {"limit": 20}
		| .linux.resources.cpu = {"quota": 50000, "period": 100000, "shares": 1024}'
	sdberth create --bundle "$BUNDLE" sd-def
	unit=berth-sd-def.scope
	dir=/sys/fs/cgroup/system.slice/$unit
	[ "$(sd_show $unit Slice)" = system.slice ]
	[ "$(sd_show $unit Delegate)" = yes ]
	[ "$(sd_show $unit ControlGroup)" = /system.slice/$unit ]
	[ "$(sd_show $unit MemoryMax)" = 33554432 ]
	[ "$(sd_show $unit TasksMax)" = 20 ]
	[ "$(sd_show $unit CPUQuotaPerSecUSec)" = 500ms ]
	# the device rules as systemd's allow list (devcg.SystemdProperties)
	[ "$(sd_show $unit DevicePolicy)" = strict ]
	sd_show $unit DeviceAllow
	sd_show $unit DeviceAllow | grep -q '/dev/char/1:3 rwm'
	sd_show $unit DeviceAllow | grep -q 'char-136 rwm'
	[ "$(cat $dir/memory.max)" = 33554432 ]
	[ "$(cat $dir/pids.max)" = 20 ]
	[ "$(cat $dir/cpu.max)" = "50000 100000" ]
	[ "$(jq -r '.cgroup_paths[""]' "$STATE_ROOT/sd-def/state.json")" = "$dir" ]
	grep -qx "$(init_pid sd-def)" $dir/cgroup.procs
	sdberth start sd-def
	[ "$(container_status sd-def)" = running ]
	sdberth kill sd-def KILL
	wait_status sd-def stopped 30
	sdberth delete sd-def
	no_unit $unit
	[ ! -e $dir ]
}

@test "sd-path: containerd's slice:prefix:name, also in a nested slice; run leaves no unit" {
	update_config '.linux.cgroupsPath = "machine.slice:cri:sd-path"'
	sdberth create --bundle "$BUNDLE" sd-path
	[ "$(sd_show cri-sd-path.scope Slice)" = machine.slice ]
	[ "$(sd_show cri-sd-path.scope Delegate)" = yes ]
	grep -qx "$(init_pid sd-path)" /sys/fs/cgroup/machine.slice/cri-sd-path.scope/cgroup.procs
	sdberth delete --force sd-path
	no_unit cri-sd-path.scope
	update_config '.linux.cgroupsPath = "berthtest-a.slice:pfx:sd-nest"'
	set_args cat /proc/self/cgroup
	update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
	run sdberth run --bundle "$BUNDLE" sd-nest
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 0::/berthtest.slice/berthtest-a.slice/pfx-sd-nest.scope ]
	no_unit pfx-sd-nest.scope
	[ ! -e /sys/fs/cgroup/berthtest.slice/berthtest-a.slice/pfx-sd-nest.scope ]
}

@test "sd-update: update changes the unit's properties and the cgroup files" {
	sdberth create --bundle "$BUNDLE" sd-up
	sdberth start sd-up
	unit=berth-sd-up.scope
	dir=/sys/fs/cgroup/system.slice/$unit
	sdberth update --memory 64m --pids-limit 30 --cpu-quota 25000 --cpu-period 100000 sd-up
	[ "$(sd_show $unit MemoryMax)" = $((64 << 20)) ]
	[ "$(sd_show $unit TasksMax)" = 30 ]
	[ "$(sd_show $unit CPUQuotaPerSecUSec)" = 250ms ]
	[ "$(cat $dir/memory.max)" = $((64 << 20)) ]
	[ "$(cat $dir/pids.max)" = 30 ]
	[ "$(cat $dir/cpu.max)" = "25000 100000" ]
	# a reload of systemd keeps them (they are the unit's, not only files)
	systemctl daemon-reload
	[ "$(cat $dir/memory.max)" = $((64 << 20)) ]
	[ "$(cat $dir/pids.max)" = 30 ]
	sdberth update --pids-limit 40 sd-up
	[ "$(sd_show $unit TasksMax)" = 40 ]
	[ "$(cat $dir/pids.max)" = 40 ]
	[ "$(cat $dir/memory.max)" = $((64 << 20)) ]
}

@test "sd-annotations: org.systemd.property.* apply to the scope (NAMESec as NAMEUSec); a bad one fails create and leaves nothing" {
	update_config '.annotations = {"org.systemd.property.TimeoutStopSec": "uint64 7",
		"org.systemd.property.CollectMode": "'"'inactive-or-failed'"'",
		"org.systemd.property.Description": "'"'berth test scope'"'"}'
	sdberth create --bundle "$BUNDLE" sd-ann
	unit=berth-sd-ann.scope
	[ "$(sd_show $unit TimeoutStopUSec)" = 7s ]
	[ "$(sd_show $unit CollectMode)" = inactive-or-failed ]
	[ "$(sd_show $unit Description)" = "berth test scope" ]
	sdberth delete --force sd-ann
	no_unit $unit
	update_config '.annotations = {"org.systemd.property.Memory_Max": "uint64 1"}'
	run sdberth create --bundle "$BUNDLE" sd-ann2
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *Memory_Max* ]]
	[ ! -e "$STATE_ROOT/sd-ann2" ]
	[ "$(sd_show berth-sd-ann2.scope LoadState)" = not-found ]
}

@test "sd-lifecycle: pause, resume, exec, kill --all and delete through the scope; no unit left" {
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args sh -c 'sleep 1001 & sleep 1002 & wait'
	sdberth create --bundle "$BUNDLE" sd-life
	sdberth start sd-life
	unit=berth-sd-life.scope
	dir=/sys/fs/cgroup/system.slice/$unit
	sdberth exec -d --pid-file "$TEST_TMP/x.pid" sd-life sleep 1003
	grep -qx "0::/system.slice/$unit" "/proc/$(cat "$TEST_TMP/x.pid")/cgroup"
	for _ in $(seq 100); do [ "$(wc -l <$dir/cgroup.procs)" -ge 4 ] && break; sleep 0.1; done
	[ "$(wc -l <$dir/cgroup.procs)" -eq 4 ]
	sdberth pause sd-life
	[ "$(container_status sd-life)" = paused ]
	[ "$(cat $dir/cgroup.freeze)" = 1 ]
	sdberth resume sd-life
	[ "$(container_status sd-life)" = running ]
	[ "$(cat $dir/cgroup.freeze)" = 0 ]
	sdberth pause sd-life
	sdberth kill --all sd-life KILL
	wait_status sd-life stopped 30
	for _ in $(seq 100); do [ -s $dir/cgroup.procs ] || break; sleep 0.1; done
	[ ! -s $dir/cgroup.procs ]
	sdberth delete sd-life
	no_unit $unit
	[ ! -e $dir ]
	[ ! -e "$STATE_ROOT/sd-life" ]
}

@test "sd-oom: memory.max of the scope OOM-kills inside it" {
	update_config '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
	sdberth create --bundle "$BUNDLE" sd-oom
	sdberth start sd-oom
	run sdberth exec sd-oom dd if=/dev/zero of=/dev/null bs=64M count=1
	[ "$status" -eq $((128 + 9)) ]
	grep -Eq '^oom_kill [1-9]' /sys/fs/cgroup/system.slice/berth-sd-oom.scope/memory.events
}

@test "sd-owner: with a user and a cgroup namespace and a writable cgroup mount, the scope's cgroup is the container root's (as runc); read-only, it is not" {
	# as runc's test: the mapped root must reach the bundle and write its mount points
	chown 100000 "$TEST_TMP" "$BUNDLE/rootfs"
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"hostID": 100000, "containerID": 0, "size": 65536}]
		| .linux.gidMappings = [{"hostID": 100000, "containerID": 0, "size": 65536}]'
	set_args sh -c 'stat -c %U /sys/fs/cgroup; stat -c %U /sys/fs/cgroup/cgroup.procs'
	run sdberth run --bundle "$BUNDLE" sd-ro
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'nobody\nnobody')" ]
	update_config '(.mounts[] | select(.destination == "/sys/fs/cgroup") | .options) |= map(select(. != "ro"))'
	run sdberth run --bundle "$BUNDLE" sd-rw
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'root\nroot')" ]
	no_unit berth-sd-rw.scope
}

@test "sd-io: blockIO throttles of a disk land in the scope's io.max, at create and by update --resources" {
	# make test-systemd gives the guest a disk; any systemd machine has one
	dev=$(blockdev) || { echo "no block device in this kernel" >&2; false; }
	major=${dev%:*} minor=${dev#*:}
	update_config '.linux.resources.blockIO = {
		"throttleReadBpsDevice": [{"major": '"$major"', "minor": '"$minor"', "rate": 1048576}],
		"throttleWriteIOPSDevice": [{"major": '"$major"', "minor": '"$minor"', "rate": 300}]}'
	sdberth create --bundle "$BUNDLE" sd-io
	dir=/sys/fs/cgroup/system.slice/berth-sd-io.scope
	cat $dir/io.max
	grep -qx "$dev rbps=1048576 wbps=max riops=max wiops=300" $dir/io.max
	echo '{"blockIO": {"throttleWriteBpsDevice": [{"major": '"$major"', "minor": '"$minor"', "rate": 2097152}]}}' >"$TEST_TMP/r.json"
	sdberth update --resources "$TEST_TMP/r.json" sd-io
	cat $dir/io.max
	grep -qx "$dev rbps=1048576 wbps=2097152 riops=max wiops=300" $dir/io.max
	sdberth delete --force sd-io
	no_unit berth-sd-io.scope
}
