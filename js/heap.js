// heap.js - copying strings and arrays into and out of the engine's wasm memory: the one copy in,
// the one copy out, and the free in `finally`. Every function takes the Engine and reads its heap
// through engine.heapU8() at the moment it needs it, so a view is never older than the last call
// that may have grown the memory (another thread may grow a shared memory, too).

import { WembedError } from './errors.js';

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

const shared = (buf) => typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer;

/**
 * Writes s as UTF-8 at ptr (at most cap bytes) and returns the bytes written. Straight into the
 * heap where the engine's memory is not shared; browsers refuse encodeInto on a shared view
 * (the threaded module), so there it goes through one temporary.
 * @param {import('./engine.js').Engine} engine @param {string} s @param {number} ptr @param {number} cap
 */
export function encodeIntoHeap(engine, s, ptr, cap) {
  const heap = engine.heapU8();
  if (!shared(heap.buffer)) return utf8.encodeInto(s, heap.subarray(ptr, ptr + cap)).written;
  const bytes = utf8.encode(s);
  if (bytes.byteLength > cap) throw new WembedError('internal', 'UTF-8 longer than its bound');
  heap.set(bytes, ptr);
  return bytes.byteLength;
}

/**
 * Copies a string into the module as NUL-terminated UTF-8 (one copy), runs fn(ptr, len) with
 * len its bytes without the NUL, frees it.
 * @template T
 * @param {import('./engine.js').Engine} engine @param {string} s
 * @param {(ptr: number, len: number) => T} fn @returns {T}
 */
export function withUTF8(engine, s, fn) {
  const m = engine.module;
  const cap = s.length * 3 + 1;
  const p = m._malloc(cap);
  if (!p) throw new WembedError('alloc_failed', `out of memory for a text of ${s.length} characters`);
  try {
    const len = encodeIntoHeap(engine, s, p, cap - 1);
    engine.heapU8()[p + len] = 0;
    return fn(p, len);
  } finally {
    m._free(p);
  }
}

/**
 * Copies bytes into the module (one copy), runs fn(ptr, len), frees them.
 * @template T
 * @param {import('./engine.js').Engine} engine @param {Uint8Array} bytes @param {string} what for the error message
 * @param {(ptr: number, len: number) => T} fn @returns {T}
 */
export function withBytes(engine, bytes, what, fn) {
  const m = engine.module;
  const p = m._malloc(Math.max(1, bytes.byteLength));
  if (!p) throw new WembedError('alloc_failed', `out of memory for ${what} (${bytes.byteLength} bytes)`);
  try {
    engine.heapU8().set(bytes, p);
    return fn(p, bytes.byteLength);
  } finally {
    m._free(p);
  }
}

/**
 * The UTF-8 string of len bytes at p (it may hold NULs), decoded from the current heap.
 * @param {import('./engine.js').Engine} engine @param {number} p @param {number} len @returns {string}
 */
export function stringAt(engine, p, len) {
  return utf8d.decode(engine.heapU8().slice(p, p + len));
}

/**
 * The NUL-terminated UTF-8 string at p ('' for a null pointer), decoded from the current heap.
 * @param {import('./engine.js').Engine} engine @param {number} p @returns {string}
 */
export function cString(engine, p) {
  if (!p) return '';
  const heap = engine.heapU8();
  let end = p;
  while (heap[end]) end++;
  return stringAt(engine, p, end - p);
}

/**
 * A copy of n elements of type T at p: an array of its own (not a view of the heap), safe to keep
 * and to transfer.
 * @template {Int32Array | Uint32Array | Float32Array | Float64Array} T
 * @param {import('./engine.js').Engine} engine
 * @param {{new (buffer: ArrayBufferLike, byteOffset: number, length: number): T}} Type
 * @param {number} p @param {number} n @returns {T}
 */
export function copyOut(engine, Type, p, n) {
  return /** @type {T} */ (new Type(engine.heapU8().buffer, p, n).slice());
}
