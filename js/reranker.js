// reranker.js - cross-encoders: score (query, document) pairs and rank documents by them.
//
//   import { Reranker } from 'wembed';
//   const r = await Reranker.load('cross-encoder/ms-marco-MiniLM-L6-v2');
//   const ranked = await r.rerank('what is a cat?', ['a small feline', 'a car'], { topK: 1, returnDocuments: true });
//   // [{ index: 0, score: 8.1, document: 'a small feline' }]
//   r.dispose();
//
// Loading (hub ids, URLs, folders, files, cache, progress, workers) is Embedder.load's: a
// Reranker wraps an Embedder (or its worker twin) whose model has a sequence-classification head,
// and calls its classifyPairs / classifyIds. Each pair is encoded with the tokenizer's pair
// template; a pair longer than the model's limit loses tokens from the end of the document, never
// from the query (only_second), and the result says so (`truncated: true`).
//
// The score is the raw logit unless the activation is 'sigmoid': the model's config asks for it
// (sentence-transformers' CrossEncoder activation), or the caller does. Never a softmax over one
// logit (that is always 1).

import { Embedder } from './embedder.js';
import { WembedError, isArrayOf, throwIfAborted } from './errors.js';

/**
 * @typedef {'none'|'sigmoid'} Activation
 *
 * @typedef {object} RerankOptions
 * @property {number} [topK] keep the best topK (default: all)
 * @property {boolean} [returnDocuments=false] add each document to its result
 * @property {Activation} [activation] default: 'sigmoid' when the model's config asks for it, else 'none' (raw logits)
 * @property {number} [batchSize=32] pairs per engine call
 * @property {number} [label] which logit is the score on a head with several labels (default: the only one)
 * @property {AbortSignal} [signal] rejects the call when it fires (checked between batches)
 *
 * @typedef {object} RerankResult
 * @property {number} index the document's index in the input
 * @property {number} score
 * @property {string} [document] with returnDocuments
 * @property {boolean} [truncated] true when the document was cut to fit the model (absent otherwise)
 */

const sigmoid = (x) => 1 / (1 + Math.exp(-x));

function intOpt(name, v, dflt, min) {
  if (v === undefined || v === null) return dflt;
  if (!(Number.isInteger(v) && v >= min)) throw new WembedError('invalid_argument', `${name} must be an integer >= ${min}, not ${JSON.stringify(v)}`);
  return v;
}

/** A cross-encoder (reranker). */
export class Reranker {
  /**
   * Loads a cross-encoder, as Embedder.load does (same sources and options).
   * @param {string | URL | {files: Record<string, unknown>}} source
   * @param {import('./embedder.js').LoadOptions} [opts]
   * @returns {Promise<Reranker>}
   */
  static async load(source, opts = {}) {
    const e = await Embedder.load(source, opts);
    if (!e.info().labels) {
      const arch = e.info().architecture;
      e.dispose();
      throw new WembedError('unsupported', `${typeof source === 'string' ? source : 'this model'} is not a cross-encoder (${arch} without a ` +
        'sequence-classification head: config.json architectures must name *ForSequenceClassification)');
    }
    return new Reranker(e);
  }

  /** @private @param {Embedder | import('./worker-client.js').WorkerEmbedder} embedder */
  constructor(embedder) {
    /** The model underneath (Embedder, or WorkerEmbedder with { worker: true }). */
    this.model = embedder;
  }

  /** What the model is (Embedder#info), with `labels` and `sigmoid` (its config's default activation). */
  info() {
    return this.model.info();
  }

  /** @param {Activation | undefined} a @returns {boolean} whether to apply a sigmoid */
  _sigmoid(a) {
    if (a === undefined) return this.model.info().sigmoid === true;
    if (a !== 'none' && a !== 'sigmoid') throw new WembedError('invalid_argument', `activation must be 'none' or 'sigmoid', not ${JSON.stringify(a)}`);
    return a === 'sigmoid';
  }

  /** The score's label index for opts.label. */
  _label(label) {
    const n = this.model.info().labels;
    if (label === undefined) {
      if (n !== 1) throw new WembedError('invalid_argument', `this head has ${n} labels: say which logit is the score with { label }`);
      return 0;
    }
    return intOpt('label', label, 0, 0) < n ? label : (() => { throw new WembedError('invalid_argument', `label ${label} is outside 0..${n - 1}`); })();
  }

  /**
   * Scores of (query, document) pairs, in input order: per pair, every label's value (raw
   * logits, or their sigmoids).
   * @param {Array<[string, string]>} pairs
   * @param {{activation?: Activation, batchSize?: number, signal?: AbortSignal}} [opts]
   * @returns {Promise<{scores: Float32Array[], truncated: boolean[]}>}
   */
  async score(pairs, opts = {}) {
    if (!isArrayOf(pairs, (p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string')) {
      throw new WembedError('invalid_argument', 'score takes an array of [query, document] string pairs');
    }
    const sig = this._sigmoid(opts.activation);
    const bs = intOpt('batchSize', opts.batchSize, 32, 1);
    /** @type {Float32Array[]} */
    const scores = [];
    /** @type {boolean[]} */
    const truncated = [];
    for (let i = 0; i < pairs.length; i += bs) {
      throwIfAborted(opts.signal);
      const batch = pairs.slice(i, i + bs);
      const r = await this.model.classifyPairs(batch.map((p) => p[0]), batch.map((p) => p[1]));
      for (const row of r.logits) scores.push(sig ? row.map(sigmoid) : row);
      truncated.push(...r.truncated);
    }
    throwIfAborted(opts.signal);
    return { scores, truncated };
  }

  /**
   * Scores of rows of token ids already encoded as pairs ([CLS] q [SEP] d [SEP], with type ids).
   * @param {Array<ArrayLike<number>>} ids
   * @param {{tokenTypeIds?: Array<ArrayLike<number>>, attentionMask?: Array<ArrayLike<number>>, activation?: Activation, batchSize?: number}} [opts]
   * @returns {Promise<Float32Array[]>} per row, every label's value
   */
  async scoreIds(ids, opts = {}) {
    const sig = this._sigmoid(opts.activation);
    const bs = intOpt('batchSize', opts.batchSize, 32, 1);
    if (!Array.isArray(ids)) throw new WembedError('invalid_argument', 'scoreIds takes an array of rows of token ids');
    /** @type {Float32Array[]} */
    const out = [];
    for (let i = 0; i < ids.length; i += bs) {
      const sl = (a) => a?.slice(i, i + bs);
      const rows = await this.model.classifyIds(ids.slice(i, i + bs), { tokenTypeIds: sl(opts.tokenTypeIds), attentionMask: sl(opts.attentionMask) });
      for (const row of rows) out.push(sig ? row.map(sigmoid) : row);
    }
    return out;
  }

  /**
   * Ranks documents by their score with the query, best first.
   * @param {string} query
   * @param {string[]} documents
   * @param {RerankOptions} [opts]
   * @returns {Promise<RerankResult[]>}
   */
  async rerank(query, documents, opts = {}) {
    if (typeof query !== 'string') throw new WembedError('invalid_argument', 'rerank: the query must be a string');
    if (!isArrayOf(documents, (d) => typeof d === 'string')) {
      throw new WembedError('invalid_argument', 'rerank: documents must be an array of strings');
    }
    const label = this._label(opts.label);
    const topK = intOpt('topK', opts.topK, documents.length, 0);
    const { scores, truncated } = await this.score(documents.map((d) => [query, d]), opts);
    /** @type {RerankResult[]} */
    const res = scores.map((s, index) => ({ index, score: s[label] }));
    res.sort((a, b) => b.score - a.score || a.index - b.index);
    return res.slice(0, topK).map((r) => ({
      ...r,
      ...(opts.returnDocuments ? { document: documents[r.index] } : {}),
      ...(truncated[r.index] ? { truncated: true } : {}),
    }));
  }

  /** Frees the model (and the shared engine when no other model uses it). */
  dispose() {
    this.model.dispose();
  }
}
