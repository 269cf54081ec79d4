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
// Progress events, per file: {status: 'download' | 'load', file, loaded, total}, 'download'
// for bytes from the network, 'load' for bytes from the cache, disk or memory; loaded never
// decreases and total stays what it was (-1 when a server does not say). One {status: 'ready'}
// comes last.

import { WembedError, statusError, throwIfAborted } from './errors.js';
import { collect } from './download.js';
import { cString, withUTF8, withBytes } from './heap.js';
import { valueOf } from './names.js';
import { checkName } from './sources.js';

/** Staging buffer for weight chunks in the module's memory. */
const STAGE_BYTES = 1 << 20;

/**
 * @typedef {{status: 'download' | 'load', file: string, loaded: number, total: number}} FileProgress
 * @typedef {{status: 'ready', file: null, loaded: number, total: number}} ReadyProgress
 * @typedef {FileProgress | ReadyProgress} ProgressEvent
 */

/** @param {Uint8Array} bytes @param {string} name */
function parseJSON(bytes, name) {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new WembedError('bad_format', `${name} is not valid JSON: ${/** @type {any} */ (e).message}`);
  }
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

/**
 * Loads a model into engine from src. Resolves to the model pointer (owned by the caller:
 * _wembed__model_free).
 * @param {import('./engine.js').Engine} engine
 * @param {import('./sources.js').ModelSource} src
 * @param {{dtype?: import('./names.js').Dtype, file?: string, onProgress?: (e: ProgressEvent) => void, signal?: AbortSignal}} opts
 * @returns {Promise<{model: number, files: string[]}>}
 */
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

export async function loadModel(engine, src, opts = {}) {
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

  const gguf = typeof opts.file === 'string' && /\.gguf$/i.test(opts.file);
  /** @type {Map<string, Uint8Array>} */
  const small = new Map();
  async function readSmall(name, required) {
    throwIfAborted(signal);
    const f = await src.open(name);
    if (!f) {
      if (required) {
        throw new WembedError('not_found', `${src.where(name)} was not found: is ${JSON.stringify(src.id)} a model ` +
          `folder or repository${src.kind === 'hub' ? ' (and the revision right)' : ''}?`);
      }
      return null;
    }
    const bytes = await collectSmall(f, src.where(name), tracked(name, f));
    small.set(name, bytes);
    return bytes;
  }

  /** @type {any} */
  let opened = null;   // the first weights file, opened early to learn whether it exists
  /** @type {Promise<string[] | null> | null} */
  let weightsP = null;
  try {
    const cfgBytes = await readSmall('config.json', !gguf);
    if (cfgBytes) parseJSON(cfgBytes, 'config.json');   // a clear error for a file that is not JSON
    // Which files to ask for: the engine knows which towers the architecture has. An
    // unsupported one fails at load with the list of supported ones.
    const parts = cfgBytes ? engine.configParts(cfgBytes) : { text: true, vision: false };
    const vision = parts.vision;
    const textTower = parts.text || !parts.vision;

    let weightNames = null;
    weightsP = (async () => {
      if (opts.file) return null;
      opened = await src.open('model.safetensors');
      return opened ? ['model.safetensors'] : null;
    })();
    weightsP.catch(() => {});   // awaited below; this only keeps an early failure from being "unhandled"
    const optional = [];
    if (textTower) optional.push('tokenizer.json');
    if (vision) optional.push('preprocessor_config.json');
    optional.push('modules.json', 'sentence_bert_config.json');
    await Promise.all(optional.map((n) => readSmall(n, false)));
    const mods = small.get('modules.json');
    /** @type {string[]} */
    const denseWeights = [];
    if (mods) {
      const list = parseJSON(mods, 'modules.json');
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
    if (opts.file) {
      weightNames = [opts.file];
    } else if (!weightNames) {
      const idx = await readSmall('model.safetensors.index.json', false);
      if (idx) {
        const map = parseJSON(idx, 'model.safetensors.index.json')?.weight_map;
        if (!map || typeof map !== 'object') throw new WembedError('bad_format', 'model.safetensors.index.json has no "weight_map" object');
        weightNames = [...new Set(Object.values(map).map(String))].sort();
        for (const n of weightNames) checkName(n, 'model.safetensors.index.json: a shard');
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
      const addWhole = (name, bytes) => withBytes(engine, bytes, name, (p, n) => {   // one copy in
        const rc = withUTF8(engine, name, (np) => m._wembed__loader_add_file(ld, np, p, n));
        if (rc) throw fail(rc);
      });
      // config.json first: the engine needs it before safetensors weights begin.
      const order = [...small.keys()].sort((a, b) => (a === 'config.json' ? -1 : b === 'config.json' ? 1 : a < b ? -1 : 1));
      for (const name of order) addWhole(name, small.get(name));

      stage = m._malloc(STAGE_BYTES);
      if (!stage) throw new WembedError('alloc_failed', 'out of memory for the loading buffer');
      for (const name of weightNames) {
        throwIfAborted(signal);
        const f = name === 'model.safetensors' && opened ? opened : await src.open(name);
        if (f === opened) opened = null;
        if (!f) throw new WembedError('not_found', `${src.where(name)} was not found`);
        if (f.size < 0) {
          // The server gave no size, which a stream needs up front: take the file whole.
          addWhole(name, await collect(tracked(name, f)));
          continue;
        }
        let rc = withUTF8(engine, name, (np) => m._wembed__loader_begin_file(ld, np, f.size));
        if (rc) { discard(f); throw fail(rc); }
        for await (const chunk of tracked(name, f)) {
          for (let o = 0; o < chunk.byteLength; o += STAGE_BYTES) {
            const part = chunk.subarray(o, o + STAGE_BYTES);
            engine.heapU8().set(part, stage);   // the one copy into the module
            rc = m._wembed__loader_write(ld, stage, part.byteLength);
            if (rc) throw fail(rc);
          }
        }
        rc = m._wembed__loader_end_file(ld);
        if (rc) throw fail(rc);
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
