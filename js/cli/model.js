// model.js - what every model command shares: the model options (--model, --revision, ...,
// --threads, --dtype), loading an Embedder with a progress line, the embed options of `embed`,
// `embed-image` and `search`, and the `info` command.

import { MAX_THREADS } from '../engine.js';
import { parseArgs, UsageError, intArg, choice } from './args.js';
import { loadProgress, out } from './io.js';

export const MODEL_SPEC = {
  model: 'string', revision: 'string', 'hub-base': 'string', token: 'string', file: 'string',
  'cache-dir': 'string', cache: 'boolean', variant: 'string', threads: 'string', dtype: 'string',
};

export function sourceOptions(args) {
  return {
    revision: args.revision,
    hubBase: args['hub-base'],
    token: args.token ?? process.env.HF_TOKEN ?? undefined,
    cache: args.cache === false ? false : args['cache-dir'] ?? true,
  };
}

export async function loadEmbedder(args) {
  if (!args.model) throw new UsageError('--model is required');
  const { Embedder } = await import('../embedder.js');
  const threads = args.threads === undefined ? undefined : intArg(args, 'threads', undefined);
  if (threads !== undefined && threads > MAX_THREADS) throw new UsageError(`--threads: at most ${MAX_THREADS}`);
  const variant = choice(args, 'variant', ['auto', 'mt', 'st']) ?? (threads === 1 ? 'st' : 'auto');
  return Embedder.load(args.model, {
    ...sourceOptions(args),
    dtype: /** @type {any} */ (choice(args, 'dtype', ['f32', 'f16', 'q8'])),
    file: args.file,
    variant,
    threads,
    onProgress: loadProgress(),
  });
}

/** Embedding options from the flags of `embed` / `embed-image`. */
export function embedOptions(args) {
  /** @type {import('../embedder.js').EmbedOptions} */
  const o = {};
  const pooling = choice(args, 'pooling', ['mean', 'cls', 'eos', 'last', 'max', 'mean_sqrt_len', 'weighted_mean', 'none']);
  if (pooling) o.pooling = /** @type {any} */ (pooling);
  if (args.normalize === false) o.normalize = false;
  if (args.dims !== undefined) o.dims = intArg(args, 'dims');
  if (args['max-tokens'] !== undefined) o.maxTokens = intArg(args, 'max-tokens');
  const tr = choice(args, 'truncate', ['error', 'truncate', 'chunk']);
  if (tr) o.truncate = /** @type {any} */ (tr);
  if (args['chunk-overlap'] !== undefined) o.chunkOverlap = intArg(args, 'chunk-overlap', undefined, 0);
  if (args['rope-scaling'] !== undefined) {
    const m = /^(none|linear|ntk|dynamic-ntk)(?::([0-9]*\.?[0-9]+))?$/.exec(args['rope-scaling']);
    if (!m) throw new UsageError(`--rope-scaling must be none|linear|ntk|dynamic-ntk[:FACTOR], not ${args['rope-scaling']}`);
    o.ropeScaling = /** @type {any} */ (m[1]);
    if (m[2]) o.ropeFactor = Number(m[2]);
  }
  const nl = choice(args, 'ntk-length', ['own', 'padded']);
  if (nl) o.ntkLength = /** @type {any} */ (nl);
  const q = choice(args, 'quantize', ['none', 'int8', 'binary']);
  if (q) o.quantize = /** @type {any} */ (q);
  if (args.prefix !== undefined && args.task !== undefined) throw new UsageError('give --prefix or --task, not both');
  if (args.prefix !== undefined) o.prefix = args.prefix;
  if (args.task !== undefined) o.task = args.task;
  return o;
}

export async function infoCommand(argv) {
  const args = parseArgs(argv, MODEL_SPEC);
  const e = await loadEmbedder(args);
  try {
    const i = e.info();
    const heap = e.engine.heapU8().byteLength;
    await out(JSON.stringify({
      source: i.source, architecture: i.architecture, modelType: i.modelType, format: i.format, dtype: i.dtype,
      dims: i.dims, hiddenSize: i.hiddenSize, layers: i.layers, heads: i.heads, intermediateSize: i.intermediateSize,
      vocabSize: i.vocabSize, parameters: i.parameters, maxTokens: i.maxSeqLength > 0 ? Math.min(i.maxSeqLength, i.maxTokens) : i.maxTokens,
      positions: i.maxTokens, pooling: i.pooling, normalize: i.normalize,
      ...(i.hasVision ? { vision: { hiddenSize: i.visionHiddenSize, layers: i.visionLayers, heads: i.visionHeads, imageSize: i.imageSize, patchSize: i.patchSize }, logitScale: i.logitScale } : {}),
      text: i.hasText, tasks: i.tasks, matryoshkaDims: i.matryoshkaDims,
      memory: { weightBytes: i.weightBytes, wasmHeapBytes: heap },
      engine: i.engine, files: e.files, warnings: e.warnings ? e.warnings.split('\n').filter(Boolean) : [],
    }));
  } finally {
    e.dispose();
  }
  return 0;
}

