#!/usr/bin/env bats
# berth features: every list it prints is checked against what berth
# really does with a config that uses the entry.

load helpers

setup() {
	setup_bundle
	FEATURES=$("$BERTH" features)
}
teardown() { teardown_bundle; }

feat() { jq -c "$@" <<<"$FEATURES"; }

@test "features: versions match berth spec and --version" {
	[ "$(feat -r .ociVersionMin)" = 1.0.0 ]
	[ "$(feat -r .ociVersionMax)" = "$(jq -r .ociVersion "$BUNDLE/config.json")" ]
	ver=$("$BERTH" --version | awk '/^berth version/ {print $3}')
	[ "$(feat -r '.annotations["org.berth-runtime.berth.version"]')" = "$ver" ]
	[ "$(feat -r '.annotations["org.berth-runtime.berth.checkpoint.enabled"]')" = false ]
	# Every config version in the range runs.
	update_config '.ociVersion = "1.0.0"'
	set_args true
	run berth run --bundle "$BUNDLE" features-ver
	[ "$status" -eq 0 ]
}

@test "features: every listed hook runs" {
	hooks=$(feat -r '.hooks[]')
	[ "$(wc -w <<<"$hooks")" -eq 6 ]
	# The same path inside and outside: createContainer and
	# startContainer run in the container's mount namespace.
	out=$TEST_TMP/hookout
	mkdir "$out"
	update_config --arg d "$out" '.mounts += [{"destination": $d, "type": "bind", "source": $d, "options": ["rbind"]}]'
	for h in $hooks; do
		update_config --arg h "$h" --arg f "$out/hook-$h" \
			'.hooks[$h] = [{"path": "/bin/sh", "args": ["sh", "-c", "touch " + $f]}]'
	done
	set_args true
	run berth run --bundle "$BUNDLE" features-hooks
	[ "$status" -eq 0 ]
	for h in $hooks; do [ -e "$out/hook-$h" ] || { echo "hook $h did not run"; false; }; done
}

@test "features: every listed mount option is accepted on a bind mount" {
	mkdir "$TEST_TMP/src"
	set_args true
	for o in $(feat -r '.mountOptions[]'); do
		# remount needs an existing mount at the destination: it is
		# checked on /proc below.
		[ "$o" = remount ] && continue
		# tmpcopyup is for tmpfs only (refused on a bind): checked in mounts.bats.
		[ "$o" = tmpcopyup ] && continue
		update_config --arg o "$o" --arg s "$TEST_TMP/src" \
			'.mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["rbind", $o]}]'
		run berth run --bundle "$BUNDLE" features-mo
		[ "$status" -eq 0 ] || { echo "mount option $o: $output"; false; }
		update_config '.mounts |= map(select(.destination != "/mnt"))'
	done
	# idmap and ridmap are an extension of their own (below), as in runc.
	[ "$(feat '.mountOptions | index("idmap")')" = null ]
	[ "$(feat '.mountOptions | index("ridmap")')" = null ]
}

@test "features: the idmap extension is on (idmap.bats applies it)" {
	[ "$(feat .linux.mountExtensions.idmap.enabled)" = true ]
}

@test "features: every listed namespace can be asked for" {
	set_args true
	# The user namespace maps root to 100000, which must reach the rootfs.
	chmod 755 "$TEST_TMP"
	DEFAULT_NS=$(jq -c .linux.namespaces "$BUNDLE/config.json")
	for ns in $(feat -r '.linux.namespaces[]'); do
		[ -e "/proc/self/ns/$([ "$ns" = network ] && echo net || { [ "$ns" = mount ] && echo mnt || echo "$ns"; })" ]
		if [ "$ns" = user ]; then
			update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
		fi
		# A user namespace must own the pid and network namespaces for
		# /proc and /sys to be mountable: it joins the default set.
		update_config --arg t "$ns" --argjson dflt "$DEFAULT_NS" \
			'.linux.namespaces = (if $t == "user" then $dflt else [{"type": "mount"}] end + [{"type": $t}] | unique) |
			 if any(.linux.namespaces[]; .type == "uts") then . else del(.hostname) end'
		run berth run --bundle "$BUNDLE" features-ns
		[ "$status" -eq 0 ] || { echo "namespace $ns: $output"; false; }
		update_config 'del(.linux.uidMappings, .linux.gidMappings)'
	done
}

@test "features: capabilities are the kernel's, and all of them can be granted" {
	n=$(feat '.linux.capabilities | length')
	[ "$n" -eq $(( $(cat /proc/sys/kernel/cap_last_cap) + 1 )) ]
	update_config --argjson c "$(feat .linux.capabilities)" '.process.capabilities.bounding = $c'
	set_args sh -c 'grep CapBnd /proc/self/status'
	run berth run --bundle "$BUNDLE" features-caps
	[ "$status" -eq 0 ]
	# Everything the host itself has in its bounding set is granted.
	[ "$output" = "$(grep CapBnd /proc/self/status)" ]
}

@test "features: cgroup v1, v2 and systemd drivers are compiled in" {
	[ "$(feat .linux.cgroup)" = '{"v1":true,"v2":true,"systemd":true,"systemdUser":true,"rdma":true}' ]
	# The systemd driver is there: it fails because systemd is not
	# running, not because it is unknown.
	if [ ! -d /run/systemd/system ]; then
		update_config '.linux.cgroupsPath = "system.slice:berth:features-sd"'
		set_args true
		run "$BERTH" --root "$STATE_ROOT" --systemd-cgroup run --bundle "$BUNDLE" features-sd </dev/null
		[ "$status" -ne 0 ]
		[[ "$output" == *"systemd not running"* ]]
	fi
}

@test "features: every seccomp action, operator, arch and flag is accepted" {
	[ "$(feat .linux.seccomp.enabled)" = true ]
	set_args true
	for a in $(feat -r '.linux.seccomp.actions[]'); do
		[ "$a" = SCMP_ACT_NOTIFY ] && continue # needs a listener: seccomp suites cover it
		update_config --arg a "$a" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["vhangup"], "action": $a}]}'
		run berth run --bundle "$BUNDLE" features-sc
		[ "$status" -eq 0 ] || { echo "action $a: $output"; false; }
	done
	update_config --argjson ops "$(feat .linux.seccomp.operators)" \
		'.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [$ops | to_entries[] | {"names": ["vhangup"], "action": "SCMP_ACT_ERRNO", "args": [{"index": (.key % 6), "value": 1, "valueTwo": 1, "op": .value}]}]}'
	run berth run --bundle "$BUNDLE" features-sc
	[ "$status" -eq 0 ]
	# Each arch is added to a filter; libseccomp cannot mix byte orders,
	# so on this host the other-endian ones fail with EDOM, never with
	# "not supported".
	for a in $(feat -r '.linux.seccomp.archs[]'); do
		update_config --arg a "$a" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": [$a], "syscalls": [{"names": ["vhangup"], "action": "SCMP_ACT_ERRNO"}]}'
		run berth run --bundle "$BUNDLE" features-sc
		[ "$status" -eq 0 ] || [[ "$output" == *"out of domain"* ]] || { echo "arch $a: $output"; false; }
	done
	update_config --argjson flags "$(feat .linux.seccomp.supportedFlags)" \
		'.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "flags": $flags, "syscalls": [{"names": ["vhangup"], "action": "SCMP_ACT_ERRNO"}]}'
	run berth run --bundle "$BUNDLE" features-sc
	[ "$status" -eq 0 ]
	# supportedFlags is a subset of knownFlags; an unknown flag is refused.
	[ "$(feat '(.linux.seccomp.supportedFlags - .linux.seccomp.knownFlags) | length')" -eq 0 ]
	update_config '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_BOGUS"]'
	run berth run --bundle "$BUNDLE" features-sc
	[ "$status" -ne 0 ]
}

@test "features: LSMs are applied, so asking for one on a host without it fails" {
	[ "$(feat .linux.apparmor.enabled)" = true ]
	[ "$(feat .linux.selinux.enabled)" = true ]
	set_args true
	if [ ! -e /sys/module/apparmor/parameters/enabled ]; then
		update_config '.process.apparmorProfile = "features-profile"'
		run berth run --bundle "$BUNDLE" features-aa
		[ "$status" -ne 0 ]
		[[ "$output" == *[Aa]pp[Aa]rmor* ]]
	fi
	if [ ! -d /sys/fs/selinux ]; then
		update_config 'del(.process.apparmorProfile) | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
		run berth run --bundle "$BUNDLE" features-se
		[ "$status" -ne 0 ]
		[[ "$output" == *SELinux* ]]
	fi
}

@test "features: output is valid JSON with no unknown fields" {
	# Only the fields of runtime-spec's features structure.
	[ "$(feat 'keys')" = '["annotations","hooks","linux","mountOptions","ociVersionMax","ociVersionMin","potentiallyUnsafeConfigAnnotations"]' ]
	run "$BERTH" features extra
	[ "$status" -ne 0 ]
}

@test "features: a seccomp profile loads without no_new_privs and CAP_SYS_ADMIN (Docker's default)" {
	# Docker asks for exactly this: its profile, noNewPrivileges false and
	# no CAP_SYS_ADMIN in any set. The filter must be loaded while init
	# still holds CAP_SYS_ADMIN.
	update_config '.process.noNewPrivileges = false |
		.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["vhangup"], "action": "SCMP_ACT_ERRNO"}]}'
	[ "$(jq '[.process.capabilities[][] | select(. == "CAP_SYS_ADMIN")] | length' "$BUNDLE/config.json")" -eq 0 ]
	set_args sh -c 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status'
	run berth run --bundle "$BUNDLE" features-scnnp
	[ "$status" -eq 0 ]
	[[ "$output" == *"NoNewPrivs:"*0* ]]
	[[ "$output" == *"Seccomp:"*2* ]]
}
