// nomic-vision.test.js - nomic-embed-vision-v1.5 (the nomic_vision family) from JS: embedImage,
// embedPixels, preprocessImage and pooling none against the copied reference fixture and wembed's
// own, the CLI's embed-image, and the pair of towers (Embedder.load({ text, vision })) that shares
// nomic-embed-text-v1.5's space: the demo's bundled tiny pair against its float64 reference
// (web-demo/models/tiny-nomic/expected.json, made by gen/tiny_nomic_pair.py), in the page's
// thread and in a worker, and what a pair refuses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { Embedder, createEngine, WembedError } from '../../js/index.js';
import { ROOT, FIXTURES, cosine, fixtureCase } from './helpers.js';

const PAIR = path.join(ROOT, 'web-demo/models/tiny-nomic');
const pairExpected = JSON.parse(fs.readFileSync(path.join(PAIR, 'expected.json'), 'utf8'));
const SAMPLES = path.join(ROOT, 'web-demo/samples/images');

let engine;
before(async () => { engine = await createEngine({ variant: 'st' }); });
after(() => engine.dispose());

const maxAbs = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
const casesOf = (name) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'manifest.json'), 'utf8')).cases.map((c) => c.name);

for (const fixture of ['nomic_vision', 'nomic_vision_own']) {
  test(`${fixture}: image embeddings, pixels and hidden states match the float64 reference`, async () => {
    const e = await Embedder.load(path.join(FIXTURES, fixture), { engine });
    try {
      const i = e.info();
      assert.equal(i.architecture, 'nomic_vision');
      assert.equal(i.hasText, false);
      assert.equal(i.hasVision, true);
      assert.equal(e.warnings, '');
      for (const name of casesOf(fixture)) {
        const c = fixtureCase(fixture, name);
        const [H, W] = c.image_uint8.shape;
        const img = { data: c.image_uint8.data, width: W, height: H };
        const [v] = await e.embedImage(img);
        assert.ok(cosine(v, c.image_embeds_normalized.data) >= 0.99999, `${name}: cosine ${cosine(v, c.image_embeds_normalized.data)}`);
        assert.ok(maxAbs(v, c.image_embeds_normalized.data) <= 1e-4, name);
        const [raw] = await e.embedImage(img, { normalize: false });
        assert.ok(maxAbs(raw, c.image_embeds.data) <= 1e-4, `${name}: image_embeds ${maxAbs(raw, c.image_embeds.data)}`);
        const px = await e.preprocessImage(img);
        assert.ok(maxAbs(px, c.pixel_values.data) <= 1e-6, `${name}: pixel_values`);
        const [fromPx] = await e.embedPixels(px);
        assert.ok(cosine(fromPx, c.image_embeds_normalized.data) >= 0.99999, `${name}: embedPixels`);
        // pooling none: every row of last_hidden_state (trunk + the selector's vector), class token first
        const [rows] = /** @type {Float32Array[][]} */ (await e.embedImage(img, { pooling: 'none' }));
        const [, T, D] = c.last_hidden_state.shape;
        assert.equal(rows.length, T);
        for (let t = 0; t < T; t++) assert.ok(maxAbs(rows[t], c.last_hidden_state.data.subarray(t * D, (t + 1) * D)) <= 1e-4, `${name}: row ${t}`);
      }
      await assert.rejects(e.embed('a photo of a cat'), (err) => err instanceof WembedError);
    } finally {
      e.dispose();
    }
  });
}

test('CLI embed-image runs the vision model', async () => {
  const c = fixtureCase('nomic_vision', 'image_60x80');
  const [H, W] = c.image_uint8.shape;
  const line = JSON.stringify({ rgb: Buffer.from(c.image_uint8.data).toString('base64'), width: W, height: H });
  const out = await new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'js/cli.js'), 'embed-image', '--model', path.join(FIXTURES, 'nomic_vision'), '--threads', '1'],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    let s = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d) => { s += d; });
    p.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, s, err }));
    p.stdin.end(line + '\n');
  });
  assert.equal(out.code, 0, out.err);
  const { embedding } = JSON.parse(out.s.trim());
  assert.ok(cosine(embedding, c.image_embeds_normalized.data) >= 0.99999);
});

/** The pair's checks: query text vectors and image vectors against the reference, in one space. */
async function checkPair(e) {
  const i = await e.info();
  assert.equal(i.hasText, true);
  assert.equal(i.hasVision, true);
  assert.equal(i.architecture, 'nomic_bert');
  assert.equal(i.vision.architecture, 'nomic_vision');
  assert.equal(i.imageSize, 224);
  assert.equal(i.dims, 32);
  // (the folders are not in the registry: the 'query' task's prefix given as it is)
  const texts = await e.embed(pairExpected.texts.map((t) => t.text), { prefix: 'search_query: ' });
  for (const [k, t] of pairExpected.texts.entries()) {
    assert.deepEqual((await e.tokenize('search_query: ' + t.text)).ids, t.ids);
    assert.ok(cosine(texts[k], t.embedding) >= 0.99999, `text ${t.text}: ${cosine(texts[k], t.embedding)}`);
  }
  const images = await e.embedImage(pairExpected.images.map((x) => path.join(SAMPLES, x.image)));
  for (const [k, x] of pairExpected.images.entries()) {
    assert.ok(cosine(images[k], x.embedding) >= 0.99999, `image ${x.image}: ${cosine(images[k], x.embedding)}`);
  }
  assert.equal(texts[0].length, images[0].length, 'one space: vectors of one size');
  assert.ok(Number.isFinite(e.similarity(texts[0], images[0])));
}

test('a pair of towers: query texts and images from one Embedder, as the reference', async () => {
  const events = [];
  const e = await Embedder.load({ text: path.join(PAIR, 'text'), vision: path.join(PAIR, 'vision') },
    { engine, onProgress: (ev) => events.push(ev) });
  try {
    await checkPair(e);
    assert.equal(e.registry, undefined, 'local folders: no registry entry unless named');
    // progress: files named per tower, each file's loaded never decreasing, one ready last
    assert.ok(events.some((ev) => ev.file === 'text/model.safetensors') && events.some((ev) => ev.file === 'vision/model.safetensors'));
    assert.equal(events.filter((ev) => ev.status === 'ready').length, 1);
    assert.equal(events.at(-1).status, 'ready');
    const last = new Map();
    for (const ev of events.slice(0, -1)) {
      assert.ok(ev.loaded >= (last.get(ev.file) ?? 0), ev.file);
      last.set(ev.file, ev.loaded);
    }
    await assert.rejects(e.classify(path.join(SAMPLES, 'red-circle.png'), ['a', 'b']), (err) => err.code === 'unsupported');
  } finally {
    e.dispose();
  }
  await assert.rejects(e.embedImage(path.join(SAMPLES, 'red-circle.png')), (err) => err.code === 'disposed');
});

test('a pair with registry ids takes the text model\'s task prefixes', async () => {
  const e = await Embedder.load({ text: path.join(PAIR, 'text'), vision: path.join(PAIR, 'vision') },
    { engine, model: { text: 'nomic-ai/nomic-embed-text-v1.5', vision: 'nomic-ai/nomic-embed-vision-v1.5' } });
  try {
    assert.equal(e.registry.id, 'nomic-ai/nomic-embed-text-v1.5');
    assert.equal(e.registry.pairedWith, 'nomic-ai/nomic-embed-vision-v1.5');
    assert.equal(e.info().vision.registryId, 'nomic-ai/nomic-embed-vision-v1.5');
    const [a] = await e.embed('a red circle', { task: 'query' });
    const [b] = await e.embed('search_query: a red circle');
    assert.ok(cosine(a, b) > 0.9999999);
  } finally {
    e.dispose();
  }
});

test('a pair in a worker', async () => {
  const e = await Embedder.load({ text: path.join(PAIR, 'text'), vision: path.join(PAIR, 'vision') }, { worker: true, variant: 'st' });
  try {
    await checkPair(e);
  } finally {
    e.dispose();
  }
});

test('a pair refuses towers that are not one', async () => {
  const vision = path.join(PAIR, 'vision');
  await assert.rejects(Embedder.load({ text: vision, vision }, { engine }), (e) => e.code === 'invalid_argument' && /text tower/.test(e.message));
  await assert.rejects(Embedder.load({ text: path.join(PAIR, 'text'), vision: path.join(FIXTURES, 'nomic_vision') }, { engine }),
    (e) => e.code === 'invalid_argument' && /one size/.test(e.message));
  await assert.rejects(Embedder.load({ vision }, { engine }), (e) => e.code === 'invalid_argument' && /both given/.test(e.message));
  await assert.rejects(Embedder.load({ text: path.join(PAIR, 'text'), vision: path.join(PAIR, 'missing') }, { engine }), (e) => e.code === 'not_found');
});

test('nomic_vision configs it does not implement are refused with the key', async () => {
  const dir = path.join(FIXTURES, 'nomic_vision');
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const files = (patch) => ({ files: {
    'config.json': new TextEncoder().encode(JSON.stringify({ ...cfg, ...patch })),
    'model.safetensors': fs.readFileSync(path.join(dir, 'model.safetensors')),
    'preprocessor_config.json': fs.readFileSync(path.join(dir, 'preprocessor_config.json')),
  } });
  for (const [patch, code, what] of [
    [{ prenorm: false }, 'unsupported', /prenorm/],
    [{ no_cls_token: true }, 'unsupported', /no_cls_token/],
    [{ global_pool: 'avg' }, 'unsupported', /global_pool/],
    [{ activation_function: 'gelu' }, 'unsupported', /activation_function/],
    [{ rotary_emb_fraction: 0.5 }, 'unsupported', /rotary_emb_fraction/],
    [{ register_tokens: 4 }, 'unsupported', /register_tokens/],
    [{ patch_size: 5 }, 'bad_format', /multiple of patch_size/],
    [{ num_channels: 1 }, 'bad_format', /num_channels/],
    [{ ref_feat_shape: [14] }, 'bad_format', /ref_feat_shape/],
    [{ n_inner: 512.0 }, 'shape_mismatch', /mlp/],
  ]) {
    await assert.rejects(Embedder.load(files(patch), { engine }), (e) => e.code === code && what.test(e.message), JSON.stringify(patch));
  }
});

test('nomic_vision in f16 and q8 stays close to the f32 reference', async () => {
  for (const [fixture, name] of [['nomic_vision', 'image_60x80'], ['nomic_vision_own', 'portrait_70x45']]) {
    const c = fixtureCase(fixture, name);
    const [H, W] = c.image_uint8.shape;
    for (const [dtype, min] of [['f16', 0.9999], ['q8', 0.99]]) {   // random weights scaled up: q8's worst case here 0.991
      const e = await Embedder.load(path.join(FIXTURES, fixture), { engine, dtype });
      try {
        const [v] = await e.embedImage({ data: c.image_uint8.data, width: W, height: H });
        assert.ok(cosine(v, c.image_embeds_normalized.data) >= min, `${fixture} ${dtype}: ${cosine(v, c.image_embeds_normalized.data)}`);
      } finally {
        e.dispose();
      }
    }
  }
});
