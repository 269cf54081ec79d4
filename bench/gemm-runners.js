// gemm-runners.js - the two GEMM measurements the benchmark compares, usable in Node and in a
// browser Worker alike: wembed's kernels (timed inside wasm by `benchGemm`) and
// onnxruntime-web's WASM backend on a one-operator ONNX model of the same shape (timed
// around `session.run`, which includes copying x in and y out: a small cost next to the GEMM
// at these sizes, and the cost a real caller pays).

import { matmulModel, matmulQ8Model } from './onnx.mjs';

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296 - 0.5;
  };
}

/**
 * Prepares an onnxruntime-web session for y = x @ W (W [K, N]) and returns a timing function.
 * @param {any} ort the onnxruntime-web module (env.wasm.numThreads already set)
 * @param {{dtype: 'f32'|'q8', T: number, K: number, N: number}} shape
 */
export async function ortGemm(ort, { dtype, T, K, N }) {
  const r = rng(1234 + K * 7 + N);
  const x = new Float32Array(T * K).map(r);
  let bytes, ref;
  if (dtype === 'f32') {
    const W = new Float32Array(K * N).map(r);
    bytes = matmulModel(K, N, W);
    ref = (t, n) => { let s = 0; for (let k = 0; k < K; k++) s += x[t * K + k] * W[k * N + n]; return s; };
  } else {
    const Wq = new Int8Array(K * N).map(() => Math.round(r() * 254));
    const wScale = 0.01;
    bytes = matmulQ8Model(K, N, Wq, wScale);
    ref = (t, n) => { let s = 0; for (let k = 0; k < K; k++) s += x[t * K + k] * Wq[k * N + n] * wScale; return s; };
  }
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const feeds = { x: new ort.Tensor('float32', x, [T, K]) };
  // The output must be right before its speed counts (q8: within dynamic-quantization error).
  const y = (await session.run(feeds)).y.data;
  let num = 0, den = 0;
  for (const [t, n] of [[0, 0], [T - 1, N - 1], [T >> 1, N >> 1], [1 % T, 7 % N]]) {
    const want = ref(t, n);
    num += (y[t * N + n] - want) ** 2;
    den += want ** 2;
  }
  const nmse = num / den;
  if (!(nmse < (dtype === 'f32' ? 1e-8 : 1e-3))) throw new Error(`onnxruntime-web ${dtype} output is wrong (nmse ${nmse})`);

  return {
    nmse,
    /** Runs for at least minSeconds after a warm-up; returns GFLOP/s (GOP/s for q8). */
    async time(minSeconds) {
      for (let i = 0; i < 3; i++) await session.run(feeds);
      let iters = 0;
      const t0 = performance.now();
      let dt;
      do {
        await session.run(feeds);
        iters++;
        dt = (performance.now() - t0) / 1000;
      } while (dt < minSeconds);
      return (2 * T * K * N * iters) / dt / 1e9;
    },
    release: () => session.release(),
  };
}

/**
 * One round of wembed's GEMM benchmark for a shape (see js/bench.js).
 * @param {any} benchGemm @param {any} engine
 * @param {{dtype: 'f32'|'q8'|'q4', T: number, K: number, N: number}} shape @param {number} minSeconds
 */
export function wembedGemm(benchGemm, engine, shape, minSeconds) {
  return benchGemm(engine, { ...shape, minSeconds });
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Measures every shape with both engines at one thread count, alternating the engines round
 * by round so that the machine's drift hits them alike; reports medians. o.simds lists the
 * flavours of wembed's module to run (e.g. ['relaxed', 'simd128'] in a browser that has
 * relaxed SIMD): the first is the row's `wembed`, a second its `wembedSimd128`.
 * @param {{createEngine: any, benchGemm: any, ort: any, threads: number, dtypes: string[],
 *          tokens: number[], shapes: number[][], rounds: number, minSeconds: number,
 *          withOrt: boolean, simds?: string[], onRow: (row: object) => void}} o
 */
export async function runSuite(o) {
  const engines = [];
  try {
    for (const simd of o.simds ?? ['auto']) engines.push(await o.createEngine({ variant: o.threads > 1 ? 'mt' : 'st', threads: o.threads, simd }));
    const engine = engines[0];
    for (const dtype of o.dtypes) {
      for (const T of o.tokens) {
        for (const [K, N] of o.shapes) {
          const shape = { dtype: /** @type {'f32'|'q8'|'q4'} */ (dtype), T, K, N };
          // onnxruntime-web's WASM backend has no 4-bit GEMM operator to compare with
          const ortRun = o.withOrt && dtype !== 'q4' ? await ortGemm(o.ort, /** @type {any} */ (shape)) : null;
          const ours = engines.map(() => []), theirs = [];
          let nmse = 0;
          for (let r = 0; r < o.rounds; r++) {
            engines.forEach((e, i) => {
              const res = wembedGemm(o.benchGemm, e, shape, o.minSeconds);
              ours[i].push(res.gflops);
              nmse = Math.max(nmse, res.nmse);
            });
            if (ortRun) theirs.push(await ortRun.time(o.minSeconds));
          }
          await ortRun?.release();
          o.onRow({ ...shape, threads: engine.threads, variant: engine.variant, simd: engine.simd,
            systemInfo: engine.systemInfo, wembed: median(ours[0]),
            ...(engines.length > 1 ? { wembedSimd128: median(ours[1]) } : {}),
            ort: ortRun ? median(theirs) : null, nmse, rounds: o.rounds });
        }
      }
    }
  } finally {
    for (const e of engines) e.dispose();
  }
}
