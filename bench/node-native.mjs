#!/usr/bin/env node
// node-native.mjs - wembed in Node against what transformers.js really runs there: its default
// onnxruntime-node (native C++ with its own AVX2/AVX-512/VNNI kernels), next to wembed's two
// backends, the native addon and the wasm module.
//
//   scripts/build.sh node wasm && (cd bench && npm ci) && node bench/node-native.mjs [options]
//   options: --models minilm,nomic  --dtype f32,q8  --threads 1,2  --rounds 7  --json FILE
//            --no-wasm (native and onnxruntime-node only: the wasm module takes minutes on nomic)
//
// Same models as `npm run bench` (bench/models from gen/bench_models.py: random weights at the
// real sizes), same inputs (bench/inputs.js) and workloads (bench/suite.js WORKLOADS). For each
// model, dtype and thread count: all three engines loaded side by side, their vectors checked to
// agree (cosine against onnxruntime-node >= 0.9999 in f32, 0.99 in q8) before anything is timed,
// then every workload with the engines taking turns call by call after one warm-up each;
// medians of --rounds, in tokens per second, and the ratios to onnxruntime-node.
//   onnxruntime-node  transformers.js pipeline('feature-extraction', { dtype }) with nothing
//                     forced (device 'cpu': onnxruntime-node), session threads = --threads
//   wembed native     Embedder.load(folder, { backend: 'native', dtype, threads })
//   wembed wasm       Embedder.load(folder, { backend: 'wasm', dtype, threads }) (relaxed SIMD
//                     where this Node validates it: Node >= 22)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTexts } from './inputs.js';
import { WORKLOADS, median } from './suite.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const models = opt('models', 'minilm,nomic').split(',');
const dtypes = opt('dtype', 'f32,q8').split(',');
const threadCounts = opt('threads', '1,2').split(',').map(Number);
const rounds = Number(opt('rounds', '7'));
const jsonOut = opt('json', null);
const withWasm = !args.includes('--no-wasm');
const modelsDir = path.join(here, 'models');

const lib = await import('../js/index.js');
const T = await import(new URL('./node_modules/@huggingface/transformers/dist/transformers.node.mjs', import.meta.url).href);
T.env.allowRemoteModels = false;
T.env.allowLocalModels = true;
T.env.localModelPath = modelsDir + '/';
T.env.useFSCache = false;

const tok = await lib.Tokenizer.load(path.join(modelsDir, 'minilm', 'tokenizer.json'));
const inputs = makeTexts((s) => tok.encode(s).ids.length);
const shortTokens = inputs.shortTokens.reduce((a, b) => a + b, 0);
tok.dispose();

const now = () => performance.now();
const cos = (a, b) => { let d = 0, x = 0, y = 0; for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; x += a[i] * a[i]; y += b[i] * b[i]; } return d / Math.sqrt(x * y); };

/** The work of a workload: texts and their token count. */
function work(name) {
  if (name === 'short') return { texts: inputs.short, tokens: shortTokens, maxTokens: 512 };
  const N = Number(/^doc(\d+)$/.exec(name)[1]);
  return { texts: [inputs.docs[N]], tokens: N, maxTokens: N };
}

async function loadOrt(model, dtype, threads) {
  const p = await T.pipeline('feature-extraction', model, {
    dtype: dtype === 'f32' ? 'fp32' : 'q8',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  return {
    name: 'onnxruntime-node',
    embed: async (texts) => {
      const t = await p(texts, { pooling: 'mean', normalize: true });
      const d = t.dims[1];
      return Array.from({ length: t.dims[0] }, (_, i) => t.data.subarray(i * d, (i + 1) * d));
    },
    dispose: () => p.dispose(),
  };
}

async function loadWembed(backend, model, dtype, threads) {
  const e = await lib.Embedder.load(path.join(modelsDir, model), { backend, dtype, threads, variant: threads > 1 ? 'mt' : 'st', cache: false });
  return {
    name: `wembed ${backend}`,
    info: e.info().engine,
    embed: (texts, maxTokens) => e.embed(texts, { pooling: 'mean', normalize: true, maxTokens, truncate: 'error' }),
    dispose: () => e.dispose(),
  };
}

const rows = [];
console.log(`node ${process.versions.node}; ${rounds} rounds; medians; tokens/s`);
for (const threads of threadCounts) {
  for (const model of models) {
    if (!fs.existsSync(path.join(modelsDir, model, 'config.json'))) {
      console.log(`${model}: not in bench/models (gen/bench_models.py --only ${model}): skipped`);
      continue;
    }
    for (const dtype of dtypes) {
      const engines = [await loadOrt(model, dtype, threads), await loadWembed('native', model, dtype, threads)];
      if (withWasm) engines.push(await loadWembed('wasm', model, dtype, threads));
      try {
        // Agreement first: no timing counts unless every engine gives the same vectors.
        const probe = inputs.short.slice(0, 8);
        const ref = await engines[0].embed(probe, 512);
        const agree = {};
        for (const e of engines.slice(1)) {
          const v = await e.embed(probe, 512);
          agree[e.name] = Math.min(...v.map((x, i) => cos(x, ref[i])));
          if (!(agree[e.name] >= (dtype === 'f32' ? 0.9999 : 0.99))) throw new Error(`${model} ${dtype}: ${e.name} disagrees with onnxruntime-node (cosine ${agree[e.name]})`);
        }
        for (const wl of WORKLOADS[model]) {
          const w = work(wl);
          const times = engines.map(() => []);
          for (const e of engines) await e.embed(w.texts, w.maxTokens);   // warm-up
          for (let r = 0; r < rounds; r++) {
            const order = r % 2 ? [...engines.keys()].reverse() : [...engines.keys()];
            for (const i of order) {
              const t0 = now();
              await engines[i].embed(w.texts, w.maxTokens);
              times[i].push(now() - t0);
            }
          }
          const tps = times.map((t) => w.tokens / (median(t) / 1000));
          const row = { node: process.versions.node, model, dtype, threads, workload: wl, tokens: w.tokens,
            ort: tps[0], native: tps[1], wasm: tps[2] ?? null, nativeVsOrt: tps[1] / tps[0], wasmVsOrt: withWasm ? tps[2] / tps[0] : null,
            agree, nativeInfo: engines[1].info.systemInfo, wasmInfo: engines[2]?.info.systemInfo ?? null };
          rows.push(row);
          console.log(`${model} ${dtype} ${threads}t ${wl}: ORT-node ${tps[0].toFixed(0)}, native ${tps[1].toFixed(0)} (${row.nativeVsOrt.toFixed(2)}x)` +
            (withWasm ? `, wasm ${tps[2].toFixed(0)} (${row.wasmVsOrt.toFixed(2)}x)` : '') +
            `; cosine vs ORT: ${Object.entries(agree).map(([k, v]) => `${k} ${v.toFixed(6)}`).join(', ')}`);
        }
      } finally {
        for (const e of engines) await e.dispose();
      }
    }
  }
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ rows }, null, 1) + '\n');
