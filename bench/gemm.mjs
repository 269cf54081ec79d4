#!/usr/bin/env node
// gemm.mjs - the GEMM benchmark: wembed's f32, int8 and 4-bit kernels on the shapes of a BERT layer,
// natively, in wasm under Node and in wasm in headless Chromium, each next to the hardware
// peak and to onnxruntime-web's WASM backend on the same shapes, at 1 and 2 threads.
//
//   npm run build && scripts/build.sh bench && (cd bench && npm ci) && node bench/gemm.mjs [options]
//     --threads 1,2  --tokens 128,512  --dtype f32,q8,q4  --rounds 3  --min-seconds 0.25
//     --no-native --no-node --no-browser --no-ort   --out bench/results/gemm.md
//
// Each process (Node) or Worker (Chromium) serves one thread count, because onnxruntime-web
// fixes its thread count when it starts. Within it the two engines alternate round by round
// and the table shows medians. In Chromium both flavours of the module run: relaxed SIMD (what
// a page gets) and plain SIMD128. Peaks are this machine's, measured by build/bench-peak for
// the very 128-bit instructions the kernels use (mulps + addps; pmaddwd + paddd; vpdpbusd).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onJsonLines } from './json-lines.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const SHAPES = [[384, 384], [384, 1536], [1536, 384], [768, 768], [768, 3072], [3072, 768]];

function option(args, name, dflt) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
}
const args = process.argv.slice(2);
const o = {
  threads: option(args, 'threads', '1,2').split(',').map(Number),
  tokens: option(args, 'tokens', '128,512').split(',').map(Number),
  dtypes: option(args, 'dtype', 'f32,q8,q4').split(','),
  rounds: Number(option(args, 'rounds', '3')),
  minSeconds: Number(option(args, 'min-seconds', '0.25')),
  shapes: SHAPES,
  withOrt: !args.includes('--no-ort'),
};

// -----------------------------------------------------------------------------------------
// Child mode: one thread count in this Node process, JSON lines on stdout.

if (args.includes('--child')) {
  const { createBenchEngine, benchGemm } = await import('../js/bench.js');
  const { runSuite } = await import('./gemm-runners.js');
  const threads = o.threads[0];
  let ort = null;
  if (o.withOrt) {
    ort = await import('./node_modules/onnxruntime-web/dist/ort.wasm.min.mjs');
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.wasmPaths = path.join(here, 'node_modules/onnxruntime-web/dist/');
    ort.env.logLevel = 'error';
  }
  await runSuite({ ...o, threads, createEngine: createBenchEngine, benchGemm, ort,
    onRow: (row) => process.stdout.write(JSON.stringify(row) + '\n') });
  process.exit(0);   // onnxruntime-web's threads would otherwise keep the process alive
}

// -----------------------------------------------------------------------------------------

for (const f of ['dist/bench/wembed-bench.mjs', 'dist/bench/wembed-mt-bench.mjs']) {
  if (!fs.existsSync(path.join(root, f))) {
    console.error(`bench: ${f} is missing: the GEMM benchmark runs on the bench build (scripts/build.sh bench)`);
    process.exit(1);
  }
}
if (o.withOrt && !fs.existsSync(path.join(here, 'node_modules/onnxruntime-web'))) {
  console.error('bench: onnxruntime-web is missing: run `npm ci` in bench/ (or pass --no-ort)');
  process.exit(1);
}

function runChild(threads) {
  return new Promise((resolve, reject) => {
    const childArgs = [fileURLToPath(import.meta.url), '--child', '--threads', String(threads),
      '--tokens', o.tokens.join(','), '--dtype', o.dtypes.join(','), '--rounds', String(o.rounds),
      '--min-seconds', String(o.minSeconds), ...(o.withOrt ? [] : ['--no-ort'])];
    const child = spawn(process.execPath, childArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
    const rows = [];
    onJsonLines(child.stdout, (row) => {
      rows.push(row);
      process.stderr.write(`node     ${fmtProgress(row)}\n`);
    });
    child.on('exit', (code) => (code === 0 ? resolve(rows) : reject(new Error(`bench child exited with ${code}`))));
  });
}

async function runBrowser(threads) {
  const { startServer } = await import('../scripts/serve.mjs');
  const { launchChromium } = await import('../tests/browser/chromium.js');
  const server = await startServer({ root, isolated: true });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const q = encodeURIComponent(JSON.stringify({ ...o, threads }));
    await page.goto(`${server.url}/bench/gemm.html?o=${q}`);
    let seen = 0;
    for (;;) {
      const state = await page.evaluate(() => ({ rows: window.rows, done: window.done, error: window.error }));
      for (; seen < state.rows.length; seen++) process.stderr.write(`chromium ${fmtProgress(state.rows[seen])}\n`);
      if (state.error) throw new Error(state.error);
      if (state.done) return state.rows;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

function fmtProgress(r) {
  return `${r.dtype} T=${r.T} ${r.K}x${r.N} threads=${r.threads}: wembed ${r.wembed.toFixed(1)}` +
    (r.ort != null ? `, onnxruntime-web ${r.ort.toFixed(1)}` : '');
}

// {f32_muladd, f32_fma, int8_dot16, int8_dot8} in G(FL)OP/s per thread, or null.
function measurePeaks() {
  const exe = path.join(root, 'build/bench-peak');
  if (!fs.existsSync(exe)) return null;
  const r = spawnSync(exe, ['--json'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const rows = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  return rows.length ? Object.fromEntries(rows.map((x) => [x.name, x.gops])) : null;
}

function runNative() {
  const exe = path.join(root, 'build/bench-gemm');
  if (!fs.existsSync(exe)) return null;
  const r = spawnSync(exe, ['--json', '--cpu', ...o.dtypes.map((d) => `--${d}`), '--rounds', String(o.rounds), '--seconds', String(o.minSeconds), '--threads', o.threads.join(','), '--T', o.tokens.join(',')], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`bench: ${exe} failed:\n${r.stderr}`);
    return null;
  }
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

// -----------------------------------------------------------------------------------------

const results = { native: [], node: [], chromium: [], peaks: null };
results.peaks = measurePeaks();
if (!args.includes('--no-native')) results.native = runNative() ?? [];
for (const t of o.threads) {
  if (!args.includes('--no-node')) results.node.push(...await runChild(t));
  if (!args.includes('--no-browser')) results.chromium.push(...await runBrowser(t));
}

const key = (r) => `${r.dtype}|${r.T}|${r.K}|${r.N}|${r.threads}`;
const byKey = (rows) => new Map(rows.map((r) => [key(r), r]));
const native = byKey(results.native), node = byKey(results.node), chromium = byKey(results.chromium);
const all = [...new Map([...results.node, ...results.chromium, ...results.native].map((r) => [key(r), r])).values()];
const f = (x) => (x == null ? '-' : x.toFixed(1));
const P = results.peaks;
// The bound of the instructions a row's kernel ran: f32 mul + add; int8 pmaddwd + paddd, or
// vpdpbusd where the relaxed module's byte dot product ran.
const peakOf = (r) => (!P ? null : r.dtype === 'f32' ? P.f32_muladd : /relaxed-dot/.test(r.systemInfo ?? '') ? P.int8_dot8 : P.int8_dot16);
const pct = (x, r, bound = peakOf(r)) => (x == null || !bound ? '-' : `${Math.round((100 * x) / (bound * r.threads))}%`);
const ratio = (a, b) => (a == null || b == null ? '-' : `${(a / b).toFixed(2)}x`);

const lines = [];
lines.push('# GEMM benchmark', '');
lines.push(`Generated by \`node bench/gemm.mjs\` on ${new Date().toISOString().slice(0, 10)} ` +
  `(${process.platform}, Node ${process.versions.node}; ${o.rounds} alternating rounds of >= ${o.minSeconds} s, medians). ` +
  'GFLOP/s for f32, GOP/s for q8 and q4 (2 ops per multiply-add). onnxruntime-web runs the same shape as a one-operator ONNX model (q8: ' +
  'DynamicQuantizeLinear + MatMulInteger, as its dynamic quantization makes it) on its WASM backend; it has no 4-bit GEMM to compare ' +
  'with (q4: 4-bit weights in blocks of 32, int8 activations per block, ops.h). In Chromium wembed runs ' +
  'both flavours of its module: relaxed SIMD (what a page gets; q8 on the byte dot product where the CPU computes it exactly) ' +
  'and plain SIMD128; Node 20 has no relaxed SIMD.', '');
if (P) {
  lines.push(`Peaks of this machine, one thread, measured by \`build/bench-peak\` for the 128-bit instructions the kernels use ` +
    `(% peak is against these times the threads): f32 mul + add ${f(P.f32_muladd)} GFLOP/s (FMA: ${f(P.f32_fma)}); ` +
    `int8 pmaddwd + paddd (i32x4.dot_i16x8) ${f(P.int8_dot16)} GOP/s; int8 vpdpbusd (relaxed dot) ${P.int8_dot8 ? f(P.int8_dot8) : 'not available'} GOP/s.`, '');
}
lines.push('| dtype | T | K x N | threads | native | wasm Node | % peak | ORT-web Node | ratio | wasm Chromium | % peak | Chromium SIMD128 | ORT-web Chromium | ratio |');
lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
all.sort((a, b) => (a.dtype.localeCompare(b.dtype) || a.threads - b.threads || a.T - b.T || a.K - b.K || a.N - b.N));
for (const r of all) {
  const k = key(r), n = node.get(k), c = chromium.get(k), nat = native.get(k);
  lines.push(`| ${r.dtype} | ${r.T} | ${r.K} x ${r.N} | ${r.threads} | ${f(nat?.gflops)} | ${f(n?.wembed)} | ${n ? pct(n.wembed, n) : '-'} | ` +
    `${f(n?.ort)} | ${ratio(n?.wembed, n?.ort)} | ${f(c?.wembed)} | ${c ? pct(c.wembed, c) : '-'} | ${f(c?.wembedSimd128)} | ${f(c?.ort)} | ${ratio(c?.wembed, c?.ort)} |`);
}
const report = lines.join('\n') + '\n';
process.stdout.write('\n' + report);
const out = option(args, 'out', path.join(here, 'results/gemm.md'));
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, report);
fs.writeFileSync(out.replace(/\.md$/, '.json'), JSON.stringify(results, null, 1) + '\n');
console.error(`bench: wrote ${path.relative(process.cwd(), out)}`);
