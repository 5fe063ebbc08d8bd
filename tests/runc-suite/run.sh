#!/usr/bin/env bash
# make runc-suite: runc's own integration tests (tests/integration/*.bats of
# the runc release in RUNC_SUITE_VERSION, fetched through the Go module
# proxy) run against berth, with a checked-in list of expected failures.
#
#   tests/runc-suite/run.sh [-2|-s] [-r RUNTIME] [-x EXPECTED] [-k] [FILE.bats...]
#
# -2 (make runc-suite-cgroup2) runs the files whose tests need pure
# cgroup v2 (CGROUP2_FILES by default) inside the user-mode-linux guest of
# make test-cgroup2 (tests/uml/run.sh), which boots on a pure cgroup2
# hierarchy, against expected-failures-cgroup2.txt. No Debian image is
# made for it: none of those files uses one.
#
# -s (make runc-suite-systemd) runs those files and the lifecycle ones
# (SYSTEMD_FILES) with the suite's systemd driver (RUNC_USE_SYSTEMD: runc
# --systemd-cgroup, its containers in transient scopes, set-property
# checks) inside the user-mode-linux guest of make test-systemd
# (tests/uml/run-systemd.sh), where systemd is PID 1 on pure cgroup v2,
# against expected-failures-systemd.txt. Its Debian rootfs is one of its
# own, with what the suite runs there (xz for the images, gcc, ip,
# udevadm) besides test-systemd's; the UML kernel's dummy link driver
# makes netdev.bats runnable there, which this host cannot.
#
# The suite's images come from the offline busybox rootfs (tests/rootfs),
# as a tarball without /proc and /sys like the upstream image; its Debian
# image is the same busybox, so tests that need Debian's tools are listed
# as expected failures. Its helper programs (recvtty, seccompagent, ...)
# are built from the same release, seccompagent with its "seccomp" tag.
# The whole run is in a mount namespace of its own (the suite runs
# containers in the host's mount namespace in host-mntns.bats), under
# the lock every bats run of this project takes. The suite's helpers make
# a directory per controller named in /proc/cgroups under /sys/fs/cgroup
# (its tmpfs), also for controllers this host does not mount; the empty
# ones left are removed at the end.
#
# Expected-failures lines: "FILE<TAB>TEST NAME<TAB>REASON"; '#' starts a
# comment line. A "not ok" not listed fails the run; a listed test that
# passed is reported (remove it). -k reports but exits 0.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export PATH=/usr/local/go/bin:$PATH
# shellcheck source=tests/runc-suite/source.bash
. "$here/source.bash"

version=${RUNC_SUITE_VERSION:-v1.6.0-rc.1}
work=${RUNC_SUITE_DIR:-/var/tmp/berth-runc-suite-$version}
runtime=$repo/berth
expected=
keep_going=0
uml=0
systemd=0
# The files with tests that skip themselves on a v1 or hybrid host.
CGROUP2_FILES=${CGROUP2_FILES:-"cgroups.bats update.bats cgroup_delegation.bats events.bats delete.bats exec.bats pause.bats pidfd-socket.bats"}
SYSTEMD_FILES=${SYSTEMD_FILES:-"$CGROUP2_FILES run.bats kill.bats dev.bats cpu_affinity.bats ps.bats create.bats start_detached.bats start_hello.bats userns.bats tty.bats hooks.bats list.bats state.bats netdev.bats"}
while getopts 2sr:x:k opt; do
	case $opt in
	2) uml=1 ;;
	s) uml=1 systemd=1 ;;
	r) runtime=$OPTARG ;;
	x) expected=$OPTARG ;;
	k) keep_going=1 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
runtime=$(readlink -f "$runtime")
if [ "$systemd" = 1 ]; then
	: "${expected:=$here/expected-failures-systemd.txt}"
	# shellcheck disable=SC2086 # a list of file names
	[ $# -gt 0 ] || set -- $SYSTEMD_FILES
elif [ "$uml" = 1 ]; then
	: "${expected:=$here/expected-failures-cgroup2.txt}"
	# shellcheck disable=SC2086 # a list of file names
	[ $# -gt 0 ] || set -- $CGROUP2_FILES
else
	: "${expected:=$here/expected-failures.txt}"
fi

for tool in bats jq gawk gcc unshare flock; do
	command -v "$tool" >/dev/null || { echo "runc-suite: $tool is needed (apt-get install $tool)" >&2; exit 1; }
done

# The suite, as the module proxy serves the release.
if [ ! -d "$work/tests/integration" ]; then
	runc_source "$version" "$work.tmp"
	[ -d "$work.tmp/tests/integration" ] || { echo "runc-suite: no tests/integration in runc $version" >&2; exit 1; }
	# Module zips keep no file modes: the scripts, and the runc wrapper that
	# newer suites' helpers.bash runs from PATH (tests/integration/bin).
	find "$work.tmp/tests" \( -name '*.sh' -o -path '*/integration/bin/*' \) -type f -exec chmod +x {} +
	(cd "$work.tmp" && GOFLAGS=-mod=mod go build -o tests/cmd/_bin/ ./tests/cmd/... &&
		GOFLAGS=-mod=mod go build -tags seccomp -o tests/cmd/_bin/seccompagent ./tests/cmd/seccompagent)
	mv "$work.tmp" "$work"
fi
testdata=$work/tests/integration/testdata
if [ ! -s "$testdata/busybox-amd64.tar.xz" ]; then
	[ -d "$repo/tests/rootfs/busybox/bin" ] || "$repo/tests/rootfs/build.sh"
	tar -C "$repo/tests/rootfs/busybox" --exclude=./proc --exclude=./sys -cJf "$testdata/busybox-amd64.tar.xz" .
fi
# The Debian image: Debian's own (bookworm, debootstrap's minbase from the
# host's apt mirror) when debootstrap can make it, else the busybox rootfs
# stands in and the expected failures whose reason starts "stand-in:" are
# the tests that need Debian's tools. RUNC_SUITE_DEBIAN=busybox asks for the
# stand-in. Its kind is kept beside it, so a cached image is reused.
debian_kind_file=$testdata/debian-amd64.kind
want_kind=${RUNC_SUITE_DEBIAN:-debian}
# (Not for -2: no file of CGROUP2_FILES uses it.)
if [ "$uml" = 0 ] && { [ ! -s "$testdata/debian-amd64.tar.xz" ] || [ "$(cat "$debian_kind_file" 2>/dev/null)" != "$want_kind" ]; }; then
	rm -f "$testdata/debian-amd64.tar.xz" "$debian_kind_file"
	kind=busybox
	if [ "$want_kind" = debian ] && command -v debootstrap >/dev/null; then
		mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
		rm -rf "$work/debian.tmp"
		echo "runc-suite: making the Debian image (debootstrap bookworm from ${mirror:=http://deb.debian.org/debian})" >&2
		if debootstrap --variant=minbase bookworm "$work/debian.tmp" "$mirror" >"$work/debootstrap.log" 2>&1; then
			# As an image's layers have it: no device nodes, no apt lists.
			rm -rf "$work/debian.tmp/dev/"* "$work/debian.tmp/var/lib/apt/lists/"* "$work/debian.tmp/var/cache/apt/"*.bin
			tar -C "$work/debian.tmp" -c . | xz -T0 -1 >"$testdata/debian-amd64.tar.xz"
			kind=debian
		else
			echo "runc-suite: debootstrap failed (see $work/debootstrap.log); the busybox rootfs stands in for Debian's image" >&2
		fi
		rm -rf "$work/debian.tmp"
	fi
	if [ "$kind" = busybox ]; then
		# Debian's image has /proc and /sys; the busybox one has neither.
		tar -C "$repo/tests/rootfs/busybox" -cJf "$testdata/debian-amd64.tar.xz" .
	fi
	echo "$kind" >"$debian_kind_file"
fi
debian_kind=$(cat "$debian_kind_file" 2>/dev/null || echo none)

# checkpoint.bats needs a CRIU that can dump on this kernel: the one
# tests/criu/build.sh builds (or finds), when it can.
if [ "$uml" = 0 ] && criu=$("$repo/tests/criu/build.sh" 2>/dev/null); then
	export PATH=$(dirname "$criu"):$PATH
fi

cd "$work/tests/integration"
if [ $# -eq 0 ]; then
	set -- *.bats
fi
log=$work/tap.log
echo "runc-suite: runc $version's tests against $runtime: $*" >&2
# checkpoint.bats writes /etc/criu/default.conf (a log-file name that CRIU
# then makes in its working directory, wherever it runs) and removes it
# only when its test passes: put back what was there.
criu_conf=/etc/criu/default.conf
criu_conf_saved=$(mktemp)
had_criu_dir=false
[ -d /etc/criu ] && had_criu_dir=true
had_criu_conf=false
if [ -e "$criu_conf" ]; then
	had_criu_conf=true
	cp -a "$criu_conf" "$criu_conf_saved"
fi
restore_criu_conf() {
	[ -e "$criu_conf_saved" ] || return 0 # done already
	if $had_criu_conf; then
		cp -a "$criu_conf_saved" "$criu_conf"
	else
		rm -f "$criu_conf"
		$had_criu_dir || rmdir /etc/criu 2>/dev/null || true
	fi
	rm -f "$criu_conf_saved"
}
trap restore_criu_conf EXIT
# BATS_TEST_TIMEOUT for checkpoint.bats only: a test that hangs there
# (checkpoint --lazy-pages waits for CRIU's status fd) is failed, not
# waited for. bats keeps that timeout as a background job of the test's
# shell, so a test that runs a bare `wait` (events.bats) would wait for it
# and fail at the timeout: the other files run without one.
# The suite's temporary files go to $work/tmp, not /tmp: its helpers make
# an (empty) losetup.XXXXXX list in $BATS_TMPDIR for every test and never
# remove it.
tmp=$work/tmp
mkdir -p "$tmp"
# The suite calls the runtime as runc's repository builds it, a binary
# named runc (help.bats, version.bats and --debug lines want that name):
# berth is installed under it as a drop-in is, by a symlink, one for the
# host and one for the guest, which finds the checkout and this directory
# elsewhere (tests/uml/guest-init.sh).
mkdir -p "$work/bin" "$work/bin-guest"
ln -sfn "$runtime" "$work/bin/runc"
run_bats() { # TIMEOUT FILE...
	local timeout=$1
	shift
	[ $# -gt 0 ] || return 0
	TMPDIR=$tmp RUNC=$work/bin/runc env ${timeout:+BATS_TEST_TIMEOUT=$timeout} setsid -w flock /tmp/berth-bats.lock \
		unshare -m --propagation slave bats -T "$@" >>"$log" 2>&1 </dev/null
}
timed=() untimed=()
for f in "$@"; do
	case $f in
	checkpoint.bats) timed+=("$f") ;;
	*) untimed+=("$f") ;;
	esac
done
: >"$log"
set +e
# bats in a guest runs as run_bats does here: the suite's runc, its temp
# files on the guest's /tmp, and the host's Go in PATH (its helpers ask it
# their GOARCH).
goroot=$(go env GOROOT)
guest_bats_env="RUNC=/mnt/suite/bin-guest/runc TMPDIR=/tmp HOME=/tmp PATH=$goroot/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
if [ "$systemd" = 1 ]; then
	# The guest's root is a cached Debian rootfs (test-systemd's packages and
	# the suite's), where the host's Go is bound; the checkout is at
	# /mnt/repo there and this directory at /mnt/suite.
	[ "$runtime" = "$repo/berth" ] || { echo "runc-suite: -s runs the checkout's berth only" >&2; exit 1; }
	ln -sfn /mnt/repo/berth "$work/bin-guest/runc"
	UML_SYSTEMD_ROOTFS=${UML_SYSTEMD_ROOTFS:-/var/cache/berth-debootstrap/bookworm-runc-suite} \
		UML_ROOTFS_EXTRA="xz-utils gawk gcc libc6-dev iproute2 udev" \
		UML_SUITE_DIR=$work UML_MEM=${UML_MEM:-2G} UML_TIMEOUT=${UML_TIMEOUT:-3600} UML_HOST_DIRS=$goroot \
		UML_BATS_ENV="$guest_bats_env RUNC_USE_SYSTEMD=1" \
		"$repo/tests/uml/run-systemd.sh" "${@/#/tests/integration/}" >"$log" 2>"$work/uml.log" </dev/null
elif [ "$uml" = 1 ]; then
	# The guest's root is the host's, read-only, with tmpfs on /tmp, /run
	# and /var/tmp; the suite's directory and the checkout are bound
	# before those (tests/uml/guest-init.sh).
	guest_runtime=$runtime
	[ "$runtime" != "$repo/berth" ] || guest_runtime=/mnt/repo/berth
	ln -sfn "$guest_runtime" "$work/bin-guest/runc"
	# The whole release is bound (its helpers find their programs in
	# ../cmd/_bin), and the files named from its top.
	UML_SUITE_DIR=$work UML_MEM=${UML_MEM:-2G} UML_TIMEOUT=${UML_TIMEOUT:-2400} UML_BATS_ENV="$guest_bats_env" \
		"$repo/tests/uml/run.sh" "${@/#/tests/integration/}" >"$log" 2>"$work/uml.log" </dev/null
else
	run_bats "" "${untimed[@]}"
	run_bats "${BATS_TEST_TIMEOUT:-120}" "${timed[@]}"
fi
if [ "$uml" = 1 ] && ! grep -q '^1\.\.' "$log"; then
	echo "runc-suite: the guest gave no TAP:" >&2
	tail -n 30 "$work/uml.log" >&2
	exit 1
fi
set -e
restore_criu_conf
find "$tmp" -maxdepth 1 -name 'losetup.*' -empty -delete
for d in /sys/fs/cgroup/*; do
	if [ -d "$d" ] && ! mountpoint -q "$d" && [ -z "$(ls -A "$d")" ]; then
		rmdir "$d"
	fi
done
# The suite's own cgroups that a failed test's teardown left (a frozen one
# from the test that checks a frozen cgroup is refused), when empty.
for top in /sys/fs/cgroup/*/runc-cgroups-integration-test /sys/fs/cgroup/runc-cgroups-integration-test; do
	[ -d "$top" ] || continue
	find "$top" -depth -type d | while IFS= read -r d; do
		[ -z "$(cat "$d/cgroup.procs" 2>/dev/null)" ] || continue
		[ ! -e "$d/freezer.state" ] || echo THAWED >"$d/freezer.state" 2>/dev/null || true
		rmdir "$d" 2>/dev/null || true
	done
done

# "not ok N name in Tms" lines, with the file each test is in.
failed=$(mktemp) expected_now=$(mktemp)
trap 'rm -f "$failed" "$expected_now"; restore_criu_conf' EXIT
for f in "$@"; do
	grep -o '@test "[^"]*"' "$f" | sed -e 's/^@test "//' -e 's/"$//' | while IFS= read -r t; do
		printf '%s\t%s\n' "$f" "$t"
	done
done >"$failed.names"
awk '/^not ok / { sub(/^not ok [0-9]+ /, ""); sub(/ # timeout after [0-9]+s$/, ""); sub(/ in [0-9]+ms$/, ""); print }' "$log" | while IFS= read -r t; do
	f=$(awk -F'\t' -v t="$t" '$2 == t { print $1; exit }' "$failed.names")
	printf '%s\t%s\n' "${f:-?}" "$t"
done | sort -u >"$failed"
rm -f "$failed.names"

# With Debian's own image the stand-in's failures are not expected. (A list
# may have no entries: grep's "no line" is not an error here.)
{ grep -v '^#' "$expected" || true; } | awk -F'\t' -v kind="$debian_kind" '!(kind == "debian" && $3 ~ /^stand-in:/)' >"$expected_now"

passed=$(grep -c '^ok ' "$log" || true)
skipped=$(grep -c '^ok .* # skip' "$log" || true)
new=$(cut -f1,2 "$expected_now" | sort -u | comm -13 - "$failed" || true)
# Entries whose reason starts with "host timing:" fail or pass with the
# machine's timing: one that passes is not reported.
fixed=$(awk -F'\t' '$3 !~ /^host timing:/' "$expected_now" | cut -f1,2 | sort -u | comm -23 - "$failed" |
	while IFS=$'\t' read -r f t; do
		[ -n "$f" ] || continue
		case " $* " in *" $f "*) printf '%s\t%s\n' "$f" "$t" ;; esac
	done || true)
echo "runc-suite: $passed ok ($skipped skipped), $(wc -l <"$failed") not ok; TAP in $log"
if [ -n "$fixed" ]; then
	echo "runc-suite: listed as expected failures but passed (remove them):"
	echo "$fixed" | sed 's/^/  /'
fi
if [ -n "$new" ]; then
	echo "runc-suite: NEW failures:"
	echo "$new" | sed 's/^/  /'
	[ "$keep_going" = 1 ] || exit 1
fi
