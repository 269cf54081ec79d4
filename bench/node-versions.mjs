// node-versions.mjs - wembed's wasm module end to end under Node 20 and Node 24 (issue 22: the
// wasm path in Node 24 at least 1.8x its Node 20 speed on q8). Node 20 runs the SIMD128 module,
// Node 24 its relaxed-SIMD flavour (the int8 GEMM on the byte dot product). The two run in
// separate processes that alternate (the order swapped every pair), so that a shared machine's
// load falls on both alike; bench/run.mjs's node and node24 environments measure each against
// transformers.js instead, in runs minutes apart.
//
//   node bench/node-versions.mjs [--models minilm,nomic] [--dtypes q8,f32] [--pairs 3] [--calls 2]
//                                [--node24 .cache/node24/bin/node] [--json]
//
// Each process loads one model (bench/models, made by gen/bench_models.py) on the single-thread
// module, makes one untimed call of each of its workloads (bench/suite.js WORKLOADS, on the
// benchmark's inputs in bench/out/inputs.json, written by bench/run.mjs), then times --calls
// calls of each and prints the fastest (the least disturbed). The table: per workload, the median
// over the pairs of each version's tokens/s, and the median of the pairs' Node 24 / Node 20 ratios.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const { values: a } = parseArgs({ options: {
  models: { type: 'string', default: 'minilm,nomic' }, dtypes: { type: 'string', default: 'q8,f32' },
  pairs: { type: 'string', default: '3' }, calls: { type: 'string', default: '2' },
  node24: { type: 'string', default: path.join(ROOT, '.cache/node24/bin/node') }, json: { type: 'boolean', default: false },
  child: { type: 'string' },
} });

if (a.child) {
  const { model, dtype, calls } = JSON.parse(a.child);
  const { MODELS, WembedRunner, importWembed } = await import('./engines.js');
  const { WORKLOADS, median } = await import('./suite.js');
  const inputs = JSON.parse(fs.readFileSync(path.join(HERE, 'out/inputs.json'), 'utf8'));
  const r = await WembedRunner.load(await importWembed(), { threads: 1, modelsBase: path.join(HERE, 'models') + '/' }, model, dtype);
  const out = { node: process.versions.node, systemInfo: r.e.info().engine.systemInfo, workloads: {} };
  for (const w of WORKLOADS[model]) {
    const N = w === 'short' ? inputs.shortTokens.reduce((x, y) => x + y, 0) : Number(/^doc(\d+)$/.exec(w)[1]);
    const run = () => (w === 'short' ? r.embedTexts(inputs.short, MODELS[model].maxTokens) : r.embedTexts([inputs.docs[N]], N));
    await run();
    const ts = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await run();
      ts.push((performance.now() - t0) / 1000);
    }
    out.workloads[w] = { tokens: N, seconds: Math.min(...ts), median: median(ts) };
  }
  await r.dispose();
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit();
}

if (!fs.existsSync(a.node24)) { console.error(`no Node 24 at ${a.node24}: run scripts/node24.sh`); process.exit(1); }
if (!fs.existsSync(path.join(HERE, 'out/inputs.json'))) { console.error('bench/out/inputs.json is missing: run bench/run.mjs once'); process.exit(1); }
const median = (xs) => { const s = [...xs].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const NODES = { 20: process.execPath, 24: a.node24 };
const rows = [];
const loads = [os.loadavg()];
for (const model of a.models.split(',')) {
  for (const dtype of a.dtypes.split(',')) {
    const runs = { 20: [], 24: [] };
    for (let p = 0; p < Number(a.pairs); p++) {
      for (const v of p % 2 ? [24, 20] : [20, 24]) {
        const job = JSON.stringify({ model, dtype, calls: Number(a.calls) });
        const c = spawnSync(NODES[v], [fileURLToPath(import.meta.url), '--child', job], { encoding: 'utf8', maxBuffer: 1 << 24 });
        if (c.status !== 0) { console.error(`Node ${v} ${model} ${dtype}: ${c.stderr.trim().split('\n').slice(-3).join(' | ')}`); process.exit(1); }
        runs[v].push(JSON.parse(c.stdout.trim().split('\n').at(-1)));
        loads.push(os.loadavg());
      }
    }
    for (const w of Object.keys(runs[20][0].workloads)) {
      const rate = (r) => r.workloads[w].tokens / r.workloads[w].seconds;
      const row = { model, dtype, workload: w, tokens: runs[20][0].workloads[w].tokens,
        node20: { version: runs[20][0].node, systemInfo: runs[20][0].systemInfo, rates: runs[20].map(rate) },
        node24: { version: runs[24][0].node, systemInfo: runs[24][0].systemInfo, rates: runs[24].map(rate) } };
      row.ratio = median(runs[24].map((r, i) => rate(r) / rate(runs[20][i])));
      rows.push(row);
      if (a.json) process.stdout.write(JSON.stringify(row) + '\n');
    }
  }
}
if (!a.json) {
  const f = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  console.log(`Node ${rows[0].node20.version} (\`${rows[0].node20.systemInfo}\`) against Node ${rows[0].node24.version} (\`${rows[0].node24.systemInfo}\`), ` +
    `${a.pairs} alternating pairs of processes, the fastest of ${a.calls} calls each; load average (1 min) ${Math.min(...loads.map((l) => l[0])).toFixed(1)}-${Math.max(...loads.map((l) => l[0])).toFixed(1)}.`);
  console.log('');
  console.log('| model | dtype | workload | Node 20 tokens/s (each pair) | Node 24 tokens/s (each pair) | Node 24 / Node 20, median of the pairs |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.model} | ${r.dtype} | ${r.workload} | ${f(median(r.node20.rates))} (${r.node20.rates.map(f).join(', ')}) | ` +
      `${f(median(r.node24.rates))} (${r.node24.rates.map(f).join(', ')}) | ${r.ratio.toFixed(2)}x |`);
  }
}
