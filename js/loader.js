// loader.js - loads a model's files from a source into the engine.
//
// config.json comes first and says what else is needed: tokenizer.json (text models),
// preprocessor_config.json (vision towers), the sentence-transformers files (modules.json, the pooling
// folder's config.json named there, sentence_bert_config.json; each may be missing), and the
// weights: model.safetensors, or model.safetensors.index.json and its shards, or a GGUF file
// named by `file` (or the only one in a folder). Each Dense module of modules.json brings its
// folder's config.json and model.safetensors (streamed after the model's weights; not with a
// GGUF file, which holds its own). Small files are handed over whole. Weights stream: each chunk
// is copied once into a staging buffer in the module's memory and written to the engine's
// loader, which converts it into the model's own buffers right away. Peak memory is the model
// plus one chunk, whatever the file's size.
//
// Integrity: a file the engine (or this loader) refuses as malformed (bad_format) is evicted
// from the download cache, so the next load fetches it again instead of failing on the same
// bytes for ever; when the refusal names no file (the engine's messages start with the file's
// name when they can) or comes from the model as a whole (a missing tensor, a shape that does
// not fit), every file of the load is evicted. A download
// that finds its file changed half way (download.js: a `restart` error) starts the load again
// from the beginning, at most twice.
//
// Progress events, per file: {status: 'download' | 'load', file, loaded, total}, 'download'
// for bytes from the network, 'load' for bytes from the cache, disk or memory; loaded never
// decreases and total stays what it was (-1 when a server does not say). One {status: 'ready'}
// comes last. {status: 'debug', file, message} says why something was done (an optional file
// that came back as an HTML page is taken as missing); it is no progress.

import { WembedError, statusError, throwIfAborted } from './errors.js';
import { collect } from './download.js';
import { cString, withUTF8 } from './heap.js';
import { valueOf } from './names.js';
import { checkName } from './sources.js';

/** Staging buffer for weight chunks in the module's memory. */
const STAGE_BYTES = 1 << 20;

/**
 * @typedef {{status: 'download' | 'load', file: string, loaded: number, total: number}} FileProgress
 * @typedef {{status: 'ready', file: null, loaded: number, total: number}} ReadyProgress
 * @typedef {{status: 'debug', file: string, message: string}} DebugProgress  a note on the way (e.g. a file taken as missing)
 * @typedef {FileProgress | ReadyProgress | DebugProgress} ProgressEvent
 */

/** @param {Uint8Array} bytes @param {string} name */
function parseJSON(bytes, name) {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new WembedError('bad_format', `${name} is not valid JSON: ${/** @type {any} */ (e).message}`);
  }
}

/** True for bytes that are not JSON but a page (HTML or XML): their first non-blank byte is '<'. @param {Uint8Array} b */
function isPage(b) {
  for (const c of b) {
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xef || c === 0xbb || c === 0xbf) continue;   // blanks, a BOM
    return c === 0x3c;
  }
  return false;
}

/** Stops a file that was opened but will not be read. */
function discard(f) {
  if (!f) return;
  f.cancel?.();
  const c = /** @type {any} */ (f.chunks);
  if (typeof c.destroy === 'function') {
    c.on?.('error', () => {});   // a file stream still opening may fail after this (its folder gone): nobody reads it
    c.destroy();
  }
  else c.return?.().catch?.(() => {});
}

/** Bytes a non-weights file (config.json, tokenizer.json, ...) may have: the engine's limit (WE_SMALL_FILE_MAX in src/loader.c). */
export const SMALL_FILE_MAX = 256 * 1024 * 1024;

/**
 * Reads a non-weights file whole, refusing one over SMALL_FILE_MAX before reading it (its size
 * from stat or Content-Length) or, size unknown, as soon as its bytes pass the limit.
 * @param {{size: number, chunks: AsyncIterable<Uint8Array>}} f @param {string} where names the file in errors
 * @param {AsyncIterable<Uint8Array>} [chunks] what to read of f (default its chunks)
 * @returns {Promise<Uint8Array>}
 */
export async function collectSmall(f, where, chunks = f.chunks) {
  const over = (n) => new WembedError('limit', `${where}: ${n} bytes is over the limit of ${SMALL_FILE_MAX} for a non-weights file`);
  if (f.size > SMALL_FILE_MAX) {
    discard(f);
    throw over(f.size);
  }
  return collect((async function* bounded() {
    let n = 0;
    for await (const c of chunks) {
      n += c.byteLength;
      if (n > SMALL_FILE_MAX) throw over(`more than ${SMALL_FILE_MAX}`);
      yield c;
    }
  })(), f.size);
}

/**
 * Loads a model into engine from src. Resolves to the model pointer (owned by the caller:
 * _wembed__model_free).
 * @param {import('./engine.js').Engine} engine
 * @param {import('./sources.js').ModelSource} src
 * @param {{dtype?: import('./names.js').Dtype, file?: string, onProgress?: (e: ProgressEvent) => void, signal?: AbortSignal}} opts
 * @returns {Promise<{model: number, files: string[]}>}
 */
export async function loadModel(engine, src, opts = {}) {
  // A restarted load reads its files again from byte 0: progress it already reported is not
  // reported twice, so `loaded` never decreases.
  const best = new Map();
  const user = opts.onProgress;
  const onProgress = user && ((/** @type {ProgressEvent} */ e) => {
    if (e.status === 'download' || e.status === 'load') {
      if (e.loaded < (best.get(e.file) ?? -1)) return;
      best.set(e.file, e.loaded);
    }
    user(e);
  });
  for (let attempt = 0; ; attempt++) {
    /** @type {{current: string | null, read: string[]}} */
    const seen = { current: null, read: [] };
    try {
      return await loadOnce(engine, src, { ...opts, onProgress }, seen);
    } catch (e) {
      const code = /** @type {any} */ (e)?.code;
      if (src.evict && (code === 'bad_format' || code === 'missing_tensor' || code === 'shape_mismatch')) {
        // The file at fault: the one being handed over, else the one the engine's message names.
        const named = seen.current ?? seen.read.find((f) => String(/** @type {any} */ (e).message).startsWith(`${f}:`));
        const names = code === 'bad_format' && named ? [named] : seen.read;
        await Promise.all(names.map((n) => src.evict?.(n)));
      }
      if (/** @type {any} */ (e)?.restart && attempt < 2) continue;
      throw e;
    }
  }
}

/** One try of loadModel; `seen` tracks the file being read or handed over, and every file read. */
async function loadOnce(engine, src, opts, seen) {
  const m = engine.module;
  const signal = opts.signal;
  const dtype = opts.dtype ?? 'f32';
  const dtypeValue = valueOf(engine.consts, 'dtype', dtype);
  const onProgress = opts.onProgress;
  let totalBytes = 0;
  const emit = (e) => {
    if (!onProgress) return;
    try { onProgress(e); } catch { /* a listener's bug must not break the load */ }
  };

  /** Reads chunks of an opened file, reporting progress; yields each chunk. */
  async function* tracked(name, f) {
    const status = f.from === 'network' ? 'download' : 'load';
    let loaded = 0;
    emit({ status, file: name, loaded, total: f.size });
    for await (const c of f.chunks) {
      throwIfAborted(signal);
      const v = c instanceof Uint8Array ? c : new Uint8Array(c);
      loaded += v.byteLength;
      emit({ status, file: name, loaded, total: f.size });
      yield v;
    }
    totalBytes += loaded;
  }

  // The weights file: `file`, else a folder's only .gguf when the folder has no config.json
  // (a GGUF holds its own configuration), else what config.json's folder holds (below).
  let file = opts.file;
  if (!file) {
    const names = await src.list();
    const ggufs = names?.filter((n) => /\.gguf$/i.test(n)) ?? [];
    if (names && !names.includes('config.json') && ggufs.length === 1) file = ggufs[0];
  }
  const gguf = typeof file === 'string' && /\.gguf$/i.test(file);
  /** @type {Map<string, Uint8Array>} */
  const small = new Map();
  async function readSmall(name, required) {
    throwIfAborted(signal);
    const f = await src.open(name);
    if (f) seen.read.push(name);
    if (!f) {
      if (required) {
        throw new WembedError('not_found', `${src.where(name)} was not found: is ${JSON.stringify(src.id)} a model ` +
          `folder or repository${src.kind === 'hub' ? ' (and the revision right)' : ''}?`);
      }
      return null;
    }
    const bytes = await collectSmall(f, src.where(name), tracked(name, f));
    if (!required && /\.json$/.test(name) && isPage(bytes)) {
      // A static host with an SPA fallback (vite dev, many CDNs) answers a missing file with
      // its index.html and status 200: that is a missing file, not a broken one.
      emit({ status: 'debug', file: name, message: `${src.where(name)} is an HTML page, not JSON: taken as missing (a server that answers missing files with a page)` });
      return null;
    }
    small.set(name, bytes);
    return bytes;
  }

  /** @type {any} */
  let opened = null;   // the first weights file, opened early to learn whether it exists
  /** @type {Promise<string[] | null> | null} */
  let weightsP = null;
  try {
    const cfgBytes = await readSmall('config.json', !gguf);
    seen.current = 'config.json';
    if (cfgBytes) parseJSON(cfgBytes, 'config.json');   // a clear error for a file that is not JSON
    // Which files to ask for: the engine knows which towers the architecture has. An
    // unsupported one fails at load with the list of supported ones.
    const parts = cfgBytes ? engine.configParts(cfgBytes) : { text: true, vision: false };
    seen.current = null;
    const vision = parts.vision;
    const textTower = parts.text || !parts.vision;

    let weightNames = null;
    weightsP = (async () => {
      if (file) return null;
      opened = await src.open('model.safetensors');
      return opened ? ['model.safetensors'] : null;
    })();
    weightsP.catch(() => {});   // awaited below; this only keeps an early failure from being "unhandled"
    const optional = [];
    if (textTower) optional.push('tokenizer.json');
    if (vision) optional.push('preprocessor_config.json');
    optional.push('modules.json');
    await Promise.all(optional.map((n) => readSmall(n, false)));
    const mods = small.get('modules.json');
    // sentence_bert_config.json belongs to a sentence-transformers model: without modules.json
    // sentence-transformers never reads it (it builds Transformer + mean pooling), so neither do we.
    if (mods) await readSmall('sentence_bert_config.json', false);
    /** @type {string[]} */
    const denseWeights = [];
    if (mods) {
      seen.current = 'modules.json';
      const list = parseJSON(mods, 'modules.json');
      seen.current = null;
      const pool = Array.isArray(list) ? list.find((x) => typeof x?.type === 'string' && x.type.endsWith('.Pooling')) : null;
      if (pool && typeof pool.path === 'string') {
        if (pool.path) checkName(pool.path, 'modules.json: the pooling module\'s path');
        await readSmall(pool.path ? `${pool.path}/config.json` : 'config.json', false);
      }
      const dense = Array.isArray(list) && !gguf ? list.filter((x) => typeof x?.type === 'string' && x.type.endsWith('.Dense') && typeof x.path === 'string' && x.path) : [];
      for (const x of dense) {
        checkName(x.path, 'modules.json: a Dense module\'s path');
        await readSmall(`${x.path}/config.json`, false);
        denseWeights.push(`${x.path}/model.safetensors`);
      }
    }

    weightNames = await weightsP;
    if (file) {
      weightNames = [file];
    } else if (!weightNames) {
      const idx = await readSmall('model.safetensors.index.json', false);
      if (idx) {
        seen.current = 'model.safetensors.index.json';
        const map = parseJSON(idx, 'model.safetensors.index.json')?.weight_map;
        if (!map || typeof map !== 'object') throw new WembedError('bad_format', 'model.safetensors.index.json has no "weight_map" object');
        weightNames = [...new Set(Object.values(map).map(String))].sort();
        for (const n of weightNames) checkName(n, 'model.safetensors.index.json: a shard');
        seen.current = null;
      } else {
        const names = (await src.list()) ?? [];
        const ggufs = names.filter((n) => /\.gguf$/i.test(n));
        if (ggufs.length === 1) weightNames = ggufs;
        else if (ggufs.length > 1) {
          throw new WembedError('invalid_argument', `${src.id} holds several GGUF files (${ggufs.join(', ')}): choose one with { file }`);
        } else {
          const onnx = /(^|\/)(Xenova|onnx-community)\//.test(src.id) ? ' This looks like an ONNX conversion: use the original model\'s repository (with safetensors weights).' : '';
          throw new WembedError('not_found', `no weights at ${src.where('')}: wembed reads model.safetensors, ` +
            `model.safetensors.index.json with its shards, or a GGUF file named by { file }.${onnx}`);
        }
      }
    }

    if (!weightNames.some((n) => /\.gguf$/i.test(n))) weightNames = [...weightNames, ...denseWeights];

    // Everything is known: hand it to the engine.
    const ld = m._wembed__loader_new(dtypeValue, engine.threads, engine.pool);
    if (!ld) throw new WembedError('alloc_failed', 'out of memory starting a model loader');
    const fail = (rc) => statusError(engine.status, rc, cString(engine, m._wembed__loader_last_error(ld)));
    let stage = 0;
    try {
      stage = m._malloc(STAGE_BYTES);
      if (!stage) throw new WembedError('alloc_failed', 'out of memory for the loading buffer');
      // Every file goes in through the one staging buffer: the engine holds a file once (a small
      // file whole, where it is parsed; a weights file's tensors in their final layout), never
      // also a second copy made here (a 33 MB tokenizer.json would leave that much behind).
      /** @param {Uint8Array} chunk */
      const write = (chunk) => {
        for (let o = 0; o < chunk.byteLength; o += STAGE_BYTES) {
          const part = chunk.subarray(o, o + STAGE_BYTES);
          engine.heapU8().set(part, stage);   // the one copy into the module
          const rc = m._wembed__loader_write(ld, stage, part.byteLength);
          if (rc) throw fail(rc);
        }
      };
      const addWhole = (name, bytes) => {
        seen.current = name;
        const rc = withUTF8(engine, name, (np) => m._wembed__loader_begin_file(ld, np, bytes.byteLength));
        if (rc) throw fail(rc);
        write(bytes);
        const end = m._wembed__loader_end_file(ld);
        if (end) throw fail(end);
        seen.current = null;
      };
      // config.json first: the engine needs it before safetensors weights begin.
      const order = [...small.keys()].sort((a, b) => (a === 'config.json' ? -1 : b === 'config.json' ? 1 : a < b ? -1 : 1));
      for (const name of order) addWhole(name, small.get(name));

      for (const name of weightNames) {
        throwIfAborted(signal);
        const f = name === 'model.safetensors' && opened ? opened : await src.open(name);
        if (f === opened) opened = null;
        if (!f) throw new WembedError('not_found', `${src.where(name)} was not found`);
        seen.read.push(name);
        seen.current = name;
        if (f.size < 0) {
          // The server gave no size, which a stream needs up front: take the file whole.
          addWhole(name, await collect(tracked(name, f)));
          continue;
        }
        let rc = withUTF8(engine, name, (np) => m._wembed__loader_begin_file(ld, np, f.size));
        if (rc) { discard(f); throw fail(rc); }
        for await (const chunk of tracked(name, f)) write(chunk);
        rc = m._wembed__loader_end_file(ld);
        if (rc) throw fail(rc);
        seen.current = null;
      }
      const model = m._wembed__loader_finish(ld);
      if (!model) throw fail(m._wembed__loader_write(ld, 0, 0) || engine.status.internal);
      emit({ status: 'ready', file: null, loaded: totalBytes, total: totalBytes });
      return { model, files: [...order, ...weightNames] };
    } finally {
      if (stage) m._free(stage);
      m._wembed__loader_free(ld);
    }
  } finally {
    await weightsP?.catch(() => null);
    discard(opened);
  }
}
