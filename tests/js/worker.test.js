// worker.test.js - { worker: true } in Node (worker_threads): same results as in-process,
// progress across the thread boundary, transferred outputs, request ids with concurrent calls,
// AbortSignal, dispose() rejecting pending calls, errors with their codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { Embedder, WembedError } from '../../js/index.js';
import { DATA, FIXTURES, cosine, fixtureCase, rows, startHub } from './helpers.js';

const E2E = path.join(DATA, 'e2e');
const expected = JSON.parse(fs.readFileSync(path.join(E2E, 'expected.json'), 'utf8')).cases;
const texts = JSON.parse(fs.readFileSync(path.join(E2E, 'texts.json'), 'utf8'));

test('the same API behind a worker thread', async () => {
  const events = [];
  const e = await Embedder.load(E2E, { worker: true, variant: 'st', onProgress: (p) => events.push(p) });
  try {
    assert.ok(e.worker, 'runs in a worker');
    assert.equal(events.at(-1).status, 'ready');
    assert.ok(events.some((p) => p.file === 'model.safetensors' && p.status === 'load'));
    assert.equal(e.info().architecture, 'bert');
    // Concurrent calls: each answer goes to its own request.
    const [vs, one, enc] = await Promise.all([e.embed(texts), e.embed([texts[3]]), e.tokenize('Hello world!')]);
    vs.forEach((v, i) => {
      assert.ok(v instanceof Float32Array);
      assert.ok(cosine(v, expected[i].mean_normalized) >= 0.99999, `text ${i}`);
    });
    assert.ok(cosine(one[0], vs[3]) > 0.9999999);
    assert.deepEqual(enc.ids, expected[0].ids);
    const q = await e.embed(['x'], { quantize: 'binary' });
    assert.ok(q[0] instanceof Uint8Array);
    const per = await e.embed(['Hello world!'], { pooling: 'none' });
    assert.equal(per[0].length, 5);
    await assert.rejects(e.embed(['x'], { dims: 999 }), (err) => err instanceof WembedError && err.code === 'invalid_argument' && /dims 999/.test(err.message));
    const [again] = await e.embed([texts[0]]);   // usable after the error
    assert.ok(cosine(again, expected[0].mean_normalized) >= 0.99999);
  } finally {
    e.dispose();
  }
  await assert.rejects(e.embed(['x']), (err) => err.code === 'disposed');
});

test('embedIds and images in a worker', async () => {
  const c = fixtureCase('bert', 'batch3');
  const e = await Embedder.load(path.join(FIXTURES, 'bert'), { worker: true, variant: 'st' });
  try {
    const v = await e.embedIds(rows(c.input_ids), { attentionMask: rows(c.attention_mask), tokenTypeIds: rows(c.token_type_ids) });
    v.forEach((x, i) => assert.ok(cosine(x, c.mean_pooled_normalized.data.subarray(i * 64, i * 64 + 64)) >= 0.99999));
  } finally {
    e.dispose();
  }
  const clip = await Embedder.load(path.join(FIXTURES, 'clip'), { worker: true, variant: 'st' });
  try {
    const r = fixtureCase('clip', 'image_raw1');
    const [H, W] = r.image_uint8.shape;
    const [v] = await clip.embedImage({ data: r.image_uint8.data, width: W, height: H, channels: 3 });
    assert.ok(cosine(v, r.image_embeds_normalized.data) >= 0.99999);
    assert.equal(r.image_uint8.data.length, W * H * 3, 'the caller\'s pixels are copied, not transferred away');
  } finally {
    clip.dispose();
  }
});

test('dispose rejects pending calls; abort rejects one call; a failed load reports its code', async () => {
  const e = await Embedder.load(E2E, { worker: true, variant: 'st' });
  const big = Array.from({ length: 400 }, (_, i) => `text number ${i} `.repeat(20));
  const pending = e.embed(big);
  const ac = new AbortController();
  const aborted = e.embed(big, { signal: ac.signal });
  ac.abort();
  await assert.rejects(aborted, (err) => err.code === 'aborted_by_signal');
  e.dispose();
  await assert.rejects(pending, (err) => err instanceof WembedError && err.code === 'disposed');

  await assert.rejects(Embedder.load(path.join(DATA, 'broken/unsupported-arch'), { worker: true, variant: 'st' }),
    (err) => err instanceof WembedError && err.code === 'unsupported' && /supported: bert/.test(err.message));
  await assert.rejects(Embedder.load(E2E, { worker: true, fetch: globalThis.fetch }), (err) => err.code === 'invalid_argument');
});

test('a download in a worker can be aborted', async () => {
  const hub = await startHub({ 'org/slow': E2E });
  hub.mode['org/slow'] = 'slow';
  try {
    const ac = new AbortController();
    const t0 = performance.now();
    const p = Embedder.load('org/slow', { worker: true, variant: 'st', hubBase: hub.url, cache: false,
      signal: ac.signal, onProgress: (ev) => { if (ev.file === 'model.safetensors' && ev.loaded > 0) ac.abort(); } });
    await assert.rejects(p, (err) => err.code === 'aborted_by_signal');
    assert.ok(performance.now() - t0 < 15000);
  } finally {
    await hub.close();
  }
});
