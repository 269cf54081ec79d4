// package.test.js - the package as users get it: `npm pack`, the tarball installed offline into
// a temporary project, imported from ESM in Node (main entry, ./worker, the wasm subpaths, the
// bin), and a page bundled by Vite from that install, served and run in headless Chromium,
// embedding texts with the e2e fixture model (in page, in a worker, and offline from the Cache
// API) and a PNG Blob with the CLIP fixture, matching the reference vectors. With the addon built
// (scripts/build.sh node): the platform package packed too (scripts/pack-native.sh) and both
// tarballs installed offline with every compiler and build tool on PATH replaced by one that
// records the call: Node then runs the native backend, with nothing compiled at install.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { ROOT, DATA, FIXTURES, fixtureCase, tmpDir, cosine } from './helpers.js';
import { nativeTarget } from '../../js/native.js';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium } from '../browser/chromium.js';

const E2E = path.join(DATA, 'e2e');
const expected = JSON.parse(fs.readFileSync(path.join(E2E, 'expected.json'), 'utf8')).cases;
const texts = JSON.parse(fs.readFileSync(path.join(E2E, 'texts.json'), 'utf8'));
const npm = (args, cwd, env = process.env) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, npm_config_update_notifier: 'false' } });
// The apps' processes choose their backend themselves (scripts/test.sh sets WEMBED_BACKEND).
const appEnv = { ...process.env };
delete appEnv.WEMBED_BACKEND;
delete appEnv.WEMBED_NATIVE_PATH;
const TARGET = nativeTarget();
const noAddon = fs.existsSync(path.join(ROOT, `dist/wembed.${TARGET}.node`)) ? false : `no addon built for ${TARGET} (scripts/build.sh node)`;

let work;
let project;
let tgz;

before(() => {
  // npm pack runs prepack (scripts/prepack.mjs): types/ written, every named file checked.
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
    'dist/wembed-mt.worker.js', 'dist/wembed.wasi.wasm', 'types/index.d.ts', 'types/embedder.d.ts', 'types/worker.d.ts', 'types/pipeline.d.ts', 'types/tensor.d.ts', 'models/registry.json']) {
    assert.ok(list.includes(f), `${f} is packed`);
  }
  // Every file package.json names (exports, main, types, bin) is in the tarball.
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const named = [];
  const walk = (x) => (typeof x === 'string' ? named.push(x.replace(/^\.\//, '')) : x && typeof x === 'object' && Object.values(x).forEach(walk));
  [pkg.exports, pkg.main, pkg.types, pkg.bin].forEach(walk);
  for (const f of named) assert.ok(list.includes(f), `${f} (named in package.json) is packed`);
  assert.ok(!list.some((f) => f.startsWith('tests/') || f.startsWith('src/') || f.startsWith('build')), 'no sources or tests');
  assert.ok(!list.some((f) => f.startsWith('dist/bench/')), 'no bench build');
  const size = fs.statSync(tgz).size;
  console.log(`# npm pack: ${list.length} files, ${(size / 1024).toFixed(0)} KiB`);
});

test('prepack refuses to pack when a file package.json names is missing', () => {
  const dir = tmpDir('wembed-prepack-');
  try {
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    fs.mkdirSync(path.join(dir, 'dist'));
    for (const f of ['wembed.wasm', 'wembed-mt.wasm', 'wembed-relaxed.wasm', 'wembed-mt-relaxed.wasm', 'wembed-mt.worker.js']) fs.copyFileSync(path.join(ROOT, 'dist', f), path.join(dir, 'dist', f));
    fs.cpSync(path.join(ROOT, 'js'), path.join(dir, 'js'), { recursive: true });
    fs.cpSync(path.join(ROOT, 'types'), path.join(dir, 'types'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'models'));
    fs.copyFileSync(path.join(ROOT, 'models/registry.json'), path.join(dir, 'models/registry.json'));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/prepack.mjs'), '--check-only', dir], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the package would be incomplete:\n {2}\.\/dist\/wembed\.wasi\.wasm is missing: build it with scripts\/build\.sh wasi/);
    fs.copyFileSync(path.join(ROOT, 'dist/wembed.wasi.wasm'), path.join(dir, 'dist/wembed.wasi.wasm'));
    const ok = spawnSync(process.execPath, [path.join(ROOT, 'scripts/prepack.mjs'), '--check-only', dir], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('installed offline, a TypeScript app type-checks against it (strict, no casts)', () => {
  const app = path.join(project, 'ts');
  fs.mkdirSync(app, { recursive: true });
  fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: [], lib: ['ES2022', 'DOM'] },
    files: ['app.ts'],
  }));
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'ts-app', private: true, type: 'module' }));
  fs.writeFileSync(path.join(app, 'app.ts'), `
    import { Embedder, Index, Reranker, pipeline, similarity, createEngine, Tensor, WembedError } from 'wembed';

    const e = await Embedder.load('BAAI/bge-small-en-v1.5', { dtype: 'q8', onProgress: (p) => console.log(p.status, p.file) });
    const vs = await e.embed(['a', 'b']);              // Float32Array[] by default: no cast anywhere below
    const first: Float32Array = vs[0];
    const index = await Index.create({ dims: first.length, engine: e.engine });
    index.add(vs.map((vector, i) => ({ id: i, vector })));
    const hits = index.search(vs[1], { k: 1 });
    const s: number = similarity(vs[0], vs[1]) + e.similarity(vs[0], vs[1]) + hits[0].score;
    const q8: Int8Array[] = await e.embed('a', { quantize: 'int8' });
    const bits: Uint8Array[] = await e.embed('a', { quantize: 'binary', pooling: 'cls' });
    const tokens: Float32Array[][] = await e.embed('a', { pooling: 'none' });
    const [img] = await e.embedImage({ data: new Uint8Array(12), width: 2, height: 2, channels: 3 });
    const imgVec: Float32Array = img;

    const extractor = await pipeline('feature-extraction', 'sentence-transformers/all-MiniLM-L6-v2', { quantized: true, local_files_only: true });
    const out: Tensor = await extractor(['a', 'b'], { pooling: 'first_token', normalize: true });
    const n: number = out.dims[0] + out.slice(null, [0, 8]).mean(1).item() + out.normalize(2, -1).data.length;
    const rows: number[][] = out.tolist();
    const classify = await pipeline('text-classification', 'cross-encoder/ms-marco-MiniLM-L6-v2');
    await classify({ text: 'q', text_pair: 'd' });
    const r = await Reranker.load('cross-encoder/ms-marco-MiniLM-L6-v2');
    const ranked = await r.rerank('q', ['d1', 'd2'], { topK: 1 });
    const engine = await createEngine({ variant: 'auto', threads: 2 });
    // @ts-expect-error the result is a Tensor, not any
    const notAString: string = out;
    // @ts-expect-error tasks are checked
    await pipeline('fill-mask', 'bert-base-uncased');
    // @ts-expect-error a quantized call is not Float32Array[]
    const wrong: Float32Array[] = await e.embed('a', { quantize: 'int8' });
    console.log(s, q8, bits, tokens, imgVec, n, rows, ranked, engine.threads, WembedError, notAString, wrong);
  `);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app, encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc on an app using the installed types:\n${r.stdout}${r.stderr}`);
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

test('with its platform package, installed offline, Node runs the native addon; nothing is compiled at install', { skip: noAddon }, () => {
  const platformTgz = execFileSync('bash', [path.join(ROOT, 'scripts/pack-native.sh'), TARGET, work], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').at(-1);
  assert.equal(path.basename(platformTgz), `wembed-${TARGET}-${JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version}.tgz`);
  const list = execFileSync('tar', ['-tzf', platformTgz], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  assert.deepEqual(list, ['package/README.md', 'package/package.json', `package/wembed.${TARGET}.node`]);

  // Every compiler and build tool an install could call, replaced by one that records the call.
  const tools = path.join(work, 'no-compilers');
  const calls = path.join(work, 'compiler-calls.log');
  fs.mkdirSync(tools, { recursive: true });
  for (const t of ['cc', 'gcc', 'g++', 'c++', 'clang', 'clang++', 'make', 'cmake', 'ninja', 'python', 'python3', 'node-gyp', 'prebuild-install']) {
    fs.writeFileSync(path.join(tools, t), `#!/bin/sh\necho "${t} $*" >> '${calls}'\nexit 1\n`, { mode: 0o755 });
  }
  const env = { ...appEnv, PATH: `${tools}${path.delimiter}${process.env.PATH}`, npm_config_node_gyp: path.join(tools, 'node-gyp') };
  // The guard works: a compiler called through PATH is the stub, and is recorded.
  assert.equal(spawnSync('cc', ['--version'], { env }).status, 1);
  assert.equal(fs.readFileSync(calls, 'utf8'), 'cc --version\n');
  fs.rmSync(calls);
  const app = path.join(work, 'app-native');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app-native', private: true, type: 'module' }));
  // Install scripts run (no --ignore-scripts): there must be none that builds.
  npm(['install', '--offline', '--no-audit', '--no-fund', tgz, platformTgz], app, env);
  assert.ok(!fs.existsSync(calls), `a compiler was called at install: ${fs.existsSync(calls) && fs.readFileSync(calls, 'utf8')}`);
  const installed = path.join(app, 'node_modules', `wembed-${TARGET}`);
  assert.ok(fs.existsSync(path.join(installed, `wembed.${TARGET}.node`)));
  assert.ok(!fs.existsSync(path.join(app, 'node_modules/wembed/dist', `wembed.${TARGET}.node`)), 'the main package holds no addon');

  fs.writeFileSync(path.join(app, 'main.mjs'), `
    import { Embedder } from 'wembed';
    const e = await Embedder.load(${JSON.stringify(E2E)});
    const vs = await e.embed(${JSON.stringify(texts.slice(0, 3))});
    const { backend, systemInfo } = e.info().engine;
    console.log(JSON.stringify({ backend, systemInfo, path: e.engine.nativePath, vs: vs.map((v) => Array.from(v)) }));
    e.dispose();`);
  const r = spawnSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.backend, 'native');
  assert.equal(fs.realpathSync(out.path), fs.realpathSync(path.join(installed, `wembed.${TARGET}.node`)));
  assert.doesNotMatch(r.stderr, /WEMBED_NATIVE_FALLBACK/);
  out.vs.forEach((v, i) => assert.ok(cosine(v, expected[i].mean_normalized) >= 0.99999, `text ${i}`));
});

test('without the platform package, Node runs the wasm module and says so once', () => {
  // `project` was installed with --omit=optional: no wembed-<platform> there.
  assert.ok(!fs.existsSync(path.join(project, 'node_modules', `wembed-${TARGET}`)));
  fs.writeFileSync(path.join(project, 'fallback.mjs'), `
    import { Embedder, createEngine } from 'wembed';
    const e = await Embedder.load(${JSON.stringify(E2E)}, { variant: 'st' });
    const [v] = await e.embed(${JSON.stringify(texts[0])});
    const e2 = await createEngine({ variant: 'st' });
    const out = { backends: [e.info().engine.backend, e2.backend], nativeError: e.engine.nativeError, v: Array.from(v) };
    e.dispose();
    e2.dispose();
    try { await createEngine({ backend: 'native' }); } catch (err) { out.native = { code: err.code, name: err.name, message: err.message }; }
    console.log(JSON.stringify(out));`);
  const r = spawnSync(process.execPath, ['fallback.mjs'], { cwd: project, encoding: 'utf8', env: appEnv });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.backends, ['wasm', 'wasm']);
  assert.ok(cosine(out.v, expected[0].mean_normalized) >= 0.99999);
  assert.match(out.nativeError, new RegExp(`no native addon for ${TARGET}`));
  assert.equal(out.native.code, 'unsupported');
  assert.equal(out.native.name, 'WembedError');
  // One message for the two engines, naming the package to install.
  const warnings = r.stderr.split('\n').filter((l) => l.includes('WEMBED_NATIVE_FALLBACK'));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], new RegExp(`WembedWarning: wembed: running the WebAssembly engine, not the native addon: .*optional dependency wembed-${TARGET}`));
  // Asked for by name, the wasm module comes without it.
  const quiet = spawnSync(process.execPath, ['-e', `import('wembed').then(async (w) => (await w.createEngine({ backend: 'wasm', variant: 'st' })).dispose())`], { cwd: project, encoding: 'utf8', env: appEnv });
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.equal(quiet.stderr, '');
});
