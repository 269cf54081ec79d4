// embedder.js - the package's main API: load a model, embed texts, token ids and images.
//
//   import { Embedder } from 'wembed';
//   const e = await Embedder.load('BAAI/bge-small-en-v1.5', { dtype: 'q8', onProgress: console.log });
//   const [q, d] = await e.embed(['what is rope scaling?', 'RoPE rotates ...'], { task: 'query' });
//   e.similarity(q, d);
//   e.dispose();
//
// Two towers trained into one space but shipped as two models (nomic-embed-text-v1.5 and
// nomic-embed-vision-v1.5) load as one pair: `Embedder.load({ text, vision })` gives an Embedder
// whose text calls run the text model and whose image calls run the vision model.
//
// Every call copies its input into the module once, runs one engine call for the whole batch
// (the engine packs and sorts the inputs itself), copies the output out once, and frees in
// `finally`. Heap views are re-read after any call that may grow memory. Every failure is a
// WembedError with a stable code; the engine and the model stay usable after one.
// All models loaded without an explicit `engine` share one engine (and so one compute pool) per
// {variant, threads}: a browser's main thread cannot start the threads a second pool would need.

import { createEngine } from './engine.js';
import { WembedError, statusError, isArrayOf, abortError } from './errors.js';
import { resolveSource } from './sources.js';
import { loadModel } from './loader.js';
import { encodeWith } from './tokenizer.js';
import { cString, encodeIntoHeap, copyOut } from './heap.js';
import { valueOf } from './names.js';
import { toPixels } from './image.js';
import { lookupModel } from './registry.js';
import { similarity, softmax } from './similarity.js';
import { checkKeys, LOAD_OPTIONS, EMBED_OPTIONS, EMBED_IDS_OPTIONS } from './options.js';
import { WorkerEmbedder } from './worker-client.js';   // static: a worker's bundle must not split (js/worker.js)

/** Texts longer than this (characters) are embedded through a text stream. */
export const LONG_TEXT = 1 << 18;
/** Characters of a long text copied into the engine at a time. */
const TEXT_PIECE = 1 << 18;

/**
 * @typedef {import('./names.js').Pooling} Pooling
 *
 * @typedef {{status: 'embed', loaded: number, total: number}} EmbedProgress characters of the call's long texts read so far,
 *   of their total; `loaded` never decreases, `total` stays the same, the last event has loaded === total
 *
 * @typedef {object} EmbedOptions
 * @property {Pooling} [pooling] default: the model's (sentence-transformers files, else the family's); 'none' = per-token vectors
 * @property {boolean} [normalize] L2-normalize (default: the model's; true for pooled sentence-transformers models)
 * @property {number} [dims] keep the first dims dimensions (Matryoshka, with the model's rule)
 * @property {number} [maxTokens] token limit per input (default: the model's)
 * @property {import('./names.js').Truncate} [truncate='truncate'] what to do with longer inputs
 * @property {number} [chunkOverlap] tokens shared by consecutive windows (truncate 'chunk'; default maxTokens / 8)
 * @property {import('./names.js').RopeScaling} [ropeScaling='model'] RoPE models only
 * @property {number} [ropeFactor] scaling factor (0/undefined: the model's)
 * @property {import('./names.js').NtkLength} [ntkLength='own'] dynamic NTK length: each input's own (batch-invariant) or the batch's longest
 * @property {number} [attentionTemperature=1] TempScale: attention logits divided by this in every layer (any family)
 * @property {{group: number, window: number}} [selfExtend] SelfExtend (RoPE families): keys within `window` of a
 *   query see ordinary positions, farther ones positions grouped by `group`; active on inputs longer than `window`
 * @property {import('./names.js').Quantize} [quantize='none'] output as Float32Array, Int8Array or packed bits (Uint8Array)
 * @property {boolean} [allowNonFinite=false] return vectors with NaN or infinite values as computed; by default such
 *   a vector fails the call with a WembedError of code 'non_finite' (broken weights, hyper-parameters or input)
 * @property {string} [task] 'query', 'document', ...: prepends the model's registered prefix (models/registry.json)
 * @property {string} [prefix] prepends this text (instead of a task's prefix)
 * @property {AbortSignal} [signal] rejects the call when it fires (image fetches stop; a long text stops between pieces;
 *   in worker mode the pending call is dropped)
 * @property {(e: EmbedProgress) => void} [onProgress] progress through the call's long texts (over LONG_TEXT characters,
 *   read a piece at a time)
 * @property {number} [maxPixels] images: refuse (code 'image_too_large') any image with more pixels than this, read from its
 *   header before it is decoded (default 50,000,000; 0: no limit)
 *
 * @typedef {object} LoadOptions
 * @property {import('./names.js').Dtype} [dtype='f32'] weights in memory: float32, float16, int8 with a scale per row, or 4-bit blocks (q4)
 * @property {number} [threads] compute threads (default: the CPUs, at most 8); sets the shared engine's size
 * @property {'auto'|'mt'|'st'} [variant='auto'] engine module (see createEngine)
 * @property {'auto'|'relaxed'|'simd128'} [simd='auto'] module flavour (see createEngine)
 * @property {'auto'|'wasm'|'native'} [backend='auto'] wasm module or, in Node, the native addon (see createEngine)
 * @property {import('./engine.js').Engine} [engine] an engine to use instead of the shared one
 * @property {string} [revision='main'] hub revision
 * @property {string} [hubBase='https://huggingface.co'] hub or mirror
 * @property {string} [token] hub access token (Authorization: Bearer)
 * @property {string} [file] the weights file to use (a .gguf, or a .safetensors of another name)
 * @property {string} [model] registry id for task prefixes when the source does not name it (a local folder)
 * @property {boolean | 'reload' | string | import('./cache.js').ModelCache} [cache=true] true: Cache API / ~/.cache/wembed;
 *   'reload': that cache, every file fetched again and its entry rewritten; another string: that folder; false: none
 * @property {number} [cacheMaxAge=86400] seconds after which a cached file is revalidated (If-None-Match); 0: every load
 * @property {typeof fetch} [fetch] the fetch to use
 * @property {number} [maxRetries=3] retries of a failed request
 * @property {number} [retryDelay=500] first backoff in ms (doubles each time)
 * @property {number} [timeout=30000] ms without a byte before a request counts as failed
 * @property {(e: import('./loader.js').ProgressEvent) => void} [onProgress]
 * @property {AbortSignal} [signal]
 * @property {boolean} [worker=false] run the engine in a Web Worker / worker thread
 */

/** @type {Map<string, {engine: Promise<import('./engine.js').Engine>, refs: number}>} */
const shared = new Map();

/** The shared engine for these options (or opts.engine), with its release; also used by js/vector-index.js. @private */
export async function acquireEngine(opts) {
  if (opts.engine) return { engine: opts.engine, release: () => {} };
  const key = `${opts.variant ?? 'auto'}:${opts.threads ?? ''}:${opts.simd ?? 'auto'}:${opts.backend ?? ''}`;
  let s = shared.get(key);
  if (!s) {
    s = { engine: createEngine({ variant: opts.variant, threads: opts.threads, simd: opts.simd, backend: opts.backend }), refs: 0 };
    shared.set(key, s);
    s.engine.catch(() => shared.delete(key));
  }
  s.refs++;
  const engine = await s.engine;
  let released = false;
  return {
    engine,
    release: () => {
      if (released) return;
      released = true;
      if (--s.refs === 0) {
        shared.delete(key);
        engine.dispose();
      }
    },
  };
}

/**
 * Two towers of one embedding space, each any source Embedder.load takes.
 * @typedef {{text: string | URL | {files: Record<string, unknown>}, vision: string | URL | {files: Record<string, unknown>}}} PairSource
 */

/** Whether a source is a pair of towers ({ text, vision }), not one model. */
function isPair(source) {
  return typeof source === 'object' && source !== null && !(source instanceof URL) && !('files' in source) &&
    ('text' in source || 'vision' in source);
}

function intOpt(name, v, dflt, min = 0) {
  if (v === undefined || v === null) return dflt;
  if (!(Number.isInteger(v) && v >= min)) throw new WembedError('invalid_argument', `${name} must be an integer >= ${min}, not ${JSON.stringify(v)}`);
  return v;
}

/** A loaded model. */
export class Embedder {
  /**
   * Loads a model: a hub id ('org/name'), a base URL, a local folder (Node), or
   * `{ files: { 'config.json': bytes, ... } }`; or a pair of towers that share one embedding
   * space, `{ text: source, vision: source }` (nomic-embed-text-v1.5 with
   * nomic-embed-vision-v1.5): text calls run the text model, image calls the vision model.
   * Loading the vision model alone downloads only its weights.
   * @param {string | URL | {files: Record<string, unknown>} | PairSource} source
   * @param {LoadOptions} [opts]
   * @returns {Promise<Embedder>}
   */
  static async load(source, opts = {}) {
    checkKeys(opts, LOAD_OPTIONS, 'load');
    if (opts.worker) {
      return /** @type {any} */ (await WorkerEmbedder.load(source, opts));
    }
    if (isPair(source)) return Embedder._loadPair(/** @type {PairSource} */ (source), opts);
    const src = await resolveSource(/** @type {string | URL | {files: Record<string, unknown>}} */ (source), opts);
    const { engine, release } = await acquireEngine(opts);
    try {
      const { model, files } = await loadModel(engine, src, opts);
      return new Embedder(engine, model, release, src, files, opts);
    } catch (e) {
      release();
      throw e;
    }
  }

  /**
   * Loads both towers of a pair (in parallel, on one engine) and joins them: the text model's
   * Embedder, which hands its image calls to the vision model's. Progress events name the files
   * as 'text/<file>' and 'vision/<file>'; one 'ready' comes last. `opts.model` may name the
   * registry ids as { text, vision }.
   * @param {PairSource} source @param {LoadOptions} opts @returns {Promise<Embedder>} @private
   */
  static async _loadPair(source, opts) {
    if (source.text === undefined || source.vision === undefined) {
      throw new WembedError('invalid_argument', 'a pair of towers is { text: source, vision: source }, both given');
    }
    const ids = /** @type {any} */ (opts.model);
    let ready = 0;
    const towerOpts = (tower) => ({
      ...opts,
      model: typeof ids === 'object' && ids !== null ? ids[tower] : ids,
      onProgress: opts.onProgress && ((e) => {
        if (e.status === 'ready') ready += e.loaded;
        else opts.onProgress({ ...e, file: `${tower}/${e.file}` });
      }),
    });
    const [t, v] = await Promise.allSettled([Embedder.load(source.text, towerOpts('text')), Embedder.load(source.vision, towerOpts('vision'))]);
    if (t.status === 'rejected' || v.status === 'rejected') {
      if (t.status === 'fulfilled') t.value.dispose();
      if (v.status === 'fulfilled') v.value.dispose();
      throw t.status === 'rejected' ? t.reason : /** @type {PromiseRejectedResult} */ (v).reason;
    }
    const text = t.value, vision = v.value;
    if (!text._info.hasText || !vision._info.hasVision) {
      text.dispose();
      vision.dispose();
      throw new WembedError('invalid_argument', `a pair needs a text model as text and a vision model as vision: ${text.source} ` +
        `(${text._info.architecture}) has ${text._info.hasText ? 'a' : 'no'} text tower, ${vision.source} ` +
        `(${vision._info.architecture}) ${vision._info.hasVision ? 'a' : 'no'} vision tower`);
    }
    if (text._info.dims !== vision._info.dims) {
      text.dispose();
      vision.dispose();
      throw new WembedError('invalid_argument', `the towers of a pair must give vectors of one size: ${text.source} gives ` +
        `${text._info.dims}, ${vision.source} ${vision._info.dims}`);
    }
    text._vision = vision;
    // What the pair is, as info() reports it: the text model's fields, the vision model's image fields.
    const vi = vision._info;
    Object.assign(text._info, {
      hasVision: true, visionHiddenSize: vi.visionHiddenSize, visionLayers: vi.visionLayers, visionHeads: vi.visionHeads,
      imageSize: vi.imageSize, patchSize: vi.patchSize,
    });
    opts.onProgress?.({ status: 'ready', file: null, loaded: ready, total: ready });
    return text;
  }

  /** @private */
  constructor(engine, model, release, src, files, opts) {
    /** The engine this model runs on. @type {import('./engine.js').Engine} */
    this.engine = engine;
    this._model = model;
    this._release = release;
    const m = engine.module;
    const p = m._wembed__model_info_json(model);
    if (!p) throw new WembedError('alloc_failed', 'out of memory');
    try { this._info = JSON.parse(cString(engine, p)); } finally { m._free(p); }
    // A classification head's label names (config.json id2label; null where it has none).
    this._info.labelNames = Array.from({ length: this._info.labels ?? 0 }, (_, i) => {
      const q = m._wembed__model_label(model, i);
      return q ? cString(engine, q) : null;
    });
    /** Loading warnings (unused tensors, NaN weights, modules not applied), one per line. */
    this.warnings = cString(engine, m._wembed__model_warnings(model));
    /** Where the model came from (hub id, URL, folder or 'files'). */
    this.source = src.id;
    /** Files that were loaded. */
    this.files = files;
    /** The model's registry entry (task prefixes, Matryoshka dims), if known. */
    this.registry = lookupModel(opts.model ?? src.id);
    /** A pair's vision model (Embedder.load({ text, vision })), which runs the image calls; else null. @type {Embedder | null} */
    this._vision = null;
  }

  /**
   * What the model is: architecture, sizes, dtype, token limit, memory; for a cross-encoder,
   * `labels` (of its classification head; 0: none) and `sigmoid` (its config's default activation);
   * `trainedTokens` (the length its positions were trained to) and `extension` (what `truncate: 'extend'`
   * does past it: 'self-extend', 'native' or 'chunk'; `extendMaxTokens` the most tokens it keeps).
   * @returns {{architecture: string, modelType: string, format: string, dtype: string, hiddenSize: number,
   *   layers: number, heads: number, intermediateSize: number, vocabSize: number, maxTokens: number, dims: number,
   *   hasText: boolean, hasVision: boolean, visionHiddenSize: number, visionLayers: number, visionHeads: number,
   *   imageSize: number, patchSize: number, parameters: number, weightBytes: number, pooling: string,
   *   normalize: boolean, maxSeqLength: number, logitScale: number, logitBias: number, logitSigmoid: boolean, imageTokens: number, labels: number, sigmoid: boolean, labelNames: Array<string | null>,
   *   trainedTokens: number, extension: string, extendMaxTokens: number,
   *   source: string, registryId: string | null,
   *   matryoshkaDims: number[] | null, tasks: string[], engine: {backend: string, variant: string, threads: number, version: string, simd: string, systemInfo: string},
   *   vision: object | null}} (vision: a pair's vision model's info(), whose image fields the pair reports too)
   */
  info() {
    this._check();
    return {
      ...this._info,
      source: this.source,
      registryId: this.registry?.id ?? null,
      matryoshkaDims: this.registry?.matryoshkaDims ?? null,
      tasks: Object.keys(this.registry?.prefixes ?? {}),
      engine: { backend: this.engine.backend, variant: this.engine.variant, threads: this.engine.threads, version: this.engine.version, simd: this.engine.simd, systemInfo: this.engine.systemInfo },
      vision: this._vision ? this._vision.info() : null,
    };
  }

  /**
   * The scalar parameter list of the engine's embed calls, in wasm/wembed_wasm.c's order; named
   * values are looked up in the engine's table (engine.consts); an unknown key is refused.
   * @param {EmbedOptions} o @param {readonly string[]} [known] @param {string} [what]
   */
  _params(o = {}, known = EMBED_OPTIONS, what = 'embed') {
    checkKeys(o, known, what);
    const c = this.engine.consts;
    const named = (option, v, dflt) => valueOf(c, option, v === undefined ? dflt : v);
    const ropeFactor = o.ropeFactor ?? 0;
    if (!(typeof ropeFactor === 'number' && ropeFactor >= 0)) throw new WembedError('invalid_argument', `ropeFactor must be a number >= 0, not ${ropeFactor}`);
    if (o.normalize !== undefined && typeof o.normalize !== 'boolean') throw new WembedError('invalid_argument', 'normalize must be true or false');
    const temperature = o.attentionTemperature ?? 1;
    if (!(typeof temperature === 'number' && temperature > 0 && Number.isFinite(temperature))) {
      throw new WembedError('invalid_argument', `attentionTemperature must be a finite number > 0, not ${temperature}`);
    }
    const se = o.selfExtend;
    if (se !== undefined && (typeof se !== 'object' || se === null)) throw new WembedError('invalid_argument', 'selfExtend must be { group, window }');
    if (o.allowNonFinite !== undefined && typeof o.allowNonFinite !== 'boolean') throw new WembedError('invalid_argument', 'allowNonFinite must be true or false');
    return [
      o.pooling === undefined ? c.default.pooling : named('pooling', o.pooling),
      o.normalize === undefined ? c.default.normalize : o.normalize ? 1 : 0,
      intOpt('dims', o.dims, 0, 1),
      intOpt('maxTokens', o.maxTokens, 0, 1),
      named('truncate', o.truncate, 'truncate'),
      intOpt('chunkOverlap', o.chunkOverlap, -1),
      named('rope_scaling', o.ropeScaling, 'model'),
      ropeFactor,
      named('ntk_length', o.ntkLength, 'own'),
      named('quantize', o.quantize, 'none'),
      temperature,
      se ? intOpt('selfExtend.group', se.group, 0, 1) : 0,
      se ? intOpt('selfExtend.window', se.window, 0, 1) : 0,
      o.allowNonFinite ? 1 : 0,
    ];
  }

  _fail(rc) {
    return statusError(this.engine.status, rc, cString(this.engine, this.engine.module._wembed__model_last_error(this._model)));
  }

  /** Bytes of one output vector, or throws the engine's reason. */
  _vectorBytes(image, params) {
    const vb = this.engine.module._wembed__vector_bytes(this._model, image ? 1 : 0, ...params);
    if (!vb) throw this._fail(this.engine.status.invalid_argument);
    return vb;
  }

  /** Copies n vectors of vb bytes each out of the heap at p, as the typed arrays the output asks for. */
  _readVectors(p, n, vb, quantize) {
    const heap = this.engine.heapU8();
    /** @type {Array<Float32Array | Int8Array | Uint8Array>} */
    const out = [];
    for (let i = 0; i < n; i++) {
      const bytes = heap.slice(p + i * vb, p + (i + 1) * vb);   // own buffer each: transferable, safe to keep
      out.push(quantize === 'int8' ? new Int8Array(bytes.buffer) : quantize === 'binary' ? bytes : new Float32Array(bytes.buffer));
    }
    return out;
  }

  /** Groups per-token rows into one array per input. */
  static _group(rows, counts) {
    const out = [];
    let k = 0;
    for (const c of counts) { out.push(rows.slice(k, k + c)); k += c; }
    return out;
  }

  /** The text prefix the options ask for. @param {EmbedOptions} o */
  _prefix(o) {
    if (o.prefix !== undefined && o.task !== undefined) throw new WembedError('invalid_argument', 'give either prefix or task, not both');
    if (o.prefix !== undefined) {
      if (typeof o.prefix !== 'string') throw new WembedError('invalid_argument', 'prefix must be a string');
      return o.prefix;
    }
    if (o.task === undefined) return '';
    const prefixes = this.registry?.prefixes;
    if (!prefixes) {
      throw new WembedError('invalid_argument', `task ${JSON.stringify(o.task)}: ${this.source} is not in the model registry, so its prefixes are unknown; ` +
        'pass { prefix } instead (or { model: "<hub id>" } when loading a local copy of a registered model)');
    }
    if (!(o.task in prefixes)) {
      const known = Object.keys(prefixes);
      throw new WembedError('invalid_argument', `task ${JSON.stringify(o.task)} is not registered for ${this.registry.id}` +
        (known.length ? `; its tasks are ${known.map((t) => `'${t}'`).join(', ')}` : ': it uses no prefixes'));
    }
    return prefixes[o.task];
  }

  /**
   * Checks embed options against this model without embedding anything: throws the WembedError
   * (code 'invalid_argument', ...) that embed / embedImage would throw for every input, e.g. a
   * `dims` beyond the model's width or a `task` the registry does not know. The CLI uses it to
   * report such a mistake once, as a usage error, not on every input line.
   * @param {EmbedOptions} [opts] @param {{image?: boolean}} [what] image: the vision tower's output
   */
  checkOptions(opts = {}, what = {}) {
    this._check();
    if (!what.image) this._prefix(opts);
    this._vectorBytes(!!what.image, this._params(opts));
  }

  /** The token limit an embed call will use (for sizing per-token output). */
  _maxTokens(o) {
    if (o.maxTokens) return o.maxTokens;
    const i = this._info;
    const def = i.maxSeqLength > 0 ? Math.min(i.maxSeqLength, i.maxTokens) : i.maxTokens;
    // truncate 'extend' keeps texts whole up to the engine's cap (chunking has no per-token output)
    return o.truncate === 'extend' && i.extension !== 'chunk' ? Math.max(def, i.extendMaxTokens) : def;
  }

  // The overloads give the default call (no quantize, a pooled vector) Float32Array[].
  /**
   * @overload
   * @param {string | string[]} texts
   * @param {EmbedOptions & {pooling: 'none'}} opts
   * @returns {Promise<Float32Array[][]>}
   */
  /**
   * @overload
   * @param {string | string[]} texts
   * @param {EmbedOptions & {quantize: 'int8'}} opts
   * @returns {Promise<Int8Array[]>}
   */
  /**
   * @overload
   * @param {string | string[]} texts
   * @param {EmbedOptions & {quantize: 'binary'}} opts
   * @returns {Promise<Uint8Array[]>}
   */
  /**
   * @overload
   * @param {string | string[]} texts
   * @param {EmbedOptions & {quantize?: 'none', pooling?: Exclude<Pooling, 'none'>}} [opts]
   * @returns {Promise<Float32Array[]>}
   */
  /**
   * @overload
   * @param {string | string[]} texts
   * @param {EmbedOptions} [opts]
   * @returns {Promise<Array<Float32Array | Int8Array | Uint8Array | Float32Array[]>>}
   */
  /**
   * Embeds texts with the model's tokenizer. One vector per text, in order: Float32Array, or
   * Int8Array / Uint8Array with `quantize`; with `pooling: 'none'`, one array of token vectors
   * per text.
   * @param {string | string[]} texts
   * @param {EmbedOptions} [opts]
   * @returns {Promise<Array<Float32Array | Int8Array | Uint8Array | Float32Array[]>>}
   */
  async embed(texts, opts = {}) {
    this._check();
    const list = typeof texts === 'string' ? [texts] : texts;
    if (!isArrayOf(list, (t) => typeof t === 'string')) throw new WembedError('invalid_argument', 'embed takes a string or an array of strings');
    const prefix = this._prefix(opts);
    const all = prefix ? list.map((t) => prefix + t) : list;
    const params = this._params(opts);
    const vb = this._vectorBytes(false, params);
    const n = all.length;
    if (n === 0) return [];
    const perToken = opts.pooling === 'none';
    // Long texts go through a text stream a piece at a time: never whole in the engine's memory,
    // and the call can report progress and stop between pieces.
    const long = perToken ? [] : all.flatMap((t, i) => (t.length > LONG_TEXT ? [i] : []));
    if (long.length) return this._embedWithLong(all, long, params, vb, opts);
    let counts = null;
    if (perToken) {
      const tok = this._tokenizer();
      const max = this._maxTokens(opts);
      counts = all.map((t) => encodeWith(this.engine, tok, t, { maxLength: opts.truncate === 'error' ? 0 : max }).ids.length);
    }
    const nVec = counts ? counts.reduce((a, b) => a + b, 0) : n;
    const m = this.engine.module;
    let cap = 1;
    for (const t of all) cap += t.length * 3;
    const textP = m._malloc(cap);
    const offP = m._malloc(8 * n);
    const outP = m._malloc(Math.max(1, nVec * vb));
    try {
      if (!textP || !offP || !outP) throw new WembedError('alloc_failed', `out of memory for a batch of ${n} texts`);
      const off = new Int32Array(this.engine.heapU8().buffer, offP, 2 * n);
      let pos = 0;
      for (let i = 0; i < n; i++) {
        const written = encodeIntoHeap(this.engine, all[i], textP + pos, cap - pos);   // one copy in
        off[2 * i] = pos;
        off[2 * i + 1] = written;
        pos += written;
      }
      const rc = m._wembed__embed_text(this._model, textP, offP, n, outP, nVec * vb, ...params);
      if (rc) throw this._fail(rc);
      const rows = this._readVectors(outP, nVec, vb, opts.quantize);   // one copy out
      return counts ? Embedder._group(rows, counts) : rows;
    } finally {
      m._free(textP);
      m._free(offP);
      m._free(outP);
    }
  }

  /** embed() of texts some of which are long: the short ones batched, each long one streamed. */
  async _embedWithLong(all, long, params, vb, opts) {
    const isLong = new Set(long);
    const short = all.flatMap((t, i) => (isLong.has(i) ? [] : [i]));
    /** @type {any[]} */
    const out = new Array(all.length);
    if (short.length) {
      const rows = await this.embed(short.map((i) => all[i]), { ...opts, task: undefined, prefix: undefined, signal: undefined, onProgress: undefined });
      short.forEach((i, k) => { out[i] = rows[k]; });
    }
    const total = long.reduce((a, i) => a + all[i].length, 0);
    let loaded = 0;
    for (const i of long) {
      out[i] = await this._embedStreamed(all[i], params, vb, opts, (n) => {
        loaded += n;
        opts.onProgress?.({ status: 'embed', loaded, total });
      });
    }
    return out;
  }

  /**
   * One long text through a text stream: pieces of TEXT_PIECE characters copied into one reused
   * buffer, the event loop given a turn between pieces (so an AbortSignal can fire).
   * @param {string} text @param {number[]} params @param {number} vb @param {EmbedOptions} opts
   * @param {(chars: number) => void} advance called with the characters read (all of them by the end)
   */
  async _embedStreamed(text, params, vb, opts, advance) {
    const m = this.engine.module;
    const sp = m._malloc(4);
    const bufCap = TEXT_PIECE * 3;
    const buf = m._malloc(bufCap);
    const outP = m._malloc(vb);
    let s = 0;
    try {
      if (!sp || !buf || !outP) throw new WembedError('alloc_failed', 'out of memory for a text stream');
      let rc = m._wembed__text_stream_new(this._model, sp, ...params);
      if (rc) throw this._fail(rc);
      s = new Uint32Array(this.engine.heapU8().buffer, sp, 1)[0];
      let off = 0;
      while (off < text.length && !m._wembed__text_stream_full(s)) {
        if (opts.signal?.aborted) throw abortError(opts.signal);
        let end = Math.min(text.length, off + TEXT_PIECE);
        const c = text.charCodeAt(end - 1);
        if (end < text.length && c >= 0xd800 && c < 0xdc00) end--;   // a surrogate pair stays whole
        const n = encodeIntoHeap(this.engine, text.slice(off, end), buf, bufCap);
        rc = m._wembed__text_stream_write(s, buf, n);
        if (rc) throw this._fail(rc);
        advance(end - off);
        off = end;
        await new Promise((r) => setTimeout(r, 0));
      }
      if (opts.signal?.aborted) throw abortError(opts.signal);
      if (off < text.length) advance(text.length - off);   // not needed (truncation): read as far as it matters
      rc = m._wembed__text_stream_finish(s, outP, vb);
      if (rc) throw this._fail(rc);
      return this._readVectors(outP, 1, vb, opts.quantize)[0];
    } finally {
      if (s) m._wembed__text_stream_free(s);
      m._free(sp);
      m._free(buf);
      m._free(outP);
    }
  }

  /**
   * Embeds rows of token ids (ragged rows are padded and masked).
   * @param {Array<ArrayLike<number>>} ids
   * @param {EmbedOptions & {tokenTypeIds?: Array<ArrayLike<number>>, attentionMask?: Array<ArrayLike<number | boolean>>}} [opts] (mask values 0/1 or false/true)
   * @returns {Promise<Array<Float32Array | Int8Array | Uint8Array | Float32Array[]>>}
   */
  async embedIds(ids, opts = {}) {
    this._check();
    const params = this._params(opts, EMBED_IDS_OPTIONS, 'embedIds');
    const vb = this._vectorBytes(false, params);
    return this._withIdRows(ids, opts, 'embedIds', (idsP, typesP, maskP, B, T, counts) => {
      const m = this.engine.module;
      const perToken = opts.pooling === 'none';
      const nVec = perToken ? counts.reduce((a, b) => a + b, 0) : B;
      const outP = m._malloc(Math.max(1, nVec * vb));
      try {
        if (!outP) throw new WembedError('alloc_failed', 'out of memory');
        const rc = m._wembed__embed_ids(this._model, idsP, typesP, maskP, B, T, outP, nVec * vb, ...params);
        if (rc) throw this._fail(rc);
        const rows = this._readVectors(outP, nVec, vb, opts.quantize);
        return perToken ? Embedder._group(rows, counts) : rows;
      } finally {
        m._free(outP);
      }
    });
  }

  /** Labels of the model's sequence-classification head (cross-encoders); 0: none. */
  _labels() {
    const n = this._info.labels ?? 0;
    if (!n) {
      throw new WembedError('unsupported', `${this.source} has no sequence-classification head (${this._info.architecture}); ` +
        'scoring pairs needs a cross-encoder (config.json architectures *ForSequenceClassification)');
    }
    return n;
  }

  /**
   * Raw logits of (query, document) pairs through the model's classification head: each pair
   * encoded with the tokenizer's pair template, the document cut to fit (only_second; the query
   * never is). Low level: see Reranker for scores and ranking.
   * @param {string[]} queries @param {string[]} documents as many as queries
   * @returns {Promise<{logits: Float32Array[], truncated: boolean[]}>} one row of n_labels logits per pair
   */
  async classifyPairs(queries, documents) {
    this._check();
    const L = this._labels();
    if (!isArrayOf(queries, (t) => typeof t === 'string') || !isArrayOf(documents, (t) => typeof t === 'string') ||
        queries.length !== documents.length) {
      throw new WembedError('invalid_argument', 'classifyPairs takes two arrays of strings of the same length');
    }
    const n = queries.length;
    if (n === 0) return { logits: [], truncated: [] };
    const m = this.engine.module;
    let cap = 1;
    for (let i = 0; i < n; i++) cap += (queries[i].length + documents[i].length) * 3;
    const textP = m._malloc(cap);
    const offP = m._malloc(16 * n);
    const outP = m._malloc(4 * n * L);
    const cutP = m._malloc(n);
    try {
      if (!textP || !offP || !outP || !cutP) throw new WembedError('alloc_failed', `out of memory for a batch of ${n} pairs`);
      let pos = 0;
      for (let i = 0; i < n; i++) {
        const off = [];
        for (const t of [queries[i], documents[i]]) {
          const written = encodeIntoHeap(this.engine, t, textP + pos, cap - pos);   // one copy in
          off.push(pos, written);
          pos += written;
        }
        new Int32Array(this.engine.heapU8().buffer, offP + 16 * i, 4).set(off);
      }
      const rc = m._wembed__classify_pairs(this._model, textP, offP, n, outP, n * L, cutP);
      if (rc) throw this._fail(rc);
      const all = copyOut(this.engine, Float32Array, outP, n * L);   // one copy out
      const cut = this.engine.heapU8().slice(cutP, cutP + n);
      return {
        logits: Array.from({ length: n }, (_, i) => all.slice(i * L, (i + 1) * L)),
        truncated: Array.from(cut, (c) => c !== 0),
      };
    } finally {
      m._free(textP);
      m._free(offP);
      m._free(outP);
      m._free(cutP);
    }
  }

  /**
   * Raw logits of rows of token ids already encoded as pairs (ragged rows are padded and masked).
   * @param {Array<ArrayLike<number>>} ids
   * @param {{tokenTypeIds?: Array<ArrayLike<number>>, attentionMask?: Array<ArrayLike<number>>}} [opts]
   * @returns {Promise<Float32Array[]>} one row of n_labels logits per input
   */
  async classifyIds(ids, opts = {}) {
    this._check();
    const L = this._labels();
    return this._withIdRows(ids, opts, 'classifyIds', (idsP, typesP, maskP, B, T) => {
      const m = this.engine.module;
      const outP = m._malloc(4 * B * L);
      try {
        if (!outP) throw new WembedError('alloc_failed', 'out of memory');
        const rc = m._wembed__classify_ids(this._model, idsP, typesP, maskP, B, T, outP, B * L);
        if (rc) throw this._fail(rc);
        const all = copyOut(this.engine, Float32Array, outP, B * L);
        return Array.from({ length: B }, (_, i) => all.slice(i * L, (i + 1) * L));
      } finally {
        m._free(outP);
      }
    });
  }

  /**
   * Copies ragged rows of ids (with optional type ids and mask) into the module as B x T
   * padded arrays, runs fn(idsP, typesP, maskP, B, T, counts) and frees them.
   * @template T @param {Array<ArrayLike<number>>} ids @param {any} opts @param {string} what
   * @param {(idsP: number, typesP: number, maskP: number, B: number, T: number, counts: number[]) => T} fn @returns {T | any[]}
   */
  _withIdRows(ids, opts, what, fn) {
    if (!isArrayOf(ids, (r) => r && typeof r === 'object' && Number.isSafeInteger(r.length) && r.length >= 0)) {
      throw new WembedError('invalid_argument', `${what} takes an array of rows of token ids`);
    }
    const B = ids.length;
    if (B === 0) return [];
    const T = Math.max(1, ...ids.map((r) => r.length));
    const { tokenTypeIds: types, attentionMask: mask } = opts;
    for (const [name, v] of [['tokenTypeIds', types], ['attentionMask', mask]]) {
      if (v !== undefined && (!isArrayOf(v, (r, i) => r && r.length === ids[i].length) || v.length !== B)) {
        throw new WembedError('invalid_argument', `${name} must have one row per ids row, each as long as that row`);
      }
    }
    // Every value checked here, never coerced: an Int32Array would turn 1.5 into 1, NaN into 0
    // ([PAD]) and 2^32 + 7592 into 7592, a silent wrong vector.
    const vocab = this._info.vocabSize > 0 ? this._info.vocabSize : 2 ** 31;
    for (let b = 0; b < B; b++) {
      const r = ids[b];
      for (let t = 0; t < r.length; t++) {
        const x = r[t];
        if (!Number.isInteger(x) || x < 0 || x >= vocab) {
          throw new WembedError('invalid_argument', `${what}: row ${b}, position ${t}: ${typeof x === 'number' ? x : JSON.stringify(x) ?? String(x)} ` +
            `is not a token id (an integer in [0, ${vocab}), the model's vocabulary)`);
        }
        const ty = types?.[b][t];
        if (types && !(Number.isInteger(ty) && ty >= 0 && ty < 2 ** 31)) {
          throw new WembedError('invalid_argument', `${what}: tokenTypeIds row ${b}, position ${t}: ${String(ty)} is not a non-negative integer`);
        }
        const mk = mask?.[b][t];
        if (mask && !(mk === 0 || mk === 1 || mk === true || mk === false)) {
          throw new WembedError('invalid_argument', `${what}: attentionMask row ${b}, position ${t}: ${String(mk)} is not 0 or 1`);
        }
      }
    }
    const counts = [];
    const m = this.engine.module;
    const idsP = m._malloc(4 * B * T);
    const maskP = m._malloc(4 * B * T);
    const typesP = types ? m._malloc(4 * B * T) : 0;
    try {
      if (!idsP || !maskP || (types && !typesP)) throw new WembedError('alloc_failed', 'out of memory');
      const heap = this.engine.heapU8();
      const I = new Int32Array(heap.buffer, idsP, B * T);
      const M = new Int32Array(heap.buffer, maskP, B * T);
      const Ty = types ? new Int32Array(heap.buffer, typesP, B * T) : null;
      I.fill(0); M.fill(0); Ty?.fill(0);
      for (let b = 0; b < B; b++) {
        const r = ids[b];
        let c = 0;
        for (let t = 0; t < r.length; t++) {
          I[b * T + t] = r[t];
          const on = mask ? (mask[b][t] ? 1 : 0) : 1;
          M[b * T + t] = on;
          c += on;
          if (Ty) Ty[b * T + t] = types[b][t];
        }
        counts.push(c);
      }
      return fn(idsP, typesP, maskP, B, T, counts);
    } finally {
      m._free(idsP);
      m._free(maskP);
      m._free(typesP);
    }
  }

  /** Rows per image with pooling none: the class token and the patches. */
  _imageTokens() {
    return this._info.imageTokens;
  }

  /**
   * @overload
   * @param {import('./image.js').ImageInput | import('./image.js').ImageInput[]} inputs
   * @param {EmbedOptions & {pooling: 'none'}} opts
   * @returns {Promise<Float32Array[][]>}
   */
  /**
   * @overload
   * @param {import('./image.js').ImageInput | import('./image.js').ImageInput[]} inputs
   * @param {EmbedOptions & {quantize: 'int8'}} opts
   * @returns {Promise<Int8Array[]>}
   */
  /**
   * @overload
   * @param {import('./image.js').ImageInput | import('./image.js').ImageInput[]} inputs
   * @param {EmbedOptions & {quantize: 'binary'}} opts
   * @returns {Promise<Uint8Array[]>}
   */
  /**
   * @overload
   * @param {import('./image.js').ImageInput | import('./image.js').ImageInput[]} inputs
   * @param {EmbedOptions & {quantize?: 'none', pooling?: Exclude<Pooling, 'none'>}} [opts]
   * @returns {Promise<Float32Array[]>}
   */
  /**
   * @overload
   * @param {import('./image.js').ImageInput | import('./image.js').ImageInput[]} inputs
   * @param {EmbedOptions} [opts]
   * @returns {Promise<Array<Float32Array | Int8Array | Uint8Array | Float32Array[]>>}
   */
  /**
   * Embeds images with the model's vision tower. One vector per image, in order.
   * @param {import('./image.js').ImageInput | import('./image.js').ImageInput[]} inputs
   * @param {EmbedOptions} [opts]
   * @returns {Promise<Array<Float32Array | Int8Array | Uint8Array | Float32Array[]>>}
   */
  async embedImage(inputs, opts = {}) {
    this._check();
    if (this._vision) return this._vision.embedImage(inputs, opts);
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (!isArrayOf(list, (x) => x != null)) throw new WembedError('invalid_argument', 'embedImage takes an image or an array of images (no holes, no null)');
    if (!this._info.hasVision) throw new WembedError('unsupported', `${this.source} has no vision tower (${this._info.architecture}); embedImage needs a model with a vision tower`);
    const imgs = await Promise.all(list.map((x, i) => toPixels(x, list.length > 1 ? `image ${i}` : 'image', { signal: opts.signal, maxPixels: opts.maxPixels })));
    this._check();
    const n = imgs.length;
    if (n === 0) return [];
    const params = this._params(opts);
    const vb = this._vectorBytes(true, params);
    const perToken = opts.pooling === 'none';
    const nVec = perToken ? n * this._imageTokens() : n;
    const m = this.engine.module;
    const total = imgs.reduce((a, im) => a + im.stride * (im.height - 1) + im.width * im.channels, 0);
    const pixP = m._malloc(Math.max(1, total));
    const descP = m._malloc(20 * n);
    const outP = m._malloc(Math.max(1, nVec * vb));
    try {
      if (!pixP || !descP || !outP) throw new WembedError('alloc_failed', `out of memory for ${n} images`);
      const heap = this.engine.heapU8();
      const desc = new Int32Array(heap.buffer, descP, 5 * n);
      let pos = pixP;
      imgs.forEach((im, i) => {
        const len = im.stride * (im.height - 1) + im.width * im.channels;
        heap.set(im.data.subarray(0, len), pos);   // one copy in
        desc.set([pos, im.width, im.height, im.stride, im.channels], 5 * i);
        pos += len;
      });
      const rc = m._wembed__embed_images(this._model, descP, n, outP, nVec * vb, ...params);
      if (rc) throw this._fail(rc);
      const rows = this._readVectors(outP, nVec, vb, opts.quantize);
      return perToken ? Embedder._group(rows, new Array(n).fill(this._imageTokens())) : rows;
    } finally {
      m._free(pixP);
      m._free(descP);
      m._free(outP);
    }
  }

  /**
   * Embeds prepared pixel values (3 x S x S floats per image, already normalized: what
   * preprocessImage returns, or a reference pipeline's `pixel_values`).
   * @param {Float32Array | Float32Array[] | number[]} pixelValues
   * @param {EmbedOptions} [opts]
   * @returns {Promise<Array<Float32Array | Int8Array | Uint8Array | Float32Array[]>>}
   */
  async embedPixels(pixelValues, opts = {}) {
    this._check();
    if (this._vision) return this._vision.embedPixels(pixelValues, opts);
    if (!this._info.hasVision) throw new WembedError('unsupported', `${this.source} has no vision tower`);
    const S = this._info.imageSize;
    const per = 3 * S * S;
    const flat = Array.isArray(pixelValues) && pixelValues.length && typeof pixelValues[0] !== 'number'
      ? /** @type {Float32Array[]} */ (pixelValues) : [/** @type {any} */ (pixelValues)];
    for (const f of flat) {
      if (!f || f.length % per !== 0 || f.length === 0) {
        throw new WembedError('invalid_argument', `pixel values must be 3 x ${S} x ${S} = ${per} floats per image, not ${f?.length}`);
      }
    }
    const B = flat.reduce((a, f) => a + f.length / per, 0);
    const params = this._params(opts);
    const vb = this._vectorBytes(true, params);
    const perToken = opts.pooling === 'none';
    const nVec = perToken ? B * this._imageTokens() : B;
    const m = this.engine.module;
    const pixP = m._malloc(4 * B * per);
    const outP = m._malloc(Math.max(1, nVec * vb));
    try {
      if (!pixP || !outP) throw new WembedError('alloc_failed', 'out of memory');
      const F = new Float32Array(this.engine.heapU8().buffer, pixP, B * per);
      let o = 0;
      for (const f of flat) { F.set(f, o); o += f.length; }
      const rc = m._wembed__embed_pixels(this._model, pixP, B, outP, nVec * vb, ...params);
      if (rc) throw this._fail(rc);
      const rows = this._readVectors(outP, nVec, vb, opts.quantize);
      return perToken ? Embedder._group(rows, new Array(B).fill(this._imageTokens())) : rows;
    } finally {
      m._free(pixP);
      m._free(outP);
    }
  }

  /**
   * The model input an image becomes (resize, crop, normalize as preprocessor_config.json says).
   * @param {import('./image.js').ImageInput} input
   * @param {{maxPixels?: number}} [opts] see EmbedOptions.maxPixels
   * @returns {Promise<Float32Array>} 3 x S x S floats
   */
  async preprocessImage(input, opts = {}) {
    this._check();
    if (this._vision) return this._vision.preprocessImage(input);
    if (!this._info.hasVision) throw new WembedError('unsupported', `${this.source} has no vision tower`);
    const im = await toPixels(input, 'image', { maxPixels: opts.maxPixels });
    this._check();
    const S = this._info.imageSize;
    const m = this.engine.module;
    const len = im.stride * (im.height - 1) + im.width * im.channels;
    const pixP = m._malloc(len);
    const outP = m._malloc(12 * S * S);
    try {
      if (!pixP || !outP) throw new WembedError('alloc_failed', 'out of memory');
      this.engine.heapU8().set(im.data.subarray(0, len), pixP);
      const rc = m._wembed__image_preprocess(this._model, pixP, im.width, im.height, im.stride, im.channels, outP, 12 * S * S);
      if (rc) throw this._fail(rc);
      return copyOut(this.engine, Float32Array, outP, 3 * S * S);
    } finally {
      m._free(pixP);
      m._free(outP);
    }
  }

  _tokenizer() {
    const t = this.engine.module._wembed__model_tokenizer(this._model);
    if (!t) throw this._fail(this.engine.status.missing_file);
    return t;
  }

  /**
   * Tokenizes text with the model's tokenizer.json.
   * @param {string} text
   * @param {import('./tokenizer.js').TokenizeOptions} [opts]
   * @returns {Promise<import('./tokenizer.js').Encoding>}
   */
  async tokenize(text, opts) {
    this._check();
    return encodeWith(this.engine, this._tokenizer(), text, opts);
  }

  /**
   * Similarity of two vectors of the same kind: cosine for Float32Array and Int8Array; for
   * packed binary vectors (Uint8Array), 1 - 2 * hamming / bits (the cosine of the ±1 vectors).
   * @param {ArrayLike<number>} a @param {ArrayLike<number>} b
   */
  similarity(a, b) {
    return similarity(a, b);
  }

  /**
   * Zero-shot image classification (two-tower models). Each label's logit is
   * logitScale * cosine(image, template(label)) + logitBias; CLIP's scores are a softmax over the
   * labels (they sum to 1), SigLIP's are each logit's own sigmoid (independent probabilities, as
   * the model was trained: `info().logitSigmoid`).
   * @param {import('./image.js').ImageInput} image
   * @param {string[]} labels
   * @param {{template?: string}} [opts] '{}' is replaced by the label (default: the registry's
   *   template for the model, else 'a photo of a {}')
   * @returns {Promise<Array<{label: string, score: number}>>} sorted by score, highest first
   */
  async classify(image, labels, opts = {}) {
    this._check();
    if (!isArrayOf(labels, (l) => typeof l === 'string') || labels.length === 0) {
      throw new WembedError('invalid_argument', 'classify needs a non-empty array of label strings');
    }
    if (!this._info.hasText || !this._info.hasVision || !this._info.logitScale) {
      throw new WembedError('unsupported', 'classify needs a model with both a text and a vision tower and a trained logit scale ' +
        '(CLIP); for a pair of towers, compare embed() and embedImage() vectors with similarity()');
    }
    const template = opts.template ?? this.registry?.template ?? 'a photo of a {}';
    const texts = labels.map((l) => (template.includes('{}') ? template.replaceAll('{}', l) : template + l));
    const t = /** @type {Float32Array[]} */ (await this.embed(texts, { normalize: true }));
    const [v] = /** @type {Float32Array[]} */ (await this.embedImage(image, { normalize: true }));
    const logits = t.map((x) => this._info.logitScale * similarity(x, v) + this._info.logitBias);
    const p = this._info.logitSigmoid ? logits.map((z) => 1 / (1 + Math.exp(-z))) : softmax(logits);
    return labels.map((label, i) => ({ label, score: p[i] })).sort((a, b) => b.score - a.score);
  }

  /** Frees the model (and the shared engine when no other model uses it). Further calls throw. */
  dispose() {
    if (!this._model) return;
    this._vision?.dispose();
    this.engine.module._wembed__model_free(this._model);
    this._model = 0;
    this._release();
  }

  _check() {
    if (!this._model) throw new WembedError('disposed', 'this embedder was disposed');
    // The model borrows its engine's compute pool (wembed.h: it must outlive the model): once
    // the engine was disposed, a call would run on a freed pool.
    this.engine._check();
  }
}
