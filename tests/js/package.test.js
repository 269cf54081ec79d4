// package.test.js - the package as users get it: `npm pack`, the tarball installed offline into
// a temporary project, imported from ESM in Node (main entry, ./worker, the wasm subpaths, the
// bin), and a page bundled by Vite from that install, served and run in headless Chromium,
// embedding texts with the e2e fixture model (in page, in a worker, and offline from the Cache
// API) and a PNG Blob with the CLIP fixture, matching the reference vectors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { ROOT, DATA, FIXTURES, fixtureCase, tmpDir, cosine } from './helpers.js';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from '../browser/chromium.js';

const E2E = path.join(DATA, 'e2e');
const expected = JSON.parse(fs.readFileSync(path.join(E2E, 'expected.json'), 'utf8')).cases;
const texts = JSON.parse(fs.readFileSync(path.join(E2E, 'texts.json'), 'utf8'));
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });

let work;
let project;
let tgz;

before(() => {
  if (!fs.existsSync(path.join(ROOT, 'types/index.d.ts'))) execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')]);
  work = tmpDir('wembed-pack-');
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], ROOT));
  tgz = path.join(work, packed[0].filename);
  project = path.join(work, 'app');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  npm(['install', '--offline', '--omit=optional', '--no-audit', '--no-fund', '--ignore-scripts', tgz], project);
});

after(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the package and nothing else', () => {
  const list = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  for (const f of ['package.json', 'js/index.js', 'js/worker.js', 'js/cli.js', 'dist/wembed.wasm', 'dist/wembed-mt.wasm', 'dist/wembed-relaxed.wasm', 'dist/wembed-mt-relaxed.wasm', 'dist/wembed.mjs', 'dist/wembed-mt.mjs',
    'dist/wembed-mt.worker.js', 'types/index.d.ts', 'types/embedder.d.ts', 'models/registry.json']) {
    assert.ok(list.includes(f), `${f} is packed`);
  }
  assert.ok(!list.some((f) => f.startsWith('tests/') || f.startsWith('src/') || f.startsWith('build')), 'no sources or tests');
  assert.ok(!list.some((f) => f.startsWith('dist/bench/')), 'no bench build');
  const size = fs.statSync(tgz).size;
  console.log(`# npm pack: ${list.length} files, ${(size / 1024).toFixed(0)} KiB`);
});

test('installed offline, it imports from ESM in Node and embeds', () => {
  const script = `
    import { Embedder, pipeline, createEngine } from 'wembed';
    import * as worker from 'wembed/worker';
    import fs from 'node:fs';
    import { fileURLToPath } from 'node:url';
    const wasm = fileURLToPath(import.meta.resolve('wembed/wembed.wasm'));
    const e = await Embedder.load(${JSON.stringify(E2E)}, { variant: 'st' });
    const vs = await e.embed(${JSON.stringify(texts.slice(0, 3))});
    e.dispose();
    const w = await Embedder.load(${JSON.stringify(E2E)}, { worker: true, variant: 'st' });
    const [wv] = await w.embed([${JSON.stringify(texts[0])}]);
    w.dispose();
    console.log(JSON.stringify({ vs: vs.map((v) => Array.from(v)), wv: Array.from(wv), wasm: fs.statSync(wasm).size,
      pipeline: typeof pipeline, worker: Object.keys(worker).length, engine: typeof createEngine }));`;
  fs.writeFileSync(path.join(project, 'main.mjs'), script);
  const r = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: project, encoding: 'utf8' }));
  r.vs.forEach((v, i) => assert.ok(cosine(v, expected[i].mean_normalized) >= 0.99999));
  assert.ok(cosine(r.wv, expected[0].mean_normalized) >= 0.99999);
  assert.ok(r.wasm > 100000);
  assert.equal(r.pipeline, 'function');
  // The bin works from the install.
  const out = execFileSync(path.join(project, 'node_modules/.bin/wembed'), ['embed', '--model', E2E, '--threads', '1'], { input: JSON.stringify({ text: texts[1] }) + '\n', encoding: 'utf8' });
  assert.ok(cosine(JSON.parse(out).embedding, expected[1].mean_normalized) >= 0.99999);
});

/** The Vite majors to build with: the devDependency (6), and 8 when installed as `vite8`. */
async function vites() {
  const out = [['vite', await import('vite')]];
  try {
    // WEMBED_VITE8: a folder holding Vite 8 outside the repository (e.g. npm install vite8@npm:vite@8 there).
    const dir = process.env.WEMBED_VITE8;
    out.push(['vite8', await import(dir ? pathToFileURL(path.join(dir, 'dist/node/index.js')).href : 'vite8')]);
  } catch {
    out.push(['vite8', null]);
  }
  return out;
}

/** A Vite app importing the installed package: text (in page, worker, cache) and image pages. */
function writeSite(site) {
  fs.mkdirSync(path.join(site, 'public/model/1_Pooling'), { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'modules.json', '1_Pooling/config.json']) {
    fs.copyFileSync(path.join(E2E, f), path.join(site, 'public/model', f));
  }
  fs.mkdirSync(path.join(site, 'public/clip'), { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'preprocessor_config.json']) fs.copyFileSync(path.join(FIXTURES, 'clip', f), path.join(site, 'public/clip', f));
  fs.writeFileSync(path.join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><title>wembed + vite</title><script type="module" src="./main.js"></script>\n');
  fs.writeFileSync(path.join(site, 'main.js'), `
    import { Embedder } from 'wembed';
    const texts = ${JSON.stringify(texts.slice(0, 4))};
    (async () => {
      const q = new URLSearchParams(location.search);
      const variant = q.get('variant') ?? 'auto';
      if (q.has('image')) {
        // A PNG Blob, decoded by the browser (createImageBitmap + OffscreenCanvas).
        const clip = await Embedder.load(new URL('./clip/', location.href).href, { cache: false, worker: q.has('worker'), variant });
        const blob = await (await fetch('./a.png')).blob();
        const [v] = await clip.embedImage(blob);
        const info = clip.info();
        clip.dispose();
        window.result = { vs: [Array.from(v)], variant: info.engine.variant, threads: info.engine.threads, last: 'ready', second: null, image: true };
        return;
      }
      const worker = q.has('worker');
      const base = new URL('./model/', location.href).href;
      const events = [];
      let e = await Embedder.load(base, { cache: q.has('cache'), worker, variant, onProgress: (p) => events.push(p.status) });
      let vs = await e.embed(texts);
      const info = e.info();
      e.dispose();
      let second = null;
      if (q.has('cache')) {
        // Again with the network gone: everything must come from the Cache API.
        const offline = () => Promise.reject(new TypeError('offline'));
        const ev2 = [];
        e = await Embedder.load(base, { cache: true, fetch: offline, maxRetries: 0, variant, onProgress: (p) => ev2.push(p.status) });
        vs = await e.embed(texts);
        e.dispose();
        second = [...new Set(ev2)];
      }
      window.result = { vs: vs.map((v) => Array.from(v)), variant: info.engine.variant, threads: info.engine.threads, last: events.at(-1), second };
    })().catch((err) => { window.result = { error: String(err && err.stack || err) }; });
  `);
}

for (const [name, load] of [['vite', 0], ['vite8', 1]]) {
  test(`a page bundled by ${name === 'vite' ? 'Vite 6' : 'Vite 8'} with no config embeds in Chromium: one thread, threads, in a worker`, async (t) => {
    const vite = (await vites())[load][1];
    if (!vite) {
      t.skip('Vite 8 is not installed (devDependency "vite8": "npm:vite@8.4.1")');
      return;
    }
    const site = path.join(project, `site-${name}`);
    writeSite(site);
    const c0 = fixtureCase('clip', 'image_raw0');
    const { default: sharp } = await import('sharp');
    fs.writeFileSync(path.join(site, 'public/a.png'), await sharp(Buffer.from(c0.image_uint8.data), { raw: { width: c0.image_uint8.shape[1], height: c0.image_uint8.shape[0], channels: 3 } }).png().toBuffer());
    const outDir = path.join(site, 'dist');
    // No configuration at all: the package must build with Vite's defaults (iife workers in Vite 6).
    await vite.build({ root: site, logLevel: 'error', configFile: false, build: { outDir, emptyOutDir: true } });
    const built = fs.readdirSync(path.join(outDir, 'assets'));
    assert.ok(built.some((f) => f.endsWith('.wasm')), `the wasm is emitted: ${built.join(', ')}`);
    t.diagnostic(`${vite.version}: ${built.length} assets`);

    const plain = await startServer({ root: outDir, isolated: false });
    const isolated = await startServer({ root: outDir, isolated: true });
    const browser = await launchChromium();
    try {
      const cases = [
        [plain, '', 'st'], [plain, '?worker=1', 'st'], [plain, '?cache=1', 'st'], [plain, '?image=1', 'st'], [plain, '?image=1&worker=1', 'st'],
        [isolated, '?variant=mt', 'mt'], [isolated, '?worker=1', 'mt'], [isolated, '?image=1&worker=1', 'mt'], [isolated, '?variant=st', 'st'],
      ];
      for (const [server, query, variant] of cases) {
        const page = await browser.context.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(`${server.url}/index.html${query}`);
        await page.waitForFunction(() => /** @type {any} */ (window).result !== undefined, null, { timeout: 60000 });
        const r = await page.evaluate(() => /** @type {any} */ (window).result);
        await page.close();
        const where = `${server === isolated ? 'isolated' : 'plain'} page${query}`;
        assert.equal(r.error, undefined, `${where}: ${r.error}`);
        assert.deepEqual(errors, [], where);
        assert.equal(r.variant, variant, `${where}: the ${variant} module`);
        if (variant === 'mt') assert.ok(r.threads >= 2, `${where}: ${r.threads} threads`);
        assert.equal(r.last, 'ready');
        if (query === '?cache=1') assert.deepEqual(r.second, ['load', 'ready'], 'the second load reads only the Cache API');
        if (r.image) assert.ok(cosine(r.vs[0], c0.image_embeds_normalized.data) >= 0.99999, `${where}: ${cosine(r.vs[0], c0.image_embeds_normalized.data)}`);
        else r.vs.forEach((v, i) => assert.ok(cosine(v, expected[i].mean_normalized) >= 0.99999, `${where} text ${i}`));
        t.diagnostic(`${where}: ${r.vs.length} vectors match (${r.variant}, ${r.threads} threads)`);
      }
    } finally {
      await browser.close();
      await plain.close();
      await isolated.close();
    }
  });
}
