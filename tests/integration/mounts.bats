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

@test "mnt-binddata: filesystem options on a bind (which the kernel ignores) are named in a warning, and the bind is made" {
	add_mount "{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"$SRC\", \"options\": [\"rbind\", \"size=1k\", \"ro\", \"mode=755\"]}"
	run_ct mnt-binddata "cat /mnt/file; $(mountinfo_of /mnt)"
	[ "$status" -eq 0 ]
	[[ "$output" == *'level=warning msg="mounts['*'] (/mnt): filesystem-specific options size=1k,mode=755 have no effect on a bind mount; ignoring them"'* ]]
	[ "${lines[0]}" = hostdata ]
	[[ ",${lines[1]}," == *,ro,* ]]
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

@test "mnt-devpath: linux.devices outside /dev are made where they say (the spec allows any path), beneath the root; a read-only root takes them too" {
	update_config '.linux.devices = [
		{path: "/foo-dev", type: "b", major: 10, minor: 229},
		{path: "/subdir/foo-dev", type: "c", major: 1, minor: 3},
		{path: "/mnt/", type: "p"}]'
	run_ct mnt-devpath 'stat -c "%F %t:%T" /foo-dev /subdir/foo-dev /mnt'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "block special file a:e5" ]
	[ "${lines[1]}" = "character special file 1:3" ]
	[ "${lines[2]}" = "fifo 0:0" ]
	# made in the bundle's rootfs, as under runc
	[ -b "$BUNDLE/rootfs/foo-dev" ]
	rm -rf "$BUNDLE/rootfs/foo-dev" "$BUNDLE/rootfs/subdir"
	# a link in the image leads nowhere outside the root
	ln -s /tmp "$BUNDLE/rootfs/devlink"
	update_config '.root.readonly = true | .linux.devices = [{path: "/devlink/berth-devpath-x", type: "c", major: 1, minor: 3}]'
	run_ct mnt-devpath2 'stat -c "%F" /tmp/berth-devpath-x'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "character special file" ]
	[ ! -e /tmp/berth-devpath-x ]
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

@test "mnt-dangling: a bind destination through a dangling symlink is made where the link points, inside the rootfs (runc's mounts.bats)" {
	src="$TEST_TMP/src-file"
	echo hosts-content >"$src"
	# a dangling component: /etc/hosts -> /jump/baz/hosts, /jump -> /tmp/foo/bar
	rm -f "$BUNDLE/rootfs/etc/hosts"
	ln -s /tmp/foo/bar "$BUNDLE/rootfs/jump"
	ln -s /jump/baz/hosts "$BUNDLE/rootfs/etc/hosts"
	add_mount "{\"destination\": \"/etc/hosts\", \"source\": \"$src\", \"options\": [\"bind\"]}"
	run_ct mnt-dangle-1 'cat /tmp/foo/bar/baz/hosts; cat /etc/hosts; grep -c " /tmp/foo/bar/baz/hosts " /proc/self/mounts'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hosts-content ]
	[ "${lines[1]}" = hosts-content ]
	[ "${lines[2]}" = 1 ]
	# a trailing dangling symlink, to a file and to a directory
	rm -rf "$BUNDLE/rootfs/etc/hosts" "$BUNDLE/rootfs/jump" "$BUNDLE/rootfs/tmp/foo"
	ln -s /tmp/hosts "$BUNDLE/rootfs/etc/hosts"
	run_ct mnt-dangle-2 'cat /tmp/hosts'
	[ "$status" -eq 0 ]
	[ "$output" = hosts-content ]
	update_config '.mounts[-1].source = "'"$TEST_TMP"'"'
	rm -f "$BUNDLE/rootfs/tmp/hosts"
	run_ct mnt-dangle-3 'cat /tmp/hosts/src-file'
	[ "$status" -eq 0 ]
	[ "$output" = hosts-content ]
	# nothing was made outside the rootfs
	[ ! -e /tmp/foo/bar/baz ]
}

@test "mnt-legacy-dest: a relative destination is relative to /, one spelled with the rootfs's host path is taken inside it (runc's mounts.bats)" {
	add_mount '{"destination": "tmp/rel", "type": "tmpfs", "source": "tmpfs"}'
	add_mount "{\"destination\": \"$BUNDLE/rootfs/tmp/abs\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}"
	run_ct mnt-legacy 'grep -E " /tmp/(rel|abs) " /proc/self/mounts | cut -d" " -f2'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /tmp/rel ]
	[ "${lines[1]}" = /tmp/abs ]
	[[ "$output" != *"$BUNDLE"* ]]
}

# tmpcopyup (podman run --read-only mounts /run, /tmp, /var/tmp so): the
# image's files at the mount point are copied into the new tmpfs with
# their modes, owners, times, symlinks, nodes and xattrs; the image itself
# is never written. Failed before: "mount option tmpcopyup is not supported".
@test "mnt: tmpcopyup copies the image's files into the tmpfs" {
	r=$BUNDLE/rootfs/run
	mkdir -p "$r/sub/deeper"
	echo data >"$r/sub/file"
	chown 1000:1001 "$r/sub/file"
	chmod 4750 "$r/sub/file"
	chown 7:8 "$r/sub"
	chmod 2755 "$r/sub"
	ln -s deeper/x "$r/sub/link"
	mkfifo "$r/sub/fifo"
	echo deep >"$r/sub/deeper/x"
	touch -d '2001-02-03 04:05:06' "$r/sub/deeper/x"
	python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.rf", b"kept")' "$r/sub/file"
	chmod 0751 "$r"
	update_config '.root.readonly = true | .mounts += [{"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]}]'
	set_args sleep 1000
	berth run -d --bundle "$BUNDLE" rf-tmpcopyup-1
	wait_status rf-tmpcopyup-1 running
	run berth exec rf-tmpcopyup-1 sh -c 'cd /run; stat -c "%n %a %u:%g %F" . sub sub/file sub/fifo sub/deeper/x; readlink sub/link; cat sub/link sub/deeper/x; date -u -r sub/deeper/x +%Y%m%d%H%M%S; grep " /run " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1; touch /run/new && echo writable'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = ". 751 0:0 directory" ]
	[ "${lines[1]}" = "sub 2755 7:8 directory" ]
	[ "${lines[2]}" = "sub/file 4750 1000:1001 regular file" ]
	[ "${lines[3]}" = "sub/fifo 644 0:8 fifo" ]
	[ "${lines[4]}" = "sub/deeper/x 644 0:0 regular file" ]
	[ "${lines[5]}" = deeper/x ]
	[ "${lines[6]}" = deep ]
	[ "${lines[7]}" = deep ]
	[ "${lines[8]}" = 20010203040506 ]
	[ "${lines[9]}" = tmpfs ]
	[ "${lines[10]}" = writable ]
	pid=$(init_pid rf-tmpcopyup-1)
	[ "$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.rf").decode())' "/proc/$pid/root/run/sub/file")" = kept ]
	# the image is untouched
	[ ! -e "$r/new" ]
}

# runc: a tmpfs over a directory of the image takes its mode (with setgid
# and sticky bits); a mode= option wins; a mount point that had to be
# created keeps tmpfs's 1777. Failed before: every tmpfs was 1777.
@test "mnt: tmpfs mode is inherited from the mount point, mode= wins" {
	mkdir -p "$BUNDLE/rootfs/inh" "$BUNDLE/rootfs/expl"
	chmod 3710 "$BUNDLE/rootfs/inh"
	chmod 0700 "$BUNDLE/rootfs/expl"
	update_config '.mounts += [
		{"destination": "/inh", "type": "tmpfs", "source": "tmpfs"},
		{"destination": "/expl", "type": "tmpfs", "source": "tmpfs", "options": ["mode=0705"]},
		{"destination": "/made", "type": "tmpfs", "source": "tmpfs"}]'
	run_ct rf-tmpmode 'stat -c "%n %a" /inh /expl /made'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/inh 3710" ]
	[ "${lines[1]}" = "/expl 705" ]
	[ "${lines[2]}" = "/made 1777" ]
}

# runc's bind flag rules (its mounts_sshfs.bats matrix, on a tmpfs source
# made with the flags in a mount namespace of the test's own): a plain
# bind keeps the source's flags; any flag makes the flags exactly those
# asked for, the atime mode staying the source's unless one is asked for;
# in a user namespace the source's locked flags stay and clearing one is
# refused. Failed before: "ro" kept nosuid/nodev/noexec, "dev,suid,exec"
# left ro, nosymfollow was passed to the filesystem and ignored.
@test "mnt: bind flags follow runc's rules on a ro,nodev,nosuid,noexec,noatime source" {
	chmod 755 "$TEST_TMP"
	cat >"$TEST_TMP/inns.sh" <<-'EOS'
		set -eu
		src=$TEST_TMP/fsrc
		mkdir -p "$src"
		mount -t tmpfs -o nodev,nosuid,noexec,noatime tmpfs "$src"
		mount --bind -o remount,ro,nodev,nosuid,noexec,noatime "$src"
		cfg=$BUNDLE/config.json
		cp "$cfg" "$TEST_TMP/orig.json"
		try() { # NAME OPTIONS-JSON [USERNS]
			jq --arg s "$src" --argjson o "$2" '.process.args = ["awk", "$2 == \"/mnt\" {print $4}", "/proc/self/mounts"]
				| .mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": $o}]' "$TEST_TMP/orig.json" >"$cfg"
			if [ -n "${3:-}" ]; then
				jq '.linux.namespaces += [{"type": "user"}]
					| .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
					| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]' "$cfg" >"$cfg.new"
				mv "$cfg.new" "$cfg"
			fi
			echo "$1: $("$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" "rf-bindflags-$1" 2>&1 </dev/null | tr '\n' ' ')"
		}
		try plain '["bind"]'
		try ro '["bind", "ro"]'
		try clear '["rbind", "rw", "dev", "suid", "exec", "atime"]'
		try sym '["bind", "nosymfollow", "relatime"]'
		try ns-ro '["bind", "ro"]' userns
		try ns-dev '["bind", "dev"]' userns
		try ns-strict '["bind", "strictatime"]' userns
	EOS
	run env BERTH="$BERTH" STATE_ROOT="$STATE_ROOT" BUNDLE="$BUNDLE" TEST_TMP="$TEST_TMP" \
		unshare -m --propagation private bash "$TEST_TMP/inns.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	opts() { sed -n "s/^$1: //p" <<<"$output" | tr -d ' ' | tr ',' '\n' | grep -vE '^(size|nr_inodes|inode64|mode|uid|gid)=' | sort | tr '\n' ' '; }
	[ "$(opts plain)" = "noatime nodev noexec nosuid ro " ]
	[ "$(opts ro)" = "noatime ro " ]
	[ "$(opts clear)" = "noatime rw " ]
	[ "$(opts sym)" = "nosymfollow relatime rw " ]
	[ "$(opts ns-ro)" = "noatime nodev noexec nosuid ro " ]
	[[ "$output" == *"ns-dev: "*"operation not permitted"* ]]
	[[ "$output" == *"ns-strict: "*"operation not permitted"* ]]
}

# rootfsPropagation unbindable and shared: "/" was made so before the
# rootfs was bound, and binding an unbindable mount fails (EINVAL); now
# the mounts start as slaves (shared ones, for rshared: see the next
# tests) and "/" gets the mode after pivot_root. runc main makes the
# copy runbindable first and then fails to bind the cgroup mount.
@test "mnt: rootfsPropagation unbindable, runbindable and shared work" {
	for p in unbindable runbindable shared rshared; do
		update_config --arg p "$p" '.linux.rootfsPropagation = $p'
		run_ct "rf-rprop-$p" "awk '\$5 == \"/\" {print \$7}' /proc/self/mountinfo"
		[ "$status" -eq 0 ]
		case $p in
		*unbindable) [ "$output" = unbindable ] ;;
		*shared) [[ "$output" == shared:* ]] ;;
		esac
	done
}

# On a systemd host the caller's "/" is shared. The container's "/" was
# then a slave of the caller's mount (every mount starts as one), still
# receiving what the caller mounts under the rootfs: "master" by default,
# "shared,slave" with rootfsPropagation shared. Under runc the mount the
# rootfs is on is made private first (a slave only for slave/rslave).
@test "mnt: the propagation of / under a caller whose / is shared is runc's: none by default, shared alone, a slave for slave" {
	local p want got
	for p in "" shared rshared private slave rslave; do
		update_config --arg p "$p" 'if $p == "" then del(.linux.rootfsPropagation) else .linux.rootfsPropagation = $p end'
		set_args sh -c "awk '\$5 == \"/\" {for (i = 7; \$i != \"-\"; i++) {sub(/:[0-9]+\$/, \"\", \$i); printf \"%s \", \$i}; print \"\"}' /proc/self/mountinfo"
		run unshare -m --propagation shared "$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" "rf-rprop-sh-${p:-none}"
		got=$(echo $output)
		echo "${p:-none}: [$got]"
		[ "$status" -eq 0 ]
		case $p in
		"" | private) want= ;;
		*shared) want=shared ;;
		*slave) want=master ;;
		esac
		[ "$got" = "$want" ]
	done
}

# Kubernetes' Bidirectional mount propagation: containerd sets
# rootfsPropagation rshared and binds the volume rshared. runc makes the
# copy of the caller's mounts rshared first, so the volume is a peer of
# the caller's shared mount and mounts go both ways. berth made every
# copy a slave first, whatever rootfsPropagation said: the container's
# mounts under the volume never reached the caller (critest's "mount with
# 'rshared' should support propagation from host to container and vice
# versa" failed). Without rootfsPropagation they still do not, as under
# runc. In a mount namespace of the test's own.
@test "mnt: rootfsPropagation rshared makes a shared volume's mounts go both ways, as runc's" {
	update_config '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	update_config --arg v "$TEST_TMP/vol" '.mounts += [{destination: "/vol", type: "bind", source: $v, options: ["rbind", "rshared"]}]'
	set_args sleep 1000
	mkdir "$TEST_TMP/vol"
	cat >"$TEST_TMP/bidi.sh" <<-'EOF'
		set -e
		vol=$TEST_TMP/vol
		mount -t tmpfs bidi-vol "$vol"
		mount --make-shared "$vol"
		"$BERTH" --root "$STATE_ROOT" run -d --bundle "$BUNDLE" "$1" </dev/null >/dev/null
		mkdir "$vol/h"
		mount -t tmpfs bidi-host "$vol/h"
		echo host >"$vol/h/f"
		echo "in container: $("$BERTH" --root "$STATE_ROOT" exec "$1" cat /vol/h/f)"
		"$BERTH" --root "$STATE_ROOT" exec "$1" sh -c 'mkdir /vol/c && mount -t tmpfs bidi-ctr /vol/c && echo ctr >/vol/c/f'
		echo "in caller: $(cat "$vol/c/f" 2>/dev/null || echo none)"
		"$BERTH" --root "$STATE_ROOT" delete -f "$1"
	EOF
	local p
	for p in rshared ""; do
		update_config --arg p "$p" 'if $p == "" then del(.linux.rootfsPropagation) else .linux.rootfsPropagation = $p end'
		run env TEST_TMP="$TEST_TMP" BERTH="$BERTH" STATE_ROOT="$STATE_ROOT" BUNDLE="$BUNDLE" \
			unshare -m --propagation private bash "$TEST_TMP/bidi.sh" "rf-bidi-${p:-none}"
		echo "${p:-none}: $output"
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = "in container: host" ]
		if [ "$p" = rshared ]; then
			[ "${lines[1]}" = "in caller: ctr" ]
		else
			[ "${lines[1]}" = "in caller: none" ]
		fi
	done
}

# runc refuses a /proc that is not an ordinary directory of the image
# ("must be mounted on ordinary directory"); sec-procsym covers symlinks.
@test "mnt: a /proc that is a file is refused with runc's message" {
	rm -rf "$BUNDLE/rootfs/proc"
	touch "$BUNDLE/rootfs/proc"
	run berth create --bundle "$BUNDLE" rf-procfile
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *'filesystem '*proc*' must be mounted on ordinary directory'* ]]
}

# maskedPaths: a path listed twice is masked once, and the masked
# directories share one read-only tmpfs (runc 1.5). Failed before: two
# mounts on the repeated paths, one tmpfs superblock per directory.
@test "mnt: maskedPaths with duplicates, directories sharing one tmpfs" {
	mkdir -p "$BUNDLE/rootfs/m1/sub" "$BUNDLE/rootfs/m2" "$BUNDLE/rootfs/m3"
	echo secret >"$BUNDLE/rootfs/f"
	update_config '.linux.maskedPaths = ["/m1", "/m2", "/m1/", "/f", "/m3", "//f", "/m1"]'
	run_ct rf-maskdup 'for p in /m1 /m2 /m3 /f; do echo "$p $(awk -v p=$p '\''$5 == p'\'' /proc/self/mountinfo | wc -l)"; done
		awk '\''$5 ~ /^\/m[123]$/ {print $3}'\'' /proc/self/mountinfo | sort -u | wc -l
		ls -A /m1 | wc -l; cat /f | wc -c; touch /m2/x 2>/dev/null && echo WROTE; true'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/m1 1" ]
	[ "${lines[1]}" = "/m2 1" ]
	[ "${lines[2]}" = "/m3 1" ]
	[ "${lines[3]}" = "/f 1" ]
	[ "${lines[4]}" = 1 ]
	[ "${lines[5]}" = 0 ]
	[ "${lines[6]}" = 0 ]
	[[ "$output" != *WROTE* ]]
}

# A read-only /dev (runc's "ro /dev mount", and a read-only bind of a
# directory over /dev): as in runc, /dev is made read-only only once
# devpts, shm, mqueue and the device nodes are in place. Failed before:
# creating /dev/pts on the read-only /dev (read-only file system).
@test "mnt: a read-only /dev, tmpfs or bind, still gets devpts and its devices" {
	cp "$BUNDLE/config.json" "$TEST_TMP/orig.json"
	update_config '.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)'
	run_ct rf-rodev-tmpfs "$(mountinfo_of /dev); $(fstype_of /dev/pts) ; ls -l /dev/null /dev/zero | cut -c1; ls -ld /dev/ptmx; touch /dev/x 2>/dev/null && echo WROTE; true"
	[ "$status" -eq 0 ]
	[[ ",${lines[0]}," == *,ro,* ]]
	[[ "${lines[1]}" == devpts* ]]
	[ "${lines[2]}" = c ]
	[ "${lines[3]}" = c ]
	[[ "$output" != *WROTE* ]]

	devdir=$TEST_TMP/devdir
	mkdir -p "$devdir"
	mknod -m 666 "$devdir/null" c 1 3
	cp "$TEST_TMP/orig.json" "$BUNDLE/config.json"
	update_config --arg d "$devdir" '.mounts |= map(if .destination == "/dev" then {"destination": "/dev", "type": "bind", "source": $d, "options": ["rbind", "ro", "nosuid"]} else . end)'
	run_ct rf-rodev-bind "$(mountinfo_of /dev); $(fstype_of /dev/pts); $(fstype_of /dev/shm); ls -l /dev/null | cut -c1; echo hi >/dev/null && echo null-ok; touch /dev/x 2>/dev/null && echo WROTE; true"
	[ "$status" -eq 0 ]
	[[ ",${lines[0]}," == *,ro,* ]]
	[[ "${lines[1]}" == devpts* ]]
	[[ "${lines[2]}" == tmpfs* ]]
	[ "${lines[3]}" = c ]
	[ "${lines[4]}" = null-ok ]
	[[ "$output" != *WROTE* ]]
}

# --no-pivot leaves the host's procfs and sysfs in the container's mount
# namespace, outside its chroot: a process of the container could then
# mount a fresh, unmasked procfs in a user namespace of its own (runc's
# "--no-pivot must not expose bare /proc"). They are detached before the
# move, as runc does. Failed before: the procfs mount succeeded.
@test "mnt: --no-pivot leaves no bare /proc to mount a procfs from" {
	update_config '.process.capabilities.bounding += ["CAP_SETFCAP"]
		| .process.capabilities.permitted += ["CAP_SETFCAP"]
		| .process.capabilities.effective += ["CAP_SETFCAP"]'
	set_args unshare -mrpf sh -c 'mount -t proc none /proc && echo MOUNTED'
	run berth run --no-pivot --bundle "$BUNDLE" rf-nopivot-proc
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" != *MOUNTED* ]]
	[[ "$output" == *"mount: permission denied"* ]]
	# the host's /proc and /sys are untouched
	[ -e /proc/self/mountinfo ]
	[ -d /sys/kernel ]
}

# A bind source the container's user namespace cannot reach (under a
# directory only the host's root may enter) is opened by the runtime
# and handed to init (runc does the same). Failed before: "open source:
# permission denied".
@test "mnt: a bind source out of the user namespace's reach is opened by the runtime" {
	chmod 755 "$TEST_TMP"
	mkdir -p "$TEST_TMP/private/pub"
	echo reached >"$TEST_TMP/private/pub/file"
	chmod 700 "$TEST_TMP/private"
	mkdir -p "$BUNDLE/rootfs/mnt"
	update_config --arg s "$TEST_TMP/private/pub" '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
		| .mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["rbind", "ro"]}]'
	run_ct rf-userns-src "cat /mnt/file; $(mountinfo_of /mnt); touch /mnt/x 2>/dev/null && echo WROTE; true"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = reached ]
	[[ ",${lines[1]}," == *,ro,* ]]
	[[ "$output" != *WROTE* ]]
}
