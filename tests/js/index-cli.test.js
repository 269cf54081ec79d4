// index-cli.test.js - `wembed search` (build, query, remove, info): JSON Lines in and out, the
// index file remembering its model and embed options, results equal to the JS API's, bad lines
// answered in place, exit codes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { Embedder, Index } from '../../js/index.js';
import { ROOT, DATA, tmpDir } from './helpers.js';

const CLI = path.join(ROOT, 'js/cli.js');
const E2E = path.join(DATA, 'e2e');
const dir = tmpDir();
after(() => fs.rmSync(dir, { recursive: true, force: true }));

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
const jsonl = (xs) => xs.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n') + '\n';

const DOCS = [
  { id: 'cat', text: 'The cat sat on the mat and purred.', meta: { lang: 'en', topic: 'pets' } },
  { id: 'stocks', text: 'Stock markets fell sharply after the announcement.', meta: { lang: 'en', topic: 'money' } },
  { id: 'soup', text: 'Simmer the tomatoes with garlic for twenty minutes.', meta: { lang: 'en', topic: 'food' } },
  { id: 'hund', text: 'Der Hund schläft im Garten.', meta: { lang: 'de', topic: 'pets' } },
  { id: 'wasm', text: 'WebAssembly runs compiled C in the browser.', meta: { lang: 'en', topic: 'tech' } },
];
const QUERIES = ['a sleeping pet', 'how to cook soup', 'compiling C to the web'];

test('search build + query: the same ranking and scores as Embedder + Index, filters, k per line', async () => {
  const file = path.join(dir, 'docs.wemb');
  const b = await run(['search', 'build', '--index', file, '--model', E2E, '--storage', 'int8', '--dims', '16', '--threads', '1'], jsonl(DOCS));
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(b.lines, DOCS.map((d) => ({ id: d.id, added: true })));

  const info = await run(['search', 'info', '--index', file]);
  assert.equal(info.code, 0, info.stderr);
  const i = info.lines[0];
  assert.equal(i.size, 5);
  assert.equal(i.dims, 16);
  assert.equal(i.storage, 'int8');
  assert.equal(i.model, E2E);
  assert.deepEqual(i.embed, { dims: 16 });

  // the reference: the JS API with the same model, options and storage
  const e = await Embedder.load(E2E, { variant: 'st' });
  const ix = await Index.create({ dims: 16, storage: 'int8', engine: e.engine });
  const dv = await e.embed(DOCS.map((d) => d.text), { dims: 16 });
  ix.add(DOCS.map((d, j) => ({ id: d.id, vector: dv[j], meta: d.meta })));
  const qv = await e.embed(QUERIES, { dims: 16 });

  const q = await run(['search', 'query', '--index', file, '--k', '3', '--threads', '1'], jsonl([...QUERIES.map((text) => ({ text })), { text: QUERIES[0], filter: { topic: 'pets' }, k: 5 }]));
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.lines.length, 4);
  QUERIES.forEach((_, j) => {
    const want = ix.search(qv[j], { k: 3 });
    assert.deepEqual(q.lines[j].results.map((h) => h.id), want.map((h) => h.id));
    q.lines[j].results.forEach((h, r) => {
      assert.equal(Math.fround(h.score), want[r].score);
      assert.deepEqual(h.meta, want[r].meta);
    });
  });
  assert.deepEqual(q.lines[3].results.map((h) => h.id), ix.search(qv[0], { k: 5, filter: { topic: 'pets' } }).map((h) => h.id));
  assert.equal(q.lines[3].results.length, 2);

  // --filter on the command line, and embeddings instead of texts
  const f = await run(['search', 'query', '--index', file, '--filter', '{"lang":"de"}'], jsonl([{ embedding: Array.from(qv[1]) }]));
  assert.equal(f.code, 0, f.stderr);
  assert.deepEqual(f.lines[0].results.map((h) => h.id), ['hund']);
  ix.dispose();
  e.dispose();
});

test('search build from embeddings, --append, remove; bad lines in place; usage errors', async () => {
  const file = path.join(dir, 'vecs.wemb');
  const vecs = [[1, 0, 0, 0], [0, 1, 0, 0], [0.9, 0.1, 0, 0]];
  const b = await run(['search', 'build', '--index', file, '--storage', 'binary', '--rescore', 'f32'],
    jsonl([{ id: 'a', embedding: vecs[0] }, { embedding: vecs[1], meta: { n: 2 } }, '{"id": "x", "text": "no model"}', 'nope', { id: 'short', embedding: [1, 2] }]));
  assert.equal(b.code, 1);
  assert.deepEqual(b.lines[0], { id: 'a', added: true });
  assert.deepEqual(b.lines[1], { id: 2, added: true });   // no id: the line number
  assert.match(b.lines[2].error, /"text" needs a model/);
  assert.equal(b.lines[3].line, 4);
  assert.match(b.lines[4].error, /has 2 dimensions; this index has 4/);
  assert.match(b.stderr, /line 3: .*needs a model/);

  const a = await run(['search', 'build', '--index', file, '--append'], jsonl([{ id: 'c', embedding: vecs[2] }]));
  assert.equal(a.code, 0, a.stderr);
  const q = await run(['search', 'query', '--index', file, '--k', '5'], jsonl([{ embedding: [1, 0, 0, 0] }]));
  assert.deepEqual(q.lines[0].results.map((h) => h.id), ['a', 'c', 2]);
  assert.equal(q.lines[0].results[0].score, 1);

  const r = await run(['search', 'remove', '--index', file], jsonl([{ id: 'a' }, { id: 'zzz' }]));
  assert.deepEqual(r.lines, [{ id: 'a', removed: true }, { id: 'zzz', removed: false }]);
  const q2 = await run(['search', 'query', '--index', file], jsonl([{ embedding: [1, 0, 0, 0] }, { text: 'needs a model' }]));
  assert.equal(q2.code, 1);
  assert.deepEqual(q2.lines[0].results.map((h) => h.id), ['c', 2]);
  assert.match(q2.lines[1].error, /needs a model/);

  assert.equal((await run(['search'])).code, 2);
  assert.equal((await run(['search', 'query'])).code, 2);
  assert.match((await run(['search', 'build', '--index', file, '--append', '--storage', 'f32'])).stderr, /cannot change when appending/);
  const missing = await run(['search', 'query', '--index', path.join(dir, 'none.wemb')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no index at .*none\.wemb/);
  const empty = await run(['search', 'build', '--index', path.join(dir, 'empty.wemb')], '');
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /nothing to index/);
  assert.equal(fs.existsSync(path.join(dir, 'empty.wemb')), false);
});
