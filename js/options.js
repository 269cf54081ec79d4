// options.js - the option names each call of the JS API knows, and the check that refuses any
// other: a misspelt option (`normalise`, `maxToken`) would otherwise be ignored without a word
// and the call would run with the default, as the CLI refuses an unknown flag. Keep each list in
// step with its JSDoc typedef (tests/js/options.test.js checks them against the types).

import { WembedError } from './errors.js';

/** createEngine (js/engine.js EngineOptions). */
export const ENGINE_OPTIONS = ['variant', 'simd', 'threads', 'wasmURL', 'wasmBinary', 'workerURL', 'backend', 'nativePath'];

/** Embedder.load, Reranker.load (js/embedder.js LoadOptions; workerURL: worker mode). */
export const LOAD_OPTIONS = [
  'dtype', 'threads', 'variant', 'simd', 'backend', 'engine', 'revision', 'hubBase', 'token', 'file', 'model', 'cache',
  'cacheMaxAge', 'fetch', 'maxRetries', 'retryDelay', 'timeout', 'onProgress', 'signal', 'worker', 'workerURL',
];

/** embed, embedImage, embedPixels (js/embedder.js EmbedOptions). */
export const EMBED_OPTIONS = [
  'pooling', 'normalize', 'dims', 'maxTokens', 'truncate', 'chunkOverlap', 'ropeScaling', 'ropeFactor', 'ntkLength',
  'attentionTemperature', 'selfExtend', 'quantize', 'allowNonFinite', 'task', 'prefix', 'signal', 'onProgress', 'maxPixels',
];

/** embedIds: the embed options and the rows that go with the ids. */
export const EMBED_IDS_OPTIONS = [...EMBED_OPTIONS, 'tokenTypeIds', 'attentionMask'];

/** Index#search, searchMany (js/vector-index.js SearchOptions). */
export const SEARCH_OPTIONS = ['k', 'filter', 'candidates', 'rerank'];

/** Index#search's rerank (js/vector-index.js RerankSearch). */
export const RERANK_SEARCH_OPTIONS = ['reranker', 'query', 'candidates', 'text', 'activation', 'label', 'batchSize', 'signal'];

/**
 * Throws invalid_argument naming the first key of opts that is not in known, with the known
 * ones. Keys whose value is undefined pass (`{ dims: undefined }` is the same as leaving it out).
 * @param {unknown} opts @param {readonly string[]} known @param {string} what the call, for the message
 */
export function checkKeys(opts, known, what) {
  if (opts === undefined || opts === null) return;
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new WembedError('invalid_argument', `${what}: the options must be an object`);
  for (const k of Object.keys(opts)) {
    if (!known.includes(k) && /** @type {any} */ (opts)[k] !== undefined) {
      const near = known.find((x) => x.toLowerCase().replace(/[^a-z]/g, '') === k.toLowerCase().replace(/[^a-z]/g, '') ||
        editDistance(x.toLowerCase(), k.toLowerCase()) <= 2);
      throw new WembedError('invalid_argument', `${what}: unknown option ${JSON.stringify(k)}` +
        `${near ? ` (did you mean '${near}'?)` : ''}; the options are ${known.map((x) => `'${x}'`).join(', ')}`);
    }
  }
}

/** Levenshtein distance, for the "did you mean" of a misspelt option. @param {string} a @param {string} b */
function editDistance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
