// tokenizer.js - tokenizer.json pipelines run by the engine: a model's own (Embedder#tokenize)
// or one loaded alone (Tokenizer.load: the CLI's `tokenize` needs no weights). Offsets come back
// as UTF-16 indices into the JS string, so `text.slice(start, end)` is the token's text.

import { WembedError, statusError } from './errors.js';
import { createEngine } from './engine.js';
import { withUTF8, withBytes, cString, stringAt, copyOut } from './heap.js';
import { resolveSource } from './sources.js';
import { collectSmall, SMALL_FILE_MAX } from './loader.js';

/**
 * @typedef {object} TokenizeOptions
 * @property {boolean} [addSpecialTokens=true] add what the file's post-processor adds ([CLS] ... [SEP])
 * @property {number} [maxLength=0] at most this many tokens, special tokens included (0: no limit)
 * @property {boolean} [useFileSettings=false] apply the file's own "truncation" and "padding"
 *
 * @typedef {object} Encoding
 * @property {number[]} ids
 * @property {string[]} tokens
 * @property {Array<[number, number]>} offsets [start, end) in UTF-16 units of the text ([0, 0] for added special tokens)
 * @property {number[]} typeIds
 * @property {number[]} attentionMask
 * @property {number[]} specialTokensMask
 */

/**
 * Tokenizes text into an encoding handle and hands it to read(enc, textPtr, textLen) inside the
 * text's UTF-8 copy; the encoding is freed afterwards. Shared by both encoders below.
 * @template T
 * @param {import('./engine.js').Engine} engine @param {number} tok @param {string} text
 * @param {TokenizeOptions} opts @param {(enc: number, tp: number, len: number) => T} read @returns {T}
 */
function withEncoding(engine, tok, text, opts, read) {
  if (typeof text !== 'string') throw new WembedError('invalid_argument', `tokenize takes a string, not ${typeof text}`);
  const maxLength = opts.maxLength ?? 0;
  if (!(Number.isInteger(maxLength) && maxLength >= 0)) {
    throw new WembedError('invalid_argument', `maxLength must be a non-negative integer, not ${maxLength}`);
  }
  const m = engine.module;
  const special = opts.addSpecialTokens === false ? 0 : 1;
  const encode = (tp, len) => {
    const enc = m._wembed__tokenize(tok, tp, len, special, maxLength, opts.useFileSettings ? 1 : 0);
    if (!enc) throw statusError(engine.status, engine.status.invalid_argument, cString(engine, m._wembed__tokenizer_last_error(tok)));
    try {
      return read(enc, tp, len);
    } finally {
      m._wembed__encoding_free(enc);
    }
  };
  // A long text cut to maxLength: copied in by growing prefixes until one holds the kept
  // tokens (the engine says so), never whole.
  if (maxLength > 0 && !opts.useFileSettings) {
    for (let chars = LONG_PREFIX; chars < text.length; chars *= 4) {
      const c = text.charCodeAt(chars - 1);
      const part = text.slice(0, c >= 0xd800 && c < 0xdc00 ? chars - 1 : chars);   // a surrogate pair stays whole
      const r = withUTF8(engine, part, (tp, len) => {
        const cut = m._wembed__tokenize_prefix(tok, tp, len, special, maxLength);
        if (cut < 0) throw statusError(engine.status, engine.status.invalid_argument, cString(engine, m._wembed__tokenizer_last_error(tok)));
        return cut < len ? { value: encode(tp, cut) } : null;
      });
      if (r) return r.value;
    }
  }
  return withUTF8(engine, text, encode);
}

/** Characters of a long text first copied in when it is cut to maxLength (then 4x more each time). */
const LONG_PREFIX = 1 << 16;

/**
 * Token ids only: the fast path (no token strings, no offsets), for indexing pipelines.
 * @param {import('./engine.js').Engine} engine @param {number} tok @param {string} text
 * @param {TokenizeOptions} [opts] @returns {Int32Array}
 */
export function encodeIdsWith(engine, tok, text, opts = {}) {
  const m = engine.module;
  return withEncoding(engine, tok, text, opts, (enc) =>
    copyOut(engine, Int32Array, m._wembed__encoding_ids(enc), m._wembed__encoding_n(enc)));
}

/**
 * Encodes text with the tokenizer at tokPtr.
 * @param {import('./engine.js').Engine} engine @param {number} tok @param {string} text
 * @param {TokenizeOptions} [opts] @returns {Encoding}
 */
export function encodeWith(engine, tok, text, opts = {}) {
  const m = engine.module;
  return withEncoding(engine, tok, text, opts, (enc, tp, len) => {
    const n = m._wembed__encoding_n(enc);
    const off = m._malloc(8 * n + 8);
    if (!off) throw new WembedError('alloc_failed', 'out of memory');
    try {
      const rc = m._wembed__encoding_utf16_offsets(enc, tp, len, off);
      if (rc) throw statusError(engine.status, rc, 'could not map offsets to UTF-16');
      const heap = engine.heapU8();   // read after every call that may have allocated
      const i32 = (p) => Array.from(new Int32Array(heap.buffer, p, n));
      const u32 = new Uint32Array(heap.buffer, off, 2 * n);
      const tokPtrs = new Uint32Array(heap.buffer, m._wembed__encoding_tokens(enc), n);
      const tokLens = new Int32Array(heap.buffer, m._wembed__encoding_token_lens(enc), n);
      /** @type {string[]} */
      const tokens = [];
      for (let i = 0; i < n; i++) tokens.push(stringAt(engine, tokPtrs[i], tokLens[i]));
      /** @type {Array<[number, number]>} */
      const offsets = [];
      for (let i = 0; i < n; i++) offsets.push([u32[2 * i], u32[2 * i + 1]]);
      return {
        ids: i32(m._wembed__encoding_ids(enc)),
        tokens,
        offsets,
        typeIds: i32(m._wembed__encoding_type_ids(enc)),
        attentionMask: i32(m._wembed__encoding_attention_mask(enc)),
        specialTokensMask: i32(m._wembed__encoding_special_mask(enc)),
      };
    } finally {
      m._free(off);
    }
  });
}

/** A tokenizer.json loaded on its own (no model). */
export class Tokenizer {
  /**
   * Loads a tokenizer: tokenizer.json bytes, a path to one (Node), or a model source (hub id,
   * URL, folder, { files }) from which only tokenizer.json is read.
   * @param {Uint8Array | ArrayBuffer | string | URL | {files: Record<string, unknown>}} source
   * @param {import('./sources.js').SourceOptions & {engine?: import('./engine.js').Engine}} [opts]
   */
  static async load(source, opts = {}) {
    let bytes;
    if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
      bytes = new Uint8Array(source);
    } else {
      if (typeof source === 'string' && typeof process === 'object' && /\.json$/i.test(source)) {
        const fs = process.getBuiltinModule('node:fs');
        const st = fs.existsSync(source) ? fs.statSync(source) : null;
        if (st?.isFile()) {
          if (st.size > SMALL_FILE_MAX) throw new WembedError('limit', `${source}: ${st.size} bytes is over the limit of ${SMALL_FILE_MAX} for a non-weights file`);
          bytes = fs.readFileSync(source);
        }
      }
      if (!bytes) {
        const src = await resolveSource(/** @type {any} */ (source), opts);
        const f = await src.open('tokenizer.json');
        if (!f) throw new WembedError('not_found', `no tokenizer.json at ${src.where('tokenizer.json')}`);
        bytes = await collectSmall(f, src.where('tokenizer.json'));
      }
    }
    const engine = opts.engine ?? await createEngine({ variant: 'st' });
    const m = engine.module;
    const errp = m._malloc(4);
    try {
      if (!errp) throw new WembedError('alloc_failed', 'out of memory');
      const tok = withBytes(engine, bytes, 'tokenizer.json', (p, n) => m._wembed__tokenizer_load(p, n, errp));
      if (!tok) {
        const et = copyOut(engine, Uint32Array, errp, 1)[0];
        const msg = et ? cString(engine, m._wembed__tokenizer_last_error(et)) : 'out of memory';
        if (et) m._wembed__tokenizer_free(et);
        throw new WembedError(et ? 'bad_format' : 'alloc_failed', `tokenizer.json: ${msg}`);
      }
      return new Tokenizer(engine, tok, !opts.engine);
    } catch (e) {
      if (!opts.engine) engine.dispose();
      throw e;
    } finally {
      m._free(errp);
    }
  }

  /** @param {import('./engine.js').Engine} engine @param {number} ptr @param {boolean} ownsEngine */
  constructor(engine, ptr, ownsEngine) {
    this._engine = engine;
    this._ptr = ptr;
    this._ownsEngine = ownsEngine;
  }

  /** Number of ids (largest id + 1). */
  get vocabSize() {
    this._check();
    return this._engine.module._wembed__tokenizer_vocab_size(this._ptr);
  }

  /** @param {string} text @param {TokenizeOptions} [opts] @returns {Encoding} */
  encode(text, opts) {
    this._check();
    return encodeWith(this._engine, this._ptr, text, opts);
  }

  /** Token ids only (no strings, no offsets): the fast path. @param {string} text @param {TokenizeOptions} [opts] */
  encodeIds(text, opts) {
    this._check();
    return encodeIdsWith(this._engine, this._ptr, text, opts);
  }

  dispose() {
    if (!this._ptr) return;
    this._engine.module._wembed__tokenizer_free(this._ptr);
    this._ptr = 0;
    if (this._ownsEngine) this._engine.dispose();
  }

  _check() {
    if (!this._ptr) throw new WembedError('disposed', 'this tokenizer was disposed');
  }
}
