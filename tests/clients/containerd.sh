#!/usr/bin/env bash
# containerd.sh DIR [EXTRA-TOML-FILE]
#
# Starts a private containerd: root, state, sockets and config all under
# DIR (which must exist), nothing under /run/containerd or /var/lib. Prints
# containerd's PID once its socket answers; its log is DIR/containerd.log.
# The CRI plugin is disabled unless EXTRA-TOML-FILE configures it (its text
# is appended to the config). With CTD_NETNS=1 it runs in a network
# namespace of its own, so that CNI's bridges and addresses touch nothing on
# the host. Stop it with `kill PID` and wait for the PID.
# containerd (and the shims it starts) get DIR/tmp as TMPDIR: containerd
# makes a task checkpoint's image directory (ctrd-checkpoint*) there and
# leaves it, which in /tmp outlived every run of the checkpoint test.
set -euo pipefail

dir=$1 extra=${2:-}
command -v containerd >/dev/null || { echo "containerd is not installed (apt-get install containerd)" >&2; exit 1; }
command -v containerd-shim-runc-v2 >/dev/null || { echo "containerd-shim-runc-v2 is not installed (Debian package containerd)" >&2; exit 1; }

disabled='"io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"'
[ -n "$extra" ] && disabled='"io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"'

cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = [$disabled]

[grpc]
  address = "$dir/containerd.sock"

[ttrpc]
  address = "$dir/containerd.sock.ttrpc"

[debug]
  level = "debug"

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
TOML
[ -n "$extra" ] && cat "$extra" >>"$dir/config.toml"
mkdir -p "$dir/tmp"
export TMPDIR=$dir/tmp

if [ "${CTD_NETNS:-}" = 1 ]; then
	# unshare execs containerd: the PID is containerd's own.
	unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh \
		containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 </dev/null &
else
	containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 </dev/null &
fi
pid=$!
deadline=$((SECONDS + 30))
until ctr --address "$dir/containerd.sock" version >/dev/null 2>&1; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "containerd exited during start-up; its log:" >&2
		tail -20 "$dir/containerd.log" >&2
		exit 1
	fi
	if [ $SECONDS -ge $deadline ]; then
		echo "containerd did not answer on $dir/containerd.sock within 30s; its log:" >&2
		tail -20 "$dir/containerd.log" >&2
		kill "$pid"
		exit 1
	fi
	sleep 0.1
done
echo "$pid"
