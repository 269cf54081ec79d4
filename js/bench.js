// bench.js - GEMM throughput of the engine's kernels, measured inside the wasm module. The
// benchmark's export lives only in the bench build of the modules (dist/bench/, made by
// `scripts/build.sh bench` in a checkout of the repository; the npm package does not ship it),
// so `benchGemm` takes an engine started by `createBenchEngine`. Used by `wembed bench gemm`
// and bench/gemm.mjs.

import { WembedError } from './errors.js';
import { startEngine } from './engine.js';
import { cString, copyOut } from './heap.js';

/** BERT layer shapes: [K, N] of the attention and MLP projections of MiniLM and BERT-base. */
export const BERT_GEMM_SHAPES = [[384, 384], [384, 1536], [1536, 384], [768, 768], [768, 3072], [3072, 768]];

/** The dtypes of the benchmark, as the export numbers them (src/ops/ops.h we_bench_dtype). */
export const GEMM_DTYPES = ['f32', 'q8', 'q4'];

/** dist/bench/<name>: computed URLs, so that bundlers and type checks leave the optional build alone. */
const benchFile = (name) => new URL(`../dist/bench/${name}`, import.meta.url);

/** The bench build's files (wasm/emscripten.cmake, wembed_bench_modules). @type {import('./engine.js').ModuleFiles} */
const BENCH = {
  glue: async (variant) => {
    const name = `wembed${variant === 'mt' ? '-mt' : ''}-bench.mjs`;
    try {
      return await import(benchFile(name).href);
    } catch (e) {
      throw new WembedError('unsupported', `the GEMM benchmark needs the bench build of the engine (dist/bench/${name} ` +
        'could not be loaded): run `scripts/build.sh bench` in a checkout of the repository; the npm package ships only the engine', { cause: e });
    }
  },
  wasm: (variant, simd) => benchFile(`wembed${variant === 'mt' ? '-mt' : ''}-bench${simd === 'relaxed' ? '-relaxed' : ''}.wasm`),
};

/**
 * Starts the bench build of the engine (the shipped modules plus the benchmark's export), with
 * createEngine's options.
 * @param {import('./engine.js').EngineOptions} [opts]
 * @returns {Promise<import('./engine.js').Engine>}
 */
export function createBenchEngine(opts = {}) {
  return startEngine(opts, BENCH);
}

/**
 * @typedef {object} GemmBenchResult
 * @property {'f32'|'q8'|'q4'} dtype
 * @property {number} T rows of activations (tokens)
 * @property {number} K inner dimension
 * @property {number} N output features
 * @property {number} threads
 * @property {number} gflops billions of multiply-adds x2 per second (GOP/s for q8 and q4)
 * @property {number} seconds time spent in the timed calls
 * @property {number} iters timed calls
 * @property {number} nmse normalized squared error of the output against the scalar reference
 */

/**
 * Times y = x @ W^T for one shape on the engine's pool.
 * @param {import('./engine.js').Engine} engine an engine from createBenchEngine
 * @param {{dtype?: 'f32'|'q8'|'q4', T: number, K: number, N: number, minSeconds?: number}} shape
 * @returns {GemmBenchResult}
 */
export function benchGemm(engine, { dtype = 'f32', T, K, N, minSeconds = 0.5 }) {
  const code = GEMM_DTYPES.indexOf(dtype);
  if (code < 0) throw new WembedError('invalid_argument', `dtype must be one of ${GEMM_DTYPES.join(', ')}, not ${dtype}`);
  for (const [name, v] of /** @type {[string, number][]} */ ([['T', T], ['K', K], ['N', N]])) {
    if (!Number.isInteger(v) || v < 1 || v > 65536) throw new WembedError('invalid_argument', `${name} must be an integer in [1, 65536], not ${v}`);
  }
  const m = engine.module;
  if (!m._wembed__bench_gemm) throw new WembedError('invalid_argument', 'benchGemm needs an engine from createBenchEngine (the bench build)');
  const out = m._malloc(4 * 8);
  try {
    const rc = m._wembed__bench_gemm(engine.pool, code, T, K, N, minSeconds, out);
    if (rc !== 0) throw new WembedError(cString(engine, m._wembed__status_str(rc)), `GEMM benchmark failed (${T}x${K}x${N})`);
    const r = copyOut(engine, Float64Array, out, 4);   // read after the call
    return { dtype, T, K, N, threads: engine.threads, gflops: r[0], seconds: r[1], iters: r[2], nmse: r[3] };
  } finally {
    m._free(out);
  }
}
