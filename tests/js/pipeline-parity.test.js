// pipeline-parity.test.js - pipeline('feature-extraction') takes what transformers.js code passes:
// the pooling names 'first_token' | 'last_token' | 'eos', the xenova package's `quantized` (honoured
// as the dtype it means), and `local_files_only` (a hub model from the cache only: not one request).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { pipeline, Embedder, WembedError } from '../../js/index.js';
import { DATA, startHub, tmpDir } from './helpers.js';

const E2E = path.join(DATA, 'e2e');
const texts = JSON.parse(fs.readFileSync(path.join(E2E, 'texts.json'), 'utf8')).slice(0, 3);

test("pooling 'first_token', 'last_token' and 'eos' are transformers.js's names for cls and last", async () => {
  const extractor = await pipeline('feature-extraction', E2E, { variant: 'st' });
  const e = await Embedder.load(E2E, { variant: 'st' });
  try {
    const cls = await e.embed(texts, { pooling: 'cls', normalize: false });
    const last = await e.embed(texts, { pooling: 'last', normalize: false });
    for (const [name, want] of [['first_token', cls], ['cls', cls], ['last_token', last], ['eos', last]]) {
      const out = await extractor(texts, { pooling: /** @type {any} */ (name) });
      assert.deepEqual(out.dims, [texts.length, 32], name);
      want.forEach((v, i) => assert.deepEqual(Array.from(out[i].data), Array.from(v), `${name} row ${i}`));
    }
    // 'last' is each text's own last token, never a padding position of the batch.
    assert.notDeepEqual(Array.from(last[0]), Array.from(last[1]));
    // transformers.js's chain on the result: first token, then normalize over the last dimension.
    const raw = await extractor(texts);
    const cut = raw.slice(null, 0).normalize(2, -1);
    const ref = await extractor(texts, { pooling: 'first_token', normalize: true });
    cut.tolist().forEach((row, i) => row.forEach((x, j) => assert.ok(Math.abs(x - ref[i].data[j]) < 1e-6)));
  } finally {
    e.dispose();
    await extractor.dispose();
  }
});

test('quantized (the xenova option) is honoured as the dtype it names, or refused beside another', async () => {
  const q = await pipeline('feature-extraction', E2E, { variant: 'st', quantized: true });
  const f = await pipeline('feature-extraction', E2E, { variant: 'st', quantized: false });
  try {
    assert.equal(q.embedder.info().dtype, 'q8');
    assert.equal(f.embedder.info().dtype, 'f32');
  } finally {
    await q.dispose();
    await f.dispose();
  }
  await assert.rejects(pipeline('feature-extraction', E2E, { variant: 'st', quantized: true, dtype: 'fp32' }),
    (e) => e instanceof WembedError && e.code === 'invalid_argument' && /quantized: true and dtype: "fp32" disagree/.test(e.message));
  const both = await pipeline('feature-extraction', E2E, { variant: 'st', quantized: true, dtype: 'q8' });
  assert.equal(both.embedder.info().dtype, 'q8');
  await both.dispose();
});

test('local_files_only never touches the network: the cache or a clear not_found', async () => {
  const hub = await startHub({ 'test-org/e2e': E2E });
  const cache = tmpDir();
  try {
    const o = { variant: /** @type {const} */ ('st'), hubBase: hub.url, cache_dir: cache, retryDelay: 5 };
    await assert.rejects(pipeline('feature-extraction', 'test-org/e2e', { ...o, local_files_only: true }),
      (e) => e.code === 'not_found' && /local_files_only: .*config\.json is not in the cache/.test(e.message) && /load the model once/.test(e.message));
    assert.equal(hub.log.length, 0, 'no request at all');
    const online = await pipeline('feature-extraction', 'test-org/e2e', o);
    const want = await online(texts, { pooling: 'mean', normalize: true });
    await online.dispose();
    const n = hub.log.length;
    assert.ok(n > 0);
    const local = await pipeline('feature-extraction', 'test-org/e2e', { ...o, local_files_only: true });
    const got = await local(texts, { pooling: 'mean', normalize: true });
    await local.dispose();
    assert.equal(hub.log.length, n, 'the cached model loads without a request');
    assert.deepEqual(Array.from(got.data), Array.from(want.data));
    // A folder needs no network anyway.
    const folder = await pipeline('feature-extraction', E2E, { variant: 'st', local_files_only: true });
    await folder.dispose();
  } finally {
    await hub.close();
    fs.rmSync(cache, { recursive: true, force: true });
  }
});
