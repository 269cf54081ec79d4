#!/usr/bin/env node
// node-cold.mjs - cold start and peak memory of one backend in a fresh process: import to first
// vector of a 512-token document, then the process's peak resident memory (maxRSS) and the
// engine's own peak bytes. One run per process: `node bench/node-cold.mjs native|wasm minilm f32`.
const [backend = 'native', model = 'minilm', dtype = 'f32'] = process.argv.slice(2);
const t0 = performance.now();
const lib = await import('../js/index.js');
const path = (await import('node:path')).default;
const { fileURLToPath } = await import('node:url');
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'models', model);
const e = await lib.Embedder.load(dir, { backend, dtype, threads: 1, variant: 'st', cache: false });
const words = Array.from({ length: 400 }, (_, i) => ['alpha', 'beta', 'gamma', 'delta', 'river', 'stone'][i % 6]).join(' ');
await e.embed([words], { maxTokens: 512, truncate: 'truncate' });
const first = performance.now() - t0;
const m = e.engine.module;
console.log(JSON.stringify({ backend, model, dtype, node: process.versions.node, firstVectorMs: Math.round(first),
  maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), enginePeakMiB: Math.round(m._wembed__alloc_peak_bytes() / 2 ** 20) }));
e.dispose();
