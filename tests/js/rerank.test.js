// rerank.test.js - the Reranker API on the cross-encoder fixtures (tests/data/fixtures/rerank_bert,
// rerank_xlmr): scores of token-id pairs equal the float64 reference logits (max abs diff 1e-4),
// sigmoid only on request; text pairs go through the tokenizer's pair template exactly as the Rust
// `tokenizers` library encodes them (token types 1 on the passage, only_second truncation,
// flagged); ranking, topK, returnDocuments, batching, errors, and that nothing leaks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

import { Reranker, Embedder, createEngine, WembedError } from '../../js/index.js';
import { FIXTURES, fixtureCase, rows, tinyTokenizer } from './helpers.js';

const TOL = 1e-4;
let engine;

before(async () => { engine = await createEngine({ variant: 'st' }); });
after(() => engine.dispose());

const maxDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

for (const fx of ['rerank_bert', 'rerank_xlmr']) {
  for (const name of ['pairs4', 'pair_single']) {
    test(`${fx}/${name}: scoreIds equals the reference logits; sigmoid only on request`, async () => {
      const c = fixtureCase(fx, name);
      const r = await Reranker.load(path.join(FIXTURES, fx), { engine });
      try {
        assert.equal(r.info().labels, 1);
        assert.equal(r.info().sigmoid, false);   // Identity (rerank_bert) / no activation (rerank_xlmr): raw logits
        const opts = { attentionMask: rows(c.attention_mask), ...(c.token_type_ids ? { tokenTypeIds: rows(c.token_type_ids) } : {}) };
        const raw = (await r.scoreIds(rows(c.input_ids), { ...opts, batchSize: 3 })).map((s) => s[0]);
        assert.ok(maxDiff(raw, c.logits.data) <= TOL, `logits: max |diff| ${maxDiff(raw, c.logits.data)}`);
        const sig = (await r.scoreIds(rows(c.input_ids), { ...opts, activation: 'sigmoid' })).map((s) => s[0]);
        assert.ok(maxDiff(sig, c.scores_sigmoid.data) <= TOL);
        // The classification head is not the embedding: embed still works on the same model.
        const [v] = await r.model.embedIds([rows(c.input_ids)[0]], { pooling: 'cls', normalize: false });
        assert.equal(v.length, 64);
      } finally {
        r.dispose();
      }
    });
  }
}

// ModernBertForSequenceClassification (gen/rerank_modernbert_fixture.py): mean pooling with one
// label, cls pooling with two; text pairs through the folder's tokenizer.json, one cut only_second.
for (const fx of ['rerank_modernbert', 'rerank_modernbert_cls']) {
  test(`${fx}: scoreIds and score(text pairs) equal the float64 reference logits`, async () => {
    const man = JSON.parse(fs.readFileSync(path.join(FIXTURES, fx, 'manifest.json'), 'utf8'));
    const r = await Reranker.load(path.join(FIXTURES, fx), { engine });
    try {
      const L = r.info().labels;
      assert.equal(L, fx === 'rerank_modernbert' ? 1 : 2);
      const c = fixtureCase(fx, 'pairs5');
      const ids = (await r.scoreIds(rows(c.input_ids), { attentionMask: rows(c.attention_mask), batchSize: 2 })).flatMap((s) => [...s]);
      assert.ok(maxDiff(ids, c.logits.data) <= TOL, `pairs5: max |diff| ${maxDiff(ids, c.logits.data)}`);
      const tp = man.cases.find((x) => x.name === 'text_pairs');
      const { scores, truncated } = await r.score(tp.text_pairs, { batchSize: 3 });
      const got = scores.flatMap((s) => [...s]);
      const want = fixtureCase(fx, 'text_pairs').logits.data;
      assert.ok(maxDiff(got, want) <= TOL, `text_pairs: max |diff| ${maxDiff(got, want)}`);
      assert.deepEqual(truncated, tp.truncated);
    } finally {
      r.dispose();
    }
  });
}

function loadTextModel() {
  const dir = path.join(FIXTURES, 'rerank_bert');
  const files = {
    'config.json': fs.readFileSync(path.join(dir, 'config.json')),
    'model.safetensors': fs.readFileSync(path.join(dir, 'model.safetensors')),
    'tokenizer.json': new TextEncoder().encode(JSON.stringify(tinyTokenizer())),
  };
  return Reranker.load({ files }, { engine });
}

const QUERY = 'What is a small feline pet?';
const DOCS = [
  'A car is fast and red.',
  'Cats are small feline pets, the cat purrs.',
  'The dog barks.',
  // 4 * 40 + 1 words: longer than the model's 128 positions, so the passage is cut (never the query)
  `${'the cat has four legs, '.repeat(40)}.`,
  'Which animal drives? Weird unknown words.',
];

test('text pairs: the pair template and only_second truncation of the Rust tokenizers library', async () => {
  const require = createRequire(import.meta.url);
  const { Tokenizer } = require('@anush008/tokenizers');
  const ref = Tokenizer.fromString(JSON.stringify(tinyTokenizer()));
  ref.setTruncation(128, { strategy: 'OnlySecond' });
  const encs = await Promise.all(DOCS.map((d) => ref.encode(QUERY, d, { addSpecialTokens: true })));
  const r = await loadTextModel();
  try {
    const expected = (await r.scoreIds(encs.map((e) => e.getIds()), { tokenTypeIds: encs.map((e) => e.getTypeIds()) })).map((s) => s[0]);
    assert.ok(encs[1].getTypeIds().includes(1), 'the passage has token type 1');
    assert.equal(encs[3].getIds().length, 128);
    const { scores, truncated } = await r.score(DOCS.map((d) => [QUERY, d]), { batchSize: 2 });
    assert.deepEqual(truncated, [false, false, false, true, false]);
    assert.ok(maxDiff(scores.map((s) => s[0]), expected) <= 1e-6, 'pairs encoded as the reference encodes them');

    const ranked = await r.rerank(QUERY, DOCS, { returnDocuments: true });
    assert.deepEqual(ranked.map((x) => x.index), [...expected.keys()].sort((a, b) => expected[b] - expected[a]));
    for (const x of ranked) {
      assert.equal(x.document, DOCS[x.index]);
      assert.ok(Math.abs(x.score - expected[x.index]) <= 1e-6);
      assert.equal(x.truncated, x.index === 3 ? true : undefined);
    }
    const top = await r.rerank(QUERY, DOCS, { topK: 2, activation: 'sigmoid' });
    assert.equal(top.length, 2);
    assert.equal(top[0].index, ranked[0].index);
    assert.ok(Math.abs(top[0].score - 1 / (1 + Math.exp(-ranked[0].score))) <= 1e-6);
    assert.equal(top[0].document, undefined);
    assert.deepEqual(await r.rerank(QUERY, []), []);

    // A query that alone does not fit is an error, not a silent cut of the query.
    await assert.rejects(r.rerank('the cat '.repeat(200), ['a dog']), (e) => e instanceof WembedError && e.code === 'too_long');
    await assert.rejects(r.rerank(QUERY, DOCS, { activation: 'softmax' }), /activation must be/);
    await assert.rejects(r.rerank(QUERY, DOCS, { batchSize: 0 }), /batchSize/);
  } finally {
    r.dispose();
  }
});

test('an embedding model is not a reranker; nothing leaks', async () => {
  const live = engine.module._wembed__alloc_live();
  await assert.rejects(Reranker.load(path.join(FIXTURES, 'bert'), { engine }), (e) => e instanceof WembedError && e.code === 'unsupported');
  const e = await Embedder.load(path.join(FIXTURES, 'bert'), { engine });
  await assert.rejects(e.classifyIds([[1, 2, 3]]), /no sequence-classification head/);
  e.dispose();
  const r = await loadTextModel();
  await r.rerank(QUERY, DOCS);
  r.dispose();
  assert.equal(engine.module._wembed__alloc_live(), live);
});

test('{ worker: true }: the same scores from a worker thread', async () => {
  const c = fixtureCase('rerank_bert', 'pairs4');
  const opts = { attentionMask: rows(c.attention_mask), tokenTypeIds: rows(c.token_type_ids) };
  const r = await Reranker.load(path.join(FIXTURES, 'rerank_bert'), { worker: true, variant: 'st' });
  try {
    assert.equal(r.info().labels, 1);
    const raw = (await r.scoreIds(rows(c.input_ids), opts)).map((s) => s[0]);
    assert.ok(maxDiff(raw, c.logits.data) <= TOL);
  } finally {
    r.dispose();
  }
});

test("pipeline('text-classification'): pairs and texts, id2label names, sigmoid for one label", async () => {
  const { pipeline } = await import('../../js/index.js');
  const dir = path.join(FIXTURES, 'rerank_bert');
  const files = {
    'config.json': fs.readFileSync(path.join(dir, 'config.json')),
    'model.safetensors': fs.readFileSync(path.join(dir, 'model.safetensors')),
    'tokenizer.json': new TextEncoder().encode(JSON.stringify(tinyTokenizer())),
  };
  const classifier = await pipeline('text-classification', /** @type {any} */ ({ files }), { engine });
  try {
    const { scores } = await classifier.embedder.classifyPairs([QUERY, QUERY], [DOCS[0], DOCS[1]]).then((r) => ({ scores: r.logits.map((l) => l[0]) }));
    const sig = (x) => 1 / (1 + Math.exp(-x));
    const one = await classifier({ text: QUERY, text_pair: DOCS[1] });
    assert.equal(one.length, 1);
    assert.equal(one[0].label, 'LABEL_0');
    assert.ok(Math.abs(one[0].score - sig(scores[1])) <= 1e-6);
    const batch = await classifier([{ text: QUERY, text_pair: DOCS[0] }, { text: QUERY, text_pair: DOCS[1] }, 'a cat']);
    assert.equal(batch.length, 3);
    assert.ok(Math.abs(batch[0].score - sig(scores[0])) <= 1e-6);
    const raw = await classifier({ text: QUERY, text_pair: DOCS[0] }, { function_to_apply: 'none' });
    assert.ok(Math.abs(raw[0].score - scores[0]) <= 1e-6);
    // A single text goes through the single template: its score is the head on [CLS] text [SEP].
    const enc = await classifier.embedder.tokenize('a cat');
    const [l] = await classifier.embedder.classifyIds([enc.ids], { tokenTypeIds: [enc.typeIds] });
    assert.ok(Math.abs(batch[2].score - sig(l[0])) <= 1e-6);
  } finally {
    await classifier.dispose();
  }
  await assert.rejects(pipeline('text-classification', path.join(FIXTURES, 'bert'), { engine }), (e) => e instanceof WembedError && e.code === 'unsupported');
});

test('sigmoid by default when the config asks for it (sentence-transformers v3 and v4 keys); num_labels must match the head', async () => {
  const dir = path.join(FIXTURES, 'rerank_bert');
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const weights = fs.readFileSync(path.join(dir, 'model.safetensors'));
  const c = fixtureCase('rerank_bert', 'pairs4');
  const opts = { attentionMask: rows(c.attention_mask), tokenTypeIds: rows(c.token_type_ids) };
  const withConfig = (x) => Reranker.load({ files: { 'config.json': new TextEncoder().encode(JSON.stringify(x)), 'model.safetensors': weights } }, { engine });
  const v3 = { ...cfg, sbert_ce_default_activation_function: 'torch.nn.modules.activation.Sigmoid' };
  const { sbert_ce_default_activation_function: _drop, ...bare } = cfg;
  const v4 = { ...bare, sentence_transformers: { activation_fn: 'torch.nn.modules.activation.Sigmoid', version: '4.0.1' } };
  for (const x of [v3, v4]) {
    const r = await withConfig(x);
    try {
      assert.equal(r.info().sigmoid, true);
      const s = (await r.scoreIds(rows(c.input_ids), opts)).map((v) => v[0]);
      assert.ok(maxDiff(s, c.scores_sigmoid.data) <= TOL);
      const raw = (await r.scoreIds(rows(c.input_ids), { ...opts, activation: 'none' })).map((v) => v[0]);
      assert.ok(maxDiff(raw, c.logits.data) <= TOL);
    } finally {
      r.dispose();
    }
  }
  // No key at all: raw logits (an explicit Sigmoid is needed).
  const r = await withConfig(bare);
  assert.equal(r.info().sigmoid, false);
  r.dispose();
  await assert.rejects(withConfig({ ...cfg, num_labels: 3 }), (e) => e instanceof WembedError && e.code === 'shape_mismatch');
});

test('f16 and q8 weights: measured bounds on the logits (the head itself stays f32)', async () => {
  // Measured on these random-weight fixtures: f16 <= 1.3e-3, q8 <= 3.9e-2 (logits of 1 to 2.5).
  for (const [dtype, bound] of [['f16', 5e-3], ['q8', 0.1]]) {
    for (const fx of ['rerank_bert', 'rerank_xlmr']) {
      const c = fixtureCase(fx, 'pairs4');
      const r = await Reranker.load(path.join(FIXTURES, fx), { engine, dtype });
      try {
        const opts = { attentionMask: rows(c.attention_mask), ...(c.token_type_ids ? { tokenTypeIds: rows(c.token_type_ids) } : {}) };
        const s = (await r.scoreIds(rows(c.input_ids), opts)).map((v) => v[0]);
        assert.ok(maxDiff(s, c.logits.data) <= bound, `${fx} ${dtype}: max |diff| ${maxDiff(s, c.logits.data)} > ${bound}`);
      } finally {
        r.dispose();
      }
    }
  }
});
