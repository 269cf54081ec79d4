// model.js - what every model command shares: the model options (--model, --revision, ...,
// --threads, --dtype), the engine the command runs on, loading an Embedder (or a Reranker) with a progress line,
// the embed options of `embed`, `embed-image` and `search`, and the `info` command.
//
// The engine starts before anything is loaded: the values of named options (--dtype, --pooling,
// --truncate, --rope-scaling, --ntk-length, --quantize) are checked against its table of names
// (engine.consts, js/names.js), so a mistake is a usage error before any download.

import { createEngine, MAX_THREADS } from '../engine.js';
import { folderCache, reloadingCache } from '../cache.js';
import { flagName, jsName, valueNames } from '../names.js';
import { parseArgs, UsageError, intArg, choice } from './args.js';
import { loadProgress, out } from './io.js';

export const MODEL_SPEC = {
  model: 'string', 'model-id': 'string', revision: 'string', 'hub-base': 'string', token: 'string', file: 'string',
  'cache-dir': 'string', cache: 'boolean', refresh: 'boolean', variant: 'string', threads: 'string', dtype: 'string',
};

export function sourceOptions(args) {
  if (args.refresh && args.cache === false) throw new UsageError('--refresh rewrites the cache: it cannot go with --no-cache');
  const cache = args.cache === false ? false : args['cache-dir'] ? folderCache(args['cache-dir']) : true;
  return {
    revision: args.revision,
    hubBase: args['hub-base'],
    token: args.token ?? process.env.HF_TOKEN ?? undefined,
    cache: args.refresh ? reloadingCache(cache === true ? folderCache() : cache) : cache,
  };
}

/** --variant and --threads as engine options. */
function engineOptions(args) {
  const threads = args.threads === undefined ? undefined : intArg(args, 'threads', undefined);
  if (threads !== undefined && threads > MAX_THREADS) throw new UsageError(`--threads: at most ${MAX_THREADS}`);
  const variant = choice(args, 'variant', ['auto', 'mt', 'st']) ?? (threads === 1 ? 'st' : 'auto');
  return { variant, threads };
}

/** @type {Promise<import('../engine.js').Engine> | null} */
let started = null;

/**
 * The engine this process's commands run on (--variant, --threads), started on first use; the
 * models, indexes and the checks of option values all use it. Stopped by stopEngine().
 * @returns {Promise<import('../engine.js').Engine>}
 */
export function commandEngine(args) {
  started ??= createEngine(/** @type {any} */ (engineOptions(args)));
  return started;
}

/** Stops the engine commandEngine started, if any. */
export async function stopEngine() {
  const e = await started?.catch(() => null);
  started = null;
  e?.dispose();
}

/**
 * The value of a named option's flag, checked against the engine's table, or undefined.
 * @param {Record<string, any>} args @param {Record<string, Record<string, number>>} consts @param {string} option
 */
function named(args, consts, option) {
  return choice(args, flagName(option).slice(2), valueNames(consts, option));
}

export async function loadEmbedder(args) {
  const { Embedder } = await import('../embedder.js');
  return loadAs(Embedder, args);
}

/** A cross-encoder (`rerank`), loaded as loadEmbedder loads an Embedder. */
export async function loadReranker(args) {
  const { Reranker } = await import('../reranker.js');
  return loadAs(Reranker, args);
}

/** @template T @param {{load: (source: string, opts: any) => Promise<T>}} Cls @returns {Promise<T>} */
async function loadAs(Cls, args) {
  if (!args.model) throw new UsageError('--model is required');
  const engine = await commandEngine(args);
  return Cls.load(args.model, {
    ...sourceOptions(args),
    dtype: /** @type {any} */ (named(args, engine.consts, 'dtype')),
    file: args.file,
    model: args['model-id'],   // the registry entry (task prefixes, Matryoshka dims) of a local copy
    engine,
    onProgress: loadProgress(),
  });
}

/**
 * Embedding options from the flags of `embed` / `embed-image` / `search`: each named option's
 * flag is its table name in kebab-case, its JS option the same in camelCase.
 * @param {Record<string, any>} args @param {Record<string, Record<string, number>>} consts engine.consts
 */
export function embedOptions(args, consts) {
  /** @type {Record<string, any>} */
  const o = {};
  const set = (option) => {
    const v = named(args, consts, option);
    if (v !== undefined) o[jsName(option)] = v;
  };
  set('pooling');
  if (args.normalize === false) o.normalize = false;
  if (args.dims !== undefined) o.dims = intArg(args, 'dims');
  if (args['max-tokens'] !== undefined) o.maxTokens = intArg(args, 'max-tokens');
  set('truncate');
  if (args['chunk-overlap'] !== undefined) o.chunkOverlap = intArg(args, 'chunk-overlap', undefined, 0);
  const rope = args[flagName('rope_scaling').slice(2)];
  if (rope !== undefined) {   // NAME or NAME:FACTOR
    const m = /^([a-z-]+)(?::([0-9]*\.?[0-9]+))?$/.exec(rope);
    const names = valueNames(consts, 'rope_scaling');
    if (!m || !names.includes(m[1])) throw new UsageError(`${flagName('rope_scaling')} must be ${names.join('|')}[:FACTOR], not ${rope}`);
    o.ropeScaling = m[1];
    if (m[2]) o.ropeFactor = Number(m[2]);
  }
  set('ntk_length');
  if (args['attention-temperature'] !== undefined) {
    const t = Number(args['attention-temperature']);
    if (!(t > 0 && Number.isFinite(t))) throw new UsageError(`--attention-temperature must be a number > 0, not ${args['attention-temperature']}`);
    o.attentionTemperature = t;
  }
  if (args['self-extend'] !== undefined) {   // G,W
    const m = /^([0-9]+),([0-9]+)$/.exec(args['self-extend']);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`--self-extend must be GROUP,WINDOW (integers >= 1), not ${args['self-extend']}`);
    o.selfExtend = { group: Number(m[1]), window: Number(m[2]) };
  }
  set('quantize');
  if (args.prefix !== undefined && args.task !== undefined) throw new UsageError('give --prefix or --task, not both');
  if (args.prefix !== undefined) o.prefix = args.prefix;
  if (args.task !== undefined) o.task = args.task;
  return /** @type {import('../embedder.js').EmbedOptions} */ (o);
}

/**
 * Checks embed options against the loaded model once, before any input is read: a value the
 * model refuses (a --dims beyond its width, a --task it has no prefix for) is a usage error,
 * not an error repeated on every input line.
 * @param {import('../embedder.js').Embedder} e @param {import('../embedder.js').EmbedOptions} opts
 * @param {{image?: boolean}} [what]
 */
export function checkEmbedOptions(e, opts, what) {
  try {
    e.checkOptions(opts, what);
  } catch (err) {
    if (/** @type {any} */ (err)?.code === 'invalid_argument') throw new UsageError(/** @type {Error} */ (err).message);
    throw err;
  }
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
      positions: i.maxTokens, ...(i.hasText ? { trainedTokens: i.trainedTokens, extension: i.extension } : {}), pooling: i.pooling, normalize: i.normalize,
      ...(i.labels ? { reranker: { labels: i.labels, activation: i.sigmoid ? 'sigmoid' : 'none' } } : {}),
      ...(i.hasVision ? { vision: { hiddenSize: i.visionHiddenSize, layers: i.visionLayers, heads: i.visionHeads, imageSize: i.imageSize, patchSize: i.patchSize }, logitScale: i.logitScale, logitBias: i.logitBias, logitSigmoid: i.logitSigmoid } : {}),
      text: i.hasText, tasks: i.tasks, matryoshkaDims: i.matryoshkaDims,
      memory: { weightBytes: i.weightBytes, wasmHeapBytes: heap },
      engine: i.engine, files: e.files, warnings: e.warnings ? e.warnings.split('\n').filter(Boolean) : [],
    }));
  } finally {
    e.dispose();
  }
  return 0;
}

