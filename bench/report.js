// report.js - turns bench/run.mjs's results into the committed report: README.md (tables) and
// chart.svg (the ratios against their targets). Nothing in them is typed by hand; re-running the
// benchmark rewrites both, and `node bench/report.js <results.json>` redraws them from raw data.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODELS, modelLabel } from './engines.js';

const TARGET = { throughput: 2.0, cold: 0.5, memory: 0.7, shippedKiB: 500, longWasmGiB: 1.5 };
// The native addon against onnxruntime-node (issue 22): at least even on every workload; the
// other targets are the wasm module's against onnxruntime-web.
const NATIVE_TARGET = { throughput: 1.0 };
const thrTarget = (env) => (env === 'node-native' ? NATIVE_TARGET.throughput : TARGET.throughput);
const MODEL = Object.fromEntries(Object.keys(MODELS).map((m) => [m, modelLabel(m)]));
const WORK = { short: '64 short texts', doc512: '1 document, 512 tokens', doc2048: '1 document, 2048 tokens', images16: '16 images', images4: '4 images',
  rerank20: '1 query x 20 passages, pairs of 211 tokens' };
const POOLING = { mean: 'mean pooling', cls: 'the [CLS] vector', last: 'the last token', st: 'its sentence-transformers modules (mean pooling, two Dense layers)' };
const ENVS = ['node', 'node24', 'node-wasi', 'node-native', 'chromium'];
const ENV = { node: 'Node', node24: 'Node 24', 'node-wasi': 'Node WASI', 'node-native': 'Node native', chromium: 'Chromium' };
/** Column heads of an environment's wembed / transformers.js pair. */
const HEAD = { node: 'Node (forced WASM): wembed wasm | transformers.js, onnxruntime-web', 'node-native': 'Node: wembed native | transformers.js, onnxruntime-node',
  node24: 'Node 24 (forced WASM): wembed wasm | transformers.js, onnxruntime-web',
  'node-wasi': 'Node, node:wasi: wembed WASI module | transformers.js, onnxruntime-web',
  chromium: 'Chromium: wembed wasm | transformers.js, onnxruntime-web' };
/** The environments of the main throughput table and the chart; Node 24 and WASI have their own table (nodeVersions). */
const MAIN_ENVS = ['node', 'node-native', 'chromium'];
/** Issue 22: wembed's wasm module under Node 24 (relaxed SIMD) at least this much faster than under Node 20, on q8. */
const NODE24_TARGET = 1.8;

const median = (xs) => {
  const s = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, d = 1) => (x == null || !Number.isFinite(x) ? '–' : x >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toFixed(d));
const mib = (b) => (b == null || !Number.isFinite(b) ? '–' : (b / 2 ** 20).toFixed(0));
const kb = (b) => (b / 1000).toFixed(0);
const ratioCell = (r, ok) => (r == null ? '–' : `${ok ? '**' : ''}${r.toFixed(2)}x${ok ? '**' : ''}`);
const esc = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const short = (s, n = 90) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

function groupBy(rows, keyFn) {
  const m = new Map();
  for (const r of rows) {
    const k = keyFn(r);
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(r);
  }
  return m;
}

// -----------------------------------------------------------------------------------------
// Figures out of the rows

export function summarize(results) {
  const { rows } = results;
  const thr = rows.filter((r) => r.type === 'throughput');
  const cold = rows.filter((r) => r.type === 'cold');
  const checks = rows.filter((r) => r.type === 'check');
  const long = rows.filter((r) => r.type === 'long');
  const errors = rows.filter((r) => r.type === 'error');

  const throughput = [...groupBy(thr, (r) => `${r.model}|${r.workload}|${r.dtype}|${r.threads}`).values()].map((g) => {
    const x = { model: g[0].model, workload: g[0].workload, dtype: g[0].dtype, threads: g[0].threads, unit: g[0].unit, units: g[0].units };
    for (const r of g) {
      x[r.env] = {
        wembed: r.units / r.wembed.seconds,
        tjs: r.tjs.error ? null : r.units / r.tjs.seconds,
        tjsError: r.tjs.error ?? null,
        ratio: r.tjs.error ? null : r.tjs.seconds / r.wembed.seconds,
        samples: { wembed: r.wembed.samples, tjs: r.tjs.samples ?? [] },
      };
    }
    return x;
  });

  const coldGroups = [...groupBy(cold, (r) => `${r.model}|${r.dtype}|${r.threads}`).values()].map((g) => {
    const x = { model: g[0].model, dtype: g[0].dtype, threads: g[0].threads };
    for (const env of ENVS) {
      const e = g.filter((r) => r.env === env);
      if (!e.length) continue;
      const pick = (engine) => {
        const rs = e.filter((r) => r.engine === engine);
        const mem = rs.find((r) => r.rssPeakBytes != null && r.memoryWorkloads);
        return {
          seconds: median(rs.map((r) => r.seconds)), runs: rs.length,
          load: median(rs.map((r) => r.loadSeconds)), import: median(rs.map((r) => r.importSeconds)),
          rssAdded: mem ? mem.rssPeakBytes - mem.rssBaseBytes : null, wasm: mem?.wasmBytes ?? null,
          workloads: mem?.memoryWorkloads ?? null, workloadError: mem?.workloadError ?? null,
        };
      };
      const w = pick('wembed'), t = pick('tjs');
      x[env] = { wembed: w, tjs: t,
        coldRatio: w.seconds != null && t.seconds != null ? w.seconds / t.seconds : null,
        memRatio: w.rssAdded != null && t.rssAdded ? w.rssAdded / t.rssAdded : null };
    }
    return x;
  });

  const rerankChecks = [...groupBy(checks.filter((r) => r.pearson != null), (r) => `${r.model}|${r.dtype}`).values()].map((g) => ({
    model: g[0].model, dtype: g[0].dtype, threshold: g[0].threshold, runs: g.length, ok: g.every((r) => r.ok),
    pearson: Math.min(...g.map((r) => r.pearson)), maxAbs: Math.max(...g.map((r) => r.maxAbs)), spread: median(g.map((r) => r.spread)),
    refWembed: Math.max(...g.map((r) => r.refWembedMaxAbs)), refTjs: Math.max(...g.map((r) => r.refTjsMaxAbs)),
    refSpread: g[0].refSpread, tokenMismatches: Math.max(...g.map((r) => r.tokenMismatches ?? 0)), texts: g[0].texts,
  }));
  const checkGroups = [...groupBy(checks.filter((r) => r.pearson == null), (r) => `${r.model}|${r.dtype}`).values()].map((g) => ({
    model: g[0].model, dtype: g[0].dtype, threshold: g[0].threshold, runs: g.length, ok: g.every((r) => r.ok),
    min: Math.min(...g.map((r) => r.inputs.min)), mean: median(g.map((r) => r.inputs.mean)),
    refWembed: Math.min(...g.map((r) => r.refWembed.min)), refTjs: Math.min(...g.map((r) => r.refTjs.min)),
    tokenMismatches: Math.max(...g.map((r) => r.tokenMismatches ?? 0)), texts: g[0].texts ?? null,
    endToEnd: g[0].endToEnd ? Math.min(...g.map((r) => r.endToEnd.min)) : null,
    cross: median(g.map((r) => r.crossWembed)),
  }));

  return { throughput, throughputRows: thr, cold: coldGroups, checks: checkGroups, rerankChecks, long, errors };
}

// -----------------------------------------------------------------------------------------
// Markdown

// [env, systemInfo] pairs of the wembed modules that ran (from the agreement checks).
function systemInfos(rows) {
  const seen = new Map();
  for (const r of rows) if (r.type === 'check' && r.wembedSystemInfo) seen.set(`${r.env}|${r.wembedSystemInfo}`, [r.env, r.wembedSystemInfo]);
  return [...seen.values()].sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
}

/**
 * Node 24 and the WASI module beside Node 20's wasm rows (issue 22): wembed's wasm module under
 * Node 24 (relaxed SIMD) against under Node 20 (SIMD128), and its WASI module under node:wasi.
 * Each environment is its own process, so next to the direct ratio of wembed's rates stands the
 * ratio of each run's wembed / transformers.js ratios (transformers.js runs the same
 * onnxruntime-web module in both), which the machine's load between the runs moves less.
 */
function nodeVersions(s, p, cmp) {
  const xs = s.throughput.filter((x) => x.node24 || x['node-wasi']).sort(cmp);
  if (!xs.length) return;
  const div = (a, b) => (a != null && b ? a / b : null);
  p('## Node 24 and the WASI module (node:wasi)', '');
  p('wembed\'s wasm module in Node 20 (the Node environment: SIMD128, Node 20 has no relaxed SIMD) and in Node 24 (its relaxed-SIMD flavour), ' +
    'and its WASI module (dist/wembed.wasi.wasm, one thread: WASI has none) under node:wasi, each against transformers.js on onnxruntime-web in the same process ' +
    `(units/s as in the throughput table). "24 / 20": wembed under Node 24 over under Node 20 (target >= ${NODE24_TARGET}x on q8); ` +
    '"ratios": the same of the two runs\' wembed / transformers.js ratios, which load differences between the runs move less. ' +
    '"WASI / wasm": the WASI module over the Emscripten module, both in Node 20.', '');
  p('| model | workload | dtype | threads | Node 20: wembed | transformers.js | ratio | Node 24: wembed | transformers.js | ratio | 24 / 20 | ratios 24 / 20 | WASI: wembed | transformers.js | ratio | WASI / wasm |');
  p('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const trio = (y) => (y ? `${fmt(y.wembed)} | ${y.tjsError ? `fails: ${esc(short(y.tjsError, 40))}` : fmt(y.tjs)} | ${ratioCell(y.ratio, false)}` : '– | – | –');
  const x2 = (r, ok) => (r == null ? '–' : ratioCell(r, ok));
  const met = [];
  for (const x of xs) {
    const n20 = x.node, n24 = x.node24, w = x['node-wasi'];
    const up = div(n24?.wembed, n20?.wembed), upr = div(n24?.ratio, n20?.ratio);
    if (x.dtype === 'q8' && up != null) met.push(up);
    p(`| ${MODEL[x.model]} | ${WORK[x.workload] ?? x.workload} | ${x.dtype} | ${x.threads} | ${trio(n20)} | ${trio(n24)} | ` +
      `${x2(up, x.dtype === 'q8' && up >= NODE24_TARGET)} | ${x2(upr, false)} | ${trio(w)} | ${x2(div(w?.wembed, n20?.wembed), false)} |`);
  }
  p('');
  if (met.length) p(`Node 24 >= ${NODE24_TARGET}x Node 20 on q8: ${met.filter((r) => r >= NODE24_TARGET).length} of ${met.length} rows (${met.map((r) => r.toFixed(2) + 'x').join(', ')}).`, '');
}

function markdown(results, s) {
  const { meta, shipped } = results;
  const L = [];
  const p = (...xs) => L.push(...xs);
  const m = meta.machine, v = meta.versions, st = meta.settings;
  p('# wembed vs transformers.js: speed and memory', '');
  p(`Generated by \`${meta.command}\` (bench/run.mjs) on ${meta.date.slice(0, 16).replace('T', ' ')} UTC in ${meta.minutes.toFixed(0)} min. ` +
    'Every figure below is computed from `results.json` next to this file; nothing is typed by hand.' +
    (meta.mergedFrom ? ` The ${meta.mergedFrom.phases.join(', ')} figures come from an earlier run, \`${meta.mergedFrom.command}\` on ` +
      `${meta.mergedFrom.date.slice(0, 16).replace('T', ' ')} UTC (load average ${meta.mergedFrom.machine.loadavgStart.map((x) => x.toFixed(1)).join(' / ')} at its start), ` +
      'kept with `--merge`; each ratio still compares the two engines within one run.' : '') +
    (meta.mergedFrom?.rerunPhasesKeptModels ? ` The ${meta.mergedFrom.rerunPhasesKeptModels.phases.join(', ')} figures of ` +
      `${meta.mergedFrom.rerunPhasesKeptModels.models.map((k) => MODEL[k] ?? k).join(', ')} come from ${meta.mergedFrom.rerunPhasesKeptModels.runs.join('; ')}, ` +
      `kept with \`--merge\`; this run measured ${st.models.map((k) => MODEL[k] ?? k).join(', ')}.` : ''), '');
  p(`- **Machine**: ${m.cpu}, ${m.cpus} vCPUs, ${m.memGiB} GiB, Linux ${m.kernel}; load average ${m.loadavgStart.map((x) => x.toFixed(1)).join(' / ')} at the start, ` +
    `${m.loadavgEnd.map((x) => x.toFixed(1)).join(' / ')} at the end (a shared machine: compare ratios, each measured within one run).`);
  p(`- **Versions**: wembed ${v.wembed}; transformers.js ${v.transformersJs} on onnxruntime-web ${v.onnxruntimeWeb}${v.onnxruntimeNode ? ` and onnxruntime-node ${v.onnxruntimeNode}` : ''}; Node ${v.node}${v.node24 ? ` (Node 24 environment: ${v.node24})` : ''}; ${v.chromium ?? 'Chromium'}; wembed built with Emscripten ${v.emscripten ?? '?'}.`);
  p(`- **Models** (${st.modelsDir}, ${st.preset === 'small' ? 'the SMALL preset (hidden 64, 2 layers: for checking the pipeline, not for quoting)' : 'random weights at the real shapes and sizes'}, made by gen/bench_models.py): ` +
    Object.entries(meta.models).map(([k, x]) => `${MODEL[k]} ${(x.parameters / 1e6).toFixed(1)}M parameters ` +
      `(safetensors ${mib(x.files.safetensors)} MiB; ONNX ${mib(x.files.onnx)} MiB, q8 ${mib(x.files.onnxQ8)} MiB with ${x.q8WeightType} weights` +
      `${x.files.onnxQ4 ? `, q4 ${mib(x.files.onnxQ4)} MiB (MatMulNBits, 32-weight blocks; int8 token table)` : ''})`).join('; ') + '.');
  p(`- **Settings**: threads ${st.threads.join(', ')}; dtypes ${st.dtypes.join(', ')}; throughput = median of ${st.rounds} alternating rounds after a warm-up; ` +
    `cold start = median of ${st.coldRounds} fresh processes / browsers per engine; environments ${st.envs.map((e) => ENV[e]).join(', ')}. ` +
    'wembed at 1 thread is the single-thread module (wembed.wasm), at 2 threads the threaded one (wembed-mt.wasm), each in its ' +
    'relaxed-SIMD flavour where the host validates relaxed SIMD and plain SIMD128 elsewhere; what ran: ' +
    (systemInfos(results.rows).map(([env, info]) => `${ENV[env] ?? env} \`${info}\``).join(', ') || 'not recorded') + '; ' +
    'transformers.js uses onnxruntime-web with `numThreads` set. In the Node native environment wembed runs its Node-API addon (`backend: \'native\'`: the same C engine ' +
    'compiled for x86-64 with kernels picked at run time) and transformers.js runs what it runs in Node by default, onnxruntime-node, with `intraOpNumThreads` set: ' +
    'what a Node user of either library gets; the Node rows force both onto WebAssembly (the browser engines measured in Node). Both embed texts with the model\'s pooling and L2 normalization (' +
    Object.keys(meta.models).filter((k) => MODELS[k]?.pooling).map((k) => `${MODEL[k]}: ${POOLING[MODELS[k].pooling]}`).join('; ') +
    '), images with each model\'s own vector (CLIP: the projected class token; SigLIP: its attention-pooling head, transformers.js\'s SiglipVisionModel ' +
    'pooler_output; nomic-embed-vision: the class token of last_hidden_state, transformers.js\'s image-feature-extraction pipeline); the cross-encoder gives one raw logit per pair (transformers.js: AutoModelForSequenceClassification ' +
    'on the tokenizer\'s pair encoding, all pairs in one batch; wembed: Reranker.score). transformers.js pads a batch to its longest text, wembed packs it. ' +
    'Models other than MiniLM and ms-marco-MiniLM (BERT uncased) and jina-v2 (the same vocabulary) use that tokenizer (bge-small-en-v1.5\'s tokenizer.json) ' +
    'as a stand-in for their own: both engines get the same ids, and the token counts are exact.', '');

  p('## Agreement (checked before any timing counts)', '');
  p('Cosine between the two engines\' vectors for the same inputs (texts: 16 of the sentences and the 512-token document, each ' +
    'engine tokenizing them itself; images: transformers.js\'s pixel values of the 16 images given to both, of the first 2 for ' +
    'SigLIP and nomic-embed-vision), and between each engine and ' +
    'torch (float32, gen/bench_models.py) on the generator\'s reference token ids / pixels; minimum over every environment and ' +
    'thread count. Token ids are compared for all 64 sentences and the three documents. "cross" is the mean cosine between ' +
    'different inputs\' vectors: agreement means something only well above it.', '');
  p('| model | dtype | runs | engines, min | mean | vs torch: wembed | transformers.js | token ids differ | images end to end | cross | pass |');
  p('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const c of s.checks) {
    p(`| ${MODEL[c.model]} | ${c.dtype} | ${c.runs} | ${c.min.toFixed(6)} | ${c.mean.toFixed(6)} | ${c.refWembed.toFixed(6)} | ${c.refTjs.toFixed(6)} | ` +
      `${c.texts != null ? `${c.tokenMismatches} of ${c.texts}` : '–'} | ${c.endToEnd != null ? c.endToEnd.toFixed(4) : '–'} | ${c.cross.toFixed(3)} | ` +
      `${c.ok ? (c.min < c.threshold ? 'yes, by torch (see below)' : 'yes') : `**no** (< ${c.threshold})`} |`);
  }
  if (s.checks.some((c) => c.ok && c.min < c.threshold)) {
    p('', '"yes, by torch": an image model\'s q8 vectors may be farther apart than the gate when the random weights move both engines off ' +
      'torch\'s float32 vector; the check then passes when wembed is within the q8 threshold of torch and no farther from it than ' +
      'transformers.js\'s q8 graph (the reference quantization) is, as for the cross-encoder (bench/suite.js).');
  }
  p('', 'Images end to end (not gated): each engine resizes the 640x480 images itself (wembed Pillow-exact bicubic, ' +
    'transformers.js its own resize; CLIP and nomic-embed-vision: shortest edge to 224 and a center crop, SigLIP: straight to 224 x 224), ' +
    'so the pixels differ a little before the model sees them.', '');
  if (s.rerankChecks.length) {
    p('Cross-encoders give one logit per pair: the engines\' scores of the 20 benchmark pairs are compared by their correlation ' +
      'and their largest difference next to the scores\' spread; against torch\'s float32 logits, the largest difference on the ' +
      'generator\'s 8 pairs (passages of 20 to 190 tokens). Gates: f32, correlation >= 0.9999 and the engines within 1e-3 x the torch ' +
      'spread of each other on the generator\'s pairs; q8, wembed no farther from torch than 2 x transformers.js is (an untrained head\'s ' +
      'logit moves with q8 rounding by a fair part of its spread between pairs, in both engines, so the q8 scores are not held to each ' +
      'other). Token ids: the query and the 20 passages, each alone.', '');
    p('| model | dtype | runs | correlation, min | largest difference | scores\' spread | vs torch, largest difference: wembed | transformers.js | torch spread | token ids differ | pass |');
    p('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const c of s.rerankChecks) {
      p(`| ${MODEL[c.model]} | ${c.dtype} | ${c.runs} | ${c.pearson.toFixed(6)} | ${c.maxAbs.toExponential(2)} | ${c.spread.toExponential(2)} | ` +
        `${c.refWembed.toExponential(2)} | ${c.refTjs.toExponential(2)} | ${c.refSpread.toExponential(2)} | ${c.tokenMismatches} of ${c.texts} | ${c.ok ? 'yes' : '**no**'} |`);
    }
    p('');
  }

  p('## Throughput', '');
  p(`Units per second (tokens incl. [CLS]/[SEP], images, or query-passage pairs); ratio = wembed / transformers.js (target >= ${TARGET.throughput.toFixed(1)}x ` +
    `against onnxruntime-web, >= ${NATIVE_TARGET.throughput.toFixed(1)}x native against onnxruntime-node; bold when met).`, '');
  const envs = MAIN_ENVS.filter((e) => s.throughput.some((x) => x[e]));
  p(`| model | workload | dtype | threads | ${envs.map((e) => `${HEAD[e]} | ratio`).join(' | ')} |`);
  p(`|---|---|---|---|${envs.map(() => '---|---|---|').join('')}`);
  const order = (x) => [Object.keys(MODEL).indexOf(x.model), Object.keys(WORK).indexOf(x.workload), x.dtype, x.threads];
  const cmp = (a, b) => { const A = order(a), B = order(b); for (let i = 0; i < A.length; i++) if (A[i] !== B[i]) return A[i] < B[i] ? -1 : 1; return 0; };
  for (const x of [...s.throughput].sort(cmp)) {
    const cells = envs.map((e) => {
      const y = x[e];
      if (!y) return '– | – | –';
      // Rates below 1 a second (ViT-B/16 images on a loaded machine) with three decimals.
      const rate = (x) => (x != null && x < 1 ? x.toFixed(3) : fmt(x));
      return `${rate(y.wembed)} | ${y.tjsError ? `fails: ${esc(short(y.tjsError, 60))}` : rate(y.tjs)} | ${ratioCell(y.ratio, y.ratio >= thrTarget(e))}`;
    });
    p(`| ${MODEL[x.model]} | ${WORK[x.workload] ?? x.workload} (${x.unit}/s) | ${x.dtype} | ${x.threads} | ${cells.join(' | ')} |`);
  }
  p('');
  // Rows merged from runs at different loads compare within their run only: say how loaded each was.
  const loads = ENVS.filter((e) => s.throughput.some((x) => x[e])).map((e) => {
    const l = s.throughputRows.filter((r) => r.env === e && r.loadavg).map((r) => r.loadavg[0]);
    return l.length ? `${ENV[e]} ${fmt(Math.min(...l), 1)}-${fmt(Math.max(...l), 1)} (${l.length} of its rows)` : null;
  }).filter(Boolean);
  if (loads.length) p(`One-minute load average of the machine (2 vCPUs) as the rows came in, where recorded: ${loads.join('; ')}. Absolute figures from runs at different loads do not compare; each ratio compares two engines measured in turn.`, '');

  nodeVersions(s, p, cmp);

  p(`## One 8192-token document (${[...new Set(s.long.map((r) => MODEL[r.model] ?? r.model))].join(', ') || 'nomic-embed-text-v1.5'})`, '');
  p(`wembed: time, the wasm memory it ended with (target <= ${TARGET.longWasmGiB} GiB for q8 in Chromium) and the engine's own peak allocation ` +
    '(`_wembed__alloc_peak_bytes`, reset after loading: activations and scratch on top of the weights); transformers.js: what happened.', '');
  p('| model | environment | dtype | threads | wembed seconds | tokens/s | wasm memory MiB | engine bytes after load MiB | engine peak during the document MiB (weights included) | transformers.js |');
  p('|---|---|---|---|---|---|---|---|---|---|');
  for (const g of groupBy(s.long, (r) => `${r.model}|${r.env}|${r.dtype}|${r.threads}`).values()) {
    const w = g.find((r) => r.engine === 'wembed'), t = g.find((r) => r.engine === 'tjs');
    const wcell = !w ? '– | – | – | – | –' : w.ok
      ? `${fmt(w.seconds)} | ${fmt(w.tokens / w.seconds)} | ${mib(w.wembedWasmBytes ?? w.wasmBytes)} | ${mib(w.afterLoad?.live)} | ${mib(w.engineBytes?.peak)}`
      : `fails: ${esc(short(w.error ?? '?'))} | – | ${mib(w.wasmBytes)} | – | –`;
    const tcell = !t ? '–' : t.ok ? `ok in ${fmt(t.seconds)} s (${fmt(t.tokens / t.seconds)} tokens/s), wasm ${mib(t.wasmBytes)} MiB`
      : `fails after ${fmt(t.seconds)} s: ${esc(short(t.error ?? '?', 160))} (wasm memory ${mib(t.wasmBytes)} MiB)`;
    const r = w ?? t;
    p(`| ${MODEL[r.model] ?? r.model} | ${ENV[r.env]} | ${r.dtype} | ${r.threads} | ${wcell} | ${tcell} |`);
  }
  const longErr = s.errors.filter((e) => e.job?.type === 'long');
  for (const e of longErr) p('', `- ${ENV[e.env]} ${e.job.engine === 'tjs' ? 'transformers.js' : 'wembed'} ${e.job.dtype} ${e.job.threads} thread(s): ${esc(e.error)}`);
  p('');

  p('## Cold start: import to first vector', '');
  p(`Seconds from importing the library to the first vector of one sentence (one image for the image models, one pair's score for the cross-encoder), fresh process / browser each time, median of the runs; ratio = wembed / transformers.js (target <= ${TARGET.cold}x).`, '');
  const cenvs = ENVS.filter((e) => s.cold.some((x) => x[e]));
  p(`| model | dtype | threads | ${cenvs.map((e) => `${HEAD[e]} | ratio`).join(' | ')} |`);
  p(`|---|---|---|${cenvs.map(() => '---|---|---|').join('')}`);
  for (const x of s.cold) {
    p(`| ${MODEL[x.model]} | ${x.dtype} | ${x.threads} | ${cenvs.map((e) => (x[e] ? `${fmt(x[e].wembed.seconds, 2)} | ${fmt(x[e].tjs.seconds, 2)} | ${ratioCell(x[e].coldRatio, x[e].coldRatio <= TARGET.cold)}` : '– | – | –')).join(' | ')} |`);
  }
  p('');

  p('## Peak memory', '');
  p('Peak resident memory the run added (Node: the process\'s peak RSS minus its RSS before importing anything; Chromium: the ' +
    'renderer\'s peak RSS (VmHWM), which holds the Worker, minus its RSS before the Worker started), over loading the model and ' +
    `running every workload of the model once; MiB, with the wasm memory in parentheses. Ratio = wembed / transformers.js (target <= ${TARGET.memory}x).`, '');
  p(`| model | dtype | threads | ${cenvs.map((e) => `${HEAD[e]} | ratio`).join(' | ')} |`);
  p(`|---|---|---|${cenvs.map(() => '---|---|---|').join('')}`);
  for (const x of s.cold) {
    p(`| ${MODEL[x.model]} | ${x.dtype} | ${x.threads} | ${cenvs.map((e) => {
      const y = x[e];
      if (!y) return '– | – | –';
      const c = (z) => `${mib(z.rssAdded)} (${mib(z.wasm)})${z.workloadError ? ` ⚠ ${esc(short(z.workloadError, 50))}` : ''}`;
      return `${c(y.wembed)} | ${c(y.tjs)} | ${ratioCell(y.memRatio, y.memRatio <= TARGET.memory)}`;
    }).join(' | ')} |`);
  }
  p('');

  p('## Bytes shipped (wasm + JS)', '');
  p(`What each engine's page fetched in Chromium besides the model files and the benchmark's own scripts, gzip -9 (target <= ${TARGET.shippedKiB} KB per variant).`, '');
  p('| engine | threads | files | raw kB | gzip kB | target |');
  p('|---|---|---|---|---|---|');
  for (const x of [...(shipped ?? [])].sort((a, b) => a.engine.localeCompare(b.engine) || a.threads - b.threads)) {
    const big = [...x.files].sort((a, b) => b.bytes - a.bytes).slice(0, 3).map((f) => `${path.basename(f.path)} ${kb(f.gzip)}`).join(', ');
    p(`| ${x.engine === 'tjs' ? 'transformers.js' : 'wembed'} | ${x.threads} | ${x.files.length} (largest, gzip kB: ${big}) | ${kb(x.bytes)} | ${kb(x.gzip)} | ` +
      `${x.engine === 'wembed' ? (x.gzip <= TARGET.shippedKiB * 1000 ? 'met' : '**missed**') : '–'} |`);
  }
  p('');

  const thrRatios = s.throughput.flatMap((x) => ENVS.filter((e) => e !== 'node-native').map((e) => x[e]?.ratio).filter((r) => r != null));
  const nativeRatios = s.throughput.map((x) => x['node-native']?.ratio).filter((r) => r != null);
  const coldRatios = s.cold.flatMap((x) => ENVS.map((e) => x[e]?.coldRatio).filter((r) => r != null));
  const memRatios = s.cold.flatMap((x) => ENVS.map((e) => x[e]?.memRatio).filter((r) => r != null));
  const count = (xs, ok) => `${xs.filter(ok).length} of ${xs.length}`;
  p('## Against the targets', '');
  p(`- throughput >= ${TARGET.throughput}x (wasm against onnxruntime-web): ${count(thrRatios, (r) => r >= TARGET.throughput)} comparisons (ratios ${fmt(Math.min(...thrRatios), 2)} to ${fmt(Math.max(...thrRatios), 2)}, median ${fmt(median(thrRatios), 2)}).`);
  if (nativeRatios.length) p(`- throughput >= ${NATIVE_TARGET.throughput}x (native against onnxruntime-node): ${count(nativeRatios, (r) => r >= NATIVE_TARGET.throughput)} comparisons (ratios ${fmt(Math.min(...nativeRatios), 2)} to ${fmt(Math.max(...nativeRatios), 2)}, median ${fmt(median(nativeRatios), 2)}).`);
  p(`- cold start <= ${TARGET.cold}x: ${count(coldRatios, (r) => r <= TARGET.cold)} (ratios ${fmt(Math.min(...coldRatios), 2)} to ${fmt(Math.max(...coldRatios), 2)}).`);
  p(`- peak memory <= ${TARGET.memory}x: ${count(memRatios, (r) => r <= TARGET.memory)} (ratios ${fmt(Math.min(...memRatios), 2)} to ${fmt(Math.max(...memRatios), 2)}).`);
  const ws = (shipped ?? []).filter((x) => x.engine === 'wembed');
  p(`- wasm + JS <= ${TARGET.shippedKiB} KB gzip: ${count(ws, (x) => x.gzip <= TARGET.shippedKiB * 1000)} variants.`);
  for (const q8c of s.long.filter((r) => r.engine === 'wembed' && r.env === 'chromium' && r.dtype === 'q8')) {
    p(`- 8192 tokens through ${MODEL[q8c.model] ?? q8c.model} q8 in Chromium within ${TARGET.longWasmGiB} GiB of wasm memory: ${q8c.ok ? `${((q8c.wembedWasmBytes ?? q8c.wasmBytes) / 2 ** 30).toFixed(2)} GiB in ${fmt(q8c.seconds)} s (${q8c.threads} threads): ${(q8c.wembedWasmBytes ?? q8c.wasmBytes) <= TARGET.longWasmGiB * 2 ** 30 ? 'met' : '**missed**'}` : `**failed**: ${esc(q8c.error)}`}.`);
  }
  p('', '![ratios against targets](chart.svg)', '');
  if (meta.gemm) p(`GEMM kernels against the hardware peak and onnxruntime-web on the same shapes: [${meta.gemm}](${meta.gemm}).`, '');

  const other = s.errors.filter((e) => e.job?.type !== 'long');
  if (other.length) {
    p('## Errors', '');
    for (const e of other) p(`- ${ENV[e.env] ?? e.env} ${e.threads ?? e.job?.threads ?? ''} thread(s) ${e.dtype ?? e.job?.dtype ?? ''} ${e.model ?? e.job?.model ?? ''} ${e.job?.engine ?? ''} ${e.stage ?? e.job?.type ?? ''}: ${esc(short(e.error, 300))}`);
    p('');
  }
  p('## Rerun', '');
  p('```sh', 'npm run build                 # dist/ (the wasm modules)', 'scripts/setup.sh --bench      # python3-torch, -numpy, -onnx (the model generator) and npm ci --prefix bench (transformers.js + onnxruntime-web)',
    'npm run bench                 # models on first use (gen/bench_models.py), then every phase; rewrites this folder',
    'npm run bench -- --quick      # small models, one round: checks the pipeline in minutes (writes bench/out/quick/)', '```', '');
  return L.join('\n');
}

// -----------------------------------------------------------------------------------------
// Chart: three panels of horizontal bars (Node, Node native and Chromium side by side) with the target line
// (a native throughput bar is judged by its own target, NATIVE_TARGET)

function chart(s) {
  const ENVS = MAIN_ENVS;
  const panels = [];
  const tl = (x) => `${MODEL[x.model].replace(/[ ,].*/, '').replace('all-', '')} ${x.workload ? (WORK[x.workload] ?? x.workload).replace(/1 document, /, 'doc ').replace(/, pairs of .*/, '') : ''} · ${x.dtype} · ${x.threads}t`;
  panels.push({ title: 'Throughput, wembed / transformers.js (higher is better)', target: TARGET.throughput, better: 'high',
    rows: s.throughput.map((x) => ({ label: tl(x), node: x.node?.ratio, 'node-native': x['node-native']?.ratio, chromium: x.chromium?.ratio })) });
  panels.push({ title: 'Cold start, wembed / transformers.js (lower is better)', target: TARGET.cold, better: 'low',
    rows: s.cold.map((x) => ({ label: tl(x), node: x.node?.coldRatio, 'node-native': x['node-native']?.coldRatio, chromium: x.chromium?.coldRatio })) });
  panels.push({ title: 'Peak memory added, wembed / transformers.js (lower is better)', target: TARGET.memory, better: 'low',
    rows: s.cold.map((x) => ({ label: tl(x), node: x.node?.memRatio, 'node-native': x['node-native']?.memRatio, chromium: x.chromium?.memRatio })) });
  const W = 960, LW = 330, BH = 9, RH = 33, PAD = 46;
  let y = 40;
  const parts = [];
  const colors = { node: '#4c78a8', 'node-native': '#54a24b', chromium: '#e07b39' };
  for (const pn of panels) {
    const vals = pn.rows.flatMap((r) => ENVS.map((e) => r[e])).filter((v) => v != null && Number.isFinite(v));
    const max = Math.max(pn.target * 1.25, ...vals) * 1.08;
    const x0 = LW, x1 = W - 70, sx = (v) => x0 + ((x1 - x0) * v) / max;
    parts.push(`<text x="10" y="${y}" font-size="15" font-weight="bold">${pn.title}</text>`);
    y += 12;
    const top = y;
    for (const r of pn.rows) {
      parts.push(`<text x="${LW - 8}" y="${y + RH / 2 + 4}" font-size="11.5" text-anchor="end">${r.label}</text>`);
      ENVS.forEach((e, i) => {
        const v = r[e];
        const by = y + 3 + i * (BH + 1);
        if (v == null || !Number.isFinite(v)) {
          parts.push(`<text x="${x0 + 4}" y="${by + BH - 1}" font-size="9" fill="#888">n/a</text>`);
          return;
        }
        const target = pn.better === 'high' && e === 'node-native' ? NATIVE_TARGET.throughput : pn.target;
        const ok = pn.better === 'high' ? v >= target : v <= target;
        parts.push(`<rect x="${x0}" y="${by}" width="${Math.max(1, sx(v) - x0).toFixed(1)}" height="${BH}" fill="${colors[e]}" opacity="${ok ? 1 : 0.55}"/>`);
        parts.push(`<text x="${(sx(v) + 4).toFixed(1)}" y="${by + BH - 1}" font-size="9.5">${v.toFixed(2)}x${ok ? '' : ' ✗'}</text>`);
      });
      y += RH;
    }
    const tx = sx(pn.target).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${top}" x2="${tx}" y2="${y}" stroke="#2a9d3a" stroke-width="1.5" stroke-dasharray="5,3"/>`);
    parts.push(`<text x="${tx}" y="${y + 13}" font-size="11" fill="#2a9d3a" text-anchor="middle">target ${pn.target}x</text>`);
    if (max > 1) {
      const one = sx(1).toFixed(1);
      parts.push(`<line x1="${one}" y1="${top}" x2="${one}" y2="${y}" stroke="#999" stroke-width="1"/>`);
      parts.push(`<text x="${one}" y="${y + 13}" font-size="11" fill="#777" text-anchor="middle">1x</text>`);
    }
    parts.push(`<line x1="${x0}" y1="${top}" x2="${x0}" y2="${y}" stroke="#333" stroke-width="1"/>`);
    y += PAD;
  }
  const legend = `<rect x="${W - 370}" y="14" width="12" height="10" fill="${colors.node}"/><text x="${W - 354}" y="23" font-size="12">Node</text>` +
    `<rect x="${W - 310}" y="14" width="12" height="10" fill="${colors['node-native']}"/><text x="${W - 294}" y="23" font-size="12">Node native</text>` +
    `<rect x="${W - 190}" y="14" width="12" height="10" fill="${colors.chromium}"/><text x="${W - 174}" y="23" font-size="12">Chromium</text>` +
    `<text x="${W - 100}" y="23" font-size="12">✗ = target missed</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="Helvetica, Arial, sans-serif">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${legend}\n${parts.join('\n')}\n</svg>\n`;
}

/** Writes README.md and chart.svg into outDir. */
export function writeReport(results, outDir) {
  // A model's name carries the layer count its rows were measured with (the results' own record,
  // not today's MODELS setting, which a later run may have changed).
  for (const [k, x] of Object.entries(results.meta.models ?? {})) {
    if (MODELS[k]) MODEL[k] = MODELS[k].label + (x.layers ? `, ${x.layers} of ${MODELS[k].realLayers} layers` : '');
  }
  const s = summarize(results);
  fs.writeFileSync(path.join(outDir, 'README.md'), markdown(results, s));
  fs.writeFileSync(path.join(outDir, 'chart.svg'), chart(s));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'results/results.json');
  writeReport(JSON.parse(fs.readFileSync(file, 'utf8')), path.dirname(path.resolve(file)));
  console.error(`report: rewrote ${path.dirname(file)}/README.md and chart.svg`);
}
