#!/usr/bin/env bash
# test-arm64.sh - the linux-arm64 build tested on another host under qemu-user: correctness of
# the arm64 kernels and their run-time dispatch, not their speed (an emulator says nothing of
# that). Builds build-arm64/ (scripts/build.sh arm64), then runs the kernels' op tests and the
# family fixtures twice: on an emulated CPU with the dot product (QEMU_CPU=max: the sdot
# kernels) and on one without (cortex-a53, ARMv8.0: the smull kernel). With --node, also the
# arm64 Node addon (scripts/build.sh node-arm64) on the arm64 Node 24 binary from the npm
# registry (scripts/node24.sh arm64): the Embedder's fixture tests on the native backend.
# With --quick (what scripts/test.sh runs), the family fixtures run once, on the CPU with the
# dot product, without modernbert_own: its 8192-token case takes many minutes emulated, and the
# kernels it would reach are the ones the other fixtures reach at shorter lengths.
# Needs gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user (Debian packages).
#   scripts/test-arm64.sh [--quick] [--node]
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
quick=0 node=0
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    --node) node=1 ;;
    *) echo "usage: scripts/test-arm64.sh [--quick] [--node]" >&2; exit 2 ;;
  esac
done
TESTS='^(test-kernels|test-q4|test-families)$'
[ $quick = 1 ] && TESTS='^(test-kernels|test-q4)$'

bash scripts/build.sh arm64
for cpu in max cortex-a53; do
  start=$(date +%s)
  QEMU_CPU=$cpu ctest --test-dir build-arm64 --output-on-failure -j "$JOBS" -R "$TESTS"
  echo "test-arm64.sh: ctest under qemu-aarch64 -cpu $cpu took $(( $(date +%s) - start ))s"
done
if [ $quick = 1 ]; then
  start=$(date +%s)
  (cd build-arm64 && QEMU_CPU=max qemu-aarch64 -L /usr/aarch64-linux-gnu ./test-families -x modernbert_own)
  echo "test-arm64.sh: test-families (all but modernbert_own) under qemu-aarch64 took $(( $(date +%s) - start ))s"
fi

if [ $node = 1 ]; then
  bash scripts/build.sh node-arm64
  node=$(bash scripts/node24.sh arm64)
  start=$(date +%s)
  # the file run directly, its tests in this process: `node --test` would start a child process
  # from the arm64 binary, which this host cannot execute without qemu
  QEMU_CPU=max WEMBED_BACKEND=native WEMBED_NATIVE_PATH="$PWD/dist/wembed.linux-arm64-gnu.node" \
    qemu-aarch64 -L /usr/aarch64-linux-gnu "$node" tests/js/embedder.test.js
  echo "test-arm64.sh: the arm64 addon's fixture tests under qemu took $(( $(date +%s) - start ))s"
fi
