// rerank-deberta.test.js - the Reranker API on the DeBERTa-v2 cross-encoder fixtures
// (tests/data/fixtures/deberta_own: the mxbai-rerank layout; deberta_own_sep: the other branches,
// two labels): scores of token-id pairs equal the float64 reference logits (max abs diff 1e-4);
// text pairs go through the fixture's DeBERTa-v3 style tokenizer.json (Strip, Precompiled,
// Replace; Metaspace; Unigram; [CLS] A [SEP] B [SEP]) exactly as the Rust `tokenizers` library
// encodes them, only_second truncation at the model's 64 tokens included (and flagged).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

import { Reranker, createEngine, WembedError } from '../../js/index.js';
import { FIXTURES, fixtureCase, rows } from './helpers.js';

const TOL = 1e-4;
let engine;

before(async () => { engine = await createEngine({ variant: 'st' }); });
after(() => engine.dispose());

const maxDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

for (const [fx, labels] of [['deberta_own', 1], ['deberta_own_sep', 2]]) {
  for (const name of ['pairs4', 'pair_single']) {
    test(`${fx}/${name}: scoreIds equals the reference logits`, async () => {
      const c = fixtureCase(fx, name);
      const r = await Reranker.load(path.join(FIXTURES, fx), { engine });
      try {
        assert.equal(r.info().labels, labels);
        assert.equal(r.info().sigmoid, false);
        const opts = { attentionMask: rows(c.attention_mask), tokenTypeIds: rows(c.token_type_ids), batchSize: 3 };
        const raw = (await r.scoreIds(rows(c.input_ids), opts)).flatMap((s) => [...s]);
        assert.ok(maxDiff(raw, c.logits.data) <= TOL, `logits: max |diff| ${maxDiff(raw, c.logits.data)}`);
        const sig = (await r.scoreIds(rows(c.input_ids), { ...opts, activation: 'sigmoid' })).flatMap((s) => [...s]);
        assert.ok(maxDiff(sig, c.scores_sigmoid.data) <= TOL);
      } finally {
        r.dispose();
      }
    });
  }
}

const QUERY = 'What is a small  feline pet?';
const DOCS = [
  'A car is fast and red.',
  '  Cats are small feline pets; the cat purrs. Ünïcödé ﬁne',
  'The dog barks.',
  // longer than the model's 64 positions: the passage is cut, never the query
  `${'the cat has four legs, '.repeat(12)}.`,
];

test('deberta_own text pairs: the pair template and only_second truncation of the Rust tokenizers library', async () => {
  const require = createRequire(import.meta.url);
  const { Tokenizer } = require('@anush008/tokenizers');
  const ref = Tokenizer.fromString(fs.readFileSync(path.join(FIXTURES, 'deberta_own', 'tokenizer.json'), 'utf8'));
  ref.setTruncation(64, { strategy: 'OnlySecond' });
  const encs = await Promise.all(DOCS.map((d) => ref.encode(QUERY, d, { addSpecialTokens: true })));
  assert.equal(encs[3].getIds().length, 64);
  assert.deepEqual(encs[0].getIds().slice(0, 1), [1]);   // [CLS]
  const r = await Reranker.load(path.join(FIXTURES, 'deberta_own'), { engine });
  try {
    const expected = (await r.scoreIds(encs.map((e) => e.getIds()), { tokenTypeIds: encs.map((e) => e.getTypeIds()) })).map((s) => s[0]);
    // type_vocab_size 0: the type ids are read by nothing
    const untyped = (await r.scoreIds(encs.map((e) => e.getIds()))).map((s) => s[0]);
    assert.ok(maxDiff(untyped, expected) === 0);
    const { scores, truncated } = await r.score(DOCS.map((d) => [QUERY, d]), { batchSize: 3 });
    assert.deepEqual(truncated, [false, false, false, true]);
    assert.ok(maxDiff(scores.map((s) => s[0]), expected) <= 1e-6, 'pairs encoded as the reference encodes them');
    const ranked = await r.rerank(QUERY, DOCS, { returnDocuments: true });
    assert.deepEqual(ranked.map((x) => x.index), [...expected.keys()].sort((a, b) => expected[b] - expected[a]));
    await assert.rejects(r.rerank('the cat '.repeat(80), ['a dog']), (e) => e instanceof WembedError && e.code === 'too_long');
  } finally {
    r.dispose();
  }
});

test('deberta f16 and q8 weights: measured bounds on the logits (rel embeddings and the head stay f32)', async () => {
  // Measured on these random-weight fixtures: f16 <= 1.2e-3, q8 <= 3.3e-2 (logits up to 2.3).
  for (const [dtype, bound] of [['f16', 5e-3], ['q8', 0.1]]) {
    for (const fx of ['deberta_own', 'deberta_own_sep']) {
      const c = fixtureCase(fx, 'pairs4');
      const r = await Reranker.load(path.join(FIXTURES, fx), { engine, dtype });
      try {
        const opts = { attentionMask: rows(c.attention_mask), tokenTypeIds: rows(c.token_type_ids) };
        const s = (await r.scoreIds(rows(c.input_ids), opts)).flatMap((v) => [...v]);
        assert.ok(maxDiff(s, c.logits.data) <= bound, `${fx} ${dtype}: max |diff| ${maxDiff(s, c.logits.data)} > ${bound}`);
      } finally {
        r.dispose();
      }
    }
  }
});

test('deberta configs the engine does not run are refused with a code, not run wrong', async () => {
  const dir = path.join(FIXTURES, 'deberta_own');
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const weights = fs.readFileSync(path.join(dir, 'model.safetensors'));
  const load = (edit) => Reranker.load({ files: { 'config.json': new TextEncoder().encode(JSON.stringify({ ...cfg, ...edit })), 'model.safetensors': weights } }, { engine });
  for (const [edit, code, re] of [
    [{ conv_kernel_size: 3 }, 'unsupported', /ConvLayer/],
    [{ embedding_size: 16 }, 'unsupported', /embedding_size/],
    [{ pos_att_type: ['c2p', 'p2p'] }, 'unsupported', /pos_att_type/],
    [{ pos_att_type: 'c2p|p2p' }, 'unsupported', /pos_att_type/],
    [{ position_buckets: 200 }, 'bad_format', /position_buckets/],
    [{ norm_rel_ebd: 5 }, 'bad_format', /norm_rel_ebd/],
    [{ pooler_hidden_act: 'relu6' }, 'unsupported', /pooler_hidden_act/],
  ]) {
    await assert.rejects(load(edit), (e) => e instanceof WembedError && e.code === code && re.test(e.message), JSON.stringify(edit));
  }
  // share_att_key false needs pos_key_proj / pos_query_proj, which these weights do not have
  await assert.rejects(load({ share_att_key: false }), (e) => e instanceof WembedError && e.code === 'missing_tensor');
});
