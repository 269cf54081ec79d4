// similarity.js - comparing embeddings: cosine for float and int8 vectors, a Hamming-based
// score for packed binary ones, and softmax.

import { WembedError } from './errors.js';

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];

/**
 * Similarity of two vectors of the same kind and length.
 * Float32Array / Float64Array / Int8Array / number[]: cosine (0 when either is all zeros).
 * Uint8Array (packed bits, `quantize: 'binary'`): 1 - 2 * hamming / bits, the cosine of the
 * ±1 vectors the bits stand for.
 * @param {ArrayLike<number>} a @param {ArrayLike<number>} b
 * @returns {number} in [-1, 1]
 */
export function similarity(a, b) {
  const vec = (v) => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
  if (!vec(a) || !vec(b)) throw new WembedError('invalid_argument', 'similarity takes two vectors (typed arrays or arrays of numbers)');
  if (a.length !== b.length) throw new WembedError('invalid_argument', `vectors differ in length: ${a.length} and ${b.length}`);
  const binA = a instanceof Uint8Array;
  if (binA !== b instanceof Uint8Array) {
    throw new WembedError('invalid_argument', 'cannot compare a packed binary vector (Uint8Array) with a non-binary one');
  }
  if (binA) {
    let h = 0;
    for (let i = 0; i < a.length; i++) h += POPCOUNT[a[i] ^ b[i]];
    return a.length ? 1 - (2 * h) / (8 * a.length) : 0;
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  // NaN here: a hole, a non-number or NaN in an array (Infinity gives NaN too)
  if (Number.isNaN(dot + na + nb)) throw new WembedError('invalid_argument', 'similarity: the vectors hold values that are not finite numbers');
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** @param {number[]} logits @returns {number[]} */
export function softmax(logits) {
  const mx = Math.max(...logits);
  const e = logits.map((x) => Math.exp(x - mx));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((x) => x / s);
}
