// cache.js - where downloaded model files are kept: the Cache API in browsers, a folder in
// Node, or any object with the same four methods (a `ModelCache`).
//
// An entry is a URL's bytes plus its size, written through a temporary name and committed only
// once every byte arrived, so an interrupted download never looks complete. Reading checks the
// stored size against the bytes actually there; an entry that disagrees (a partial file, a
// truncated or tampered blob, missing metadata) is deleted and reported as absent, which makes
// the caller fetch it again. A 404 of an optional file is remembered too (`putMissing`), so a
// second load needs no network at all. An entry keeps what the server said of its version (ETag,
// Last-Modified, the hub's sha256) and when it was last confirmed (`time`), for the revalidation
// rule of sources.js; `touch` records a confirmation (an HTTP 304).
// Not here: fetching (download.js), or deciding which files a model needs (sources.js).

/**
 * @typedef {object} CacheEntry
 * @property {boolean} [missing] the server answered 404 for this URL
 * @property {number} size bytes
 * @property {() => AsyncIterable<Uint8Array>} [open] the bytes, from the start (each call anew)
 * @property {number} [time] when the entry was written or last confirmed (ms since 1970; absent: never stale)
 * @property {string | null} [etag] the server's strong ETag for these bytes
 * @property {string | null} [lastModified] the server's Last-Modified for these bytes
 * @property {string | null} [sha256] the sha256 the hub announced and the bytes were checked against
 *
 * @typedef {object} EntryInfo what put() records of the version: all optional
 * @property {string | null} [etag]
 * @property {string | null} [lastModified]
 * @property {string | null} [sha256]
 *
 * @typedef {object} CacheWriter
 * @property {(chunk: Uint8Array) => Promise<void>} write
 * @property {() => Promise<void>} close commits the entry; rejects if the size is not the one announced
 * @property {() => Promise<void>} abort drops what was written
 *
 * @typedef {object} ModelCache
 * @property {(key: string) => Promise<CacheEntry | null>} get a valid entry, or null
 * @property {(key: string, size: number, info?: EntryInfo) => Promise<CacheWriter | null>} put starts an entry of `size` bytes (null: not cached)
 * @property {(key: string) => Promise<void>} putMissing remembers that the URL does not exist
 * @property {(key: string) => Promise<void>} delete
 * @property {(key: string) => Promise<void>} [touch] records that the entry was confirmed now (optional)
 */

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';

/** The default cache folder in Node: $WEMBED_CACHE, $XDG_CACHE_HOME/wembed or ~/.cache/wembed. */
export async function defaultCacheDir() {
  const path = process.getBuiltinModule('node:path');
  const os = process.getBuiltinModule('node:os');
  if (process.env.WEMBED_CACHE) return path.resolve(process.env.WEMBED_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'wembed');
}

// A URL as a relative path: host/p/a/t/h, every segment made safe; a query adds a hash suffix.
async function keyPath(key) {
  const u = new URL(key);
  const safe = (s) => {
    const e = s.replace(/[^A-Za-z0-9._-]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'));
    return e === '.' || e === '..' || e === '' ? `%2e${e}` : e;
  };
  const segs = [safe(u.host || 'local'), ...decodeURIComponent(u.pathname).split('/').filter(Boolean).map(safe)];
  if (u.search) {
    const { createHash } = process.getBuiltinModule('node:crypto');
    segs[segs.length - 1] += '@' + createHash('sha256').update(u.search).digest('hex').slice(0, 16);
  }
  return segs;
}

/**
 * A cache in a folder (Node): `<dir>/<host>/<path>` holds the bytes and `<...>.meta.json` their
 * URL and size.
 * @param {string} [dir] default: defaultCacheDir()
 * @returns {ModelCache & {dir: Promise<string>}}
 */
export function folderCache(dir) {
  const root = dir ? Promise.resolve(dir) : defaultCacheDir();
  const modP = Promise.resolve().then(() => /** @type {const} */ ([process.getBuiltinModule('node:fs'), process.getBuiltinModule('node:path')]));
  async function paths(key) {
    const [[fs, path], r, segs] = await Promise.all([modP, root, keyPath(key)]);
    const file = path.join(r, ...segs);
    return { fs, path, file, meta: file + '.meta.json' };
  }
  async function remove(p) {
    await Promise.all([p.fs.promises.rm(p.file, { force: true }), p.fs.promises.rm(p.meta, { force: true })]);
  }
  async function writeMeta(p, meta) {
    const tmp = `${p.meta}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await p.fs.promises.writeFile(tmp, JSON.stringify(meta));
    await p.fs.promises.rename(tmp, p.meta);
  }
  return {
    dir: root,
    async get(key) {
      const p = await paths(key);
      let meta;
      try {
        meta = JSON.parse(await p.fs.promises.readFile(p.meta, 'utf8'));
      } catch {
        await p.fs.promises.rm(p.file, { force: true });   // bytes without metadata: never committed
        return null;
      }
      if (meta?.url !== key) { await remove(p); return null; }
      const t = Date.parse(meta.time);
      const time = Number.isFinite(t) ? t : 0;   // unreadable: as old as can be, so revalidated
      if (meta.missing) return { missing: true, size: 0, time };
      let st;
      try { st = await p.fs.promises.stat(p.file); } catch { st = null; }
      if (!st || !Number.isSafeInteger(meta.size) || st.size !== meta.size) {
        await remove(p);   // partial or corrupt: fetch it again
        return null;
      }
      return {
        size: meta.size,
        time,
        etag: meta.etag ?? null,
        lastModified: meta.lastModified ?? null,
        sha256: meta.sha256 ?? null,
        open: () => p.fs.createReadStream(p.file, { highWaterMark: 1 << 20 }),
      };
    },
    async put(key, size, info = {}) {
      if (!(size >= 0)) return null;
      const p = await paths(key);
      await p.fs.promises.mkdir(p.path.dirname(p.file), { recursive: true });
      const tmp = `${p.file}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;
      const fh = await p.fs.promises.open(tmp, 'w');
      let written = 0;
      let closed = false;
      return {
        async write(chunk) {
          let o = 0;
          while (o < chunk.byteLength) {
            const { bytesWritten } = await fh.write(chunk, o, chunk.byteLength - o);
            o += bytesWritten;
          }
          written += chunk.byteLength;
        },
        async close() {
          closed = true;
          await fh.close();
          if (written !== size) {
            await p.fs.promises.rm(tmp, { force: true });
            throw new Error(`cache: ${written} bytes written for ${key}, ${size} expected`);
          }
          await p.fs.promises.rm(p.meta, { force: true });
          await p.fs.promises.rename(tmp, p.file);
          await writeMeta(p, {
            url: key, size, time: new Date().toISOString(),
            etag: info.etag ?? null, lastModified: info.lastModified ?? null, sha256: info.sha256 ?? null,
          });
        },
        async abort() {
          if (!closed) { closed = true; await fh.close().catch(() => {}); }
          await p.fs.promises.rm(tmp, { force: true });
        },
      };
    },
    async putMissing(key) {
      const p = await paths(key);
      await p.fs.promises.mkdir(p.path.dirname(p.file), { recursive: true });
      await p.fs.promises.rm(p.file, { force: true });
      await writeMeta(p, { url: key, missing: true, time: new Date().toISOString() });
    },
    async delete(key) {
      await remove(await paths(key));
    },
    async touch(key) {
      const p = await paths(key);
      let meta;
      try { meta = JSON.parse(await p.fs.promises.readFile(p.meta, 'utf8')); } catch { return; }
      if (meta?.url === key) await writeMeta(p, { ...meta, time: new Date().toISOString() });
    },
  };
}

/**
 * A cache in the browser's Cache API (`caches.open(name)`): each entry a Response with its size
 * in an `x-wembed-size` header, checked against the stored blob on every read.
 * @param {string} [name='wembed-v1']
 * @returns {ModelCache}
 */
export function browserCache(name = 'wembed-v1') {
  const open = () => globalThis.caches.open(name);
  return {
    async get(key) {
      const c = await open();
      const res = await c.match(key);
      if (!res) return null;
      const t = Date.parse(res.headers.get('x-wembed-time') ?? '');
      const time = Number.isFinite(t) ? t : 0;
      if (res.headers.get('x-wembed-missing') === '1') return { missing: true, size: 0, time };
      const size = Number(res.headers.get('x-wembed-size'));
      const blob = await res.blob();   // disk-backed: its size is known without reading it
      if (!Number.isSafeInteger(size) || blob.size !== size) {
        await c.delete(key);
        return null;
      }
      return {
        size,
        time,
        etag: res.headers.get('x-wembed-etag'),
        lastModified: res.headers.get('x-wembed-last-modified'),
        sha256: res.headers.get('x-wembed-sha256'),
        async *open() {
          const reader = blob.stream().getReader();
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) return;
              yield value;
            }
          } finally {
            reader.cancel().catch(() => {});
          }
        },
      };
    },
    async put(key, size, info = {}) {
      if (!(size >= 0)) return null;
      const c = await open();
      const { readable, writable } = new TransformStream();
      const writer = writable.getWriter();
      /** @type {Record<string, string>} */
      const headers = { 'content-type': 'application/octet-stream', 'x-wembed-size': String(size), 'x-wembed-time': new Date().toISOString() };
      if (info.etag) headers['x-wembed-etag'] = info.etag;
      if (info.lastModified) headers['x-wembed-last-modified'] = info.lastModified;
      if (info.sha256) headers['x-wembed-sha256'] = info.sha256;
      const stored = c.put(key, new Response(readable, { headers }));
      stored.catch(() => {});
      let written = 0;
      return {
        async write(chunk) {
          await writer.ready;
          written += chunk.byteLength;
          writer.write(chunk).catch(() => {});
        },
        async close() {
          if (written !== size) {
            await writer.abort(new Error('size mismatch')).catch(() => {});
            await c.delete(key);
            throw new Error(`cache: ${written} bytes written for ${key}, ${size} expected`);
          }
          await writer.close();
          await stored;
        },
        async abort() {
          await writer.abort(new Error('aborted')).catch(() => {});
          await stored.catch(() => {});
          await c.delete(key).catch(() => {});
        },
      };
    },
    async putMissing(key) {
      const c = await open();
      await c.put(key, new Response('', { headers: { 'x-wembed-missing': '1', 'x-wembed-time': new Date().toISOString() } }));
    },
    async delete(key) {
      await (await open()).delete(key);
    },
    async touch(key) {
      const c = await open();
      const res = await c.match(key);
      if (!res) return;
      const headers = new Headers(res.headers);
      headers.set('x-wembed-time', new Date().toISOString());
      await c.put(key, new Response(res.body, { headers }));
    },
  };
}

/**
 * A cache that ignores what `cache` holds and rewrites it: get() finds nothing, so every file is
 * fetched anew and stored again (fetch's `cache: 'reload'`; the CLI's --refresh).
 * @param {ModelCache} cache @returns {ModelCache}
 */
export function reloadingCache(cache) {
  return {
    get: async () => null,
    put: (key, size, info) => cache.put(key, size, info),
    putMissing: (key) => cache.putMissing(key),
    delete: (key) => cache.delete(key),
  };
}

/**
 * The cache an option asks for: true (default) = this platform's, false = none, 'reload' = this
 * platform's, every entry fetched anew and rewritten (reloadingCache), another string = a folder
 * (Node), or a ModelCache object as is.
 * @param {boolean | 'reload' | string | ModelCache | undefined} opt
 * @returns {ModelCache | null}
 */
export function resolveCache(opt) {
  if (opt === false || opt === null) return null;
  if (opt === 'reload') {
    const c = resolveCache(true);
    return c && reloadingCache(c);
  }
  if (typeof opt === 'object') return opt;
  if (typeof opt === 'string') return folderCache(opt);
  if (isNode) return folderCache();
  if (typeof globalThis.caches?.open === 'function') return browserCache();
  return null;
}
