#!/usr/bin/env bash
# Prints the path of a CRIU that can checkpoint on this kernel, building
# it once (about 70 s on 2 cores) and caching it in .cache/criu of the
# checkout. Debian 12's criu 3.17 cannot dump on newer kernels, so the
# checkpoint suite uses CRIU 4.2, built from the source tarball and
# build.sh the project keeps beside the repository (shared/criu).
# Where that is, in order:
#   $BERTH_CRIU            a criu binary to use as it is (no build)
#   $BERTH_CRIU_SRC        a directory holding build.sh and the tarball
#   <repo>/../shared/criu  the project's layout
#   /work/shared/criu      the project machine's
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${BERTH_CRIU:-}" ]; then
	"$BERTH_CRIU" --version >/dev/null || { echo "BERTH_CRIU=$BERTH_CRIU does not run" >&2; exit 1; }
	echo "$BERTH_CRIU"
	exit 0
fi
out=$repo/.cache/criu
if [ -x "$out/criu" ] && "$out/criu" --version >/dev/null 2>&1; then
	echo "$out/criu"
	exit 0
fi
src=
for d in "${BERTH_CRIU_SRC:-}" "$repo/../shared/criu" /work/shared/criu; do
	if [ -n "$d" ] && [ -x "$d/build.sh" ]; then
		src=$d
		break
	fi
done
if [ -z "$src" ]; then
	echo "no CRIU source: set BERTH_CRIU_SRC to the directory with CRIU's build.sh and tarball (shared/criu), or BERTH_CRIU to a criu binary" >&2
	exit 1
fi
# One build at a time: suites run in parallel checkouts share nothing,
# but two bats files of one checkout could start it together.
mkdir -p "$repo/.cache"
exec 9>"$repo/.cache/criu.lock"
flock 9
if [ -x "$out/criu" ] && "$out/criu" --version >/dev/null 2>&1; then
	echo "$out/criu"
	exit 0
fi
"$src/build.sh" "$out" >&2
echo "$out/criu"
