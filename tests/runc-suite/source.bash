# shellcheck shell=bash
# runc_source VERSION DEST: a fresh, writable copy of runc's source at
# VERSION, as the Go module proxy serves it, in DEST (removed first). The
# callers (run.sh here, tests/differential/run.sh) build in that copy and
# then move it into place, so a run cut short leaves no half-built tree
# where they look for a finished one.
runc_source() {
	local version=$1 dest=$2 here src
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	src=$(cd "$here" && GOFLAGS=-mod=mod go mod download -json "github.com/opencontainers/runc@$version" | jq -r .Dir)
	[ -f "$src/main.go" ] || { echo "runc_source: no runc source in $src" >&2; return 1; }
	rm -rf "$dest"
	cp -r "$src" "$dest"
	chmod -R u+w "$dest"
}
