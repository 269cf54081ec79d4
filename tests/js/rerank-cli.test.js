// rerank-cli.test.js - `wembed rerank` (cli.test.js's style): the three line shapes in, {"score"} /
// {"scores"} out, one line per input line in order, scores equal to the reference logits and to
// the Reranker API, --activation sigmoid, truncation said on stderr, bad lines numbered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { Reranker } from '../../js/index.js';
import { ROOT, FIXTURES, fixtureCase, rows, tmpDir, tinyTokenizer } from './helpers.js';

const CLI = path.join(ROOT, 'js/cli.js');

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

const jsonl = (xs) => xs.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n') + '\n';

/** rerank_bert with a tiny tokenizer.json, as a model folder. */
function textModel() {
  const dir = tmpDir('wembed-rerank-');
  for (const f of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(FIXTURES, 'rerank_bert', f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizer()));
  return dir;
}

test('rerank: token ids lines give the reference logits, --activation sigmoid their sigmoids', async () => {
  for (const fx of ['rerank_bert', 'rerank_xlmr']) {
    const c = fixtureCase(fx, 'pairs4');
    const mask = rows(c.attention_mask);
    const types = c.token_type_ids ? rows(c.token_type_ids) : null;
    const input = rows(c.input_ids).map((ids, b) => ({
      input_ids: ids.filter((_, t) => mask[b][t]),
      ...(types ? { token_type_ids: types[b].filter((_, t) => mask[b][t]) } : {}),
    }));
    const r = await run(['rerank', '--model', path.join(FIXTURES, fx), '--threads', '1', '--batch-size', '3'], jsonl(input));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.lines.length, 4);
    r.lines.forEach((l, b) => assert.ok(Math.abs(l.score - c.logits.data[b]) <= 1e-4, `${fx} row ${b}: ${l.score} vs ${c.logits.data[b]}`));
    const s = await run(['rerank', '--model', path.join(FIXTURES, fx), '--threads', '1', '--activation', 'sigmoid'], jsonl(input));
    s.lines.forEach((l, b) => assert.ok(Math.abs(l.score - c.scores_sigmoid.data[b]) <= 1e-4));
  }
});

test('rerank: query/document and query/documents lines, in order, as the Reranker API scores them', async () => {
  const dir = textModel();
  const docs = ['Cats are small feline pets.', 'A car is fast and red.', `${'the cat has four legs, '.repeat(40)}.`];
  const q = 'What is a small feline pet?';
  const input = [{ query: q, document: docs[0] }, { query: q, documents: docs }, '{"query": 1}', 'not json', { query: q, document: docs[1] }];
  const r = await run(['rerank', '--model', dir, '--threads', '1', '--batch-size', '2'], jsonl(input));
  assert.equal(r.code, 1);   // two bad lines
  assert.equal(r.lines.length, 5);
  const api = await Reranker.load(dir, { variant: 'st' });
  try {
    const { scores } = await api.score(docs.map((d) => [q, d]));
    const near = (a, b) => Math.abs(a - b) <= 1e-6;
    assert.ok(near(r.lines[0].score, scores[0][0]));
    assert.equal(r.lines[1].scores.length, 3);
    r.lines[1].scores.forEach((s, i) => assert.ok(near(s, scores[i][0])));
    assert.equal(r.lines[2].line, 3);
    assert.equal(r.lines[3].line, 4);
    assert.ok(near(r.lines[4].score, scores[1][0]));
  } finally {
    api.dispose();
  }
  assert.match(r.stderr, /line 2: documents 2 were truncated to fit the model/);
  assert.match(r.stderr, /line 3: expected/);
  const u = await run(['rerank', '--model', dir, '--activation', 'softmax'], '');
  assert.equal(u.code, 2);
  assert.match(u.stderr, /--activation must be one of none, sigmoid/);
  const info = await run(['info', '--model', dir, '--threads', '1']);
  assert.deepEqual(info.lines[0].reranker, { labels: 1, activation: 'none' });
  const help = await run(['--help']);
  assert.match(help.stdout, /rerank +--model M \[--activation none\|sigmoid\]/);
});
