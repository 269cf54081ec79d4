// cache.test.js - the download cache never keeps, or splices, bad content: each case is played
// by the local hub (tests/js/helpers.js startHub) on 127.0.0.1. A captive-portal page as
// config.json and a short-declared tokenizer.json are never committed; a download that breaks
// off and resumes on a file that changed meanwhile (If-Range answered with the whole new file,
// or ignored by the server, or no validator at all) restarts from byte 0 instead of mixing two
// versions; a sha256 announced by the hub (X-Linked-Etag on the LFS redirect) is checked; an
// entry the engine refuses is evicted; stale entries are revalidated with If-None-Match;
// `cache: 'reload'` and the CLI's --refresh fetch and rewrite everything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { Embedder, createEngine, folderCache, reloadingCache } from '../../js/index.js';
import { contentCheck } from '../../js/sources.js';
import { Sha256 } from '../../js/sha256.js';
import { ROOT, DATA, cosine, startHub, tmpDir } from './helpers.js';

const E2E = path.join(DATA, 'e2e');
const expected = JSON.parse(fs.readFileSync(path.join(E2E, 'expected.json'), 'utf8')).cases;
const texts = JSON.parse(fs.readFileSync(path.join(E2E, 'texts.json'), 'utf8'));
const WEIGHTS = fs.readFileSync(path.join(E2E, 'model.safetensors'));
let engine;

before(async () => { engine = await createEngine({ variant: 'st' }); });
after(() => engine.dispose());

/** Runs fn with a hub serving the e2e model as org/m in `mode`, a cache folder, and load options. */
async function withHub(mode, fn) {
  const h = await startHub({ 'org/m': E2E });
  h.mode['org/m'] = mode;
  const dir = tmpDir();
  try {
    await fn(h, dir, (more = {}) => ({ engine, hubBase: h.url, cache: dir, retryDelay: 5, ...more }));
  } finally {
    await h.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function checkE2E(e) {
  const vs = await e.embed(texts.slice(0, 4));
  vs.forEach((v, i) => assert.ok(cosine(v, expected[i].mean_normalized) >= 0.99999, `text ${i}: cosine ${cosine(v, expected[i].mean_normalized)}`));
}

/** The e2e weights with the first half of the tensor data changed: another version of the file, same size. */
function otherVersion() {
  const b = Buffer.from(WEIGHTS);
  const start = 8 + Number(b.readBigUInt64LE(0));
  for (let i = start; i < start + ((b.length - start) >> 1); i += 2) b[i] ^= 0x55;
  return b;
}

const key = (h, file) => `${h.url}/org/m/resolve/main/${file}`;

test('a captive-portal HTML page served as config.json is never cached', async () => {
  await withHub('portal', async (h, dir, opts) => {
    await assert.rejects(Embedder.load('org/m', opts()), (err) => err.code === 'bad_format' && /config\.json/.test(err.message));
    assert.equal(await folderCache(dir).get(key(h, 'config.json')), null, 'the HTML page was not committed');
    h.mode['org/m'] = 'ok';
    h.log.length = 0;
    const e = await Embedder.load('org/m', opts());
    try { await checkE2E(e); } finally { e.dispose(); }
    assert.ok(h.log.some((r) => r.file === 'config.json' && r.status === 200), 'config.json fetched again');
  });
});

test('a short-declared tokenizer.json is never cached', async () => {
  await withHub('short', async (h, dir, opts) => {
    await assert.rejects(Embedder.load('org/m', opts()), (err) => err.code === 'bad_format');
    assert.equal(await folderCache(dir).get(key(h, 'tokenizer.json')), null, 'the cut file was not committed');
    h.mode['org/m'] = 'ok';
    const e = await Embedder.load('org/m', opts());
    try { await checkE2E(e); } finally { e.dispose(); }
  });
});

for (const [mode, what] of [['truncate', 'If-Range answered with the whole new file'], ['ignore-if-range', 'a server that ignores If-Range'],
  ['no-validators', 'no ETag or Last-Modified to resume with']]) {
  test(`a download that breaks off while its file changes restarts from byte 0, never mixes (${what})`, async () => {
    await withHub(mode, async (h, dir, opts) => {
      // The first request gets the old version (and breaks half way); every later one the new.
      const old = otherVersion();
      h.content['org/m/model.safetensors'] = (hit) => (hit === 1 ? old : WEIGHTS);
      const events = [];
      const e = await Embedder.load('org/m', opts({ onProgress: (p) => events.push(p) }));
      try { await checkE2E(e); } finally { e.dispose(); }
      const last = new Map();
      for (const p of events.slice(0, -1)) {
        assert.ok(p.loaded >= (last.get(p.file) ?? 0), `${p.file}: progress went back from ${last.get(p.file)} to ${p.loaded} over the restart`);
        last.set(p.file, p.loaded);
      }
      assert.equal(events.at(-1).status, 'ready');
      assert.equal(last.get('model.safetensors'), WEIGHTS.length);
      const w = h.log.filter((r) => r.file === 'model.safetensors');
      if (mode === 'no-validators') assert.ok(w.every((r) => r.range === null), 'never resumed without a validator');
      else assert.ok(w.slice(1).every((r) => r.range === null || r.ifRange !== null), 'every resume carries If-Range');
      assert.equal(w[w.length - 1].range, null, 'the last request fetched the whole file');
      const entry = await folderCache(dir).get(key(h, 'model.safetensors'));
      assert.ok(entry, 'cached');
      const chunks = [];
      for await (const c of entry.open()) chunks.push(c);
      assert.ok(Buffer.concat(chunks).equals(WEIGHTS), 'the cached file is the new version, whole');
    });
  });
}

for (const mode of ['ok', 'ignore-if-range']) {
  test(`a cached entry that breaks off is continued only as the same version (If-Range; server ${mode})`, async () => {
    await withHub(mode, async (h, dir, opts) => {
      // A custom cache whose model.safetensors is the old version and yields only half of it.
      const old = otherVersion();
      const store = new Map();
      const cache = {
        async get(k) {
          const v = store.get(k);
          if (!v) return null;
          const half = k.endsWith('model.safetensors');
          return { size: v.bytes.length, etag: v.etag, time: Date.now(), open: async function* () { yield half ? v.bytes.subarray(0, v.bytes.length >> 1) : v.bytes; } };
        },
        async put(k, size, info) {
          const parts = [];
          return { async write(c) { parts.push(Buffer.from(c)); }, async close() { store.set(k, { bytes: Buffer.concat(parts), etag: info?.etag }); }, async abort() {} };
        },
        async putMissing() {},
        async delete(k) { store.delete(k); },
      };
      (await Embedder.load('org/m', opts({ cache }))).dispose();
      store.set(key(h, 'model.safetensors'), { bytes: old, etag: `"${crypto.createHash('sha1').update(old).digest('hex')}"` });
      h.log.length = 0;
      const e = await Embedder.load('org/m', opts({ cache }));
      try { await checkE2E(e); } finally { e.dispose(); }
      const w = h.log.filter((r) => r.file === 'model.safetensors');
      assert.ok(w[0].range && w[0].ifRange, 'the continuation carried If-Range');
      assert.equal(w[w.length - 1].range, null, 'then the whole new file');
      assert.ok(store.get(key(h, 'model.safetensors')).bytes.equals(WEIGHTS));
    });
  });
}

test('the sha256 the hub announces (X-Linked-Etag on the LFS redirect) is checked before anything is kept', async () => {
  await withHub('lfs-bad', async (h, dir, opts) => {
    await assert.rejects(Embedder.load('org/m', opts()), (err) => err.code === 'integrity' && /sha256/.test(err.message));
    assert.equal(await folderCache(dir).get(key(h, 'model.safetensors')), null);
    h.mode['org/m'] = 'lfs';
    h.log.length = 0;
    const e = await Embedder.load('org/m', opts());
    try { await checkE2E(e); } finally { e.dispose(); }
    assert.ok(h.log.some((r) => r.cdn && r.file === 'model.safetensors'), 'the redirect was followed');
    const entry = await folderCache(dir).get(key(h, 'model.safetensors'));
    assert.equal(entry.sha256, crypto.createHash('sha256').update(WEIGHTS).digest('hex'));
  });
});

test('a cached file the engine refuses is evicted, so the next load fetches it again', async () => {
  await withHub('ok', async (h, dir, opts) => {
    (await Embedder.load('org/m', opts())).dispose();
    // An entry of the right size that is not a tokenizer (as an older wembed could commit).
    const cache = folderCache(dir);
    const tok = fs.readFileSync(path.join(E2E, 'tokenizer.json'));
    const w = await cache.put(key(h, 'tokenizer.json'), tok.length);
    await w.write(Buffer.alloc(tok.length, 'x'));
    await w.close();
    h.log.length = 0;
    await assert.rejects(Embedder.load('org/m', opts()), (err) => err.code === 'bad_format');
    assert.equal(h.log.length, 0, 'the first load used the cache');
    assert.equal(await cache.get(key(h, 'tokenizer.json')), null, 'evicted');
    const e = await Embedder.load('org/m', opts());
    try { await checkE2E(e); } finally { e.dispose(); }
    assert.deepEqual(h.log.map((r) => r.file), ['tokenizer.json'], 'only the refused file was fetched again');
  });
});

test('stale entries are revalidated with If-None-Match: 304 keeps them, 200 replaces them, offline uses them', async () => {
  await withHub('ok', async (h, dir, opts) => {
    (await Embedder.load('org/m', opts())).dispose();
    h.log.length = 0;
    (await Embedder.load('org/m', opts())).dispose();
    assert.equal(h.log.length, 0, 'fresh entries: no request');
    (await Embedder.load('org/m', opts({ cacheMaxAge: 0 }))).dispose();
    const got = h.log.filter((r) => r.status !== 404);
    assert.ok(got.length >= 5 && got.every((r) => r.status === 304 && r.ifNoneMatch), JSON.stringify(got));
    // The tokenizer changes upstream: the revalidation brings the new one.
    const tok = JSON.parse(fs.readFileSync(path.join(E2E, 'tokenizer.json'), 'utf8'));
    tok.added_tokens.push({ id: 0, content: '[UNUSED-X]', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    const changed = Buffer.from(JSON.stringify(tok));
    h.content['org/m/tokenizer.json'] = changed;
    h.log.length = 0;
    (await Embedder.load('org/m', opts({ cacheMaxAge: 0 }))).dispose();
    assert.equal(h.log.find((r) => r.file === 'tokenizer.json').status, 200);
    assert.equal((await folderCache(dir).get(key(h, 'tokenizer.json'))).size, changed.length, 'replaced');
    await h.close();
    const e = await Embedder.load('org/m', opts({ cacheMaxAge: 0, maxRetries: 0 }));
    try { await checkE2E(e); } finally { e.dispose(); }
  });
});

test("cache: 'reload' (and reloadingCache) fetches every file again and rewrites the entries", async () => {
  await withHub('ok', async (h, dir, opts) => {
    (await Embedder.load('org/m', opts())).dispose();
    // config.json changes upstream; a plain load keeps the cached one (fresh), a reload takes the new one.
    const changed = Buffer.from(JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(E2E, 'config.json'), 'utf8')), note: 'v2' }));
    h.content['org/m/config.json'] = changed;
    h.log.length = 0;
    const saved = process.env.WEMBED_CACHE;
    process.env.WEMBED_CACHE = dir;
    try {
      const e = await Embedder.load('org/m', opts({ cache: 'reload' }));
      try { await checkE2E(e); } finally { e.dispose(); }
    } finally {
      if (saved === undefined) delete process.env.WEMBED_CACHE; else process.env.WEMBED_CACHE = saved;
    }
    const files = h.log.filter((r) => r.status === 200).map((r) => r.file).sort();
    assert.deepEqual(files, ['1_Pooling/config.json', 'config.json', 'model.safetensors', 'modules.json', 'tokenizer.json']);
    assert.ok(h.log.every((r) => r.ifNoneMatch === null && r.range === null));
    assert.equal((await folderCache(dir).get(key(h, 'config.json'))).size, changed.length, 'rewritten');
    h.log.length = 0;
    (await Embedder.load('org/m', opts({ cache: reloadingCache(folderCache(dir)) }))).dispose();
    assert.equal(h.log.filter((r) => r.status === 200).length, 5);
  });
});

test('wembed --refresh fetches the model again into the cache', async () => {
  await withHub('ok', async (h, dir) => {
    const run = (extra) => new Promise((resolve) => {
      const p = spawn(process.execPath, [path.join(ROOT, 'js/cli.js'), 'embed', '--model', 'org/m', '--hub-base', h.url,
        '--cache-dir', dir, '--threads', '1', ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => { err += d; });
      p.on('close', (code) => resolve({ code, err }));
      p.stdin.end(JSON.stringify({ text: texts[0] }) + '\n');
    });
    assert.equal((await run([])).code, 0);
    h.log.length = 0;
    assert.equal((await run([])).code, 0);
    assert.equal(h.log.length, 0, 'cached');
    const r = await run(['--refresh']);
    assert.equal(r.code, 0, r.err);
    assert.equal(h.log.filter((x) => x.status === 200).length, 5, 'every file fetched again');
  });
});

test('randomized: the content check accepts valid files in any chunking and refuses cut or foreign ones', () => {
  const rand = (k) => Math.floor(Math.random() * k);
  const feed = (name, bytes, size = bytes.length) => {
    const c = contentCheck(name, size);
    for (let o = 0; o < bytes.length;) { const k = 1 + rand(4096); c.push(bytes.subarray(o, o + k)); o += k; }
    return c.problem();
  };
  const cfg = fs.readFileSync(path.join(E2E, 'config.json'));
  for (let i = 0; i < 50; i++) {
    assert.equal(feed('model.safetensors', WEIGHTS), null);
    assert.equal(feed('config.json', cfg), null);
    const cut = 1 + rand(WEIGHTS.length - 2);
    assert.notEqual(feed('model.safetensors', WEIGHTS.subarray(0, cut), cut), null, `safetensors cut at ${cut}`);
    const jcut = 1 + rand(cfg.length - 2);
    assert.notEqual(feed('config.json', cfg.subarray(0, jcut)), null, `json cut at ${jcut}`);
    const junk = crypto.randomBytes(rand(2000));
    assert.notEqual(feed('x.gguf', junk), null);
    assert.notEqual(feed('model.safetensors', junk), null);
  }
  assert.equal(feed('a.gguf', Buffer.from([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, 1, 2])), null);
  assert.equal(feed('notes.txt', Buffer.from('<html>')), null, 'other files are not checked');
});

test('randomized: damaged cache metadata is never an error and never a wrong entry', async () => {
  const dir = tmpDir();
  try {
    const cache = folderCache(dir);
    const url = 'http://127.0.0.1:1/org/m/resolve/main/config.json';
    const bytes = fs.readFileSync(path.join(E2E, 'config.json'));
    const rand = (k) => Math.floor(Math.random() * k);
    const metaFile = path.join(dir, '127.0.0.1%3a1/org/m/resolve/main/config.json.meta.json');
    const good = { url, size: bytes.length, time: new Date().toISOString(), etag: '"x"', lastModified: null, sha256: null };
    const shapes = [
      () => crypto.randomBytes(rand(200)),
      () => JSON.stringify({ ...good, size: rand(2 * bytes.length) }),
      () => JSON.stringify({ ...good, url: url + 'x' }),
      () => JSON.stringify({ ...good, size: [bytes.length, '1', null, -1, 1e300, 2 ** 53][rand(6)] }),
      () => JSON.stringify({ ...good, time: ['nope', null, 5, {}][rand(4)], etag: [1, null, {}][rand(3)] }),
      () => JSON.stringify(good).slice(0, rand(JSON.stringify(good).length)),
      () => JSON.stringify([null, 1, 'x', [], true][rand(5)]),
    ];
    for (let i = 0; i < 300; i++) {
      const w = await cache.put(url, bytes.length);
      await w.write(bytes);
      await w.close();
      const meta = shapes[rand(shapes.length)]();
      fs.writeFileSync(metaFile, meta);
      const e = await cache.get(url);   // never throws
      if (e === null) continue;
      if (e.missing) { assert.ok(JSON.parse(String(meta)).missing, `a missing entry from ${meta}`); continue; }
      assert.equal(e.size, bytes.length, `size from ${meta}`);
      const got = [];
      for await (const c of e.open()) got.push(c);
      assert.ok(Buffer.concat(got).equals(bytes));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('randomized: the JS SHA-256 equals node:crypto over any chunking', () => {
  for (const size of [0, 1, 55, 56, 63, 64, 65, 119, 120, 4096, 100003]) {
    const b = crypto.randomBytes(size);
    const h = new Sha256();
    for (let o = 0; o < size;) { const k = 1 + Math.floor(Math.random() * 200); h.update(b.subarray(o, o + k)); o += k; }
    assert.equal(h.hex(), crypto.createHash('sha256').update(b).digest('hex'), `size ${size}`);
  }
});
