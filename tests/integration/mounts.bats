#!/usr/bin/env bats
# config.json mounts, root.readonly, masked and read-only paths, /dev and
# linux.devices, --no-pivot, cgroup mounts.

load helpers

setup() {
	setup_bundle
	# Tests write to the rootfs unless they ask for a read-only root.
	update_config '.root.readonly = false'
	SRC=$TEST_TMP/src
	mkdir -p "$SRC"
	echo hostdata >"$SRC/file"
}

teardown() { teardown_bundle; }

# add_mount JSON: appends a mount to config.json.
add_mount() {
	update_config --argjson m "$1" '.mounts += [$m]'
}

# run_ct ID CMD: runs a one-off container running sh -c CMD.
run_ct() {
	set_args sh -c "$2"
	run berth run --bundle "$BUNDLE" "$1"
	echo "$output"
}

# mountinfo_of MOUNTPOINT: a shell command printing the per-mount options
# of the topmost mount at MOUNTPOINT, to run inside the container.
mountinfo_of() {
	echo "awk '\$5 == \"$1\" {print \$6}' /proc/self/mountinfo | tail -1"
}

# fstype_of MOUNTPOINT: a shell command printing "fstype source superopts"
# of the topmost mount at MOUNTPOINT (after mountinfo's " - " separator).
fstype_of() {
	echo "grep ' $1 ' /proc/self/mountinfo | tail -1 | sed 's/.* - //'"
}

@test "mnt: a read-only bind is ro in mountinfo and refuses writes" {
	add_mount "{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"bind\", \"ro\"]}"
	run_ct mnt-ro "cat /mnt/file; $(mountinfo_of /mnt); touch /mnt/new && echo WROTE; echo x >/mnt/file || echo refused"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hostdata ]
	[[ ",${lines[1]}," == *,ro,* ]]
	[[ "$output" != *WROTE* ]]
	[[ "$output" == *"Read-only file system"* ]]
	[ ! -e "$SRC/new" ]
	[ "$(cat "$SRC/file")" = hostdata ]
}

@test "mnt: a read-write bind writes through to the host" {
	add_mount "{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"bind\"]}"
	run_ct mnt-rw "echo fromct >/mnt/new; $(mountinfo_of /mnt)"
	[ "$status" -eq 0 ]
	[[ ",${lines[0]}," == *,rw,* ]]
	[ "$(cat "$SRC/new")" = fromct ]
}

@test "mnt: nosuid, nodev, noexec and noatime on a bind" {
	cp "$BUNDLE/rootfs/bin/busybox" "$SRC/bb"
	add_mount "{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"rbind\", \"nosuid\", \"nodev\", \"noexec\", \"noatime\"]}"
	run_ct mnt-flags "$(mountinfo_of /mnt); /mnt/bb true && echo EXECUTED; true"
	[ "$status" -eq 0 ]
	for o in nosuid nodev noexec noatime; do
		[[ ",${lines[0]}," == *",$o,"* ]]
	done
	[[ "$output" != *EXECUTED* ]]
	[[ "$output" == *"Permission denied"* ]]
}

@test "mnt: strictatime and relatime are applied" {
	mkdir "$SRC/a" "$SRC/b"
	add_mount "{\"destination\": \"/a\", \"type\": \"bind\", \"source\": \"$SRC/a\", \"options\": [\"bind\", \"noatime\"]}"
	add_mount "{\"destination\": \"/s\", \"type\": \"bind\", \"source\": \"$SRC/b\", \"options\": [\"bind\", \"strictatime\"]}"
	add_mount "{\"destination\": \"/r\", \"type\": \"bind\", \"source\": \"$SRC/b\", \"options\": [\"bind\", \"noatime\", \"relatime\"]}"
	run_ct mnt-atime "$(mountinfo_of /a); $(mountinfo_of /s); $(mountinfo_of /r)"
	[ "$status" -eq 0 ]
	[[ ",${lines[0]}," == *,noatime,* ]]
	# strictatime shows as neither relatime nor noatime
	[[ ",${lines[1]}," != *atime,* ]]
	# the last atime option wins
	[[ ",${lines[2]}," == *,relatime,* ]]
}

@test "mnt: bind leaves submounts out, rbind brings them" {
	mkdir -p "$SRC/sub"
	mount -t tmpfs tmpfs "$SRC/sub"
	echo inner >"$SRC/sub/marker"
	add_mount "{\"destination\": \"/b\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"bind\"]}"
	add_mount "{\"destination\": \"/rb\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"rbind\"]}"
	run_ct mnt-rbind 'ls /b/sub | wc -l; cat /rb/sub/marker'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = inner ]
}

@test "mnt: rro makes submounts of an rbind read-only too" {
	mkdir -p "$SRC/sub"
	mount -t tmpfs tmpfs "$SRC/sub"
	add_mount "{\"destination\": \"/rb\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"rbind\", \"rro\"]}"
	run_ct mnt-rro 'touch /rb/sub/x && echo WROTE; touch /rb/y && echo WROTE; true'
	[ "$status" -eq 0 ]
	[[ "$output" != *WROTE* ]]
}

@test "mnt: a bind of a single file" {
	add_mount "{\"destination\": \"/etc/injected\", \"type\": \"bind\", \"source\": \"$SRC/file\", \"options\": [\"bind\", \"ro\"]}"
	run_ct mnt-file 'cat /etc/injected; [ -f /etc/injected ] && echo regular'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hostdata ]
	[ "${lines[1]}" = regular ]
	# the mount point was made as a file, not a directory
	[ -f "$BUNDLE/rootfs/etc/injected" ]
}

@test "mnt: a relative bind source is relative to the bundle" {
	mkdir "$BUNDLE/hostdir"
	echo inbundle >"$BUNDLE/hostdir/f"
	add_mount '{"destination": "/data", "type": "bind", "source": "hostdir", "options": ["bind"]}'
	# berth runs from elsewhere: the source must not depend on its cwd
	cd /
	run_ct mnt-rel 'cat /data/f'
	[ "$status" -eq 0 ]
	[ "$output" = inbundle ]
}

@test "mnt: tmpfs with size and mode" {
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m", "mode=1733"]}'
	run_ct mnt-tmpfs "stat -c %a /scratch; df -k /scratch | tail -1 | awk '{print \$2}'; $(fstype_of /scratch)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1733 ]
	[ "${lines[1]}" = 1024 ]
	[[ "${lines[2]}" == "tmpfs tmpfs "*"size=1024k"* ]]
	[[ "${lines[2]}" == *"mode=1733"* ]]
}

@test "mnt: a mount with a bad filesystem option fails create with the mount named" {
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=notasize"]}'
	set_args true
	run berth create --bundle "$BUNDLE" mnt-badopt
	[ "$status" -ne 0 ]
	[[ "$output" == *"/scratch"* ]]
	[[ "$output" == *"invalid argument"* ]]
}

# shared_src: makes $SRC a shared mount point on the host.
shared_src() {
	mount --bind "$SRC" "$SRC"
	mount --make-shared "$SRC"
	mkdir -p "$SRC/later"
}

@test "mnt: propagation modes on a bind (rslave, rprivate, rshared)" {
	shared_src
	add_mount "{\"destination\": \"/slave\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"rbind\", \"rslave\"]}"
	add_mount "{\"destination\": \"/private\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"rbind\", \"rprivate\"]}"
	add_mount "{\"destination\": \"/shared\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"rbind\", \"rshared\"]}"
	berth run -d --bundle "$BUNDLE" mnt-prop
	wait_status mnt-prop running
	# a mount made on the host after the container started
	mount -t tmpfs tmpfs "$SRC/later"
	echo propagated >"$SRC/later/marker"
	run berth exec mnt-prop sh -c 'cat /slave/later/marker; cat /private/later/marker 2>/dev/null || echo none; awk '\''$5 == "/shared" {print $7}'\'' /proc/self/mountinfo; awk '\''$5 == "/private" {print $7}'\'' /proc/self/mountinfo'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = propagated ]
	[ "${lines[1]}" = none ]
	[[ "${lines[2]}" == shared:* ]]
	# private: no propagation tag at all
	[[ "${lines[3]}" != shared:* && "${lines[3]}" != master:* ]]
}

@test "mnt: rootfsPropagation sets the propagation of /" {
	update_config '.linux.rootfsPropagation = "shared"'
	run_ct mnt-rprop "awk '\$5 == \"/\" {print \$7}' /proc/self/mountinfo"
	[ "$status" -eq 0 ]
	[[ "$output" == shared:* ]]

	update_config '.linux.rootfsPropagation = "private"'
	run_ct mnt-rprop2 "awk '\$5 == \"/\" {print \$7}' /proc/self/mountinfo"
	[ "$status" -eq 0 ]
	[[ "$output" != shared:* && "$output" != master:* ]]
}

@test "mnt: root.readonly makes / read-only" {
	update_config '.root.readonly = true'
	run_ct mnt-rootro "$(mountinfo_of /); touch /x && echo WROTE; touch /dev/shm/ok && echo tmpfs-writable"
	[ "$status" -eq 0 ]
	[[ ",${lines[0]}," == *,ro,* ]]
	[[ "$output" != *WROTE* ]]
	[[ "$output" == *tmpfs-writable* ]]
	[ ! -e "$BUNDLE/rootfs/x" ]
}

@test "mnt: without root.readonly / is writable" {
	run_ct mnt-rootrw "$(mountinfo_of /); touch /x && echo WROTE"
	[ "$status" -eq 0 ]
	[[ ",${lines[0]}," == *,rw,* ]]
	[ "${lines[1]}" = WROTE ]
}

@test "mnt: maskedPaths hide a file behind /dev/null and a directory behind an empty one" {
	echo secret >"$BUNDLE/rootfs/etc/secret"
	mkdir "$BUNDLE/rootfs/etc/secretdir"
	echo secret >"$BUNDLE/rootfs/etc/secretdir/f"
	update_config '.linux.maskedPaths = ["/etc/secret", "/etc/secretdir", "/does/not/exist"]'
	run_ct mnt-mask 'echo "[$(cat /etc/secret)]"; ls -A /etc/secretdir | wc -l; stat -c "%F %t:%T" /etc/secret; echo x > /etc/secretdir/n || echo refused'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "[]" ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = "character special file 1:3" ]
	[[ "$output" == *refused* ]]
	[ "$(cat "$BUNDLE/rootfs/etc/secret")" = secret ]
}

@test "mnt: the default maskedPaths and readonlyPaths apply to /proc" {
	# /proc/timer_list is in the default maskedPaths, /proc/sys in readonlyPaths
	[ -n "$(head -c 10 /proc/timer_list)" ]
	run_ct mnt-procmask 'echo "[$(head -c 10 /proc/timer_list 2>&1)]"; stat -c "%t:%T" /proc/timer_list; awk '\''$5 == "/proc/sys" {print "sys", $6}'\'' /proc/self/mountinfo; echo 1 >/proc/sys/kernel/ns_last_pid || echo refused'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "[]" ]
	[ "${lines[1]}" = 1:3 ]
	[[ "${lines[2]}" == "sys "* && ",${lines[2]#sys }," == *,ro,* ]]
	[[ "$output" == *refused* ]]
}

@test "mnt: readonlyPaths make a path read-only and leave the rest writable" {
	mkdir -p "$BUNDLE/rootfs/ro"
	update_config '.linux.readonlyPaths = ["/ro", "/missing/path"]'
	run_ct mnt-ropath "$(mountinfo_of /ro); touch /ro/x && echo WROTE; touch /rw-ok && echo rest-writable"
	[ "$status" -eq 0 ]
	[[ ",${lines[0]}," == *,ro,* ]]
	[[ "$output" != *WROTE* ]]
	[[ "$output" == *rest-writable* ]]
}

@test "mnt: default devices are the right character devices" {
	run_ct mnt-devs 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/dev/null character special file 1:3 666" ]
	[ "${lines[1]}" = "/dev/zero character special file 1:5 666" ]
	[ "${lines[2]}" = "/dev/full character special file 1:7 666" ]
	[ "${lines[3]}" = "/dev/random character special file 1:8 666" ]
	[ "${lines[4]}" = "/dev/urandom character special file 1:9 666" ]
	[ "${lines[5]}" = "/dev/tty character special file 5:0 666" ]
}

@test "mnt: /dev links, pts, shm and ptmx" {
	run_ct mnt-devlinks 'for l in fd stdin stdout stderr ptmx; do echo "$l $(readlink /dev/$l)"; done; grep -E " /dev/(pts|shm) " /proc/self/mountinfo | sed "s/.* - //"; head -c 4 /dev/zero | wc -c; echo ok >/dev/null && echo null-ok'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "fd /proc/self/fd" ]
	[ "${lines[1]}" = "stdin /proc/self/fd/0" ]
	[ "${lines[2]}" = "stdout /proc/self/fd/1" ]
	[ "${lines[3]}" = "stderr /proc/self/fd/2" ]
	[ "${lines[4]}" = "ptmx pts/ptmx" ]
	[[ "$output" == *"devpts devpts"* ]]
	[[ "$output" == *"tmpfs shm"* ]]
	[[ "$output" == *null-ok* ]]
}

@test "mnt: linux.devices makes nodes with their type, numbers, mode and owner" {
	update_config '.linux.devices = [
		{path: "/dev/mydev", type: "c", major: 1, minor: 7, fileMode: 416, uid: 1000, gid: 1001},
		{path: "/dev/sub/blk", type: "b", major: 7, minor: 200, fileMode: 384},
		{path: "/dev/myfifo", type: "p", fileMode: 420}]'
	run_ct mnt-lindev 'stat -c "%F %t:%T %a %u:%g" /dev/mydev /dev/sub/blk /dev/myfifo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "character special file 1:7 640 1000:1001" ]
	[ "${lines[1]}" = "block special file 7:c8 600 0:0" ]
	[ "${lines[2]}" = "fifo 0:0 644 0:0" ]
}

@test "mnt: linux.devices overrides a default device" {
	update_config '.linux.devices = [{path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 438, uid: 1234, gid: 1234}]'
	run_ct mnt-devover 'stat -c "%t:%T %u" /dev/null'
	[ "$status" -eq 0 ]
	[ "$output" = "1:3 1234" ]
}

# root_syscalls ARGS...: runs berth under strace and prints the calls
# that changed the container's root (pivot_root, chroot).
root_syscalls() {
	strace -f -qq -e trace=pivot_root,chroot -o "$TEST_TMP/strace" \
		"$BERTH" --root "$STATE_ROOT" "$@" >"$TEST_TMP/out" 2>&1 </dev/null
	cat "$TEST_TMP/out"
	grep -oE '(pivot_root|chroot)\([^)]*\) *= [0-9-]+' "$TEST_TMP/strace" | tr -s ' ' || true
}

@test "mnt: --no-pivot runs the container in its rootfs with chroot, not pivot_root" {
	echo marker >"$BUNDLE/rootfs/in-rootfs"
	set_args cat /in-rootfs
	run root_syscalls run --no-pivot --bundle "$BUNDLE" mnt-nopivot
	echo "$output"
	[ "${lines[0]}" = marker ]
	[[ "$output" == *'chroot(".") = 0'* ]]
	[[ "$output" != *pivot_root* ]]
}

@test "mnt: without --no-pivot the container's root comes from pivot_root" {
	echo marker >"$BUNDLE/rootfs/in-rootfs"
	set_args cat /in-rootfs
	run root_syscalls run --bundle "$BUNDLE" mnt-pivot
	echo "$output"
	[ "${lines[0]}" = marker ]
	[[ "$output" == *'pivot_root(".", ".") = 0'* ]]
	[[ "$output" != *chroot* ]]
}

@test "mnt: a cgroup mount shows the container's own cgroups" {
	update_config '.linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 42}'
	run_ct mnt-cgroup 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; cat /sys/fs/cgroup/pids/cgroup.procs | wc -l; touch /sys/fs/cgroup/new 2>/dev/null && echo WROTE; true'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 67108864 ]
	[ "${lines[1]}" = 42 ]
	# only the container's processes (sh, cat, wc) are in it
	[ "${lines[2]}" -le 3 ]
	[[ "$output" != *WROTE* ]]
}

@test "mnt: a bind source that does not exist fails create naming it" {
	add_mount "{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"$TEST_TMP/nope\", \"options\": [\"bind\"]}"
	run berth create --bundle "$BUNDLE" mnt-nosrc
	[ "$status" -ne 0 ]
	[[ "$output" == *"$TEST_TMP/nope"* ]]
	[[ "$output" == *"no such file or directory"* ]]
}

@test "mnt: a mount destination that is a symlink out of the rootfs stays inside" {
	ln -s /etc "$BUNDLE/rootfs/escape"
	mkdir -p "$TEST_TMP/victim"
	add_mount "{\"destination\": \"/escape/hosted\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}"
	run_ct mnt-symdest 'true'
	[ "$status" -eq 0 ]
	[ ! -e /etc/hosted ]
	[ -d "$BUNDLE/rootfs/etc/hosted" ]
}
