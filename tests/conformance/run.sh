#!/usr/bin/env bash
# make conformance: the OCI runtime-tools validation programs against a
# runtime (berth by default), with a checked-in list of expected failures.
#
#   tests/conformance/run.sh [-r RUNTIME] [-n NAME] [-x EXPECTED] [-k] [PROGRAM...]
#
# CONFORMANCE_MODULE=DIR builds the programs from another go.mod like this
# directory's (e.g. one requiring a newer runtime-tools pseudo-version).
#
# Each program runs as the suite expects (RUNTIME in the environment, from
# a directory holding runtimetest and the suite's rootfs tarball), inside
# its own mount, PID and network namespace: a private /run and /tmp (the
# runtime's state and the bundles go with the namespace), a /proc of its
# own, and lo plus a veth pair, because linux_cgroups_network takes the
# second interface it finds (this kernel has no dummy links). Each gets a
# timeout. Its TAP output is parsed: every "not ok" that is not listed in
# the expected-failures file fails the run; a listed one that now passes is
# reported (remove it from the list), but for a "timing:" one, which may. -k (keep going) reports but exits 0
# on new failures; used to measure other runtimes.
#
# Expected-failures lines: "PROGRAM<TAB>DESCRIPTION<TAB>REASON"; DESCRIPTION
# is the TAP line's description with the test number dropped (several
# assertions can share one). '#' starts a comment line.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH

mod=${CONFORMANCE_MODULE:-$here}
runtime=$repo/berth
expected=$here/expected-failures.txt
keep_going=0
name=
while getopts r:n:x:k opt; do
	case $opt in
	r) runtime=$OPTARG ;;
	n) name=$OPTARG ;;
	x) expected=$OPTARG ;;
	k) keep_going=1 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))

die() { echo "conformance: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, mounts, cgroups)"
for c in unshare ip timeout tar; do command -v $c >/dev/null || die "$c is needed"; done
runtime=$(command -v "$runtime") && runtime=$(realpath "$runtime") || die "runtime $runtime not found"
[ -f "$expected" ] || die "no expected-failures file $expected"

# Per-program timeout, seconds. The programs wait at most 10 s for a status
# themselves; one that hangs beyond this is a failure of its own.
per_prog_timeout=${CONFORMANCE_TIMEOUT:-60}

# /tmp and /run are private to each program: with a checkout there (CI's
# may be), the programs and the runtime run from a work directory outside.
case $repo in
/tmp/* | /run/*) work=/var/tmp/berth-conformance ;;
*) work=$repo/.cache/conformance ;;
esac
case $runtime in
/tmp/* | /run/*)
	mkdir -p "$work/runtime"
	cp "$runtime" "$work/runtime/" || die "copy runtime $runtime to $work/runtime"
	runtime=$work/runtime/${runtime##*/}
	;;
esac
rtver=$(cd "$mod" && go list -m -f '{{.Version}}' github.com/opencontainers/runtime-tools)
bin=$work/bin/$rtver
rundir=$work/run/$rtver
out=$work/out/${name:-$(basename "$runtime")}
mkdir -p "$bin" "$rundir"
rm -rf "$out" && mkdir -p "$out"

# Build every tool of tests/conformance/go.mod: static, since runtimetest
# runs inside the suite's busybox rootfs, and with the standard library as
# upstream builds them (no GOEXPERIMENT from berth's Makefile). Go's build
# cache makes a rebuild a no-op.
(
	cd "$mod"
	export GOEXPERIMENT=
	CGO_ENABLED=0 go build -trimpath -o "$bin/" $(go list tool)
)
rtdir=$(cd "$mod" && go list -m -f '{{.Dir}}' github.com/opencontainers/runtime-tools)
cp "$bin/runtimetest" "$rundir/runtimetest"
cp "$rtdir/rootfs-amd64.tar.gz" "$rundir/"

programs=("$@")
if [ ${#programs[@]} -eq 0 ]; then
	mapfile -t programs < <(cd "$mod" && go list tool | grep /validation/ | xargs -n1 basename | sort)
fi

# Runs inside the new namespaces: network, private /run and /tmp, then the
# program. crun refuses a hybrid cgroup layout, so for crun the cgroup2
# mount is hidden in this namespace only (as make bench does). This shell is
# the namespace's PID 1: while it waits it reaps the container processes
# orphaned to it, and when it exits the kernel kills whatever is left. A
# program still running after the timeout gets the namespace's process list
# on its stderr, then SIGKILL.
inner='
set -e
ip link set lo up
ip link add veth0 type veth peer name veth1
ip link set veth0 up
ip link set veth1 up
mount -t tmpfs -o mode=0755 conformance-run /run
mount -t tmpfs -o mode=1777 conformance-tmp /tmp
case "$(basename "$RUNTIME")" in crun*) ! mountpoint -q /sys/fs/cgroup/unified || umount -l /sys/fs/cgroup/unified ;; esac
cd "$1"
"$2" &
prog=$!
(
	sleep "$3"
	echo "conformance: timed out after $3 s; processes:" >&2
	ps -eo pid,ppid,stat,wchan:32,args | cut -c1-160 >&2
	kill -9 "$prog"
) &
watchdog=$!
rc=0
wait "$prog" || rc=$?
kill "$watchdog" 2>/dev/null || true
exit "$rc"
'

# Cgroups the programs ask for by fixed paths, in every hierarchy: removed
# after each program when empty (rmdir takes nothing else).
cleanup_cgroups() {
	local d
	for d in /sys/fs/cgroup/*/cgrouptest /sys/fs/cgroup/cgrouptest /sys/fs/cgroup/*/testdir /sys/fs/cgroup/*/*/testdir; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

for p in "${programs[@]}"; do
	[ -x "$bin/$p" ] || die "no such validation program: $p"
	rc=0
	# timeout(1) only backs up the watchdog inside.
	RUNTIME=$runtime timeout -k 5 $((per_prog_timeout + 30)) \
		unshare --mount --propagation private --pid --net --fork --mount-proc \
		sh -c "$inner" sh "$rundir" "$bin/$p" "$per_prog_timeout" >"$out/$p.tap" 2>"$out/$p.err" </dev/null || rc=$?
	echo "$rc" >"$out/$p.rc"
	cleanup_cgroups
done

# Parse every program's TAP into "PROGRAM<TAB>RESULT<TAB>DESCRIPTION" lines;
# RESULT is ok, fail or skip. A program that printed no plan or fewer
# results than planned, or exited non-zero, adds a "fail" for itself.
# Some programs (hooks, poststart_fail, ...) report a failed check only as
# a YAML diagnostic with an "error" key and no "not ok" line: a block that
# follows no test line of its own (the first block after an "ok" or "not
# ok" line is that line's, and an "error" in it is often the error the
# test asked for) is a "fail" named "(diagnostic) " and the error's first
# line.
for p in "${programs[@]}"; do
	awk -v prog="$p" -v rc="$(cat "$out/$p.rc")" '
	function desc(s) { sub(/^(not )?ok[ \t]+[0-9]*[ \t]*(- )?/, "", s); sub(/[ \t]*#[ \t]*[Ss][Kk][Ii][Pp].*$/, "", s); return s }
	/^[ \t]+---[ \t]*$/ { yaml = 1; yerr = ""; owned = pending; pending = 0; other = 1; next }
	yaml && /^[ \t]+\.\.\.[ \t]*$/ {
		yaml = 0
		if (yerr != "" && !owned) print prog "\tfail\t(diagnostic) " yerr
		next
	}
	yaml {
		if (match($0, /"error":[ \t]*"/)) {
			e = substr($0, RSTART + RLENGTH)
			sub(/\\n.*$/, "", e); sub(/",?[ \t]*$/, "", e)
			yerr = (e == "") ? "(empty error)" : e
		}
		next
	}
	/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; planned = 1; pending = 0; next }
	/^ok([ \t]|$)/ { n++; pending = 1; r = ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) ? "skip" : "ok"; print prog "\t" r "\t" desc($0); next }
	/^not ok([ \t]|$)/ { n++; pending = 1; r = ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) ? "skip" : "fail"; print prog "\t" r "\t" desc($0); next }
	NF { other = 1 }
	END {
		# The *_fail programs print nothing and exit 0 when the runtime
		# refuses the bad config, as it must: that is their one pass.
		if (rc == 0 && !planned && n == 0 && !other) { print prog "\tok\t(program passed, no TAP output)"; exit }
		if (rc == 124 || rc == 137) print prog "\tfail\t(program timed out or was killed)"
		else if (rc != 0) print prog "\tfail\t(program exited " rc ")"
		if (!planned) print prog "\tfail\t(no TAP plan)"
		else if (n < plan) print prog "\tfail\t(" plan - n " of " plan " planned results missing)"
	}' "$out/$p.tap"
done >"$out/results.tsv"

passed=$(awk -F'\t' '$2 == "ok"' "$out/results.tsv" | wc -l)
failed=$(awk -F'\t' '$2 == "fail"' "$out/results.tsv" | wc -l)
skipped=$(awk -F'\t' '$2 == "skip"' "$out/results.tsv" | wc -l)

# Compare with the expected list, by PROGRAM<TAB>DESCRIPTION (only the
# programs that were run).
sel=$(printf '%s\n' "${programs[@]}")
{ grep -v -e '^#' -e '^[[:space:]]*$' "$expected" || true; } >"$out/listed.tsv"
cut -f1,2 "$out/listed.tsv" |
	awk -F'\t' 'NR == FNR { want[$1] = 1; next } want[$1]' <(echo "$sel") - | sort -u >"$out/expected.keys"
awk -F'\t' '$2 == "fail" { print $1 "\t" $3 }' "$out/results.tsv" | sort -u >"$out/failed.keys"

new=$(comm -23 "$out/failed.keys" "$out/expected.keys")
# An expected failure is stale when nothing of that description failed: the
# assertion passes now, or the program-level failure ("program exited 1",
# "no TAP plan") did not happen. One whose reason starts with "timing:"
# fails or passes as the scheduler has it, and is never stale.
awk -F'\t' '$3 ~ /^timing:/ { print $1 "\t" $2 }' "$out/listed.tsv" | sort -u >"$out/timing.keys"
fixed=$(comm -23 "$out/expected.keys" "$out/failed.keys" | comm -23 - "$out/timing.keys")

echo "conformance: $runtime, runtime-tools $rtver: ${#programs[@]} programs; assertions: $passed passed, $failed failed, $skipped skipped"
echo "conformance: expected failures: $(wc -l <"$out/expected.keys") listed, $(comm -12 "$out/failed.keys" "$out/expected.keys" | wc -l) seen"
if [ -n "$fixed" ]; then
	echo "conformance: listed as expected failures but not failing now (remove them from $(basename "$expected")):"
	sed 's/^/  /' <<<"$fixed"
fi
if [ -n "$new" ]; then
	echo "conformance: NEW FAILURES (TAP and stderr in $out):"
	sed 's/^/  /' <<<"$new"
	[ "$keep_going" -eq 1 ] || exit 1
fi
exit 0
