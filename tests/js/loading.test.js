// loading.test.js - Embedder.load over HTTP from a local hub (tests/js/helpers.js startHub):
// hub-style URLs, progress invariants, the cache (offline second load, corrupt entries
// refetched), retries with backoff, resumed truncated downloads, timeouts, abort, tokens,
// sharded checkpoints. No test touches the real network.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { Embedder, createEngine, folderCache } from '../../js/index.js';
import { DATA, FIXTURES, cosine, fixtureCase, rows, startHub, tmpDir } from './helpers.js';

const E2E = path.join(DATA, 'e2e');
const expected = JSON.parse(fs.readFileSync(path.join(E2E, 'expected.json'), 'utf8')).cases;
const texts = JSON.parse(fs.readFileSync(path.join(E2E, 'texts.json'), 'utf8'));
let engine;
let hub;
let sharded;

/** Splits a safetensors file into two shards plus model.safetensors.index.json. */
function shard(srcDir, outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  const buf = fs.readFileSync(path.join(srcDir, 'model.safetensors'));
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const data = buf.subarray(8 + n);
  const names = Object.keys(header).filter((k) => k !== '__metadata__').sort();
  const halves = [names.slice(0, names.length >> 1), names.slice(names.length >> 1)];
  const weightMap = {};
  halves.forEach((part, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    const h = {};
    const chunks = [];
    let o = 0;
    for (const k of part) {
      const [s, e] = header[k].data_offsets;
      h[k] = { ...header[k], data_offsets: [o, o + e - s] };
      chunks.push(data.subarray(s, e));
      o += e - s;
      weightMap[k] = file;
    }
    let json = JSON.stringify(h);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    fs.writeFileSync(path.join(outDir, file), Buffer.concat([len, Buffer.from(json), ...chunks]));
  });
  fs.writeFileSync(path.join(outDir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  for (const f of ['config.json', 'modules.json']) fs.copyFileSync(path.join(srcDir, f), path.join(outDir, f));
  fs.mkdirSync(path.join(outDir, '1_Pooling'), { recursive: true });
  fs.copyFileSync(path.join(srcDir, '1_Pooling/config.json'), path.join(outDir, '1_Pooling/config.json'));
}

before(async () => {
  engine = await createEngine({ variant: 'st' });
  sharded = tmpDir('wembed-sharded-');
  shard(path.join(FIXTURES, 'bert'), sharded);
  hub = await startHub({
    'test-org/e2e': E2E, 'test-org/flaky': E2E, 'test-org/trunc': E2E, 'test-org/trunc-always': E2E,
    'test-org/slow': E2E, 'test-org/stall': E2E, 'test-org/gated': E2E, 'test-org/sharded': sharded,
    'test-org/bert': path.join(FIXTURES, 'bert'), 'test-org/broken': path.join(DATA, 'broken/unsupported-arch'),
  });
  Object.assign(hub.mode, { 'test-org/flaky': 'flaky', 'test-org/trunc': 'truncate', 'test-org/trunc-always': 'truncate-always', 'test-org/slow': 'slow', 'test-org/stall': 'stall' });
});

after(async () => {
  engine.dispose();
  await hub.close();
  fs.rmSync(sharded, { recursive: true, force: true });
});

/** Checks the progress invariants and returns the events by file. */
function checkProgress(events) {
  assert.ok(events.length > 0);
  const last = events[events.length - 1];
  assert.equal(last.status, 'ready', 'ready comes last');
  assert.equal(events.filter((e) => e.status === 'ready').length, 1, 'one ready');
  const byFile = new Map();
  for (const e of events.slice(0, -1)) {
    assert.ok(e.status === 'download' || e.status === 'load', e.status);
    const prev = byFile.get(e.file);
    if (prev) {
      assert.ok(e.loaded >= prev.loaded, `${e.file}: loaded went from ${prev.loaded} to ${e.loaded}`);
      assert.equal(e.total, prev.total, `${e.file}: total changed`);
      assert.equal(e.status, prev.status, `${e.file}: status changed`);
    }
    assert.ok(e.total < 0 || e.loaded <= e.total, `${e.file}: loaded ${e.loaded} > total ${e.total}`);
    byFile.set(e.file, e);
  }
  let sum = 0;
  for (const [f, e] of byFile) {
    assert.equal(e.loaded, e.total, `${f} finished`);
    sum += e.loaded;
  }
  assert.equal(last.loaded, sum);
  return byFile;
}

async function checkE2E(e) {
  const vs = await e.embed(texts);
  vs.forEach((v, i) => assert.ok(cosine(v, expected[i].mean_normalized) >= 0.99999, `text ${i}`));
}

const opts = (cache, more = {}) => ({ engine, hubBase: hub.url, cache, retryDelay: 5, ...more });

test('a hub id downloads, caches, and loads offline the second time', async () => {
  const dir = tmpDir();
  const own = await startHub({ 'test-org/e2e': E2E });
  try {
    const events = [];
    const t0 = performance.now();
    const e = await Embedder.load('test-org/e2e', { engine, hubBase: own.url, cache: dir, onProgress: (p) => events.push(p) });
    const first = performance.now() - t0;
    try { await checkE2E(e); } finally { e.dispose(); }
    const files = checkProgress(events);
    assert.deepEqual([...files.keys()].sort(), ['1_Pooling/config.json', 'config.json', 'model.safetensors', 'modules.json', 'tokenizer.json']);
    for (const ev of files.values()) assert.equal(ev.status, 'download');
    assert.equal(files.get('model.safetensors').total, fs.statSync(path.join(E2E, 'model.safetensors')).size);
    assert.ok(own.log.every((r) => r.rev === 'main' && r.id === 'test-org/e2e'));
    assert.ok(own.log.some((r) => r.file === 'sentence_bert_config.json' && r.status === 404), 'optional file probed');

    await own.close();   // the same URLs now refuse connections
    const events2 = [];
    const t1 = performance.now();
    const e2 = await Embedder.load('test-org/e2e', { engine, hubBase: own.url, cache: dir, maxRetries: 0, onProgress: (p) => events2.push(p) });
    const second = performance.now() - t1;
    try { await checkE2E(e2); } finally { e2.dispose(); }
    for (const ev of checkProgress(events2).values()) assert.equal(ev.status, 'load');
    console.log(`# e2e model (${(fs.statSync(path.join(E2E, 'model.safetensors')).size / 1e6).toFixed(1)} MB f16 weights + 0.7 MB tokenizer): ` +
      `first load (download) ${first.toFixed(0)} ms, second (cache, server down) ${second.toFixed(0)} ms`);
    await assert.rejects(Embedder.load('test-org/e2e', { engine, hubBase: own.url, cache: false, maxRetries: 1, retryDelay: 5 }),
      (err) => err.code === 'network' && /2 tries/.test(err.message));
  } finally {
    await own.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt or partial cache entry is detected and fetched again', async () => {
  const dir = tmpDir();
  try {
    (await Embedder.load('test-org/e2e', opts(dir))).dispose();
    const cache = folderCache(dir);
    const key = `${hub.url}/test-org/e2e/resolve/main/model.safetensors`;
    const entry = await cache.get(key);
    assert.ok(entry && entry.size > 0);
    const file = path.join(dir, new URL(hub.url).host.replace(':', '%3a'), 'test-org/e2e/resolve/main/model.safetensors');
    assert.ok(fs.existsSync(file));
    for (const damage of ['truncate', 'no-meta', 'grow']) {
      if (damage === 'truncate') fs.truncateSync(file, 1000);
      if (damage === 'no-meta') fs.rmSync(file + '.meta.json');
      if (damage === 'grow') fs.appendFileSync(file, 'xx');
      hub.log.length = 0;
      const e = await Embedder.load('test-org/e2e', opts(dir));
      try { await checkE2E(e); } finally { e.dispose(); }
      assert.deepEqual(hub.log.map((r) => r.file), ['model.safetensors'], `${damage}: only the damaged file is fetched again`);
      assert.equal(fs.statSync(file).size, entry.size);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('failed requests are retried with backoff', async () => {
  hub.log.length = 0;
  hub.hits.clear();
  const e = await Embedder.load('test-org/flaky', opts(false));
  try { await checkE2E(e); } finally { e.dispose(); }
  const cfg = hub.log.filter((r) => r.file === 'config.json').map((r) => r.status);
  assert.deepEqual(cfg, [503, 200]);
  hub.hits.clear();
  await assert.rejects(Embedder.load('test-org/flaky', opts(false, { maxRetries: 0 })),
    (err) => err.code === 'network' && /config\.json: HTTP 503/.test(err.message) && /1 try/.test(err.message));
});

test('a download that breaks off is resumed with a Range request', async () => {
  hub.log.length = 0;
  hub.hits.clear();
  const events = [];
  const e = await Embedder.load('test-org/trunc', opts(false, { onProgress: (p) => events.push(p) }));
  try { await checkE2E(e); } finally { e.dispose(); }
  checkProgress(events);
  const w = hub.log.filter((r) => r.file === 'model.safetensors');
  assert.equal(w.length, 2);
  assert.equal(w[0].range, null);
  assert.match(w[1].range, /^bytes=\d+-$/);
  assert.equal(w[1].status, 206);
  const size = fs.statSync(path.join(E2E, 'model.safetensors')).size;
  assert.ok(Number(/\d+/.exec(w[1].range)[0]) >= size / 2 - 65536, 'resumed near where it broke');

  await assert.rejects(Embedder.load('test-org/trunc-always', opts(false, { maxRetries: 2 })),
    (err) => err.code === 'network' && /model\.safetensors/.test(err.message) && /3 tries/.test(err.message));
});

test('a truncated download never becomes a cache entry', async () => {
  const dir = tmpDir();
  try {
    await assert.rejects(Embedder.load('test-org/trunc-always', opts(dir, { maxRetries: 0 })), (err) => err.code === 'network');
    const cache = folderCache(dir);
    assert.equal(await cache.get(`${hub.url}/test-org/trunc-always/resolve/main/model.safetensors`), null);
    const left = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.includes('partial'));
    assert.deepEqual(left, []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('AbortSignal cancels a slow download promptly', async () => {
  const dir = tmpDir();
  try {
    const ac = new AbortController();
    let firstWeights = 0;
    const t0 = performance.now();
    await assert.rejects(Embedder.load('test-org/slow', opts(dir, {
      signal: ac.signal,
      onProgress: (p) => { if (p.file === 'model.safetensors' && p.loaded > 0 && !firstWeights) { firstWeights = performance.now(); ac.abort(); } },
    })), (err) => err.code === 'aborted_by_signal');
    assert.ok(firstWeights > 0);
    assert.ok(performance.now() - firstWeights < 1000, 'no hang after abort');
    assert.ok(performance.now() - t0 < 20000);
    const cache = folderCache(dir);
    assert.equal(await cache.get(`${hub.url}/test-org/slow/resolve/main/model.safetensors`), null, 'nothing half-written is kept');
    // Already aborted: rejects before any request.
    hub.log.length = 0;
    await assert.rejects(Embedder.load('test-org/e2e', opts(false, { signal: AbortSignal.abort() })), (err) => err.code === 'aborted_by_signal');
    assert.equal(hub.log.length, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a connection that stalls times out and fails after its retries', async () => {
  const t0 = performance.now();
  await assert.rejects(Embedder.load('test-org/stall', opts(false, { timeout: 300, maxRetries: 1 })),
    (err) => err.code === 'network' && /no data for 0.3 s/.test(err.message));
  assert.ok(performance.now() - t0 < 10000);
});

test('access tokens, missing repositories and revisions', async () => {
  hub.token = 'secret';
  try {
    await assert.rejects(Embedder.load('test-org/gated', opts(false)), (err) => err.code === 'unauthorized' && /token/.test(err.message));
    await assert.rejects(Embedder.load('test-org/gated', opts(false, { token: 'wrong' })), (err) => err.code === 'unauthorized');
    hub.log.length = 0;
    const e = await Embedder.load('test-org/gated', opts(false, { token: 'secret' }));
    e.dispose();
    assert.ok(hub.log.every((r) => r.auth === 'Bearer secret'));
  } finally {
    hub.token = null;
  }
  await assert.rejects(Embedder.load('test-org/nope', opts(false)),
    (err) => err.code === 'not_found' && err.message.includes(`${hub.url}/test-org/nope/resolve/main/config.json`));
  hub.log.length = 0;
  const e = await Embedder.load('test-org/e2e', opts(false, { revision: 'v1' }));
  e.dispose();
  assert.ok(hub.log.length > 0 && hub.log.every((r) => r.rev === 'v1'));
  await assert.rejects(Embedder.load('test-org/e2e', opts(false, { revision: 'v9' })), (err) => err.code === 'not_found' && /revision/.test(err.message));
});

test('a sharded checkpoint and a base URL', async () => {
  const c = fixtureCase('bert', 'batch3');
  const a = { attentionMask: rows(c.attention_mask), tokenTypeIds: rows(c.token_type_ids) };
  hub.log.length = 0;
  const e = await Embedder.load('test-org/sharded', opts(false));
  try {
    const v = await e.embedIds(rows(c.input_ids), a);
    v.forEach((x, i) => assert.ok(cosine(x, c.mean_pooled_normalized.data.subarray(i * 64, i * 64 + 64)) >= 0.99999));
    assert.deepEqual(e.files.filter((f) => f.includes('safetensors')),
      ['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
  } finally {
    e.dispose();
  }
  const u = await Embedder.load(`${hub.url}/test-org/bert/resolve/main/`, opts(false));
  try {
    const v = await u.embedIds(rows(c.input_ids), a);
    assert.ok(cosine(v[0], c.mean_pooled_normalized.data.subarray(0, 64)) >= 0.99999);
  } finally {
    u.dispose();
  }
});

test('an unsupported architecture fails before its weights are read', async () => {
  await assert.rejects(Embedder.load('test-org/broken', opts(false)), (err) => err.code === 'unsupported' && /supported: bert/.test(err.message));
});

test('a custom cache object', async () => {
  const store = new Map();
  const cache = {
    async get(k) {
      const v = store.get(k);
      if (!v) return null;
      if (v === 'missing') return { missing: true, size: 0 };
      return { size: v.length, open: async function* () { yield v; } };
    },
    async put(k, size) {
      const parts = [];
      return {
        async write(c) { parts.push(Buffer.from(c)); },
        async close() { const b = Buffer.concat(parts); if (b.length !== size) throw new Error('size'); store.set(k, new Uint8Array(b)); },
        async abort() {},
      };
    },
    async putMissing(k) { store.set(k, 'missing'); },
    async delete(k) { store.delete(k); },
  };
  (await Embedder.load('test-org/e2e', opts(cache))).dispose();
  assert.ok(store.size >= 6);
  hub.log.length = 0;
  const e = await Embedder.load('test-org/e2e', opts(cache));
  try { await checkE2E(e); } finally { e.dispose(); }
  assert.equal(hub.log.length, 0, 'all from the custom cache');
});
