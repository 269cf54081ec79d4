#!/usr/bin/env node
// run.mjs - the speed and memory benchmark against transformers.js (`npm run bench`).
//
//   npm run build && npm ci --prefix bench && npm run bench [-- options]
//
// wembed and transformers.js embed the same inputs with the same random-weight models at the
// real sizes (gen/bench_models.py writes them into bench/models/ the first time: HF layout for
// wembed, ONNX f32 + q8 for transformers.js), at 1 and 2 threads, f32 and q8, in three
// environments (bench/engines.js):
//   node         wembed's wasm module and transformers.js forced onto onnxruntime-web's WASM backend
//   node-native  wembed's native addon (scripts/build.sh node) and transformers.js as Node users
//                run it, on onnxruntime-node
//   node24       the node pair under Node 24 (.cache/node24/bin/node, scripts/node24.sh), where
//                wembed runs its relaxed-SIMD flavour; with node in the same run, the report sets
//                the two side by side (wembed's Node 24 / Node 20 speed)
//   node-wasi    wembed's WASI module under node:wasi (scripts/build.sh wasi), one thread only,
//                against transformers.js on WebAssembly as in node
//   chromium     headless, cross-origin isolated page, engines in a Worker: wasm and onnxruntime-web.
// Both engines must agree (cosine) before any timing counts. Then:
//   throughput  short texts, documents of 512 and 2048 tokens, 16 (CLIP) or 4 images: alternating calls,
//               medians of --rounds (one process / Worker per thread count)
//   cold        import to first vector, and peak memory over load + every workload once
//               (a fresh process / browser per run; --cold-rounds runs, medians)
//   long        one 8192-token document through nomic and ModernBERT (wembed's time and memory;
//               how transformers.js fares)
//   bytes       wasm + JS each engine's page fetched (gzip -9), from the cold Chromium runs
//   gemm        bench/gemm.mjs (GEMM kernels against the hardware peak and onnxruntime-web)
// Results: bench/results/README.md (tables), chart.svg, results.json (every raw figure).
//
// Options: --quick (small models, 1 round: checks the pipeline in a few minutes)
//   --env node,node-native,chromium (also node24, node-wasi)  --threads 1,2  --dtype f32,q8 (q4: the models with an onnx/model_q4.onnx, qwen3 and gemma)
//   --models minilm,nomic,clip,siglip,nomicvision,modernbert,jina,rerank,qwen3,gemma (default: all, bench/engines.js MODELS)
//   --rounds 3  --cold-rounds 3  --long-threads 2  --long-dtype q8,f32  --long-env chromium,node
//   --long-models nomic,modernbert (the models of the 8192-token phase, of those in --models)
//   --workloads doc512,...  only these of each model's throughput workloads (bench/suite.js WORKLOADS)
//   --phases throughput,cold,long,gemm  --out bench/results  --job-timeout 3600 (seconds)
//   --merge   keep the rows this run does not redo (other phases, models, environments, thread
//             counts, dtypes, workloads) from the existing
//             <out>/results.json (to redo one phase or add models, e.g. after the machine was
//             disturbed); the report says so
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { makeTexts } from './inputs.js';
import { writeReport } from './report.js';
import { MODELS } from './engines.js';
import { WORKLOADS } from './suite.js';
import { onJsonLines } from './json-lines.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const list = (name, dflt) => opt(name, dflt).split(',').filter(Boolean);
const quick = args.includes('--quick');

const o = {
  quick,
  envs: list('env', 'node,node-native,chromium'),
  threads: list('threads', '1,2').map(Number),
  dtypes: list('dtype', 'f32,q8'),
  models: list('models', Object.keys(MODELS).join(',')),
  rounds: Number(opt('rounds', quick ? '1' : '3')),
  coldRounds: Number(opt('cold-rounds', quick ? '1' : '3')),
  longThreads: list('long-threads', '2').map(Number),
  longDtypes: list('long-dtype', 'q8,f32'),
  longEnvs: list('long-env', 'chromium,node'),
  longModels: list('long-models', 'nomic,modernbert'),
  phases: list('phases', quick ? 'throughput,cold,long' : 'throughput,cold,long,gemm'),
  out: path.resolve(opt('out', path.join(here, quick ? 'out/quick' : 'results'))),
  jobTimeout: Number(opt('job-timeout', '3600')),
  workloads: opt('workloads', null)?.split(',').filter(Boolean) ?? null,
};
const modelsDir = path.join(here, quick ? 'models/small' : 'models');
const log = (s) => process.stderr.write(`bench: ${s}\n`);

// -----------------------------------------------------------------------------------------
// Prerequisites: the wasm build, the competitor, the models, the inputs.

for (const f of ['dist/wembed.wasm', 'dist/wembed-mt.wasm', 'dist/wembed.mjs', 'dist/wembed-mt.mjs']) {
  if (!fs.existsSync(path.join(root, f))) { log(`${f} is missing: run \`npm run build\` first`); process.exit(1); }
}
if (o.phases.includes('gemm') && !fs.existsSync(path.join(root, 'dist/bench/wembed-mt-bench.mjs'))) {
  log('the GEMM phase runs on the bench build of the engine: run `scripts/build.sh bench` first'); process.exit(1);
}
if (o.envs.includes('node-native')) {
  const { loadNativeAddon } = await import('../js/native.js');
  const found = await loadNativeAddon();
  if ('error' in found) { log(`the node-native environment runs wembed's addon: ${found.error}; run \`scripts/build.sh node\` first`); process.exit(1); }
}
const NODE24 = path.join(root, '.cache/node24/bin/node');
if (o.envs.includes('node24') && !fs.existsSync(NODE24)) { log('the node24 environment runs Node 24: run `scripts/node24.sh` first'); process.exit(1); }
if (o.envs.includes('node-wasi') && !fs.existsSync(path.join(root, 'dist/wembed.wasi.wasm'))) {
  log('the node-wasi environment runs dist/wembed.wasi.wasm: run `scripts/build.sh wasi` first'); process.exit(1);
}
/** The WASI module has no threads: node-wasi runs at one thread only. */
const envRuns = (env, threads) => env !== 'node-wasi' || threads === 1;
const tjsPkg = path.join(here, 'node_modules/@huggingface/transformers/package.json');
if (!fs.existsSync(tjsPkg)) { log('transformers.js is missing: run `npm ci --prefix bench` first'); process.exit(1); }

const preset = quick ? 'small' : 'full';
const unknown = o.models.filter((m) => !MODELS[m]);
if (unknown.length) { log(`unknown model ${unknown.join(', ')}: ${Object.keys(MODELS).join(', ')}`); process.exit(1); }
// Models cut to fewer layers (MODELS[m].layers) in the full preset.
const layersOf = (m) => (quick ? undefined : MODELS[m].layers);
const stale = o.models.filter((m) => {
  try {
    const g = JSON.parse(fs.readFileSync(path.join(modelsDir, m, 'generated.json'), 'utf8'));
    return g.preset !== preset || g.layers !== layersOf(m);
  } catch { return true; }
});
if (stale.length) {
  log(`generating ${stale.join(', ')} (${preset}) into ${path.relative(root, modelsDir)} with gen/bench_models.py`);
  const layers = stale.filter(layersOf).map((m) => `${m}=${layersOf(m)}`).join(',');
  const r = spawnSync('/usr/bin/python3', [path.join(root, 'gen/bench_models.py'), '--out', modelsDir, '--preset', preset, '--only', stale.join(','),
    ...(layers ? ['--layers', layers] : [])], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) { log('model generation failed'); process.exit(1); }
}

fs.mkdirSync(path.join(here, 'out'), { recursive: true });
{
  const { Tokenizer } = await import('../js/index.js');
  const tok = await Tokenizer.load(path.join(root, 'tests/data/tokenizers/bge-small-en-v1.5/tokenizer.json'));
  const inputs = makeTexts((s) => tok.encode(s).ids.length);
  tok.dispose();
  fs.writeFileSync(path.join(here, 'out/inputs.json'), JSON.stringify(inputs));
  log(`inputs: 64 sentences (${inputs.shortTokens.reduce((a, b) => a + b, 0)} tokens), documents of ${Object.keys(inputs.docs).join(', ')} tokens, ` +
    `a query and ${inputs.rerank.passages.length} passages (pairs of ${Math.min(...inputs.rerank.pairTokens)}-${Math.max(...inputs.rerank.pairTokens)} tokens)`);
}

// -----------------------------------------------------------------------------------------
// Running a job in a fresh Node process

function runNode(job) {
  return new Promise((resolve) => {
    const node = job.env === 'node24' ? NODE24 : process.execPath;
    const child = spawn(node, [path.join(here, 'child.mjs'), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const rows = [];
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); rows.push({ type: 'error', env: job.env, job, error: `timeout after ${o.jobTimeout} s` }); }, o.jobTimeout * 1000);
    // The machine's load as each row came in (a shared machine: the report says how loaded).
    onJsonLines(child.stdout, (row) => { rows.push({ ...row, loadavg: os.loadavg() }); progress(row); });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && !rows.some((r) => r.type === 'error')) {
        rows.push({ type: 'error', env: job.env, job, error: `exit ${code ?? signal}: ${err.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}` });
      }
      if (rows.at(-1)?.type === 'error') progress(rows.at(-1));
      resolve(rows);
    });
  });
}

// -----------------------------------------------------------------------------------------
// Running a job in a fresh headless Chromium (its own profile and renderer)

let server = null;
let requestLog = null;
async function ensureServer() {
  if (server) return server;
  const { startServer } = await import('../scripts/serve.mjs');
  server = await startServer({ root, isolated: true });
  server.server.on('request', (req) => requestLog?.push(decodeURIComponent(new URL(req.url, 'http://x').pathname)));
  return server;
}

/** Pids of the renderer processes below this process (Chromium's own and no one else's). */
function rendererPids() {
  const parent = new Map();
  const cmd = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      cmd.set(Number(d), fs.readFileSync(`/proc/${d}/cmdline`, 'utf8'));
    } catch { /* gone */ }
  }
  const mine = (pid) => { for (let p = pid, n = 0; p > 1 && n < 20; p = parent.get(p), n++) if (p === process.pid) return true; return false; };
  return [...cmd].filter(([pid, c]) => c.includes('--type=renderer') && mine(pid)).map(([pid]) => pid);
}

function procStatus(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s) ?? [])[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch { return null; }
}

async function runChromium(job) {
  const srv = await ensureServer();
  const { launchChromium } = await import('../tests/browser/chromium.js');
  const browser = await launchChromium();
  const rows = [];
  requestLog = [];
  try {
    const page = await browser.context.newPage();
    let crashed = false;
    page.on('crash', () => { crashed = true; });
    await page.goto(`${srv.url}/bench/embed.html`);
    await page.waitForFunction(() => window.ready === true);
    const before = new Map(rendererPids().map((pid) => [pid, procStatus(pid)]));
    await page.evaluate((j) => window.start(j), { ...job, modelsBase: '/' + path.relative(root, modelsDir) + '/' });
    const t0 = Date.now();
    let seen = 0;
    for (;;) {
      if (crashed) { rows.push({ type: 'error', env: 'chromium', job, error: 'the page crashed (renderer killed, likely out of memory)' }); break; }
      let state;
      try {
        state = await page.evaluate(() => ({ rows: window.rows, done: window.done, error: window.error }));
      } catch (e) {
        rows.push({ type: 'error', env: 'chromium', job, error: crashed ? 'the page crashed (renderer killed, likely out of memory)' : String(e.message).slice(0, 300) });
        break;
      }
      for (; seen < state.rows.length; seen++) {
        rows.push(state.rows[seen]);
        if (!['cold', 'long'].includes(state.rows[seen].type)) progress(state.rows[seen]);   // those after their RSS below
      }
      if (state.error) { rows.push({ type: 'error', env: 'chromium', job, error: state.error.slice(0, 600) }); break; }
      if (state.done) break;
      if (Date.now() - t0 > o.jobTimeout * 1000) { rows.push({ type: 'error', env: 'chromium', job, error: `timeout after ${o.jobTimeout} s` }); break; }
      await new Promise((r) => setTimeout(r, 250));
    }
    // The page's renderer holds the Worker and both wasm memories: its peak RSS over the run.
    let best = null;
    for (const pid of rendererPids()) {
      const s = procStatus(pid);
      if (s && (!best || s.hwm > best.hwm)) best = { pid, ...s, base: before.get(pid)?.rss ?? NaN };
    }
    for (const r of rows) {
      if (r.type === 'cold' || r.type === 'long') {
        if (best) { r.rssPeakBytes = best.hwm; r.rssBaseBytes = best.base; }
        r.requests = [...requestLog];
        progress(r);
      }
    }
    if (rows.at(-1)?.type === 'error') progress(rows.at(-1));
  } finally {
    requestLog = null;
    await browser.close();
  }
  return rows;
}

const runJob = (env, job) => (env === 'chromium' ? runChromium(job) : runNode({ ...job, env }));

function progress(r) {
  const f = (x, d = 2) => (x == null ? '-' : x.toFixed(d));
  const where = `${r.env ?? r.job?.env ?? '?'} ${r.threads ?? r.job?.threads ?? '?'}t ${r.dtype ?? r.job?.dtype ?? ''} ${r.model ?? r.job?.model ?? ''}`;
  if (r.type === 'check' && r.pearson != null) log(`${where} check ${r.ok ? 'ok' : 'FAILED'}: scores' correlation ${f(r.pearson, 6)}, largest difference ${f(r.maxAbs, 5)} (spread ${f(r.spread, 3)}), vs torch ${f(r.refWembedMaxAbs, 5)} / ${f(r.refTjsMaxAbs, 5)}, tokens differ ${r.tokenMismatches}`);
  else if (r.type === 'check') log(`${where} check ${r.ok ? 'ok' : 'FAILED'}: cos min ${f(r.inputs?.min, 6)}, torch ${f(r.refWembed?.min, 6)} / ${f(r.refTjs?.min, 6)}, tokens differ ${r.tokenMismatches ?? '-'}`);
  else if (r.type === 'throughput') log(`${where} ${r.workload}: wembed ${f(r.units / r.wembed.seconds, 1)} ${r.unit}/s, transformers.js ${r.tjs.error ? r.tjs.error : f(r.units / r.tjs.seconds, 1)}`);
  else if (r.type === 'cold') log(`${where} cold ${r.engine}: ${f(r.seconds)} s${r.rssPeakBytes ? `, peak RSS ${f((r.rssPeakBytes - r.rssBaseBytes) / 2 ** 20, 0)} MiB added` : ''}${r.wasmBytes ? `, wasm ${f(r.wasmBytes / 2 ** 20, 0)} MiB` : ''}`);
  else if (r.type === 'long') log(`${where} ${r.tokens} tokens ${r.engine}: ${r.ok ? 'ok' : `failed (${r.error})`} in ${f(r.seconds, 1)} s, wasm ${f(r.wasmBytes / 2 ** 20, 0)} MiB`);
  else if (r.type === 'error') log(`${where} ERROR ${r.stage ?? ''}: ${r.error}`);
}

// -----------------------------------------------------------------------------------------
// The phases

const t00 = Date.now();
const loadStart = os.loadavg();
const rows = [];
// --merge: the previous run's rows of every phase not rerun now, and that run's description.
let mergedFrom = null;
if (args.includes('--merge')) {
  const prev = JSON.parse(fs.readFileSync(path.join(o.out, 'results.json'), 'utf8'));
  // The phase a row belongs to: agreement checks and suite errors without a job (they carry a
  // stage) come from the throughput phase.
  const phaseOf = (r) => (r.type === 'check' ? 'throughput' : r.type === 'error' ? r.job?.type ?? 'throughput' : r.type);
  // The models a row is about (a throughput job's error names all of its job's models).
  const modelsOf = (r) => (r.model ? [r.model] : r.job?.model ? [r.job.model] : r.job?.models ?? []);
  // A row is redone when this run covers its phase, model, environment, thread count, dtype
  // and workload (a field a row does not have does not narrow it).
  const covers = (list, v) => v == null || list == null || list.includes(v);
  const rerun = (r) => o.phases.includes(phaseOf(r)) && modelsOf(r).some((mm) => o.models.includes(mm)) &&
    covers(o.envs, r.env ?? r.job?.env) && covers(o.threads, r.threads ?? r.job?.threads) && covers(o.dtypes, r.dtype ?? r.job?.dtype) &&
    (r.type !== 'throughput' || covers(o.workloads, r.workload));
  // A model now generated with another layer count (MODELS[m].layers) is another model: none of
  // its earlier rows are kept.
  const relayered = (r) => modelsOf(r).some((mm) => o.models.includes(mm) && prev.meta.models?.[mm] && (prev.meta.models[mm].layers ?? undefined) !== layersOf(mm));
  const kept = prev.rows.filter((r) => !rerun(r) && !relayered(r));
  rows.push(...kept);
  const m = prev.meta;
  // The rows kept of a phase that did run now: those of other models, from the earlier run(s).
  const keptModels = [...new Set(kept.filter((r) => o.phases.includes(phaseOf(r))).flatMap(modelsOf))];
  mergedFrom = { command: m.mergedFrom?.command ?? m.command, date: m.mergedFrom?.date ?? m.date,
    machine: m.mergedFrom?.machine ?? m.machine, phases: [...new Set([...(m.mergedFrom?.phases ?? []), ...m.settings.phases])].filter((ph) => !o.phases.includes(ph)),
    gemm: m.gemm, shipped: prev.shipped, models: m.models, node24: m.versions.node24 ?? m.mergedFrom?.node24,
    rerunPhasesKeptModels: keptModels.length ? { phases: o.phases, models: keptModels, runs: [...new Set([m.mergedFrom?.rerunPhasesKeptModels?.runs ?? [], `${m.command} (${m.date.slice(0, 16).replace('T', ' ')} UTC, load average ${m.machine.loadavgStart.map((x) => x.toFixed(1)).join(' / ')})`].flat())] } : null };
}
const base = { modelsBase: modelsDir + '/' };

if (o.phases.includes('throughput')) {
  for (const threads of o.threads) {
    for (const env of o.envs.filter((e) => envRuns(e, threads))) {
      log(`throughput: ${env}, ${threads} thread(s)`);
      // --workloads: only these of each model's workloads (bench/suite.js WORKLOADS).
      const workloads = o.workloads ? Object.fromEntries(o.models.map((m) => [m, WORKLOADS[m].filter((w) => o.workloads.includes(w))])) : undefined;
      rows.push(...await runJob(env, { ...base, type: 'throughput', threads, dtypes: o.dtypes, models: o.models, rounds: o.rounds, workloads }));
    }
  }
}

if (o.phases.includes('cold')) {
  for (let rep = 0; rep < o.coldRounds; rep++) {
    log(`cold start and memory: round ${rep + 1} of ${o.coldRounds}`);
    for (const model of o.models) {
      for (const dtype of o.dtypes) {
        for (const threads of o.threads) {
          for (const env of o.envs.filter((e) => envRuns(e, threads))) {
            const engines = rep % 2 ? ['tjs', 'wembed'] : ['wembed', 'tjs'];
            for (const engine of engines) {
              rows.push(...await runJob(env, { ...base, type: 'cold', engine, model, dtype, threads, memory: rep === 0, rep }));
            }
          }
        }
      }
    }
  }
}

if (o.phases.includes('long')) {
  for (const model of o.longModels.filter((m) => o.models.includes(m))) {
    for (const env of o.longEnvs) {
      for (const dtype of o.longDtypes) {
        for (const threads of o.longThreads.filter((t) => envRuns(env, t))) {
          for (const engine of ['wembed', 'tjs']) {
            log(`long: ${env} ${engine} ${model} ${dtype} ${threads} thread(s), 8192 tokens`);
            rows.push(...await runJob(env, { ...base, type: 'long', engine, model, dtype, threads, tokens: 8192 }));
          }
        }
      }
    }
  }
}
if (server) await server.close();

let gemm = null;
if (o.phases.includes('gemm')) {
  log('GEMM: node bench/gemm.mjs');
  const r = spawnSync(process.execPath, [path.join(here, 'gemm.mjs'), '--out', path.join(o.out, 'gemm.md')], { stdio: ['ignore', 'ignore', 'inherit'] });
  gemm = r.status === 0 ? 'gemm.md' : null;
}

// -----------------------------------------------------------------------------------------
// Bytes shipped: what each engine's page fetched besides models and the harness.

function shipped() {
  const out = {};
  const engineOf = (p) => (p.startsWith('/js/') || p.startsWith('/dist/') || p === '/models/registry.json' ? 'wembed'
    : p.startsWith('/bench/node_modules/') ? 'tjs' : null);
  for (const r of rows) {
    if (r.type !== 'cold' || r.env !== 'chromium' || !r.requests) continue;
    const key = `${r.engine}|${r.threads}`;
    if (out[key]) continue;
    const files = [...new Set(r.requests)].filter((p) => engineOf(p) === r.engine && /\.(m?js|wasm|json)$/.test(p));
    const list = files.map((p) => {
      const bytes = fs.readFileSync(path.join(root, p));
      return { path: p, bytes: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length };
    });
    out[key] = { engine: r.engine, threads: r.threads, files: list,
      bytes: list.reduce((a, f) => a + f.bytes, 0), gzip: list.reduce((a, f) => a + f.gzip, 0) };
  }
  return Object.values(out);
}

const version = (p) => { try { return JSON.parse(fs.readFileSync(p, 'utf8')).version; } catch { return null; } };
const sh = (cmd, a) => { const r = spawnSync(cmd, a, { encoding: 'utf8' }); return r.status === 0 ? r.stdout.trim() : null; };
const meta = {
  date: new Date().toISOString(),
  command: `npm run bench${args.length ? ' -- ' + args.join(' ') : ''}`,
  minutes: (Date.now() - t00) / 60000,
  machine: { cpu: os.cpus()[0]?.model, cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(),
    loadavgStart: loadStart, loadavgEnd: os.loadavg() },
  versions: {
    node: process.versions.node, node24: (o.envs.includes('node24') ? sh(NODE24, ['--version'])?.replace(/^v/, '') : null) ?? mergedFrom?.node24, chromium: sh('/usr/lib/chromium/chromium', ['--version']),
    wembed: `${version(path.join(root, 'package.json'))} (${sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD'])})`,
    transformersJs: version(tjsPkg),
    onnxruntimeWeb: version(path.join(here, 'node_modules/@huggingface/transformers/node_modules/onnxruntime-web/package.json')),
    onnxruntimeNode: version(path.join(here, 'node_modules/onnxruntime-node/package.json')),
    emscripten: (/\d+\.\d+\.\d+/.exec(sh('emcc', ['--version']) ?? '') ?? [null])[0],
  },
  settings: { ...o, out: path.relative(root, o.out), modelsDir: path.relative(root, modelsDir), preset },
  models: { ...(mergedFrom?.models ?? {}), ...Object.fromEntries(o.models.map((m) => {
    const ref = JSON.parse(fs.readFileSync(path.join(modelsDir, m, 'reference.json'), 'utf8'));
    const size = (f) => { try { return fs.statSync(path.join(modelsDir, m, f)).size; } catch { return null; } };
    const onnx = MODELS[m].onnx;
    return [m, { parameters: ref.parameters, q8WeightType: ref.q8_weight_type, q8Ops: ref.q8_ops, layers: layersOf(m) ?? null,
      files: { safetensors: size('model.safetensors'), onnx: size(`onnx/${onnx}.onnx`) + (size(`onnx/${onnx}.onnx_data`) ?? 0), onnxQ8: size(`onnx/${onnx}_quantized.onnx`), onnxQ4: size(`onnx/${onnx}_q4.onnx`) } }];
  })) },
  gemm: gemm ?? mergedFrom?.gemm ?? null,
  mergedFrom,
};

fs.mkdirSync(o.out, { recursive: true });
// Merged cold rows no longer carry their request logs: keep the earlier run's byte counts unless
// this run measured them (a cold phase in Chromium).
const results = { meta, shipped: mergedFrom && !(o.phases.includes('cold') && o.envs.includes('chromium')) ? mergedFrom.shipped : shipped(), rows };
fs.writeFileSync(path.join(o.out, 'results.json'), JSON.stringify(results, (k, v) => (k === 'requests' ? undefined : v), 1) + '\n');
writeReport(results, o.out);
log(`wrote ${path.relative(process.cwd(), o.out)}/README.md, chart.svg, results.json in ${meta.minutes.toFixed(1)} min`);
