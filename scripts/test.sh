#!/usr/bin/env bash
# test.sh - every test: installs what is missing, builds what is stale, then runs the C tests
# natively, under ASan+UBSan, on both Emscripten builds under Node and on the WASI build under
# node:wasi (ctest), then the JS suites with the Node test runner (browser tests included:
# headless Debian Chromium driven by playwright-core) on the wasm module, on the system Node and
# on Node 24, and the fixture-parity suites on the native addon (build-node/, scripts/build.sh
# node) on both Nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
bash scripts/setup.sh
bash scripts/build.sh native asan wasm wasm-mt wasi node bench types
echo "test.sh: setup and build took $(( $(date +%s) - t0 ))s"

JOBS=${JOBS:-$(nproc)}
for dir in build build-asan build-wasm build-wasm-mt build-wasi; do
  start=$(date +%s)
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS"
  echo "test.sh: ctest $dir took $(( $(date +%s) - start ))s"
done

# Every subtle point of every family, changed once, must make its fixture fail.
start=$(date +%s)
python3 scripts/mutations.py
echo "test.sh: mutation tests took $(( $(date +%s) - start ))s"

# The JS suites on the wasm module: with the addon built, 'auto' would take it in Node, so
# WEMBED_BACKEND names the backend (native.test.js runs on both in the native pass below; the
# package test's apps choose for themselves).
export WEMBED_BACKEND=wasm
suites=$(ls tests/js/*.test.js | grep -v '/native\.test\.js$')
start=$(date +%s)
node --test --test-concurrency=1 --test-timeout=300000 $suites
echo "test.sh: node --test took $(( $(date +%s) - start ))s"

# The same suites on Node 24 (scripts/node24.sh put it in .cache/ during setup): the Node line
# users run, whose V8 validates relaxed SIMD, so the relaxed modules and kernels run there too.
start=$(date +%s)
.cache/node24/bin/node --test --test-concurrency=1 --test-timeout=300000 --test-reporter=tap $suites
echo "test.sh: node 24 --test took $(( $(date +%s) - start ))s"

# The native backend on both Nodes (one binary, Node-API): the addon against the wasm module on
# every fixture (native.test.js), the addon in a worker thread (worker.test.js), and the suites
# that check the fixtures' reference vectors with the addon behind the same API.
export WEMBED_BACKEND=native
native_suites="tests/js/native.test.js tests/js/worker.test.js tests/js/embedder.test.js tests/js/rerank.test.js tests/js/pipeline.test.js tests/js/image.test.js tests/js/long.test.js tests/js/siglip.test.js tests/js/nomic-vision.test.js"
for node in node .cache/node24/bin/node; do
  start=$(date +%s)
  "$node" --test --test-concurrency=1 --test-timeout=300000 --test-reporter=tap $native_suites
  echo "test.sh: native backend, node $("$node" --version) --test took $(( $(date +%s) - start ))s"
done
# linux-arm64, cross-compiled and emulated: its NEON/sdot kernels bit for bit against _ref on CPUs
# with and without the dot product, the family fixtures, and the arm64 addon on arm64 Node 24.
start=$(date +%s)
bash scripts/test-arm64.sh --quick --node
echo "test.sh: linux-arm64 under qemu took $(( $(date +%s) - start ))s"
echo "test.sh: all tests passed in $(( $(date +%s) - t0 ))s"
