// demo-rerank.test.js - the demo's rerank switch (web-demo/) in headless Chromium: with the bundled
// text model and the bundled tiny cross-encoder (web-demo/models/tiny-reranker), the reranked
// results the page shows (computed in its worker through Index#search's rerank option) must be
// the vector search's best 40 passages ordered by the cross-encoder's own scores, computed here
// in Node independently (Reranker#score on each (query, passage), no Index rerank path), with
// the previous rank -> new rank of each result and the added latency shown. Switching it off
// gives the plain ranking back; on a 390 px phone the reranked results fit the screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from '../browser/chromium.js';
import { Embedder, Index, Reranker } from '../../js/index.js';
import { chunkText, PASSAGE_CHARS } from '../../web-demo/chunk.js';
import { ROOT, DATA } from './helpers.js';

const DEMO = path.join(ROOT, 'web-demo');
const OUT = path.join(ROOT, 'test-output');
const DOC_NAMES = JSON.parse(fs.readFileSync(path.join(DEMO, 'samples/docs/index.json'), 'utf8'));
const QUERY = 'how do volcanoes erupt';
const CANDIDATES = 40;   // web-demo/worker.js RERANK_CANDIDATES

let server;
let browser;

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  server = await startServer({ root: ROOT, isolated: true });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Node: the demo's passages and vector search (as demo.test.js), then the cross-encoder's scores of the 40 best, sorted. */
async function reference() {
  const e = await Embedder.load(path.join(DATA, 'e2e'), { variant: 'st' });
  const r = await Reranker.load(path.join(DEMO, 'models/tiny-reranker'), { variant: 'st' });
  try {
    const chunks = DOC_NAMES.flatMap((n) => chunkText(fs.readFileSync(path.join(DEMO, 'samples/docs', n), 'utf8'), { maxChars: PASSAGE_CHARS }));
    const vecs = await e.embed(chunks.map((c) => c.text), { truncate: 'chunk' });
    const ix = await Index.create({ dims: vecs[0].length, engine: e.engine });
    ix.add(vecs.map((v, i) => ({ id: i, vector: v })));
    const [q] = await e.embed([QUERY], { truncate: 'chunk' });
    const plain = ix.search(q, { k: CANDIDATES });
    ix.dispose();
    const { scores } = await r.score(plain.map((h) => [QUERY, chunks[/** @type {number} */ (h.id)].text]));
    const order = plain.map((_, i) => i).sort((a, b) => scores[b][0] - scores[a][0] || a - b).slice(0, 10);
    return {
      count: chunks.length,
      plain: plain.slice(0, 10).map((h) => [String(h.id), h.score]),
      reranked: order.map((i) => ({ id: String(plain[i].id), score: scores[i][0], was: i })),
    };
  } finally {
    e.dispose();
    r.dispose();
  }
}

async function indexSamples(p, count) {
  await p.click('#text-load');
  await p.waitForSelector('#text-model-facts[data-ready]', { timeout: 60000 });
  await p.waitForSelector('#text-index-status[data-count]', { state: 'attached', timeout: 30000 });
  if (Number(await p.$eval('#text-index-status', (el) => el.dataset.count)) !== count) {
    await p.click('#text-samples');
    await p.waitForFunction(() => !document.getElementById('text-index').disabled);
    await p.click('#text-index');
    await p.waitForFunction((n) => Number(document.getElementById('text-index-status').dataset.count) === n, count, { timeout: 60000 });
  }
}

/** Types the query and waits for its results, reranked by `reranked` (or plain with null). */
async function search(p, reranked) {
  await p.fill('#text-query', '');
  await p.fill('#text-query', QUERY);
  await p.waitForFunction(([q, rr]) => {
    const ol = document.getElementById('text-results');
    return ol.dataset.query === q && (ol.dataset.reranked ?? null) === rr && ol.children.length > 0;
  }, [QUERY, reranked], { timeout: 30000 });
  return p.$$eval('#text-results li', (ls) => ls.map((l) => ({
    id: l.dataset.id, score: Number(l.dataset.score), was: l.dataset.retrievalRank === undefined ? null : Number(l.dataset.retrievalRank),
    moved: l.querySelector('.moved')?.textContent ?? null,
  })));
}

test('the rerank switch: the bundled cross-encoder orders the best 40 passages by its own scores, with the rank changes and the latency shown', async () => {
  const ref = await reference();
  assert.notDeepEqual(ref.reranked.map((x) => x.id), ref.plain.map((x) => x[0]), 'the reranker changes the order here');
  const p = await browser.context.newPage();
  const errs = [];
  p.on('pageerror', (e) => errs.push(String(e)));
  p.on('console', (m) => { if (m.type() === 'error') errs.push(m.text()); });
  try {
    await p.setViewportSize({ width: 1360, height: 900 });
    await p.goto(`${server.url}/web-demo/`);
    await p.waitForSelector('body[data-ready=true]', { timeout: 30000 });
    await indexSamples(p, ref.count);
    const plain = await search(p, null);
    assert.deepEqual(plain.map((h) => [h.id, h.score]), ref.plain);

    assert.equal(await p.$eval('#text-reranker', (s) => s.value), 'tiny-reranker');
    assert.deepEqual(await p.$$eval('#text-reranker option', (os) => os.map((o) => o.value)), ['tiny-reranker', 'ms-marco-minilm', 'bge-reranker-base']);
    await p.click('label:has(#text-rerank)');
    await p.waitForSelector('#text-reranker-facts[data-ready=tiny-reranker]', { timeout: 60000 });
    assert.match(await p.textContent('#text-reranker-facts'), /Scoreraw logit/);
    const got = await search(p, 'tiny-reranker');
    assert.deepEqual(got.map((h) => h.id), ref.reranked.map((x) => x.id), 'the order of the cross-encoder\'s scores');
    got.forEach((h, i) => {
      const x = ref.reranked[i];
      assert.ok(Math.abs(h.score - x.score) <= 1e-4, `rank ${i + 1}: score ${h.score} vs ${x.score}`);
      assert.equal(h.was, x.was);
      assert.equal(h.moved, `${x.was + 1} → ${i + 1}`);
    });
    const timing = await p.textContent('#text-timing');
    assert.match(timing, new RegExp(`^embed .+ · search .+ · rerank \\+[0-9.]+ (ms|µs) \\(top ${Math.min(CANDIDATES, ref.count)}\\)$`));
    const ms = Number(await p.$eval('#text-timing', (el) => el.dataset.rerankMs));
    assert.ok(ms > 0 && ms < 60000, `rerank latency ${ms}`);
    await p.screenshot({ path: path.join(OUT, 'demo-rerank.png'), fullPage: true });

    // Off: the plain ranking again.
    await p.click('label:has(#text-rerank)');
    assert.deepEqual((await search(p, null)).map((h) => [h.id, h.score]), ref.plain);
    assert.doesNotMatch(await p.textContent('#text-timing'), /rerank/);

    // A phone: the reranked results (rank changes included) fit 390 px.
    await p.click('label:has(#text-rerank)');
    await search(p, 'tiny-reranker');
    await p.setViewportSize({ width: 390, height: 844 });
    const f = await p.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      off: [...document.querySelectorAll('button, select, input:not([hidden]), .card, .results li, .moved')]
        .filter((el) => el.getClientRects().length && el.getBoundingClientRect().right > innerWidth + 0.5).map((el) => el.id || el.className),
    }));
    assert.equal(f.scroll, 390, `the page is ${f.scroll} px wide`);
    assert.deepEqual(f.off, []);
    await p.screenshot({ path: path.join(OUT, 'demo-rerank-390.png'), fullPage: true });
    assert.deepEqual(errs, []);
  } finally {
    await p.close();
  }
});
