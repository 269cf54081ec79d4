#!/usr/bin/env bash
# start.sh - the main job: set up and build what is missing (the two wasm modules the demo runs,
# and nothing else: the C test programs are built by `npm test`),
# then serve the browser demo (web-demo/) on localhost with COOP/COEP headers and print its URL.
# Everything it needs is in the clone: the bundled models work offline; the hub models download
# when the network is there. Ctrl-C stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh demo
exec node web-demo/serve.mjs "$@"
