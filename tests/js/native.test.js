// native.test.js - the native backend (the Node addon, js/native.js) against the wasm module on
// the fixtures: the same API gives the same vectors within the documented tolerance (README
// "Backends"). Per element, |native - wasm| <= 1e-4 * max(1, |wasm|) in f32, the project's bound
// to the float64 reference (the x86 FMA kernels round differently; nothing else differs; measured
// <= 9e-6). int8 GEMMs are exact integer sums on both, so q8 differs only where an FMA-rounded
// activation lands on the other side of a quantization step (measured 1.1e-2 on one fixture,
// <= 1e-6 on the others): per element 2e-2 * max(1, |wasm|), and cosine >= 0.9999 per token
// everywhere. Inputs are cut to the model's positions: past them (gte_long's case, made for
// self-extend) both backends give values near 1e34, where rounding differences grow without bound.
// Also: tokenizing, images, memory (no leak), backend selection, its errors and its one warning,
// and the default thread count (physical cores) on a made-up machine.
// Needs the addon (scripts/build.sh node): without it those tests say so and are skipped.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { Embedder, createEngine, Tokenizer } from '../../js/index.js';
import { loadNativeAddon, physicalCores } from '../../js/native.js';
import { FIXTURES, fixtureCase, rows, cosine } from './helpers.js';

const found = await loadNativeAddon();
const skip = 'addon' in found ? false : `no native addon: ${found.error}`;

const F32_TOL = 1e-4;
const Q8_TOL = 2e-2;

/** Fixture folders of text models with a case that has input ids and hidden states. */
function textFixtures() {
  const out = [];
  for (const name of fs.readdirSync(FIXTURES).sort()) {
    const man = path.join(FIXTURES, name, 'manifest.json');
    if (!fs.existsSync(man)) continue;
    const m = JSON.parse(fs.readFileSync(man, 'utf8'));
    const c = m.cases.find((x) => x.tensors.input_ids && x.tensors.last_hidden_state);
    if (c) out.push({ name, c: c.name });
  }
  return out;
}

/**
 * Over rows of per-token vectors (pooling 'none'): the largest |a - b| / max(1, |b|), and the
 * least cosine (in float64 on vectors scaled to their largest element; two zero vectors agree).
 */
function compare(a, b) {
  let md = 0, mc = 1;
  assert.equal(a.length, b.length);
  a.forEach((ra, i) => {
    assert.equal(ra.length, b[i].length);
    ra.forEach((x, t) => {
      const y = b[i][t];
      let s = 0;
      for (let k = 0; k < x.length; k++) {
        md = Math.max(md, Math.abs(x[k] - y[k]) / Math.max(1, Math.abs(y[k])));
        s = Math.max(s, Math.abs(x[k]), Math.abs(y[k]));
      }
      if (s > 0) mc = Math.min(mc, cosine(Array.from(x, (v) => v / s), Array.from(y, (v) => v / s)));
    });
  });
  return { md, mc };
}

test('native and wasm agree on every text fixture (f32 and q8, per-token states)', { skip }, async () => {
  const report = [], failures = [];
  for (const dtype of ['f32', 'q8']) {
    let worst = 0;
    for (const { name, c } of textFixtures()) {
      const x = fixtureCase(name, c);
      const dir = path.join(FIXTURES, name);
      const [n, w] = [await Embedder.load(dir, { backend: 'native', dtype }), await Embedder.load(dir, { backend: 'wasm', variant: 'st', dtype })];
      try {
        assert.equal(n.engine.backend, 'native');
        assert.equal(w.engine.backend, 'wasm');
        // Within the model's positions (some cases go past them, for options not given here).
        const cut = (t) => rows(t).map((r) => r.slice(0, n.info().maxTokens));
        const ids = cut(x.input_ids);
        const args = { attentionMask: x.attention_mask ? cut(x.attention_mask) : ids.map((r) => r.map(() => 1)), pooling: 'none', normalize: false };
        if (x.token_type_ids) args.tokenTypeIds = cut(x.token_type_ids);
        const { md, mc } = compare(await n.embedIds(ids, args), await w.embedIds(ids, args));
        worst = Math.max(worst, md);
        report.push(`${dtype} ${name}/${c}: max diff ${md.toExponential(2)}, min cosine ${mc.toFixed(7)}`);
        failures.push(...(md <= (dtype === 'f32' ? F32_TOL : Q8_TOL) && mc >= 0.9999 ? [] : [`${dtype} ${name}: max |native - wasm| = ${md}, cosine ${mc}`]));
      } finally {
        n.dispose();
        w.dispose();
      }
    }
    report.push(`${dtype}: max |native - wasm| over the fixtures = ${worst.toExponential(2)}`);
  }
  console.log(report.join('\n'));
  assert.deepEqual(failures, []);
});

test('native: tokenizing gives what wasm gives (tokens, offsets, ids)', { skip }, async () => {
  const json = fs.readFileSync(path.join(FIXTURES, '..', 'tokenizers', 'all-MiniLM-L6-v2', 'tokenizer.json'), 'utf8');
  const en = await createEngine({ backend: 'native' });
  const ew = await createEngine({ backend: 'wasm', variant: 'st' });
  const live = en.liveAllocations();
  try {
    const tn = await Tokenizer.load(new TextEncoder().encode(json), { engine: en });
    const tw = await Tokenizer.load(new TextEncoder().encode(json), { engine: ew });
    for (const s of ['Hello, world!', 'Ünïcödé façade — naïve café', '東京 🤗 test123', '']) {
      assert.deepEqual(tn.encode(s), tw.encode(s), s);
    }
    tn.dispose();
    tw.dispose();
    assert.equal(en.liveAllocations(), live, 'nothing leaked on the native side');
  } finally {
    en.dispose();
    ew.dispose();
  }
});

test('native: images through the same pixels pipeline', { skip }, async () => {
  const dir = path.join(FIXTURES, 'clip');
  const [n, w] = [await Embedder.load(dir, { backend: 'native' }), await Embedder.load(dir, { backend: 'wasm', variant: 'st' })];
  try {
    const size = 40, rgba = new Uint8Array(size * size * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 37 + (i >> 5)) & 255;
    const img = { data: rgba, width: size, height: size };
    const [a] = await n.embedImage(img);
    const [b] = await w.embedImage(img);
    let md = 0;
    for (let k = 0; k < a.length; k++) md = Math.max(md, Math.abs(a[k] - b[k]));
    assert.ok(md <= F32_TOL, `image: max diff ${md}`);
  } finally {
    n.dispose();
    w.dispose();
  }
});

test('backend selection: auto takes the addon in Node, errors say why', { skip }, async () => {
  // 'auto' named: WEMBED_BACKEND in the environment would otherwise choose (scripts/test.sh sets it).
  const e = await createEngine({ backend: 'auto' });
  try {
    assert.equal(e.backend, 'native');
    assert.match(e.systemInfo, /threads/);
  } finally {
    e.dispose();
  }
  const w = await createEngine({ backend: 'auto', simd: 'simd128', variant: 'st' });   // a wasm option: the wasm module
  try { assert.equal(w.backend, 'wasm'); } finally { w.dispose(); }
  await assert.rejects(createEngine({ backend: 'native', nativePath: '/nonexistent/wembed.node' }),
    (err) => err.code === 'unsupported' && /no native addon/.test(err.message));
  // auto: falls back to wasm, and says so with one process warning however many engines fall back.
  const warnings = [];
  const onWarning = (w) => { if (w.code === 'WEMBED_NATIVE_FALLBACK') warnings.push(w); };
  process.on('warning', onWarning);
  try {
    for (let i = 0; i < 2; i++) {
      const fb = await createEngine({ backend: 'auto', nativePath: '/nonexistent/wembed.node', variant: 'st' });
      try {
        assert.equal(fb.backend, 'wasm');
        assert.match(fb.nativeError, /no native addon/);
      } finally {
        fb.dispose();
      }
    }
    await new Promise((r) => setImmediate(r));   // warnings are emitted on the next tick
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].name, 'WembedWarning');
    assert.match(warnings[0].message, /running the WebAssembly engine, not the native addon: no native addon .*optional dependency wembed-linux-x64-gnu/s);
  } finally {
    process.off('warning', onWarning);
  }
  await assert.rejects(createEngine({ backend: 'gpu' }), (err) => err.code === 'invalid_argument');
});

test('threads default to the physical cores the process may use (a made-up machine)', async () => {
  // cpu0-3: two cores of two hyper-threads each (0 and 2 share core 0, 1 and 3 core 1), on one
  // package; cpu4-5: core 0 of two more packages. availableParallelism caps the count, so each
  // expectation stays within it.
  const topo = { 0: [0, 0], 1: [0, 1], 2: [0, 0], 3: [0, 1], 4: [1, 0], 5: [2, 0] };
  const machine = (allowed) => (file) => {
    if (file === '/proc/self/status') return `Name:\tnode\nCpus_allowed_list:\t${allowed}\nMems_allowed_list:\t0\n`;
    const m = /cpu(\d+)\/topology\/(physical_package_id|core_id)$/.exec(file);
    if (!m || !topo[m[1]]) throw new Error(`ENOENT ${file}`);
    return `${topo[m[1]][m[2] === 'core_id' ? 1 : 0]}\n`;
  };
  const cpus = (await import('node:os')).availableParallelism();
  assert.equal(await physicalCores(machine('0,2')), 1, 'two hyper-threads of one core are one core');
  assert.equal(await physicalCores(machine('0-3')), Math.min(cpus, 2));
  assert.equal(await physicalCores(machine('4-5')), Math.min(cpus, 2), 'core 0 of two packages is two cores');
  assert.equal(await physicalCores(machine('0-1,4-5')), Math.min(cpus, 4));
  assert.equal(await physicalCores(machine('7')), cpus, 'unreadable topology: every CPU');
  assert.equal(await physicalCores(() => 'Name:\tnode\n'), cpus, 'no affinity line: every CPU');
});
