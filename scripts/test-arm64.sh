#!/usr/bin/env bash
# test-arm64.sh - the linux-arm64 build tested on another host under qemu-user: correctness of
# the arm64 kernels and their run-time dispatch, not their speed (an emulator says nothing of
# that). Builds build-arm64/ (scripts/build.sh arm64), then runs the kernels' op tests and the
# family fixtures twice: on an emulated CPU with the dot product (QEMU_CPU=max: the sdot
# kernels) and on one without (cortex-a53, ARMv8.0: the smull kernel). With --node, also the
# arm64 Node addon (scripts/build.sh node-arm64) on the arm64 Node 24 binary from the npm
# registry (scripts/node24.sh arm64): the Embedder's fixture tests on the native backend.
# Needs gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user (Debian packages).
#   scripts/test-arm64.sh [--node]
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
TESTS='^(test-kernels|test-q4|test-families)$'

bash scripts/build.sh arm64
for cpu in max cortex-a53; do
  start=$(date +%s)
  QEMU_CPU=$cpu ctest --test-dir build-arm64 --output-on-failure -j "$JOBS" -R "$TESTS"
  echo "test-arm64.sh: ctest under qemu-aarch64 -cpu $cpu took $(( $(date +%s) - start ))s"
done

if [ "${1:-}" = --node ]; then
  bash scripts/build.sh node-arm64
  node=$(bash scripts/node24.sh arm64)
  start=$(date +%s)
  # the file run directly, its tests in this process: `node --test` would start a child process
  # from the arm64 binary, which this host cannot execute without qemu
  QEMU_CPU=max WEMBED_BACKEND=native WEMBED_NATIVE_PATH="$PWD/dist/wembed.linux-arm64-gnu.node" \
    qemu-aarch64 -L /usr/aarch64-linux-gnu "$node" tests/js/embedder.test.js
  echo "test-arm64.sh: the arm64 addon's fixture tests under qemu took $(( $(date +%s) - start ))s"
fi
