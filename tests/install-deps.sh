#!/usr/bin/env bash
# Installs what building and testing berth needs on a Debian 12 machine
# (as root): the Debian packages below and crictl from the Go module proxy.
# Idempotent: it installs only what is missing, so `make test` can call it
# every time. Pass extra package names as arguments (e.g. `crun hyperfine`
# for the benchmark); --build-only installs just what building berth and
# running a container need (make demo).
set -euo pipefail
export PATH=/usr/local/go/bin:$PATH
export DEBIAN_FRONTEND=noninteractive

build_only=
if [ "${1:-}" = --build-only ]; then
	build_only=1
	shift
fi
pkgs=(gcc make git jq libseccomp-dev musl-tools busybox-static)
if [ -z "$build_only" ]; then
	pkgs+=(bats util-linux bsdutils iproute2 procps strace python3 time
		# the real clients the integration suites drive
		containerd runc docker.io podman conmon containernetworking-plugins iptables
		# the kernel make test-cgroup2 and test-systemd boot (pure cgroup v2),
		# and what makes the systemd rootfs; cpio packs initramfs.bats's initrd;
		# kmod's insmod loads the guest's loop driver (tests/uml/guest-init.sh)
		user-mode-linux debootstrap cpio kmod
		# rootless.bats: newuidmap/newgidmap for several id ranges
		uidmap)
fi
pkgs+=("$@")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${missing[*]} (run as root to install them)" >&2
		exit 1
	fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "no Go toolchain: install Go >= 1.26 in /usr/local/go" >&2; exit 1; }
[ -n "$build_only" ] && exit 0
gobin=$(go env GOPATH)/bin
if [ ! -x "$gobin/crictl" ] && ! command -v crictl >/dev/null; then
	go install sigs.k8s.io/cri-tools/cmd/crictl@v1.34.0
fi
