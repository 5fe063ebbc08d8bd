#!/usr/bin/env bats
# Nothing ignored in silence: config fields berth does not apply yet
# (linux.netDevices, id-mapped mounts) are refused at create, with one line
# naming the field, and leave no container, state or cgroup behind;
# `berth features` does not claim them. The fields berth applies are tested
# in fields.bats.

load helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

# refused ID WANT: create ID fails with one line naming WANT and leaves
# nothing behind.
refused() {
	local id=$1 want=$2
	run berth create --bundle "$BUNDLE" "$id"
	[ "$status" -ne 0 ] || { echo "create accepted a config with $want"; return 1; }
	[ "${#lines[@]}" -eq 1 ] || { echo "not one line: $output"; return 1; }
	# The log line quotes msg, so a quoted option name comes out escaped.
	[[ "$output" == *"$want"*"is not supported"* ]] || { echo "does not name $want: $output"; return 1; }
	[ ! -e "$STATE_ROOT/$id" ] || { echo "state of $id left behind"; return 1; }
	! ls -d /sys/fs/cgroup/*/berth/"$id" 2>/dev/null || { echo "cgroup of $id left behind"; return 1; }
}

@test "us-fields: each unapplied linux and process field is refused at create, naming it" {
	set_args true
	local field filter
	while IFS='|' read -r field filter; do
		cp "$BUNDLE/config.json" "$TEST_TMP/base.json"
		update_config "$filter"
		refused "us-field" "$field"
		cp "$TEST_TMP/base.json" "$BUNDLE/config.json"
	done <<-'EOF2'
		linux.netDevices|.linux.netDevices = {"us-veth0": {}}
		uidMappings/gidMappings on a mount|.mounts += [{"destination": "/mnt", "type": "bind", "source": "/tmp", "options": ["rbind"], "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}]
	EOF2
	# The same config without the field runs.
	run berth run --bundle "$BUNDLE" us-field-ok
	[ "$status" -eq 0 ]
}

@test "us-features: features does not claim netDevices or idmap mounts" {
	run "$BERTH" features
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.linux.netDevices.enabled, .linux.mountExtensions.idmap.enabled]' <<<"$output")" = '[false,false]' ]
}
