// bench.js - `bench gemm` (the engine's GEMM kernels, timed inside wasm) and `bench embed` (texts
// per second of a model).

import { MAX_THREADS } from '../engine.js';
import { createBenchEngine, benchGemm, BERT_GEMM_SHAPES, GEMM_DTYPES } from '../bench.js';
import { parseArgs, UsageError, list, positiveInt, intArg } from './args.js';
import { out } from './io.js';
import { MODEL_SPEC, loadEmbedder } from './model.js';

export async function benchGemmCommand(argv) {
  const args = parseArgs(argv, {
    dtype: 'string', threads: 'string', tokens: 'string', shapes: 'string',
    'min-seconds': 'string', variant: 'string', peak: 'string', json: 'boolean',
  });
  // The peak is the machine's, not the code's: wasm cannot measure it, so it is given
  // (build/bench-peak measures it natively for the instructions the kernels use).
  const peak = args.peak === undefined ? null : Number(args.peak);
  if (peak !== null && !(peak > 0)) throw new UsageError('--peak must be a positive number of GFLOP/s (GOP/s) per thread');
  const dtypes = args.dtype === undefined || args.dtype === 'all' ? GEMM_DTYPES : list(args.dtype, (s) => (GEMM_DTYPES.includes(s) ? s : undefined), 'dtype');
  const threadCounts = args.threads === undefined ? [1, 2] : list(args.threads, positiveInt, 'threads');
  const tokens = args.tokens === undefined ? [128, 512] : list(args.tokens, positiveInt, 'tokens');
  const shapes = args.shapes === undefined ? BERT_GEMM_SHAPES : list(args.shapes, (s) => {
    const m = /^([1-9][0-9]*)x([1-9][0-9]*)$/.exec(s);
    return m ? [Number(m[1]), Number(m[2])] : undefined;
  }, 'shapes');
  const minSeconds = args['min-seconds'] === undefined ? 0.3 : Number(args['min-seconds']);
  if (!(minSeconds > 0 && minSeconds < 600)) throw new UsageError('--min-seconds must be a number of seconds in (0, 600)');
  for (const t of threadCounts) {
    if (t > MAX_THREADS) throw new UsageError(`--threads: at most ${MAX_THREADS}`);
  }

  const rows = [];
  for (const threads of threadCounts) {
    const variant = args.variant ?? (threads > 1 ? 'mt' : 'auto');
    const engine = await createBenchEngine({ variant, threads });
    try {
      for (const dtype of dtypes) {
        for (const T of tokens) {
          for (const [K, N] of shapes) {
            const r = benchGemm(engine, { dtype, T, K, N, minSeconds });
            const row = { ...r, variant: engine.variant, simd: engine.simd, systemInfo: engine.systemInfo,
              ...(peak ? { peakPercent: (100 * r.gflops) / (peak * r.threads) } : {}) };
            rows.push(row);
            if (args.json) process.stdout.write(JSON.stringify(row) + '\n');
            else {
              process.stdout.write(`${dtype.padEnd(4)} T=${String(T).padEnd(4)} K=${String(K).padEnd(5)} N=${String(N).padEnd(5)} ` +
                `threads=${r.threads} ${r.gflops.toFixed(1).padStart(6)} ${dtype !== 'f32' ? 'GOP/s ' : 'GFLOP/s'} ` +
                (peak ? `${row.peakPercent.toFixed(0).padStart(3)}% of peak  ` : '') +
                `nmse ${r.nmse.toExponential(1)}  (${engine.systemInfo})\n`);
            }
          }
        }
      }
    } finally {
      engine.dispose();
    }
  }
  return 0;
}

/** Texts per second of a model on generated texts of a given length. */
export async function benchEmbedCommand(argv) {
  const args = parseArgs(argv, { ...MODEL_SPEC, 'batch-size': 'string', count: 'string', words: 'string', json: 'boolean' });
  const count = intArg(args, 'count', 256);
  const words = intArg(args, 'words', 40);
  const batch = intArg(args, 'batch-size', 32);
  const t0 = performance.now();
  const e = await loadEmbedder(args);
  const loadMs = performance.now() - t0;
  try {
    const vocab = ['the', 'model', 'embeds', 'text', 'into', 'vectors', 'quickly', 'and', 'portable', 'engines', 'run', 'everywhere'];
    const texts = Array.from({ length: count }, (_, i) => Array.from({ length: words }, (_, k) => vocab[(i * 7 + k * 3) % vocab.length]).join(' '));
    await e.embed(texts.slice(0, Math.min(batch, 8)));   // warm-up
    const t1 = performance.now();
    for (let i = 0; i < texts.length; i += batch) await e.embed(texts.slice(i, i + batch));
    const s = (performance.now() - t1) / 1000;
    const i = e.info();
    const row = { model: args.model, dtype: i.dtype, threads: i.engine.threads, variant: i.engine.variant, texts: count, words, batch, loadMs: Math.round(loadMs), seconds: s, textsPerSecond: count / s };
    await out(args.json ? JSON.stringify(row) : `${args.model}: ${row.textsPerSecond.toFixed(1)} texts/s (${words} words, batch ${batch}, ${i.dtype}, ${row.threads} thread${row.threads > 1 ? 's' : ''}); load ${row.loadMs} ms`);
  } finally {
    e.dispose();
  }
  return 0;
}

