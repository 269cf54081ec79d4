// browser-embed.test.js - the package as shipped (js/, dist/) in headless Chromium: a model
// loaded over HTTP and embedded on a plain page (single-thread module) and, with
// { worker: true }, on a cross-origin isolated page (the threaded module inside a Worker).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from '../browser/chromium.js';
import { ROOT, DATA, cosine } from './helpers.js';

const expected = JSON.parse(fs.readFileSync(path.join(DATA, 'e2e/expected.json'), 'utf8')).cases;
let isolated;
let plain;
let browser;
let nodeEnc;

before(async () => {
  const { Embedder } = await import('../../js/index.js');
  const e = await Embedder.load(path.join(DATA, 'e2e'), { variant: 'st' });
  nodeEnc = await e.tokenize('Café déjà vu 😀');
  e.dispose();
  isolated = await startServer({ root: ROOT, isolated: true });
  plain = await startServer({ root: ROOT, isolated: false });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await isolated?.close();
  await plain?.close();
});

async function page(base, query, { reference = true } = {}) {
  const p = await browser.context.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  try {
    await p.goto(`${base}/tests/browser/embed.html${query}`);
    await p.waitForFunction(() => /** @type {any} */ (window).result !== undefined, null, { timeout: 60000 });
    const r = await p.evaluate(() => /** @type {any} */ (window).result);
    assert.equal(r.error, undefined, r.error);
    assert.deepEqual(errors, []);
    if (reference) r.vs.forEach((v, i) => assert.ok(cosine(v, expected[i].mean_normalized) >= 0.99999, `text ${i}`));
    assert.equal(r.events.at(-1).status, 'ready');
    assert.deepEqual(r.enc, nodeEnc, 'the same tokens and UTF-16 offsets as in Node');
    return r;
  } finally {
    await p.close();
  }
}

test('a plain page embeds with the single-thread module', async (t) => {
  const r = await page(plain.url, '');
  assert.equal(r.info.engine.variant, 'st');
  t.diagnostic(`plain page: ${r.vs.length} texts in ${r.ms.toFixed(0)} ms`);
});

test('a cross-origin isolated page runs the threaded module in a worker', async (t) => {
  const r = await page(isolated.url, '?worker=1&threads=2');
  assert.equal(r.isolated, true);
  assert.equal(r.info.engine.variant, 'mt');
  assert.equal(r.info.engine.threads, 2);
  t.diagnostic(`isolated page, worker: ${r.vs.length} texts in ${r.ms.toFixed(0)} ms`);
});

// The relaxed-SIMD module runs the int8 GEMM on the byte dot product where the CPU computes it
// exactly (src/ops/arch/wasm/gemm_q8_dot.h) and must then give the SIMD128 module's vectors,
// bit for bit: Node 20 has no relaxed SIMD, so Node's q8 vectors come from the plain module.
test('the relaxed-SIMD modules give the SIMD128 q8 vectors bit for bit', async (t) => {
  const { Embedder } = await import('../../js/index.js');
  const texts = JSON.parse(fs.readFileSync(path.join(DATA, 'e2e/texts.json'), 'utf8'));
  const e = await Embedder.load(path.join(DATA, 'e2e'), { variant: 'st', dtype: 'q8', simd: 'simd128' });
  const want = (await e.embed(texts)).map((v) => Array.from(v));
  e.dispose();
  for (const [base, query] of [[plain.url, '?dtype=q8&simd=relaxed'], [isolated.url, '?worker=1&threads=2&dtype=q8&simd=relaxed']]) {
    const r = await page(base, query, { reference: false });
    assert.equal(r.info.engine.simd, 'relaxed');
    assert.match(r.info.engine.systemInfo, /^simd128( relaxed-dot-(u8|s8))?( threads)? wasm32$/);
    assert.deepEqual(r.vs, want, query);
    t.diagnostic(`${query}: ${r.info.engine.systemInfo}`);
  }
});
