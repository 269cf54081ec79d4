// memory-bounds.mjs - peak wasm memory for inputs whose size should not become memory: texts of
// 10, 40 and 80 MB (truncated, and 10 MB chunked) and a 16000 x 16000 PNG decompression bomb
// (747 KB of file, 768 MB of pixels), each in a fresh engine, measured as the growth of the
// module's memory over the loaded model's own (wasm memory never shrinks, so its size after the
// call is the call's peak). Asserts the targets: under 64 MiB above the model for text, under
// 128 MiB for images. Not a timed test: it builds 130 MB of text and a bomb on the spot.
//   node bench/memory-bounds.mjs [--write]     (--write: bench/results/memory-bounds.md)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Embedder, createEngine } from '../js/index.js';
import { pngBomb } from './png-bomb.mjs';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const TEXT_MODEL = path.join(ROOT, 'tests/data/e2e');            // BERT, 30,522-token vocabulary, 512 tokens
const IMAGE_MODEL = path.join(ROOT, 'tests/data/fixtures/clip'); // CLIP, 224 x 224 input
const MiB = 1 << 20;
const TEXT_LIMIT = 64 * MiB;
const IMAGE_LIMIT = 128 * MiB;

function text(bytes) {
  const s = 'Long documents are read a piece at a time, and memory stays bounded by the model window. ';
  return s.repeat(Math.ceil(bytes / s.length)).slice(0, bytes);
}

/** Loads the model in a fresh engine, runs fn, and returns the memory figures. */
async function measure(model, fn) {
  const engine = await createEngine({ backend: 'wasm', variant: 'st' });
  const e = await Embedder.load(model, { engine });
  try {
    const base = engine.heapU8().byteLength;
    const m = engine.module;
    m._wembed__alloc_reset_peak();
    const allocBase = m._wembed__alloc_bytes();
    const t0 = performance.now();
    let outcome;
    try {
      outcome = await fn(e);
    } catch (err) {
      outcome = `refused: ${err.code}`;
    }
    return {
      outcome,
      seconds: (performance.now() - t0) / 1000,
      modelMiB: base / MiB,
      growth: engine.heapU8().byteLength - base,
      allocPeak: m._wembed__alloc_peak_bytes() - allocBase,
    };
  } finally {
    e.dispose();
    engine.dispose();
  }
}

const rows = [];
let failed = false;
function report(what, r, limit) {
  const ok = r.growth < limit;
  failed ||= !ok;
  rows.push(`| ${what} | ${r.outcome} | ${r.modelMiB.toFixed(0)} | ${(r.growth / MiB).toFixed(1)} | ${(r.allocPeak / MiB).toFixed(1)} | ${r.seconds.toFixed(1)} | ${ok ? 'yes' : 'NO'} (< ${limit / MiB}) |`);
  console.log(rows.at(-1));
}

console.log('| input | result | model memory (MiB) | wasm memory growth (MiB) | engine allocation peak (MiB) | seconds | within target |');
for (const mb of [10, 40, 80]) {
  const t = text(mb * 1e6);
  report(`${mb} MB text, truncate`, await measure(TEXT_MODEL, async (e) => `${(await e.embed(t))[0].length} dims`), TEXT_LIMIT);
}
{
  const t = text(10e6);
  let events = 0;
  report('10 MB text, chunk', await measure(TEXT_MODEL, async (e) => {
    const [v] = await e.embed(t, { truncate: 'chunk', onProgress: () => { events++; } });
    return `${v.length} dims, ${events} progress events`;
  }), TEXT_LIMIT);
}
{
  const bomb = await pngBomb(16000, 16000);
  report(`16000x16000 PNG (${(bomb.length / 1e3).toFixed(0)} KB)`, await measure(IMAGE_MODEL, async (e) => `${(await e.embedImage(bomb))[0].length} dims`), IMAGE_LIMIT);
}

if (process.argv.includes('--write')) {
  const out = path.join(ROOT, 'bench/results/memory-bounds.md');
  const md = fs.readFileSync(out, 'utf8').replace(/<!-- rows -->[\s\S]*<!-- end -->/,
    `<!-- rows -->\n| input | result | model memory (MiB) | wasm memory growth (MiB) | engine allocation peak (MiB) | seconds | within target |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}\n<!-- end -->`);
  fs.writeFileSync(out, md);
}
if (failed) {
  console.error('memory-bounds: a figure is over its target');
  process.exit(1);
}
