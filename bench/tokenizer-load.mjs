#!/usr/bin/env node
// tokenizer-load.mjs - the load of big tokenizer.json files: wembed's tokenizer in wasm (the
// single-thread module, dist/wembed.wasm, through the JS Tokenizer) against the Rust
// `tokenizers` library (npm @anush008/tokenizers, a native Node binding). Each (engine, file)
// runs in a fresh process: wall and CPU time of the load (the machine may be shared: CPU time is
// the steadier figure), and memory: for wembed the engine's own allocations held after the load
// and their peak during it, and the growth of the wasm memory; for the Rust library the growth
// of the process's resident set. The JSON text is read (and gunzipped) before the clock starts.
// wembed's row also gives the CPU time of a second load in the same module (optimized code).
// `wembed-chromium` does the wasm load in a headless Chromium page (tests/browser/chromium.js):
// its CPU time is the renderer processes' (/proc, 10 ms ticks), its wall time the page's.
//
//   node bench/tokenizer-load.mjs [--engine wembed-wasm|wembed-chromium|rust] <tokenizer.json[.gz]> ...
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const MB = 1048576;
const read = (f) => { const b = readFileSync(f); return f.endsWith('.gz') ? gunzipSync(b) : b; };
const cpuMs = (c) => (c.user + c.system) / 1000;

async function child(engineName, file) {
  const bytes = read(file);
  if (engineName === 'rust') {
    const { Tokenizer } = createRequire(import.meta.url)('@anush008/tokenizers');
    const text = bytes.toString('utf8');
    globalThis.gc?.();
    const rss0 = process.memoryUsage().rss, c0 = process.cpuUsage(), t0 = performance.now();
    const tok = Tokenizer.fromString(text);
    const wall = performance.now() - t0, cpu = cpuMs(process.cpuUsage(c0));
    const rss = (process.memoryUsage().rss - rss0) / MB;
    const n = (await tok.encode('Hello world', null, { addSpecialTokens: true })).getIds().length;
    return { wall, cpu, mem: `${rss.toFixed(0)} MB RSS growth`, n };
  }
  const { createEngine } = await import('../js/engine.js');
  const { Tokenizer } = await import('../js/tokenizer.js');
  const engine = await createEngine({ backend: 'wasm', variant: 'st' });
  const m = engine.module;
  const heap0 = engine.heapU8().byteLength, held0 = m._wembed__alloc_bytes();
  m._wembed__alloc_reset_peak();
  const c0 = process.cpuUsage(), t0 = performance.now();
  const tok = await Tokenizer.load(bytes, { engine });
  const wall = performance.now() - t0, cpu = cpuMs(process.cpuUsage(c0));
  const held = (m._wembed__alloc_bytes() - held0) / MB, peak = (m._wembed__alloc_peak_bytes() - held0) / MB;
  const grown = (engine.heapU8().byteLength - heap0) / MB;
  const n = tok.encodeIds('Hello world').length;
  tok.dispose();
  // A second load in the same module: V8 first runs wasm in its baseline compiler and optimizes
  // hot functions meanwhile, so the first load (what a page waits for) is the slower one.
  const c1 = process.cpuUsage();
  (await Tokenizer.load(bytes, { engine })).dispose();
  const again = cpuMs(process.cpuUsage(c1));
  return { wall, cpu, mem: `${held.toFixed(0)} MB held, ${peak.toFixed(0)} MB peak (memory grew ${grown.toFixed(0)} MB); a second load ${again.toFixed(0)} ms CPU`, n };
}

// CPU seconds (user + system) of Chromium's renderer processes started by this process.
function rendererCpu() {
  const ticks = (pid) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return Number(rest[11]) + Number(rest[12]);   // utime, stime (fields 14, 15)
    } catch { return 0; }
  };
  let sum = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      let ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      for (let n = 0; ppid > 1 && n < 20 && ppid !== process.pid; n++) {
        const ps = readFileSync(`/proc/${ppid}/stat`, 'utf8');
        ppid = Number(ps.slice(ps.lastIndexOf(')') + 2).split(' ')[1]);
      }
      if (ppid === process.pid) sum += ticks(d);
    } catch { /* gone */ }
  }
  return sum * 10;   // ms (USER_HZ 100)
}

async function chromiumChild(file) {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  // The page fetches the JSON from the server: a copy under build/ (git-ignored).
  const served = join(root, 'build', 'tokenizer-load', basename(file).replace(/\.gz$/, ''));
  mkdirSync(dirname(served), { recursive: true });
  writeFileSync(served, read(file));
  const { startServer } = await import('../scripts/serve.mjs');
  const { launchChromium } = await import('../tests/browser/chromium.js');
  const srv = await startServer({ root, isolated: true });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`${srv.url}/bench/tokenizer-load.html`);
    await page.waitForFunction(() => window.ready === true);
    await page.evaluate((u) => window.prepare(u), '/' + relative(root, served));
    const c0 = rendererCpu();
    const first = await page.evaluate(() => window.load());
    const c1 = rendererCpu();
    const second = await page.evaluate(() => window.load());
    const c2 = rendererCpu();
    return { wall: first.wall, cpu: c1 - c0, n: first.n,
      mem: `${first.held.toFixed(0)} MB held, ${first.peak.toFixed(0)} MB peak (memory grew ${first.grown.toFixed(0)} MB); a second load ${c2 - c1} ms CPU, ${second.wall.toFixed(0)} ms wall` };
  } finally {
    await browser.close();
    srv.close();
    rmSync(served, { force: true });
  }
}

let args = process.argv.slice(2);
if (args[0] === '--child' && args[1] === 'wembed-chromium') {
  process.stdout.write(JSON.stringify(await chromiumChild(args[2])) + '\n');
  process.exit(0);
}
if (args[0] === '--child') {
  process.stdout.write(JSON.stringify(await child(args[1], args[2])) + '\n');
  process.exit(0);
}
const engines = args[0] === '--engine' ? [args[1]] : ['wembed-wasm', 'rust'];
if (args[0] === '--engine') args = args.slice(2);
const me = fileURLToPath(import.meta.url);
console.log('| file | MB | engine | load CPU ms | load wall ms | memory |');
console.log('|---|---:|---|---:|---:|---|');
for (const file of args) {
  const mb = read(file).length / MB;
  const name = basename(dirname(file)) + '/' + basename(file);
  for (const engineName of engines) {
    const out = execFileSync(process.execPath, ['--expose-gc', me, '--child', engineName, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const r = JSON.parse(out.trim().split('\n').pop());
    console.log(`| ${name} | ${mb.toFixed(1)} | ${engineName} | ${r.cpu.toFixed(0)} | ${r.wall.toFixed(0)} | ${r.mem} |`);
  }
}
