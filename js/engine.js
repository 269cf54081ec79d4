// engine.js - loads the wembed WebAssembly module that fits the host, and wraps its exports.
//
// dist/ has two builds, each in two flavours:
//   wembed.wasm          SIMD128, one thread          wembed-relaxed.wasm      + relaxed SIMD
//   wembed-mt.wasm       SIMD128 + pthreads           wembed-mt-relaxed.wasm   + relaxed SIMD
// The threaded one needs SharedArrayBuffer: always there in Node, and in browsers only on
// cross-origin isolated pages (COOP same-origin + COEP require-corp). `variant: 'auto'` picks
// it where it can run and falls back to the single-thread module otherwise. The relaxed
// flavour is the same engine with the int8 GEMM on relaxed SIMD's dot product (much faster
// where the CPU has a byte dot product, e.g. x86 with VNNI: bench/results/gemm.md and
// notes.md); `simd: 'auto'` takes it where the host validates relaxed SIMD (e.g. Chromium >=
// 114, Node >= 22; not Node 20). Inside, the engine checks the instruction computes exactly
// and otherwise keeps the SIMD128 kernel, so both flavours give bit-identical results. A
// flavour shares its build's glue (.mjs).
//
// In Node the same engine also exists as a native addon (js/native.js): `backend: 'auto'` runs
// it where a binary for the platform is present, the wasm module otherwise; 'native' and 'wasm'
// ask for one. Both give the same results within rounding (README "Backends").
//
// The .wasm is located with a literal `new URL('../dist/...', import.meta.url)` so bundlers
// see and copy it; `wasmURL` / `wasmBinary` override that. We always hand the bytes (or the
// compiled module) to Emscripten's glue ourselves: its own loader breaks on Node 20's fetch
// (docs/TOOLCHAIN.md), and this way browsers get streaming compilation.

import { WembedError } from './errors.js';
import { cString } from './heap.js';
import { checkKeys, ENGINE_OPTIONS } from './options.js';
import { fallbackWarning, loadNativeAddon, nativeModule, physicalCores } from './native.js';

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';

/** Largest pool the threaded module is built to give (wasm/emscripten.cmake caps workers). */
export const MAX_THREADS = 8;

/**
 * @typedef {'auto' | 'mt' | 'st'} EngineVariant
 * @typedef {'auto' | 'relaxed' | 'simd128'} EngineSimd
 * @typedef {'auto' | 'wasm' | 'native'} EngineBackend
 *
 * @typedef {object} EngineOptions
 * @property {EngineBackend} [backend='auto'] 'native' = the Node addon (Node only), 'wasm' = the
 *   WebAssembly module; 'auto' (or the environment's WEMBED_BACKEND in Node) takes the addon in
 *   Node when one for this platform is present and no wasm option (wasmURL, wasmBinary, simd)
 *   says otherwise.
 * @property {string} [nativePath] Where the addon (.node) is (js/native.js says where it is
 *   looked for otherwise).
 * @property {EngineVariant} [variant='auto'] 'mt' = threaded module, 'st' = single thread.
 * @property {EngineSimd} [simd='auto'] 'relaxed' = the relaxed-SIMD flavour of the module,
 *   'simd128' = plain SIMD128; 'auto' takes relaxed where the host validates it.
 * @property {number} [threads] Threads for the compute pool (default: the CPUs, at most 8;
 *   the physical cores on the native backend; always 1 for 'st').
 * @property {string | URL} [wasmURL] Where the .wasm of the chosen variant is.
 * @property {ArrayBuffer | Uint8Array} [wasmBinary] The .wasm bytes themselves.
 * @property {string | URL} [workerURL] Where wembed-mt.worker.js is ('mt' only; it must be
 *   same-origin in browsers).
 */

/** True where the threaded module can run here. */
export function threadsSupported() {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  if (isNode) return true;
  return globalThis.crossOriginIsolated === true;
}

// A module whose one function runs i32x4.relaxed_dot_i8x16_i7x16_add_s on three v128 zeros.
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,      // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,            // type: () -> v128
  0x03, 0x02, 0x01, 0x00,                              // function 0 of type 0
  0x0a, 0x3d, 0x01, 0x3b, 0x00,                        // code: one body of 59 bytes, no locals
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array(16).fill(0)]),   // v128.const 0, three times
  0xfd, 0x93, 0x02,                                    // i32x4.relaxed_dot_i8x16_i7x16_add_s
  0x0b,                                                // end
]);

/** True where this host's WebAssembly has relaxed SIMD (the relaxed flavour can load). */
export function relaxedSimdSupported() {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

async function defaultThreads() {
  const n = isNode
    ? process.getBuiltinModule('node:os').availableParallelism()
    : (globalThis.navigator?.hardwareConcurrency ?? 1);
  return Math.max(1, Math.min(MAX_THREADS, n | 0));
}

async function readLocal(url) {
  const { readFile } = process.getBuiltinModule('node:fs/promises');
  const { fileURLToPath } = process.getBuiltinModule('node:url');
  return readFile(url instanceof URL ? fileURLToPath(url) : url);
}

/**
 * Gives Emscripten an `instantiateWasm` hook that compiles from our bytes or URL.
 * @param {{wasmBinary?: ArrayBuffer|Uint8Array, wasmURL: URL|string, reject: (e: unknown) => void}} src
 */
function instantiateHook(src) {
  return (imports, receive) => {
    (async () => {
      /** @type {{instance: WebAssembly.Instance, module: WebAssembly.Module}} */
      let result;
      if (src.wasmBinary) {
        result = await WebAssembly.instantiate(/** @type {BufferSource} */ (src.wasmBinary), imports);
      } else if (isNode && (typeof src.wasmURL === 'string' ? !/^https?:/.test(src.wasmURL) : src.wasmURL.protocol === 'file:')) {
        result = await WebAssembly.instantiate(await readLocal(src.wasmURL), imports);
      } else {
        const response = await fetch(src.wasmURL, { credentials: 'same-origin' });
        if (!response.ok) {
          throw new WembedError('network', `could not fetch ${src.wasmURL}: HTTP ${response.status}`);
        }
        if (typeof WebAssembly.instantiateStreaming === 'function' &&
            (response.headers.get('content-type') || '').startsWith('application/wasm')) {
          result = await WebAssembly.instantiateStreaming(response, imports);
        } else {
          result = await WebAssembly.instantiate(await response.arrayBuffer(), imports);
        }
      }
      receive(result.instance, result.module);
    })().catch((e) => src.reject(e));
    return {};   // exports arrive through receive()
  };
}

/**
 * The files of one build of the modules: the glue of each variant, and the .wasm of each variant
 * and flavour.
 * @typedef {object} ModuleFiles
 * @property {(variant: 'mt'|'st') => Promise<{default: (moduleArg?: Record<string, unknown>) => Promise<any>}>} glue
 * @property {(variant: 'mt'|'st', simd: 'relaxed'|'simd128') => URL} wasm
 * @property {() => {worker: URL, glue: URL}} [pthread] the threaded module's pthread worker script
 *   and the glue it imports (browsers; where absent, the glue finds them beside itself)
 */

/** The shipped modules, at literal URLs so that bundlers find and copy them. @type {ModuleFiles} */
const SHIPPED = {
  glue: (variant) => (variant === 'mt' ? import('../dist/wembed-mt.mjs') : import('../dist/wembed.mjs')),
  wasm: (variant, simd) => (variant === 'mt'
    ? (simd === 'relaxed' ? new URL('../dist/wembed-mt-relaxed.wasm', import.meta.url) : new URL('../dist/wembed-mt.wasm', import.meta.url))
    : (simd === 'relaxed' ? new URL('../dist/wembed-relaxed.wasm', import.meta.url) : new URL('../dist/wembed.wasm', import.meta.url))),
  // Literal URLs too: a bundler copies both files as they are, so a bundled page starts its
  // threads with nothing to copy by hand (the bundled glue's own URL is a chunk's, which the
  // worker cannot import as the glue). `?no-inline`: Vite would inline the small worker script
  // as a data: URL, whose opaque origin can neither import the glue nor share the memory.
  pthread: () => ({ worker: new URL('../dist/wembed-mt.worker.js?no-inline', import.meta.url), glue: new URL('../dist/wembed-mt.mjs', import.meta.url) }),
};

/** How long a browser may take to start the threaded module's workers before createEngine fails. */
const PTHREAD_START_MS = 15000;

/**
 * Loads and starts the engine module.
 * @param {EngineOptions} [opts]
 * @returns {Promise<Engine>}
 */
export async function createEngine(opts = {}) {
  const want = opts.backend ?? (isNode ? process.env.WEMBED_BACKEND : undefined) ?? 'auto';
  if (!['auto', 'wasm', 'native'].includes(want)) {
    throw new WembedError('invalid_argument', `backend must be 'auto', 'wasm' or 'native', not ${JSON.stringify(want)}`);
  }
  const wasmAsked = opts.wasmURL !== undefined || opts.wasmBinary !== undefined || (opts.simd ?? 'auto') !== 'auto';
  if (want === 'native' || (want === 'auto' && isNode && !wasmAsked)) {
    const found = await loadNativeAddon({ nativePath: opts.nativePath });
    if ('addon' in found) return startNative(opts, found.addon, found.path);
    if (want === 'native') throw new WembedError('unsupported', `${found.error}; use backend 'wasm' or 'auto'`);
    const engine = await startEngine(opts, SHIPPED);
    engine.nativeError = found.error;
    fallbackWarning(found.error);
    return engine;
  }
  return startEngine(opts, SHIPPED);
}

/** The checks of the options both backends take; the variant asked for. @param {EngineOptions} opts */
function checkOptions(opts) {
  const want = opts.variant ?? 'auto';
  if (!['auto', 'mt', 'st'].includes(want)) {
    throw new WembedError('invalid_argument', `variant must be 'auto', 'mt' or 'st', not ${JSON.stringify(want)}`);
  }
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) {
    throw new WembedError('invalid_argument', `threads must be a positive integer, not ${opts.threads}`);
  }
  return want;
}

/**
 * The engine on the native addon: threads default to the physical cores ('st': one).
 * @param {EngineOptions} opts @param {any} addon @param {string} path @returns {Promise<Engine>}
 */
async function startNative(opts, addon, path) {
  const want = checkOptions(opts);
  const wantThreads = Math.max(1, Math.min(MAX_THREADS, opts.threads ?? await physicalCores()));
  const threads = want === 'st' ? 1 : wantThreads;
  const engine = new Engine(nativeModule(addon), threads > 1 ? 'mt' : 'st', threads, 'native', 'native');
  engine.nativePath = path;
  return engine;
}

/**
 * createEngine on the files of another build of the modules (js/bench.js starts the bench build).
 * @param {EngineOptions} opts @param {ModuleFiles} files
 * @returns {Promise<Engine>}
 */
export async function startEngine(opts, files) {
  checkKeys(opts, ENGINE_OPTIONS, 'createEngine');
  const want = checkOptions(opts);
  if (want === 'mt' && !threadsSupported()) {
    throw new WembedError('unsupported', 'the threaded module needs SharedArrayBuffer: serve the page with ' +
      'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, or use variant "st"');
  }
  const wantSimd = opts.simd ?? 'auto';
  if (!['auto', 'relaxed', 'simd128'].includes(wantSimd)) {
    throw new WembedError('invalid_argument', `simd must be 'auto', 'relaxed' or 'simd128', not ${JSON.stringify(wantSimd)}`);
  }
  if (wantSimd === 'relaxed' && !relaxedSimdSupported()) {
    throw new WembedError('unsupported', 'this WebAssembly engine has no relaxed SIMD (Chromium >= 114 and ' +
      'Node.js >= 22 have it, Node.js 20 does not): use simd "simd128" or "auto"');
  }
  const wantThreads = Math.max(1, Math.min(MAX_THREADS, opts.threads ?? await defaultThreads()));
  // 'auto' takes the threaded module only when there is a second thread to run: the
  // single-thread module is smaller and starts faster.
  const variant = want === 'auto' ? (threadsSupported() && wantThreads > 1 ? 'mt' : 'st') : want;
  const threads = variant === 'st' ? 1 : wantThreads;

  // With wasmURL / wasmBinary the caller says which flavour it is (by its name, if any).
  const simd = opts.wasmBinary || opts.wasmURL
    ? (/-relaxed\.wasm$/.test(String(opts.wasmURL ?? '')) ? 'relaxed' : 'simd128')
    : wantSimd === 'auto' ? (relaxedSimdSupported() ? 'relaxed' : 'simd128') : wantSimd;

  const wasmURL = opts.wasmURL ?? files.wasm(variant, simd);
  const glue = (await files.glue(variant)).default;

  let reject;
  const failed = new Promise((_, r) => { reject = r; });
  /** @type {Record<string, any>} */
  const moduleArg = {
    instantiateWasm: instantiateHook({ wasmBinary: opts.wasmBinary, wasmURL, reject }),
    print: (s) => console.log(s),
    printErr: (s) => console.error(s),
  };
  if (variant === 'mt') {
    // One worker per pool thread besides the caller's, created before any pthread_create:
    // a browser's main thread cannot wait for a worker to start. At least one: 3.1.6's glue
    // never finishes starting with an empty pool (it waits for the pool to load).
    moduleArg.poolSize = Math.max(1, threads - 1);
    const shipped = !isNode ? files.pthread?.() : undefined;
    const workerURL = opts.workerURL ? String(opts.workerURL) : shipped?.worker.href;
    if (workerURL) moduleArg.locateFile = (file, dir) => (file.endsWith('.worker.js') ? workerURL : dir + file);
    if (shipped) moduleArg.mainScriptUrlOrBlob = shipped.glue.href;
  }
  let timer;
  if (variant === 'mt' && !isNode) {
    timer = setTimeout(() => reject(new WembedError('worker', `the threaded module's ${moduleArg.poolSize} worker(s) did not start ` +
      `within ${PTHREAD_START_MS / 1000} s (worker script: ${moduleArg.locateFile ? moduleArg.locateFile('wembed-mt.worker.js', '') : 'beside the glue'}); ` +
      'check that it and wembed-mt.mjs are served from this origin, or use variant "st"')), PTHREAD_START_MS);
  }
  try {
    const started = glue(moduleArg);
    if (variant === 'mt' && !isNode) watchWorkers(moduleArg, reject);
    const mod = await Promise.race([started, failed]);
    return new Engine(mod, variant, threads, simd);
  } catch (e) {
    if (variant === 'mt') failedStart(moduleArg);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Fails the start when a pool worker reports an error: its script did not load, or it threw
 * while starting (the glue it imports did not load: dist/wembed-mt.worker.js rethrows that).
 * The glue would otherwise wait for the pool forever; its own error handler is attached only
 * once the module is compiled, after a missing script has already failed. The glue has made
 * the pool's workers by the time its factory returns.
 */
function watchWorkers(moduleArg, reject) {
  const where = moduleArg.locateFile ? moduleArg.locateFile('wembed-mt.worker.js', '') : 'wembed-mt.worker.js beside the glue';
  for (const w of moduleArg.PThread?.unusedWorkers ?? []) {
    w.addEventListener('error', (ev) => {
      reject(new WembedError('worker', `a thread of the threaded module failed to start (${ev.message || 'its script did not load'}): ` +
        `its worker script (${where}) and the glue it imports (wembed-mt.mjs) must be served from this origin as ` +
        'JavaScript; pass createEngine({ variant: "mt", workerURL }) with the worker\'s URL, or use variant "st"'));
    }, { once: true });
  }
}

/** Ends the workers of a threaded module whose start failed (they would keep a page busy). */
function failedStart(moduleArg) {
  try {
    const pt = moduleArg.PThread;
    for (const w of [...(pt?.unusedWorkers ?? []), ...(pt?.runningWorkers ?? [])]) w.terminate();
  } catch { /* nothing more to do */ }
}

/** A started engine module: one compute pool, the raw exports, and disposal. */
export class Engine {
  /**
   * @param {any} mod @param {'mt'|'st'} variant @param {number} threads
   * @param {'relaxed'|'simd128'|'native'} [simd] @param {'wasm'|'native'} [backend]
   */
  constructor(mod, variant, threads, simd = 'simd128', backend = 'wasm') {
    /**
     * The Emscripten module (exports as `_name`, heap views), or the native addon dressed as one
     * (js/native.js). For the package's own use.
     */
    this.module = mod;
    /** Which engine runs: the WebAssembly module or the Node addon. @type {'wasm'|'native'} */
    this.backend = backend;
    /** Threaded ('mt') or not. @type {'mt'|'st'} */
    this.variant = variant;
    /** Which flavour of the module runs ('native' on the addon). @type {'relaxed'|'simd128'|'native'} */
    this.simd = simd;
    /** With backend 'auto' on the wasm module in Node: why the addon was not taken. @type {string | undefined} */
    this.nativeError = undefined;
    /** On the native backend: the addon's file. @type {string | undefined} */
    this.nativePath = undefined;
    this._pool = mod._wembed__pool_new(threads);
    if (!this._pool) throw new WembedError('alloc_failed', `could not start a pool of ${threads} threads`);
    /** Threads in the compute pool (the caller's included). */
    this.threads = mod._wembed__pool_n_threads(this._pool);
    /** Engine version, e.g. "0.1.0". */
    this.version = cString(this, mod._wembed__version());
    /**
     * What the module runs, e.g. "simd128 threads wasm32", or "simd128 relaxed-dot-u8 wasm32"
     * when the int8 GEMM uses relaxed SIMD's dot product.
     */
    this.systemInfo = cString(this, mod._wembed__system_info());
    /**
     * Names and their numbers, from the engine itself, so that JS repeats no list and no number:
     * `status`, `default` (the embed params' sentinels) and every option that takes a name
     * (`dtype`, `pooling`, `truncate`, `rope_scaling`, `ntk_length`, `quantize`: src/wembed.h's
     * WEMBED_OPTION_NAMES; see js/names.js).
     * @type {Record<string, Record<string, number>>}
     */
    this.consts = JSON.parse(cString(this, mod._wembed__consts_json()));
    /** Status codes by name. @type {Record<string, number>} */
    this.status = this.consts.status;
    this._disposed = false;
    if (isNode && variant === 'mt' && backend === 'wasm') {
      // Idle pool threads must not keep a Node process alive once the caller is done.
      for (const w of [...mod.PThread.runningWorkers, ...mod.PThread.unusedWorkers]) w.unref?.();
    }
  }

  /** Pointer to the engine's thread pool, for calls that take one. */
  get pool() {
    this._check();
    return this._pool;
  }

  /**
   * The module's memory as bytes, current after any call that may have grown it (a worker
   * thread may grow a shared memory without the glue's own views noticing).
   * @returns {Uint8Array}
   */
  heapU8() {
    const m = this.module;
    if (this.variant === 'st') return m.HEAPU8;
    const buf = m.wasmMemory.buffer;
    if (!this._u8 || this._u8.byteLength !== buf.byteLength) this._u8 = new Uint8Array(buf);
    return this._u8;
  }

  /**
   * Which parts a model's config.json describes, as the engine's model families read it:
   * { text, vision } (both false when its architecture is not supported).
   * @param {Uint8Array} configBytes @returns {{ text: boolean, vision: boolean }}
   */
  configParts(configBytes) {
    this._check();
    const m = this.module;
    const p = m._malloc(Math.max(1, configBytes.byteLength));
    if (!p) throw new WembedError('alloc_failed', 'out of memory');
    try {
      this.heapU8().set(configBytes, p);
      const f = m._wembed__config_parts(p, configBytes.byteLength);
      return { text: (f & 1) !== 0, vision: (f & 2) !== 0 };
    } finally {
      m._free(p);
    }
  }

  /** Live engine allocations (a leak check for tests). */
  liveAllocations() {
    this._check();
    return this.module._wembed__alloc_live();
  }

  /** Frees the pool and stops the module's workers. Further calls throw. */
  dispose() {
    if (this._disposed) return;
    this._disposed = true;
    this.module._wembed__pool_free(this._pool);
    this._pool = 0;
    if (this.variant === 'mt' && this.backend === 'wasm') this.module.PThread.terminateAllThreads();
  }

  _check() {
    if (this._disposed) throw new WembedError('disposed', 'this engine was disposed');
  }
}
