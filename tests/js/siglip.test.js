// siglip.test.js - SigLIP through the JS API on the copied reference fixtures (tests/data/fixtures/siglip,
// siglip_own): embedImage on raw pixels, embedIds on padded and unpadded ids, classify's sigmoid
// scores (exp(logit_scale) * cos + logit_bias, each on its own: not a softmax), and a vision-only
// model that loads by hub id without any text file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { Embedder, createEngine } from '../../js/index.js';
import { ROOT, FIXTURES, cosine, fixtureCase, rows, startHub, tmpDir } from './helpers.js';

const DIR = path.join(FIXTURES, 'siglip');
let engine;
let siglip;

before(async () => {
  engine = await createEngine({ variant: 'st' });
  siglip = await Embedder.load(DIR, { engine });
});
after(() => {
  siglip.dispose();
  engine.dispose();
});

function maxAbs(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function assertClose(got, want, what, tol = 1e-4) {
  assert.equal(got.length, want.length, `${what}: length`);
  assert.ok(maxAbs(got, want) <= tol, `${what}: max |diff| ${maxAbs(got, want)}`);
  assert.ok(cosine(got, want) >= 0.99999, `${what}: cosine ${cosine(got, want)}`);
}

const image = (c) => {
  const [H, W] = c.image_uint8.shape;
  return { data: c.image_uint8.data, width: W, height: H, channels: 3 };
};

test('info: a two-tower siglip model with a logit bias and sigmoid scores', () => {
  const i = siglip.info();
  assert.equal(i.architecture, 'siglip');
  assert.ok(i.hasText && i.hasVision);
  assert.equal(i.maxTokens, 64);
  assert.equal(i.pooling, 'last');
  assert.equal(i.logitSigmoid, true);
  assert.ok(Math.abs(i.logitScale - 60) < 1e-4, `logitScale ${i.logitScale}`);
  assert.ok(Math.abs(i.logitBias + 7.5) < 1e-6, `logitBias ${i.logitBias}`);
});

test('embedImage matches the reference (raw pixels, resized without a crop)', async () => {
  for (const name of ['image_48x48', 'image_37x29']) {
    const c = fixtureCase('siglip', name);
    const [v] = await siglip.embedImage(image(c));
    assertClose(v, c.image_embeds_normalized.data, name);
    const [raw] = await siglip.embedImage(image(c), { normalize: false });
    assertClose(raw, c.image_embeds.data, `${name} unnormalized`);
    const px = await siglip.preprocessImage(image(c));
    assert.ok(maxAbs(px, c.pixel_values.data) <= 1e-6, `${name} pixel_values`);
  }
});

test('embedIds: ids padded by the caller, and ids the engine pads (no mask reaches the model)', async () => {
  const c = fixtureCase('siglip', 'text_batch4');
  const vs = await siglip.embedIds(rows(c.input_ids));
  const D = c.text_embeds_normalized.shape[1];
  vs.forEach((v, b) => assertClose(v, c.text_embeds_normalized.data.subarray(b * D, (b + 1) * D), `text_batch4 row ${b}`));
  // The same texts without their padding: the engine pads them to 64 with </s> (1) itself.
  const unpadded = rows(c.input_ids).map((r) => {
    let n = r.length;
    while (n > 1 && r[n - 1] === 1 && r[n - 2] === 1) n--;
    return r.slice(0, n);
  });
  assert.ok(unpadded[0].length < 64);
  const us = await siglip.embedIds(unpadded);
  us.forEach((v, b) => assertClose(v, vs[b], `unpadded row ${b}`, 1e-6));
  // siglip_own: the caller's own mask and filler; the model pads with its pad_token_id (3).
  const own = await Embedder.load(path.join(FIXTURES, 'siglip_own'), { engine });
  try {
    const o = fixtureCase('siglip_own', 'text_masked');
    const ov = await own.embedIds(rows(o.input_ids), { attentionMask: rows(o.attention_mask) });
    const P = o.text_embeds_normalized.shape[1];
    ov.forEach((v, b) => assertClose(v, o.text_embeds_normalized.data.subarray(b * P, (b + 1) * P), `siglip_own row ${b}`));
  } finally {
    own.dispose();
  }
});

test('f16 and q8 weights stay close to the f32 reference (both towers and the MAP head)', async () => {
  const img = fixtureCase('siglip', 'image_37x29');
  const txt = fixtureCase('siglip', 'text_batch4');
  for (const [dtype, min] of [['f16', 0.99999], ['q8', 0.999]]) {
    const m = await Embedder.load(DIR, { engine, dtype });
    try {
      const [v] = await m.embedImage([image(img)]);
      assert.ok(cosine(v, img.image_embeds_normalized.data) >= min, `${dtype} image: cosine ${cosine(v, img.image_embeds_normalized.data)}`);
      const ts = await m.embedIds(rows(txt.input_ids));
      ts.forEach((t, b) => {
        const ref = txt.text_embeds_normalized.data.subarray(b * 64, (b + 1) * 64);
        assert.ok(cosine(t, ref) >= min, `${dtype} text ${b}: cosine ${cosine(t, ref)}`);
      });
    } finally {
      m.dispose();
    }
  }
});

// A WordLevel tokenizer.json whose words "t<id>" are the ids, with </s> (1) appended, as
// SigLIP's tokenizer appends it: classify then sees exactly the fixture's token ids.
function idTokenizer() {
  const vocab = { '</s>': 1 };
  for (let i = 0; i < 500; i++) if (i !== 1) vocab[`t${i}`] = i;
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [{ id: 1, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: 't2' },
  };
}

test('classify: independent sigmoid probabilities of the reference logits (not a softmax)', async () => {
  const files = {};
  for (const f of ['config.json', 'model.safetensors', 'preprocessor_config.json']) files[f] = fs.readFileSync(path.join(DIR, f));
  files['tokenizer.json'] = new TextEncoder().encode(JSON.stringify(idTokenizer()));
  const m = await Embedder.load({ files }, { engine });
  try {
    const t = fixtureCase('siglip', 'text_batch4');
    // Each text's body, without the </s> and the padding the engine adds back.
    const labels = rows(t.input_ids).map((r) => {
      const n = r.indexOf(1);
      return r.slice(0, n).map((id) => `t${id}`).join(' ');
    });
    const [tv] = await m.embed([labels[1]]);
    assertClose(tv, t.text_embeds_normalized.data.subarray(64, 128), 'embed (tokenizer, then padded to 64)');
    for (const name of ['image_48x48', 'image_37x29']) {
      const c = fixtureCase('siglip', name);
      const scores = await m.classify(image(c), labels, { template: '{}' });
      const byLabel = new Map(scores.map((s) => [s.label, s.score]));
      labels.forEach((l, k) => {
        const want = 1 / (1 + Math.exp(-c.logits_per_image.data[k]));
        assert.ok(Math.abs(byLabel.get(l) - want) <= 1e-5, `${name} label ${k}: ${byLabel.get(l)} vs ${want}`);
      });
      assert.ok(Math.abs(scores.reduce((s, x) => s + x.score, 0) - 1) > 1e-3, 'not normalized over the labels');
    }
  } finally {
    m.dispose();
  }
});

// The vision tower of a safetensors file alone (vision_model.* tensors).
function visionOnly(bytes) {
  const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  const out = {};
  const blobs = [];
  let off = 0;
  for (const [k, v] of Object.entries(header)) {
    if (!k.startsWith('vision_model.')) continue;
    const b = bytes.subarray(8 + n + v.data_offsets[0], 8 + n + v.data_offsets[1]);
    out[k] = { ...v, data_offsets: [off, off + b.length] };
    off += b.length;
    blobs.push(b);
  }
  let h = Buffer.from(JSON.stringify(out));
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, ...blobs]);
}

test('a siglip_vision_model loads by hub id without text files and embeds images', async () => {
  const dir = tmpDir();
  const cfg = JSON.parse(fs.readFileSync(path.join(DIR, 'config.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg.vision_config, model_type: 'siglip_vision_model' }));
  fs.copyFileSync(path.join(DIR, 'preprocessor_config.json'), path.join(dir, 'preprocessor_config.json'));
  fs.writeFileSync(path.join(dir, 'model.safetensors'), visionOnly(fs.readFileSync(path.join(DIR, 'model.safetensors'))));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(idTokenizer()));   // present, never fetched
  const hub = await startHub({ 'test/siglip-vision': dir });
  try {
    const m = await Embedder.load('test/siglip-vision', { engine, hubBase: hub.url, cache: false });
    try {
      const i = m.info();
      assert.ok(i.hasVision && !i.hasText);
      const c = fixtureCase('siglip', 'image_37x29');
      const [v] = await m.embedImage(image(c));
      assertClose(v, c.image_embeds_normalized.data, 'vision-only');
      const fetched = hub.log.filter((e) => e.status === 200 || e.status === 206).map((e) => e.file);
      assert.ok(!fetched.includes('tokenizer.json'), `fetched ${fetched}`);
      assert.deepEqual([...new Set(fetched)].sort(), ['config.json', 'model.safetensors', 'preprocessor_config.json']);
    } finally {
      m.dispose();
    }
  } finally {
    await hub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The CLI with stdin lines; resolves {code, stderr, lines}. */
function cli(args, stdin) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'js/cli.js'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    p.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr, lines: stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) }));
    p.stdin.end(stdin);
  });
}

test('CLI: embed-image (rgb) and embed (input_ids, unpadded) as for CLIP', async () => {
  const c = fixtureCase('siglip', 'image_37x29');
  const [H, W] = c.image_uint8.shape;
  const rgb = { rgb: Buffer.from(c.image_uint8.data).toString('base64'), width: W, height: H };
  const r = await cli(['embed-image', '--model', DIR, '--threads', '1'], JSON.stringify(rgb) + '\n');
  assert.equal(r.code, 0, r.stderr);
  assertClose(r.lines[0].embedding, c.image_embeds_normalized.data, 'embed-image');
  const h = await cli(['embed-image', '--model', DIR, '--threads', '1', '--pooling', 'none', '--no-normalize'], JSON.stringify(rgb) + '\n');
  assert.equal(h.code, 0, h.stderr);
  assert.equal(h.lines[0].hidden.length, 36, '36 patch tokens, no class token');
  assertClose(h.lines[0].hidden.flat(), c.last_hidden_state.data, 'embed-image --pooling none');
  const t = fixtureCase('siglip', 'text_single9');
  const ids = rows(t.input_ids)[0];
  const e = await cli(['embed', '--model', DIR, '--threads', '1'], JSON.stringify({ input_ids: ids.slice(0, ids.indexOf(1) + 1) }) + '\n');
  assert.equal(e.code, 0, e.stderr);
  assertClose(e.lines[0].embedding, t.text_embeds_normalized.data, 'embed input_ids (padded by the engine)');
});
