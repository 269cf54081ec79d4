// long.test.js - long inputs: truncate 'extend' (the model's extension method, against the
// float64 fixtures of gen/long_fixture.py), what info() says about it, the RoPE options refused
// on families without RoPE, the CLI's --truncate extend, and a smoke run of the long-document
// harness (bench/longdoc.mjs) on a tiny random model with tiny lengths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Embedder, createEngine } from '../../js/index.js';
import { FIXTURES, DATA, ROOT, fixtureCase, rows, cosine } from './helpers.js';
import { runTasks, runOne, makeTask, METHODS, formatTables, rng } from '../../bench/longdoc.mjs';

const COS = 0.99999;
let engine;

before(async () => { engine = await createEngine({ variant: 'st' }); });
after(() => engine.dispose());

const load = (dir, opts = {}) => Embedder.load(path.isAbsolute(dir) ? dir : path.join(FIXTURES, dir), { engine, ...opts });
const slice = (t, i) => { const d = t.shape[t.shape.length - 1]; return t.data.subarray(i * d, (i + 1) * d); };

function assertClose(v, ref, i = 0) {
  const c = cosine(v, slice(ref, i));
  assert.ok(c >= COS, `cosine ${c} < ${COS}`);
}

test("truncate 'extend' on nomic: SelfExtend W = trained / 2 with the least G per text; a text within the trained length is the plain model", async () => {
  const e = await load('nomic_long');
  try {
    const i = e.info();
    assert.equal(i.trainedTokens, 64, 'max_trained_positions');
    assert.equal(i.extension, 'self-extend');
    const long = fixtureCase('nomic_long', 'extend_len200');
    const short = fixtureCase('nomic_long', 'extend_len60');
    const [a, b] = [rows(long.input_ids)[0], rows(short.input_ids)[0]];
    // Both in one call: each text has its own group (200 tokens: G 6; 60: none), whatever its batch.
    const v = await e.embedIds([a, b], { truncate: 'extend' });
    assertClose(v[0], long.mean_pooled_normalized);
    assertClose(v[1], short.mean_pooled_normalized);
    const [alone] = await e.embedIds([a], { truncate: 'extend' });
    assert.deepEqual(alone, v[0], 'batch-invariant');
    // The same as naming SelfExtend G 6, W 32 for that text; the plain model differs.
    assert.deepEqual((await e.embedIds([a], { selfExtend: { group: 6, window: 32 } }))[0], alone);
    const [plain] = await e.embedIds([a]);
    assert.ok(cosine(plain, alone) < COS, 'the plain model differs');
    // A call that names its own method keeps it: 'extend' then only keeps the text whole.
    const se = fixtureCase('nomic_long', 'se_g4w16_len200');
    const [named] = await e.embedIds(rows(se.input_ids), { truncate: 'extend', selfExtend: { group: 4, window: 16 } });
    assertClose(named, se.mean_pooled_normalized);
  } finally {
    e.dispose();
  }
});

test("truncate 'extend' on GTE, ModernBERT and Qwen3 matches the fixtures; info() names the method", async () => {
  for (const [dir, out] of [['gte_long', 'cls_pooled_normalized'], ['modernbert_long', 'mean_pooled_normalized'], ['qwen3_long', 'last_pooled_normalized']]) {
    const e = await load(dir);
    try {
      assert.equal(e.info().trainedTokens, 64, dir);
      assert.equal(e.info().extension, 'self-extend', dir);
      const name = dir === 'gte_long' ? 'extend_len150' : 'extend_len120';
      const c = fixtureCase(dir, name);
      const pooling = out.split('_')[0];
      const [v] = await e.embedIds(rows(c.input_ids), { truncate: 'extend', pooling });
      assertClose(v, c[out]);
      // Without 'extend', the model's limit (64) cuts the text.
      const [cut] = await e.embedIds(rows(c.input_ids), { pooling });
      assert.ok(cosine(cut, v) < COS, `${dir}: truncated differs`);
    } finally {
      e.dispose();
    }
  }
});

test("truncate 'extend' on a nomic config with rotary_scaling_factor is the model's own dynamic NTK", async () => {
  const e = await load('nomic_bert_ntk');
  try {
    assert.equal(e.info().extension, 'native');
    assert.equal(e.info().trainedTokens, 128);
    const first = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'nomic_bert_ntk/manifest.json'), 'utf8')).cases[0].name;
    const c = fixtureCase('nomic_bert_ntk', first);
    const ids = rows(c.input_ids);
    assert.deepEqual(await e.embedIds(ids, { truncate: 'extend' }), await e.embedIds(ids, { maxTokens: ids[0].length }));
  } finally {
    e.dispose();
  }
});

test("truncate 'extend' without RoPE: ALiBi runs whole, BERT chunks; RoPE options are refused on BERT", async () => {
  const j = await load('jina_tempscale');
  try {
    assert.equal(j.info().extension, 'native');
    const c = fixtureCase('jina_tempscale', 'tau13_len60');
    const ids = rows(c.input_ids);
    assert.deepEqual(await j.embedIds(ids, { truncate: 'extend' }), await j.embedIds(ids, { maxTokens: 60 }));
  } finally {
    j.dispose();
  }
  const b = await load('bert_tempscale');
  try {
    assert.equal(b.info().extension, 'chunk');
    assert.equal(b.info().trainedTokens, 64);
    const r = rng(7);
    const ids = [[101, ...Array.from({ length: 150 }, () => 5 + Math.floor(r() * 140)), 102]];
    assert.deepEqual(await b.embedIds(ids, { truncate: 'extend' }), await b.embedIds(ids, { truncate: 'chunk' }));
    await assert.rejects(b.embedIds(ids, { truncate: 'extend', pooling: 'none' }), { code: 'invalid_argument' });
    await assert.rejects(b.embedIds(ids, { ropeScaling: 'ntk', ropeFactor: 2 }), (err) => err.code === 'invalid_argument' && /no rotary/.test(err.message));
    await assert.rejects(b.embedIds(ids, { selfExtend: { group: 2, window: 8 } }), /regroups rotary positions; this family has none/);
  } finally {
    b.dispose();
  }
});

function cli(args, stdin = '') {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'js/cli.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let s = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d) => { s += d; });
    p.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, s, err }));
    p.stdin.end(stdin);
  });
}

test('the CLI takes --truncate extend; info reports the trained length and the method', async () => {
  const c = fixtureCase('nomic_long', 'extend_len200');
  const model = path.join(FIXTURES, 'nomic_long');
  const out = await cli(['embed', '--model', model, '--threads', '1', '--truncate', 'extend'], JSON.stringify({ input_ids: rows(c.input_ids)[0] }) + '\n');
  assert.equal(out.code, 0, out.err);
  assertClose(new Float32Array(JSON.parse(out.s).embedding), c.mean_pooled_normalized);
  const info = await cli(['info', '--model', model, '--threads', '1']);
  assert.equal(info.code, 0, info.err);
  const i = JSON.parse(info.s);
  assert.equal(i.trainedTokens, 64);
  assert.equal(i.extension, 'self-extend');
});

// A tiny nomic_bert (16 wide, 1 layer, trained to 32 positions) with random weights and the e2e
// fixture's WordPiece tokenizer: enough for every path of the harness to run.
function tinyNomic() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wembed-longdoc-'));
  const E = 16, F = 256, V = 30528;
  const cfg = { model_type: 'nomic_bert', activation_function: 'swiglu', n_embd: E, n_head: 2, n_inner: 32, n_layer: 1, n_positions: 8192,
    vocab_size: 30522, pad_vocab_size_multiple: 64, type_vocab_size: 2, layer_norm_epsilon: 1e-12, max_trained_positions: 32,
    rotary_emb_base: 1000, rotary_emb_fraction: 1.0, rotary_emb_interleaved: false, rotary_scaling_factor: null,
    qkv_proj_bias: false, mlp_fc1_bias: false, mlp_fc2_bias: false, prenorm: false, causal: false };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
  fs.copyFileSync(path.join(DATA, 'e2e/tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const r = rng(11);
  const shapes = { 'embeddings.word_embeddings.weight': [V, E], 'embeddings.token_type_embeddings.weight': [2, E], 'emb_ln.weight': [E],
    'emb_ln.bias': [E], 'encoder.layers.0.attn.Wqkv.weight': [3 * E, E], 'encoder.layers.0.attn.out_proj.weight': [E, E],
    'encoder.layers.0.mlp.fc11.weight': [F, E], 'encoder.layers.0.mlp.fc12.weight': [F, E], 'encoder.layers.0.mlp.fc2.weight': [E, F],
    'encoder.layers.0.norm1.weight': [E], 'encoder.layers.0.norm1.bias': [E], 'encoder.layers.0.norm2.weight': [E], 'encoder.layers.0.norm2.bias': [E] };
  const header = {};
  const blobs = [];
  let off = 0;
  for (const [k, s] of Object.entries(shapes)) {
    const n = s.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n).map(() => (k.endsWith('norm1.weight') || k.endsWith('norm2.weight') || k === 'emb_ln.weight' ? 1 : 0) + (r() - 0.5) * 0.3);
    header[k] = { dtype: 'F32', shape: s, data_offsets: [off, off + 4 * n] };
    blobs.push(Buffer.from(a.buffer));
    off += 4 * n;
  }
  let h = Buffer.from(JSON.stringify(header));
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  fs.writeFileSync(path.join(dir, 'model.safetensors'), Buffer.concat([len, h, ...blobs]));
  return dir;
}

test('bench/longdoc.mjs: the passkey and needle tasks run every method on a tiny model (plumbing only)', async () => {
  const dir = tinyNomic();
  const e = await load(dir);
  try {
    const count = async (s) => (await e.tokenize(s)).ids.length;
    // Documents fill up to the length, the answer inside: LongEmbed's passkey sentence and query.
    const t = await makeTask('passkey', count, 96, 4, 2, 1);
    assert.equal(t.docs.length, 4);
    assert.deepEqual(t.target, [0, 2]);
    for (const d of t.docs) {
      const n = await count(d);
      assert.ok(n <= 96 && n > 96 - 40, `passkey document of ${n} tokens for 96`);
      assert.match(d, /^There is an important info hidden inside a lot of irrelevant text\./);
      assert.match(d, /'s pass key is (\d{5})\. Remember it\. \1 is the pass key for /);
    }
    assert.match(t.queries[0], /^what is the pass key for .+\?$/);
    // (a passkey document cannot be shorter than its preamble and sentence: about 60 tokens)
    const result = await runTasks(e, { lengths: [80, 160], docs: 4, queries: 2 });
    for (const task of ['passkey', 'needle']) {
      for (const L of [80, 160]) {
        const r = result[task][L];
        assert.ok(r.tokens <= L, `${task} ${L}: ${r.tokens} tokens`);
        for (const m of METHODS) assert.ok(typeof r[m] === 'number' && r[m] >= 0 && r[m] <= 1, `${task} ${L} ${m}: ${r[m]} ${r[`${m}Error`] ?? ''}`);
      }
    }
    assert.match(formatTables(result, METHODS, e.info()), /passkey: nomic_bert, trained 32 tokens, extend = self-extend/);
    const one = await runOne(e, 300, { truncate: 'extend' });
    assert.ok(one.ok && one.enginePeakBytes > 0 && one.tokens === 300, JSON.stringify(one));
  } finally {
    e.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
