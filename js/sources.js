// sources.js - where a model's files come from: a hub id, a base URL, a local folder (Node) or
// bytes in memory. Each source opens a file by its name inside the model folder and hands back
// its size and an async sequence of chunks, or null when the file is not there.
//
// Remote files go through the cache (cache.js): a valid entry is read from it; otherwise the
// download (download.js) is written into it as the chunks pass by, and committed only when the
// whole file arrived. A cache that fails to write never fails the load.

import { WembedError } from './errors.js';
import { openDownload } from './download.js';
import { resolveCache } from './cache.js';

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
 *
 * @typedef {object} SourceOptions
 * @property {string} [revision='main'] hub revision (branch, tag or commit)
 * @property {string} [hubBase] hub or mirror URL (default https://huggingface.co)
 * @property {string} [token] access token, sent as `Authorization: Bearer`
 * @property {boolean | string | import('./cache.js').ModelCache} [cache=true]
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

/**
 * Wraps a download so its chunks are also written into the cache; a cache error only stops
 * caching.
 * @param {AsyncIterable<Uint8Array>} chunks
 * @param {() => Promise<import('./cache.js').CacheWriter | null>} openWriter
 */
async function* teeToCache(chunks, openWriter) {
  // The entry is begun with the first chunk: a download never read leaves nothing behind.
  let writer = null;
  try { writer = await openWriter(); } catch { writer = null; }
  let ok = !!writer;
  let complete = false;
  try {
    for await (const c of chunks) {
      if (ok) {
        try { await writer.write(c); } catch { ok = false; await writer.abort().catch(() => {}); }
      }
      yield c;
    }
    complete = true;
  } finally {
    if (ok) {
      if (complete) await writer.close().catch(() => {});
      else await writer.abort().catch(() => {});
    }
  }
}

/**
 * Reads a cache entry, checking that it holds exactly its recorded size; when it does not, the
 * entry is deleted and the rest comes from the network (resumed at the byte where it broke).
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
  const d = await openDownload(key, { ...dlOpts, fromOffset: pos });
  if (!d) throw new WembedError('not_found', `${key}: the cached copy was corrupt and the file is no longer on the server`);
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
  const where = (name) => base + name.split('/').map(encodeURIComponent).join('/');
  return {
    id,
    kind,
    where,
    async list() { return null; },
    async open(name) {
      checkName(name, `${id}: a file name`);
      const url = where(name);
      // The request (and its Authorization header) never leaves the model's path.
      if (!new URL(url).href.startsWith(new URL(base).href)) throw new WembedError('bad_format', `${id}: ${JSON.stringify(name)} leaves the model's path`);
      if (cache) {
        let e = null;
        try { e = await cache.get(url); } catch { e = null; }
        if (e?.missing) return null;
        if (e) return { size: e.size, from: 'cache', chunks: fromCache(e, url, cache, dlOpts) };
      }
      const d = await openDownload(url, dlOpts);
      if (!d) {
        if (cache) await cache.putMissing(url).catch(() => {});
        return null;
      }
      const chunks = cache && d.size >= 0 ? teeToCache(d.chunks, () => cache.put(url, d.size)) : d.chunks;
      return { size: d.size, from: 'network', chunks, cancel: d.cancel };
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
