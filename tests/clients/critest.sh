#!/usr/bin/env bash
# make critest: cri-tools' CRI validation suite (critest, the release in
# CRITEST_VERSION, built through the Go module proxy) against berth as the
# runtime handler of containerd's CRI plugin, offline.
#
#   tests/clients/critest.sh [GINKGO-FOCUS-REGEX]   (as root, after make build rootfs)
#
# critest pulls its images from registries. Here a local docker-registry
# (Debian's docker-registry), in containerd's network namespace, serves
# busybox stand-ins of them under localhost:5000, which critest's
# -registry-prefix names; critest then creates its containers by the
# images' own names, so the same stand-ins are also imported under those.
# The stand-ins are the busybox rootfs with its applets as hard links (as
# in the real busybox image, so a masked /bin/ls leaves /bin/sh working),
# an httpd for the web server images and /www/index.html. They are not
# the real images: the specs that need what only those have (nginx's
# process name, ipcs, pgrep, a setuid binary) are listed in
# critest-expected-failures.txt with the rest that fail for a reason
# that is not berth's, each with it. A failure not listed fails the run;
# a listed one that passed is reported.
#
# Everything runs in a mount namespace of its own (critest mounts its
# propagation tests' volumes itself) and containerd in a network
# namespace of its own (tests/clients/containerd.sh), with all its state
# under one temporary directory, removed at the end. Skipped: the image
# manager's specs (containerd's, and digests of images that cannot be
# made here), AppArmor and SELinux (this host has neither).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH
version=${CRITEST_VERSION:-v1.34.0}
BERTH=${BERTH:-$repo/berth}
expected=$here/critest-expected-failures.txt
focus=${1:-}

die() { echo "critest: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
for c in containerd docker-registry skopeo jq; do
	command -v "$c" >/dev/null || die "$c is missing (apt-get install containerd docker-registry skopeo jq)"
done
[ -x /usr/lib/cni/bridge ] || die "CNI plugins missing (apt-get install containernetworking-plugins)"

# The whole run in a private mount namespace: re-executed inside one.
if [ "${CRITEST_INNER:-}" != 1 ]; then
	exec env CRITEST_INNER=1 unshare -m --propagation private "$0" "$@"
fi

bin=/var/tmp/berth-critest-$version
if [ ! -x "$bin/critest" ]; then
	mkdir -p "$bin"
	moddir=$(GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/cri-tools@$version" | jq -r .Dir)
	(cd "$moddir" && GOFLAGS=-mod=mod go test -c -o "$bin/critest.tmp" ./cmd/critest)
	mv "$bin/critest.tmp" "$bin/critest"
fi

dir=$(mktemp -d /tmp/berth-critest.XXXXXX)
chmod 755 "$dir"
ctd_pid= reg_pid=
cleanup() {
	[ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null
	if [ -n "$ctd_pid" ]; then
		local crictl=("$(command -v crictl || echo "$(go env GOPATH)/bin/crictl")" --runtime-endpoint "unix://$dir/containerd.sock" --timeout 30s)
		if [ -x "${crictl[0]}" ]; then
			for p in $("${crictl[@]}" pods -q 2>/dev/null); do
				"${crictl[@]}" stopp "$p" >/dev/null 2>&1 || true
				"${crictl[@]}" rmp -f "$p" >/dev/null 2>&1 || true
			done
		fi
		kill "$ctd_pid" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$ctd_pid" 2>/dev/null || break; sleep 0.1; done
	fi
	# This namespace's mounts go with it; the directory is all that is left.
	{ grep -F " $dir/" /proc/self/mountinfo || true; } | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$dir"
	for d in /sys/fs/cgroup/*/k8s.io; do
		[ -d "$d" ] || continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}
trap cleanup EXIT

pause=docker.io/library/pause:berth
mkdir -p "$dir/certs.d/localhost:5000" "$dir/registry"
cat >"$dir/certs.d/localhost:5000/hosts.toml" <<-TOML
	server = "http://localhost:5000"
	[host."http://localhost:5000"]
	  capabilities = ["pull", "resolve"]
TOML
# The handler exactly as docs/deploy.md writes it, plus a private Root.
"$here/cri-config.sh" "$dir" "$BERTH" "$pause" berthcrit0 10.215.0.0/24 '{"type": "portmap", "capabilities": {"portMappings": true}}'
cat >>"$dir/cri.toml" <<-TOML
	[plugins."io.containerd.grpc.v1.cri".registry]
	  config_path = "$dir/certs.d"
TOML
ctd_pid=$(CTD_NETNS=1 "$here/containerd.sh" "$dir" "$dir/cri.toml" 3>&-)
cat >"$dir/registry.yml" <<-YAML
	version: 0.1
	storage:
	  filesystem:
	    rootdirectory: $dir/registry
	http:
	  addr: 127.0.0.1:5000
YAML
nsenter -t "$ctd_pid" -n docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 </dev/null &
reg_pid=$!
deadline=$((SECONDS + 20))
until nsenter -t "$ctd_pid" -n curl -sf http://127.0.0.1:5000/v2/ >/dev/null 2>&1; do
	[ $SECONDS -lt $deadline ] || die "the registry did not start: $(tail -3 "$dir/registry.log")"
	sleep 0.2
done

# The stand-ins' rootfs: busybox's applets as hard links, a web root.
rootfs=$dir/rootfs
cp -a "$repo/tests/rootfs/busybox" "$rootfs"
for f in "$rootfs"/bin/* "$rootfs"/sbin/* "$rootfs"/usr/bin/* "$rootfs"/usr/sbin/*; do
	[ -L "$f" ] && [[ "$(readlink "$f")" == *busybox ]] && ln -f "$rootfs/bin/busybox" "$f"
done
mkdir -p "$rootfs/www" "$rootfs/var/run"
echo '<html>berth critest stand-in</html>' >"$rootfs/www/index.html"

# image NAME [ENTRYPOINT...]: the stand-in as NAME (imported) and as
# localhost:5000/PATH:latest (critest's prefix drops the tag).
image() {
	local name=$1 path
	shift
	"$here/mkimage.sh" "$rootfs" "$name" "$dir/image.tar" "$@"
	ctr --address "$dir/containerd.sock" -n k8s.io images import "$dir/image.tar" >/dev/null
	path=${name#*/}
	nsenter -t "$ctd_pid" -n skopeo copy -q --dest-tls-verify=false \
		"oci-archive:$dir/image.tar" "docker://localhost:5000/${path%:*}:latest"
}
image registry.k8s.io/e2e-test-images/busybox:1.29-2
image registry.k8s.io/e2e-test-images/nginx:1.14-2 /bin/sh -c 'echo $$ >/var/run/nginx.pid; exec httpd -f -p 80 -h /www'
image registry.k8s.io/e2e-test-images/httpd:2.4.39-4 /bin/sh -c 'echo httpd; exec httpd -f -p 80 -h /www'
"$here/mkimage.sh" "$repo/tests/rootfs/busybox" "$pause" "$dir/pause.tar" /bin/sleep 2147483647
ctr --address "$dir/containerd.sock" -n k8s.io images import "$dir/pause.tar" >/dev/null

args=(-runtime-endpoint "unix://$dir/containerd.sock" -image-endpoint "unix://$dir/containerd.sock"
	-registry-prefix localhost:5000 -runtime-handler berth
	-ginkgo.skip "Image Manager|AppArmor|SELinux" -ginkgo.no-color)
[ -n "$focus" ] && args+=(-ginkgo.focus "$focus")
echo "critest: cri-tools $version against $BERTH through containerd $(containerd --version | awk '{print $3}')"
rc=0
# Its temporary directories (pod logs, propagation volumes) go with $dir.
mkdir -p "$dir/critest-tmp"
(cd "$dir" && TMPDIR=$dir/critest-tmp nsenter -t "$ctd_pid" -n "$bin/critest" "${args[@]}") >"$dir/critest.log" 2>&1 || rc=$?
grep -E '^(Ran |FAIL!|SUCCESS!)' "$dir/critest.log" || true
cp "$dir/critest.log" /var/tmp/berth-critest.log

# The failed specs' names, from ginkgo's summary ("  [FAIL] NAME").
mapfile -t failed < <(sed -n 's/^  \[FAIL\] //p' "$dir/critest.log" | sort -u)
mapfile -t listed < <(grep -v '^#' "$expected" | cut -f1 | sed '/^$/d' | sort -u)
status=0
for f in "${failed[@]}"; do
	if ! printf '%s\n' "${listed[@]}" | grep -qxF -- "$f"; then
		echo "critest: NEW failure: $f" >&2
		status=1
	fi
done
if [ -z "$focus" ]; then
	for l in "${listed[@]}"; do
		printf '%s\n' "${failed[@]}" | grep -qxF -- "$l" || echo "critest: listed but passed (remove it): $l"
	done
fi
[ "$rc" -eq 0 ] || [ "${#failed[@]}" -gt 0 ] || { echo "critest: exit status $rc and no failed spec; log: /var/tmp/berth-critest.log" >&2; status=1; }
echo "critest: ${#failed[@]} failed, all listed: $([ $status -eq 0 ] && echo yes || echo no); log: /var/tmp/berth-critest.log"
exit "$status"
