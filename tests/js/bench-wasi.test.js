// bench-wasi.test.js - the benchmark's node-wasi environment (bench/wasi-engine.js): the WASI
// module under node:wasi, dressed as an Engine, runs the package's Embedder and gives the float64
// reference's vectors, and the Emscripten module's within rounding (the same C, another compiler).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { DATA } from './helpers.js';
import { Embedder } from '../../js/index.js';
import { createWasiEngine } from '../../bench/wasi-engine.js';

const E2E = path.join(DATA, 'e2e');
const expected = JSON.parse(fs.readFileSync(path.join(E2E, 'expected.json'), 'utf8')).cases;
const texts = JSON.parse(fs.readFileSync(path.join(E2E, 'texts.json'), 'utf8'));

const maxDiff = (a, b) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));

test('the WASI engine runs the Embedder: reference vectors, the wasm module\'s within rounding, the model freed with it', async () => {
  const engine = await createWasiEngine();
  assert.equal(engine.threads, 1);
  assert.equal(engine.systemInfo, 'simd128 wasm32');
  const live = engine.liveAllocations();   // the pool's own
  const wasi = await Embedder.load(E2E, { engine, dtype: 'f32' });
  const st = await Embedder.load(E2E, { variant: 'st', simd: 'simd128', dtype: 'f32' });
  try {
    // The 512-token case grows the memory past the load's: the views must follow it.
    const before = engine.heapU8().buffer.byteLength;
    const ids = expected.map((c) => c.ids);
    const got = await wasi.embedIds(ids, { pooling: 'mean', normalize: true });
    assert.ok(engine.heapU8().buffer.byteLength >= before);
    got.forEach((v, i) => assert.ok(maxDiff(v, expected[i].mean_normalized) < 1e-4, `case ${i}: ${maxDiff(v, expected[i].mean_normalized)}`));
    const a = await wasi.embed(texts, { pooling: 'mean', normalize: true });
    const b = await st.embed(texts, { pooling: 'mean', normalize: true });
    a.forEach((v, i) => assert.ok(maxDiff(v, b[i]) < 1e-5, `text ${i}: ${maxDiff(v, b[i])}`));
  } finally {
    wasi.dispose();
    st.dispose();
  }
  assert.equal(engine.liveAllocations(), live);
  engine.dispose();
});
