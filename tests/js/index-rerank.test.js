// index-rerank.test.js - retrieve, then rerank: Index#search with { rerank } on the tiny
// cross-encoder fixture (tests/data/fixtures/rerank_bert with the tiny test tokenizer). The order
// must be the reranker's own order of the vector search's candidates, scores computed directly
// with Reranker#score; both scores and the retrieval rank on each hit; candidates, filters,
// text fields and functions, activation; every bad input is a rejection with its code (rows
// without text, candidates < k, a disposed reranker or engine, an AbortSignal), and nothing leaks.
// Also the demo's bundled reranker (web-demo/models/tiny-reranker) against its float64 reference,
// and a reranker in a worker thread.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { Index, Reranker, createEngine, WembedError } from '../../js/index.js';
import { FIXTURES, ROOT, tinyTokenizer } from './helpers.js';

const TINY = path.join(ROOT, 'web-demo/models/tiny-reranker');
const QUERY = 'What is a small feline pet?';
const DOCS = [
  'A car is fast and red.',
  'Cats are small feline pets, the cat purrs.',
  'The dog barks.',
  'A feline is a cat.',
  'Which animal drives? Weird unknown words.',
  'The small cat sleeps.',
  'Red cars and fast dogs.',
  'Pets: a cat, a dog.',
  'Unknown words only.',
  'the cat has four legs',
  'A dog is not a feline.',
  'Feline pets purr.',
];
const DIMS = 8;

let engine;
let reranker;
let index;

const code = (c, re) => (e) => e instanceof WembedError && e.code === c && (!re || re.test(e.message));

/** Deterministic vectors: row i and the query are points on a few sines. */
const vec = (i) => Float32Array.from({ length: DIMS }, (_, j) => Math.sin(0.7 * (i + 1) * (j + 1) + 0.3 * j));
const Q = Float32Array.from({ length: DIMS }, (_, j) => Math.cos(0.45 * (j + 1)));

function loadTextModel(eng) {
  const dir = path.join(FIXTURES, 'rerank_bert');
  return Reranker.load({
    files: {
      'config.json': fs.readFileSync(path.join(dir, 'config.json')),
      'model.safetensors': fs.readFileSync(path.join(dir, 'model.safetensors')),
      'tokenizer.json': new TextEncoder().encode(JSON.stringify(tinyTokenizer())),
    },
  }, { engine: eng });
}

before(async () => {
  engine = await createEngine({ variant: 'st' });
  reranker = await loadTextModel(engine);
  index = await Index.create({ dims: DIMS, engine });
  index.add(DOCS.map((text, i) => ({ id: `d${i}`, vector: vec(i), meta: { text, n: i } })));
});
after(() => {
  index?.dispose();
  reranker?.dispose();
  engine?.dispose();
});

/** The expected result: the plain search's `cand` best, ordered by the reranker's scores computed here. */
async function expected(k, cand, { activation, filter } = {}) {
  const plain = index.search(Q, { k: cand, filter });
  const { scores } = await reranker.score(plain.map((h) => [QUERY, h.meta.text]), { activation });
  const order = plain.map((h, i) => i).sort((a, b) => scores[b][0] - scores[a][0] || a - b);
  return { plain, scores: scores.map((s) => s[0]), order: order.slice(0, k) };
}

test('the order is the reranker\'s own order of the candidates; both scores and the retrieval rank on each hit', async () => {
  for (const [k, cand] of [[3, 8], [5, 5], [1, 12], [4, 40]]) {
    const exp = await expected(k, cand);
    const hits = await index.search(Q, { k, rerank: { reranker, query: QUERY, candidates: cand, batchSize: 3 } });
    assert.equal(hits.length, Math.min(k, DOCS.length));
    assert.deepEqual(hits.map((h) => h.id), exp.order.map((i) => exp.plain[i].id), `k ${k}, candidates ${cand}`);
    hits.forEach((h, j) => {
      const i = exp.order[j];
      assert.equal(h.retrievalRank, i);
      assert.equal(h.retrievalScore, exp.plain[i].score);
      assert.ok(Math.abs(h.rerankScore - exp.scores[i]) <= 1e-6);
      assert.equal(h.score, h.rerankScore);
      assert.deepEqual(h.meta, exp.plain[i].meta);
      assert.equal(h.truncated, undefined);
      if (j) assert.ok(hits[j - 1].rerankScore >= h.rerankScore, 'best first by the reranker');
    });
  }
  // The reranker changes the order here (else the test would not tell the two apart).
  const all = await index.search(Q, { k: 12, rerank: { reranker, query: QUERY } });
  assert.notDeepEqual(all.map((h) => h.retrievalRank), [...all.keys()]);
});

test('default candidates: max(k, min(4 k, 100)); the vector search\'s filter applies first', async () => {
  const exp = await expected(2, 8);
  const hits = await index.search(Q, { k: 2, rerank: { reranker, query: QUERY } });
  assert.deepEqual(hits.map((h) => h.id), exp.order.map((i) => exp.plain[i].id));
  // k 2 takes 8 candidates, not all 12: a row ranked 9th or lower by the vector search never comes back.
  const far = await index.search(Q, { k: 12 });
  const wide = await index.search(Q, { k: 12, rerank: { reranker, query: QUERY } });
  const best8 = new Set(far.slice(0, 8).map((h) => h.id));
  assert.ok(hits.every((h) => best8.has(h.id)));
  assert.equal(wide.length, 12);

  const filter = (meta) => meta.n % 2 === 0;
  const ef = await expected(3, 4, { filter });
  const fh = await index.search(Q, { k: 3, filter, rerank: { reranker, query: QUERY, candidates: 4 } });
  assert.deepEqual(fh.map((h) => h.id), ef.order.map((i) => ef.plain[i].id));
  assert.ok(fh.every((h) => h.meta.n % 2 === 0));
});

test('where the text is: a metadata field or a function; activation sigmoid', async () => {
  const other = await Index.create({ dims: DIMS, engine });
  try {
    other.add(DOCS.map((body, i) => ({ id: i, vector: vec(i), meta: { body } })));
    const a = await index.search(Q, { k: 4, rerank: { reranker, query: QUERY } });
    const b = await other.search(Q, { k: 4, rerank: { reranker, query: QUERY, text: 'body' } });
    const c = await other.search(Q, { k: 4, rerank: { reranker, query: QUERY, text: (meta, id) => DOCS[/** @type {number} */ (id)] } });
    assert.deepEqual(b.map((h) => `d${h.id}`), a.map((h) => h.id));
    assert.deepEqual(c.map((h) => [h.id, h.rerankScore]), b.map((h) => [h.id, h.rerankScore]));
    const s = await index.search(Q, { k: 4, rerank: { reranker, query: QUERY, activation: 'sigmoid' } });
    assert.deepEqual(s.map((h) => h.id), a.map((h) => h.id), 'the sigmoid keeps the order');
    s.forEach((h, i) => assert.ok(Math.abs(h.rerankScore - 1 / (1 + Math.exp(-a[i].rerankScore))) <= 1e-6));
    // A passage longer than the reranker's window is cut, and the hit says so.
    const long = `${'the cat has four legs, '.repeat(40)}.`;
    other.add({ id: 'long', vector: Q, meta: { body: long } });
    const t = await other.search(Q, { k: 13, rerank: { reranker, query: QUERY, text: 'body' } });
    assert.equal(t.find((h) => h.id === 'long').truncated, true);
    assert.equal(t.filter((h) => h.truncated).length, 1);
  } finally {
    other.dispose();
  }
});

test('an empty index, and candidates beyond the index, and the plain search unchanged', async () => {
  const empty = await Index.create({ dims: DIMS, engine });
  try {
    assert.deepEqual(await empty.search(Q, { k: 5, rerank: { reranker, query: QUERY } }), []);
  } finally {
    empty.dispose();
  }
  const all = await index.search(Q, { k: 20, rerank: { reranker, query: QUERY, candidates: 1000 } });
  assert.equal(all.length, DOCS.length);
  // Without rerank, search is synchronous and returns plain hits.
  const plain = index.search(Q, { k: 3 });
  assert.ok(Array.isArray(plain));
  assert.deepEqual(Object.keys(plain[0]).sort(), ['id', 'meta', 'score']);
});

test('bad input is a rejection with a code; rows without text are refused before any scoring', async () => {
  const rr = (rerank, extra = {}) => index.search(Q, { k: 3, ...extra, rerank });
  await assert.rejects(rr({ reranker, query: QUERY, candidates: 2 }), code('invalid_argument', /rerank\.candidates \(2\) must be at least k \(3\)/));
  await assert.rejects(rr({ reranker, query: QUERY, candidates: 0 }), code('invalid_argument', /rerank\.candidates must be an integer/));
  await assert.rejects(rr({ reranker, query: Q }), code('invalid_argument', /rerank\.query must be the query's text/));
  await assert.rejects(rr({ reranker: {}, query: QUERY }), code('invalid_argument', /rerank\.reranker must be a Reranker/));
  await assert.rejects(rr({ reranker, query: QUERY, candidate: 5 }), code('invalid_argument', /^search: rerank: unknown option "candidate" \(did you mean 'candidates'\?\)/));
  await assert.rejects(rr({ reranker, query: QUERY, text: 3 }), code('invalid_argument', /rerank\.text must be/));
  await assert.rejects(rr({ reranker, query: QUERY, activation: 'softmax' }), code('invalid_argument', /activation must be/));
  await assert.rejects(rr(true), code('invalid_argument', /rerank must be/));
  await assert.rejects(rr({ reranker, query: QUERY }, { kk: 3 }), code('invalid_argument', /^search: unknown option "kk" \(did you mean 'k'\?\)/));
  assert.throws(() => index.search(Q, /** @type {any} */ ({ k: 3, filtr: {} })), code('invalid_argument', /unknown option "filtr" \(did you mean 'filter'\?\)/));
  assert.throws(() => index.searchMany([Q], /** @type {any} */ ({ rerank: { reranker, query: QUERY } })), code('invalid_argument', /one query at a time/));
  await assert.rejects(rr({ reranker, query: QUERY }, { k: 0 }), code('invalid_argument', /k must be/));
  await assert.rejects(index.search(new Float32Array(3), { rerank: { reranker, query: QUERY } }), code('invalid_argument', /dimensions/));

  // Vectors only (no text stored): missing_text, naming the row and where the text was looked for.
  const bare = await Index.create({ dims: DIMS, engine });
  try {
    bare.add(DOCS.map((_, i) => ({ id: i, vector: vec(i) })));
    let calls = 0;
    const spy = { rerank: (...a) => { calls++; return reranker.rerank(...a); } };
    await assert.rejects(bare.search(Q, { k: 2, rerank: { reranker: /** @type {any} */ (spy), query: QUERY } }),
      code('missing_text', /has none \(its metadata field "text" is undefined\)\. Add the text to the metadata/));
    await assert.rejects(bare.search(Q, { k: 2, rerank: { reranker: /** @type {any} */ (spy), query: QUERY, text: () => null } }),
      code('missing_text', /rerank\.text returned object/));
    assert.equal(calls, 0);
  } finally {
    bare.dispose();
  }
});

test('an AbortSignal: already fired, or firing between batches of pairs', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(index.search(Q, { k: 3, rerank: { reranker, query: QUERY, signal: ac.signal } }), code('aborted_by_signal'));
  const ac2 = new AbortController();
  const p = index.search(Q, { k: 3, rerank: { reranker, query: QUERY, candidates: 12, batchSize: 1, signal: ac2.signal } });
  ac2.abort(new Error('the user typed on'));
  await assert.rejects(p, code('aborted_by_signal', /the user typed on/));
  // The index and the reranker still work after an abort.
  assert.equal((await index.search(Q, { k: 3, rerank: { reranker, query: QUERY } })).length, 3);
});

test('a disposed reranker, a reranker whose engine was disposed, a disposed index: rejections with codes', async () => {
  const r = await loadTextModel(engine);
  r.dispose();
  await assert.rejects(index.search(Q, { k: 3, rerank: { reranker: r, query: QUERY } }), code('disposed'));

  const other = await createEngine({ variant: 'st' });
  const r2 = await loadTextModel(other);
  assert.equal((await index.search(Q, { k: 3, rerank: { reranker: r2, query: QUERY } })).length, 3);   // engines may differ
  other.dispose();
  await assert.rejects(index.search(Q, { k: 3, rerank: { reranker: r2, query: QUERY } }), code('disposed'));
  r2.dispose();

  const gone = await Index.create({ dims: DIMS, engine });
  gone.dispose();
  await assert.rejects(gone.search(Q, { rerank: { reranker, query: QUERY } }), code('disposed'));
});

test('nothing leaks: a reranked search frees what it took', async () => {
  await index.search(Q, { k: 3, rerank: { reranker, query: QUERY } });
  const live = engine.module._wembed__alloc_live();
  for (let i = 0; i < 3; i++) await index.search(Q, { k: 5, rerank: { reranker, query: QUERY, candidates: 12 } });
  await assert.rejects(index.search(Q, { k: 3, rerank: { reranker, query: 'the cat '.repeat(200) } }), code('too_long'));
  assert.equal(engine.module._wembed__alloc_live(), live);
});

test("the demo's bundled reranker (web-demo/models/tiny-reranker): its float64 reference logits, through ids and through text", async () => {
  const exp = JSON.parse(fs.readFileSync(path.join(TINY, 'expected.json'), 'utf8')).cases;
  const r = await Reranker.load(TINY, { engine });
  try {
    assert.equal(r.info().labels, 1);
    assert.equal(r.info().sigmoid, false);
    const byIds = (await r.scoreIds(exp.map((c) => c.ids), { tokenTypeIds: exp.map((c) => c.type_ids) })).map((s) => s[0]);
    const { scores } = await r.score(exp.map((c) => [c.query, c.document]));
    exp.forEach((c, i) => {
      assert.ok(Math.abs(byIds[i] - c.logit) <= 1e-4, `case ${i}: ${byIds[i]} vs ${c.logit}`);
      assert.ok(Math.abs(scores[i][0] - c.logit) <= 1e-4, `case ${i} from text: ${scores[i][0]} vs ${c.logit}`);
    });
  } finally {
    r.dispose();
  }
});

test('{ worker: true }: a reranker in a worker thread reranks the same', async () => {
  const w = await Reranker.load(TINY, { worker: true, variant: 'st' });
  const local = await Reranker.load(TINY, { engine });
  try {
    const a = await index.search(Q, { k: 6, rerank: { reranker: w, query: QUERY } });
    const b = await index.search(Q, { k: 6, rerank: { reranker: local, query: QUERY } });
    assert.deepEqual(a.map((h) => h.id), b.map((h) => h.id));
    a.forEach((h, i) => assert.ok(Math.abs(h.rerankScore - b[i].rerankScore) <= 1e-6));
  } finally {
    w.dispose();
    local.dispose();
  }
});
