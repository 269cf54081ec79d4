#!/usr/bin/env bash
# setup.sh - installs what building and testing wembed needs on Debian 12, and only what is
# missing: Debian packages (as root; otherwise it prints the exact apt-get line to run) and
# the npm devDependencies (npm ci). Safe to run again: a complete machine does nothing.
#   scripts/setup.sh           build and test
#   scripts/setup.sh --bench   also what `npm run bench` needs: the Python packages of
#                              gen/bench_models.py and the benchmark's own npm dependencies
set -euo pipefail
cd "$(dirname "$0")/.."

# What each package is for:
#   cmake make gcc               the native build and tests
#   clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32
#                                the WASI module (dist/wembed.wasi.wasm); clang for libFuzzer
#   emscripten                   the wasm modules (3.1.6, with clang 14 and binaryen)
#   libsimde-dev                 the SIMD128 kernels, compiled natively through SIMDe
#   chromium fonts-dejavu-core   browser tests (driven by npm playwright-core)
#   xz-utils                     unpacks the xz-compressed test data (tests/data/tokenizers)
#   gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
#                                the linux-arm64 build, tested under emulation (scripts/test-arm64.sh)
PACKAGES=(cmake make gcc clang clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32 emscripten
          libsimde-dev chromium fonts-dejavu-core xz-utils gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)
#   python3-torch python3-numpy python3-onnx
#                                (--bench) gen/bench_models.py: the random-weight models, their
#                                ONNX graphs for transformers.js and the q8 transform
bench=0
[ "${1:-}" = --bench ] && bench=1
[ $bench = 1 ] && PACKAGES+=(python3-torch python3-numpy python3-onnx)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "setup: missing Debian packages. Run:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

node_major=$(node -p 'process.versions.node.split(".").map(Number).slice(0,2).join(".")')
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=16)?0:1)'; then
  echo "setup: Node.js >= 20.16 is needed (this is $node_major)" >&2
  exit 1
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
if [ $bench = 1 ] && { [ ! -d bench/node_modules ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; }; then
  npm ci --no-audit --no-fund --prefix bench
fi

# Node 24 (for the test suite and benchmark on both Node lines) and the Node-API headers of the
# native addon, from the npm registry into .cache/ (scripts/node24.sh); and the linux-arm64 Node
# 24 that runs the arm64 addon under qemu-user (scripts/test-arm64.sh --node).
bash scripts/node24.sh > /dev/null
bash scripts/node24.sh arm64 > /dev/null
