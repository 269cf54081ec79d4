// robust.test.js - issue 21, "nothing wrong, ever silently": what used to give a silent wrong
// result through the JS API now fails with a WembedError and a code. Hyper-parameters that can only
// give NaN are refused at load; a non-finite output vector is an error (code 'non_finite') unless
// the caller opts in with allowNonFinite.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { Embedder, createEngine, WembedError } from '../../js/index.js';
import { DATA, FIXTURES, fixtureCase, startHub, tmpDir } from './helpers.js';

let engine;
before(async () => { engine = await createEngine({ variant: 'st' }); });
after(() => engine.dispose());

/** The model files of a fixture folder (config, weights, sentence-transformers modules), by name. */
function modelFiles(dir) {
  const files = {};
  const walk = (sub) => {
    for (const d of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const name = sub ? `${sub}/${d.name}` : d.name;
      if (d.isDirectory()) walk(name);
      else if (/\.(json|safetensors)$/.test(d.name) && d.name !== 'manifest.json') files[name] = new Uint8Array(fs.readFileSync(path.join(dir, name)));
    }
  };
  walk('');
  return files;
}

const withConfig = (files, edit) => {
  const cfg = JSON.parse(new TextDecoder().decode(files['config.json']));
  edit(cfg);
  return { ...files, 'config.json': new TextEncoder().encode(JSON.stringify(cfg)) };
};

/** Rejects with a WembedError of this code (and a message matching re). */
async function rejectsWith(p, code, re) {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof WembedError, `a WembedError, not ${e?.name}: ${e?.message}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

// -----------------------------------------------------------------------------------------
// NaN results

test('an epsilon that is not a positive finite number is refused at load (bad_format), every family', async () => {
  const cases = {
    bert: (c, v) => { c.layer_norm_eps = v; },
    gte_en: (c, v) => { c.layer_norm_eps = v; },
    jina_bert_v2: (c, v) => { c.layer_norm_eps = v; },
    mpnet: (c, v) => { c.layer_norm_eps = v; },
    modernbert: (c, v) => { c.norm_eps = v; },
    nomic_bert: (c, v) => { c.layer_norm_epsilon = v; },
    clip: (c, v) => { c.text_config.layer_norm_eps = v; },
    'clip vision': (c, v) => { c.vision_config.layer_norm_eps = v; },
  };
  for (const [name, set] of Object.entries(cases)) {
    const files = modelFiles(path.join(FIXTURES, name.split(' ')[0]));
    for (const v of [-1, 0, 1e-60, 1e39]) {
      await rejectsWith(Embedder.load({ files: withConfig(files, (c) => set(c, v)) }, { engine }), 'bad_format', /eps/);
    }
    // The fixture itself still loads.
    (await Embedder.load({ files }, { engine })).dispose();
  }
});

test('a NaN output vector is an error (non_finite) unless allowNonFinite; embedPixels with NaN input', async () => {
  const e = await Embedder.load({ files: modelFiles(path.join(FIXTURES, 'clip')) }, { engine });
  try {
    const r = fixtureCase('clip', 'images_random');
    const px = Float32Array.from(r.pixel_values.data);
    const per = px.length / r.pixel_values.shape[0];
    const bad = px.slice(0, per);
    bad[5] = NaN;
    await rejectsWith(e.embedPixels([px.slice(0, per), bad]), 'non_finite', /input 1: .*NaN/);
    await rejectsWith(e.embedPixels(bad, { pooling: 'none' }), 'non_finite');
    await rejectsWith(e.embedPixels(bad, { quantize: 'int8' }), 'non_finite');
    const [v] = await e.embedPixels(bad, { allowNonFinite: true });
    assert.ok(v.some((x) => Number.isNaN(x)), 'returned as computed');
    const [ok] = await e.embedPixels(px.slice(0, per));
    assert.ok(ok.every(Number.isFinite));
    await rejectsWith(e.embedPixels(bad, { allowNonFinite: 1 }), 'invalid_argument', /allowNonFinite/);
  } finally {
    e.dispose();
  }
});

/** The safetensors bytes with the first value of tensor `name` (F32) set to x. */
function poke(st, name, x) {
  const dv = new DataView(st.buffer, st.byteOffset, st.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + n)));
  const t = header[name];
  assert.equal(t?.dtype, 'F32', name);
  const out = st.slice();
  new DataView(out.buffer).setFloat32(8 + n + t.data_offsets[0], x, true);
  return out;
}

test('NaN weights give a non_finite error at embed, not NaN vectors', async () => {
  const files = modelFiles(path.join(FIXTURES, 'bert'));
  const st = files['model.safetensors'];
  const hdr = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true)))));
  const name = Object.keys(hdr).find((k) => /embeddings\.LayerNorm\.(weight|gamma)$/.test(k));
  const e = await Embedder.load({ files: { ...files, 'model.safetensors': poke(st, name, NaN) } }, { engine });
  try {
    const ids = [[1, 7, 2]];
    await rejectsWith(e.embedIds(ids), 'non_finite', /input 0/);
    await rejectsWith(e.embedIds(ids, { pooling: 'none' }), 'non_finite');
    const [v] = await e.embedIds(ids, { allowNonFinite: true, normalize: false });
    assert.ok(v.some((x) => !Number.isFinite(x)));
  } finally {
    e.dispose();
  }
});

// -----------------------------------------------------------------------------------------
// embedIds and tokenize: no coercion, no result longer than asked for

test('embedIds refuses what is not a token id instead of coercing it', async () => {
  const e = await Embedder.load(path.join(DATA, 'e2e'), { engine });
  try {
    const V = e.info().vocabSize;
    const [good] = await e.embedIds([[101, 7592, 102]]);
    assert.equal(good.length, e.info().dims);
    for (const bad of [1.5, NaN, 2 ** 32 + 7592, -1, V, Infinity, '7592', null, 2 ** 31]) {
      await rejectsWith(e.embedIds([[101, 7592, 102], [101, bad, 102]]), 'invalid_argument', /row 1, position 1: .*not a token id/);
    }
    await rejectsWith(e.embedIds([[101, 7592, 102]], { tokenTypeIds: [[0, 0.5, 0]] }), 'invalid_argument', /tokenTypeIds/);
    await rejectsWith(e.embedIds([[101, 7592, 102]], { tokenTypeIds: [[0, NaN, 0]] }), 'invalid_argument', /tokenTypeIds/);
    await rejectsWith(e.embedIds([[101, 7592, 102]], { attentionMask: [[1, 2, 1]] }), 'invalid_argument', /attentionMask/);
    await rejectsWith(e.embedIds([[101, 7592, 102]], { attentionMask: [[1, NaN, 1]] }), 'invalid_argument', /attentionMask/);
    // Typed rows and booleans in the mask still work.
    const [typed] = await e.embedIds([Int32Array.from([101, 7592, 102])], { attentionMask: [[true, true, true]] });
    assert.deepEqual(Array.from(typed), Array.from(good));
  } finally {
    e.dispose();
  }
});

test('tokenize: a maxLength shorter than the special tokens is refused, not exceeded', async () => {
  const e = await Embedder.load(path.join(DATA, 'e2e'), { engine });
  try {
    const text = 'Hello world, this is long enough.';
    await rejectsWith(e.tokenize(text, { maxLength: 1 }), 'invalid_argument', /max_length 1 .*2 special tokens/);
    assert.deepEqual((await e.tokenize(text, { maxLength: 2 })).tokens, ['[CLS]', '[SEP]']);
    assert.equal((await e.tokenize(text, { maxLength: 3 })).ids.length, 3);
    // Without special tokens, 1 means one token.
    assert.equal((await e.tokenize(text, { maxLength: 1, addSpecialTokens: false })).ids.length, 1);
    // Every length asked for is honoured: never more tokens than maxLength.
    for (let n = 2; n < 12; n++) assert.ok((await e.tokenize(text, { maxLength: n })).ids.length <= n, `maxLength ${n}`);
  } finally {
    e.dispose();
  }
});
