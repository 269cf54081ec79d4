// cli.test.js - the `wembed` command per DESIGN.md's contract: JSON Lines in and out, one output
// line per input line, bad lines reported with their numbers without losing the others, exit
// codes, streaming with flat memory, and every command (tokenize, embed, embed-image, info).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { ROOT, DATA, FIXTURES, cosine, fixtureCase, startHub, tmpDir } from './helpers.js';

const CLI = path.join(ROOT, 'js/cli.js');
const E2E = path.join(DATA, 'e2e');
const expected = JSON.parse(fs.readFileSync(path.join(E2E, 'expected.json'), 'utf8')).cases;
const texts = JSON.parse(fs.readFileSync(path.join(E2E, 'texts.json'), 'utf8'));

/** Runs the CLI with stdin text; resolves {code, stdout, stderr, lines}. */
function run(args, stdin = '', env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    p.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr, lines: stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) }));
    p.stdin.end(stdin);
  });
}

const jsonl = (xs) => xs.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n') + '\n';

test('embed: texts in, embeddings out, in order', async () => {
  const r = await run(['embed', '--model', E2E, '--threads', '1', '--batch-size', '3'], jsonl(texts.map((text) => ({ text }))));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
  assert.equal(r.lines.length, texts.length);
  r.lines.forEach((l, i) => assert.ok(cosine(l.embedding, expected[i].mean_normalized) >= 0.99999, `line ${i + 1}`));
});

test('embed: a bad line is reported with its number and the others survive', async () => {
  const input = jsonl([{ text: 'Hello world!' }, '{"text": 5}', 'not json', '', { text: 'The quick brown fox jumps over the lazy dog.' }, { input_ids: 'x' }]);
  const r = await run(['embed', '--model', E2E, '--threads', '1'], input);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /line 2: expected \{"text": string\}/);
  assert.match(r.stderr, /line 3: not valid JSON/);
  assert.match(r.stderr, /line 6: "input_ids" must be/);
  // One output line per input line: the blank line 4 gets an error object in its place, so the
  // vectors after it stay paired with their inputs (issue 21).
  assert.match(r.stderr, /line 4: blank line/);
  assert.equal(r.lines.length, 6, 'one output line per input line, the blank one included');
  assert.ok(cosine(r.lines[0].embedding, expected[0].mean_normalized) >= 0.99999);
  assert.deepEqual(r.lines[1], { error: r.lines[1].error, line: 2 });
  assert.equal(r.lines[2].line, 3);
  assert.deepEqual(r.lines[3], { error: 'blank line', line: 4 });
  assert.ok(cosine(r.lines[4].embedding, expected[1].mean_normalized) >= 0.99999);
  assert.equal(r.lines[5].line, 6);
  // A line the engine refuses (too long with --truncate error) fails alone.
  const long = 'word '.repeat(100);
  const r2 = await run(['embed', '--model', E2E, '--threads', '1', '--max-tokens', '16', '--truncate', 'error'], jsonl([{ text: 'Hello world!' }, { text: long }, { text: 'ok' }]));
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /line 2: .*16/);
  assert.ok(r2.lines[0].embedding && r2.lines[2].embedding);
  assert.equal(r2.lines[1].line, 2);
});

test('embed: token ids, per-token output and options', async () => {
  const c = fixtureCase('bert', 'batch3');
  const [B, T] = c.input_ids.shape;
  const input = [];
  for (let b = 0; b < B; b++) {
    const m = Array.from(c.attention_mask.data.subarray(b * T, (b + 1) * T));
    const n = m.reduce((a, x) => a + x, 0);
    input.push({ input_ids: Array.from(c.input_ids.data.subarray(b * T, b * T + n)), token_type_ids: Array.from(c.token_type_ids.data.subarray(b * T, b * T + n)) });
  }
  const r = await run(['embed', '--model', path.join(FIXTURES, 'bert'), '--threads', '1'], jsonl(input));
  assert.equal(r.code, 0, r.stderr);
  r.lines.forEach((l, i) => assert.ok(cosine(l.embedding, c.mean_pooled_normalized.data.subarray(i * 64, i * 64 + 64)) >= 0.99999));
  const h = await run(['embed', '--model', path.join(FIXTURES, 'bert'), '--threads', '1', '--pooling', 'none'], jsonl(input));
  assert.equal(h.code, 0, h.stderr);
  assert.deepEqual(h.lines.map((l) => l.hidden.length), input.map((x) => x.input_ids.length));
  const row0 = c.last_hidden_state.data.subarray(0, 64);
  h.lines[0].hidden[0].forEach((x, k) => assert.ok(Math.abs(x - row0[k]) < 1e-4));
  const raw = await run(['embed', '--model', path.join(FIXTURES, 'bert'), '--threads', '1', '--no-normalize', '--dims', '16'], jsonl(input.slice(0, 1)));
  assert.equal(raw.lines[0].embedding.length, 16);
  const q = await run(['embed', '--model', E2E, '--threads', '1', '--quantize', 'binary', '--prefix', 'query: '], jsonl([{ text: 'x' }]));
  assert.equal(q.lines[0].embedding.length, 4);
  const nomic = await run(['embed', '--model', path.join(FIXTURES, 'nomic_bert'), '--threads', '1', '--rope-scaling', 'dynamic-ntk:2', '--ntk-length', 'padded'], jsonl([{ input_ids: [1, 2, 3] }]));
  assert.equal(nomic.code, 0, nomic.stderr);
  // SelfExtend and TempScale reach the engine: the fixture's SelfExtend case, and TempScale's.
  const se = fixtureCase('nomic_selfextend', 'g4w16_len200');
  const long = await run(['embed', '--model', path.join(FIXTURES, 'nomic_selfextend'), '--threads', '1', '--self-extend', '4,16'],
    jsonl([{ input_ids: Array.from(se.input_ids.data) }]));
  assert.equal(long.code, 0, long.stderr);
  assert.ok(cosine(long.lines[0].embedding, se.mean_pooled_normalized.data) >= 0.99999);
  const ts = fixtureCase('nomic_tempscale', 'tau08_len30');
  const [tb, tt] = ts.input_ids.shape;
  const tsIn = [];
  for (let b = 0; b < tb; b++) {
    const n = ts.attention_mask.data.subarray(b * tt, (b + 1) * tt).reduce((x, y) => x + y, 0);
    tsIn.push({ input_ids: Array.from(ts.input_ids.data.subarray(b * tt, b * tt + n)) });
  }
  const temp = await run(['embed', '--model', path.join(FIXTURES, 'nomic_tempscale'), '--threads', '1', '--attention-temperature', '0.8'], jsonl(tsIn));
  assert.equal(temp.code, 0, temp.stderr);
  const D = ts.mean_pooled_normalized.shape[1];
  temp.lines.forEach((l, i) => assert.ok(cosine(l.embedding, ts.mean_pooled_normalized.data.subarray(i * D, (i + 1) * D)) >= 0.99999, `row ${i}`));
});

test('tokenize: a tokenizer.json file or a model folder', async () => {
  const samples = fs.readFileSync(path.join(DATA, 'tokenizers/samples-all-MiniLM-L6-v2.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).slice(0, 20);
  const r = await run(['tokenize', '--model', path.join(DATA, 'tokenizers/all-MiniLM-L6-v2/tokenizer.json'), '--no-special'], jsonl(samples.map(({ text }) => ({ text }))));
  assert.equal(r.code, 0, r.stderr);
  r.lines.forEach((l, i) => {
    assert.deepEqual(l.ids, samples[i].ids, samples[i].id);
    assert.deepEqual(l.tokens, samples[i].tokens);
  });
  const f = await run(['tokenize', '--model', E2E, '--max-length', '4'], jsonl([{ text: 'Hello world! and more' }]));
  assert.deepEqual(f.lines[0], { ids: [101, 7592, 2088, 102], tokens: ['[CLS]', 'hello', 'world', '[SEP]'], offsets: [[0, 0], [0, 5], [6, 11], [0, 0]] });
});

test('embed-image: paths, folders, rgb, pixel values, preprocess-only', async () => {
  const { default: sharp } = await import('sharp');
  const dir = tmpDir();
  try {
    const c0 = fixtureCase('clip', 'image_raw0');
    const c1 = fixtureCase('clip', 'image_raw1');
    const png = (c) => sharp(Buffer.from(c.image_uint8.data), { raw: { width: c.image_uint8.shape[1], height: c.image_uint8.shape[0], channels: 3 } }).png().toBuffer();
    fs.writeFileSync(path.join(dir, 'a.png'), await png(c0));
    fs.writeFileSync(path.join(dir, 'b.png'), await png(c1));
    fs.writeFileSync(path.join(dir, 'broken.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('not really')]));
    const model = ['--model', path.join(FIXTURES, 'clip'), '--threads', '1'];
    const rgb = { rgb: Buffer.from(c1.image_uint8.data).toString('base64'), width: c1.image_uint8.shape[1], height: c1.image_uint8.shape[0] };
    const pv = fixtureCase('clip', 'images_random');
    const r = await run(['embed-image', ...model], jsonl([{ path: path.join(dir, 'a.png') }, rgb, { pixel_values: Array.from(pv.pixel_values.data.subarray(0, 3072)) }, { path: path.join(dir, 'broken.png') }, { path: path.join(dir, 'none.png') }]));
    assert.equal(r.code, 1);
    assert.ok(cosine(r.lines[0].embedding, c0.image_embeds_normalized.data) >= 0.99999);
    assert.ok(cosine(r.lines[1].embedding, c1.image_embeds_normalized.data) >= 0.99999);
    assert.ok(cosine(r.lines[2].embedding, pv.image_embeds_normalized.data.subarray(0, 32)) >= 0.99999);
    assert.equal(r.lines[3].line, 4);
    assert.match(r.stderr, /line 4: .*could not decode the PNG/);
    assert.match(r.stderr, /line 5: cannot read image/);
    // A folder as an argument: every image in it, with its path.
    const f = await run(['embed-image', ...model, dir]);
    assert.equal(f.code, 1, 'broken.png fails');
    const byName = Object.fromEntries(f.lines.filter((l) => l.path).map((l) => [path.basename(l.path), l]));
    assert.ok(cosine(byName['a.png'].embedding, c0.image_embeds_normalized.data) >= 0.99999);
    assert.ok(cosine(byName['b.png'].embedding, c1.image_embeds_normalized.data) >= 0.99999);
    const p = await run(['embed-image', ...model, '--preprocess-only'], jsonl([rgb]));
    let md = 0;
    p.lines[0].pixel_values.forEach((x, i) => { md = Math.max(md, Math.abs(x - c1.pixel_values.data[i])); });
    assert.ok(md < 1e-5);
    const h = await run(['embed-image', ...model, '--pooling', 'none'], jsonl([rgb]));
    assert.equal(h.lines[0].hidden.length, 17);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('info, usage errors (exit 2) and runtime errors (exit 1)', async () => {
  const i = await run(['info', '--model', path.join(FIXTURES, 'nomic_bert'), '--threads', '1', '--dtype', 'q8']);
  assert.equal(i.code, 0, i.stderr);
  const info = i.lines[0];
  assert.equal(info.architecture, 'nomic_bert');
  assert.equal(info.dtype, 'q8');
  assert.equal(info.dims, 64);
  assert.ok(info.parameters > 100000);
  assert.ok(info.memory.weightBytes > 0 && info.memory.weightBytes < info.parameters * 2);
  assert.ok(info.maxTokens > 0);
  for (const args of [['frobnicate'], ['embed'], ['embed', '--model', E2E, '--pooling', 'avg'], ['embed', '--model', E2E, '--bogus'], ['embed', '--model', E2E, '--rope-scaling', 'ntk:x'],
    ['embed', '--model', E2E, '--self-extend', '4'], ['embed', '--model', E2E, '--attention-temperature', '0'], []]) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr + r.stdout, /usage: wembed/);
  }
  const r = await run(['embed', '--model', '/no/such/model']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no such folder.*\[not_found\]/);
  const u = await run(['embed', '--model', path.join(DATA, 'broken/unsupported-arch'), '--threads', '1'], jsonl([{ text: 'x' }]));
  assert.equal(u.code, 1);
  assert.match(u.stderr, /supported: bert/);
});

/** Runs the CLI with stdout on an fd opened from outPath; resolves {code, stderr}. */
function runTo(outPath, args, stdin = '') {
  const fd = fs.openSync(outPath, 'w');
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', fd, 'pipe'] });
    let stderr = '';
    p.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stderr }));
    p.stdin.end(stdin);
  }).finally(() => fs.closeSync(fd));
}

test('a write error on stdout is an error (exit 1, a message); a closed pipe is not', { skip: !fs.existsSync('/dev/full') }, async () => {
  const input = jsonl([{ text: 'Hello world!' }, { text: 'ok' }]);
  for (const args of [['embed', '--model', E2E, '--threads', '1'], ['tokenize', '--model', path.join(E2E, 'tokenizer.json')],
    ['info', '--model', E2E, '--threads', '1'], ['--version']]) {
    const r = await runTo('/dev/full', args, input);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /cannot write to stdout.*ENOSPC/, args.join(' '));
  }
  // A reader that goes away (`| head -1`) ends the run quietly: exit 0, nothing on stderr.
  const p = spawn(process.execPath, [CLI, 'embed', '--model', E2E, '--threads', '1', '--batch-size', '1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  p.stdout.once('data', () => p.stdout.destroy());
  const code = new Promise((r) => p.on('close', r));
  p.stdin.end(jsonl(Array.from({ length: 200 }, (_, i) => ({ text: `line ${i}` }))));
  assert.equal(await code, 0, stderr);
  assert.equal(stderr, '');
});

test('a hub id through the CLI, cached', async () => {
  const hub = await startHub({ 'org/e2e': E2E });
  const cache = tmpDir();
  try {
    const args = ['embed', '--model', 'org/e2e', '--hub-base', hub.url, '--cache-dir', cache, '--threads', '1'];
    const r = await run(args, jsonl([{ text: texts[0] }]));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(cosine(r.lines[0].embedding, expected[0].mean_normalized) >= 0.99999);
    await hub.close();
    const again = await run(args, jsonl([{ text: texts[0] }]));
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(again.lines, r.lines);
  } finally {
    await hub.close();
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('embed streams: output comes before the input ends, and memory stays flat', async () => {
  const p = spawn(process.execPath, [CLI, 'embed', '--model', E2E, '--threads', '1', '--batch-size', '16'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let outLines = 0;
  let stderr = '';
  let buf = '';
  let firstResolve;
  const first = new Promise((r) => { firstResolve = r; });
  p.stdout.setEncoding('utf8').on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop();
    outLines += parts.length;
    if (outLines > 0) firstResolve();
  });
  p.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const done = new Promise((r) => p.on('close', r));
  const line = (i) => JSON.stringify({ text: `line ${i}: ${texts[i % texts.length]}` }) + '\n';
  for (let i = 0; i < 16; i++) p.stdin.write(line(i));
  await first;   // a full batch is answered while stdin is still open
  assert.ok(outLines >= 1);
  const N = 6000;
  const hwm = [];
  for (let i = 16; i < N; i++) {
    if (!p.stdin.write(line(i))) await new Promise((r) => p.stdin.once('drain', r));
    if (i % 1500 === 0) hwm.push(Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0));
  }
  hwm.push(Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? 0));
  p.stdin.end();
  const code = await done;
  assert.equal(code, 0, stderr);
  assert.equal(outLines, N);
  // Peak RSS after 1500 lines and after 6000 differ by little: nothing accumulates.
  console.log(`# peak RSS (KiB) over the input: ${hwm.join(', ')}`);
  assert.ok(hwm.at(-1) - hwm[0] < 30 * 1024, `RSS grew from ${hwm[0]} to ${hwm.at(-1)} KiB`);
});
