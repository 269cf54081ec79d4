// sources.js - where a model's files come from: a hub id, a base URL, a local folder (Node) or
// bytes in memory. Each source opens a file by its name inside the model folder and hands back
// its size and an async sequence of chunks, or null when the file is not there.
//
// Remote files go through the cache (cache.js): a valid entry is read from it; otherwise the
// download (download.js) is written into it as the chunks pass by, and committed only when the
// whole file arrived and is verified: against the sha256 the hub announced (X-Linked-Etag, LFS
// files) when there is one, and in every case by its content (a .json file must parse, a
// .safetensors header must parse and account for the file's size exactly, a .gguf must start
// with its magic), so an HTML page from a captive portal or a short-declared file is never
// kept. A sha256 mismatch fails the load (code 'integrity'). A cache that fails to write never
// fails the load.
//
// Revalidation: an entry older than `cacheMaxAge` seconds (default a day; never for a revision
// that is a commit hash) is checked with a conditional request (If-None-Match with its ETag,
// If-Modified-Since with its Last-Modified): 304 keeps it and renews its age, 200 replaces it,
// 404 turns it into a "missing" entry; when the server cannot be reached the entry is used as
// it is. `cache: 'reload'` (or reloadingCache) ignores entries and rewrites them. `evict(name)`
// drops a file's entry: the loader calls it when the engine refuses a file.

import { WembedError } from './errors.js';
import { openDownload } from './download.js';
import { resolveCache } from './cache.js';
import { createSha256 } from './sha256.js';

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';

/** Default hub. */
export const HUB_BASE = 'https://huggingface.co';

/**
 * @typedef {object} OpenedFile
 * @property {number} size bytes, -1 when the server does not say
 * @property {'network' | 'cache' | 'disk' | 'memory'} from
 * @property {AsyncIterable<Uint8Array>} chunks
 * @property {() => void} [cancel] releases a file that will not be read
 * @typedef {object} ModelSource
 * @property {string} id what the user gave (hub id, URL, folder) for messages and the registry
 * @property {'hub' | 'url' | 'folder' | 'files'} kind
 * @property {(name: string) => string} where where a file is (URL or path), for messages
 * @property {(name: string) => Promise<OpenedFile | null>} open
 * @property {() => Promise<string[] | null>} list the file names, where a source can tell
 * @property {(name: string) => Promise<void>} [evict] drops a cached copy of the file (remote sources)
 *
 * @typedef {object} SourceOptions
 * @property {string} [revision='main'] hub revision (branch, tag or commit)
 * @property {string} [hubBase] hub or mirror URL (default https://huggingface.co)
 * @property {string} [token] access token, sent as `Authorization: Bearer`
 * @property {boolean | 'reload' | string | import('./cache.js').ModelCache} [cache=true]
 * @property {number} [cacheMaxAge=86400] seconds after which a cached file is revalidated
 * @property {typeof fetch} [fetch]
 * @property {number} [maxRetries=3]
 * @property {number} [retryDelay=500]
 * @property {number} [timeout=30000]
 * @property {AbortSignal} [signal]
 */

/**
 * Why `name` is not a plain relative file name inside the model folder, or null when it is one:
 * '/'-separated segments, none empty, '.' or '..', no backslash, no NUL, no drive or scheme
 * ('C:', 'https:'). Names from the model's own files (shards in model.safetensors.index.json,
 * module paths in modules.json) are checked with it before anything is opened or requested, so
 * a model can never make the loader read outside its folder, or send the hub token elsewhere.
 * @param {unknown} name @returns {string | null}
 */
export function unsafeName(name) {
  if (typeof name !== 'string' || name === '') return 'it is empty or not a string';
  if (name.length > 1024) return 'it is longer than 1024 characters';
  if (/[\\\0]/.test(name)) return 'it holds a backslash or a NUL';
  if (name.startsWith('/')) return 'it is an absolute path';
  const segs = name.split('/');
  if (segs.some((x) => x === '' || x === '.' || x === '..')) return "it has an empty, '.' or '..' segment";
  if (segs[0].includes(':')) return 'it names a drive or a URL scheme';
  return null;
}

/** Throws bad_format (what: where the name comes from) unless name is a plain relative name. */
export function checkName(name, what) {
  const why = unsafeName(name);
  if (why) throw new WembedError('bad_format', `${what}: ${JSON.stringify(name)} is not a file name inside the model (${why})`);
  return /** @type {string} */ (name);
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** True for strings shaped like `org/name` (and not an existing local path, checked by the caller). */
export function isHubId(s) {
  return typeof s === 'string' && HUB_ID.test(s) && !s.includes('..');
}

/** Files whose content is checked before a cache entry is committed, by their name. */
const MAX_HEADER = 100 << 20;

/**
 * Checks a file's content as its chunks pass (what a cache entry must be before it is kept):
 * a .json file parses as JSON, a .safetensors header parses and its tensors' data ends exactly
 * at the end of the file, a .gguf starts with "GGUF" and a known version. Other files: no check.
 * @param {string} name @param {number} size the whole file's size
 */
export function contentCheck(name, size) {
  const kind = /\.json$/i.test(name) ? 'json' : /\.safetensors$/i.test(name) ? 'safetensors' : /\.gguf$/i.test(name) ? 'gguf' : null;
  /** @type {Uint8Array[]} */
  const parts = [];
  let have = 0;
  let need = kind === 'json' ? Infinity : kind ? 8 : 0;
  const head = () => {
    const out = new Uint8Array(have);
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.byteLength; }
    return out;
  };
  return {
    /** @param {Uint8Array} c */
    push(c) {
      if (have >= need) return;
      const k = Math.min(c.byteLength, need - have);
      parts.push(c.slice(0, k));
      have += k;
      if (kind === 'safetensors' && have >= 8 && need === 8) {
        const n = new DataView(head().buffer).getBigUint64(0, true);
        need = n > BigInt(MAX_HEADER) ? 8 : 8 + Number(n);
        if (have < need) this.push(c.subarray(k));
      }
    },
    /** Why the bytes are not a valid file of their kind, or null. @returns {string | null} */
    problem() {
      if (!kind) return null;
      const b = head();
      if (kind === 'json') {
        try {
          JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b));
          return null;
        } catch (e) {
          return `not JSON (${/** @type {any} */ (e).message})`;
        }
      }
      if (kind === 'gguf') {
        const v = b.byteLength >= 8 ? new DataView(b.buffer).getUint32(4, true) : 0;
        return b.byteLength >= 8 && String.fromCharCode(...b.subarray(0, 4)) === 'GGUF' && v >= 1 && v <= 3 ? null : 'not a GGUF file';
      }
      if (b.byteLength < 8 || need === 8 || b.byteLength < need) return 'not a safetensors file (no complete header)';
      let h;
      try { h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(8))); } catch { return 'a safetensors header that is not JSON'; }
      if (!h || typeof h !== 'object' || Array.isArray(h)) return 'a safetensors header that is not an object';
      let end = 0;
      for (const [k, t] of Object.entries(h)) {
        if (k === '__metadata__') continue;
        const o = t?.data_offsets;
        if (typeof t?.dtype !== 'string' || !Array.isArray(t.shape) || !Array.isArray(o) || o.length !== 2 ||
            !Number.isSafeInteger(o[0]) || !Number.isSafeInteger(o[1]) || o[0] < 0 || o[1] < o[0]) return `a bad safetensors entry ${JSON.stringify(k)}`;
        end = Math.max(end, o[1]);
      }
      return need + end === size ? null : `a safetensors file of ${size} bytes whose header accounts for ${need + end}`;
    },
  };
}

/**
 * Hashes chunks as they pass and fails at the end when they are not the sha256 the hub announced.
 * @param {AsyncIterable<Uint8Array>} chunks @param {string} sha256 @param {string} url
 */
async function* verified(chunks, sha256, url) {
  const h = await createSha256();
  for await (const c of chunks) {
    h.update(c);
    yield c;
  }
  const got = h.hex();
  if (got !== sha256) {
    throw new WembedError('integrity', `${url}: the downloaded bytes have sha256 ${got}, not the ${sha256} the server announced ` +
      '(a corrupted download or a changed file); nothing was cached, load again to fetch it anew');
  }
}

/**
 * Wraps a download so its chunks are also written into the cache, committed only when every
 * byte arrived (and passed `verified`, upstream) and the content check passes; a cache error
 * only stops caching.
 * @param {AsyncIterable<Uint8Array>} chunks
 * @param {ReturnType<typeof contentCheck>} check
 * @param {() => Promise<import('./cache.js').CacheWriter | null>} openWriter
 */
async function* teeToCache(chunks, check, openWriter) {
  // The entry is begun with the first chunk: a download never read leaves nothing behind.
  let writer = null;
  try { writer = await openWriter(); } catch { writer = null; }
  let ok = !!writer;
  let complete = false;
  try {
    for await (const c of chunks) {
      if (ok) {
        check.push(c);
        try { await writer.write(c); } catch { ok = false; await writer.abort().catch(() => {}); }
      }
      yield c;
    }
    complete = true;
  } finally {
    if (ok) {
      if (complete && check.problem() === null) await writer.close().catch(() => {});
      else await writer.abort().catch(() => {});
    }
  }
}

/**
 * Reads a cache entry, checking that it holds exactly its recorded size; when it does not, the
 * entry is deleted and the rest comes from the network, resumed at the byte where it broke with
 * If-Range (the entry's ETag or Last-Modified): a server whose file is no longer that version
 * makes the load start again (a restart error), so two versions are never spliced.
 * @param {import('./cache.js').CacheEntry} entry
 */
async function* fromCache(entry, key, cache, dlOpts) {
  let pos = 0;
  try {
    for await (const c of entry.open()) {
      const v = c instanceof Uint8Array ? c : new Uint8Array(c);
      if (pos + v.byteLength > entry.size) break;
      pos += v.byteLength;
      yield v;
    }
  } catch {
    // a read error: treated like a short entry below
  }
  if (pos === entry.size) return;
  await cache.delete(key).catch(() => {});
  const d = await openDownload(key, { ...dlOpts, fromOffset: pos, ifRange: entry.etag ?? entry.lastModified ?? undefined });
  if (!d || 'notModified' in d) throw new WembedError('not_found', `${key}: the cached copy was corrupt and the file is no longer on the server`);
  if (d.size !== entry.size) {
    d.cancel();
    throw Object.assign(new WembedError('network', `${key} changed since it was cached (its size is now ${d.size})`), { restart: true });
  }
  yield* d.chunks;
}

/**
 * A remote model folder: `base` ends with '/', files are `base + name`.
 * @param {string} id @param {'hub'|'url'} kind @param {string} base @param {SourceOptions} opts
 * @returns {ModelSource}
 */
function remoteSource(id, kind, base, opts) {
  const cache = resolveCache(opts.cache);
  const headers = opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
  const dlOpts = {
    fetch: opts.fetch, headers, maxRetries: opts.maxRetries, retryDelay: opts.retryDelay,
    timeout: opts.timeout, signal: opts.signal,
  };
  const maxAge = opts.cacheMaxAge ?? 86400;
  if (!(typeof maxAge === 'number' && maxAge >= 0)) throw new WembedError('invalid_argument', `cacheMaxAge must be a number of seconds >= 0, not ${maxAge}`);
  // A commit hash names one version for ever: its files never need revalidating.
  const pinned = kind === 'hub' && /^[0-9a-f]{40}$/.test(opts.revision ?? '');
  const stale = (e) => !pinned && Number.isFinite(e.time) && Date.now() - e.time > maxAge * 1000;
  const where = (name) => base + name.split('/').map(encodeURIComponent).join('/');

  /** A download as an opened file: verified, and written into the cache as it is read. */
  function fromNetwork(name, url, d) {
    let chunks = d.sha256 ? verified(d.chunks, d.sha256, url) : d.chunks;
    if (cache && d.size >= 0) {
      const info = { etag: d.etag, lastModified: d.lastModified, sha256: d.sha256 };
      chunks = teeToCache(chunks, contentCheck(name, d.size), () => cache.put(url, d.size, info));
    }
    return { size: d.size, from: /** @type {const} */ ('network'), chunks, cancel: d.cancel };
  }
  const cached = (url, e) => ({ size: e.size, from: /** @type {const} */ ('cache'), chunks: fromCache(e, url, cache, dlOpts) });

  return {
    id,
    kind,
    where,
    async list() { return null; },
    async evict(name) {
      if (cache) await cache.delete(where(name)).catch(() => {});
    },
    async open(name) {
      checkName(name, `${id}: a file name`);
      const url = where(name);
      // The request (and its Authorization header) never leaves the model's path.
      if (!new URL(url).href.startsWith(new URL(base).href)) throw new WembedError('bad_format', `${id}: ${JSON.stringify(name)} leaves the model's path`);
      if (cache) {
        let e = null;
        try { e = await cache.get(url); } catch { e = null; }
        if (e && !stale(e)) return e.missing ? null : cached(url, e);
        if (e) {
          // Stale: ask whether it changed; unreachable, use it as it is.
          let d;
          try {
            d = await openDownload(url, { ...dlOpts, firstTryOnly: true, conditional: e.missing ? undefined : { etag: e.etag, lastModified: e.lastModified } });
          } catch (err) {
            if (/** @type {any} */ (err)?.code === 'aborted_by_signal') throw err;
            return e.missing ? null : cached(url, e);
          }
          if (d && 'notModified' in d) {
            await cache.touch?.(url).catch(() => {});
            return cached(url, e);
          }
          if (!d) {
            await (e.missing ? cache.touch?.(url) : cache.putMissing(url))?.catch(() => {});
            return null;
          }
          return fromNetwork(name, url, d);
        }
      }
      const d = await openDownload(url, dlOpts);
      if (!d || 'notModified' in d) {
        if (cache) await cache.putMissing(url).catch(() => {});
        return null;
      }
      return fromNetwork(name, url, d);
    },
  };
}

/**
 * A local folder (Node).
 * @param {string} dir @returns {Promise<ModelSource>}
 */
async function folderSource(dir) {
  const fs = process.getBuiltinModule('node:fs');
  const path = process.getBuiltinModule('node:path');
  const root = path.resolve(dir);
  const where = (name) => path.join(root, ...name.split('/'));
  return {
    id: dir,
    kind: 'folder',
    where,
    async list() {
      /** @type {string[]} */
      const out = [];
      const walk = async (rel, depth) => {
        const entries = await fs.promises.readdir(path.join(root, rel), { withFileTypes: true });
        for (const e of entries) {
          const r = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory() && depth < 2) await walk(r, depth + 1);
          else if (e.isFile()) out.push(r);
        }
      };
      await walk('', 0);
      return out.sort();
    },
    async open(name) {
      checkName(name, `${dir}: a file name`);
      const file = where(name);
      if (path.relative(root, file).split(path.sep)[0] === '..' || path.isAbsolute(path.relative(root, file))) {
        throw new WembedError('bad_format', `${dir}: ${JSON.stringify(name)} leaves the model folder`);
      }
      let st;
      try { st = await fs.promises.stat(file); } catch { return null; }
      if (!st.isFile()) return null;
      return { size: st.size, from: 'disk', chunks: fs.createReadStream(file, { highWaterMark: 1 << 20 }) };
    },
  };
}

/** @param {unknown} v @returns {Promise<Uint8Array>} */
async function asBytes(v, name) {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer)) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return new TextEncoder().encode(v);
  if (typeof Blob !== 'undefined' && v instanceof Blob) return new Uint8Array(await v.arrayBuffer());
  throw new WembedError('invalid_argument', `files[${JSON.stringify(name)}] must be bytes (Uint8Array, ArrayBuffer, Blob) or a string`);
}

/**
 * Files in memory: `{ 'config.json': bytes, ... }`.
 * @param {Record<string, unknown>} files @returns {ModelSource}
 */
function filesSource(files) {
  return {
    id: 'files',
    kind: 'files',
    where: (name) => `files[${JSON.stringify(name)}]`,
    async list() { return Object.keys(files).sort(); },
    async open(name) {
      if (!Object.prototype.hasOwnProperty.call(files, name) || files[name] == null) return null;
      const v = files[name];
      if (typeof Blob !== 'undefined' && v instanceof Blob && !(v instanceof Uint8Array)) {
        // A Blob (or File) streams: it need not be read into memory whole.
        const blob = /** @type {Blob} */ (v);
        return {
          size: blob.size,
          from: 'memory',
          chunks: (async function* () {
            const reader = blob.stream().getReader();
            for (;;) {
              const { done, value } = await reader.read();
              if (done) return;
              yield value;
            }
          })(),
        };
      }
      const bytes = await asBytes(v, name);
      return { size: bytes.byteLength, from: 'memory', chunks: (async function* () { yield bytes; })() };
    },
  };
}

/**
 * Turns what the user gave into a source.
 * @param {string | URL | {files: Record<string, unknown>}} source
 * @param {SourceOptions} [opts]
 * @returns {Promise<ModelSource>}
 */
export async function resolveSource(source, opts = {}) {
  if (source && typeof source === 'object' && !(source instanceof URL)) {
    if (source.files && typeof source.files === 'object') return filesSource(source.files);
    throw new WembedError('invalid_argument', 'a model source is a hub id ("org/name"), a URL, a folder, or { files: { "config.json": bytes, ... } }');
  }
  if (source instanceof URL) source = source.href;
  if (typeof source !== 'string' || !source) {
    throw new WembedError('invalid_argument', `a model source must be a hub id, a URL, a folder or { files }, not ${JSON.stringify(source)}`);
  }
  if (/^https?:\/\//i.test(source)) {
    return remoteSource(source, 'url', source.endsWith('/') ? source : source + '/', opts);
  }
  if (/^file:/i.test(source)) {
    if (!isNode) throw new WembedError('unsupported', 'file: URLs need Node; in a browser use an http(s) URL or { files }');
    const { fileURLToPath } = process.getBuiltinModule('node:url');
    return folderSource(fileURLToPath(source));
  }
  if (isNode) {
    const fs = process.getBuiltinModule('node:fs');
    if (fs.existsSync(source)) {
      if (!fs.statSync(source).isDirectory()) {
        throw new WembedError('invalid_argument', `${source} is a file; give the model's folder (or, for a GGUF, the folder and { file })`);
      }
      return folderSource(source);
    }
  }
  if (isNode && isHubId(source)) {
    // 'tests/e2e' is shaped like a hub id, but when its first segment is a folder here it is a
    // mistyped local path: say so now rather than after the hub's retries.
    const fs = process.getBuiltinModule('node:fs');
    const first = source.split('/')[0];
    if (fs.statSync(first, { throwIfNoEntry: false })?.isDirectory()) {
      throw new WembedError('not_found', `no such folder: ${source} (${first}/ is a folder here, so this names a local ` +
        'path, not a hub model)');
    }
  }
  if (isHubId(source)) {
    const hubBase = (opts.hubBase ?? HUB_BASE).replace(/\/+$/, '');
    const rev = encodeURIComponent(opts.revision ?? 'main');
    return remoteSource(source, 'hub', `${hubBase}/${source}/resolve/${rev}/`, opts);
  }
  if (isNode && (source.startsWith('.') || source.startsWith('/') || source.includes('\\'))) {
    throw new WembedError('not_found', `no such folder: ${source}`);
  }
  throw new WembedError('invalid_argument', `cannot tell what ${JSON.stringify(source)} is: give a hub id ("org/name"), ` +
    `an http(s) URL${isNode ? ', an existing folder' : ''} or { files }`);
}
