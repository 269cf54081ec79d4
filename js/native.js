// native.js - the native backend in Node: the same engine as a Node-API addon (native/), with
// the host's own SIMD kernels picked at run time, presented to js/engine.js as the Emscripten
// module it expects (`_name` exports, `_malloc`/`_free`, a memory buffer), so everything above
// the engine runs unchanged on either backend.
//
// Where the addon is looked for, first found wins (`nativeTarget()` names this platform, e.g.
// "linux-x64-gnu"):
//   1. opts.nativePath, or the environment's WEMBED_NATIVE_PATH (when given, the only place);
//   2. the platform package `wembed-<target>` (an optional dependency, as esbuild and sharp ship;
//      its `main` is the .node file; npm/README.md);
//   3. dist/wembed.<target>.node next to this package (what `scripts/build.sh node` writes in a
//      checkout; the published package does not pack it).
// Nothing is compiled at install time; where none fits, createEngine's 'auto' runs the wasm
// module and says so once (fallbackWarning).
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
    () => { try { return require.resolve(`wembed-${target}`); } catch { return null; } },
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

let warned = false;

/**
 * Says once per process that 'auto' fell back to the wasm module in Node, why, and what to do:
 * a Node user would otherwise run 2-4x slower without knowing. A process warning (code
 * WEMBED_NATIVE_FALLBACK): printed on stderr, or caught with process.on('warning').
 * @param {string} why loadNativeAddon's error
 */
export function fallbackWarning(why) {
  if (warned || !isNode) return;
  warned = true;
  process.emitWarning(`wembed: running the WebAssembly engine, not the native addon: ${why}. ` +
    `The native addon comes with the optional dependency wembed-${nativeTarget()} where one is published for this platform ` +
    `(an install with --omit=optional or --no-optional leaves it out). Pass backend: 'wasm' to choose the wasm engine without this message.`,
  { type: 'WembedWarning', code: 'WEMBED_NATIVE_FALLBACK' });
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
 * Physical cores this process may use: on Linux, the CPUs it may run on (Cpus_allowed_list of
 * /proc/self/status: its affinity, a container's cpuset) counted once per (package, core) from
 * /sys/devices/system/cpu/cpuN/topology, at most availableParallelism() (which also honours a
 * cgroup CPU quota on Node >= 22); elsewhere, or where the files are missing or unreadable,
 * availableParallelism(). Two hyper-threads of one core share its vector units, so a second
 * GEMM worker on the same core only competes for them.
 * @param {(path: string) => string} [read] reads a file as text (tests give a fake machine)
 * @returns {Promise<number>}
 */
export async function physicalCores(read) {
  const os = process.getBuiltinModule('node:os');
  const cpus = os.availableParallelism();
  if (process.platform !== 'linux') return cpus;
  try {
    const { readFileSync } = process.getBuiltinModule('node:fs');
    const text = read ?? ((f) => readFileSync(f, 'utf8'));
    const allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(text('/proc/self/status'))?.[1];
    if (!allowed) return cpus;
    const cores = new Set();
    for (const range of allowed.split(',')) {
      const [a, b = a] = range.split('-').map(Number);
      for (let c = a; c <= b; c++) {
        const topo = `/sys/devices/system/cpu/cpu${c}/topology/`;
        cores.add(`${text(topo + 'physical_package_id').trim()}:${text(topo + 'core_id').trim()}`);
      }
    }
    return Math.max(1, Math.min(cpus, cores.size || cpus));
  } catch {
    return cpus;
  }
}
