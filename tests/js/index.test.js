// index.test.js - the vector Index (js/vector-index.js over src/search in wasm): rankings
// against a float64 brute force, compact storages against the float index, filters, ids and
// metadata, removal, save/load (bytes and files) with corrupt inputs refused, thread
// invariance, engine sharing with the Embedder, and no leaks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { Index, Embedder, createEngine, WembedError } from '../../js/index.js';
import { crc32 } from '../../js/vector-index.js';
import { DATA, tmpDir } from './helpers.js';

let st;   // single-thread engine: most tests
before(async () => { st = await createEngine({ variant: 'st' }); });
after(() => st?.dispose());

/** Deterministic normal-ish numbers (xorshift + Box-Muller). */
function rng(seed) {
  let s = BigInt(seed) | 1n;
  const next = () => {
    s ^= (s << 13n) & 0xffffffffffffffffn; s ^= s >> 7n; s ^= (s << 17n) & 0xffffffffffffffffn;
    return Number(s >> 11n) / 2 ** 53;
  };
  return () => Math.sqrt(-2 * Math.log(next() + 1e-300)) * Math.cos(2 * Math.PI * next());
}

/** n vectors of d dims around `clusters` centres (0: plain noise). */
function vectors(n, d, clusters, seed) {
  const r = rng(seed);
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: d }, r));
  return Array.from({ length: n }, (_, i) => {
    const c = clusters ? centres[i % clusters] : null;
    return Float32Array.from({ length: d }, (_, k) => (c ? c[k] : 0) + (c ? 0.4 : 1) * r());
  });
}

function cosine64(a, b) {
  let d = 0; let x = 0; let y = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; x += a[i] * a[i]; y += b[i] * b[i]; }
  return d / Math.sqrt(x * y);
}

function bruteForce(data, q, k) {
  return data.map((v, i) => ({ i, s: cosine64(v, q) })).sort((a, b) => b.s - a.s || a.i - b.i).slice(0, k);
}

const recall = (got, want) => got.filter((x) => want.includes(x)).length / want.length;

test('f32: the ranking is the float64 brute-force ranking, scores are cosines', async () => {
  const data = vectors(2000, 64, 0, 1);
  const queries = vectors(8, 64, 0, 2);
  const ix = await Index.create({ dims: 64, engine: st });
  ix.add(data.map((v, i) => ({ id: `v${i}`, vector: v, meta: { i } })));
  assert.equal(ix.size, 2000);
  assert.equal(ix.bytes, 2000 * 64 * 4);
  const all = ix.searchMany(queries, { k: 10 });
  queries.forEach((q, qi) => {
    const want = bruteForce(data, q, 10);
    assert.deepEqual(all[qi].map((h) => h.id), want.map((w) => `v${w.i}`));
    all[qi].forEach((h, j) => {
      assert.ok(Math.abs(h.score - want[j].s) < 1e-6, `score ${h.score} vs ${want[j].s}`);
      assert.deepEqual(h.meta, { i: want[j].i });
    });
    assert.deepEqual(ix.search(q, { k: 10 }), all[qi]);   // one at a time = in a batch
  });
  // dot metric: raw inner products
  const dot = await Index.create({ dims: 64, metric: 'dot', engine: st });
  dot.add(data.map((v, i) => ({ id: i, vector: v })));
  const [best] = dot.search(queries[0], { k: 1 });
  const scores = data.map((v) => v.reduce((a, x, k) => a + x * queries[0][k], 0));
  const arg = scores.indexOf(Math.max(...scores));
  assert.equal(best.id, arg);
  assert.ok(Math.abs(best.score - scores[arg]) < 1e-4);
  assert.equal(best.meta, null);
  ix.dispose();
  dot.dispose();
});

test('compact storages: int8 and binary recall the float top 10 on clustered data; binary + f32 over all rows is exact', async () => {
  const n = 4000;
  const d = 128;
  const all = vectors(n + 20, d, 40, 3);
  const data = all.slice(0, n);
  const queries = all.slice(n);
  const exact = await Index.create({ dims: d, engine: st });
  exact.add(data.map((v, i) => ({ id: i, vector: v })));
  const truth = exact.searchMany(queries, { k: 10 }).map((hs) => hs.map((h) => h.id));
  const cases = [
    { storage: 'int8', min: 0.9, bytes: d + 4 },
    { storage: 'binary', rescore: 'int8', candidates: 300, min: 0.9, bytes: d / 8 + d + 4 },
    { storage: 'binary', rescore: 'f32', candidates: 300, min: 0.95, bytes: d / 8 + 4 * d },
    { storage: 'binary', rescore: 'bits', candidates: 300, min: 0.15, bytes: d / 8 },
  ];
  for (const c of cases) {
    const ix = await Index.create({ dims: d, engine: st, storage: c.storage, rescore: c.rescore, candidates: c.candidates });
    ix.add(data.map((v, i) => ({ id: i, vector: v })));
    assert.equal(ix.info().bytesPerVector, c.bytes);
    const got = ix.searchMany(queries, { k: 10 });
    const r = got.reduce((a, hs, i) => a + recall(hs.map((h) => h.id), truth[i]), 0) / queries.length;
    assert.ok(r >= c.min, `${c.storage}/${c.rescore}: recall@10 ${r}`);
    ix.dispose();
  }
  const bin = await Index.create({ dims: d, engine: st, storage: 'binary', rescore: 'f32' });
  bin.add(data.map((v, i) => ({ id: i, vector: v })));
  assert.deepEqual(bin.searchMany(queries, { k: 10, candidates: n }), exact.searchMany(queries, { k: 10 }));
  bin.dispose();
  exact.dispose();
});

test('ids, metadata, filters, replace and remove', async () => {
  const data = vectors(300, 16, 0, 4);
  const ix = await Index.create({ dims: 16, engine: st, storage: 'int8' });
  ix.add(data.map((v, i) => ({ id: `d${i}`, vector: v, meta: { lang: i % 3 === 0 ? 'en' : 'de', n: i } })));
  const q = data[42];
  const [top] = ix.search(q, { k: 1 });
  assert.equal(top.id, 'd42');
  // predicate and object filters rank exactly the allowed rows
  const unfiltered = ix.search(q, { k: 300 });
  const en = ix.search(q, { k: 5, filter: (m) => m.lang === 'en' });
  assert.deepEqual(en.map((h) => h.id), unfiltered.filter((h) => h.meta.lang === 'en').slice(0, 5).map((h) => h.id));
  assert.deepEqual(ix.search(q, { k: 5, filter: { lang: 'en' } }), en);
  assert.deepEqual(ix.search(q, { k: 5, filter: { n: [7, 8, 9] } }).map((h) => h.id).sort(), ['d7', 'd8', 'd9']);
  assert.deepEqual(ix.search(q, { k: 5, filter: (m, id) => id === 'd1' }).map((h) => h.id), ['d1']);
  assert.deepEqual(ix.search(q, { filter: () => false }), []);
  // replacing an id keeps one entry, with the new vector and metadata
  ix.add({ id: 'd42', vector: data[7], meta: { lang: 'fr' } });
  assert.equal(ix.size, 300);
  assert.deepEqual(ix.meta('d42'), { lang: 'fr' });
  const two = ix.search(data[7], { k: 2 }).map((h) => h.id).sort();
  assert.deepEqual(two, ['d42', 'd7']);
  // a batch that fails (a NaN) changes nothing, not even the ids it would have replaced
  const before = ix.search(q, { k: 300 });
  assert.throws(() => ix.add([{ id: 'new', vector: data[1] }, { id: 'd3', vector: data[9] }, { id: 'x', vector: data[2].map((v, i) => (i === 5 ? NaN : v)) }]),
    /the vector of "x" has a non-finite value at dimension 5/);
  assert.equal(ix.size, 300);
  assert.equal(ix.has('new'), false);
  assert.deepEqual(ix.search(q, { k: 300 }), before);
  // removal: the last row moves; everything stays findable
  assert.equal(ix.remove('d0'), true);
  assert.equal(ix.remove('d0'), false);
  assert.equal(ix.has('d0'), false);
  assert.equal(ix.size, 299);
  for (const id of ['d299', 'd150', 'd1']) {
    const v = ix.get(id);
    assert.equal(v.id, id);
    assert.equal(ix.search(v.vector, { k: 1 })[0].id, id);
  }
  assert.equal(ix.get('nope'), undefined);
  assert.equal(new Set(ix.ids()).size, 299);
  // get: the stored vector, normalized (f32) or decoded (int8), close to the original
  const g = ix.get('d5');
  assert.ok(cosine64(g.vector, data[5]) > 0.999);
  ix.clear();
  assert.equal(ix.size, 0);
  assert.deepEqual(ix.search(q), []);
  ix.dispose();
});

test('random adds, replacements and removals keep ids, vectors and metadata consistent', async () => {
  const pool = vectors(400, 8, 0, 9);
  const ix = await Index.create({ dims: 8, engine: st });
  const model = new Map();
  let seed = 12345;
  const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (let step = 0; step < 200; step++) {
    if (rand(3) === 0 && model.size) {
      const ids = [...model.keys()];
      const id = ids[rand(ids.length)];
      assert.equal(ix.remove(id), true);
      model.delete(id);
    } else {
      const batch = new Map();
      for (let j = rand(6) + 1; j > 0; j--) batch.set(rand(60), rand(400));
      ix.add([...batch].map(([id, v]) => ({ id, vector: pool[v], meta: { v } })));
      for (const [id, v] of batch) model.set(id, v);
    }
    assert.equal(ix.size, model.size);
  }
  for (const [id, v] of model) {
    const g = ix.get(id);
    assert.deepEqual(g.meta, { v });
    assert.ok(cosine64(g.vector, pool[v]) > 0.99999, `id ${id}`);
  }
  assert.deepEqual(ix.ids().sort((a, b) => Number(a) - Number(b)), [...model.keys()].sort((a, b) => a - b));
  ix.dispose();
});

test('bad input is refused with a message; a disposed index throws', async () => {
  await assert.rejects(Index.create({ dims: 0, engine: st }), /dims must be an integer/);
  await assert.rejects(Index.create({ dims: 4, storage: 'pq', engine: st }), /storage must be one of 'f32', 'int8', 'binary'/);
  await assert.rejects(Index.create({ dims: 4, metric: 'l2', engine: st }), /metric must be one of/);
  const ix = await Index.create({ dims: 4, engine: st });
  assert.throws(() => ix.add({ id: 'a', vector: [1, 2, 3] }), /has 3 dimensions; this index has 4/);
  assert.throws(() => ix.add({ id: 'a', vector: [1, 2, NaN, 3] }), /non-finite value at dimension 2/);
  assert.throws(() => ix.add([{ id: 'a', vector: [1, 2, 3, 4] }, { id: 'a', vector: [1, 2, 3, 4] }]), /appears twice/);
  assert.throws(() => ix.add({ id: {}, vector: [1, 2, 3, 4] }), /an id must be a string or a finite number/);
  assert.equal(ix.size, 0);
  ix.add({ id: 1, vector: [1, 2, 3, 4] });
  assert.throws(() => ix.search([1, 2, 3]), /query 0 has 3 dimensions/);
  assert.throws(() => ix.search([1, 2, 3, 4], { k: 0 }), /k must be an integer/);
  assert.throws(() => ix.search([1, 2, 3, Infinity]), (e) => e instanceof WembedError && e.code === 'invalid_argument' && /non-finite/.test(e.message));
  assert.throws(() => ix.search([1, 2, 3, 4], { filter: 'x' }), /filter must be a function/);
  await assert.rejects(ix.saveToIndexedDB('x'), /IndexedDB is not available here/);
  ix.dispose();
  ix.dispose();
  assert.throws(() => ix.search([1, 2, 3, 4]), (e) => e.code === 'disposed');
});

test('save and load: bytes and files, every storage, the same results; corrupt bytes refused', async () => {
  const data = vectors(500, 24, 5, 5);
  const dir = tmpDir();
  for (const [storage, rescore] of [['f32'], ['int8'], ['binary', 'int8'], ['binary', 'bits'], ['binary', 'f32']]) {
    const ix = await Index.create({ dims: 24, engine: st, storage, rescore, candidates: 50 });
    ix.add(data.map((v, i) => ({ id: i % 2 ? `s${i}` : i, vector: v, meta: i % 5 ? { i, tags: ['a', i] } : undefined })));
    ix.remove('s1');
    const bytes = ix.save({ extra: { model: 'tests/data/e2e', dims: 24 } });
    const back = await Index.load(bytes, { engine: st });
    assert.equal(back.size, ix.size);
    assert.equal(back.storage, storage);
    assert.equal(back.rescore, storage === 'binary' ? rescore : null);
    assert.equal(back.candidates, 50);
    assert.deepEqual(back.extra, { model: 'tests/data/e2e', dims: 24 });
    assert.deepEqual(back.ids(), ix.ids());
    assert.deepEqual(back.searchMany(data.slice(0, 5), { k: 7 }), ix.searchMany(data.slice(0, 5), { k: 7 }));
    assert.deepEqual(Array.from(back.save({ extra: { model: 'tests/data/e2e', dims: 24 } })), Array.from(bytes));
    const file = path.join(dir, `${storage}-${rescore}.wemb`);
    await ix.saveFile(file);
    const fromFile = await Index.loadFile(file, { engine: st });
    assert.deepEqual(fromFile.search(data[3]), ix.search(data[3]));
    assert.equal(fromFile.extra, null);
    back.dispose();
    fromFile.dispose();
    ix.dispose();
  }
  const ix = await Index.create({ dims: 4, engine: st, storage: 'binary' });
  ix.add({ id: 'a', vector: [1, -1, 1, -1] });
  const good = ix.save();
  // The structural checks behind the checksum: each damaged file is sealed with a matching CRC-32.
  const seal = (b) => { new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true); return b; };
  const corrupt = (f) => { const b = good.slice(); f(b, new DataView(b.buffer)); return seal(b); };
  const headLen = new DataView(good.buffer).getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(good.subarray(16, 16 + headLen)));
  const withHeader = (h) => {
    const hb = new TextEncoder().encode(JSON.stringify(h));
    const b = new Uint8Array(16 + hb.length + 64 + 4);
    b.set(good.subarray(0, 16));
    new DataView(b.buffer).setUint32(12, hb.length, true);
    b.set(hb, 16);
    return seal(b);
  };
  const bad = [
    [new Uint8Array(3), /no WEMBIDX1 signature/],
    [corrupt((b) => { b[0] = 0x41; }), /no WEMBIDX1 signature/],
    [corrupt((b, dv) => dv.setUint32(8, 3, true)), /format version 3/],
    [corrupt((b, dv) => dv.setUint32(12, 1e6, true)), /header is truncated/],
    [corrupt((b) => { b[16] = 0x7b; b[17] = 0x7b; }), /header is not JSON/],
    [seal(good.slice(0, good.length - 8)), /tier "bits" is out of bounds/],
    [good.subarray(0, good.length - 1), /checksum does not match/],
    [new Uint8Array([...good.subarray(0, 12), 0, 0, 0, 0]), /the file is truncated/],
    [withHeader({ ...header, count: 2 }), /count, ids and meta disagree/],
    [withHeader({ ...header, dims: 0 }), /dims must be/],
    [withHeader({ ...header, storage: 'f32' }), /tiers do not match storage 'f32'/],
    [withHeader({ ...header, ids: [{}] }), /an id must be/],
  ];
  for (const [bytes, re] of bad) {
    await assert.rejects(Index.load(bytes, { engine: st }), (e) => (e.code === 'bad_format' || e.code === 'invalid_argument') && re.test(e.message), String(re));
  }
  await assert.rejects(Index.loadFile(path.join(dir, 'missing.wemb'), { engine: st }), (e) => e.code === 'not_found');
  await assert.rejects(Index.load('nope', { engine: st }), /takes a Uint8Array/);
  ix.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(st.liveAllocations(), 1);   // the pool: everything else was freed
});

test('integrity: every single-bit flip of a saved index is detected (CRC-32); version 1 files load with a warning', async (t) => {
  const ix = await Index.create({ dims: 6, engine: st });
  ix.add(vectors(3, 6, 0, 11).map((v, i) => ({ id: `d${i}`, vector: v, meta: { i } })));
  const good = ix.save({ extra: { model: 'm' } });
  let detected = 0;
  for (let bit = 0; bit < good.length * 8; bit++) {
    const b = good.slice();
    b[bit >> 3] ^= 1 << (bit & 7);
    try {
      (await Index.load(b, { engine: st })).dispose();
    } catch (e) {
      if (e instanceof WembedError && (e.code === 'bad_format' || e.code === 'invalid_argument')) detected++;
    }
  }
  t.diagnostic(`single-bit flips detected: ${detected} of ${good.length * 8} (${good.length} bytes)`);
  assert.equal(detected, good.length * 8, 'every flip refused');

  // Version 1 (no checksum): loads, says so in warnings, the same results.
  const v1 = good.slice(0, good.length - 4);
  new DataView(v1.buffer).setUint32(8, 1, true);
  const old = await Index.load(v1, { engine: st });
  assert.equal(old.warnings.length, 1);
  assert.match(old.warnings[0], /version 1, which has no checksum.*save it again/);
  assert.deepEqual(old.search(vectors(1, 6, 0, 12)[0]), ix.search(vectors(1, 6, 0, 12)[0]));
  assert.deepEqual(Array.from(old.save({ extra: { model: 'm' } })), Array.from(good), 'saved again as version 2');
  old.dispose();
  const fresh = await Index.load(good, { engine: st });
  assert.deepEqual(fresh.warnings, []);
  fresh.dispose();

  // Stored norms are checked too (a version 1 file has nothing else): a cosine row of norm 2, a
  // non-finite value, int8 codes that no encoding writes.
  const headLen = new DataView(good.buffer).getUint32(12, true);
  const h = JSON.parse(new TextDecoder().decode(good.subarray(16, 16 + headLen)));
  const f32At = h.tiers.find((x) => x.name === 'f32').offset;
  const scaled = v1.slice();
  const fv = new Float32Array(scaled.buffer, f32At, 6);
  for (let i = 0; i < 6; i++) fv[i] *= 2;
  await assert.rejects(Index.load(scaled, { engine: st }), (e) => e.code === 'bad_format' && /row 0 of a cosine index has norm 2/.test(e.message));
  const inf = v1.slice();
  new Float32Array(inf.buffer, f32At, 6)[2] = Infinity;
  await assert.rejects(Index.load(inf, { engine: st }), (e) => e.code === 'bad_format' && /non-finite/.test(e.message));
  const q = await Index.create({ dims: 6, engine: st, storage: 'int8' });
  q.add(vectors(2, 6, 0, 13).map((v, i) => ({ id: i, vector: v })));
  const qb = q.save();
  const qh = JSON.parse(new TextDecoder().decode(qb.subarray(16, 16 + new DataView(qb.buffer).getUint32(12, true))));
  const qv1 = qb.slice(0, qb.length - 4);
  new DataView(qv1.buffer).setUint32(8, 1, true);
  const codes = new Int8Array(qv1.buffer, qh.tiers.find((x) => x.name === 'int8').offset, 12);
  for (let i = 6; i < 12; i++) codes[i] = Math.trunc(codes[i] / 2);   // row 1 peaks at 63
  await assert.rejects(Index.load(qv1, { engine: st }), (e) => e.code === 'bad_format' && /row 1 has int8 codes up to 63/.test(e.message));
  q.dispose();
  ix.dispose();
  assert.equal(st.liveAllocations(), 1);
});

test('threads: the same results on 1 and 2 threads, in a batch or one by one', async () => {
  const mt = await createEngine({ variant: 'mt', threads: 2 });
  try {
    assert.equal(mt.threads, 2);
    const data = vectors(9000, 40, 30, 6);
    const queries = vectors(6, 40, 0, 7);
    for (const storage of ['f32', 'int8', 'binary']) {
      const a = await Index.create({ dims: 40, engine: st, storage });
      const b = await Index.create({ dims: 40, engine: mt, storage });
      for (const ix of [a, b]) ix.add(data.map((v, i) => ({ id: i, vector: v })));
      const ra = queries.map((q) => a.search(q, { k: 12 }));
      assert.deepEqual(b.searchMany(queries, { k: 12 }), ra, storage);
      a.dispose();
      b.dispose();
    }
  } finally {
    mt.dispose();
  }
});

test('with an Embedder: shares its engine; a text finds itself first', async () => {
  const e = await Embedder.load(path.join(DATA, 'e2e'), { variant: 'st' });
  const ix = await Index.create({ dims: e.info().dims, variant: 'st' });
  assert.equal(ix.engine, e.engine);   // the shared engine of the same options
  const texts = ['The cat sat on the mat.', 'Stock markets fell sharply today.', 'A recipe for tomato soup.', 'Rust and C compile to WebAssembly.'];
  const vecs = await e.embed(texts);
  ix.add(texts.map((t, i) => ({ id: i, vector: vecs[i], meta: { text: t } })));
  for (let i = 0; i < texts.length; i++) {
    const [hit] = ix.search(vecs[i], { k: 1 });
    assert.equal(hit.id, i);
    assert.ok(Math.abs(hit.score - 1) < 1e-6);
    const scores = ix.search(vecs[i], { k: 4 }).map((h) => h.score);
    const want = vecs.map((v) => e.similarity(vecs[i], v)).sort((x, y) => y - x);
    scores.forEach((s, j) => assert.ok(Math.abs(s - want[j]) < 1e-6));
  }
  ix.dispose();
  assert.equal(e.engine.liveAllocations() > 0, true);   // the model is still there
  e.dispose();
});
