#!/usr/bin/env bash
# start.sh - the main job: set up and build what is missing, then run the engine end to end
# in WebAssembly under Node: load both modules and measure the GEMM kernels on the shapes of a
# BERT layer. (Later: the semantic-search demo.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh native wasm wasm-mt wasi types
node js/cli.js --version
node js/cli.js bench gemm --tokens 128 --threads 1,2 --min-seconds 0.2
