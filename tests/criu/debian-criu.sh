#!/usr/bin/env bash
# Prints the path of Debian 12's criu (3.17), unpacked once into
# .cache/criu-deb of the checkout without installing it: the checkpoint
# suite shows berth's error for a criu that cannot work on this kernel
# (3.17 cannot read a 6.x kernel's vDSO). It needs Debian's apt sources.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$repo/.cache/criu-deb
if [ ! -x "$out/usr/sbin/criu" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# apt-get download writes to the current directory; as root it
	# warns that _apt cannot reach it, which is harmless.
	(cd "$tmp" && apt-get download -q criu) >&2 2>/dev/null || (apt-get update -qq && cd "$tmp" && apt-get download -q criu) >&2
	mkdir -p "$repo/.cache" # dpkg -x makes the last directory only
	dpkg -x "$tmp"/criu_*.deb "$out"
fi
echo "$out/usr/sbin/criu"
