// vector-index.js - `Index`: vector search over a flat store scored in wasm with SIMD.
//
//   import { Embedder, Index } from 'wembed';
//   const e = await Embedder.load('sentence-transformers/all-MiniLM-L6-v2');
//   const index = await Index.create({ dims: 384, engine: e.engine });          // cosine, float32
//   index.add(docs.map((d, i) => ({ id: d.id, vector: vectors[i], meta: { title: d.title } })));
//   const hits = index.search(queryVector, { k: 5, filter: (meta) => meta.lang === 'en' });
//   // -> [{ id, score, meta }, ...] best first
//   // retrieve, then rerank (the passages' text in meta.text; a Promise):
//   const best = await index.search(queryVector, { k: 5, rerank: { reranker, query: 'the query text' } });
//   // -> [{ id, meta, score, rerankScore, retrievalScore, retrievalRank }, ...] best first by the reranker
//   const bytes = index.save();                 // Uint8Array; Index.load(bytes) restores it
//
// Storage: 'f32' (exact), 'int8' (a byte per dimension and a scale per vector: 4x smaller,
// near-exact) or 'binary' (a bit per dimension: Hamming search for `candidates` rows, which
// are then rescored with `rescore`: 'int8' codes kept beside the bits (default), 'f32'
// vectors (exact scores), or 'bits' (the float query against the signs: 32x smaller)).
// Every query reads every stored row (src/search/search.c): no training, no build step,
// deterministic results - the ranking is (score descending, insertion slot ascending).
//
// Ids (strings or numbers) and metadata (anything structured-cloneable/JSON) live on the JS
// side; the vectors live in the engine's memory. Save/load as bytes, files (Node) or IndexedDB
// (browsers). The format is documented at `save()`.

import { WembedError, statusError, isArrayOf, throwIfAborted } from './errors.js';
import { cString, copyOut } from './heap.js';
import { checkKeys, SEARCH_OPTIONS, RERANK_SEARCH_OPTIONS } from './options.js';

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';

const METRICS = ['cosine', 'dot'];
const STORAGES = ['f32', 'int8', 'binary'];
const RESCORES = ['bits', 'int8', 'f32'];
/** The values of the index's named options (the CLI checks its flags against them). */
export const INDEX_NAMES = { metric: METRICS, storage: STORAGES, rescore: RESCORES };
const MAGIC = 'WEMBIDX1';
const FORMAT_VERSION = 2;        // 2: a CRC-32 trailer over every byte before it; 1 (none) still loads, with a warning

/** CRC-32 (IEEE 802.3, zlib's crc32) of bytes. Detects every single-bit flip and every burst up to 32 bits. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
/** @param {Uint8Array} bytes @returns {number} */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const ADD_CHUNK = 16384;         // rows copied into the engine per call (bounds the temporary)
const MAX_QUERIES = 4096;        // per engine call (search.h)

/**
 * @typedef {string | number} Id
 *
 * @typedef {object} IndexOptions
 * @property {number} dims vector dimensions
 * @property {'cosine'|'dot'} [metric='cosine'] cosine normalizes vectors and queries on the way in
 * @property {'f32'|'int8'|'binary'} [storage='f32']
 * @property {'bits'|'int8'|'f32'} [rescore='int8'] binary storage: what the Hamming candidates are rescored with
 * @property {number} [candidates] binary storage: rows kept from the Hamming pass (default max(100, 10 k))
 * @property {import('./engine.js').Engine} [engine] an engine to use (e.g. `embedder.engine`); default: the shared one
 * @property {'auto'|'mt'|'st'} [variant] for the shared engine
 * @property {number} [threads] for the shared engine
 *
 * @typedef {object} Entry
 * @property {Id} id
 * @property {ArrayLike<number>} vector dims numbers (Float32Array, number[], ...)
 * @property {any} [meta] anything JSON can hold (absent: null)
 *
 * @typedef {((meta: any, id: Id) => boolean) | Record<string, any>} Filter a predicate over
 *   metadata, or an object whose every key must equal the metadata's (an array value: one of)
 *
 * @typedef {object} SearchOptions
 * @property {number} [k=10] results per query
 * @property {Filter} [filter] only rows it accepts are ranked (exactly: the filter applies before the top k)
 * @property {number} [candidates] binary storage: overrides the index's default
 * @property {RerankSearch} [rerank] retrieve, then rerank: `search` re-scores the best rows with a cross-encoder and returns a Promise of RerankedHit[]
 *
 * @typedef {object} RerankSearch
 * @property {import('./reranker.js').Reranker} reranker the cross-encoder (Reranker.load)
 * @property {string} query the query's text (the vector search uses the query vector; the reranker reads the text)
 * @property {number} [candidates] rows the vector search hands to the reranker, at least k (default max(k, min(4 k, 100)))
 * @property {string | ((meta: any, id: Id) => string)} [text='text'] where a row's passage text is: the name of a metadata field, or a function of the row
 * @property {import('./reranker.js').Activation} [activation] as Reranker#rerank: the model's default, else raw logits
 * @property {number} [label] as Reranker#rerank: which logit is the score on a head with several labels
 * @property {number} [batchSize=32] pairs per engine call
 * @property {AbortSignal} [signal] rejects the search when it fires (checked between batches of pairs)
 *
 * @typedef {{id: Id, score: number, meta: any}} Hit
 *
 * @typedef {object} RerankedHit a hit of a reranked search, best first by the reranker
 * @property {Id} id
 * @property {any} meta
 * @property {number} score the reranker's score (the same as rerankScore: what the hits are sorted by)
 * @property {number} rerankScore the cross-encoder's score of (query, passage): raw logit, or its sigmoid
 * @property {number} retrievalScore the vector search's score (cosine or dot, as in a plain search)
 * @property {number} retrievalRank the row's place in the vector search, 0 for its best
 * @property {boolean} [truncated] true when the passage was cut to fit the reranker (absent otherwise)
 */

function choose(name, v, options, dflt) {
  if (v === undefined) return dflt;
  if (!options.includes(v)) {
    throw new WembedError('invalid_argument', `${name} must be one of ${options.map((x) => `'${x}'`).join(', ')}, not ${JSON.stringify(v)}`);
  }
  return v;
}

function positiveInt(name, v, max) {
  if (!(Number.isInteger(v) && v >= 1 && v <= max)) throw new WembedError('invalid_argument', `${name} must be an integer in [1, ${max}], not ${JSON.stringify(v)}`);
  return v;
}

function checkId(id) {
  if (!((typeof id === 'string') || (typeof id === 'number' && Number.isFinite(id)))) {
    throw new WembedError('invalid_argument', `an id must be a string or a finite number, not ${JSON.stringify(id)}`);
  }
  return id;
}

/**
 * Throws invalid_argument unless JSON can hold v (no BigInt, no cycles): metadata is saved as
 * JSON, so it is refused when given rather than when save() meets it.
 * @param {unknown} v @param {string} what
 */
function checkJSON(v, what) {
  try {
    JSON.stringify(v);
  } catch (e) {
    throw new WembedError('invalid_argument', `${what} cannot be saved as JSON: ${/** @type {any} */ (e)?.message ?? e}`);
  }
}

/** The filter as a predicate (meta, id) => boolean. @param {Filter} f */
function predicate(f) {
  if (typeof f === 'function') return f;
  if (f && typeof f === 'object') {
    const keys = Object.keys(f);
    return (meta) => meta != null && keys.every((k) => (Array.isArray(f[k]) ? f[k].includes(meta[k]) : meta[k] === f[k]));
  }
  throw new WembedError('invalid_argument', 'filter must be a function (meta, id) => boolean or an object of field values');
}

let sharedAcquire = null;
async function acquire(opts) {
  if (opts.engine) return { engine: opts.engine, release: () => {} };
  // The Embedder's shared engine, so models and indexes share one wasm instance and pool.
  sharedAcquire ??= (await import('./embedder.js')).acquireEngine;
  return sharedAcquire(opts);
}

/** A flat vector index. Create with `Index.create` or `Index.load`. */
export class Index {
  /**
   * A new empty index.
   * @param {IndexOptions} opts
   * @returns {Promise<Index>}
   */
  static async create(opts) {
    const o = Index._options(opts);
    const { engine, release } = await acquire(opts);
    try {
      return new Index(engine, release, o);
    } catch (e) {
      release();
      throw e;
    }
  }

  /** @private */
  static _options(opts) {
    if (!opts || typeof opts !== 'object') throw new WembedError('invalid_argument', 'Index.create needs options with dims');
    const o = {
      dims: positiveInt('dims', opts.dims, 65536),
      metric: choose('metric', opts.metric, METRICS, 'cosine'),
      storage: choose('storage', opts.storage, STORAGES, 'f32'),
      rescore: choose('rescore', opts.rescore, RESCORES, 'int8'),
      candidates: opts.candidates === undefined || opts.candidates === 0 ? 0 : positiveInt('candidates', opts.candidates, 100000),
    };
    if (o.storage !== 'binary') o.rescore = null;
    return o;
  }

  /** @private */
  constructor(engine, release, o) {
    /** The engine the vectors live in. @type {import('./engine.js').Engine} */
    this.engine = engine;
    this._release = release;
    /** @type {number} */
    this.dims = o.dims;
    /** @type {'cosine'|'dot'} */
    this.metric = o.metric;
    /** @type {'f32'|'int8'|'binary'} */
    this.storage = o.storage;
    /** binary storage: what candidates are rescored with; null otherwise. @type {'bits'|'int8'|'f32'|null} */
    this.rescore = o.rescore;
    /** binary storage: Hamming candidates per query (0: max(100, 10 k)). */
    this.candidates = o.candidates;
    /** What the saver put in `save({extra})` (e.g. the model the vectors came from); null for a new index. @type {any} */
    this.extra = null;
    /** What loading noticed but accepted (e.g. a version 1 file without a checksum). @type {string[]} */
    this.warnings = [];
    const m = engine.module;
    this._vi = m._wembed__vindex_new(o.dims, METRICS.indexOf(o.metric), STORAGES.indexOf(o.storage),
      RESCORES.indexOf(o.rescore ?? 'bits'));
    if (!this._vi) throw new WembedError('alloc_failed', 'out of memory for a new index');
    /** slot -> id @type {Id[]} */
    this._ids = [];
    /** slot -> metadata @type {any[]} */
    this._meta = [];
    /** id -> slot @type {Map<Id, number>} */
    this._slot = new Map();
  }

  /** Number of vectors. */
  get size() {
    return this._ids.length;
  }

  /** Bytes the stored vectors take in the engine (ids and metadata not counted). */
  get bytes() {
    this._check();
    return this.engine.module._wembed__vindex_bytes(this._vi);
  }

  /** What the index is. */
  info() {
    this._check();
    const bytes = this.bytes;
    return {
      size: this.size, dims: this.dims, metric: this.metric, storage: this.storage, rescore: this.rescore,
      candidates: this.candidates, bytes, bytesPerVector: this.size ? bytes / this.size : this._rowBytes(),
      kernels: cString(this.engine, this.engine.module._wembed__search_impl()),
      threads: this.engine.threads,
    };
  }

  /** Bytes per stored vector for these settings. @private */
  _rowBytes() {
    const d = this.dims;
    const bits = Math.ceil(d / 8);
    if (this.storage === 'f32') return 4 * d;
    if (this.storage === 'int8') return d + 4;
    return bits + (this.rescore === 'f32' ? 4 * d : this.rescore === 'int8' ? d + 4 : 0);
  }

  _fail(rc) {
    return statusError(this.engine.status, rc, cString(this.engine, this.engine.module._wembed__vindex_last_error(this._vi)));
  }

  /** @param {ArrayLike<number>} v @param {string} what */
  _checkVector(v, what) {
    if (!v || typeof v.length !== 'number' || typeof v === 'string') throw new WembedError('invalid_argument', `${what} must be an array of numbers`);
    if (v.length !== this.dims) throw new WembedError('invalid_argument', `${what} has ${v.length} dimensions; this index has ${this.dims}`);
  }

  /**
   * Adds vectors. An id already in the index is replaced (its vector and metadata).
   * @param {Entry | Entry[]} entries
   * @returns {this}
   */
  add(entries) {
    this._check();
    const list = Array.isArray(entries) ? entries : [entries];
    if (!isArrayOf(list, (e) => e && typeof e === 'object')) throw new WembedError('invalid_argument', 'add takes {id, vector, meta?} or an array of them (no holes)');
    const seen = new Set();
    list.forEach((e, i) => {
      if (!e || typeof e !== 'object') throw new WembedError('invalid_argument', `entry ${i} must be {id, vector, meta?}`);
      checkId(e.id);
      if (seen.has(e.id)) throw new WembedError('invalid_argument', `id ${JSON.stringify(e.id)} appears twice in one add`);
      seen.add(e.id);
      this._checkVector(e.vector, `the vector of ${JSON.stringify(e.id)}`);
      if (e.meta !== undefined) checkJSON(e.meta, `the metadata of ${JSON.stringify(e.id)}`);
    });
    const m = this.engine.module;
    const d = this.dims;
    const n0 = this.size;
    const replaced = list.filter((e) => this._slot.has(e.id)).map((e) => this._slot.get(e.id));
    const rc0 = m._wembed__vindex_reserve(this._vi, n0 + list.length);
    if (rc0) throw this._fail(rc0);
    // The new rows go to the end first; the rows they replace are removed once all went in,
    // so a failure part-way (a NaN in a later chunk) rolls back to exactly the old index.
    try {
      for (let i0 = 0; i0 < list.length; i0 += ADD_CHUNK) {
        const part = list.slice(i0, i0 + ADD_CHUNK);
        const p = m._malloc(part.length * d * 4);
        if (!p) throw new WembedError('alloc_failed', `out of memory copying ${part.length} vectors in`);
        try {
          const X = new Float32Array(this.engine.heapU8().buffer, p, part.length * d);
          part.forEach((e, r) => X.set(e.vector, r * d));   // one copy in
          const rc = m._wembed__vindex_add(this._vi, p, part.length);   // checks every value
          if (rc) {
            const bad = part.find((e) => !Array.prototype.every.call(e.vector, Number.isFinite));
            if (!bad) throw this._fail(rc);
            const k = Array.prototype.findIndex.call(bad.vector, (x) => !Number.isFinite(x));
            throw new WembedError('invalid_argument', `the vector of ${JSON.stringify(bad.id)} has a non-finite value at dimension ${k}`);
          }
        } finally {
          m._free(p);
        }
        for (const e of part) {
          this._ids.push(e.id);
          this._meta.push(e.meta ?? null);
        }
      }
    } catch (e) {
      while (this._ids.length > n0) this._removeSlot(this._ids.length - 1);
      throw e;
    }
    for (let s = n0; s < this._ids.length; s++) this._slot.set(this._ids[s], s);
    // Old slots are all below n0 and every removal takes a new row from the end: descending
    // order never moves a row that is still to be removed.
    for (const s of replaced.sort((x, y) => y - x)) this._removeSlot(s);
    return this;
  }

  /** Removes the row at slot (the last row moves in) and fixes the maps of the moved row. @private */
  _removeSlot(slot) {
    const m = this.engine.module;
    const p = m._malloc(4);
    if (!p) throw new WembedError('alloc_failed', 'out of memory');
    let moved;
    try {
      const rc = m._wembed__vindex_remove(this._vi, slot, p);
      if (rc) throw this._fail(rc);
      moved = new Int32Array(this.engine.heapU8().buffer, p, 1)[0];
    } finally {
      m._free(p);
    }
    const last = this._ids.length - 1;
    if (moved >= 0) {
      this._ids[slot] = this._ids[last];
      this._meta[slot] = this._meta[last];
      if (this._slot.get(this._ids[slot]) === last) this._slot.set(this._ids[slot], slot);
    }
    this._ids.pop();
    this._meta.pop();
  }


  /** True when id is in the index. @param {Id} id */
  has(id) {
    return this._slot.has(id);
  }

  /** The ids, in slot order. @returns {Id[]} */
  ids() {
    return this._ids.slice();
  }

  /**
   * The stored vector (as floats: exact for f32 storage or f32 rescoring, decoded otherwise;
   * normalized for cosine) and metadata of id, or undefined.
   * @param {Id} id
   * @returns {{id: Id, vector: Float32Array, meta: any} | undefined}
   */
  get(id) {
    this._check();
    const slot = this._slot.get(id);
    if (slot === undefined) return undefined;
    const m = this.engine.module;
    const p = m._malloc(this.dims * 4);
    if (!p) throw new WembedError('alloc_failed', 'out of memory');
    try {
      const rc = m._wembed__vindex_get(this._vi, slot, p);
      if (rc) throw this._fail(rc);
      return { id, vector: copyOut(this.engine, Float32Array, p, this.dims), meta: this._meta[slot] };
    } finally {
      m._free(p);
    }
  }

  /** Metadata of id (undefined if absent). @param {Id} id */
  meta(id) {
    const slot = this._slot.get(id);
    return slot === undefined ? undefined : this._meta[slot];
  }

  /**
   * Removes id. The last vector moves into its slot.
   * @param {Id} id
   * @returns {boolean} whether it was there
   */
  remove(id) {
    this._check();
    const slot = this._slot.get(id);
    if (slot === undefined) return false;
    this._removeSlot(slot);
    this._slot.delete(id);
    return true;
  }

  /** Removes everything. */
  clear() {
    this._check();
    const m = this.engine.module;
    const vi = m._wembed__vindex_new(this.dims, METRICS.indexOf(this.metric), STORAGES.indexOf(this.storage), RESCORES.indexOf(this.rescore ?? 'bits'));
    if (!vi) throw new WembedError('alloc_failed', 'out of memory');
    m._wembed__vindex_free(this._vi);
    this._vi = vi;
    this._ids = [];
    this._meta = [];
    this._slot = new Map();
  }

  /**
   * The k best matches of one query, best first.
   * @overload
   * @param {ArrayLike<number>} query
   * @param {SearchOptions & {rerank?: undefined}} [opts]
   * @returns {Hit[]}
   */
  /**
   * Retrieve, then rerank: the `rerank.candidates` best rows of the vector search, re-scored by
   * the cross-encoder on (rerank.query, the row's text), the k best by that score first.
   * @overload
   * @param {ArrayLike<number>} query
   * @param {SearchOptions & {rerank: RerankSearch}} opts
   * @returns {Promise<RerankedHit[]>}
   */
  /**
   * @param {ArrayLike<number>} query
   * @param {SearchOptions} [opts]
   * @returns {Hit[] | Promise<RerankedHit[]>}
   */
  search(query, opts = {}) {
    if (opts?.rerank !== undefined) return this._searchRerank(query, opts);
    return this.searchMany([query], opts)[0];
  }

  /**
   * Retrieve, then rerank: the vector search keeps `rerank.candidates` rows, the cross-encoder
   * scores (rerank.query, the row's text) for each, and the best k by that score come back,
   * each with both scores. Ties keep the vector search's order. Every failure is a rejection.
   * @private
   * @param {ArrayLike<number>} query
   * @param {SearchOptions} opts
   * @returns {Promise<RerankedHit[]>}
   */
  async _searchRerank(query, opts) {
    checkKeys(opts, SEARCH_OPTIONS, 'search');
    const r = opts.rerank;
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new WembedError('invalid_argument', 'search: rerank must be { reranker, query, candidates?, text? }');
    checkKeys(r, RERANK_SEARCH_OPTIONS, 'search: rerank');
    if (typeof r.reranker?.rerank !== 'function') throw new WembedError('invalid_argument', 'search: rerank.reranker must be a Reranker (Reranker.load)');
    if (typeof r.query !== 'string') throw new WembedError('invalid_argument', 'search: rerank.query must be the query\'s text (a string): the reranker reads text, not vectors');
    const field = r.text ?? 'text';
    if (typeof field !== 'string' && typeof field !== 'function') throw new WembedError('invalid_argument', 'search: rerank.text must be a metadata field name or a function (meta, id) => string');
    const k = opts.k === undefined ? 10 : positiveInt('k', opts.k, 100000);
    const cand = r.candidates === undefined ? Math.max(k, Math.min(4 * k, 100)) : positiveInt('rerank.candidates', r.candidates, 100000);
    if (cand < k) throw new WembedError('invalid_argument', `search: rerank.candidates (${cand}) must be at least k (${k}): the reranker orders only the candidates`);
    throwIfAborted(r.signal);
    const hits = this.search(query, { ...opts, k: cand, rerank: undefined });
    const texts = hits.map((h) => {
      const t = typeof field === 'function' ? field(h.meta, h.id) : h.meta?.[field];
      if (typeof t !== 'string') {
        throw new WembedError('missing_text', `search: rerank needs each row's passage text, and ${JSON.stringify(h.id)} has none ` +
          `(${typeof field === 'function' ? 'rerank.text returned' : `its metadata field ${JSON.stringify(field)} is`} ${t === undefined ? 'undefined' : typeof t}). ` +
          'Add the text to the metadata ({ id, vector, meta: { text } }) or say where it is with rerank.text');
      }
      return t;
    });
    const ranked = await r.reranker.rerank(r.query, texts, { topK: k, activation: r.activation, label: r.label, batchSize: r.batchSize, signal: r.signal });
    return ranked.map((x) => {
      const h = hits[x.index];
      return {
        id: h.id, meta: h.meta, score: x.score, rerankScore: x.score, retrievalScore: h.score, retrievalRank: x.index,
        ...(x.truncated ? { truncated: true } : {}),
      };
    });
  }

  /**
   * The k best matches of each query (one engine pass over the store per 4096 queries).
   * @param {Array<ArrayLike<number>>} queries
   * @param {SearchOptions} [opts]
   * @returns {Hit[][]}
   */
  searchMany(queries, opts = {}) {
    this._check();
    checkKeys(opts, SEARCH_OPTIONS, 'searchMany');
    if (opts?.rerank !== undefined) throw new WembedError('invalid_argument', 'searchMany: rerank takes one query at a time: use search(query, { rerank })');
    if (!Array.isArray(queries)) throw new WembedError('invalid_argument', 'searchMany takes an array of query vectors');
    queries.forEach((q, i) => this._checkVector(q, `query ${i}`));
    const k = opts.k === undefined ? 10 : positiveInt('k', opts.k, 100000);
    const cand = opts.candidates === undefined ? (this.candidates || Math.max(100, 10 * k)) : positiveInt('candidates', opts.candidates, 100000);
    const n = this.size;
    const m = this.engine.module;
    const d = this.dims;
    let allowP = 0;
    /** @type {Hit[][]} */
    const out = [];
    try {
      if (opts.filter !== undefined && n > 0) {
        const pred = predicate(opts.filter);
        allowP = m._malloc(n);
        if (!allowP) throw new WembedError('alloc_failed', 'out of memory for a filter');
        const mask = new Uint8Array(n);
        for (let s = 0; s < n; s++) mask[s] = pred(this._meta[s], this._ids[s]) ? 1 : 0;
        this.engine.heapU8().set(mask, allowP);
      }
      for (let q0 = 0; q0 < queries.length; q0 += MAX_QUERIES) {
        const part = queries.slice(q0, q0 + MAX_QUERIES);
        const nq = part.length;
        const qP = m._malloc(nq * d * 4);
        const slotsP = m._malloc(nq * k * 4);
        const scoresP = m._malloc(nq * k * 4);
        const foundP = m._malloc(nq * 4);
        try {
          if (!qP || !slotsP || !scoresP || !foundP) throw new WembedError('alloc_failed', `out of memory for ${nq} queries of k ${k}`);
          const Q = new Float32Array(this.engine.heapU8().buffer, qP, nq * d);
          part.forEach((q, i) => Q.set(q, i * d));
          const rc = m._wembed__vindex_search(this._vi, this.engine.pool, qP, nq, k, cand, allowP, slotsP, scoresP, foundP);
          if (rc) throw this._fail(rc);
          const buf = this.engine.heapU8().buffer;   // re-read after the call
          const S = new Int32Array(buf, slotsP, nq * k);
          const F = new Float32Array(buf, scoresP, nq * k);
          const N = new Int32Array(buf, foundP, nq);
          for (let i = 0; i < nq; i++) {
            const hits = [];
            for (let j = 0; j < N[i]; j++) {
              const s = S[i * k + j];
              hits.push({ id: this._ids[s], score: F[i * k + j], meta: this._meta[s] });
            }
            out.push(hits);
          }
        } finally {
          m._free(qP);
          m._free(slotsP);
          m._free(scoresP);
          m._free(foundP);
        }
      }
    } finally {
      m._free(allowP);
    }
    return out;
  }

  /**
   * The index as bytes:
   *   "WEMBIDX1" | u32 version (2) | u32 n | JSON header (n bytes, UTF-8) | zero padding to 8 |
   *   tiers, each padded to 8: f32 (count x dims float32), int8 codes (count x dims), int8
   *   scales (count float32), bits (count x ceil(dims/8), MSB first) - those the storage keeps |
   *   u32 CRC-32 (zlib's) of every byte before it.
   * The header holds dims, metric, storage, rescore, candidates, count, ids, metadata (JSON),
   * the tiers' offsets and lengths, and `extra` (anything JSON the caller adds, e.g. the model).
   * Numbers are little-endian. `load` refuses a file whose checksum does not match (any single
   * flipped bit, a truncation, an edit); a version 1 file (no checksum) still loads, with a line in
   * `index.warnings` saying to save it again.
   * @param {{extra?: any}} [opts]
   * @returns {Uint8Array}
   */
  save(opts = {}) {
    this._check();
    const m = this.engine.module;
    const n = this.size;
    const d = this.dims;
    const tierLen = [4 * n * d, n * d, 4 * n, n * Math.ceil(d / 8)];
    const tiers = [];
    for (let t = 0; t < 4; t++) {
      const p = m._wembed__vindex_tier(this._vi, t);
      if (p) tiers.push({ t, p, bytes: tierLen[t] });
    }
    const names = ['f32', 'int8', 'scales', 'bits'];
    const pad8 = (x) => (x + 7) & ~7;
    let header;
    if (opts.extra !== undefined) checkJSON(opts.extra, 'save(): extra');
    let headBytes;
    // Offsets depend on the header's length, which depends on the offsets: two passes.
    let base = 0;
    for (let pass = 0; pass < 3; pass++) {
      let off = base;
      const layout = tiers.map((x) => { const o = off; off += pad8(x.bytes); return { name: names[x.t], offset: o, bytes: x.bytes }; });
      header = {
        format: 'wembed-index', dims: d, metric: this.metric, storage: this.storage, rescore: this.rescore,
        candidates: this.candidates, count: n, tiers: layout, ids: this._ids, meta: this._meta, extra: opts.extra ?? null,
      };
      headBytes = new TextEncoder().encode(JSON.stringify(header));
      const nb = pad8(16 + headBytes.length);
      if (nb === base) break;
      base = nb;
    }
    const total = header.tiers.reduce((a, t) => Math.max(a, t.offset + pad8(t.bytes)), base);
    const out = new Uint8Array(total + 4);
    out.set(new TextEncoder().encode(MAGIC), 0);
    const dv = new DataView(out.buffer);
    dv.setUint32(8, FORMAT_VERSION, true);
    dv.setUint32(12, headBytes.length, true);
    out.set(headBytes, 16);
    const heap = this.engine.heapU8();
    tiers.forEach((x, i) => out.set(heap.subarray(x.p, x.p + x.bytes), header.tiers[i].offset));   // one copy out
    dv.setUint32(total, crc32(out.subarray(0, total)), true);
    return out;
  }

  /**
   * An index from `save()` bytes.
   * @param {Uint8Array | ArrayBuffer} bytes
   * @param {{engine?: import('./engine.js').Engine, variant?: 'auto'|'mt'|'st', threads?: number}} [opts]
   * @returns {Promise<Index>}
   */
  static async load(bytes, opts = {}) {
    const u8 = bytes instanceof Uint8Array ? bytes : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : null;
    if (!u8) throw new WembedError('invalid_argument', 'Index.load takes a Uint8Array or an ArrayBuffer');
    const bad = (why) => new WembedError('bad_format', `not a wembed index: ${why}`);
    if (u8.length < 16 || new TextDecoder().decode(u8.subarray(0, 8)) !== MAGIC) throw bad('no WEMBIDX1 signature');
    const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    const version = dv.getUint32(8, true);
    if (version !== FORMAT_VERSION && version !== 1) throw bad(`format version ${version} (this package reads 1 and ${FORMAT_VERSION})`);
    // The checksum first: nothing of a damaged file is trusted, not even its header.
    let end = u8.length;
    const warnings = [];
    if (version >= 2) {
      if (u8.length < 20) throw bad('the file is truncated');
      end -= 4;
      const want = dv.getUint32(end, true);
      const got = crc32(u8.subarray(0, end));
      if (got !== want) {
        throw bad(`the checksum does not match (CRC-32 ${got.toString(16).padStart(8, '0')}, the file says ` +
          `${want.toString(16).padStart(8, '0')}): the file is damaged or truncated; build the index again`);
      }
    } else {
      warnings.push('this index file has format version 1, which has no checksum, so damage to it cannot be detected; save it again to add one');
    }
    const hl = dv.getUint32(12, true);
    if (16 + hl > end) throw bad('the header is truncated');
    let h;
    try {
      h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(u8.subarray(16, 16 + hl)));
    } catch (e) {
      throw bad(`the header is not JSON (${/** @type {any} */ (e).message})`);
    }
    const o = Index._options({ dims: h?.dims, metric: h.metric, storage: h.storage, rescore: h.rescore ?? undefined, candidates: h.candidates || undefined });
    const n = h.count;
    if (!Number.isInteger(n) || n < 0 || !Array.isArray(h.ids) || h.ids.length !== n || !Array.isArray(h.meta) || h.meta.length !== n) throw bad('count, ids and meta disagree');
    const ids = h.ids.map(checkId);
    if (new Set(ids).size !== n) throw bad('an id appears twice');
    const d = o.dims;
    const want = { f32: 4 * n * d, int8: n * d, scales: 4 * n, bits: n * Math.ceil(d / 8) };
    const tiers = {};
    for (const t of Array.isArray(h.tiers) ? h.tiers : []) {
      if (!(t && t.name in want) || t.bytes !== want[t.name] || !Number.isInteger(t.offset) || t.offset < 16 + hl || t.offset + t.bytes > end || t.offset % 4) {
        throw bad(`tier ${JSON.stringify(t?.name)} is out of bounds or of the wrong size`);
      }
      tiers[t.name] = t;
    }
    const index = await Index.create({ ...o, rescore: o.rescore ?? undefined, engine: opts.engine, variant: opts.variant, threads: opts.threads });
    try {
      const m = index.engine.module;
      const ptrs = { f32: 0, int8: 0, scales: 0, bits: 0 };
      try {
        for (const name of Object.keys(tiers)) {
          ptrs[name] = m._malloc(Math.max(1, tiers[name].bytes));
          if (!ptrs[name]) throw new WembedError('alloc_failed', `out of memory loading an index of ${n} vectors`);
        }
        const heap = index.engine.heapU8();
        for (const name of Object.keys(tiers)) heap.set(u8.subarray(tiers[name].offset, tiers[name].offset + tiers[name].bytes), ptrs[name]);
        const rc = m._wembed__vindex_append_raw(index._vi, n, ptrs.f32, ptrs.int8, ptrs.scales, ptrs.bits);
        if (rc) {
          const err = index._fail(rc);
          throw err.code === 'invalid_argument' ? bad(`its tiers do not match storage '${o.storage}': ${err.message}`) : err;
        }
      } finally {
        for (const p of Object.values(ptrs)) m._free(p);
      }
      index._ids = ids;
      index._meta = h.meta;
      index._slot = new Map(ids.map((id, s) => [id, s]));
      index.extra = h.extra ?? null;
      index.warnings = warnings;
      return index;
    } catch (e) {
      index.dispose();
      throw e;
    }
  }

  /** Writes `save()` to a file (Node). @param {string} path @param {{extra?: any}} [opts] */
  async saveFile(path, opts) {
    const { writeFile, rename } = await import('node:fs/promises');
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, this.save(opts));
    await rename(tmp, path);   // a reader never sees half a file
  }

  /**
   * An index from a file written by saveFile (Node).
   * @param {string} path @param {{engine?: import('./engine.js').Engine}} [opts]
   */
  static async loadFile(path, opts) {
    const { readFile } = await import('node:fs/promises');
    let bytes;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new WembedError('not_found', `cannot read the index ${path}: ${/** @type {any} */ (e).message}`, { cause: e });
    }
    return Index.load(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), opts);
  }

  /**
   * Stores `save()` in IndexedDB (browsers) under key, in database `db` (default 'wembed').
   * @param {string} key @param {{db?: string, extra?: any}} [opts]
   */
  async saveToIndexedDB(key, opts = {}) {
    const bytes = this.save(opts);
    await idb(opts.db, 'readwrite', (s) => s.put(bytes, key));
  }

  /**
   * The index stored under key in IndexedDB, or null when there is none.
   * @param {string} key @param {{db?: string, engine?: import('./engine.js').Engine}} [opts]
   * @returns {Promise<Index | null>}
   */
  static async loadFromIndexedDB(key, opts = {}) {
    const bytes = await idb(opts.db, 'readonly', (s) => s.get(key));
    if (bytes == null) return null;
    return Index.load(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), opts);
  }

  /** Deletes key from IndexedDB. @param {string} key @param {{db?: string}} [opts] */
  static async deleteFromIndexedDB(key, opts = {}) {
    await idb(opts.db, 'readwrite', (s) => s.delete(key));
  }

  /** Frees the vectors (and the shared engine when nothing else uses it). Further calls throw. */
  dispose() {
    if (!this._vi) return;
    this.engine.module._wembed__vindex_free(this._vi);
    this._vi = 0;
    this._ids = [];
    this._meta = [];
    this._slot = new Map();
    this._release();
  }

  _check() {
    if (!this._vi) throw new WembedError('disposed', 'this index was disposed');
  }
}

const IDB_STORE = 'indexes';

/** Runs one request on the object store of database `name` and resolves with its result. */
function idb(name = 'wembed', mode, fn) {
  if (isNode || typeof indexedDB === 'undefined') {
    return Promise.reject(new WembedError('unsupported', 'IndexedDB is not available here; in Node use saveFile / Index.loadFile'));
  }
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(IDB_STORE);
    open.onerror = () => reject(new WembedError('internal', `IndexedDB: ${open.error?.message}`));
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(IDB_STORE, mode);
      const req = fn(tx.objectStore(IDB_STORE));
      tx.oncomplete = () => { db.close(); resolve(req.result); };
      tx.onerror = tx.onabort = () => { db.close(); reject(new WembedError('internal', `IndexedDB: ${tx.error?.message}`)); };
    };
  });
}
