// pthread-start.test.js - the threaded module's workers in Chromium (a cross-origin isolated page):
// a worker that cannot start fails createEngine within seconds with a WembedError of code
// 'worker' that names the worker script, never a promise that never settles: a worker script
// that is not there, a worker whose glue import fails, and a worker that loads but never
// answers (the 15 s watchdog). And the start that works, for comparison.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { ROOT } from './helpers.js';
import { launchChromium } from '../browser/chromium.js';

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
let server;
let url;
let browser;
let glueRequests = 0;
let failGlueAfter = Infinity;

before(async () => {
  server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' };
    if (p === '/blank.html') return res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end('<!doctype html><title>t</title>');
    if (p === '/silent-worker.js') return res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end('// loads, never answers\n');
    if (p === '/dist/wembed-mt.mjs' && ++glueRequests > failGlueAfter) return res.writeHead(404, headers).end('not here');
    const file = path.join(ROOT, ...p.split('/').filter(Boolean));
    if (!file.startsWith(ROOT) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return res.writeHead(404, headers).end('not found');
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

/** createEngine({variant: 'mt', threads: 2, ...opts}) in a fresh isolated page: how it settled and when. */
async function start(opts) {
  const page = await browser.context.newPage();
  try {
    await page.goto(`${url}/blank.html`);
    return await page.evaluate(async (o) => {
      const { createEngine } = await import('/js/index.js');
      const t0 = performance.now();
      try {
        const e = await createEngine({ variant: 'mt', threads: 2, ...o });
        const r = { ok: true, threads: e.threads, ms: performance.now() - t0, isolated: crossOriginIsolated };
        e.dispose();
        return r;
      } catch (err) {
        return { ok: false, code: err.code, message: err.message, ms: performance.now() - t0 };
      }
    }, opts);
  } finally {
    await page.close();
  }
}

test('the threaded module starts its workers (page served as is)', async () => {
  failGlueAfter = Infinity;
  const r = await start({});
  assert.equal(r.ok, true, r.message);
  assert.equal(r.threads, 2);
});

test('a worker script that is not there fails the start at once', async () => {
  const r = await start({ workerURL: `${url}/no/such/wembed-mt.worker.js` });
  assert.equal(r.ok, false);
  assert.equal(r.code, 'worker');
  assert.match(r.message, /a thread of the threaded module failed to start .*\/no\/such\/wembed-mt\.worker\.js/);
  assert.ok(r.ms < 5000, `${r.ms} ms`);
});

test('a worker whose glue does not load fails the start at once', async () => {
  glueRequests = 0;
  failGlueAfter = 1;   // the page's own import of the glue works, the workers' imports get 404s
  try {
    const r = await start({});
    assert.equal(r.ok, false, 'no start without the glue in the workers');
    assert.equal(r.code, 'worker');
    assert.match(r.message, /failed to start .*wembed-mt\.worker\.js.*served from this origin/);
    assert.ok(r.ms < 5000, `${r.ms} ms`);
  } finally {
    failGlueAfter = Infinity;
  }
});

test('a worker that loads but never answers fails the start after 15 s, not never', async () => {
  const r = await start({ workerURL: `${url}/silent-worker.js` });
  assert.equal(r.ok, false);
  assert.equal(r.code, 'worker');
  assert.match(r.message, /worker\(s\) did not start within 15 s \(worker script: .*\/silent-worker\.js\)/);
  assert.ok(r.ms >= 14000 && r.ms < 20000, `${r.ms} ms`);
});
