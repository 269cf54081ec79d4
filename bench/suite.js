// suite.js - the benchmark's three kinds of job, the same code in a Node child process and in a
// browser Worker (bench/run.mjs starts both):
//
//   throughput  one thread count, both engines loaded side by side; per model and dtype first
//               the agreement check (no timing counts before it passes), then each workload
//               with the engines alternating call by call (who goes first swaps every round),
//               after one untimed warm-up call each (with 2+ threads, each timed call after a
//               pause that lets the other engine's spinning workers go idle); medians.
//   cold        one engine, one model, in a fresh process / Worker: import to first vector, then
//               (with `memory`) each workload once, and the memory it all took.
//   long        one engine, one document of 8192 tokens (nomic, ModernBERT): time, wasm memory, the
//               engine's byte counters, or how it failed.
//
// Every result is a plain object handed to `emit`.

import { MODELS, jobContext, importWembed, importTransformers, WembedRunner, TransformersRunner, cosine } from './engines.js';
import { makeImages } from './inputs.js';
import { wasmMemoryBytes, wasmMemoryCount } from './wasm-memory.js';

/**
 * Workloads per model: short texts on MiniLM and the decoder embedders, documents on the text
 * models, images on CLIP (16) and on SigLIP and nomic-embed-vision (4 of the 16: a ViT-B/16's
 * 197 tokens are four times CLIP B/32's work an image, and images/s does not depend on the
 * batch), 1 query x 20 passages on the cross-encoder.
 */
export const WORKLOADS = {
  minilm: ['short', 'doc512'], nomic: ['doc512', 'doc2048'], clip: ['images16'], siglip: ['images4'], nomicvision: ['images4'],
  modernbert: ['doc512', 'doc2048'], jina: ['doc512', 'doc2048'], rerank: ['rerank20'],
  qwen3: ['short', 'doc2048'], gemma: ['short', 'doc2048'],
};
// q4 (the decoder embedders only): 4-bit blocks through random weights move each engine's vector
// to a cosine near 0.95 of f32's (bench/results/decoder-memory.md), each engine its own way, so
// the gate only asks that both compute the same model: far above the cross-input cosine (0.1-0.2).
export const THRESHOLD = { f32: 0.9999, q8: 0.99, q4: 0.85 };
const SETTLE_MS = 200;   // pause before each timed multi-thread call (runThroughput)
const HEAVY_SECONDS = 8;

const now = () => performance.now();
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * The work a workload names, and how much of it there is.
 * @returns {{units: number, unit: 'tokens'|'images', run: (r: any) => Promise<any[]>}}
 */
function workload(name, inputs, images, model) {
  if (name === 'short') {
    const n = inputs.shortTokens.reduce((a, b) => a + b, 0);
    return { units: n, unit: 'tokens', run: (r) => r.embedTexts(inputs.short, MODELS[model].maxTokens) };
  }
  const m = /^doc(\d+)$/.exec(name);
  if (m) {
    const N = Number(m[1]);
    return { units: N, unit: 'tokens', run: (r) => r.embedTexts([inputs.docs[N]], N) };
  }
  const im = /^images(\d+)$/.exec(name);
  if (im) {
    const some = images.slice(0, Number(im[1]));
    return { units: some.length, unit: 'images', run: (r) => r.embedImages(some) };
  }
  if (name === 'rerank20') {
    const { query, passages } = inputs.rerank;
    return { units: passages.length, unit: 'pairs', run: (r) => r.scorePairs(query, passages) };
  }
  throw new Error(`unknown workload ${name}`);
}

const errText = (e) => String(e?.message ?? e).split('\n')[0].slice(0, 300);

async function loadBoth(libs, ctx, model, dtype) {
  const w = await WembedRunner.load(libs.wembed, ctx, model, dtype);
  const t = await TransformersRunner.load(libs.tjs, ctx, model, dtype);
  return { w, t };
}

// -----------------------------------------------------------------------------------------
// Agreement

/**
 * Both engines on the same inputs: the torch reference's ids / pixels, the benchmark's texts
 * (token ids compared too) or transformers.js's own pixel values of the benchmark's images.
 */
async function agreement({ w, t }, model, dtype, inputs, images, reference) {
  const out = { model, dtype, threshold: THRESHOLD[dtype] };
  const cos = (A, B) => A.map((a, i) => cosine(a, B[i]));
  const stats = (xs) => ({ min: Math.min(...xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length });
  const cross = (V) => {
    const xs = [];
    for (let i = 0; i < V.length; i++) for (let j = i + 1; j < V.length; j++) xs.push(cosine(V[i], V[j]));
    return stats(xs).mean;
  };
  if (MODELS[model].kind === 'rerank') return Object.assign(out, await rerankAgreement({ w, t }, dtype, inputs, reference));
  if (MODELS[model].kind === 'text') {
    const rw = await w.embedIds(reference.input_ids), rt = await t.embedIds(reference.input_ids);
    out.refWembed = stats(cos(rw, reference.embeddings));
    out.refTjs = stats(cos(rt, reference.embeddings));
    out.refBoth = stats(cos(rw, rt));
    const texts = [...inputs.short, ...Object.values(inputs.docs)];
    let mismatched = 0;
    for (const s of texts) if (JSON.stringify(await w.tokenIds(s)) !== JSON.stringify(await t.tokenIds(s))) mismatched++;
    out.tokenMismatches = mismatched;
    out.texts = texts.length;
    // 16 of the sentences (8 to 62 tokens) and the 512-token document: enough to see whether
    // the engines agree, without a minute per check on the larger models.
    const some = inputs.short.slice(0, 16);
    out.embedded = some.length + 1;
    const a = [...await w.embedTexts(some, MODELS[model].maxTokens), ...await w.embedTexts([inputs.docs[512]], 512)];
    const b = [...await t.embedTexts(some), ...await t.embedTexts([inputs.docs[512]])];
    out.inputs = stats(cos(a, b));
    out.crossWembed = cross(a.slice(0, 16));
    out.ok = mismatched === 0 && out.inputs.min >= out.threshold && out.refBoth.min >= out.threshold;
  } else {
    const px = reference.pixels;
    const rw = await w.embedPixels(px), rt = await t.embedPixels(px);
    out.refWembed = stats(cos(rw, reference.embeddings));
    out.refTjs = stats(cos(rt, reference.embeddings));
    out.refBoth = stats(cos(rw, rt));
    // The ViT-B/16 models (197 tokens an image, four times CLIP B/32's work) check the first
    // checkImages of the images: enough to see whether the engines agree, without many minutes
    // per check on a loaded machine.
    const some = images.slice(0, MODELS[model].checkImages ?? images.length);
    out.images = some.length;
    const p = await t.preprocess(some);
    const a = await w.embedPixels(p), b = await t.embedPixels(p);
    out.inputs = stats(cos(a, b));
    out.crossWembed = cross(a);
    // Each engine's own preprocessing (wembed: Pillow-exact bicubic; transformers.js: its own
    // resize): not gated, reported.
    out.endToEnd = stats(cos(await w.embedImages(some), await t.embedImages(some)));
    // q8: a random-weight model's q8 rounding can move both engines off torch's float32 vector by
    // more than the engines' gate allows between them (nomic-embed-vision: wembed 0.9945,
    // transformers.js 0.9837, each other 0.979); then, as for the cross-encoder, wembed must
    // itself be within the q8 threshold of torch and no farther from it than transformers.js's
    // q8 graph (the reference quantization) is.
    out.ok = (out.inputs.min >= out.threshold && out.refBoth.min >= out.threshold) ||
      (dtype === 'q8' && out.refWembed.min >= out.threshold && out.refWembed.min >= out.refTjs.min);
  }
  return out;
}

/** Pearson correlation of two score lists (the cosine of the centred vectors). */
function pearson(a, b) {
  const ma = a.reduce((x, y) => x + y, 0) / a.length, mb = b.reduce((x, y) => x + y, 0) / b.length;
  return cosine(a.map((x) => x - ma), b.map((x) => x - mb));
}

const maxAbs = (a, b) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

/**
 * A cross-encoder's scores are single logits, so the engines are compared on the 20 benchmark
 * pairs by the correlation of their scores (gated like the embedding cosines) and by the largest
 * difference next to the scores' spread; and on the generator's pairs against torch's logits.
 * Token ids: the query and each passage alone (wembed's JS API does not expose its pair encoding).
 */
async function rerankAgreement({ w, t }, dtype, inputs, reference) {
  const out = {};
  const rw = await w.scoreIds(reference.input_ids, reference.token_type_ids);
  const rt = await t.scoreIds(reference.input_ids, reference.token_type_ids);
  out.refWembedMaxAbs = maxAbs(rw, reference.logits);
  out.refTjsMaxAbs = maxAbs(rt, reference.logits);
  out.refBothMaxAbs = maxAbs(rw, rt);
  const { query, passages } = inputs.rerank;
  let mismatched = 0;
  for (const s of [query, ...passages]) if (JSON.stringify(await w.tokenIds(s)) !== JSON.stringify(await t.tokenIds(s))) mismatched++;
  out.tokenMismatches = mismatched;
  out.texts = passages.length + 1;
  const a = await w.scorePairs(query, passages), b = await t.scorePairs(query, passages);
  out.scores = { wembed: a, tjs: b };
  out.maxAbs = maxAbs(a, b);
  out.spread = Math.max(...b) - Math.min(...b);
  out.pearson = pearson(a, b);
  out.refSpread = Math.max(...reference.logits) - Math.min(...reference.logits);
  // In the generic fields the tables read: the correlation stands where the cosines stand.
  out.inputs = { min: out.pearson, mean: out.pearson };
  // f32: the engines' scores correlate as the embedding cosines must, and both sit on torch's.
  // q8: a single logit of an untrained head moves with q8 rounding by a fair part of its spread
  // between pairs in either engine (measured: errors of 0.25 and 0.34 against a spread of 1),
  // so the scores cannot be held to each other; wembed's q8 error against torch's float32 logits
  // must be no larger than transformers.js's own (its q8 graph is the reference quantization).
  out.ok = mismatched === 0 && (dtype === 'f32'
    ? out.pearson >= THRESHOLD.f32 && out.refBothMaxAbs <= 1e-3 * Math.max(1e-3, out.refSpread)
    : out.refWembedMaxAbs <= Math.max(2 * out.refTjsMaxAbs, 1e-3 * out.refSpread));
  return out;
}

// -----------------------------------------------------------------------------------------
// Jobs

/**
 * @param {{threads: number, modelsBase: string, env: string, dtypes: string[], models: string[],
 *   workloads?: Record<string, string[]>, rounds: number}} job
 * @param {{inputs: any, references: Record<string, any>}} data
 * @param {(row: object) => void} emit
 */
export async function runThroughput(job, data, emit) {
  const ctx = jobContext(job);
  const libs = { wembed: await importWembed(), tjs: await importTransformers(ctx) };
  const images = makeImages();
  for (const dtype of job.dtypes) {
    for (const model of job.models) {
      const base = { env: job.env, threads: job.threads, dtype, model };
      let pair;
      try {
        pair = await loadBoth(libs, ctx, model, dtype);
      } catch (e) {
        emit({ type: 'error', ...base, stage: 'load', error: errText(e) });
        continue;
      }
      try {
        const check = await agreement(pair, model, dtype, data.inputs, images, data.references[model]);
        emit({ type: 'check', ...base, ...check, wembedSystemInfo: pair.w.e?.info().engine.systemInfo });
        if (!check.ok) continue;
        for (const name of (job.workloads ?? WORKLOADS)[model] ?? []) {
          const wl = workload(name, data.inputs, images, model);
          // Each timed call starts after a pause: both engines' thread pools spin for a while
          // after a call before they sleep, and on 2 vCPUs one engine's spinning workers would
          // take the CPU from the other's and skew the 2-thread rows (bench/results/notes.md).
          const time = async (r) => {
            if (job.threads > 1) await new Promise((res) => setTimeout(res, SETTLE_MS));
            const t0 = now();
            await wl.run(r);
            return (now() - t0) / 1000;
          };
          const sw = [], st = [];
          let tjsError = null;
          // Warm-up calls; one that ran for seconds is past any tier-up and counts as round 0.
          const ww = await time(pair.w);
          let wt = 0;
          try { wt = await time(pair.t); } catch (e) { tjsError = errText(e); }
          const heavy = ww > HEAVY_SECONDS && (tjsError || wt > HEAVY_SECONDS);
          if (heavy) { sw.push(ww); if (!tjsError) st.push(wt); }
          for (let r = heavy ? 1 : 0; r < job.rounds; r++) {
            const order = r % 2 ? ['t', 'w'] : ['w', 't'];
            for (const who of order) {
              if (who === 'w') sw.push(await time(pair.w));
              else if (!tjsError) {
                try { st.push(await time(pair.t)); } catch (e) { tjsError = errText(e); }
              }
            }
          }
          emit({ type: 'throughput', ...base, workload: name, units: wl.units, unit: wl.unit,
            wembed: { seconds: median(sw), samples: sw },
            tjs: tjsError ? { error: tjsError } : { seconds: median(st), samples: st } });
        }
      } catch (e) {
        emit({ type: 'error', ...base, stage: 'run', error: errText(e) });
      } finally {
        await pair.w.dispose();
        await pair.t.dispose();
      }
    }
  }
}

/**
 * A fresh process or Worker: import -> load -> first vector, then optionally every workload once.
 * @param {{engine: 'wembed'|'tjs', model: string, dtype: 'f32'|'q8', threads: number, modelsBase: string,
 *   env: string, memory: boolean, workloads?: Record<string, string[]>}} job
 */
export async function runCold(job, data, emit, memoryProbe = () => ({})) {
  const images = makeImages();
  const ctx = jobContext(job);
  const kind = MODELS[job.model].kind;
  const first = kind === 'image' ? [images[0]] : ['A short sentence for the first vector.'];
  const t0 = now();
  const lib = job.engine === 'wembed' ? await importWembed() : await importTransformers(ctx);
  const t1 = now();
  const runner = job.engine === 'wembed'
    ? await WembedRunner.load(lib, ctx, job.model, job.dtype)
    : await TransformersRunner.load(lib, ctx, job.model, job.dtype);
  const t2 = now();
  const v = kind === 'text' ? await runner.embedTexts(first, 512) : kind === 'rerank'
    ? [await runner.scorePairs(first[0], ['A passage to score against it.'])] : await runner.embedImages(first);
  const t3 = now();
  if (!(v[0]?.length > 0)) throw new Error('no vector');
  const row = { type: 'cold', env: job.env, engine: job.engine, model: job.model, dtype: job.dtype, threads: job.threads,
    seconds: (t3 - t0) / 1000, importSeconds: (t1 - t0) / 1000, loadSeconds: (t2 - t1) / 1000, firstSeconds: (t3 - t2) / 1000 };
  if (job.memory) {
    const done = [];
    for (const name of (job.workloads ?? WORKLOADS)[job.model] ?? []) {
      try {
        await workload(name, data.inputs, images, job.model).run(runner);
        done.push(name);
      } catch (e) {
        row.workloadError = `${name}: ${errText(e)}`;
      }
    }
    row.memoryWorkloads = done;
    row.wasmBytes = wasmMemoryBytes();
    row.wasmMemories = wasmMemoryCount();
    if (job.engine === 'wembed') row.engineBytes = runner.allocBytes();
    Object.assign(row, memoryProbe());
  }
  await runner.dispose();
  emit(row);
}

/** One long document through one engine (a fresh process or Worker). */
export async function runLong(job, data, emit, memoryProbe = () => ({})) {
  const ctx = jobContext(job);
  const N = job.tokens;
  const row = { type: 'long', env: job.env, engine: job.engine, model: job.model, dtype: job.dtype, threads: job.threads, tokens: N };
  const runner = job.engine === 'wembed'
    ? await WembedRunner.load(await importWembed(), ctx, job.model, job.dtype)
    : await TransformersRunner.load(await importTransformers(ctx), ctx, job.model, job.dtype);
  if (job.engine === 'wembed') {
    row.afterLoad = runner.allocBytes();
    runner.resetAllocPeak();
  }
  const t0 = now();
  try {
    const [v] = await runner.embedTexts([data.inputs.docs[N]], N);
    row.seconds = (now() - t0) / 1000;
    row.ok = v.length > 0 && v.every(Number.isFinite);
  } catch (e) {
    row.seconds = (now() - t0) / 1000;
    row.ok = false;
    row.error = errText(e);
  }
  row.wasmBytes = wasmMemoryBytes();
  if (job.engine === 'wembed') {
    row.engineBytes = runner.allocBytes();
    row.wembedWasmBytes = runner.wasmMemoryBytes();
  }
  Object.assign(row, memoryProbe());
  try { await runner.dispose(); } catch { /* a failed session may not release cleanly */ }
  emit(row);
}

/** Parses the references the generator wrote (pixels from their .bin file). */
export function parseReference(json, pixelBytes) {
  const ref = JSON.parse(json);
  if (ref.kind === 'image') ref.pixels = new Float32Array(pixelBytes.buffer.slice(pixelBytes.byteOffset, pixelBytes.byteOffset + pixelBytes.byteLength));
  return ref;
}
