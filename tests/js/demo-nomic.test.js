// demo-nomic.test.js - the browser demo's image search with a pair of towers in headless
// Chromium: the bundled tiny nomic-embed-text + nomic-embed-vision pair (web-demo/models/tiny-nomic)
// indexes the sample images with the vision tower and searches them by text with the text tower
// (task 'query': "search_query: " first) and by example; both rankings, scores included, must equal
// the Node API's with the same pair. Offline: everything is served from the repository.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from '../browser/chromium.js';
import { Embedder, Index } from '../../js/index.js';
import { ROOT } from './helpers.js';

const DEMO = path.join(ROOT, 'web-demo');
const IMAGE_NAMES = JSON.parse(fs.readFileSync(path.join(DEMO, 'samples/images/index.json'), 'utf8'));
const IMAGE_QUERY = 'a yellow star on a dark background';

let server;
let browser;

before(async () => {
  server = await startServer({ root: ROOT, isolated: true });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The Node side: the same pair, options and index as web-demo/worker.js. */
async function nodeRanking() {
  const pair = path.join(DEMO, 'models/tiny-nomic');
  const e = await Embedder.load({ text: path.join(pair, 'text'), vision: path.join(pair, 'vision') },
    { variant: 'st', model: { text: 'nomic-ai/nomic-embed-text-v1.5', vision: 'nomic-ai/nomic-embed-vision-v1.5' } });
  try {
    const vecs = await e.embedImage(IMAGE_NAMES.map((n) => path.join(DEMO, 'samples/images', n)));
    const ix = await Index.create({ dims: vecs[0].length, engine: e.engine });
    ix.add(vecs.map((v, i) => ({ id: i, vector: v })));
    const [q] = await e.embed([IMAGE_QUERY], { task: 'query' });
    const rank = (hits) => hits.map((h) => [IMAGE_NAMES[h.id], h.score]);
    const out = { byText: rank(ix.search(q, { k: 24 })), byExample: rank(ix.search(vecs[1], { k: 24 })) };
    ix.dispose();
    return out;
  } finally {
    e.dispose();
  }
}

test('the demo\'s image search with the bundled nomic text + vision pair ranks as the Node API does', async () => {
  const ref = await nodeRanking();
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    await page.goto(`${server.url}/web-demo/`);
    await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
    await page.click('#tab-image');
    await page.selectOption('#image-model', 'tiny-nomic');
    await page.click('#image-load');
    await page.waitForSelector('#image-model-facts[data-ready=tiny-nomic]', { timeout: 60000 });
    await page.click('#image-samples');
    await page.waitForFunction((n) => Number(document.getElementById('image-index-status').dataset.count) === n, IMAGE_NAMES.length, { timeout: 60000 });
    await page.fill('#image-query', IMAGE_QUERY);
    await page.waitForFunction((q) => document.getElementById('image-grid').dataset.query === q, IMAGE_QUERY, { timeout: 20000 });
    const byText = await page.$$eval('#image-grid li', (ls) => ls.map((l) => [l.dataset.name, Number(l.dataset.score)]));
    assert.deepEqual(byText, ref.byText);
    await page.click(`#image-grid li[data-name="${IMAGE_NAMES[1]}"]`);
    await page.waitForFunction(() => document.getElementById('image-grid').dataset.query === 'similar:1', null, { timeout: 20000 });
    const byExample = await page.$$eval('#image-grid li', (ls) => ls.map((l) => [l.dataset.name, Number(l.dataset.score)]));
    assert.deepEqual(byExample, ref.byExample);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
