// demo.test.js - the browser demo (web-demo/) end to end in headless Chromium: served with
// COOP/COEP, it must be cross-origin isolated and run the threaded engine in its worker; with
// the bundled models it indexes the sample documents and images, and every ranking it shows
// (text, binary codes, Matryoshka dims, images by text and by example) must equal the Node
// API's ranking for the same inputs, scores included. After a reload the index comes back from
// IndexedDB; the clear button removes it. Screenshots go to test-output/ (git-ignored). On a
// page without COOP/COEP the demo falls back to the single-thread engine and ranks the same.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from '../browser/chromium.js';
import { Embedder, Index } from '../../js/index.js';
import { chunkText, PASSAGE_CHARS } from '../../web-demo/chunk.js';
import { ROOT, DATA } from './helpers.js';

const DEMO = path.join(ROOT, 'web-demo');
const OUT = path.join(ROOT, 'test-output');
const DOC_NAMES = JSON.parse(fs.readFileSync(path.join(DEMO, 'samples/docs/index.json'), 'utf8'));
const IMAGE_NAMES = JSON.parse(fs.readFileSync(path.join(DEMO, 'samples/images/index.json'), 'utf8'));
const TEXT_QUERY = 'how do volcanoes erupt';
const IMAGE_QUERY = 'a red circle on a light background';

let server;
let browser;
let page;
const errors = [];

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  server = await startServer({ root: ROOT, isolated: true });
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1360, height: 900 });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

// ---------------------------------------------------------------------------------------
// The Node side: the same models, chunks, options and index settings as web-demo/worker.js.

async function nodeText({ dims = 0, binary = false } = {}) {
  const e = await Embedder.load(path.join(DATA, 'e2e'), { variant: 'st' });
  try {
    const chunks = DOC_NAMES.flatMap((n) => chunkText(fs.readFileSync(path.join(DEMO, 'samples/docs', n), 'utf8'), { maxChars: PASSAGE_CHARS }));
    const opts = { truncate: 'chunk', ...(dims ? { dims } : {}) };
    const vecs = await e.embed(chunks.map((c) => c.text), opts);
    const ix = await Index.create({ dims: vecs[0].length, engine: e.engine, storage: binary ? 'binary' : 'f32', rescore: 'int8' });
    ix.add(vecs.map((v, i) => ({ id: i, vector: v })));
    const [q] = await e.embed([TEXT_QUERY], opts);
    const hits = ix.search(q, { k: 10 });
    ix.dispose();
    return { count: chunks.length, hits: hits.map((h) => [String(h.id), h.score]) };
  } finally {
    e.dispose();
  }
}

async function nodeImages() {
  const e = await Embedder.load(path.join(DEMO, 'models/tiny-clip'), { variant: 'st' });
  try {
    const vecs = await e.embedImage(IMAGE_NAMES.map((n) => path.join(DEMO, 'samples/images', n)));
    const ix = await Index.create({ dims: vecs[0].length, engine: e.engine });
    ix.add(vecs.map((v, i) => ({ id: i, vector: v })));
    const [q] = await e.embed([IMAGE_QUERY]);
    const rank = (hits) => hits.map((h) => [IMAGE_NAMES[h.id], h.score]);
    const out = { byText: rank(ix.search(q, { k: 24 })), byExample: rank(ix.search(vecs[0], { k: 24 })) };
    ix.dispose();
    return out;
  } finally {
    e.dispose();
  }
}

// ---------------------------------------------------------------------------------------
// The page side

const countOf = (slot) => page.$eval(`#${slot}-index-status`, (el) => Number(el.dataset.count ?? 0));

async function waitCount(slot, n) {
  await page.waitForFunction(([s, want]) => Number(document.getElementById(`${s}-index-status`).dataset.count) === want, [slot, n], { timeout: 60000 });
}

async function textResults() {
  return page.$$eval('#text-results li', (ls) => ls.map((l) => [l.dataset.id, Number(l.dataset.score)]));
}

/** Types a query and waits until the shown results are for it and stop changing. */
async function searchText(q, expectFirst) {
  await page.fill('#text-query', '');
  await page.fill('#text-query', q);
  await page.waitForFunction(([query, id]) => {
    const ol = document.getElementById('text-results');
    return ol.dataset.query === query && ol.querySelector('li')?.dataset.id === id;
  }, [q, expectFirst], { timeout: 20000 });
  return textResults();
}

async function loadModel(slot) {
  await page.click(`#${slot}-load`);
  await page.waitForSelector(`#${slot}-model-facts[data-ready]`, { timeout: 60000 });
}

test('the demo: isolated + threaded, text and image search rank as the Node API does, restored after a reload, cleared', async (t) => {
  const textRef = await nodeText();
  const imageRef = await nodeImages();

  await page.goto(`${server.url}/web-demo/`);
  await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });

  await t.test('cross-origin isolated, threaded engine in the worker', async () => {
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    assert.equal(await page.textContent('#env-isolated'), 'yes');
    const hw = await page.evaluate(() => navigator.hardwareConcurrency);
    const threads = await page.$eval('#env-threads', (el) => [el.dataset.variant, Number(el.dataset.threads)]);
    assert.deepEqual(threads, ['mt', Math.min(8, hw)]);
    assert.ok(threads[1] >= 2, `threads: ${threads[1]}`);
    // Before anything is loaded the memory says so, not the engine's few bytes of its own.
    assert.equal(await page.textContent('#env-memory'), 'nothing loaded');
  });

  await t.test('text: index the sample documents, search, same ranking and scores as Node', async () => {
    await loadModel('text');
    assert.match(await page.textContent('#text-model-facts'), /Dimensions32/);
    await page.click('#text-samples');
    await page.waitForFunction(() => !document.getElementById('text-index').disabled);
    assert.match(await page.textContent('#text-index-status'), new RegExp(`^${DOC_NAMES.length} sample documents ready to index: press Index`));
    await page.click('#text-index');
    await waitCount('text', textRef.count);
    assert.match(await page.textContent('#env-memory'), /^[0-9.]+ (KB|MB) in use$/);
    assert.match(await page.textContent('#text-empty'), new RegExp(`${textRef.count} passages are indexed\\.Type a query above`));
    const got = await searchText(TEXT_QUERY, textRef.hits[0][0]);
    assert.equal(await page.isVisible('#text-empty'), false, 'the placeholder goes when results are shown');
    assert.deepEqual(got, textRef.hits);
    // the matching passage is highlighted inside its document
    const first = await page.$eval('#text-results li', (li) => ({ doc: li.querySelector('.doc').textContent, mark: li.querySelector('mark').textContent }));
    assert.ok(DOC_NAMES.includes(first.doc));
    assert.ok(first.mark.length > 20);
    await page.screenshot({ path: path.join(OUT, 'demo-text.png'), fullPage: true });
  });

  await t.test('text: binary codes and Matryoshka dims rank as the Node index with the same settings', async () => {
    const bin = await nodeText({ binary: true });
    await page.click('label:has(#text-binary)');
    await page.waitForFunction(() => document.getElementById('text-index-status').textContent.includes('binary'));
    assert.deepEqual(await searchText(TEXT_QUERY, bin.hits[0][0]), bin.hits);
    await page.waitForSelector('[data-testid=text-size-gain]');
    const gain = parseFloat(await page.textContent('[data-testid=text-size-gain]'));
    assert.ok(Math.abs(gain - 128 / 40) < 0.05, `binary + int8 codes of 32 dims are 40 bytes against 128: ${gain}`);

    const d16 = await nodeText({ dims: 16, binary: true });
    await page.selectOption('#text-dims', '16');
    await page.waitForFunction(() => / 16 dims /.test(document.getElementById('text-index-status').textContent), null, { timeout: 30000 });
    assert.deepEqual(await searchText(TEXT_QUERY, d16.hits[0][0]), d16.hits);
    await page.click('label:has(#text-binary)');
    await page.waitForFunction(() => document.getElementById('text-index-status').textContent.includes('float32'));
    await page.selectOption('#text-dims', '0');
    await page.waitForFunction(() => / 32 dims /.test(document.getElementById('text-index-status').textContent), null, { timeout: 30000 });
    assert.deepEqual(await searchText(TEXT_QUERY, textRef.hits[0][0]), textRef.hits);
  });

  await t.test('images: index the sample images, search by text and by example, same rankings as Node', async () => {
    await page.click('#tab-image');
    await loadModel('image');
    await page.click('#image-samples');
    await waitCount('image', IMAGE_NAMES.length);
    // The thumbnails decode on their own schedule, after the count is shown: wait for them.
    await page.waitForFunction((n) => [...document.querySelectorAll('#image-grid li img')]
      .filter((i) => i.complete && i.naturalWidth > 0).length === n, IMAGE_NAMES.length, { timeout: 20000 });
    await page.fill('#image-query', IMAGE_QUERY);
    await page.waitForFunction((q) => document.getElementById('image-grid').dataset.query === q, IMAGE_QUERY, { timeout: 20000 });
    const byText = await page.$$eval('#image-grid li', (ls) => ls.map((l) => [l.dataset.name, Number(l.dataset.score)]));
    assert.deepEqual(byText, imageRef.byText);
    await page.click(`#image-grid li[data-name="${IMAGE_NAMES[0]}"]`);
    await page.waitForFunction(() => document.getElementById('image-grid').dataset.query === 'similar:0', null, { timeout: 20000 });
    const byExample = await page.$$eval('#image-grid li', (ls) => ls.map((l) => [l.dataset.name, Number(l.dataset.score)]));
    assert.deepEqual(byExample, imageRef.byExample);
    assert.equal(byExample[0][0], IMAGE_NAMES[0]);
    await page.screenshot({ path: path.join(OUT, 'demo-image.png'), fullPage: true });
  });

  await t.test('a reload restores both indexes from IndexedDB and searches them again', async () => {
    await page.reload();
    await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
    await page.waitForSelector('#text-index-status[data-restored=true]', { state: 'attached', timeout: 30000 });
    assert.equal(await countOf('text'), textRef.count);
    assert.equal(await countOf('image'), IMAGE_NAMES.length);
    await page.waitForSelector('#text-model-facts[data-ready=tiny-bert]', { timeout: 60000 });   // its model comes back too
    // The results column is not left blank: it says what is indexed and what to do.
    assert.equal(await page.isVisible('#text-empty'), true);
    assert.match(await page.textContent('#text-empty'), new RegExp(`${textRef.count} passages are indexed\\.Type a query above`));
    assert.deepEqual(await searchText(TEXT_QUERY, textRef.hits[0][0]), textRef.hits);
  });

  await t.test('clear removes an index, also from IndexedDB', async () => {
    await page.click('#text-clear');
    await waitCount('text', 0);
    await page.reload();
    await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
    await page.waitForSelector('#image-index-status[data-restored=true]', { state: 'attached', timeout: 30000 });
    assert.equal(await countOf('text'), 0);
    assert.equal(await countOf('image'), IMAGE_NAMES.length);
  });

  assert.deepEqual(errors, []);
});

test('the demo on a phone (390 px): no sideways scroll, every control on screen; screenshots', async () => {
  const p = await browser.context.newPage();
  const errs = [];
  p.on('pageerror', (e) => errs.push(String(e)));
  try {
    await p.setViewportSize({ width: 390, height: 844 });
    await p.goto(`${server.url}/web-demo/`);
    await p.waitForSelector('body[data-ready=true]', { timeout: 30000 });
    const fits = () => p.evaluate(() => {
      const off = [...document.querySelectorAll('button, select, input:not([hidden]), textarea, .card, .results li')]
        .filter((el) => el.getClientRects().length && el.getBoundingClientRect().right > innerWidth + 0.5)
        .map((el) => `${el.tagName.toLowerCase()}#${el.id} right ${el.getBoundingClientRect().right.toFixed(0)}`);
      return { scroll: document.documentElement.scrollWidth, width: innerWidth, off };
    });
    let f = await fits();
    assert.equal(f.scroll, 390, `the page is ${f.scroll} px wide`);
    assert.deepEqual(f.off, []);
    const load = await p.$eval('#text-load', (b) => b.getBoundingClientRect().toJSON());
    assert.ok(load.left >= 0 && load.right <= 390, `Load button at ${load.left}-${load.right}`);
    await p.click('#text-load');
    await p.waitForSelector('#text-model-facts[data-ready]', { timeout: 60000 });
    await p.waitForSelector('#text-index-status[data-count]', { state: 'attached', timeout: 30000 });
    if (Number(await p.$eval('#text-index-status', (el) => el.dataset.count)) === 0) {
      await p.click('#text-samples');
      await p.waitForFunction(() => !document.getElementById('text-index').disabled);
      await p.click('#text-index');
      await p.waitForFunction(() => Number(document.getElementById('text-index-status').dataset.count) > 0, null, { timeout: 60000 });
    }
    await p.fill('#text-query', TEXT_QUERY);
    await p.waitForFunction((q) => document.getElementById('text-results').dataset.query === q, TEXT_QUERY, { timeout: 20000 });
    f = await fits();
    assert.equal(f.scroll, 390, `with results the page is ${f.scroll} px wide`);
    assert.deepEqual(f.off, []);
    await p.screenshot({ path: path.join(OUT, 'demo-390.png'), fullPage: true });
    await p.click('#tab-image');
    f = await fits();
    assert.equal(f.scroll, 390, `the image tab is ${f.scroll} px wide`);
    await p.screenshot({ path: path.join(OUT, 'demo-390-image.png'), fullPage: true });
    assert.deepEqual(errs, []);
  } finally {
    await p.close();
  }
});

test('offline, a hub model says what to do instead (the bundled model, a folder, or once online); a folder loads', async () => {
  const p = await browser.context.newPage();
  try {
    await p.goto(`${server.url}/web-demo/`);
    await p.waitForSelector('body[data-ready=true]', { timeout: 30000 });
    // A restored index reloads its (bundled) model first: let that finish while online.
    await p.waitForFunction(() => !document.getElementById('text-load').disabled &&
      (document.getElementById('text-index-status').dataset.restored !== 'true' || document.getElementById('text-model-facts').dataset.ready), null, { timeout: 60000 });
    await browser.context.setOffline(true);
    await p.selectOption('#text-model', 'minilm');
    await p.click('#text-load');
    await p.waitForSelector('#text-model-note.err', { timeout: 60000 });
    const note = await p.textContent('#text-model-note');
    assert.match(note, /^all-MiniLM-L6-v2 · 384 dims cannot be downloaded: the Hugging Face hub is out of reach \(offline\?\)\. Use the bundled model/);
    assert.doesNotMatch(note, /maxRetries/);
    // ... and a folder of model files loads with no network at all.
    await p.setInputFiles('#text-model-folder', path.join(DATA, 'e2e'));
    await p.waitForSelector('#text-model-facts[data-ready="folder:e2e"]', { timeout: 60000 });
    assert.match(await p.textContent('#text-model-facts'), /Dimensions32/);
  } finally {
    await browser.context.setOffline(false);
    await p.close();
  }
});

test('the demo on a page that is not cross-origin isolated: single-thread engine, same ranking', async () => {
  const plain = await startServer({ root: ROOT, isolated: false });
  const p = await browser.context.newPage();
  const errs = [];
  p.on('pageerror', (e) => errs.push(String(e)));
  try {
    const textRef = await nodeText();
    await p.goto(`${plain.url}/web-demo/`);
    await p.waitForSelector('body[data-ready=true]', { timeout: 30000 });
    assert.equal(await p.textContent('#env-isolated'), 'no');
    assert.deepEqual(await p.$eval('#env-threads', (el) => [el.dataset.variant, Number(el.dataset.threads)]), ['st', 1]);
    // another origin (port), so its own empty IndexedDB
    assert.equal(await p.$eval('#text-index-status', (el) => Number(el.dataset.count ?? 0)), 0);
    await p.click('#text-load');
    await p.waitForSelector('#text-model-facts[data-ready]', { timeout: 60000 });
    await p.click('#text-samples');
    await p.waitForFunction(() => !document.getElementById('text-index').disabled);
    await p.click('#text-index');
    await p.waitForFunction((n) => Number(document.getElementById('text-index-status').dataset.count) === n, textRef.count, { timeout: 60000 });
    await p.fill('#text-query', TEXT_QUERY);
    await p.waitForFunction((q) => document.getElementById('text-results').dataset.query === q, TEXT_QUERY, { timeout: 20000 });
    assert.deepEqual(await p.$$eval('#text-results li', (ls) => ls.map((l) => [l.dataset.id, Number(l.dataset.score)])), textRef.hits);
    assert.deepEqual(errs, []);
  } finally {
    await p.close();
    await plain.close();
  }
});
