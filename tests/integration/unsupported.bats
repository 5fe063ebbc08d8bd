#!/usr/bin/env bats
# Nothing ignored in silence: config fields berth does not apply yet are
# refused at create (and in exec's process.json), with one line naming the
# field, and leave no container, state or cgroup behind; `berth features`
# does not list them.

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
		linux.intelRdt|.linux.intelRdt = {"closID": "us"}
		linux.memoryPolicy|.linux.memoryPolicy = {"mode": "MPOL_PREFERRED", "nodes": "0"}
		linux.personality|.linux.personality = {"domain": "LINUX32"}
		process.ioPriority|.process.ioPriority = {"class": "IOPRIO_CLASS_IDLE"}
		process.scheduler|.process.scheduler = {"policy": "SCHED_BATCH"}
		process.execCPUAffinity|.process.execCPUAffinity = {"initial": "0"}
	EOF2
	# The same config without the field runs.
	run berth run --bundle "$BUNDLE" us-field-ok
	[ "$status" -eq 0 ]
}

@test "us-mountopts: each unapplied mount option is refused at create, and features does not list it" {
	mkdir "$TEST_TMP/src"
	local feats o
	feats=$("$BERTH" features)
	for o in ratime rnorelatime rnostrictatime; do
		cp "$BUNDLE/config.json" "$TEST_TMP/base.json"
		update_config --arg o "$o" --arg s "$TEST_TMP/src" \
			'.mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["rbind", $o]}]'
		refused "us-mo" "$o"
		[[ "$output" == *"mount option"* ]]
		cp "$TEST_TMP/base.json" "$BUNDLE/config.json"
		[ "$(jq --arg o "$o" '.mountOptions | index($o)' <<<"$feats")" = null ] || { echo "features lists $o"; false; }
	done
}

@test "us-features: features does not claim intelRdt or a memory policy" {
	run "$BERTH" features
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.linux.intelRdt.enabled]' <<<"$output")" = '[false]' ]
	[ "$(jq -c '.linux.memoryPolicy.modes // []' <<<"$output")" = '[]' ]
}

@test "us-exec: exec refuses unapplied process fields in process.json, naming them" {
	run berth run -d --bundle "$BUNDLE" us-exec
	[ "$status" -eq 0 ]
	local field filter
	while IFS='|' read -r field filter; do
		jq -c "$filter" <<<'{"args": ["true"], "cwd": "/"}' >"$TEST_TMP/p.json"
		run berth exec --process "$TEST_TMP/p.json" us-exec
		[ "$status" -ne 0 ] || { echo "exec accepted $field"; false; }
		[[ "$output" == *"$field is not supported"* ]] || { echo "does not name $field: $output"; false; }
	done <<-'EOF2'
		process.ioPriority|.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 7}
		process.scheduler|.scheduler = {"policy": "SCHED_IDLE"}
		process.execCPUAffinity|.execCPUAffinity = {"final": "0"}
	EOF2
	# The same process.json without them runs.
	jq -n '{"args": ["true"], "cwd": "/"}' >"$TEST_TMP/p.json"
	run berth exec --process "$TEST_TMP/p.json" us-exec
	[ "$status" -eq 0 ]
}
