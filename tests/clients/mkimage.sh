#!/usr/bin/env bash
# mkimage.sh ROOTFS NAME OUT.tar [ENTRYPOINT...]
#
# Builds, offline, an image archive of ROOTFS that every client here can
# load: it is both an OCI image layout (index.json, oci-layout: ctr images
# import, podman load) and a Docker archive (manifest.json: docker load)
# sharing the same blobs. One uncompressed layer; NAME is the full
# reference, e.g. docker.io/library/busybox:berth. ENTRYPOINT, if given,
# becomes the image's Entrypoint (Cmd is then empty); otherwise Cmd is sh.
set -euo pipefail

rootfs=$1 name=$2 out=$3
shift 3
work=$(mktemp -d /tmp/berth-mkimage.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/blobs/sha256"

# put FILE: moves FILE into the blob store and prints its digest and size.
put() {
	local sum size
	sum=$(sha256sum "$1" | cut -d' ' -f1)
	size=$(stat -c %s "$1")
	mv "$1" "$work/blobs/sha256/$sum"
	echo "$sum $size"
}

# Reproducible layer: sorted, fixed mtime and owners.
tar -C "$rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/layer.tar" .
read -r layer_sum layer_size < <(put "$work/layer.tar")

if [ $# -gt 0 ]; then
	entry=$(printf '%s\n' "$@" | jq -R . | jq -cs .)
	cmd='[]'
else
	entry=null
	cmd='["sh"]'
fi
jq -n --arg diff "sha256:$layer_sum" --argjson entry "$entry" --argjson cmd "$cmd" '{
	architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
	config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
		Entrypoint: $entry, Cmd: $cmd, WorkingDir: "/"},
	rootfs: {type: "layers", diff_ids: [$diff]},
	history: [{created: "1970-01-01T00:00:00Z", created_by: "tests/clients/mkimage.sh"}]
}' >"$work/config.json"
read -r config_sum config_size < <(put "$work/config.json")

jq -n --arg c "sha256:$config_sum" --argjson cs "$config_size" --arg l "sha256:$layer_sum" --argjson ls "$layer_size" '{
	schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
	config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
	layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]
}' >"$work/manifest.oci.json"
read -r manifest_sum manifest_size < <(put "$work/manifest.oci.json")

tag=${name##*:}
jq -n --arg m "sha256:$manifest_sum" --argjson ms "$manifest_size" --arg name "$name" --arg tag "$tag" '{
	schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
	manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
		annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": $tag}}]
}' >"$work/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"

# Docker's archive format names the same blobs.
jq -n --arg c "blobs/sha256/$config_sum" --arg l "blobs/sha256/$layer_sum" --arg name "$name" \
	'[{Config: $c, RepoTags: [$name], Layers: [$l]}]' >"$work/manifest.json"

tar -C "$work" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
	-cf "$out" oci-layout index.json manifest.json blobs
