// wasi-engine.js - the WASI module (dist/wembed.wasi.wasm, wasm/wasi.cmake: a reactor without
// threads, for server-side runtimes) under node:wasi, as an Engine of js/engine.js, for the
// benchmark's node-wasi environment (bench/engines.js). The package itself runs the Emscripten
// modules and the addon, not this one; the module exports the same wembed__* functions, so its
// exports are dressed as the Emscripten module's (`_name`, HEAPU8, _malloc/_free) the way
// js/native.js dresses the addon, and the package's Embedder runs on it through `engine`.
import fs from 'node:fs';
import { WASI } from 'node:wasi';
import { Engine } from '../js/engine.js';

const WASI_WASM = new URL('../dist/wembed.wasi.wasm', import.meta.url);

/**
 * Instantiates the WASI module and starts its engine (one thread: WASI has none).
 * @param {URL | string} [wasmPath] @returns {Promise<Engine>}
 */
export async function createWasiEngine(wasmPath = WASI_WASM) {
  const wasi = new WASI({ version: 'preview1', args: [], env: {}, returnOnExit: true });
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmPath), wasi.getImportObject());
  wasi.initialize(instance);
  const x = /** @type {any} */ (instance.exports);
  const memory = /** @type {WebAssembly.Memory} */ (x.memory);
  let u8 = new Uint8Array(memory.buffer);
  /** @type {Record<string, any>} */
  const mod = {
    wasmMemory: memory,
    // A grown memory has a new buffer (the old one is detached): a fresh view then, as
    // Emscripten's glue keeps HEAPU8 current.
    get HEAPU8() {
      if (u8.buffer !== memory.buffer) u8 = new Uint8Array(memory.buffer);
      return u8;
    },
  };
  for (const [name, fn] of Object.entries(x)) if (name.startsWith('wembed__')) mod[`_${name}`] = fn;
  mod._malloc = x.malloc;
  mod._free = x.free;
  return new Engine(mod, 'st', 1, 'simd128', 'wasm');
}
