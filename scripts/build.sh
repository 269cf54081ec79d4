#!/usr/bin/env bash
# build.sh - builds what is stale: the native engine, tests and tools (build/), the wasm
# modules (dist/wembed.wasm, dist/wembed-mt.wasm, dist/wembed.wasi.wasm, with the C tests
# built for each in build-wasm/, build-wasm-mt/, build-wasi/) and the TypeScript types (types/);
# on request the bench build of the Emscripten modules (dist/bench/: with the GEMM benchmark's
# exports, for `wembed bench gemm` and bench/gemm.mjs; never shipped).
# `demo` builds only what the demo and the package run (the two Emscripten modules and their
# relaxed flavours, no C test programs): what `npm start` needs. `node`: the Node-API addon
# (build-node/wembed.node, copied to dist/wembed.<platform>.node where js/native.js finds it;
# native/node.cmake). `arm64`: the engine, C tests and tools cross-compiled for linux-arm64
# (build-arm64/, cmake/aarch64-linux-gnu.cmake; ctest runs them under qemu-user), and
# `node-arm64` its Node addon (build-node-arm64/wembed.node, copied to
# dist/wembed.linux-arm64-gnu.node).
#   scripts/build.sh [native|wasm|wasm-mt|wasi|types|bench|asan|demo|node|arm64|node-arm64]...
#   (default: all but bench, asan, demo, node, arm64, node-arm64)
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs   # Debian's emcc needs its acorn (docs/TOOLCHAIN.md)
JOBS=${JOBS:-$(nproc)}

configure() {   # dir, then cmake arguments; configures once, cmake re-runs itself later
  local dir=$1; shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then "$@" > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }; fi
}

configure_wasm() { configure build-wasm emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release -DWEMBED_WERROR=ON; }
configure_wasm_mt() { configure build-wasm-mt emcmake cmake -S . -B build-wasm-mt -DCMAKE_BUILD_TYPE=Release -DWEMBED_THREADS=ON -DWEMBED_WERROR=ON; }

build() {
  case $1 in
    native)  configure build cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DWEMBED_WERROR=ON
             cmake --build build -j "$JOBS" ;;
    node)    configure build-node cmake -S . -B build-node -DCMAKE_BUILD_TYPE=Release -DWEMBED_NODE=ON -DWEMBED_WERROR=ON
             cmake --build build-node -j "$JOBS" --target wembed_node
             # A new file renamed over the old: a process that has the old one loaded keeps it (a
             # copy in place would rewrite the pages it runs from: SIGBUS).
             dst="dist/wembed.$(node -e 'import("./js/native.js").then((m) => console.log(m.nativeTarget()))').node"
             mkdir -p dist && cp build-node/wembed.node "$dst.tmp" && mv -f "$dst.tmp" "$dst" ;;
    arm64)   configure build-arm64 cmake -S . -B build-arm64 -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DWEMBED_WERROR=ON
             cmake --build build-arm64 -j "$JOBS" ;;
    node-arm64)
             configure build-node-arm64 cmake -S . -B build-node-arm64 -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DWEMBED_NODE=ON -DWEMBED_WERROR=ON
             cmake --build build-node-arm64 -j "$JOBS" --target wembed_node
             # a new file renamed over the old one, which a running process may have loaded
             mkdir -p dist && cp build-node-arm64/wembed.node dist/wembed.linux-arm64-gnu.node.tmp &&
               mv -f dist/wembed.linux-arm64-gnu.node.tmp dist/wembed.linux-arm64-gnu.node ;;
    asan)    configure build-asan cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEMBED_SANITIZE=ON -DWEMBED_WERROR=ON
             cmake --build build-asan -j "$JOBS" ;;
    wasm)    configure_wasm
             cmake --build build-wasm -j "$JOBS" ;;
    wasm-mt) configure_wasm_mt
             cmake --build build-wasm-mt -j "$JOBS" ;;
    demo)    configure_wasm
             cmake --build build-wasm -j "$JOBS" --target wembed_module_relaxed
             configure_wasm_mt
             cmake --build build-wasm-mt -j "$JOBS" --target wembed_module_relaxed ;;
    bench)   configure_wasm
             cmake --build build-wasm -j "$JOBS" --target wembed_bench_modules
             configure_wasm_mt
             cmake --build build-wasm-mt -j "$JOBS" --target wembed_bench_modules ;;
    wasi)    configure build-wasi cmake -S . -B build-wasi -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE=cmake/wasi.cmake -DWEMBED_WERROR=ON
             cmake --build build-wasi -j "$JOBS" ;;
    types)   npx tsc -p tsconfig.json ;;
    *) echo "build.sh: unknown target $1" >&2; exit 2 ;;
  esac
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(native wasm wasm-mt wasi types)
for t in "${targets[@]}"; do
  start=$(date +%s)
  build "$t"
  echo "build.sh: $t done in $(( $(date +%s) - start ))s"
done
