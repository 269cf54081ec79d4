// worker-client.js - the Embedder API with the engine in a worker (`Embedder.load(src, {worker: true})`).
//
// Same methods and results as Embedder, all async. Each call is a message with a request id;
// vectors come back as transferred buffers (no copy). An AbortSignal on a call rejects it at
// once (a load is also stopped inside the worker; an embed call already running finishes there
// and its result is dropped). dispose() rejects every pending call and ends the worker. In Node
// the worker thread keeps the process alive only while calls are pending.

import { WembedError, abortError } from './errors.js';
import { similarity } from './similarity.js';

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';

/** Starts the worker (literal URL, so bundlers find and bundle it). */
async function spawn(workerURL) {
  if (isNode) {
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    return new Worker(workerURL ?? new URL('./worker.js', import.meta.url));
  }
  return workerURL
    ? new Worker(workerURL, { type: 'module' })
    : new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
}

/** Message plumbing: ids, pending calls, progress, failure of the worker itself. */
class Channel {
  constructor(worker) {
    this.worker = worker;
    this.nextId = 1;
    /** @type {Map<number, {resolve: Function, reject: Function, onProgress?: Function, cleanup: Function}>} */
    this.pending = new Map();
    this.dead = null;
    const onMessage = (msg) => this._onMessage(msg);
    const onError = (e) => this._die(new WembedError('worker', `the wembed worker failed: ${e?.message ?? e}`, { cause: e }));
    if (isNode) {
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', (code) => this._die(new WembedError('worker', `the wembed worker exited (code ${code})`)));
      worker.unref();
    } else {
      worker.addEventListener('message', (ev) => onMessage(ev.data));
      worker.addEventListener('error', (ev) => { ev.preventDefault?.(); onError(ev.error ?? ev.message ?? ev); });
      worker.addEventListener('messageerror', () => onError('a message could not be read'));
    }
  }

  _onMessage(msg) {
    const p = this.pending.get(msg?.id);
    if (!p) return;   // a call that was aborted or disposed: its answer is dropped
    if (msg.type === 'progress') {
      try { p.onProgress?.(msg.event); } catch { /* the listener's problem */ }
      return;
    }
    this._settle(msg.id);
    if (msg.type === 'result') p.resolve(msg.result);
    else p.reject(new WembedError(msg.error?.code ?? 'internal', msg.error?.message ?? 'unknown error in the worker'));
  }

  _settle(id) {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.cleanup();
    if (isNode && this.pending.size === 0 && !this.dead) this.worker.unref();
  }

  _die(err) {
    if (this.dead) return;
    this.dead = err;
    for (const [id, p] of [...this.pending]) {
      this._settle(id);
      p.reject(err);
    }
  }

  /**
   * @param {string} method @param {any[]} args
   * @param {{onProgress?: Function, signal?: AbortSignal}} [o]
   */
  call(method, args, o = {}) {
    if (this.dead) return Promise.reject(this.dead);
    if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.has(id)) return;
        this._settle(id);
        this.worker.postMessage({ type: 'abort', id });
        reject(abortError(o.signal));
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { resolve, reject, onProgress: o.onProgress, cleanup: () => o.signal?.removeEventListener('abort', onAbort) });
      if (isNode) this.worker.ref();
      try {
        this.worker.postMessage({ type: 'call', id, method, args });
      } catch (e) {
        this._settle(id);
        reject(new WembedError('invalid_argument', `cannot send this to the worker: ${/** @type {any} */ (e).message}`, { cause: e }));
      }
    });
  }

  terminate(err) {
    this._die(err);
    this.worker.terminate();
  }
}

/** Options that are functions or live objects stay on this side. */
function workerOptions(opts) {
  const { worker: _w, workerURL: _u, onProgress: _p, signal: _s, engine, fetch: f, cache, ...rest } = opts;
  if (engine) throw new WembedError('invalid_argument', 'an engine cannot be handed to a worker: drop { engine } or { worker }');
  if (f) throw new WembedError('invalid_argument', 'a custom fetch cannot cross into a worker: drop { fetch } or { worker }');
  if (cache !== undefined && typeof cache === 'object' && cache !== null) {
    throw new WembedError('invalid_argument', 'a custom cache object cannot cross into a worker: use cache true, false or a folder');
  }
  return { ...rest, ...(cache !== undefined ? { cache } : {}) };
}

/** Browser image objects a worker cannot receive become ImageBitmaps (which it can). */
async function portableImage(x) {
  if (isNode || !x || typeof x !== 'object') return x;
  const isEl = (name) => typeof globalThis[name] !== 'undefined' && x instanceof globalThis[name];
  if (isEl('HTMLImageElement') || isEl('HTMLCanvasElement') || isEl('HTMLVideoElement') || isEl('SVGImageElement')) {
    return createImageBitmap(x);
  }
  return x;
}

function stripSignal(opts) {
  if (!opts) return opts;
  const { signal: _s, onProgress: _p, ...rest } = opts;
  return rest;
}

/** An Embedder whose engine runs in a worker. */
export class WorkerEmbedder {
  /**
   * @param {string | URL | {files: Record<string, unknown>} | import('./embedder.js').PairSource} source
   * @param {import('./embedder.js').LoadOptions & {workerURL?: string | URL}} [opts]
   */
  static async load(source, opts = {}) {
    const wopts = workerOptions(opts);
    const channel = new Channel(await spawn(opts.workerURL));
    try {
      const href = (x) => (x instanceof URL ? x.href : x);   // URLs do not cross to a worker; their strings do
      const pair = /** @type {any} */ (source);
      const src = pair && typeof pair === 'object' && !(pair instanceof URL) && !('files' in pair) && ('text' in pair || 'vision' in pair)
        ? { ...pair, text: href(pair.text), vision: href(pair.vision) } : href(source);
      const r = await channel.call('load', [src, wopts], { onProgress: opts.onProgress, signal: opts.signal });
      return new WorkerEmbedder(channel, r);
    } catch (e) {
      channel.terminate(new WembedError('disposed', 'the load failed'));
      throw e;
    }
  }

  /** @private */
  constructor(channel, r) {
    this._ch = channel;
    this._h = r.handle;
    this._info = r.info;
    /** Loading warnings, one per line. */
    this.warnings = r.warnings;
    /** Files that were loaded. */
    this.files = r.files;
    /** Where the model came from. */
    this.source = r.source;
    /** The model's registry entry, if known. */
    this.registry = r.registry ?? undefined;
    /** The worker (Worker or worker_threads.Worker). */
    this.worker = channel.worker;
  }

  _call(method, args, signal, onProgress) {
    if (!this._h) return Promise.reject(new WembedError('disposed', 'this embedder was disposed'));
    return this._ch.call(method, [this._h, ...args], { signal, onProgress });
  }

  /** @returns {ReturnType<import('./embedder.js').Embedder['info']>} */
  info() {
    if (!this._h) throw new WembedError('disposed', 'this embedder was disposed');
    return { ...this._info };
  }

  /** @param {string | string[]} texts @param {import('./embedder.js').EmbedOptions} [opts] */
  embed(texts, opts) { return this._call('embed', [texts, stripSignal(opts)], opts?.signal, opts?.onProgress); }

  /** @param {Array<ArrayLike<number>>} ids @param {any} [opts] */
  embedIds(ids, opts) { return this._call('embedIds', [ids, stripSignal(opts)], opts?.signal); }

  /** @param {any} inputs @param {import('./embedder.js').EmbedOptions} [opts] */
  async embedImage(inputs, opts) {
    const list = Array.isArray(inputs) ? await Promise.all(inputs.map(portableImage)) : await portableImage(inputs);
    return this._call('embedImage', [list, stripSignal(opts)], opts?.signal);
  }

  /** @param {any} px @param {import('./embedder.js').EmbedOptions} [opts] */
  embedPixels(px, opts) { return this._call('embedPixels', [px, stripSignal(opts)], opts?.signal); }

  /** @param {any} input @param {{maxPixels?: number}} [opts] @returns {Promise<Float32Array>} */
  async preprocessImage(input, opts) { return this._call('preprocessImage', [await portableImage(input), opts]); }

  /** @param {string} text @param {import('./tokenizer.js').TokenizeOptions} [opts] */
  tokenize(text, opts) { return this._call('tokenize', [text, opts]); }

  /** @param {any} image @param {string[]} labels @param {{template?: string}} [opts] */
  async classify(image, labels, opts) { return this._call('classify', [await portableImage(image), labels, opts]); }

  /** @param {string[]} queries @param {string[]} documents @returns {Promise<{logits: Float32Array[], truncated: boolean[]}>} */
  classifyPairs(queries, documents) { return this._call('classifyPairs', [queries, documents]); }

  /** @param {Array<ArrayLike<number>>} ids @param {any} [opts] @returns {Promise<Float32Array[]>} */
  classifyIds(ids, opts) { return this._call('classifyIds', [ids, opts]); }

  /** @param {ArrayLike<number>} a @param {ArrayLike<number>} b */
  similarity(a, b) { return similarity(a, b); }

  /** Rejects every pending call with a 'disposed' error and ends the worker. */
  dispose() {
    if (!this._h) return;
    this._h = 0;
    this._ch.terminate(new WembedError('disposed', 'this embedder was disposed while the call was pending'));
  }
}
