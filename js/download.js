// download.js - HTTP downloads that stream, retry, resume and time out.
//
// A file is read as an async sequence of chunks. A failed request (network error, HTTP 408,
// 429 or 5xx) is retried with exponential backoff; a body that breaks off mid-way (a dropped
// connection, fewer bytes than Content-Length) is resumed from the byte where it stopped with a
// Range request, so a consumer that already took those bytes (the engine's loader) never sees
// them twice. A connection that sends nothing for `timeout` ms counts as failed. 404 is
// reported, not retried (optional files are allowed to be missing); 401/403 fail at once.
// Not here: caching (cache.js) and which files a model needs (sources.js).

import { WembedError, abortError, throwIfAborted } from './errors.js';

/**
 * @typedef {object} DownloadOptions
 * @property {typeof fetch} [fetch] the fetch to use (default: globalThis.fetch)
 * @property {Record<string, string>} [headers] extra request headers (Authorization, ...)
 * @property {number} [maxRetries=3] retries per request after the first try
 * @property {number} [retryDelay=500] first backoff in ms; doubles on each retry
 * @property {number} [timeout=30000] ms without a byte before a try counts as failed
 * @property {AbortSignal} [signal]
 */

/**
 * Sleeps ms, or rejects when the signal fires.
 * @param {number} ms @param {AbortSignal} [signal]
 */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(undefined); }, ms);
    const onAbort = () => { clearTimeout(t); reject(abortError(signal)); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const retriableStatus = (s) => s === 408 || s === 425 || s === 429 || s >= 500;

/** A short description of what went wrong in one try. */
function describe(e) {
  if (e instanceof WembedError) return e.message;
  const cause = /** @type {any} */ (e)?.cause;
  const inner = cause?.code || cause?.message;
  return `${/** @type {any} */ (e)?.message ?? e}${inner && inner !== e?.message ? ` (${inner})` : ''}`;
}

/**
 * One try: fetch url from byte `offset` with an idle timeout. Resolves to the response, with
 * `attempt` (an AbortController for this try) and `arm()` (restarts the idle timer).
 */
async function tryFetch(url, offset, opts, attempt) {
  const headers = { ...(opts.headers ?? {}) };
  if (offset > 0) headers.Range = `bytes=${offset}-`;
  const fetchFn = opts.fetch ?? globalThis.fetch;
  return fetchFn(url, { headers, signal: attempt.signal, redirect: 'follow', credentials: 'same-origin' });
}

/** The body's length from the headers, or -1 (unknown: compressed or chunked). */
function bodyLength(res) {
  const enc = res.headers.get('content-encoding');
  if (enc && enc !== 'identity') return -1;
  const n = Number(res.headers.get('content-length'));
  return res.headers.has('content-length') && Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

/**
 * Opens url for streaming. Resolves to null on HTTP 404 (and 410), else to
 * `{ size, chunks }`: size in bytes (-1 if the server does not say) and an async iterator of
 * Uint8Array chunks that resumes and retries by itself. `fromOffset` skips that many bytes
 * (used to continue after a corrupt cache entry).
 * @param {string} url
 * @param {DownloadOptions & {fromOffset?: number}} [opts]
 * @returns {Promise<{size: number, status: number, headers: Headers, chunks: AsyncGenerator<Uint8Array>, cancel: () => void} | null>}
 */
export async function openDownload(url, opts = {}) {
  const maxRetries = opts.maxRetries ?? 3;
  const retryDelay = opts.retryDelay ?? 500;
  const timeout = opts.timeout ?? 30000;
  const signal = opts.signal;
  let failures = 0;
  /** @type {string[]} */
  const why = [];

  // Waits out the backoff after a failed try, or throws when the retries are spent.
  async function backoff(reason, retryAfter) {
    why.push(reason);
    if (failures++ >= maxRetries) {
      throw new WembedError('network', `could not download ${url}: ${why.join('; then ')}` +
        ` (${failures} tr${failures > 1 ? 'ies' : 'y'}; check the network or the URL, or raise maxRetries)`);
    }
    const ms = retryAfter ?? retryDelay * 2 ** (failures - 1);
    await sleep(Math.min(ms, 30000), signal);
  }

  // Starts a try at `offset`; returns {res, attempt, timer} or null for 404.
  async function start(offset) {
    for (;;) {
      throwIfAborted(signal);
      const attempt = new AbortController();
      const onAbort = () => attempt.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      let timer;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => attempt.abort(new WembedError('network', `no data for ${timeout / 1000} s`)), timeout);
      };
      const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); };
      arm();
      let res;
      try {
        res = await tryFetch(url, offset, opts, attempt);
      } catch (e) {
        done();
        throwIfAborted(signal);
        const r = attempt.signal.reason;
        await backoff(r instanceof WembedError ? r.message : describe(e));
        continue;
      }
      if (res.status === 404 || res.status === 410) {
        done();
        await res.body?.cancel().catch(() => {});
        return null;
      }
      if (res.status === 401 || res.status === 403) {
        done();
        await res.body?.cancel().catch(() => {});
        throw new WembedError('unauthorized', `${url}: HTTP ${res.status}: the server refused access. Check the id ` +
          '(the hub answers 401 for repositories that do not exist, too); a gated or private model needs a valid ' +
          'access token (the `token` option, or --token / $HF_TOKEN for the CLI)');
      }
      if (!res.ok) {
        done();
        await res.body?.cancel().catch(() => {});
        const ra = Number(res.headers.get('retry-after'));
        if (retriableStatus(res.status)) {
          await backoff(`HTTP ${res.status}`, Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined);
          continue;
        }
        throw new WembedError('network', `could not download ${url}: HTTP ${res.status} ${res.statusText}`);
      }
      return { res, attempt, arm, done };
    }
  }

  const first = await start(opts.fromOffset ?? 0);
  if (!first) return null;
  let size = bodyLength(first.res);
  if (opts.fromOffset && first.res.status === 206) {
    const m = /\/(\d+)\s*$/.exec(first.res.headers.get('content-range') ?? '');
    size = m ? Number(m[1]) : -1;
  } else if (opts.fromOffset) {
    size = bodyLength(first.res);
  }

  let started = false;
  async function* chunks() {
    started = true;
    let cur = first;
    let pos = opts.fromOffset ?? 0;   // bytes of the file handed out so far
    let skip = cur.res.status === 206 ? 0 : pos;   // a server that ignored Range sends from 0
    for (;;) {
      const reader = cur.res.body.getReader();
      let broke = null;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          cur.arm();
          let v = value;
          if (skip > 0) {
            const k = Math.min(skip, v.byteLength);
            skip -= k;
            v = v.subarray(k);
            if (v.byteLength === 0) continue;
          }
          if (size >= 0 && pos + v.byteLength > size) {
            throw new WembedError('network', `${url}: the server sent more than the ${size} bytes it announced`);
          }
          pos += v.byteLength;
          yield v;
        }
      } catch (e) {
        if (e instanceof WembedError && e.code === 'network' && /more than/.test(e.message)) throw e;
        throwIfAborted(signal);
        const r = cur.attempt.signal.reason;
        broke = r instanceof WembedError ? r.message : describe(e);
      } finally {
        cur.done();
        reader.cancel().catch(() => {});   // a no-op after the end; frees the socket otherwise
      }
      if (!broke && (size < 0 || pos === size)) return;
      if (!broke) broke = `the connection closed after ${pos} of ${size} bytes`;
      if (size < 0) throw new WembedError('network', `could not download ${url}: ${broke} (the server gave no size, so it cannot be resumed)`);
      cur.res.body?.cancel().catch(() => {});
      await backoff(broke);
      const next = await start(pos);
      if (!next) throw new WembedError('network', `${url} disappeared (HTTP 404) in the middle of its download`);
      if (next.res.status === 206) {
        const m = /^bytes (\d+)-\d+\/(\d+|\*)/.exec(next.res.headers.get('content-range') ?? '');
        if (!m || Number(m[1]) !== pos || (m[2] !== '*' && Number(m[2]) !== size)) {
          next.done();
          await next.res.body?.cancel().catch(() => {});
          throw new WembedError('network', `${url} changed during its download (the resumed range does not match)`);
        }
        skip = 0;
      } else {
        if (bodyLength(next.res) >= 0 && bodyLength(next.res) !== size) {
          next.done();
          await next.res.body?.cancel().catch(() => {});
          throw new WembedError('network', `${url} changed during its download (its size is now ${bodyLength(next.res)})`);
        }
        skip = pos;
      }
      cur = next;
    }
  }

  return {
    size,
    status: first.res.status,
    headers: first.res.headers,
    chunks: chunks(),
    /** Releases the connection of a download whose chunks were never read. */
    cancel() {
      if (started) return;
      started = true;
      first.done();
      first.res.body?.cancel().catch(() => {});
    },
  };
}

/**
 * Downloads a whole (small) file; null on 404.
 * @param {string} url @param {DownloadOptions} [opts]
 * @returns {Promise<Uint8Array | null>}
 */
export async function downloadBytes(url, opts) {
  const d = await openDownload(url, opts);
  if (!d) return null;
  return collect(d.chunks, d.size);
}

/**
 * Concatenates chunks into one Uint8Array.
 * @param {AsyncIterable<Uint8Array>} chunks @param {number} [size] expected size, -1 unknown
 */
export async function collect(chunks, size = -1) {
  /** @type {Uint8Array[]} */
  const parts = [];
  let n = 0;
  for await (const c of chunks) {
    parts.push(c);
    n += c.byteLength;
  }
  if (parts.length === 1 && (size < 0 || n === size)) return parts[0];
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}
