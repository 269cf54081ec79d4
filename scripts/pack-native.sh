#!/usr/bin/env bash
# pack-native.sh - the platform package wembed-<platform> as a tarball (npm/README.md): builds the
# addon for this machine (scripts/build.sh node), copies dist/wembed.<platform>.node into
# npm/<platform>/ and runs `npm pack` there (whose prepack, scripts/prepack.mjs, checks the
# manifest against npm/platforms.json and the binary's machine). Another platform's binary is
# not built here: it must already be in dist/ (its cross build).
#   scripts/pack-native.sh [platform] [dest]   (default: this machine's platform, dist/npm/)
# Prints the tarball's path.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(node -e 'import("./js/native.js").then((m) => console.log(m.nativeTarget()))')
target=${1:-$here}
dest=$(realpath -m "${2:-dist/npm}")
node -e 'const p = require("./npm/platforms.json"); if (!p[process.argv[1]]) { console.error(`pack-native: ${process.argv[1]} is not in npm/platforms.json (${Object.keys(p).join(", ")})`); process.exit(2); }' "$target"
if [ "$target" = "$here" ]; then
  bash scripts/build.sh node >&2
elif [ ! -f "dist/wembed.$target.node" ]; then
  echo "pack-native: dist/wembed.$target.node is missing: build it for $target first" >&2; exit 2
fi
cp "dist/wembed.$target.node" "npm/$target/.wembed.node.tmp" && mv -f "npm/$target/.wembed.node.tmp" "npm/$target/wembed.$target.node"   # renamed over: see build.sh
mkdir -p "$dest"
file=$(cd "npm/$target" && npm pack --silent --pack-destination "$dest")
echo "$dest/$file"
