// contract.test.js - small promises of the API and the CLI that used to be broken silently:
// --dims at the full width keeps the model's Matryoshka rule (nomic: layer_norm, truncate,
// normalize), a wrong --dims or --task is one usage error (exit 2) rather than an error per
// line, `search query` refuses another model than the index's and loads none for embedding
// lines, every error the API throws is a WembedError with a code, and a folder holding only a
// .gguf loads it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { Embedder, Index, WembedError, createEngine } from '../../js/index.js';
import { ROOT, DATA, FIXTURES, cosine, fixtureCase, rows, startHub, tmpDir } from './helpers.js';

const CLI = path.join(ROOT, 'js/cli.js');
const E2E = path.join(DATA, 'e2e');
let engine;

before(async () => { engine = await createEngine({ variant: 'st' }); });
after(() => engine.dispose());

/** Runs the CLI with stdin text; resolves {code, stdout, stderr, lines}. */
function run(args, stdin = '') {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    p.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr, lines: stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) }));
    p.stdin.end(stdin);
  });
}
const jsonl = (xs) => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';

function assertRows(got, want, what) {
  const D = want.shape[1];
  got.forEach((v, i) => {
    const r = want.data.subarray(i * D, (i + 1) * D);
    assert.equal(v.length, D, `${what}: dims of row ${i}`);
    let worst = 0;
    for (let k = 0; k < D; k++) worst = Math.max(worst, Math.abs(v[k] - r[k]));
    assert.ok(worst <= 1e-4 && cosine(v, r) >= 0.99999, `${what}: row ${i}: max |diff| ${worst}, cosine ${cosine(v, r)}`);
  });
}

test('--dims at the full width applies the Matryoshka rule (nomic: layer_norm, truncate, normalize), API and CLI', async () => {
  const dir = path.join(FIXTURES, 'nomic_long');   // a 32-dim nomic_bert
  const c = fixtureCase('nomic_long', 'tau1_batch');   // tau = 1: the plain model
  const e = await Embedder.load(dir, { engine });
  try {
    assert.equal(e.info().dims, 32);
    const a = { attentionMask: rows(c.attention_mask) };
    assertRows(await e.embedIds(rows(c.input_ids), { ...a, dims: 32 }), c.matryoshka_32, 'dims 32 (full)');
    assertRows(await e.embedIds(rows(c.input_ids), { ...a, dims: 16 }), c.matryoshka_16, 'dims 16');
    assertRows(await e.embedIds(rows(c.input_ids), a), c.mean_pooled_normalized, 'no dims: the plain output');
  } finally {
    e.dispose();
  }
  const [B, T] = c.input_ids.shape;
  const lines = Array.from({ length: B }, (_, b) => ({
    input_ids: Array.from(c.input_ids.data.subarray(b * T, (b + 1) * T)),
    attention_mask: Array.from(c.attention_mask.data.subarray(b * T, (b + 1) * T)),
  }));
  const r = await run(['embed', '--model', dir, '--threads', '1', '--dims', '32'], jsonl(lines));
  assert.equal(r.code, 0, r.stderr);
  assertRows(r.lines.map((l) => Float32Array.from(l.embedding)), c.matryoshka_32, 'CLI --dims 32');
});

test('a --dims or --task the model refuses is one usage error (exit 2), not an error per input line', async () => {
  const input = jsonl([{ text: 'a' }, { text: 'b' }, { text: 'c' }]);
  for (const args of [['--dims', '999'], ['--task', 'no-such-task']]) {
    const r = await run(['embed', '--model', E2E, '--threads', '1', ...args], input);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', 'no output lines');
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('wembed:')).length, 1, r.stderr);
    assert.match(r.stderr, args[0] === '--dims' ? /dims 999/ : /no-such-task/);
  }
  const img = await run(['embed-image', '--model', path.join(FIXTURES, 'clip'), '--threads', '1', '--dims', '999'], jsonl([{ pixel_values: [0] }, { pixel_values: [0] }]));
  assert.equal(img.code, 2, img.stderr);
});

test('search query refuses a --model other than the index\'s, and embedding lines never load (or fetch) the model', async () => {
  const dir = tmpDir();
  const hub = await startHub({ 'org/bert': path.join(FIXTURES, 'bert'), 'org/bert2': path.join(FIXTURES, 'bert') });
  try {
    const index = path.join(dir, 'ix.wembed');
    const vec = (i) => Array.from({ length: 64 }, (_, k) => Math.sin(i * 7 + k));
    const common = ['--hub-base', hub.url, '--cache-dir', path.join(dir, 'cache'), '--threads', '1'];
    const b = await run(['search', 'build', '--index', index, '--model', 'org/bert', ...common], jsonl([0, 1, 2].map((i) => ({ id: i, embedding: vec(i) }))));
    assert.equal(b.code, 0, b.stderr);
    assert.equal(hub.log.length, 0, 'a build from embeddings loads no model');
    const info = await run(['search', 'info', '--index', index, '--threads', '1']);
    assert.equal(info.lines[0].model, 'org/bert');
    // The same width (64), another model: refused as build --append refuses it.
    const other = await run(['search', 'query', '--index', index, '--model', 'org/bert2', ...common], jsonl([{ embedding: vec(1) }]));
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /built with --model org\/bert/);
    const app = await run(['search', 'build', '--append', '--index', index, '--model', 'org/bert2', ...common], jsonl([{ id: 9, embedding: vec(9) }]));
    assert.equal(app.code, 2, app.stderr);
    hub.log.length = 0;
    const q = await run(['search', 'query', '--index', index, '--k', '1', ...common], jsonl([{ embedding: vec(2) }]));
    assert.equal(q.code, 0, q.stderr);
    assert.equal(q.lines[0].results[0].id, 2);
    assert.deepEqual(hub.log, [], 'an embedding-only query fetched nothing');
  } finally {
    await hub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every error the API throws is a WembedError with a code (sparse arrays, {length: 2**31}, image fetch, BigInt metadata)', async () => {
  const e = await Embedder.load(E2E, { engine });
  const clip = await Embedder.load(path.join(FIXTURES, 'clip'), { engine });
  const ix = await Index.create({ dims: 2, engine });
  try {
    const huge = { length: 2 ** 31 };
    const sparse = new Array(3);
    sparse[1] = 'a';
    const sparseRows = new Array(2);
    sparseRows[1] = [1, 2];
    const cases = {
      'embed(sparse)': () => e.embed(sparse),
      'embed({length: 2**31})': () => e.embed(/** @type {any} */ (huge)),
      'embedIds(sparse)': () => e.embedIds(sparseRows),
      'embedIds([{length: 2**31}])': () => e.embedIds([/** @type {any} */ (huge)]),
      'embedIds attentionMask sparse': () => e.embedIds([[1, 2], [1, 2]], { attentionMask: sparseRows }),
      'embedImage(failed fetch)': () => clip.embedImage('http://127.0.0.1:9/no-such-image.png'),
      'embedImage(sparse)': () => clip.embedImage(new Array(2)),
      'classify(image, sparse labels)': () => clip.classify({ data: new Uint8Array(12), width: 2, height: 2, channels: 3 }, sparse),
      'similarity({length: 2**31})': async () => e.similarity(/** @type {any} */ (huge), /** @type {any} */ (huge)),
      'similarity(sparse)': async () => e.similarity([1, , 2], [1, 2, 3]),   // eslint-disable-line no-sparse-arrays
      'index.add BigInt meta': async () => ix.add({ id: 'a', vector: new Float32Array([1, 0]), meta: { n: 1n } }),
      'index.add sparse': async () => ix.add(/** @type {any} */ (new Array(2))),
      'index.save BigInt extra': async () => ix.save({ extra: { n: 1n } }),
    };
    for (const [what, f] of Object.entries(cases)) {
      await assert.rejects(f(), (err) => {
        assert.ok(err instanceof WembedError, `${what}: ${err?.constructor?.name}: ${err?.message}`);
        assert.ok(typeof err.code === 'string' && err.code, what);
        return true;
      }, what);
    }
    // The index is still usable after the refusals.
    ix.add({ id: 'b', vector: new Float32Array([0, 1]), meta: { n: 1 } });
    assert.equal(ix.size, 1);
    assert.ok((await ix.save()).byteLength > 0);
  } finally {
    ix.dispose();
    e.dispose();
    clip.dispose();
  }
});

test('randomized: a damaged index file (bytes changed, cut, extended) is refused with a WembedError, never loaded wrong', async () => {
  const ix = await Index.create({ dims: 8, storage: 'int8', engine });
  const rand = (k) => Math.floor(Math.random() * k);
  try {
    for (let i = 0; i < 20; i++) ix.add({ id: `d${i}`, vector: Float32Array.from({ length: 8 }, () => Math.random() - 0.5), meta: { i } });
    const good = await ix.save({ extra: { model: 'org/m' } });
    for (let t = 0; t < 300; t++) {
      let b = Uint8Array.from(good);
      const how = rand(3);
      if (how === 0) for (let k = 1 + rand(8); k > 0; k--) b[rand(b.length)] ^= 1 + rand(255);
      else if (how === 1) b = b.subarray(0, rand(b.length));
      else b = Uint8Array.from([...b, ...crypto.randomBytes(1 + rand(16))]);
      if (Buffer.from(b).equals(Buffer.from(good))) continue;
      await assert.rejects(Index.load(b, { engine }), (err) => err instanceof WembedError && typeof err.code === 'string', `damage ${how}`);
    }
  } finally {
    ix.dispose();
  }
});

test('a folder holding only a .gguf loads it, as the README says', async () => {
  const dir = tmpDir();
  try {
    fs.copyFileSync(path.join(DATA, 'gguf/bert-f32.gguf'), path.join(dir, 'bert-f32.gguf'));
    const c = fixtureCase('bert', 'single');
    const g = await Embedder.load(dir, { engine });
    try {
      assert.equal(g.info().format, 'gguf');
      assert.deepEqual(g.files, ['bert-f32.gguf']);
      assert.ok(cosine((await g.embedIds([Array.from(c.input_ids.data)]))[0], c.mean_pooled_normalized.data) >= 0.99999);
    } finally {
      g.dispose();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
