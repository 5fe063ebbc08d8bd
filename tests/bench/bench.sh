#!/usr/bin/env bash
# make bench: berth, runc and crun side by side on one busybox rootfs.
#
# Every runtime runs inside one private mount namespace (unshare -m) in
# which /sys/fs/cgroup/unified is unmounted, because crun refuses the
# hybrid cgroup layout; nothing is unmounted on the host. The measuring
# is done by benchdrv (main.go here), which interleaves the runtimes and
# prints a table of medians. It prints; it never asserts.
#
# Knobs (environment):
#   BENCH_N          lifecycle iterations per runtime (default 100)
#   BENCH_BATCH      containers in the batch measurement (default 100)
#   BENCH_PARALLEL   concurrent commands in the batch (default 4)
#   BENCH_BATCH_REPS batch repetitions per runtime (default 3)
#   BENCH_RSS_N      peak-RSS rounds per runtime (default 10)
#   BENCH_WORK_N     counted (perf) lifecycle iterations per runtime (default 20)
#   BENCH_CTR_N      `ctr run --rm` rounds per runtime through a private
#                    containerd (default 20; 0 skips containerd)
#   BENCH_SCALE      existing-container levels for create/state/list growth
#                    (default "1,100"; "1,100,1000" for the big one, ~2 min more;
#                    empty skips it)
#   BERTH RUNC CRUN  binaries (default ./berth and runc, crun from PATH)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
BENCH_N=${BENCH_N:-100}
BENCH_BATCH=${BENCH_BATCH:-100}
BENCH_PARALLEL=${BENCH_PARALLEL:-4}
BENCH_BATCH_REPS=${BENCH_BATCH_REPS:-3}
BENCH_RSS_N=${BENCH_RSS_N:-10}
BENCH_WORK_N=${BENCH_WORK_N:-20}
BENCH_CTR_N=${BENCH_CTR_N:-20}
BENCH_SCALE=${BENCH_SCALE-1,100}

die() {
	echo "bench: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (containers, cgroups, mount namespaces)"
BERTH=${BERTH:-$repo/berth}
RUNC=${RUNC:-$(command -v runc || true)}
CRUN=${CRUN:-$(command -v crun || true)}
[ -x "$BERTH" ] || die "no berth binary at $BERTH (make build)"
[ -n "$RUNC" ] && [ -n "$CRUN" ] || die "runc and crun are needed: apt-get install -y runc crun"
[ -x "$repo/tests/rootfs/busybox/bin/busybox" ] || die "no busybox rootfs (make rootfs)"
command -v jq >/dev/null || die "jq is needed: apt-get install -y jq"
command -v unshare >/dev/null || die "unshare (util-linux) is needed"
[ -x /usr/bin/time ] || die "GNU time is needed for peak RSS: apt-get install -y time"

work=$(mktemp -d /tmp/berth-bench.XXXXXX)
host_mntns=$(readlink /proc/self/ns/mnt)

drv() {
	unshare --mount --propagation private "$work/benchdrv" -work "$work" \
		-berth "$BERTH" -runc "$RUNC" -crun "$CRUN" -host-mntns "$host_mntns" "$@"
}

# Whatever happens (error, Ctrl-C), delete this run's containers and
# cgroups from a fresh private namespace, then the temp dir.
cleanup() {
	trap - EXIT INT TERM
	if [ -x "$work/benchdrv" ] && [ -f "$work/base/config.json" ]; then
		drv -cleanup || echo "bench: cleanup failed; leftovers are named bench-${work##*.}-*" >&2
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$repo" && "$GO" build -o "$work/benchdrv" ./tests/bench)
cp -a "$repo/tests/rootfs/busybox" "$work/rootfs"
mkdir "$work/base"
"$BERTH" spec --bundle "$work/base"
# The same config for all three. crun 1.8 rejects ociVersion 1.3.0
# ("unknown version specified"), so say 1.0.2, which all three accept.
# benchdrv sets root.path, process.args and a cgroupsPath per container.
jq '.ociVersion = "1.0.2" | .process.terminal = false | .process.args = ["/bin/true"]' \
	"$work/base/config.json" >"$work/base/config.tmp"
mv "$work/base/config.tmp" "$work/base/config.json"

echo "machine:  $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r), cgroup v1 (hybrid; in the bench namespace cgroup2 is unmounted, an empty tmpfs in its place)"
echo "berth:    $("$BERTH" --version | paste -sd' ' | sed 's/berth version //')"
echo "runc:     $("$RUNC" --version | head -1 | sed 's/runc version //') ($("$RUNC" --version | grep '^go:' || true))"
echo "crun:     $("$CRUN" --version | head -1 | sed 's/crun version //')"
echo "paging:   $("$work/benchdrv" -page-cost)"
echo "bundle:   busybox rootfs, berth spec, terminal false, ociVersion 1.0.2, cgroupsPath /bench-<run>/<id>; --root per runtime"
echo

drv -n "$BENCH_N" -batch "$BENCH_BATCH" -parallel "$BENCH_PARALLEL" -batch-reps "$BENCH_BATCH_REPS" \
	-rss-n "$BENCH_RSS_N" -work-n "$BENCH_WORK_N" -ctr-n "$BENCH_CTR_N" -scale "$BENCH_SCALE" -repo "$repo"
