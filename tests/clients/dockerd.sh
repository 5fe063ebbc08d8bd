#!/usr/bin/env bash
# dockerd.sh DIR BERTH
#
# Starts a private dockerd (Debian's docker.io) with berth registered as the
# runtime "berth": data-root, exec-root, pidfile and socket under DIR, in a
# network namespace of its own (so its docker0 bridge, with a fixed bip and
# MTU, and its iptables rules touch nothing on the host), containers under
# the cgroup parent /berth-docker. Prints dockerd's PID once the socket
# answers; its log is DIR/dockerd.log. dockerd starts and stops its own
# containerd. With DOCKERD_CONFIG set, that daemon.json is used instead of
# --add-runtime (it must register berth itself).
# dockerd, and the containerd it starts, get DIR/tmp as TMPDIR: when
# containerd is slow to stop, dockerd asks it for a stack dump (SIGUSR1)
# before killing it, and containerd writes that dump to its TMPDIR, which in
# /tmp outlived the run.
set -euo pipefail

dir=$1 berth=$2
command -v dockerd >/dev/null || { echo "dockerd is not installed (apt-get install docker.io)" >&2; exit 1; }
[ -x /usr/bin/docker ] || { echo "/usr/bin/docker is not installed (apt-get install docker.io)" >&2; exit 1; }

runtime_args=(--add-runtime "berth=$berth")
[ -n "${DOCKERD_CONFIG:-}" ] && runtime_args=(--config-file "$DOCKERD_CONFIG")

mkdir -p "$dir/tmp"
export TMPDIR=$dir/tmp

# unshare execs dockerd: the PID is dockerd's own.
unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh \
	dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
	-H "unix://$dir/docker.sock" "${runtime_args[@]}" \
	--bip 10.213.0.1/24 --mtu 1400 --cgroup-parent /berth-docker --userland-proxy=false \
	>"$dir/dockerd.log" 2>&1 </dev/null &
pid=$!
deadline=$((SECONDS + 60))
until /usr/bin/docker -H "unix://$dir/docker.sock" version >/dev/null 2>&1; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "dockerd exited during start-up; its log:" >&2
		tail -20 "$dir/dockerd.log" >&2
		exit 1
	fi
	if [ $SECONDS -ge $deadline ]; then
		echo "dockerd did not answer on $dir/docker.sock within 60s; its log:" >&2
		tail -20 "$dir/dockerd.log" >&2
		kill "$pid"
		exit 1
	fi
	sleep 0.2
done
echo "$pid"
