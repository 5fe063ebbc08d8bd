#!/usr/bin/env bats
# Idmapped mounts (mounts[].uidMappings/gidMappings, idmap, ridmap): the
# ids a file has on disk read back through the mount inside the
# container, with and without a container user namespace, on ext4, tmpfs
# and overlay sources. The tmpfs and overlay sources are mounted in a
# mount namespace the test makes (unshare -m), never in the host's.

load helpers

setup() {
	setup_bundle
	# ext4 source (the test dir): files owned by 0 and by 1000 on disk.
	mkdir "$TEST_TMP/src"
	touch "$TEST_TMP/src/root-file" "$TEST_TMP/src/user-file"
	chown 1000:1000 "$TEST_TMP/src/user-file"
	set_args sh -c 'stat -c "%n %u:%g" /mnt/root-file /mnt/user-file'
}
teardown() { teardown_bundle; }

# userns_config: a container user namespace mapping 0-65535 to 100000-.
userns_config() {
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	# Container root is 100000 on the host: it must reach the bundle.
	chmod 711 "$TEST_TMP"
	chown -R 100000:100000 "$BUNDLE/rootfs"
}

@test "idmap-plain: without a user namespace, on-disk ids show shifted by the mount's mappings" {
	update_config --arg s "$TEST_TMP/src" '.mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["bind"],
		"uidMappings": [{"containerID": 0, "hostID": 2000, "size": 1001}],
		"gidMappings": [{"containerID": 0, "hostID": 3000, "size": 1001}]}]'
	run berth run --bundle "$BUNDLE" idmap-plain
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/mnt/root-file 2000:3000"* ]]
	[[ "$output" == *"/mnt/user-file 3000:4000"* ]]
}

@test "idmap-userns: with the container's mappings (idmap, no mappings of its own), disk root is container root, both ways" {
	userns_config
	# Without idmap the container's root does not own the file: nobody.
	update_config --arg s "$TEST_TMP/src" '.mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["bind"]}]'
	run berth run --bundle "$BUNDLE" idmap-none
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/mnt/root-file 65534:65534"* ]]

	update_config '.mounts[-1].options = ["bind", "idmap"]'
	set_args sh -c 'stat -c "%n %u:%g" /mnt/root-file /mnt/user-file; touch /mnt/made-inside'
	run berth run --bundle "$BUNDLE" idmap-userns
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/mnt/root-file 0:0"* ]]
	[[ "$output" == *"/mnt/user-file 1000:1000"* ]]
	# Written by container root through the mount: root on disk.
	[ "$(stat -c %u:%g "$TEST_TMP/src/made-inside")" = 0:0 ]
}

@test "idmap-fs: a tmpfs source is idmapped too; an overlay one is refused clearly (in a mount namespace of the test's)" {
	userns_config
	update_config --arg t "$TEST_TMP/tsrc" '.mounts += [
		{"destination": "/mnt", "type": "bind", "source": $t, "options": ["bind", "idmap"]}]'
	set_args sh -c 'stat -c "%n %u:%g" /mnt/root-file'
	mkdir "$TEST_TMP/tsrc" "$TEST_TMP/ovl" "$TEST_TMP/upper" "$TEST_TMP/work"
	run unshare -m --propagation private -- bash -euc '
		mount -t tmpfs -o mode=0755 idmap-test "$1/tsrc"
		touch "$1/tsrc/root-file"
		"$2" --root "$3" run --bundle "$4" idmap-fs >"$1/out" 2>&1 </dev/null || { cat "$1/out"; exit 1; }
		cat "$1/out"' sh "$TEST_TMP" "$BERTH" "$STATE_ROOT" "$BUNDLE" 3>&-
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/mnt/root-file 0:0"* ]]

	# The kernel takes idmapped overlay layers, but an overlay mount
	# cannot itself be idmapped.
	update_config --arg o "$TEST_TMP/ovl" '.mounts[-1].source = $o'
	run unshare -m --propagation private -- bash -euc '
		mount -t overlay -o "lowerdir=$1/src,upperdir=$1/upper,workdir=$1/work" idmap-ovl "$1/ovl"
		"$2" --root "$3" run --bundle "$4" idmap-ovl >"$1/out" 2>&1 </dev/null || echo "rc=$?"
		cat "$1/out"' sh "$TEST_TMP" "$BERTH" "$STATE_ROOT" "$BUNDLE" 3>&-
	echo "$output"
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *"overlayfs does not support idmapped mounts"* ]]
	[ -z "$("$BERTH" --root "$STATE_ROOT" list -q)" ]
}

@test "idmap-rec: ridmap maps the submounts of an rbind too; idmap only its top" {
	userns_config
	mkdir "$TEST_TMP/src/sub"
	update_config --arg s "$TEST_TMP/src" '.mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["rbind", "ridmap"]}]'
	set_args sh -c 'stat -c "%n %u:%g" /mnt/root-file /mnt/sub/inner'
	run unshare -m --propagation private -- bash -euc '
		mount -t tmpfs -o mode=0755 idmap-sub "$1/src/sub"
		touch "$1/src/sub/inner"
		"$2" --root "$3" run --bundle "$4" idmap-rec >"$1/out" 2>&1 </dev/null || true
		sed -i "s/\"ridmap\"/\"idmap\"/" "$4/config.json"
		"$2" --root "$3" run --bundle "$4" idmap-top >>"$1/out" 2>&1 </dev/null || true
		cat "$1/out"' sh "$TEST_TMP" "$BERTH" "$STATE_ROOT" "$BUNDLE" 3>&-
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '/mnt/root-file 0:0' <<<"$output")" -eq 2 ]
	[ "$(grep -c '/mnt/sub/inner 0:0' <<<"$output")" -eq 1 ]
	[ "$(grep -c '/mnt/sub/inner 65534:65534' <<<"$output")" -eq 1 ]
}

@test "idmap-errors: idmapped mounts that cannot be made are refused at create, naming the mount" {
	set_args true
	update_config '.mounts += [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]}]'
	run berth run --bundle "$BUNDLE" idmap-e1
	[ "$status" -ne 0 ]
	[[ "$output" == *"/mnt"*"idmap/ridmap are for bind mounts only"* ]]

	update_config --arg s "$TEST_TMP/src" '.mounts[-1] = {"destination": "/mnt", "type": "bind", "source": $s, "options": ["bind"],
		"uidMappings": [{"containerID": 0, "hostID": 2000, "size": 1}]}'
	run berth run --bundle "$BUNDLE" idmap-e2
	[ "$status" -ne 0 ]
	[[ "$output" == *"needs both uidMappings and gidMappings"* ]]

	update_config '.mounts[-1] |= (del(.uidMappings) | .options = ["bind", "idmap"])'
	run berth run --bundle "$BUNDLE" idmap-e3
	[ "$status" -ne 0 ]
	[[ "$output" == *"the config has none"* ]]
	[ -z "$("$BERTH" --root "$STATE_ROOT" list -q)" ]
}

@test "idmap-joined: idmap without mappings in a container that joins a user namespace by path takes that namespace" {
	userns_config
	set_args sleep 1000
	berth create --bundle "$BUNDLE" idj-a
	pid=$(init_pid idj-a)
	update_config --arg p "/proc/$pid/ns/user" --arg s "$TEST_TMP/src" '
		.linux.namespaces |= map(if .type == "user" then .path = $p else . end)
		| del(.linux.uidMappings, .linux.gidMappings)
		| .mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["bind", "idmap"]}]'
	set_args sh -c 'stat -c "%n %u:%g" /mnt/root-file /mnt/user-file'
	run berth run --bundle "$BUNDLE" idj-b
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/mnt/root-file 0:0"* ]]
	[[ "$output" == *"/mnt/user-file 1000:1000"* ]]
}

@test "idmap-ctr-src: an idmapped bind whose source is the container's own earlier mount (runc's mount order test)" {
	# The source is a path in the rootfs where an earlier mount of the
	# config put a directory: the direct init's thread opens it in the
	# container's mount namespace, where that mount is.
	mkdir -p "$TEST_TMP/bsrc/a/x" "$BUNDLE/rootfs/mnt" "$BUNDLE/rootfs/final"
	echo a-x >"$TEST_TMP/bsrc/a/x/file"
	update_config --arg s "$TEST_TMP/bsrc/a" --arg r "$BUNDLE/rootfs" '.mounts += [
		{"destination": "/mnt", "type": "bind", "source": $s, "options": ["rbind"]},
		{"destination": "/final", "type": "bind", "source": ($r + "/mnt"), "options": ["rbind"],
		 "uidMappings": [{"containerID": 0, "hostID": 2000, "size": 1001}],
		 "gidMappings": [{"containerID": 0, "hostID": 3000, "size": 1001}]}]'
	set_args sh -c 'cat /final/x/file; stat -c "%u:%g" /final/x/file'
	run berth run --bundle "$BUNDLE" idmap-ctr-src
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == a-x ]]
	[[ "${lines[1]}" == 2000:3000 ]]
}

@test "idmap-ctr-src-userns: the same with a user namespace (the Go init): the runtime opens the source in init's mount namespace" {
	# With a user namespace the Go init asks the runtime for an idmapped
	# source (mountsource.go); opened in the host's mount namespace it was
	# the rootfs's empty /mnt.
	userns_config
	mkdir -p "$TEST_TMP/bsrc/a/x" "$BUNDLE/rootfs/mnt" "$BUNDLE/rootfs/final"
	echo a-x >"$TEST_TMP/bsrc/a/x/file"
	# Only the host's root can reach the first source: the runtime opens it.
	chmod 700 "$TEST_TMP/bsrc"
	update_config --arg s "$TEST_TMP/bsrc/a" --arg r "$BUNDLE/rootfs" '.mounts += [
		{"destination": "/mnt", "type": "bind", "source": $s, "options": ["rbind"]},
		{"destination": "/final", "type": "bind", "source": ($r + "/mnt"), "options": ["rbind", "idmap"]}]'
	set_args sh -c 'cat /final/x/file; stat -c "%u:%g" /final/x/file /mnt/x/file'
	run berth run --bundle "$BUNDLE" idmap-ctr-src-u
	echo "$output"
	[ "$status" -eq 0 ]
	# Disk root is the container's root through the idmapped /final only.
	[ "$output" = "$(printf 'a-x\n0:0\n65534:65534')" ]
}
