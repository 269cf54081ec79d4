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

test('a GGUF epsilon that is not a positive finite number is refused at load (bad_format)', async () => {
  const files = ['gguf/bert-f32.gguf', 'gguf/clip-f16.gguf', 'gguf/nomic-q8_0.gguf', 'gguf/modernbert-f16.gguf', 'fixtures/jina_own/model.gguf'];
  const key = new TextEncoder().encode('layer_norm_epsilon');
  let patched = 0;
  for (const f of files) {
    const good = new Uint8Array(fs.readFileSync(path.join(DATA, f)));
    // Each "<arch>.attention.layer_norm_epsilon" key: its value type (u32, 6 = float32) and value follow.
    for (let at = 0; (at = good.indexOf(key[0], at)) >= 0; at++) {
      if (!key.every((b, i) => good[at + i] === b)) continue;
      const dv = new DataView(good.buffer, good.byteOffset);
      const vt = at + key.length;
      assert.equal(dv.getUint32(vt, true), 6, `${f}: a float32 epsilon`);
      for (const v of [-1, 0, NaN, Infinity]) {
        const bytes = good.slice();
        new DataView(bytes.buffer).setFloat32(vt + 4, v, true);
        await rejectsWith(Embedder.load({ files: { 'm.gguf': bytes } }, { engine, file: 'm.gguf' }), 'bad_format', /layer_norm_epsilon .*positive/);
      }
      patched++;
    }
    (await Embedder.load({ files: { 'm.gguf': good } }, { engine, file: 'm.gguf' })).dispose();
  }
  assert.equal(patched, 6, 'the epsilons of five files (clip has two)');
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

// -----------------------------------------------------------------------------------------
// Shard and module paths stay inside the model

/** A copy of the e2e model in tmp/<name>, with its weights as the shard `shard` (a plain name) of an index. */
function shardedModel(tmp, name, shardNames) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, '1_Pooling'), { recursive: true });
  for (const f of ['config.json', 'tokenizer.json', 'modules.json', '1_Pooling/config.json']) fs.copyFileSync(path.join(DATA, 'e2e', f), path.join(dir, f));
  const st = fs.readFileSync(path.join(DATA, 'e2e', 'model.safetensors'));
  const tensors = Object.keys(JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString())).filter((k) => k !== '__metadata__');
  const weight_map = Object.fromEntries(tensors.map((t, i) => [t, shardNames[i % shardNames.length]]));
  fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map }));
  return { dir, st };
}

test('shard names and module paths that leave the model are refused: local folders and HTTP (no token sent elsewhere)', async () => {
  const tmp = tmpDir();
  try {
    // A good sharded model loads; its shard lives in a subfolder.
    const { dir, st } = shardedModel(tmp, 'good', ['shards/model.safetensors']);
    fs.mkdirSync(path.join(dir, 'shards'));
    fs.writeFileSync(path.join(dir, 'shards/model.safetensors'), st);
    (await Embedder.load(dir, { engine })).dispose();

    // The weights sit right next to the model folder, where '../' would find them.
    fs.mkdirSync(path.join(tmp, 'outside'));
    fs.writeFileSync(path.join(tmp, 'outside/model.safetensors'), st);
    const evil = ['../outside/model.safetensors', path.join(tmp, 'outside/model.safetensors'), 'shards/../../outside/model.safetensors',
      'C:/outside/model.safetensors', 'https://example.com/model.safetensors', '..\\outside\\model.safetensors'];
    for (const [i, shard] of evil.entries()) {
      const m = shardedModel(tmp, `evil${i}`, ['shards/model.safetensors', shard]);
      fs.mkdirSync(path.join(m.dir, 'shards'));
      fs.writeFileSync(path.join(m.dir, 'shards/model.safetensors'), st);
      await rejectsWith(Embedder.load(m.dir, { engine }), 'bad_format', /model\.safetensors\.index\.json: a shard: .* is not a file name inside the model/);
      // Over HTTP, with a token: no request leaves the model's path, none carries the token elsewhere.
      const id = `org/evil${i}`;
      const server = await startHub({ [id]: m.dir });
      try {
        server.token = 'secret';
        await rejectsWith(Embedder.load(id, { engine, hubBase: server.url, token: 'secret', cache: false }), 'bad_format', /is not a file name inside the model/);
        assert.ok(server.log.length > 0);
        for (const e of server.log) assert.equal(e.id, id, `a request outside the model: ${JSON.stringify(e)}`);
        assert.ok(!server.log.some((e) => /outside|example/.test(e.file ?? '')));
      } finally {
        await server.close();
      }
    }

    // modules.json: a pooling module path outside the model.
    for (const p of ['../outside', '/etc', 'a/../../outside']) {
      const m = shardedModel(tmp, `mod${p.replace(/\W/g, '_')}`, ['shards/model.safetensors']);
      fs.mkdirSync(path.join(m.dir, 'shards'));
      fs.writeFileSync(path.join(m.dir, 'shards/model.safetensors'), st);
      const mods = JSON.parse(fs.readFileSync(path.join(m.dir, 'modules.json'), 'utf8'));
      for (const x of mods) if (x.type.endsWith('.Pooling')) x.path = p;
      fs.writeFileSync(path.join(m.dir, 'modules.json'), JSON.stringify(mods));
      await rejectsWith(Embedder.load(m.dir, { engine }), 'bad_format', /modules\.json: the pooling module's path/);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

// -----------------------------------------------------------------------------------------
// A malformed tokenizer.json fails the load, not every embed afterwards

test('a malformed tokenizer.json is refused at load with bad_format', async () => {
  const files = modelFiles(path.join(DATA, 'e2e'));
  const tj = new TextDecoder().decode(files['tokenizer.json']);
  const tok = JSON.parse(tj);
  const bad = {
    'not JSON': '{"version": "1.0", "model": ',
    'truncated': tj.slice(0, tj.length >> 1),
    'no model': JSON.stringify({ ...tok, model: undefined }),
    'model not an object': JSON.stringify({ ...tok, model: 5 }),
    'vocab not an object': JSON.stringify({ ...tok, model: { ...tok.model, vocab: [1, 2] } }),
  };
  for (const [what, text] of Object.entries(bad)) {
    await rejectsWith(Embedder.load({ files: { ...files, 'tokenizer.json': text } }, { engine }), 'bad_format', /tokenizer\.json/);
    assert.ok(what);
  }
  // Folders too, and the good file still loads and embeds.
  const e = await Embedder.load({ files }, { engine });
  try {
    assert.equal((await e.embed(['hello'])).length, 1);
  } finally {
    e.dispose();
  }
  assert.equal(engine.liveAllocations(), 1);
});
