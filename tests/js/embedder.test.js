// embedder.test.js - the Embedder API against the PyTorch reference fixtures (tests/data/fixtures,
// tests/data/e2e) and the tokenizer goldens: vectors by cosine >= 0.99999 in f32, hidden states
// by max abs difference, ids/tokens/offsets exactly; options, quantized outputs, task prefixes,
// errors, and that nothing leaks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { Embedder, createEngine, similarity, WembedError } from '../../js/index.js';
import { FIXTURES, DATA, fixtureCase, rows, cosine } from './helpers.js';

const COS = 0.99999;
let engine;

before(async () => { engine = await createEngine({ variant: 'st' }); });
after(() => engine.dispose());

const load = (dir, opts = {}) => Embedder.load(path.join(FIXTURES, dir), { engine, ...opts });
const slice = (t, i) => { const d = t.shape[t.shape.length - 1]; return t.data.subarray(i * d, (i + 1) * d); };

function assertClose(vs, ref, min = COS) {
  assert.equal(vs.length, ref.shape[0]);
  vs.forEach((v, i) => {
    assert.equal(v.length, ref.shape[1], `dims of vector ${i}`);
    const c = cosine(v, slice(ref, i));
    assert.ok(c >= min, `vector ${i}: cosine ${c} < ${min}`);
  });
}

test('bert: embedIds matches the reference (mean, cls, raw, per-token)', async () => {
  const e = await load('bert');
  try {
    const c = fixtureCase('bert', 'batch3');
    const args = { attentionMask: rows(c.attention_mask), tokenTypeIds: rows(c.token_type_ids) };
    const ids = rows(c.input_ids);
    const v = await e.embedIds(ids, args);
    assert.ok(v[0] instanceof Float32Array);
    assertClose(v, c.mean_pooled_normalized);
    for (const x of v) assert.ok(Math.abs(Math.hypot(...x) - 1) < 1e-5, 'normalized by modules.json');
    assertClose(await e.embedIds(ids, { ...args, pooling: 'cls' }), c.cls_pooled_normalized);
    const raw = await e.embedIds(ids, { ...args, normalize: false });
    raw.forEach((x, i) => x.forEach((y, k) => assert.ok(Math.abs(y - slice(c.mean_pooled, i)[k]) < 1e-4)));
    // Per-token: one row per unmasked token, equal to last_hidden_state there.
    const h = await e.embedIds(ids, { ...args, pooling: 'none' });
    const [B, T, D] = c.last_hidden_state.shape;
    const mask = c.attention_mask.data;
    for (let b = 0; b < B; b++) {
      const n = mask.subarray(b * T, (b + 1) * T).reduce((a, x) => a + x, 0);
      assert.equal(h[b].length, n);
      for (let t = 0; t < n; t++) {
        const ref = c.last_hidden_state.data.subarray((b * T + t) * D, (b * T + t + 1) * D);
        let md = 0;
        for (let k = 0; k < D; k++) md = Math.max(md, Math.abs(h[b][t][k] - ref[k]));
        assert.ok(md <= 1e-4, `row ${b} token ${t}: max diff ${md}`);
      }
    }
    // Ragged rows without a mask are padded and masked by embedIds itself.
    const single = fixtureCase('bert', 'single');
    const [s] = await e.embedIds([Array.from(single.input_ids.data)]);
    assert.ok(cosine(s, single.mean_pooled_normalized.data) >= COS);
    const ragged = await e.embedIds([Array.from(single.input_ids.data), ids[0].slice(0, 12)], {});
    assert.ok(cosine(ragged[0], single.mean_pooled_normalized.data) >= COS);
  } finally {
    e.dispose();
  }
});

test('bert_cls: the pooling of 1_Pooling/config.json is the default', async () => {
  const e = await load('bert_cls');
  try {
    const c = fixtureCase('bert_cls', 'batch3');
    assertClose(await e.embedIds(rows(c.input_ids), { attentionMask: rows(c.attention_mask), tokenTypeIds: rows(c.token_type_ids) }), c.cls_pooled_normalized);
    assert.equal(e.info().pooling, 'cls');
  } finally {
    e.dispose();
  }
});

test('nomic_bert: mean pooling, Matryoshka dims, long inputs', async () => {
  const e = await load('nomic_bert');
  try {
    for (const name of ['batch3', 'long300']) {
      const c = fixtureCase('nomic_bert', name);
      const a = { attentionMask: rows(c.attention_mask) };
      assertClose(await e.embedIds(rows(c.input_ids), a), c.mean_pooled_normalized);
      assertClose(await e.embedIds(rows(c.input_ids), { ...a, dims: 32 }), c.matryoshka_32);
      assertClose(await e.embedIds(rows(c.input_ids), { ...a, dims: 16 }), c.matryoshka_16);
    }
  } finally {
    e.dispose();
  }
});

test('nomic_bert_ntk: dynamic NTK, own length by default and padded on request', async () => {
  const e = await load('nomic_bert_ntk');
  try {
    const c = fixtureCase('nomic_bert_ntk', 'batch_long');
    const ids = rows(c.input_ids);
    const a = { attentionMask: rows(c.attention_mask) };
    // The reference uses the padded length of the batch: only 'padded' reproduces its row 1.
    assertClose(await e.embedIds(ids, { ...a, ntkLength: 'padded' }), c.mean_pooled_normalized);
    const own = await e.embedIds(ids, a);
    assert.ok(cosine(own[0], slice(c.mean_pooled_normalized, 0)) >= COS, 'the longest row is the same either way');
    assert.ok(cosine(own[1], slice(c.mean_pooled_normalized, 1)) < COS, 'own length differs for the shorter row');
  } finally {
    e.dispose();
  }
});

test('nomic: TempScale and SelfExtend options match their reference fixtures; bad values are refused', async () => {
  const t = await load('nomic_tempscale');
  try {
    const c = fixtureCase('nomic_tempscale', 'tau08_len30');
    const a = { attentionMask: rows(c.attention_mask) };
    assertClose(await t.embedIds(rows(c.input_ids), { ...a, attentionTemperature: 0.8 }), c.mean_pooled_normalized);
    const plain = await t.embedIds(rows(c.input_ids), a);
    assert.ok(cosine(plain[0], slice(c.mean_pooled_normalized, 0)) < COS, 'the plain model differs');
    await assert.rejects(t.embedIds(rows(c.input_ids), { attentionTemperature: 0 }), { code: 'invalid_argument' });
    await assert.rejects(t.embedIds(rows(c.input_ids), { selfExtend: { group: 4 } }), { code: 'invalid_argument' });
  } finally {
    t.dispose();
  }
  const s = await load('nomic_selfextend');
  try {
    const c = fixtureCase('nomic_selfextend', 'g4w16_len200');
    const a = { attentionMask: rows(c.attention_mask) };
    assertClose(await s.embedIds(rows(c.input_ids), { ...a, selfExtend: { group: 4, window: 16 } }), c.mean_pooled_normalized);
    assertClose(await s.embedIds(rows(c.input_ids), { ...a, selfExtend: { group: 4, window: 16 }, dims: 16 }), c.matryoshka_16);
  } finally {
    s.dispose();
  }
});

function clipTokenizer() {
  const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const words = ['a', 'photo', 'of', 'cat', 'dog', 'car', 'an', 'image'];
  const vocab = { '<unk>': 0 };
  words.forEach((w, i) => { vocab[w] = 5 + i; });
  vocab['<|startoftext|>'] = 510;
  vocab['<|endoftext|>'] = 511;
  const st = (id) => ({ SpecialToken: { id, type_id: 0 } });
  return JSON.stringify({
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(510, '<|startoftext|>'), special(511, '<|endoftext|>')],
    normalizer: { type: 'Lowercase' }, pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [st('<|startoftext|>'), { Sequence: { id: 'A', type_id: 0 } }, st('<|endoftext|>')],
      pair: [st('<|startoftext|>'), { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, st('<|endoftext|>')],
      special_tokens: {
        '<|startoftext|>': { id: '<|startoftext|>', ids: [510], tokens: ['<|startoftext|>'] },
        '<|endoftext|>': { id: '<|endoftext|>', ids: [511], tokens: ['<|endoftext|>'] },
      },
    },
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
  });
}

test('clip: text and image towers, pixels, preprocessing, logits and classify', async () => {
  const dir = path.join(FIXTURES, 'clip');
  const files = {};
  for (const f of ['config.json', 'model.safetensors', 'preprocessor_config.json']) files[f] = fs.readFileSync(path.join(dir, f));
  files['tokenizer.json'] = clipTokenizer();
  const e = await Embedder.load({ files }, { engine });
  try {
    const info = e.info();
    assert.equal(info.architecture, 'clip');
    assert.equal(info.hasVision, true);
    assert.equal(info.dims, 32);
    const t = fixtureCase('clip', 'text3');
    const tv = await e.embedIds(rows(t.input_ids), { attentionMask: rows(t.attention_mask) });
    assertClose(tv, t.text_embeds_normalized);
    for (const name of ['image_raw0', 'image_raw1']) {
      const c = fixtureCase('clip', name);
      const [H, W] = c.image_uint8.shape;
      const img = { data: c.image_uint8.data, width: W, height: H, channels: 3 };
      const [v] = await e.embedImage(img);
      assert.ok(cosine(v, c.image_embeds_normalized.data) >= COS, name);
      // RGBA with a row stride: the same vector.
      const stride = W * 4 + 8;
      const rgba = new Uint8Array(stride * H);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let k = 0; k < 3; k++) rgba[y * stride + x * 4 + k] = c.image_uint8.data[(y * W + x) * 3 + k];
      const [v2] = await e.embedImage([{ data: rgba, width: W, height: H, channels: 4, stride }]);
      assert.ok(cosine(v2, c.image_embeds_normalized.data) >= COS);
      const px = await e.preprocessImage(img);
      let md = 0;
      px.forEach((x, i) => { md = Math.max(md, Math.abs(x - c.pixel_values.data[i])); });
      assert.ok(md <= 1e-5, `${name} preprocessing max diff ${md}`);
      // The reference's logits: exp(logit_scale) * cosine(text, image).
      const logits = tv.map((x) => info.logitScale * similarity(x, v));
      logits.forEach((l, i) => assert.ok(Math.abs(l - c.logits_per_text.data[i]) < 1e-3, `logit ${i}: ${l} vs ${c.logits_per_text.data[i]}`));
    }
    const r = fixtureCase('clip', 'images_random');
    assertClose(await e.embedPixels(r.pixel_values.data), r.image_embeds_normalized);
    const hid = await e.embedPixels(r.pixel_values.data, { pooling: 'none' });
    assert.equal(hid.length, 2);
    assert.equal(hid[0].length, 17);   // class token + 4x4 patches
    assert.equal(hid[0][0].length, 96);

    // classify: the same numbers as embedding the templated labels by hand.
    const c0 = fixtureCase('clip', 'image_raw0');
    const img0 = { data: c0.image_uint8.data, width: c0.image_uint8.shape[1], height: c0.image_uint8.shape[0], channels: 3 };
    const labels = ['cat', 'dog', 'car'];
    const res = await e.classify(img0, labels, { template: 'a photo of a {}' });
    assert.deepEqual(res.map((x) => x.label).sort(), [...labels].sort());
    assert.ok(Math.abs(res.reduce((a, x) => a + x.score, 0) - 1) < 1e-9);
    const enc = await e.tokenize('a photo of a dog');
    assert.deepEqual(enc.ids, [510, 5, 6, 7, 5, 9, 511]);
    const byHand = await e.embedIds(labels.map((l) => [510, 5, 6, 7, 5, { cat: 8, dog: 9, car: 10 }[l], 511]));
    const [iv] = await e.embedImage(img0);
    const lg = byHand.map((x) => info.logitScale * similarity(x, iv));
    const mx = Math.max(...lg);
    const ex = lg.map((x) => Math.exp(x - mx));
    const z = ex.reduce((a, b) => a + b, 0);
    for (const { label, score } of res) assert.ok(Math.abs(score - ex[labels.indexOf(label)] / z) < 1e-6);
    for (let i = 1; i < res.length; i++) assert.ok(res[i - 1].score >= res[i].score, 'sorted');
  } finally {
    e.dispose();
  }
});

test('e2e: embed() with the real tokenizer matches the float64 reference', async () => {
  const dir = path.join(DATA, 'e2e');
  const texts = JSON.parse(fs.readFileSync(path.join(dir, 'texts.json'), 'utf8'));
  const exp = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')).cases;
  const e = await Embedder.load(dir, { engine });
  try {
    const vs = await e.embed(texts);
    assert.equal(vs.length, texts.length);
    vs.forEach((v, i) => {
      const c = cosine(v, exp[i].mean_normalized);
      assert.ok(c >= COS, `text ${i}: cosine ${c}`);
    });
    const max = e.info().maxTokens;
    for (let i = 0; i < texts.length; i++) {
      const enc = await e.tokenize(texts[i], { maxLength: max });
      assert.deepEqual(enc.ids, exp[i].ids, `ids of text ${i}`);
    }
    // A string is one input; the batch does not change a vector.
    const [one] = await e.embed(texts[1]);
    assert.ok(cosine(one, vs[1]) > 0.9999999);
    assert.deepEqual(await e.embed([]), []);
  } finally {
    e.dispose();
  }
});

test('tokenize: ids, tokens and UTF-16 offsets as the Rust library gives them', async () => {
  const e = await Embedder.load(path.join(DATA, 'e2e'), { engine });
  try {
    const lines = fs.readFileSync(path.join(DATA, 'tokenizers/samples-bge-small-en-v1.5.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    let n = 0;
    for (const s of lines) {
      const enc = await e.tokenize(s.text, { addSpecialTokens: false });
      assert.deepEqual(enc.ids, s.ids, s.id);
      assert.deepEqual(enc.tokens, s.tokens, s.id);
      // The goldens count code points; JS strings index UTF-16 units.
      const u16 = [0];
      for (const ch of s.text) u16.push(u16[u16.length - 1] + ch.length);
      assert.deepEqual(enc.offsets, s.offsets.map(([a, b]) => [u16[a], u16[b]]), s.id);
      for (const [a, b] of enc.offsets) assert.ok(a <= b && b <= s.text.length);
      n++;
    }
    assert.ok(n >= 60);
    const withSpecial = await e.tokenize('Hello world!');
    assert.deepEqual(withSpecial.tokens, ['[CLS]', 'hello', 'world', '!', '[SEP]']);
    assert.deepEqual(withSpecial.offsets, [[0, 0], [0, 5], [6, 11], [11, 12], [0, 0]]);
    const short = await e.tokenize('one two three four five', { maxLength: 4 });
    assert.deepEqual(short.tokens, ['[CLS]', 'one', 'two', '[SEP]']);
    const emoji = await e.tokenize('a 😀 b', { addSpecialTokens: false });
    assert.deepEqual(emoji.offsets, [[0, 1], [2, 4], [5, 6]]);   // UTF-16: the emoji is 2 units
  } finally {
    e.dispose();
  }
});

test('quantized outputs and their similarity', async () => {
  const e = await Embedder.load(path.join(DATA, 'e2e'), { engine });
  try {
    const texts = ['the cat sat on the mat', 'a dog in the park', 'quantum chromodynamics'];
    const f = /** @type {Float32Array[]} */ (await e.embed(texts));
    const q = /** @type {Int8Array[]} */ (await e.embed(texts, { quantize: 'int8' }));
    const b = /** @type {Uint8Array[]} */ (await e.embed(texts, { quantize: 'binary' }));
    for (let i = 0; i < texts.length; i++) {
      assert.ok(q[i] instanceof Int8Array);
      assert.equal(q[i].length, 32);
      const mx = Math.max(...f[i].map(Math.abs));
      f[i].forEach((x, k) => assert.ok(Math.abs(q[i][k] - Math.round((x * 127) / mx)) <= 1, `int8 ${i}.${k}`));
      assert.ok(b[i] instanceof Uint8Array);
      assert.equal(b[i].length, 4);
      f[i].forEach((x, k) => assert.equal((b[i][k >> 3] >> (7 - (k & 7))) & 1, x > 0 ? 1 : 0));
    }
    for (const [i, j] of [[0, 1], [0, 2], [1, 2]]) {
      assert.ok(Math.abs(similarity(q[i], q[j]) - similarity(f[i], f[j])) < 0.02);
      // binary: 1 - 2 * hamming / bits, the cosine of the sign vectors
      const signs = (v) => Array.from(v, (x) => (x > 0 ? 1 : -1));
      assert.ok(Math.abs(similarity(b[i], b[j]) - cosine(signs(f[i]), signs(f[j]))) < 1e-12);
    }
    assert.equal(similarity(b[0], b[0]), 1);
    assert.throws(() => similarity(b[0], f[0]), (err) => err.code === 'invalid_argument');
  } finally {
    e.dispose();
  }
});

test('task prefixes come from the registry and only on request', async () => {
  const e = await Embedder.load(path.join(DATA, 'e2e'), { engine, model: 'BAAI/bge-small-en-v1.5' });
  try {
    const q = 'what is rope scaling?';
    const [plain] = await e.embed([q]);
    const [task] = await e.embed([q], { task: 'query' });
    const [byHand] = await e.embed(['Represent this sentence for searching relevant passages: ' + q]);
    const [doc] = await e.embed([q], { task: 'document' });
    assert.ok(cosine(task, byHand) > 0.9999999);
    assert.ok(cosine(plain, task) < 0.9999, 'the prefix changes the vector');
    assert.ok(cosine(doc, plain) > 0.9999999, "bge's document prefix is empty");
    const [pre] = await e.embed([q], { prefix: 'query: ' });
    const [byHand2] = await e.embed(['query: ' + q]);
    assert.ok(cosine(pre, byHand2) > 0.9999999);
    await assert.rejects(e.embed([q], { task: 'clustering' }), (err) => err.code === 'invalid_argument' && /'query', 'document'/.test(err.message));
    assert.deepEqual(e.info().tasks, ['query', 'document']);
  } finally {
    e.dispose();
  }
  const anon = await Embedder.load(path.join(DATA, 'e2e'), { engine });
  try {
    await assert.rejects(anon.embed(['x'], { task: 'query' }), (err) => err.code === 'invalid_argument' && /registry/.test(err.message));
  } finally {
    anon.dispose();
  }
});

test('truncation: error, truncate and chunk', async () => {
  const e = await Embedder.load(path.join(DATA, 'e2e'), { engine });
  try {
    const long = 'tokens '.repeat(40);
    await assert.rejects(e.embed([long], { maxTokens: 16, truncate: 'error' }), (err) => err.code === 'too_long' && /16/.test(err.message));
    const [t] = await e.embed([long], { maxTokens: 16 });
    const enc = await e.tokenize(long, { maxLength: 16 });
    const [ids] = await e.embedIds([enc.ids]);
    assert.ok(cosine(t, ids) > 0.99999);
    const [c] = await e.embed([long], { maxTokens: 16, truncate: 'chunk', chunkOverlap: 2 });
    assert.equal(c.length, 32);
    const per = await e.embed(['Hello world!', long], { pooling: 'none', maxTokens: 16 });
    assert.equal(per[0].length, 5);
    assert.equal(per[1].length, 16);
  } finally {
    e.dispose();
  }
});

test('dtypes f16, q8 and q4 stay close to the reference', async () => {
  const c = fixtureCase('bert', 'batch3');
  // q4 on this tiny random model: see tests/test-families.c on why its bound is loose
  for (const [dtype, min] of [['f16', 0.9999], ['q8', 0.995], ['q4', 0.97]]) {
    const e = await load('bert', { dtype });
    try {
      assert.equal(e.info().dtype, dtype);
      assertClose(await e.embedIds(rows(c.input_ids), { attentionMask: rows(c.attention_mask), tokenTypeIds: rows(c.token_type_ids) }), c.mean_pooled_normalized, min);
    } finally {
      e.dispose();
    }
  }
});

test('errors are WembedErrors with codes, and the engine stays usable', async () => {
  const before = engine.liveAllocations();
  await assert.rejects(Embedder.load(path.join(DATA, 'broken/unsupported-arch'), { engine }),
    (err) => err instanceof WembedError && err.code === 'unsupported' && /"gpt2".*supported: bert, roberta, xlm-roberta, nomic_bert, clip/.test(err.message));
  await assert.rejects(Embedder.load(path.join(DATA, 'broken/truncated'), { engine }), (err) => err.code === 'bad_format');
  await assert.rejects(Embedder.load(path.join(DATA, 'broken/no-config'), { engine }), (err) => err.code === 'not_found' && /config\.json/.test(err.message));
  await assert.rejects(Embedder.load('/no/such/folder', { engine }), (err) => err.code === 'not_found');
  await assert.rejects(Embedder.load(path.join(FIXTURES, 'bert'), { engine, dtype: /** @type {any} */ ('q2') }), (err) => err.code === 'invalid_argument' && /'f32', 'f16', 'q8', 'q4'/.test(err.message));
  assert.equal(engine.liveAllocations(), before, 'failed loads leak nothing');

  const e = await load('bert');
  try {
    const ids = [[101, 59, 102]];
    await assert.rejects(e.embedIds(ids, { dims: 1000 }), (err) => err.code === 'invalid_argument' && /dims 1000/.test(err.message));
    await assert.rejects(e.embedIds(ids, { pooling: /** @type {any} */ ('avg') }), (err) => err.code === 'invalid_argument' && /'mean'/.test(err.message));
    await assert.rejects(e.embedIds([[101, 99999, 102]]), (err) => err.code === 'invalid_argument');
    await assert.rejects(e.embed(['no tokenizer here']), (err) => err.code === 'missing_file' && /tokenizer/.test(err.message));
    await assert.rejects(e.embedImage({ data: new Uint8Array(12), width: 2, height: 2 }), (err) => err.code === 'unsupported');
    const [v] = await e.embedIds(ids);   // still fine
    assert.equal(v.length, 64);
  } finally {
    e.dispose();
  }
  await assert.rejects(e.embedIds([[1]]), (err) => err.code === 'disposed');
  assert.equal(engine.liveAllocations(), before, 'a disposed model leaks nothing');
});

test('the shared engine is created once and freed with its last model', async () => {
  const a = await Embedder.load(path.join(FIXTURES, 'bert'), { variant: 'st' });
  const b = await Embedder.load(path.join(FIXTURES, 'bert_cls'), { variant: 'st' });
  assert.equal(a.engine, b.engine);
  a.dispose();
  assert.equal(b.engine.liveAllocations() > 0, true);
  b.dispose();
  assert.throws(() => b.engine.pool, (err) => err.code === 'disposed');
});

test('{ files } and a GGUF file by name', async () => {
  const dir = path.join(FIXTURES, 'bert');
  const files = {};
  for (const f of ['config.json', 'model.safetensors', 'modules.json', '1_Pooling/config.json']) files[f] = new Uint8Array(fs.readFileSync(path.join(dir, f)));
  const e = await Embedder.load({ files }, { engine });
  const c = fixtureCase('bert', 'single');
  try {
    assert.ok(cosine((await e.embedIds([Array.from(c.input_ids.data)]))[0], c.mean_pooled_normalized.data) >= COS);
  } finally {
    e.dispose();
  }
  const g = await Embedder.load({ files: { 'bert-f32.gguf': fs.readFileSync(path.join(DATA, 'gguf/bert-f32.gguf')) } }, { engine, file: 'bert-f32.gguf' });
  try {
    assert.equal(g.info().format, 'gguf');
    assert.ok(cosine((await g.embedIds([Array.from(c.input_ids.data)]))[0], c.mean_pooled_normalized.data) >= COS);
  } finally {
    g.dispose();
  }
});
