#!/usr/bin/env bats
# The per-process kernel attributes of runtime-spec 1.3 (issue 12): each is
# read back from the container's process, from inside or from the host's
# /proc, for run and for exec's process.json.

load helpers

setup() { setup_bundle; }

# runc main's mount options (specconv.KnownMountOptions).
RUNC_MOUNT_OPTIONS="async atime bind defaults dev diratime dirsync exec iversion lazytime loud mand noatime nodev
nodiratime noexec noiversion nolazytime nomand norelatime nostrictatime nosuid nosymfollow rbind relatime remount ro rw
silent strictatime suid sync symfollow private rprivate shared rshared slave rslave unbindable runbindable rro rrw rnosuid
rsuid rnodev rdev rnoexec rexec rnodiratime rdiratime rrelatime rnorelatime rnoatime ratime rstrictatime rnostrictatime
rnosymfollow rsymfollow tmpcopyup"
teardown() { teardown_bundle; }

# proc_field PID FIELD: a field of /proc/PID/status.
proc_field() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

# nice_of PID: the nice value, field 19 of /proc/PID/stat (after the
# parenthesised command name).
nice_of() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $17}'; }

@test "fl-sched: process.scheduler sets the policy, nice and priority of init and of an exec" {
	# Real-time tasks need a real-time share of their cpu cgroup (v1,
	# CONFIG_RT_GROUP_SCHED), which is 0 unless given, and a parent with
	# one to give: the root's, not berth's default parent.
	update_config '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7} | .linux.cgroupsPath = "/fl-sched-rt"
		| .linux.resources.cpu.realtimeRuntime = 10000 | .linux.resources.cpu.realtimePeriod = 100000'
	run berth run -d --bundle "$BUNDLE" fl-sched
	[ "$status" -eq 0 ]
	pid=$(init_pid fl-sched)
	run chrt -p "$pid"
	[[ "$output" == *"policy: SCHED_BATCH"* ]] || { echo "$output"; false; }
	[ "$(nice_of "$pid")" = 7 ]
	# exec's process.json: a real-time policy and its priority.
	jq -n '{"args": ["sh", "-c", "sleep 100"], "cwd": "/", "scheduler": {"policy": "SCHED_FIFO", "priority": 12, "flags": ["SCHED_FLAG_RESET_ON_FORK"]}}' >"$TEST_TMP/p.json"
	"$BERTH" --root "$STATE_ROOT" exec -d --process "$TEST_TMP/p.json" --pid-file "$TEST_TMP/exec.pid" fl-sched </dev/null
	run chrt -p "$(cat "$TEST_TMP/exec.pid")"
	[[ "$output" == *"policy: SCHED_FIFO|SCHED_RESET_ON_FORK"* ]] || { echo "$output"; false; }
	[[ "$output" == *"priority: 12"* ]] || { echo "$output"; false; }
	# SCHED_DEADLINE with its runtime, deadline and period.
	jq -n '{"args": ["sleep", "100"], "cwd": "/", "scheduler": {"policy": "SCHED_DEADLINE", "runtime": 1000000, "deadline": 5000000, "period": 10000000}}' >"$TEST_TMP/p.json"
	"$BERTH" --root "$STATE_ROOT" exec -d --process "$TEST_TMP/p.json" --pid-file "$TEST_TMP/exec.pid" fl-sched </dev/null
	run chrt -p "$(cat "$TEST_TMP/exec.pid")"
	[[ "$output" == *"policy: SCHED_DEADLINE"* ]] || { echo "$output"; false; }
	[[ "$output" == *"runtime/deadline/period parameters: 1000000/5000000/10000000"* ]] || { echo "$output"; false; }
}

@test "fl-sched-bad: a scheduler the config rules out or the kernel refuses fails create, naming it" {
	set_args true
	update_config '.process.scheduler = {"policy": "SCHED_OTHER", "priority": 5}'
	run berth create --bundle "$BUNDLE" fl-sched-bad
	[ "$status" -ne 0 ]
	[[ "$output" == *"process.scheduler.priority"* ]]
	[ ! -e "$STATE_ROOT/fl-sched-bad" ]
	# SCHED_ISO is in the spec, not in Linux: the kernel's refusal, named.
	update_config '.process.scheduler = {"policy": "SCHED_ISO"}'
	run berth create --bundle "$BUNDLE" fl-sched-bad
	[ "$status" -ne 0 ]
	[[ "$output" == *"process.scheduler (sched_setattr SCHED_ISO): invalid argument"* ]] || { echo "$output"; false; }
	[ ! -e "$STATE_ROOT/fl-sched-bad" ]
	! ls -d /sys/fs/cgroup/*/berth/fl-sched-bad 2>/dev/null || false
	# SCHED_DEADLINE needs every CPU in the affinity: with a cpuset, the
	# kernel's EPERM is worded as runc's (its scheduler.bats)
	if [ "$(nproc)" -ge 2 ]; then
		update_config '.linux.resources.cpu.cpus = "0"
			| .process.scheduler = {"policy": "SCHED_DEADLINE", "nice": 19, "runtime": 42000, "deadline": 1000000, "period": 1000000}'
		run berth create --bundle "$BUNDLE" fl-sched-bad
		[ "$status" -ne 0 ]
		[[ "$output" == *"process scheduler can't be used together with AllowedCPUs"* ]] || { echo "$output"; false; }
		[ ! -e "$STATE_ROOT/fl-sched-bad" ]
	fi
}

@test "fl-ioprio: process.ioPriority sets the I/O class and level of init and of an exec" {
	update_config '.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 6}'
	run berth run -d --bundle "$BUNDLE" fl-ioprio
	[ "$status" -eq 0 ]
	run ionice -p "$(init_pid fl-ioprio)"
	[ "$output" = "best-effort: prio 6" ] || { echo "$output"; false; }
	# Read from inside too, with the container's own ionice.
	jq -n '{"args": ["ionice"], "cwd": "/", "ioPriority": {"class": "IOPRIO_CLASS_IDLE"}}' >"$TEST_TMP/p.json"
	run berth exec --process "$TEST_TMP/p.json" fl-ioprio
	[ "$status" -eq 0 ]
	[ "$output" = idle ] || { echo "$output"; false; }
	jq -n '{"args": ["ionice"], "cwd": "/", "ioPriority": {"class": "IOPRIO_CLASS_RT", "priority": 0}}' >"$TEST_TMP/p.json"
	run berth exec --process "$TEST_TMP/p.json" fl-ioprio
	[ "$status" -eq 0 ]
	[ "$output" = "realtime: prio 0" ] || { echo "$output"; false; }
}

@test "fl-personality: linux.personality LINUX32 makes uname report a 32-bit machine, for init and exec" {
	[ "$(uname -m)" = x86_64 ] || skip "LINUX32 reads back as i686 on x86_64 only; this host is $(uname -m)"
	update_config '.linux.personality = {"domain": "LINUX32"} | .process.args = ["sh", "-c", "uname -m; sleep 100"]'
	run berth run -d --bundle "$BUNDLE" fl-pers
	[ "$status" -eq 0 ]
	[ "$(cat "/proc/$(init_pid fl-pers)/personality")" = 00000008 ]
	run berth exec fl-pers uname -m
	[ "$output" = i686 ] || { echo "$output"; false; }
	# LINUX is the default personality.
	update_config '.linux.personality = {"domain": "LINUX"}'
	run_in_container uname -m
	[ "$output" = x86_64 ]
	# No flag is defined: one is refused, not dropped.
	update_config '.linux.personality = {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}'
	run berth create --bundle "$BUNDLE" fl-pers2
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.personality.flags"*"ADDR_NO_RANDOMIZE"* ]] || { echo "$output"; false; }
}

@test "fl-mempolicy: linux.memoryPolicy sets the task's NUMA policy, shown in numa_maps" {
	[ -e /proc/self/numa_maps ] || skip "kernel without NUMA"
	update_config '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}'
	run berth run -d --bundle "$BUNDLE" fl-mpol
	[ "$status" -eq 0 ]
	run grep -c 'bind=static:0' "/proc/$(init_pid fl-mpol)/numa_maps"
	[ "$output" -gt 0 ] || { cat "/proc/$(init_pid fl-mpol)/numa_maps"; false; }
	# An exec gets the container's policy too, read from inside.
	run berth exec fl-mpol sh -c 'grep -c "bind=static:0" /proc/self/numa_maps'
	[ "$output" -gt 0 ]
	"$BERTH" --root "$STATE_ROOT" delete -f fl-mpol
	# How the kernel's numa_maps names each mode (mpol_to_str).
	declare -A shown=([MPOL_INTERLEAVE]=interleave [MPOL_PREFERRED]=prefer
		[MPOL_PREFERRED_MANY]="prefer (many)" [MPOL_WEIGHTED_INTERLEAVE]="weighted interleave")
	for m in MPOL_INTERLEAVE MPOL_PREFERRED MPOL_PREFERRED_MANY MPOL_WEIGHTED_INTERLEAVE; do
		update_config --arg m "$m" '.linux.memoryPolicy = {"mode": $m, "nodes": "0"} | .process.args = ["cat", "/proc/self/numa_maps"]'
		run berth run --bundle "$BUNDLE" fl-mpol
		[ "$status" -eq 0 ] || { echo "$m: $output"; false; }
		[[ "$output" == *" ${shown[$m]}:0 "* ]] || { echo "$m: no ${shown[$m]} in $output"; false; }
	done
	update_config '.linux.memoryPolicy = {"mode": "MPOL_LOCAL"}'
	run berth run --bundle "$BUNDLE" fl-mpol
	[[ "$output" == *" local "* ]] || { echo "$output"; false; }
}

@test "fl-mempolicy-bad: a memory policy the kernel refuses fails create, naming it, and leaves nothing" {
	set_args true
	# A node this host does not have.
	update_config '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "7"}'
	run berth create --bundle "$BUNDLE" fl-mpol-bad
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.memoryPolicy (set_mempolicy MPOL_BIND"*"the kernel refuses it: invalid argument"* ]] || { echo "$output"; false; }
	[ ! -e "$STATE_ROOT/fl-mpol-bad" ]
	! ls -d /sys/fs/cgroup/*/berth/fl-mpol-bad 2>/dev/null || false
	# NUMA balancing is for MPOL_BIND (and MPOL_PREFERRED_MANY) only.
	update_config '.linux.memoryPolicy = {"mode": "MPOL_INTERLEAVE", "nodes": "0", "flags": ["MPOL_F_NUMA_BALANCING"]}'
	run berth create --bundle "$BUNDLE" fl-mpol-bad
	[ "$status" -ne 0 ]
	[[ "$output" == *"the kernel refuses it"* ]] || { echo "$output"; false; }
	# Refused by berth before anything is made: nodes with MPOL_LOCAL.
	update_config '.linux.memoryPolicy = {"mode": "MPOL_LOCAL", "nodes": "0"}'
	run berth create --bundle "$BUNDLE" fl-mpol-bad
	[ "$status" -ne 0 ]
	[[ "$output" == *"MPOL_LOCAL takes no nodes"* ]]
	# runc's words (its memorypolicy.bats), each on the first line
	for bad in '{}' '{"mode": "INTERLEAVE", "nodes": "0"}' '{"nodes": "0-7"}'; do
		update_config --argjson p "$bad" '.linux.memoryPolicy = $p'
		run berth create --bundle "$BUNDLE" fl-mpol-bad
		[ "$status" -eq 1 ]
		[[ "${lines[0]}" == *"invalid memory policy mode"* ]] || { echo "$output"; false; }
	done
	update_config '.linux.memoryPolicy = {"mode": "MPOL_PREFERRED", "nodes": "0", "flags": ["MPOL_F_RELATIVE_NODES", "badflag"]}'
	run berth create --bundle "$BUNDLE" fl-mpol-bad
	[[ "${lines[0]}" == *"invalid memory policy flag"* ]]
	update_config '.linux.memoryPolicy = {"mode": "MPOL_DEFAULT", "nodes": "0-7"}'
	run berth create --bundle "$BUNDLE" fl-mpol-bad
	[[ "${lines[0]}" == *"mode requires 0 nodes but got 8"* ]]
	update_config '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "0-9876543210", "flags": []}'
	run berth create --bundle "$BUNDLE" fl-mpol-bad
	[[ "${lines[0]}" == *"invalid memory policy node"* ]]
	[ ! -e "$STATE_ROOT/fl-mpol-bad" ]
}

# The spec: execCPUAffinity "is not applicable to the container's init
# process" (runc leaves it out there too); an exec without a process file
# takes the config's. Before, berth pinned init to it: the first two
# checks fail on that build.
@test "fl-affinity: execCPUAffinity is for exec processes (initial during set-up, final after), never init's" {
	[ "$(nproc --all)" -ge 2 ] || skip "needs 2 CPUs"
	online=$(cat /sys/devices/system/cpu/online)
	update_config '.process.execCPUAffinity = {"initial": "1", "final": "0"} | .process.args = ["sleep", "100"]'
	run berth create --bundle "$BUNDLE" fl-aff
	[ "$status" -eq 0 ]
	pid=$(init_pid fl-aff)
	# Created and started: init is on every CPU of its cpuset.
	[ "$(proc_field "$pid" Cpus_allowed_list)" = "$online" ]
	run berth start fl-aff
	[ "$status" -eq 0 ]
	[ "$(proc_field "$pid" Cpus_allowed_list)" = "$online" ]
	# An exec by arguments takes the config's final affinity.
	run berth exec fl-aff grep Cpus_allowed_list /proc/self/status
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\t0' ]] || { echo "$output"; false; }
	# A process file's own; the runtime's thread gets its affinity back
	# (berth exec is not pinned).
	jq -n '{"args": ["grep", "Cpus_allowed_list", "/proc/self/status"], "cwd": "/", "execCPUAffinity": {"initial": "0", "final": "1"}}' >"$TEST_TMP/p.json"
	run berth exec --process "$TEST_TMP/p.json" fl-aff
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\t1' ]] || { echo "$output"; false; }
	# A CPU the host lacks: refused by the kernel, named, for the exec.
	jq -n '{"args": ["true"], "cwd": "/", "execCPUAffinity": {"final": "1000"}}' >"$TEST_TMP/p.json"
	run berth exec --process "$TEST_TMP/p.json" fl-aff
	[ "$status" -ne 0 ]
	[[ "$output" == *"process.execCPUAffinity.final"* ]] || { echo "$output"; false; }
	berth delete -f fl-aff
	# run: init is not pinned by the config's final either.
	update_config '.process.args = ["grep", "Cpus_allowed_list", "/proc/self/status"]'
	run berth run --bundle "$BUNDLE" fl-aff2
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\t'"$online" ]] || { echo "$output"; false; }
}

@test "fl-features: features lists every memory policy mode and flag of the spec, as runc does" {
	run "$BERTH" features
	[ "$status" -eq 0 ]
	[ "$(jq -c '.linux.memoryPolicy.modes | sort' <<<"$output")" = '["MPOL_BIND","MPOL_DEFAULT","MPOL_INTERLEAVE","MPOL_LOCAL","MPOL_PREFERRED","MPOL_PREFERRED_MANY","MPOL_WEIGHTED_INTERLEAVE"]' ]
	[ "$(jq -c '.linux.memoryPolicy.flags | sort' <<<"$output")" = '["MPOL_F_NUMA_BALANCING","MPOL_F_RELATIVE_NODES","MPOL_F_STATIC_NODES"]' ]
}

# The recursive atime and symfollow options, on an rbind of a tree made
# in a mount namespace of the test's own: a noatime,nosymfollow tmpfs
# with a strictatime tmpfs below it. Each option reaches both mounts.
@test "fl-mountopts: ratime, rnorelatime, rnostrictatime and the symfollow options apply to the whole tree" {
	chmod 755 "$TEST_TMP"
	cat >"$TEST_TMP/inns.sh" <<-'EOS'
		set -eu
		src=$TEST_TMP/fsrc
		mkdir -p "$src"
		mount -t tmpfs -o noatime,nosymfollow tmpfs "$src"
		mkdir "$src/sub"
		mount -t tmpfs -o strictatime tmpfs "$src/sub"
		cfg=$BUNDLE/config.json
		cp "$cfg" "$TEST_TMP/orig.json"
		try() { # NAME OPTIONS-JSON
			jq --arg s "$src" --argjson o "$2" '.process.args = ["awk", "$2 ~ /^\\/mnt/ {print $2 \"=\" $4}", "/proc/self/mounts"]
				| .mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": $o}]' "$TEST_TMP/orig.json" >"$cfg"
			echo "$1: $("$BERTH" --root "$STATE_ROOT" run --bundle "$BUNDLE" "fl-mo-$1" 2>&1 </dev/null | tr '\n' ' ')"
		}
		try plain '["rbind"]'
		try ratime '["rbind", "ratime"]'
		try rnorelatime '["rbind", "rnorelatime"]'
		try rnostrictatime '["rbind", "rnostrictatime"]'
		try rsymfollow '["rbind", "rsymfollow"]'
		try rnosymfollow '["rbind", "rsymfollow", "rnosymfollow"]'
		try symfollow '["rbind", "symfollow"]'
	EOS
	run env BERTH="$BERTH" STATE_ROOT="$STATE_ROOT" BUNDLE="$BUNDLE" TEST_TMP="$TEST_TMP" \
		unshare -m --propagation private bash "$TEST_TMP/inns.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	# opts NAME MOUNT: the atime and symfollow options of MOUNT (/mnt or
	# /mnt/sub) in try NAME.
	opts() {
		sed -n "s/^$1: //p" <<<"$output" | tr ' ' '\n' | sed -n "s|^$2=||p" | tr ',' '\n' |
			grep -E 'atime|symfollow' | sort | tr '\n' ' '
	}
	# Without options the tree keeps its modes (strictatime is not shown).
	[ "$(opts plain /mnt)" = "noatime nosymfollow " ]
	[ "$(opts plain /mnt/sub)" = "" ]
	# ratime: noatime cleared, both become the default, relatime.
	[ "$(opts ratime /mnt)" = "nosymfollow relatime " ]
	[ "$(opts ratime /mnt/sub)" = "relatime " ]
	# rnorelatime clears the whole atime field, as ratime does: relatime,
	# the kernel's default, on both (runc's mounts_recursive.bats).
	[ "$(opts rnorelatime /mnt)" = "nosymfollow relatime " ]
	[ "$(opts rnorelatime /mnt/sub)" = "relatime " ]
	# rnostrictatime: the strictatime sub-mount becomes relatime too.
	[ "$(opts rnostrictatime /mnt/sub)" = "relatime " ]
	[ "$(opts rnostrictatime /mnt)" = "nosymfollow relatime " ]
	# rsymfollow clears nosymfollow everywhere; rnosymfollow (last) sets it
	# everywhere; symfollow clears it on the top mount only (a flag change,
	# so the atime mode asked for there, none, is the default).
	[ "$(opts rsymfollow /mnt)" = "noatime " ]
	[ "$(opts rnosymfollow /mnt)" = "noatime nosymfollow " ]
	[ "$(opts rnosymfollow /mnt/sub)" = "nosymfollow " ]
	[[ "$(opts symfollow /mnt)" != *nosymfollow* ]]
	[ "$(opts symfollow /mnt/sub)" = "" ]
}

@test "fl-mountopts-features: features lists the recursive atime options" {
	run "$BERTH" features
	[ "$status" -eq 0 ]
	for o in ratime rnoatime rrelatime rnorelatime rstrictatime rnostrictatime rsymfollow rnosymfollow symfollow nosymfollow; do
		[ "$(jq --arg o "$o" '.mountOptions | index($o) != null' <<<"$output")" = true ] || { echo "$o not listed"; false; }
	done
}

# unified_dir ID: the container's directory in the cgroup2 tree.
unified_dir() { jq -r '.cgroup_paths[""] // empty' "$STATE_ROOT/$1/state.json"; }

@test "fl-unified: on a hybrid host, unified keys of the cgroup2 tree are written there, others refused by name" {
	[ -d /sys/fs/cgroup/unified ] && ! grep -q cgroup2 <(stat -f -c %T /sys/fs/cgroup) || skip "not a hybrid host"
	update_config '.linux.resources.unified = {"cgroup.max.depth": "3", "cgroup.max.descendants": "7"}'
	run berth create --bundle "$BUNDLE" fl-uni
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	dir=$(unified_dir fl-uni)
	[[ "$dir" == /sys/fs/cgroup/unified/* ]]
	[ "$(cat "$dir/cgroup.max.depth")" = 3 ]
	[ "$(cat "$dir/cgroup.max.descendants")" = 7 ]
	# update writes them too.
	echo '{"unified": {"cgroup.max.depth": "2"}}' | "$BERTH" --root "$STATE_ROOT" update -r - fl-uni
	[ "$(cat "$dir/cgroup.max.depth")" = 2 ]
	# A v1 controller's key: refused at create, naming it, nothing left.
	update_config '.linux.resources.unified = {"memory.max": "10000000"}'
	run berth create --bundle "$BUNDLE" fl-uni2
	[ "$status" -ne 0 ]
	[[ "$output" == *'invalid configuration: linux.resources.unified: \"memory.max\": the memory controller is on cgroup v1 on this host'* ]] || { echo "$output"; false; }
	[ ! -e "$STATE_ROOT/fl-uni2" ]
	! ls -d /sys/fs/cgroup/*/berth/fl-uni2 2>/dev/null || false
	# hugetlb lives in the cgroup2 tree here: applied where the root
	# delegates it, refused clearly where it does not (this host).
	grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers || return 0
	[ -d /sys/fs/cgroup/hugetlb ] && return 0
	update_config '.linux.resources.unified = {"hugetlb.2MB.max": "4194304"}'
	run berth create --bundle "$BUNDLE" fl-uni3
	if grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.subtree_control; then
		[ "$status" -eq 0 ]
		[ "$(cat "$(unified_dir fl-uni3)/hugetlb.2MB.max")" = 4194304 ]
	else
		[ "$status" -ne 0 ]
		[[ "$output" == *"hugetlb.2MB.max"*"the hugetlb controller is not enabled"*"not delegated"* ]] || { echo "$output"; false; }
		[ ! -e "$STATE_ROOT/fl-uni3" ]
		! grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.subtree_control || false
	fi
}

@test "fl-checkbefore: memory.checkBeforeUpdate: a limit below the usage is refused and the old one stays" {
	update_config '.linux.resources.memory = {"limit": 67108864, "checkBeforeUpdate": true}
		| .process.args = ["sh", "-c", "head -c 20000000 /dev/zero > /dev/shm/fill; sleep 100"]'
	run berth run -d --bundle "$BUNDLE" fl-cbu
	[ "$status" -eq 0 ]
	mem=$(jq -r '.cgroup_paths.memory // .cgroup_paths[""]' "$STATE_ROOT/fl-cbu/state.json")
	deadline=$((SECONDS + 10))
	until [ -e "$BUNDLE/rootfs/dev/shm" ] || [ "$(cat "$mem/memory.usage_in_bytes" 2>/dev/null || cat "$mem/memory.current")" -gt 20000000 ]; do
		[ $SECONDS -lt $deadline ] || break
		sleep 0.05
	done
	[ "$(cat "$mem/memory.usage_in_bytes" 2>/dev/null || cat "$mem/memory.current")" -gt 20000000 ]
	run berth update --memory 10000000 fl-cbu
	[ "$status" -ne 0 ]
	echo "$output"
	[ "$(container_status fl-cbu)" = running ]
	[ "$(cat "$mem/memory.limit_in_bytes" 2>/dev/null || cat "$mem/memory.max")" = 67108864 ]
	[ "$(jq '.spec.linux.resources.memory.limit' "$STATE_ROOT/fl-cbu/state.json")" = 67108864 ]
}

@test "fl-rdt: linux.intelRdt is applied where resctrl is mounted, refused clearly where not (this host)" {
	update_config '.linux.intelRdt = {"l3CacheSchema": "L3:0=1", "enableMonitoring": true}'
	if awk '$9 == "resctrl" {found=1} END {exit !found}' /proc/self/mountinfo; then
		# A host with resctrl: the container's own group, init in it and
		# in its monitoring group; removed on delete.
		run berth run -d --bundle "$BUNDLE" fl-rdt
		[ "$status" -eq 0 ]
		root=$(awk '$9 == "resctrl" {print $5; exit}' /proc/self/mountinfo)
		grep -qx "$(init_pid fl-rdt)" "$root/fl-rdt/tasks"
		grep -qx "$(init_pid fl-rdt)" "$root/fl-rdt/mon_groups/fl-rdt/tasks"
		"$BERTH" --root "$STATE_ROOT" delete -f fl-rdt
		[ ! -e "$root/fl-rdt" ]
		# A group named after the container that was there before it is
		# used and stays (spec: not the runtime's to remove); the
		# monitoring group made in it goes.
		mkdir "$root/fl-rdt-pre"
		run berth run -d --bundle "$BUNDLE" fl-rdt-pre
		[ "$status" -eq 0 ]
		grep -qx "$(init_pid fl-rdt-pre)" "$root/fl-rdt-pre/tasks"
		"$BERTH" --root "$STATE_ROOT" delete -f fl-rdt-pre
		[ -d "$root/fl-rdt-pre" ]
		[ ! -e "$root/fl-rdt-pre/mon_groups/fl-rdt-pre" ]
		rmdir "$root/fl-rdt-pre"
		return 0
	fi
	run berth create --bundle "$BUNDLE" fl-rdt
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"linux.intelRdt: no resctrl filesystem is mounted on this host"* ]] || { echo "$output"; false; }
	[ ! -e "$STATE_ROOT/fl-rdt" ]
	! ls -d /sys/fs/cgroup/*/berth/fl-rdt 2>/dev/null || false
	# A bad closID is refused as such on any host.
	update_config '.linux.intelRdt = {"closID": "../x"}'
	run berth create --bundle "$BUNDLE" fl-rdt
	[ "$status" -ne 0 ]
	[[ "$output" == *'linux.intelRdt.closID \"../x\" is not a resctrl group name'* ]] || { echo "$output"; false; }
	# update's schema flags: refused the same way, and nothing else of
	# the update is applied.
	update_config 'del(.linux.intelRdt)'
	run berth run -d --bundle "$BUNDLE" fl-rdt2
	[ "$status" -eq 0 ]
	pids=$(jq -r '.cgroup_paths.pids' "$STATE_ROOT/fl-rdt2/state.json")
	for f in --l3-cache-schema=L3:0=1 --mem-bw-schema=MB:0=50; do
		run berth update "$f" --pids-limit 77 fl-rdt2
		[ "$status" -ne 0 ]
		[[ "$output" == *"no resctrl filesystem is mounted"* ]] || { echo "$output"; false; }
		[ "$(cat "$pids/pids.max")" != 77 ]
	done
}

@test "fl-rdt-features: features claims intelRdt with schemata and monitoring, as runc" {
	run "$BERTH" features
	[ "$status" -eq 0 ]
	[ "$(jq -c '.linux.intelRdt' <<<"$output")" = '{"enabled":true,"schemata":true,"monitoring":true}' ]
}

# runc main's features document (its features.go and specconv's lists),
# key by key. What berth lists differently, and why:
# - potentiallyUnsafeConfigAnnotations: runc lists the annotations it acts
#   on (bundle, org.systemd.property., org.criu.config); berth acts on
#   org.systemd.property. only (the systemd driver's unit properties);
# - annotations: berth's own keys.
@test "fl-features-runc: features has runc main's keys and lists, but for what berth does not do" {
	run "$BERTH" features
	[ "$status" -eq 0 ]
	f=$output
	for k in ociVersionMin ociVersionMax hooks mountOptions linux.namespaces linux.capabilities \
		linux.cgroup.v1 linux.cgroup.v2 linux.cgroup.systemd linux.cgroup.systemdUser linux.cgroup.rdma \
		linux.apparmor.enabled linux.selinux.enabled linux.intelRdt.enabled linux.memoryPolicy.modes \
		linux.memoryPolicy.flags linux.mountExtensions.idmap.enabled linux.netDevices.enabled \
		linux.seccomp.enabled linux.seccomp.actions linux.seccomp.operators linux.seccomp.archs \
		linux.seccomp.knownFlags linux.seccomp.supportedFlags; do
		[ "$(jq --arg k "$k" 'getpath($k | split(".")) != null' <<<"$f")" = true ] || { echo "no $k"; false; }
	done
	[ "$(jq -c '[.linux.cgroup[]] | unique' <<<"$f")" = '[true]' ]
	[ "$(jq -c '[.linux.apparmor.enabled, .linux.selinux.enabled, .linux.intelRdt.enabled]' <<<"$f")" = '[true,true,true]' ]
	[ "$(jq -c '[.linux.mountExtensions.idmap.enabled, .linux.netDevices.enabled]' <<<"$f")" = '[true,true]' ]
	[ "$(jq -c '.potentiallyUnsafeConfigAnnotations' <<<"$f")" = '["org.systemd.property."]' ]
	[ "$(jq -c '.hooks' <<<"$f")" = '["prestart","createRuntime","createContainer","startContainer","poststart","poststop"]' ]
	[ "$(jq -c '.linux.namespaces | sort' <<<"$f")" = '["cgroup","ipc","mount","network","pid","time","user","uts"]' ]
	# specconv's mount options of runc main: flags, propagation,
	# recursive attributes and tmpcopyup.
	[ "$(jq -r '.mountOptions | sort | join(" ")' <<<"$f")" = "$(tr ' ' '\n' <<<"${RUNC_MOUNT_OPTIONS//$'\n'/ }" | sort | tr '\n' ' ' | sed 's/ $//')" ]
}

# subreaper_of_orphan [FLAGS...]: runs a container without a pid namespace
# whose shell orphans a sleep, and prints "berth-pid orphan-ppid". Read it
# with "$(...)", which waits for the function, and so for its run to have
# deleted fl-reap: through < <(...) the caller goes on at the line, and
# its next run can find fl-reap still there.
subreaper_of_orphan() {
	local out=$TEST_TMP/out
	mkdir -p "$out" && rm -f "$out"/* && mkfifo "$out/fifo"
	update_config --arg d "$out" '.linux.namespaces |= map(select(.type != "pid"))
		| .mounts += [{"destination": "/out", "type": "bind", "source": $d, "options": ["rbind"]}]
		| .process.args = ["sh", "-c", "sh -c \"sleep 1000 & echo \\$! > /out/pid.tmp\"; mv /out/pid.tmp /out/pid; read x < /out/fifo"]'
	"$BERTH" --root "$STATE_ROOT" run "$@" --bundle "$BUNDLE" fl-reap </dev/null >/dev/null 2>"$TEST_TMP/reap.err" &
	local berth_pid=$! deadline=$((SECONDS + 10))
	until [ -s "$out/pid" ]; do
		[ $SECONDS -lt $deadline ] || { echo "no orphan pid; berth run $*: $(cat "$TEST_TMP/reap.err")" >&2; return 1; }
		sleep 0.05
	done
	echo "$berth_pid $(awk '$1 == "PPid:" {print $2}' "/proc/$(cat "$out/pid")/status")"
	echo go >"$out/fifo"
	wait "$berth_pid" || true
}

@test "fl-subreaper: run reaps the container's orphans, and with --no-subreaper leaves them to the host" {
	read -r bpid ppid <<<"$(subreaper_of_orphan)"
	[ "$ppid" = "$bpid" ] || { echo "orphan's parent $ppid, berth $bpid"; false; }
	read -r bpid ppid <<<"$(subreaper_of_orphan --no-subreaper)"
	[ -n "$ppid" ] && [ "$ppid" != "$bpid" ] || { echo "orphan's parent $ppid, berth $bpid"; false; }
	# The program orphans its child as it starts, while berth still runs a
	# poststart hook: berth gave up the orphans before the start, not
	# after (it once did so only once it began to wait, and an early
	# orphan came to it).
	update_config '.hooks.poststart = [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 0.5"]}]'
	read -r bpid ppid <<<"$(subreaper_of_orphan --no-subreaper)"
	[ -n "$ppid" ] && [ "$ppid" != "$bpid" ] || { echo "with a slow poststart hook: orphan's parent $ppid, berth $bpid"; false; }
	update_config 'del(.hooks)'
	# --keep leaves the stopped container, which delete then removes.
	set_args true
	run berth run --keep --bundle "$BUNDLE" fl-keep
	[ "$status" -eq 0 ]
	[ "$(container_status fl-keep)" = stopped ]
	run berth delete fl-keep
	[ "$status" -eq 0 ]
	[ ! -e "$STATE_ROOT/fl-keep" ]
}

@test "fl-listen: socket activation's fds and LISTEN_FDS/LISTEN_PID reach the container, before --preserve-fds" {
	echo one >"$TEST_TMP/f3"
	echo two >"$TEST_TMP/f4"
	echo three >"$TEST_TMP/f5"
	update_config '.process.env += ["LISTEN_FDS=7"] | .process.args = ["sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat <&3; cat <&4; cat <&5"]'
	# As systemd starts it: LISTEN_PID is berth's own pid (bash's, kept by exec).
	run bash -c 'exec 3<"$1" 4<"$2" 5<"$3"; export LISTEN_FDS=2 LISTEN_PID=$$; exec "$4" --root "$5" run --preserve-fds 1 --bundle "$6" fl-listen </dev/null' \
		_ "$TEST_TMP/f3" "$TEST_TMP/f4" "$TEST_TMP/f5" "$BERTH" "$STATE_ROOT" "$BUNDLE"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$output" = "$(printf '2 1\none\ntwo\nthree')" ] || { echo "$output"; false; }
	# exec's processes start from the saved config: no LISTEN_FDS of
	# init's there.
	update_config '.process.args = ["sleep", "100"]'
	run bash -c 'exec 3<"$1"; export LISTEN_FDS=1 LISTEN_PID=$$; exec "$2" --root "$3" run -d --bundle "$4" fl-listen2 </dev/null >"$5" 2>&1' \
		_ "$TEST_TMP/f3" "$BERTH" "$STATE_ROOT" "$BUNDLE" "$TEST_TMP/run.out"
	[ "$status" -eq 0 ] || { cat "$TEST_TMP/run.out"; false; }
	run berth exec fl-listen2 sh -c 'echo $LISTEN_FDS'
	[ "$output" = 7 ]
	# Variables meant for another process (LISTEN_PID not berth's) pass nothing.
	update_config '.process.args = ["sh", "-c", "echo ${LISTEN_PID:-none}; [ ! -e /proc/self/fd/3 ]"]'
	run bash -c 'exec 3<"$1"; LISTEN_FDS=1 LISTEN_PID=1 exec "$2" --root "$3" run --bundle "$4" fl-listen3 </dev/null' \
		_ "$TEST_TMP/f3" "$BERTH" "$STATE_ROOT" "$BUNDLE"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$output" = none ]
}

# start_recvpidfd NAME [FLAGS]: a pidfd receiver on $TEST_TMP/NAME.sock,
# printing to $TEST_TMP/NAME.out; returns once it listens.
start_recvpidfd() {
	local name=$1 deadline=$((SECONDS + 10))
	shift
	"$TESTBIN/recvpidfd" "$@" -ready "$TEST_TMP/$name.ready" "$TEST_TMP/$name.sock" >"$TEST_TMP/$name.out" 2>&1 &
	RECV_PID=$!
	until [ -e "$TEST_TMP/$name.ready" ]; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.05
	done
}

@test "fl-pidfd: --pidfd-socket sends a pidfd of init (create, run) and of an exec process" {
	start_recvpidfd create
	run berth create --pidfd-socket "$TEST_TMP/create.sock" --bundle "$BUNDLE" fl-pidfd
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	wait "$RECV_PID"
	[ "$(cat "$TEST_TMP/create.out")" = "$(init_pid fl-pidfd)" ]
	run berth start fl-pidfd
	[ "$status" -eq 0 ]
	start_recvpidfd exec
	run berth exec -d --pidfd-socket "$TEST_TMP/exec.sock" --pid-file "$TEST_TMP/exec.pid" fl-pidfd sleep 100
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	wait "$RECV_PID"
	[ "$(cat "$TEST_TMP/exec.out")" = "$(cat "$TEST_TMP/exec.pid")" ]
	# run: once init runs, the receiver kills it through its pidfd; run
	# reports it.
	start_recvpidfd run -kill-when "$TEST_TMP/kill"
	"$BERTH" --root "$STATE_ROOT" run --pidfd-socket "$TEST_TMP/run.sock" --bundle "$BUNDLE" fl-pidfd2 </dev/null >/dev/null 2>&1 &
	local run_pid=$! rc=0
	wait_status fl-pidfd2 running
	[ "$(cat "$TEST_TMP/run.out")" = "$(init_pid fl-pidfd2)" ]
	touch "$TEST_TMP/kill"
	wait "$run_pid" || rc=$?
	[ "$rc" -eq 137 ]
	wait "$RECV_PID"
	# A socket nobody listens on fails create before anything is made.
	run berth create --pidfd-socket "$TEST_TMP/none.sock" --bundle "$BUNDLE" fl-pidfd3
	[ "$status" -ne 0 ]
	[[ "$output" == *"connect to pidfd socket $TEST_TMP/none.sock"* ]] || { echo "$output"; false; }
	[ ! -e "$STATE_ROOT/fl-pidfd3" ]
}
