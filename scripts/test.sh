#!/usr/bin/env bash
# test.sh - every test: installs what is missing, builds what is stale, then runs the C tests
# natively, under ASan+UBSan, on both Emscripten builds under Node and on the WASI build under
# node:wasi (ctest), then the JS suites with the Node test runner (browser tests included:
# headless Debian Chromium driven by playwright-core), on the system Node and on Node 24.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
bash scripts/setup.sh
bash scripts/build.sh native asan wasm wasm-mt wasi bench types
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

start=$(date +%s)
node --test --test-concurrency=1 --test-timeout=300000 tests/js/
echo "test.sh: node --test took $(( $(date +%s) - start ))s"

# The same suites on Node 24 (scripts/node24.sh put it in .cache/ during setup): the Node line
# users run, whose V8 validates relaxed SIMD, so the relaxed modules and kernels run there too.
start=$(date +%s)
.cache/node24/bin/node --test --test-concurrency=1 --test-timeout=300000 --test-reporter=tap 'tests/js/*.test.js'
echo "test.sh: node 24 --test took $(( $(date +%s) - start ))s"
echo "test.sh: all tests passed in $(( $(date +%s) - t0 ))s"
