// browser.test.js - both wasm modules load in headless Chromium: the single-thread one on a
// plain page, the threaded one on a cross-origin isolated page (main thread and Worker).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from '../browser/chromium.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let isolated, plain, browser;

before(async () => {
  isolated = await startServer({ root, isolated: true });
  plain = await startServer({ root, isolated: false });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await isolated?.close();
  await plain?.close();
});

async function smoke(base, query) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(`${base}/tests/browser/smoke.html${query}`);
    await page.waitForFunction(() => /** @type {any} */ (window).result !== undefined, null, { timeout: 30000 });
    const result = await page.evaluate(() => /** @type {any} */ (window).result);
    assert.equal(result.error, undefined, result.error);
    assert.deepEqual(errors, []);
    return result;
  } finally {
    await page.close();
  }
}

test('a plain page falls back to the single-thread module', async () => {
  const r = await smoke(plain.url, '');
  assert.equal(r.isolated, false);
  assert.equal(r.variant, 'st');
  assert.equal(r.threads, 1);
  assert.match(r.systemInfo, /^simd128( relaxed-dot-(u8|s8))? wasm32$/);
  assert.equal(r.simd, 'relaxed', 'Chromium has relaxed SIMD');
});

test('a cross-origin isolated page gets the threaded module', async () => {
  const r = await smoke(isolated.url, '?threads=2');
  assert.equal(r.isolated, true);
  assert.equal(r.variant, 'mt');
  assert.equal(r.threads, 2);
  assert.match(r.systemInfo, /^simd128( relaxed-dot-(u8|s8))? threads wasm32$/);
  assert.equal(r.simd, 'relaxed');
});

test('simd128 forces the plain SIMD128 module', async () => {
  const r = await smoke(plain.url, '?simd=simd128');
  assert.equal(r.simd, 'simd128');
  assert.equal(r.systemInfo, 'simd128 wasm32');
});

test('the threaded module runs inside a Worker', async () => {
  const r = await smoke(isolated.url, '?worker=1&threads=2');
  assert.equal(r.inWorker, true);
  assert.equal(r.variant, 'mt');
  assert.equal(r.threads, 2);
});

test('the single-thread module runs inside a Worker on a plain page', async () => {
  const r = await smoke(plain.url, '?worker=1');
  assert.equal(r.variant, 'st');
});
