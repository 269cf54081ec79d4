// native.js - the native backend in Node: the same engine as a Node-API addon (native/), with
// the host's own SIMD kernels picked at run time, presented to js/engine.js as the Emscripten
// module it expects (`_name` exports, `_malloc`/`_free`, a memory buffer), so everything above
// the engine runs unchanged on either backend.
//
// Where the addon is looked for, first found wins (`nativeTarget()` names this platform, e.g.
// "linux-x64-gnu"):
//   1. opts.nativePath, or the environment's WEMBED_NATIVE_PATH (when given, the only place);
//   2. the platform package `wembed-<target>` (an optional dependency, as esbuild and sharp ship);
//   3. dist/wembed.<target>.node next to this package (what `scripts/build.sh node` writes).
// Nothing is compiled at install time; where none fits, createEngine's 'auto' runs the wasm module.
//
// How memory matches the wasm ABI: the addon keeps every engine allocation inside one 4 GiB
// region and hands pointers to JS as 32-bit offsets into it, and memory() is that region as
// one ArrayBuffer (native/region.h). One difference remains, arrays of pointers held in engine
// memory (an encoding's tokens: 8 bytes a pointer here, 4 in wasm32): the one export that
// returns one is wrapped below to return offsets instead.

import { WembedError } from './errors.js';

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';

/** This platform's addon name, e.g. 'linux-x64-gnu', 'linux-arm64-musl', 'darwin-arm64'. */
export function nativeTarget() {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform !== 'linux') return base;
  /** @type {any} */
  const report = process.report?.getReport?.();
  return `${base}-${report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'}`;
}

/** @type {Map<string, Promise<{addon: any, path: string} | {error: string}>>} */
const loaded = new Map();

/**
 * Loads the addon (once per path), or says why it could not.
 * @param {{nativePath?: string}} [opts]
 * @returns {Promise<{addon: any, path: string} | {error: string}>}
 */
export function loadNativeAddon(opts = {}) {
  const key = opts.nativePath ?? '';
  let p = loaded.get(key);
  if (!p) {
    p = findAddon(opts.nativePath);
    loaded.set(key, p);
  }
  return p;
}

async function findAddon(nativePath) {
  if (!isNode) return { error: 'the native backend runs in Node.js only' };
  const { createRequire } = process.getBuiltinModule('node:module');
  const { existsSync } = process.getBuiltinModule('node:fs');
  const { fileURLToPath } = process.getBuiltinModule('node:url');
  const require = createRequire(import.meta.url);
  const target = nativeTarget();
  const given = nativePath ?? process.env.WEMBED_NATIVE_PATH;
  /** @type {Array<() => string | null>} */
  const candidates = given ? [() => given] : [   // a path given is the only one tried
    () => { try { return require.resolve(`wembed-${target}/wembed.node`); } catch { return null; } },
    () => fileURLToPath(new URL(`../dist/wembed.${target}.node`, import.meta.url)),
  ];
  const tried = [];
  for (const c of candidates) {
    const path = c();
    if (!path) continue;
    if (!existsSync(path)) { tried.push(path); continue; }
    try {
      return { addon: require(path), path };
    } catch (e) {
      return { error: `the native addon ${path} does not load here: ${/** @type {Error} */ (e).message}` };
    }
  }
  return { error: `no native addon for ${target} (looked for ${given ? '' : `the package wembed-${target} and `}${tried.join(', ')})` };
}

/**
 * The addon presented as an Emscripten module: `_name` for every export, `_malloc`, `_free`,
 * `wasmMemory.buffer` and `HEAPU8` over the region.
 * @param {any} addon @returns {Record<string, any>}
 */
export function nativeModule(addon) {
  const buffer = addon.memory();
  /** @type {Record<string, any>} */
  const mod = { wasmMemory: { buffer }, HEAPU8: new Uint8Array(buffer) };
  for (const [name, fn] of Object.entries(addon)) if (name.startsWith('wembed__')) mod[`_${name}`] = fn;
  mod._malloc = addon.malloc;
  mod._free = addon.free;
  // An encoding's tokens as an array of 32-bit offsets, as JS reads it from wasm memory: made on
  // first use, freed with the encoding.
  /** @type {Map<number, number>} */
  const tokenOffsets = new Map();
  mod._wembed__encoding_tokens = (enc) => {
    let p = tokenOffsets.get(enc);
    if (p === undefined) {
      const n = addon.wembed__encoding_n(enc);
      p = addon.malloc(4 * Math.max(1, n));
      if (!p) throw new WembedError('alloc_failed', 'out of memory');
      addon.pointerOffsets(addon.wembed__encoding_tokens(enc), n, p);
      tokenOffsets.set(enc, p);
    }
    return p;
  };
  mod._wembed__encoding_free = (enc) => {
    const p = tokenOffsets.get(enc);
    if (p !== undefined) {
      tokenOffsets.delete(enc);
      addon.free(p);
    }
    addon.wembed__encoding_free(enc);
  };
  return mod;
}

/**
 * Physical cores this process may use: the distinct (package, core) pairs of /proc/cpuinfo on
 * Linux, at most the CPUs it may run on; elsewhere those CPUs. Two hyper-threads of a core share
 * its vector units, so a GEMM pool gains nothing from the second.
 * @returns {Promise<number>}
 */
export async function physicalCores() {
  const os = process.getBuiltinModule('node:os');
  const cpus = os.availableParallelism();
  if (process.platform !== 'linux') return cpus;
  try {
    const { readFileSync } = process.getBuiltinModule('node:fs');
    const cores = new Set();
    for (const block of readFileSync('/proc/cpuinfo', 'utf8').split('\n\n')) {
      const pkg = /physical id\s*:\s*(\d+)/.exec(block)?.[1];
      const core = /core id\s*:\s*(\d+)/.exec(block)?.[1];
      if (pkg !== undefined && core !== undefined) cores.add(`${pkg}:${core}`);
    }
    return Math.max(1, Math.min(cpus, cores.size || cpus));
  } catch {
    return cpus;
  }
}
