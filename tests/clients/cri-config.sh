#!/usr/bin/env bash
# cri-config.sh DIR BERTH PAUSE NAME SUBNET [PLUGIN-JSON...]
#
# Writes the CRI plugin's configuration of the client suites (cri.bats,
# critest.sh) for a private containerd under DIR (containerd.sh):
# DIR/cri.toml, with berth's runtime handler exactly as docs/deploy.md
# writes it (BERTH as its binary, a private Root), PAUSE as the sandbox
# image and DIR/cni as the CNI configuration, and there a network NAME: a
# bridge of that name with addresses from SUBNET, then each PLUGIN-JSON
# (e.g. portmap) chained after it. A caller appends its own tables to
# DIR/cri.toml.
set -euo pipefail

dir=$1 berth=$2 pause=$3 name=$4 subnet=$5
shift 5
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mkdir -p "$dir/cni"
{
	echo '[plugins."io.containerd.grpc.v1.cri"]'
	echo "  sandbox_image = \"$pause\""
	# root here lacks CAP_SYS_RESOURCE: pause's -998 would fail for any runtime.
	echo '  restrict_oom_score_adj = true'
	echo '  netns_mounts_under_state_dir = true'
	echo '  [plugins."io.containerd.grpc.v1.cri".cni]'
	echo '    bin_dir = "/usr/lib/cni"'
	echo "    conf_dir = \"$dir/cni\""
	awk '$0 == "<!-- snippet: containerd.toml -->" {f = 1; next} f && /^```/ {if (b) exit; b = 1; next} b' "$repo/docs/deploy.md" |
		sed "s|/usr/local/sbin/berth|$berth|"
	echo "    Root = \"$dir/runc\""
} >"$dir/cri.toml"
plugins=$(jq -cn --arg name "$name" --arg subnet "$subnet" --arg ipam "$dir/ipam" \
	'[{type: "bridge", bridge: $name, isGateway: true, ipMasq: false,
	   ipam: {type: "host-local", ranges: [[{subnet: $subnet}]], dataDir: $ipam}}] + ($ARGS.positional | map(fromjson))' \
	--args -- "$@")
jq -n --arg name "$name" --argjson plugins "$plugins" '{cniVersion: "1.0.0", name: $name, plugins: $plugins}' \
	>"$dir/cni/10-$name.conflist"
