#!/usr/bin/env bats
# One test per known runtime escape class. Each builds a bundle that
# carries the attack and checks that the host is untouched. How each was
# shown to fail without its defence is noted above it.

load helpers

setup() { setup_bundle; }
teardown() {
	# A console receiver left waiting by a failed test.
	if [ -n "${RECV_PID:-}" ]; then
		kill -9 "$RECV_PID" 2>/dev/null || true
		wait "$RECV_PID" 2>/dev/null || true
	fi
	teardown_bundle
}

# no_dev_tmpfs drops the /dev tmpfs (and devpts) from config.json, so the
# image's own /dev, which an attacker controls, is what the container uses.
no_dev_tmpfs() {
	update_config '.mounts |= map(select(.destination != "/dev" and .destination != "/dev/pts"))'
}

# CVE-2019-5736: a process that can reach the runtime's /proc/PID/exe keeps
# a handle on it, waits for the runtime to exit, and writes through it.
# The init process sits in the container's namespaces, blocked on
# exec.fifo, between create and start: that is the window. The host's
# binary (a private copy here, so a failing run cannot damage the shared
# one) must be neither what /proc/PID/exe names nor writable through it.
# Without the defence (initExecutable returning /proc/self/exe) the write
# succeeds and the checksum changes. A direct init runs berth-dinit from a
# sealed memfd; a Go init (and every init with BERTH_DINIT=off) berth's
# binary, sealed by each method.
@test "sec-exe: the container's init never runs from the host binary (CVE-2019-5736)" {
	cp "$BERTH" "$TEST_TMP/berth-host"
	before=$(sha256sum <"$TEST_TMP/berth-host")
	for mode in dinit goinit auto overlayfs memfd; do
		id=sec-exe-$mode
		case $mode in
		dinit) env="BERTH_DINIT=on" ;;
		goinit) env="BERTH_GO_INIT=1" ;;
		*) env="BERTH_DINIT=off BERTH_EXE_SEAL=$mode" ;;
		esac
		# The dinit case is a direct init also in the suite's Go init pass.
		(
			[ "$mode" != dinit ] || unset BERTH_GO_INIT
			export $env
			BERTH=$TEST_TMP/berth-host berth create --bundle "$BUNDLE" "$id"
		)
		pid=$(init_pid "$id")
		exe=$(readlink "/proc/$pid/exe")
		echo "$mode: init exe is $exe"
		[ "$exe" != "$TEST_TMP/berth-host" ]
		if [ "$mode" = dinit ]; then
			[ "$exe" = "/memfd:berth-dinit (deleted)" ]
		else
			[[ "$exe" != *berth-dinit* ]]
		fi
		# Hold a handle, as the attacker would, past the container's life.
		exec 4<"/proc/$pid/exe"
		"$TEST_TMP/berth-host" --root "$STATE_ROOT" delete --force "$id"
		run sh -c 'echo pwned >>/proc/self/fd/4'
		exec 4<&-
		echo "$mode: write through the handle: $status $output"
		[ "$status" -ne 0 ]
		[ "$(sha256sum <"$TEST_TMP/berth-host")" = "$before" ]
	done
}

# CVE-2021-30465: a mount destination that is a symlink to a host path.
# With string-based resolution the mkdir for /mnt/sub follows rootfs/mnt
# to the host and creates the directory there; in-root resolution creates
# it under the rootfs. Shown failing by resolving with filepath.Join and
# os.MkdirAll in resolveDest: hostdir/sub appeared on the host.
@test "sec-mnt-symlink: a mount destination symlinked to the host lands in the rootfs (CVE-2021-30465)" {
	mkdir "$TEST_TMP/hostdir" "$TEST_TMP/src"
	echo inside >"$TEST_TMP/src/marker"
	rm -rf "$BUNDLE/rootfs/mnt"
	ln -s "$TEST_TMP/hostdir" "$BUNDLE/rootfs/mnt"
	update_config --arg src "$TEST_TMP/src" '.mounts += [{"destination": "/mnt/sub", "type": "bind", "source": $src, "options": ["rbind"]}]'
	set_args cat /mnt/sub/marker
	# The link dangles inside the rootfs: refusing is as good as
	# creating the directory inside; the host must stay untouched.
	run berth run --bundle "$BUNDLE" sec-mnt1
	echo "$output"
	[ -z "$(ls -A "$TEST_TMP/hostdir")" ]
	if [ "$status" -ne 0 ]; then
		[[ "$output" == *"/mnt/sub"* ]]
	fi
	# With the link's target present in the rootfs, the mount lands there.
	mkdir -p "$BUNDLE/rootfs$TEST_TMP/hostdir"
	run berth run --bundle "$BUNDLE" sec-mnt2
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = inside ]
	[ -z "$(ls -A "$TEST_TMP/hostdir")" ]
	[ -d "$BUNDLE/rootfs$TEST_TMP/hostdir/sub" ]
}

# A config without a mount namespace shares the caller's mount table:
# pivot_root there would change "/" for every process of the caller's
# namespace, on a host the whole machine. berth chroots (as runc does) and
# makes the config's mounts in the caller's namespace, as runc does, but
# under a private bind of the rootfs that delete (or a failed create)
# detaches: the caller's mountinfo and "/" are the same after as before.
# Run inside a mount namespace of the test's own. Shown failing on the
# berth that pivoted ("/" became the rootfs), and on the one that refused
# the mounts ("mounts need a private MNT namespace": no "proc: sh"), and
# the two containers on one rootfs on the berth that left the first's
# tree when it was deleted first ("order 1 2: trees left: 1").
@test "sec-nomntns: a container without a mount namespace gets its mounts in the caller's under its rootfs only, removed by delete; never a pivot" {
	echo marker >"$BUNDLE/rootfs/in-rootfs"
	update_config --arg log "$TEST_TMP/hook.log" '.linux.namespaces -= [{"type": "mount"}]
		| .linux.maskedPaths = [] | .linux.readonlyPaths = []
		| .root.readonly = false
		| .hooks = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo x >> \($log)"]}]}'
	cat >"$TEST_TMP/inns.sh" <<-'EOS'
		set -u
		B=$BERTH; R=$STATE_ROOT
		snap() { cat /proc/self/mountinfo; stat -c '%d:%i' /; ls /; }
		# bounded CMD...: CMD with a deadline. One CI run (once in
		# dozens) stopped here for the whole test's timeout after the
		# no-pivot refusal; should a berth call hang again, this says
		# where its processes wait before it ends them.
		bounded() {
			"$@" &
			local p=$! n=0
			while kill -0 "$p" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ]; do
				n=$((n + 1))
				if [ "$n" -gt 300 ]; then
					echo "HUNG: $*"
					for q in $p $(pgrep -P "$p"); do
						echo "  $q: $(tr '\0' ' ' <"/proc/$q/cmdline") wchan=$(cat "/proc/$q/wchan")"
						sed 's/^/    /' "/proc/$q/stack" 2>/dev/null
						for t in /proc/$q/task/*; do echo "    task ${t##*/}: $(cat "$t/wchan")"; done
					done
					kill -9 "$p"
				fi
				sleep 0.1
			done
			wait "$p"
		}
		# The bundle's directory is a shared mount here, and a second
		# namespace is its peer: a mount under the rootfs that were not
		# private would show up there too.
		mount --bind "$TEST_TMP" "$TEST_TMP" && mount --make-shared "$TEST_TMP"
		unshare -m --propagation unchanged sleep 1000 &
		peer=$!
		before=$(snap)
		"$B" --root "$R" run --bundle "$BUNDLE" rf-nomnt-run0 </dev/null >/dev/null 2>&1  # warm-up, then compare
		echo "run: $("$B" --root "$R" run --bundle "$BUNDLE" rf-nomnt-run 2>&1 </dev/null)"
		"$B" --root "$R" create --bundle "$BUNDLE" rf-nomnt-c >/dev/null 2>&1 </dev/null || echo CREATE-FAILED
		echo "here: $(grep -c " $BUNDLE/rootfs/proc " /proc/self/mountinfo)"
		echo "peer: $(grep -c " $BUNDLE/rootfs/proc " /proc/$peer/mountinfo)"
		echo "private: $(awk -v r="$BUNDLE/rootfs" '$5 == r && $0 !~ /shared:/' /proc/self/mountinfo | wc -l)"
		echo "exec: $("$B" --root "$R" exec rf-nomnt-c cat /in-rootfs 2>&1 </dev/null)"
		"$B" --root "$R" delete --force rf-nomnt-c
		bounded "$B" --root "$R" run --no-pivot --bundle "$BUNDLE" rf-nomnt-nopivot 2>&1 </dev/null && echo UNEXPECTED-OK
		# A mount that fails half-way: nothing of the create is left.
		cp "$BUNDLE/config.json" "$TEST_TMP/config.orig"
		jq '.mounts += [{"destination": "/mnt", "type": "bind", "source": "/no/such/source", "options": ["bind"]}]' "$TEST_TMP/config.orig" >"$BUNDLE/config.json"
		bounded "$B" --root "$R" run --bundle "$BUNDLE" rf-nomnt-fail 2>&1 </dev/null && echo UNEXPECTED-OK
		# The caller's own "/" as the rootfs: its mounts would land over the
		# host's /proc and /dev.
		jq '.root.path = "/"' "$TEST_TMP/config.orig" >"$BUNDLE/config.json"
		bounded "$B" --root "$R" run --bundle "$BUNDLE" rf-nomnt-root 2>&1 </dev/null && echo UNEXPECTED-OK
		cp "$TEST_TMP/config.orig" "$BUNDLE/config.json"
		# A create killed at any point: delete --force leaves nothing.
		for i in $(seq 15); do
			"$B" --root "$R" create --bundle "$BUNDLE" "rf-nomnt-k$i" </dev/null >/dev/null 2>&1 &
			k=$!
			sleep "0.0$((RANDOM % 30))"
			kill -9 "$k" 2>/dev/null
			wait "$k" 2>/dev/null
			"$B" --root "$R" delete --force "rf-nomnt-k$i" >/dev/null 2>&1 || echo "DELETE-FAILED $i"
		done
		# Two containers on the one rootfs. Deleted in the order they were
		# made, the first's delete cannot reach its tree under the second's,
		# and the second's delete takes it; in the other order each takes
		# its own.
		for order in "1 2" "2 1"; do
			for i in 1 2; do
				"$B" --root "$R" create --bundle "$BUNDLE" "rf-nomnt-two$i" >/dev/null 2>&1 </dev/null || echo CREATE-FAILED
			done
			set -- $order
			"$B" --root "$R" delete --force "rf-nomnt-two$1" || echo "DELETE-FAILED two$1"
			echo "order $order: exec after the first delete: $("$B" --root "$R" exec "rf-nomnt-two$2" cat /in-rootfs 2>&1 </dev/null)"
			"$B" --root "$R" delete --force "rf-nomnt-two$2" || echo "DELETE-FAILED two$2"
			echo "order $order: trees left: $(awk -v r="$BUNDLE/rootfs" '$5 == r' /proc/self/mountinfo | wc -l)"
		done
		# What holds a cgroup a delete could not remove (a failure's trace).
		cg_left() {
			local f p
			for f in /sys/fs/cgroup/*/berth/"$1"*/cgroup.procs; do
				[ -e "$f" ] || continue
				echo "left: $f: $(tr '\n' ' ' <"$f")"
				for p in $(cat "$f"); do
					echo "  $p: $(cut -d' ' -f1-4 /proc/$p/stat 2>/dev/null) $(grep -h '^[0-9]*:[a-z,]*:\|^0::' /proc/$p/cgroup 2>/dev/null | tr '\n' ' ')"
				done
			done
		}
		# Two creates at once on the one rootfs take turns: whichever comes
		# second knows the tree it covers, and deletes in either order take
		# both.
		for round in 1 2 3; do
			"$B" --root "$R" create --bundle "$BUNDLE" rf-nomnt-par1 >/dev/null 2>&1 </dev/null &
			p1=$!
			"$B" --root "$R" create --bundle "$BUNDLE" rf-nomnt-par2 >/dev/null 2>&1 </dev/null &
			p2=$!
			wait "$p1" || echo CREATE-FAILED
			wait "$p2" || echo CREATE-FAILED
			"$B" --root "$R" delete --force rf-nomnt-par1 || { echo "DELETE-FAILED par1"; cg_left rf-nomnt-par; }
			"$B" --root "$R" delete --force rf-nomnt-par2 || { echo "DELETE-FAILED par2"; cg_left rf-nomnt-par; }
			echo "parallel $round: trees left: $(awk -v r="$BUNDLE/rootfs" '$5 == r' /proc/self/mountinfo | wc -l)"
		done
		kill "$peer"
		echo "left: $(ls "$R" | wc -l)"
		after=$(snap)
		[ "$before" = "$after" ] && echo UNCHANGED || { echo CHANGED; diff <(echo "$before") <(echo "$after"); }
	EOS
	set_args sh -c 'echo "proc: $(cat /proc/1/comm) dev: $(stat -c %F /dev/null) $(cat /in-rootfs)"'
	run env BERTH="$BERTH" STATE_ROOT="$STATE_ROOT" BUNDLE="$BUNDLE" TEST_TMP="$TEST_TMP" \
		timeout 120 unshare -m --propagation private bash "$TEST_TMP/inns.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *UNEXPECTED-OK* ]]
	[[ "$output" != *HUNG:* ]]
	[[ "$output" != *CREATE-FAILED* ]]
	[[ "$output" != *DELETE-FAILED* ]]
	[[ "$output" == *"run: proc: sh dev: character special file marker"* ]]
	[[ "$output" == *"here: 1"* ]]
	[[ "$output" == *"peer: 0"* ]]
	[[ "$output" == *"private: 1"* ]]
	[[ "$output" == *"exec: marker"* ]]
	[[ "$output" == *'run failed: unable to use no-pivot without a private MNT namespace'* ]]
	[[ "$output" == *"/no/such/source"* ]]
	[[ "$output" == *"is the caller's own"* ]]
	[[ "$output" == *"order 1 2: exec after the first delete: marker"* ]]
	[[ "$output" == *"order 1 2: trees left: 0"* ]]
	[[ "$output" == *"order 2 1: exec after the first delete: marker"* ]]
	[[ "$output" == *"order 2 1: trees left: 0"* ]]
	[[ "$output" == *"parallel 1: trees left: 0"* ]]
	[[ "$output" == *"parallel 2: trees left: 0"* ]]
	[[ "$output" == *"parallel 3: trees left: 0"* ]]
	[[ "$output" == *"left: 0"* ]]
	[[ "$output" == *UNCHANGED* ]]
	# createRuntime hooks ran for each container made (run0, run, c)
	[ "$(wc -l <"$TEST_TMP/hook.log")" -ge 3 ]
	# masked paths without a mount namespace: runc's refusal
	update_config '.linux.maskedPaths = ["/proc/kcore"]'
	run berth create --bundle "$BUNDLE" rf-nomnt-masked
	[ "$status" -ne 0 ]
	[[ "$output" == *"unable to restrict sys entries without a private MNT namespace"* ]]
	# a user namespace may not mount in the caller's namespace
	update_config '.linux.maskedPaths = [] | .linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	run berth create --bundle "$BUNDLE" rf-nomnt-userns
	[ "$status" -ne 0 ]
	[[ "$output" == *"a user namespace needs a private MNT namespace"* ]]
	[ -z "$(ls -A "$STATE_ROOT")" ]
}

# CVE-2023-27561: /proc or /sys in the image is a symlink, so procfs or
# sysfs would be mounted somewhere else and the real path left to the
# image. Refused. Shown failing by removing checkNoSymlink from
# mountFilesystem: create succeeded.
@test "sec-procsym: /proc or /sys as a symlink is refused (CVE-2023-27561)" {
	for d in proc sys; do
		rm -rf "$BUNDLE/rootfs/$d"
		mkdir -p "$BUNDLE/rootfs/fake$d"
		ln -s "/fake$d" "$BUNDLE/rootfs/$d"
		run berth create --bundle "$BUNDLE" "sec-$d"
		echo "$output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"/$d"*"must be mounted on ordinary directory"* ]]
		# Restore for the next round.
		rm "$BUNDLE/rootfs/$d"
		mkdir "$BUNDLE/rootfs/$d"
	done
}

# CVE-2025-31133: masking binds /dev/null over the masked path; an image
# whose /dev/null is a symlink or a regular file would turn that into a
# bind of attacker content. (a) the image's /dev (no tmpfs) with /dev/null
# a symlink to attacker content: the node is recreated, the mask is empty;
# (b) /dev bound from a directory whose null is a regular file: refused.
# Shown failing by removing verifyDevNull (b: /proc/version read ATTACK)
# and the unlink-and-recreate in makeDevice (a: create failed with EEXIST
# or read ATTACK).
@test "sec-devnull: masking never binds a fake /dev/null (CVE-2025-31133)" {
	no_dev_tmpfs
	update_config '.linux.maskedPaths = ["/proc/version"]'
	echo ATTACK >"$BUNDLE/rootfs/attack"
	rm -f "$BUNDLE/rootfs/dev/null"
	ln -s /attack "$BUNDLE/rootfs/dev/null"
	set_args sh -c 'cat /proc/version; ls -l /dev/null'
	run berth run --bundle "$BUNDLE" sec-null-a
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *ATTACK* ]]
	[[ "$output" == c* ]]

	mkdir "$TEST_TMP/fakedev"
	echo ATTACK >"$TEST_TMP/fakedev/null"
	update_config --arg src "$TEST_TMP/fakedev" '.mounts += [{"destination": "/dev", "type": "bind", "source": $src, "options": ["rbind"]}]'
	set_args cat /proc/version
	run berth run --bundle "$BUNDLE" sec-null-b
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"not the null device"* ]]
}

# CVE-2025-52565: /dev/console in the image is a symlink; binding the pty
# over it must not follow the link onto another file. The image's /dev is
# used (no tmpfs), with devpts still mounted on it. Shown failing by
# creating and opening /dev/console by path (following symlinks) in
# bindConsole: /etc/target became the pty.
@test "sec-console: a symlinked /dev/console is not followed (CVE-2025-52565)" {
	update_config '.mounts |= map(select(.destination != "/dev"))'
	mkdir -p "$BUNDLE/rootfs/dev/pts"
	echo original >"$BUNDLE/rootfs/etc/target"
	rm -f "$BUNDLE/rootfs/dev/console"
	ln -s /etc/target "$BUNDLE/rootfs/dev/console"
	update_config '.process.terminal = true'
	# ls, not cat: reading a pty bound over the file would block.
	set_args sh -c 'ls -l /etc/target /dev/console'
	"$TESTBIN/recvtty" -mode single -no-stdin "$TEST_TMP/tty.sock" >"$TEST_TMP/tty.out" 2>&1 3>&- &
	RECV_PID=$!
	for _ in $(seq 100); do [ -S "$TEST_TMP/tty.sock" ] && break; sleep 0.05; done
	run berth run --console-socket "$TEST_TMP/tty.sock" --bundle "$BUNDLE" sec-tty
	echo "run: $status $output"
	if [ "$status" -ne 0 ]; then kill -9 "$RECV_PID" 2>/dev/null || true; fi
	wait "$RECV_PID" || true
	RECV_PID=
	cat "$TEST_TMP/tty.out"
	# Either refused because of the symlink, or the pty sits on a real
	# /dev/console and the symlink's target keeps its content.
	if [ "$status" -ne 0 ]; then
		[[ "$output" == *"/dev/console"* ]]
	else
		grep -q '^-.*/etc/target' "$TEST_TMP/tty.out"
		grep -q '^c.*/dev/console' "$TEST_TMP/tty.out"
	fi
	[ "$(cat "$BUNDLE/rootfs/etc/target")" = original ]
}

# CVE-2025-52881: a host file bound over a /proc/sys entry the runtime
# writes (a sysctl). The write must go to the real procfs, never through
# the container's redirected /proc. config.json's own mount there is
# refused now (sec-procdest), so a createContainer hook makes it, in the
# container's mount namespace after every check, as a racing attacker
# would. Shown failing by writing sysctls with
# os.WriteFile("/proc/sys/..."): the host file changed to 1.
@test "sec-procwrite: a sysctl write is not redirected by a mount over /proc/sys (CVE-2025-52881)" {
	echo original >"$TEST_TMP/victim"
	update_config --arg src "$TEST_TMP/victim" '.linux.sysctl = {"kernel.shm_rmid_forced": "1"}
		| .hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "mount --bind \($src) proc/sys/kernel/shm_rmid_forced"]}]'
	set_args sh -c 'grep -c " /proc/sys/kernel/shm_rmid_forced " /proc/self/mountinfo'
	run berth run --bundle "$BUNDLE" sec-procw
	echo "$output"
	[ "$status" -eq 0 ]
	# The hook's mount is there: the write had somewhere to go astray.
	[ "${lines[-1]}" -ge 1 ]
	[ "$(cat "$TEST_TMP/victim")" = original ]
}

# Mounts inside the container's /proc are refused as runc refuses them
# (its checkProcMount, after CVE-2019-16884: a mount over /proc/self/attr
# hid AppArmor's attr files), by the clean destination before anything is
# made, and by the real one, symlinks followed, where it lands on the
# container's procfs. Allowed: the files lxcfs emulates, ns_last_pid, a
# proc filesystem or a bind of one on /proc. Shown failing on the previous
# build: every refused case ran (status 0).
@test "sec-procdest: a mount inside /proc is refused, but for lxcfs's files; /proc itself takes only a procfs" {
	echo fake >"$TEST_TMP/cpuinfo"
	mkdir "$TEST_TMP/dir"
	ln -s /proc/sys "$BUNDLE/rootfs/psys"
	set_args true
	base=$(cat "$BUNDLE/config.json")
	n=0
	refused() { # DESCRIPTION MOUNT-JSON WORDS
		n=$((n + 1))
		echo "$base" >"$BUNDLE/config.json"
		update_config --argjson m "$2" '.mounts += [$m]'
		run berth run --bundle "$BUNDLE" "sec-procd-$n"
		echo "$1: $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"$3"* ]]
		[ ! -e "$STATE_ROOT/sec-procd-$n" ]
	}
	refused "a sysctl file" '{"destination": "/proc/sys/kernel/hostname", "type": "bind", "source": "/etc/hostname", "options": ["bind"]}' "/proc/sys/kernel/hostname is inside /proc"
	refused "through .." '{"destination": "/tmp/../proc/self/attr", "type": "tmpfs", "source": "tmpfs"}' "/proc/self/attr is inside /proc"
	refused "a symlink into /proc" '{"destination": "/psys/kernel/hostname", "type": "bind", "source": "/etc/hostname", "options": ["bind"]}' "/proc/sys/kernel/hostname is inside /proc"
	refused "a tmpfs on /proc" '{"destination": "/proc", "type": "tmpfs", "source": "tmpfs"}' 'only a proc filesystem or a bind of one may be mounted on /proc, not \"tmpfs\"'
	refused "a bind of a directory on /proc" "{\"destination\": \"/proc\", \"type\": \"bind\", \"source\": \"$TEST_TMP/dir\", \"options\": [\"rbind\"]}" "may be mounted on /proc, and $TEST_TMP/dir is not one"
	# What runc allows runs.
	echo "$base" >"$BUNDLE/config.json"
	update_config --arg src "$TEST_TMP/cpuinfo" '.mounts += [{"destination": "/proc/cpuinfo", "type": "bind", "source": $src, "options": ["bind", "ro"]},
		{"destination": "/psys/kernel/ns_last_pid", "type": "bind", "source": $src, "options": ["bind"]},
		{"destination": "/proc", "type": "bind", "source": "/proc", "options": ["rbind"]}]'
	set_args sh -c 'cat /proc/cpuinfo; cat /proc/sys/kernel/ns_last_pid'
	run berth run --bundle "$BUNDLE" sec-procd-ok
	echo "$output"
	[ "$status" -eq 0 ]
	# The last mount, the host's procfs on /proc, covers the two files.
	[ "${lines[0]}" != fake ]
	echo "$base" >"$BUNDLE/config.json"
	update_config --arg src "$TEST_TMP/cpuinfo" '.mounts += [{"destination": "/proc/cpuinfo", "type": "bind", "source": $src, "options": ["bind", "ro"]}]'
	set_args cat /proc/cpuinfo
	run berth run --bundle "$BUNDLE" sec-procd-ok2
	[ "$status" -eq 0 ]
	[ "$output" = fake ]
}

# CVE-2024-21626: the container process holds no fd but stdio and the
# preserved ones, and a cwd through /proc/self/fd/N cannot lead outside
# the rootfs. Shown failing by removing utils.CloseExecFrom (extra fds
# listed) and the getcwd check in enterCwd (cwd /proc/self/fd/3 on a
# preserved host directory succeeded and pwd printed a path outside).
@test "sec-fds: no leaked fds and no cwd through /proc/self/fd (CVE-2024-21626)" {
	# No pipe in the container's shell: while it forks a pipeline's
	# commands it holds the pipe's ends itself, and ls would list them.
	set_args sh -c 'ls /proc/$$/fd; true' # (a last command is exec'd)
	run berth run --bundle "$BUNDLE" sec-fd1
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo $output)" = "0 1 2" ]

	mkdir "$TEST_TMP/hostdir"
	run berth run --preserve-fds 1 --bundle "$BUNDLE" sec-fd2 3<"$TEST_TMP/hostdir"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo $output)" = "0 1 2 3" ]

	set_args pwd
	for n in 3 4 5 6 7 8 9; do
		update_config --arg cwd "/proc/self/fd/$n" '.process.cwd = $cwd'
		run berth run --preserve-fds 1 --bundle "$BUNDLE" "sec-cwd$n" 3<"$TEST_TMP/hostdir"
		echo "cwd fd $n: $status $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"cwd"* ]]
	done
}

# CVE-2024-45310: ".." and symlinks in mount destinations and device paths
# must stay inside the rootfs; nothing may be created on the host. The
# image's /dev (no tmpfs) carries a symlink to the host directory. Shown
# failing by resolving with filepath.Join(rootfs, path) and os.MkdirAll in
# resolveDest and makeDevice: escape-mnt, escape-link and escape-dev
# appeared in $TEST_TMP.
@test "sec-dotdot: .. and symlink escapes in mount and device paths stay in the rootfs (CVE-2024-45310)" {
	up=../../../../../../../..
	ln -s / "$BUNDLE/rootfs/hostroot"
	ln -s "$TEST_TMP" "$BUNDLE/rootfs/dev/hostlink"
	no_dev_tmpfs
	set_args true
	update_config --arg d1 "/$up$TEST_TMP/escape-mnt" --arg d2 "/hostroot$TEST_TMP/escape-link" \
		'.mounts += [{"destination": $d1, "type": "tmpfs", "source": "tmpfs"},
		             {"destination": $d2, "type": "tmpfs", "source": "tmpfs"}]'
	run berth run --bundle "$BUNDLE" sec-dotdot1
	echo "$output"
	[ ! -e "$TEST_TMP/escape-mnt" ]
	[ ! -e "$TEST_TMP/escape-link" ]
	# Refusing is fine; if accepted, everything went under the rootfs.
	if [ "$status" -eq 0 ]; then
		[ -d "$BUNDLE/rootfs$TEST_TMP/escape-mnt" ]
		[ -d "$BUNDLE/rootfs$TEST_TMP/escape-link" ]
	fi

	update_config '.mounts |= map(select(.type != "tmpfs" or (.destination | startswith("/dev") | not)))
		| .mounts |= map(select((.destination | contains("escape")) | not))
		| .linux.devices = [{"path": "/dev/hostlink/escape-dev", "type": "c", "major": 1, "minor": 3}]'
	run berth run --bundle "$BUNDLE" sec-dotdot2
	echo "$output"
	[ ! -e "$TEST_TMP/escape-dev" ]
	if [ "$status" -eq 0 ]; then
		[ -c "$BUNDLE/rootfs$TEST_TMP/escape-dev" ]
	fi
}

# CVE-2022-29162: a process gets no inheritable capabilities unless the
# config lists them, even when its other sets are full. Shown failing by
# making caps.Parse copy the permitted set into the inheritable one.
@test "sec-caps: no inheritable capabilities unless asked for (CVE-2022-29162)" {
	update_config '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"],
		"effective": ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"],
		"permitted": ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"]}'
	set_args sh -c 'grep -E "^Cap(Inh|Prm|Amb)" /proc/self/status'
	run berth run --bundle "$BUNDLE" sec-caps1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"CapInh:	0000000000000000"* ]]
	[[ "$output" == *"CapAmb:	0000000000000000"* ]]
	[[ "$output" != *"CapPrm:	0000000000000000"* ]]

	# Asked for: exactly the requested set (CAP_CHOWN is bit 0).
	update_config '.process.capabilities.inheritable = ["CAP_CHOWN"]'
	run berth run --bundle "$BUNDLE" sec-caps2
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"CapInh:	0000000000000001"* ]]
}

@test "sec-caps-exec: exec with --cap gets no inheritable capabilities (CVE-2022-29162)" {
	if ! "$BERTH" exec --help >/dev/null 2>&1; then
		skip "berth exec is not implemented yet"
	fi
	update_config '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_NET_ADMIN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}'
	berth run -d --bundle "$BUNDLE" sec-capx
	run berth exec --cap CAP_NET_ADMIN sec-capx cat /proc/self/status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"CapInh:	0000000000000000"* ]]
	# CAP_NET_ADMIN (bit 12) did reach the permitted set.
	prm=$(awk '/^CapPrm/ {print $2}' <<<"$output")
	[ $(((16#$prm >> 12) & 1)) -eq 1 ]
}

# An LSM requested on a host without it is an error, not a silently
# unconfined container (this host has neither AppArmor nor SELinux).
@test "sec-lsm: apparmor/selinux settings fail clearly on a host without the LSM" {
	if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] || [ -e /sys/fs/selinux/enforce ]; then
		skip "host has an LSM enabled"
	fi
	set_args true
	update_config '.process.apparmorProfile = "berth-test"'
	run berth run --bundle "$BUNDLE" sec-aa
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"apparmor profile "*"berth-test"*"requested, but AppArmor is not enabled"* ]]

	update_config 'del(.process.apparmorProfile) | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
	run berth run --bundle "$BUNDLE" sec-se
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"SELinux is not enabled"* ]]

	update_config 'del(.process.selinuxLabel) | .linux.mountLabel = "system_u:object_r:container_file_t:s0"'
	run berth run --bundle "$BUNDLE" sec-ml
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"mount label"*"SELinux is not enabled"* ]]

	update_config '.linux.mountLabel = "not-a-label"'
	run berth run --bundle "$BUNDLE" sec-bad
	[ "$status" -ne 0 ]
	[[ "$output" == *"linux.mountLabel"*"user:role:type"* ]]
	# Nothing is left behind by a refused create.
	[ -z "$("$BERTH" --root "$STATE_ROOT" list -q)" ]
}

# A created init (blocked on exec.fifo until start) is in the container's
# namespaces, and a process of the container with CAP_SYS_PTRACE can open
# its /proc/1/fd/N. It held an O_PATH fd of the host's state directory,
# from which ../../../.. led to the host's / (the host file below was
# printed), and the Go runtime's host cgroup files. It must hold nothing
# of the host's but stdio and an O_PATH handle of the fifo itself, in the
# container's own pid namespace and when sharing another's (a pod).
@test "sec-init-fds: a created init holds no handle that leads to the host" {
	echo host-secret-$$ >"$TEST_TMP/secret"
	berth create --bundle "$BUNDLE" sec-ifd1
	pid=$(init_pid sec-ifd1)
	# From the host: every fd above stdio is the fifo, or on the
	# container's own procfs (pathrs' private proc mount), nothing else.
	for fd in /proc/$pid/fd/*; do
		n=${fd##*/}
		[ "$n" -le 2 ] && continue
		kind=$(stat -L -c %F "$fd")
		fstype=$(stat -L -f -c %T "$fd")
		echo "fd $n: $(readlink "$fd") ($kind on $fstype)"
		[ "$kind" = fifo ] || [ "$fstype" = proc ]
	done
	attack='for f in /proc/1/fd/*; do cat "$f/../../../../../..'"$TEST_TMP"'/secret" 2>/dev/null; ls "$f/../../../.." 2>/dev/null; done; echo done'
	run berth exec --cap CAP_SYS_PTRACE sec-ifd1 sh -c "$attack"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *done* ]]
	[[ "$output" != *host-secret* ]]
	# A second container in the first one's pid namespace (a pod with a
	# shared process namespace) sees the created init too.
	update_config --arg ns "/proc/$pid/ns/pid" '.linux.namespaces |= map(if .type == "pid" then .path = $ns else . end)'
	update_config '.process.capabilities.bounding += ["CAP_SYS_PTRACE"] | .process.capabilities.effective += ["CAP_SYS_PTRACE"] | .process.capabilities.permitted += ["CAP_SYS_PTRACE"]'
	set_args sh -c "$attack"
	run berth run --bundle "$BUNDLE" sec-ifd2
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *done* ]]
	[[ "$output" != *host-secret* ]]
}

# --preserve-fds N passed berth's own descriptors when the caller had
# fewer than N open: the Go runtime's host cgroup file (cpu.cfs_quota_us)
# came through as fd 3, writable from the container. Only descriptors the
# caller passed go; a number the caller left closed stays closed in the
# container (crun's way), and the command runs, as runc's and crun's do.
# With fd 3 closed, berth's own first descriptor (close-on-exec) takes
# number 3; the caller closes 5, 10 and 22 too (bats holds some of 6-22).
@test "sec-preserve: --preserve-fds never passes berth's own descriptors" {
	set_args sh -c 'for n in 3 4 5 10 22; do echo "$n=$(readlink /proc/self/fd/$n || echo none)"; done; ls /proc/self/fd | wc -l'
	run berth run --preserve-fds 1 --bundle "$BUNDLE" sec-pre1 3<&-
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "3=none" ]
	# stdio and ls's own directory
	[ "${lines[5]}" = 4 ]
	echo passed >"$TEST_TMP/passed"
	run berth run --preserve-fds 20 --bundle "$BUNDLE" sec-pre2 3<&- 4<"$TEST_TMP/passed" 5<&- 10<&- 22<&-
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "3=none" ]
	[ "${lines[1]}" = "4=$TEST_TMP/passed" ]
	[ "${lines[2]}" = "5=none" ]
	[ "${lines[3]}" = "10=none" ]
	[ "${lines[4]}" = "22=none" ]
	[ -z "$(berth list -q)" ]
	# exec's --preserve-fds follows the same rule, on either exec path:
	# the direct one, and the Go process --debug takes.
	set_args sleep 1000
	berth run -d --bundle "$BUNDLE" sec-pre3
	for flags in "" "--log $TEST_TMP/debug.log --debug"; do
		run "$BERTH" --root "$STATE_ROOT" $flags exec --preserve-fds 3 sec-pre3 sh -c 'for n in 3 4 5; do echo "$n=$(readlink /proc/self/fd/$n || echo none)"; done' 3<&- 4<"$TEST_TMP/passed" 5<&-
		echo "${flags:-direct}: $output"
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = "3=none" ]
		[ "${lines[1]}" = "4=$TEST_TMP/passed" ]
		[ "${lines[2]}" = "5=none" ]
	done
}

# setresuid(-1) means "unchanged": uid or gid 4294967295 ran the process
# as root. Refused at create and exec.
@test "sec-uid-max: uid or gid 4294967295 is refused, never root" {
	set_args id
	for u in '.process.user.uid = 4294967295' '.process.user.gid = 4294967295' '.process.user.additionalGids = [4294967295]'; do
		update_config '.process.user = {"uid": 1000, "gid": 1000}'
		update_config "$u"
		run berth run --bundle "$BUNDLE" sec-uid
		echo "$u: $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"4294967295 is not a valid"* ]]
		[[ "$output" != *"uid=0"* ]]
	done
	update_config '.process.user = {"uid": 0, "gid": 0} | .process.args = ["sleep", "1000"]'
	berth run -d --bundle "$BUNDLE" sec-uid2
	for u in 4294967295 4294967295:0 0:4294967295; do
		run berth exec --user "$u" sec-uid2 id
		echo "exec --user $u: $output"
		[ "$status" -ne 0 ]
		[[ "$output" != *"uid=0"* ]]
	done
}

# A FIFO at the image's /etc/passwd (read for HOME) blocked start, run and
# exec forever, holding the container's lock. It is skipped: HOME is /.
@test "sec-passwd-fifo: a FIFO or huge /etc/passwd does not hang run, start or exec" {
	rm -f "$BUNDLE/rootfs/etc/passwd"
	mkfifo "$BUNDLE/rootfs/etc/passwd"
	update_config '.process.env = ["PATH=/bin:/usr/bin"]'
	set_args sh -c 'echo home=$HOME'
	# Through files, not bats' pipe (a container left running would hold
	# it), and under a timeout: the bug was a hang.
	bt() { timeout 20 "$BERTH" --root "$STATE_ROOT" "$@" >"$TEST_TMP/bt.out" 2>&1 </dev/null; }
	bt run --bundle "$BUNDLE" sec-pw1
	[ "$(cat "$TEST_TMP/bt.out")" = "home=/" ]
	set_args sleep 1000
	bt create --bundle "$BUNDLE" sec-pw2
	bt start sec-pw2
	bt exec sec-pw2 sh -c 'echo home=$HOME'
	[ "$(cat "$TEST_TMP/bt.out")" = "home=/" ]
	# A file larger than any real one is not read either.
	rm "$BUNDLE/rootfs/etc/passwd"
	truncate -s 64M "$BUNDLE/rootfs/etc/passwd"
	bt exec sec-pw2 sh -c 'echo home=$HOME'
	[ "$(cat "$TEST_TMP/bt.out")" = "home=/" ]
}

# A state root others may write to let an unprivileged user plant a
# state.json whose poststop hook root's `berth delete` ran as root, or
# whose pid (with start time 0) made kill and delete signal any process.
@test "sec-root-trust: a state root or state file others could write is refused" {
	root=$TEST_TMP/shared-root
	mkdir -m 1777 "$root"
	run "$BERTH" --root "$root" create --bundle "$BUNDLE" sec-trust1
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"writable by group or others"* ]]
	# The planted state: owned by nobody, poststop hook writes a marker.
	mkdir "$root/planted"
	jq -n --arg m "$TEST_TMP/pwned" '{id: "planted", status: "stopped", init_pid: 0, created: "2020-01-01T00:00:00Z",
		spec: {ociVersion: "1.0.0", hooks: {poststop: [{path: "/bin/sh", args: ["sh", "-c", ("touch " + $m)]}]}}}' >"$root/planted/state.json"
	chown -R nobody "$root/planted"
	run "$BERTH" --root "$root" delete planted
	echo "$output"
	[ "$status" -ne 0 ]
	[ ! -e "$TEST_TMP/pwned" ]
	# Even in a root of the caller's own, a state.json of another user's
	# is not trusted.
	chmod 0711 "$root"
	run "$BERTH" --root "$root" delete --force planted
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"owned by uid"* ]]
	[ ! -e "$TEST_TMP/pwned" ]
	rm -rf "$root/planted"
	# A pid with start time 0 matched any process: kill and delete
	# --force signalled whatever ran under that pid.
	sleep 1000 >/dev/null 2>&1 3>&- &
	victim=$!
	mkdir -m 0711 "$root/zero"
	jq -n --argjson p "$victim" '{id: "zero", status: "running", init_pid: $p, init_start_time: 0, created: "2020-01-01T00:00:00Z", spec: {ociVersion: "1.0.0"}}' >"$root/zero/state.json"
	chmod 0600 "$root/zero/state.json"
	run "$BERTH" --root "$root" kill zero KILL
	echo "kill: $output"
	[ "$status" -ne 0 ]
	run "$BERTH" --root "$root" delete --force zero
	echo "delete: $output"
	kill -0 "$victim"
	kill -9 "$victim"
	wait "$victim" || true
}

# A hook's output was buffered whole: a createRuntime hook printing 300 MB
# made berth grow to ~1 GB. Only a bounded tail is kept, for the error.
@test "sec-hook-output: a hook's output is bounded in berth's memory" {
	update_config '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "head -c 300000000 /dev/zero | tr -c a a; echo; echo last-words; exit 1"]}]'
	run /usr/bin/time -f 'maxrss=%M' "$BERTH" --root "$STATE_ROOT" create --bundle "$BUNDLE" sec-hook1
	echo "${output:0:2000}"
	[ "$status" -ne 0 ]
	[[ "$output" == *last-words* ]]
	rss=$(grep -o 'maxrss=[0-9]*' <<<"$output" | cut -d= -f2)
	echo "peak RSS: $rss KiB"
	[ "$rss" -lt 100000 ]
	[ -z "$(berth list -q)" ]
}

# The caller's session keyring (a shim's or a login's, with its keys) must
# stay out of the container. Init joins a keyring of its own, "_ses.ID",
# made searchable by its user (and by anyone in a user namespace, as runc
# sets it: with that alone an exec process, the key's user, did not find
# it), and every exec process joins that same keyring by name, as runc's
# do; with --no-new-keyring (kept in the state) both keep the caller's.
# Before, an exec process kept the caller's keyring: its description read
# "sec-keyring-caller", and init's keyring was not searchable.
keyring_caller() { "$TESTBIN/keyring" join sec-keyring-caller "$BERTH" --root "$STATE_ROOT" "$@"; }

@test "sec-keyring: the caller's session keyring stays out of the container; exec processes join init's (direct, Go, user namespace, --no-new-keyring)" {
	cp "$TESTBIN/keyring" "$BUNDLE/rootfs/bin/"
	set_args sh -c 'keyring show >/dev/shm/init.key.tmp && mv /dev/shm/init.key.tmp /dev/shm/init.key && exec sleep 1000'
	for how in direct go nokeyring userns; do
		id=sec-keyring-$how
		unset BERTH_GO_INIT
		dbg='' flags='' search=0x80000
		case $how in
		go) export BERTH_GO_INIT=1 dbg=--debug ;; # --debug: the Go exec process
		nokeyring) flags=--no-new-keyring ;;
		userns)
			update_config '.linux.namespaces += [{"type": "user"}]
				| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
				| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
			chmod 711 "$TEST_TMP"
			chown -R 100000:100000 "$BUNDLE/rootfs"
			search=0x80008
			;;
		esac
		keyring_caller create $flags --bundle "$BUNDLE" "$id" </dev/null
		keyring_caller start "$id" </dev/null
		init_key='' deadline=$((SECONDS + 10))
		while [ -z "$init_key" ] && [ $SECONDS -lt $deadline ]; do
			init_key=$(berth exec "$id" cat /dev/shm/init.key 2>/dev/null) || sleep 0.05
		done
		exec_key=$(keyring_caller $dbg exec "$id" keyring show </dev/null 2>"$TEST_TMP/exec.err") || {
			cat "$TEST_TMP/exec.err"
			false
		}
		echo "$how: init's keyring: $init_key; exec's: $exec_key"
		if [ $how = nokeyring ]; then
			[[ "$init_key" == *";sec-keyring-caller" ]]
			[[ "$exec_key" == *";sec-keyring-caller" ]]
		else
			[[ "$init_key" == *";_ses.$id" ]]
			[ "$exec_key" = "$init_key" ] # the same serial: the same keyring
			perm=$(cut -d';' -f4 <<<"$init_key")
			[ $((0x$perm & search)) -eq $((search)) ]
		fi
		berth delete --force "$id"
	done
}
