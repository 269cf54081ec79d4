// pipeline.test.js - the transformers.js-shaped entry: call shape, result shape, values equal to
// Embedder's, progress events in transformers.js's vocabulary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { pipeline, Tensor, Embedder, WembedError } from '../../js/index.js';
import { DATA, cosine } from './helpers.js';

const E2E = path.join(DATA, 'e2e');
const expected = JSON.parse(fs.readFileSync(path.join(E2E, 'expected.json'), 'utf8')).cases;
const texts = JSON.parse(fs.readFileSync(path.join(E2E, 'texts.json'), 'utf8'));

test("pipeline('feature-extraction') returns transformers.js-shaped tensors", async () => {
  const events = [];
  const extractor = await pipeline('feature-extraction', E2E, { dtype: 'fp32', variant: 'st', progress_callback: (e) => events.push(e) });
  try {
    const out = await extractor(texts.slice(0, 3), { pooling: 'mean', normalize: true });
    assert.ok(out instanceof Tensor);
    assert.equal(out.type, 'float32');
    assert.deepEqual(out.dims, [3, 32]);
    assert.ok(out.data instanceof Float32Array);
    const list = out.tolist();
    assert.equal(list.length, 3);
    list.forEach((v, i) => assert.ok(cosine(v, expected[i].mean_normalized) >= 0.99999));
    // Default: pooling 'none', not normalized, padded to the longest text.
    const raw = await extractor(['Hello world!', 'The quick brown fox jumps over the lazy dog.']);
    assert.equal(raw.dims.length, 3);
    assert.equal(raw.dims[0], 2);
    assert.equal(raw.dims[1], expected[1].ids.length);
    assert.equal(raw.dims[2], 32);
    const first = raw.data.subarray(0, 32);
    first.forEach((x, k) => assert.ok(Math.abs(x - expected[0].last_hidden_first_row[k]) < 1e-4));
    assert.ok(raw.data.subarray(5 * 32, 6 * 32).every((x) => x === 0), 'padding is zeros');
    const bin = await extractor(['a', 'b'], { pooling: 'mean', quantize: true, precision: 'ubinary' });
    assert.equal(bin.type, 'uint8');
    assert.deepEqual(bin.dims, [2, 4]);
    const i8 = await extractor(['a', 'b'], { pooling: 'mean', quantize: true });
    assert.equal(i8.type, 'int8');
    i8.data.forEach((x, i) => assert.equal(x, bin.data[i] - 128));
  } finally {
    await extractor.dispose();
  }
  assert.deepEqual([...new Set(events.map((e) => e.status))], ['initiate', 'download', 'progress', 'done', 'ready']);
  assert.equal(events.at(-1).status, 'ready');
});

test('pipeline refuses what it does not do, clearly', async () => {
  await assert.rejects(pipeline('text-generation', E2E), (e) => e instanceof WembedError && e.code === 'unsupported' && /feature-extraction/.test(e.message));
  await assert.rejects(pipeline('feature-extraction', E2E, { dtype: 'q2' }), (e) => e.code === 'invalid_argument');
  const e = await Embedder.load(E2E, { variant: 'st' });
  e.dispose();
});
