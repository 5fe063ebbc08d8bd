#!/usr/bin/env bash
# Builds the busybox test rootfs from Debian's busybox-static (no image
# downloads): tests/rootfs/busybox/ with /bin/busybox, one link per
# applet, /etc/passwd and /etc/group.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/busybox}
bb=$(command -v busybox || true)
if [ -z "$bb" ] || ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
	bb=/bin/busybox
fi
[ -x "$bb" ] || { echo "busybox-static is not installed (apt-get install busybox-static)" >&2; exit 1; }
if [ -x "$out/bin/busybox" ] && cmp -s "$bb" "$out/bin/busybox"; then
	exit 0
fi
rm -rf "$out.tmp"
mkdir -p "$out.tmp"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home,var,run}
cp "$bb" "$out.tmp/bin/busybox"
chmod 755 "$out.tmp/bin/busybox"
for applet in $("$bb" --list); do
	[ "$applet" = busybox ] && continue
	ln -sf busybox "$out.tmp/bin/$applet"
done
chmod 1777 "$out.tmp/tmp"
cat > "$out.tmp/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > "$out.tmp/etc/group" <<'GR'
root:x:0:
daemon:x:1:
tty:x:5:
users:x:100:
nogroup:x:65534:
GR
echo "127.0.0.1 localhost" > "$out.tmp/etc/hosts"
rm -rf "$out"
mv "$out.tmp" "$out"
