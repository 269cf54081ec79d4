#!/usr/bin/env bash
# start.sh - the main job: set up and build what is missing, then run the engine end to end in
# WebAssembly under Node, offline: embed a few sentences with the bundled test model (a small
# random-weight BERT with the real bert-base-uncased tokenizer, tests/data/e2e), print the
# model's information, and measure the GEMM kernels on the shapes of a BERT layer.
# (The browser demo will take over this command when it lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh native wasm wasm-mt wasi types
node js/cli.js --version
node js/cli.js info --model tests/data/e2e
printf '%s\n' '{"text":"The cat sat on the mat."}' '{"text":"Embeddings that run where the data is."}' \
  | node js/cli.js embed --model tests/data/e2e --dims 8
node js/cli.js bench gemm --tokens 128 --threads 1,2 --min-seconds 0.2
