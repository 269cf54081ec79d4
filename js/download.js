// download.js - HTTP downloads that stream, retry, resume and time out.
//
// A file is read as an async sequence of chunks. A failed request (network error, HTTP 408,
// 429 or 5xx) is retried with exponential backoff; a body that breaks off mid-way (a dropped
// connection, fewer bytes than Content-Length) is resumed from the byte where it stopped with a
// Range request, so a consumer that already took those bytes (the engine's loader) never sees
// them twice. A resume is only ever made with `If-Range` (the first answer's strong ETag, else
// its Last-Modified) and its answer is checked: a 206 whose ETag or total size differs, or a 200
// that is not the same version of the file, means the file changed between the two parts, and
// the download fails with a `restart` error (the loader starts that load again from byte 0)
// rather than splice two versions together. Without any validator a broken download is never
// resumed, only restarted. A connection that sends nothing for `timeout` ms counts as failed.
// 404 is reported, not retried (optional files are allowed to be missing); 401/403 fail at once.
// Conditional requests (If-None-Match / If-Modified-Since) answer 304 as `notModified`.
// In Node redirects are followed here, hop by hop, so that the hub's `X-Linked-Etag` (the
// sha256 of an LFS file, sent on the redirect to its CDN) is seen; the Authorization header is
// dropped when a hop leaves the first origin, as fetch itself does.
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

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';
const SHA256 = /^"?([0-9a-f]{64})"?$/i;

/**
 * One try: fetch url from byte `offset` (with If-Range when resuming) with an idle timeout.
 * Resolves to the response and the sha256 a hop's X-Linked-Etag announced (or null).
 */
async function tryFetch(url, offset, opts, attempt, extra) {
  /** @type {Record<string, string>} */
  let headers = { ...(opts.headers ?? {}), ...extra };
  if (offset > 0) headers.Range = `bytes=${offset}-`;
  const fetchFn = opts.fetch ?? globalThis.fetch;
  const init = { signal: attempt.signal, credentials: /** @type {RequestCredentials} */ ('same-origin') };
  if (!isNode) return { res: await fetchFn(url, { ...init, headers, redirect: 'follow' }), linked: null };
  let linked = null;
  let at = url;
  const origin = new URL(url).origin;
  for (let hop = 0; ; hop++) {
    const res = await fetchFn(at, { ...init, headers, redirect: 'manual' });
    const m = SHA256.exec(res.headers.get('x-linked-etag') ?? '');
    if (m) linked = m[1].toLowerCase();
    const loc = res.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(res.status) || !loc) return { res, linked };
    await res.body?.cancel().catch(() => {});
    if (hop >= 10) throw new WembedError('network', `${url}: more than 10 redirects`);
    at = new URL(loc, at).href;
    if (new URL(at).origin !== origin) {
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
    }
  }
}

/** A strong ETag usable in If-Range (a weak one, W/"...", is not), or null. */
function strongEtag(res) {
  const e = res.headers.get('etag');
  return e && !e.startsWith('W/') ? e : null;
}

/** An error that asks the caller to start reading the file again from byte 0. */
function restartError(message) {
  const e = new WembedError('network', message);
  /** @type {any} */ (e).restart = true;
  return e;
}

/** The body's length from the headers, or -1 (unknown: compressed or chunked). */
function bodyLength(res) {
  const enc = res.headers.get('content-encoding');
  if (enc && enc !== 'identity') return -1;
  const n = Number(res.headers.get('content-length'));
  return res.headers.has('content-length') && Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

/**
 * @typedef {object} Download
 * @property {number} size bytes, -1 if the server does not say
 * @property {number} status
 * @property {Headers} headers
 * @property {string | null} etag the answer's strong ETag
 * @property {string | null} lastModified
 * @property {string | null} sha256 what the hub announced (X-Linked-Etag), lowercase hex
 * @property {AsyncGenerator<Uint8Array>} chunks
 * @property {() => void} cancel releases the connection of a download whose chunks were never read
 *
 * @typedef {object} OpenOptions
 * @property {number} [fromOffset] start at this byte (continuing a cache entry that broke off)
 * @property {string} [ifRange] the validator of the version whose first fromOffset bytes the caller has
 * @property {{etag?: string | null, lastModified?: string | null}} [conditional] ask only if the file changed
 * @property {boolean} [firstTryOnly] no retries for the first request (its failure is thrown at once)
 */

/**
 * Opens url for streaming. Resolves to null on HTTP 404 (and 410), to `{notModified: true}` when
 * a `conditional` request answers 304, else to a Download whose chunks resume and retry by
 * themselves.
 * @param {string} url
 * @param {DownloadOptions & OpenOptions} [opts]
 * @returns {Promise<Download | {notModified: true} | null>}
 */
export async function openDownload(url, opts = {}) {
  const maxRetries = opts.maxRetries ?? 3;
  const retryDelay = opts.retryDelay ?? 500;
  const timeout = opts.timeout ?? 30000;
  const signal = opts.signal;
  let failures = 0;
  // `firstTryOnly` (a revalidation: the cached copy is the fallback) gives up on the first
  // request at once; once it answered, the body's resumes get the usual retries.
  let budget = opts.firstTryOnly ? 0 : maxRetries;
  /** @type {string[]} */
  const why = [];

  // Waits out the backoff after a failed try, or throws when the retries are spent.
  async function backoff(reason, retryAfter) {
    why.push(reason);
    if (failures++ >= budget) {
      throw new WembedError('network', `could not download ${url}: ${why.join('; then ')}` +
        ` (${failures} tr${failures > 1 ? 'ies' : 'y'}; check the network or the URL, or raise maxRetries)`);
    }
    const ms = retryAfter ?? retryDelay * 2 ** (failures - 1);
    await sleep(Math.min(ms, 30000), signal);
  }

  // Starts a try at `offset`; returns {res, linked, attempt, arm, done}, null for 404, or
  // {notModified} for a 304.
  async function start(offset, extra = {}) {
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
      let linked;
      try {
        ({ res, linked } = await tryFetch(url, offset, opts, attempt, extra));
      } catch (e) {
        done();
        throwIfAborted(signal);
        if (e instanceof WembedError) throw e;
        const r = attempt.signal.reason;
        await backoff(r instanceof WembedError ? r.message : describe(e));
        continue;
      }
      if (res.status === 404 || res.status === 410) {
        done();
        await res.body?.cancel().catch(() => {});
        return null;
      }
      if (res.status === 304 && ('If-None-Match' in extra || 'If-Modified-Since' in extra)) {
        done();
        await res.body?.cancel().catch(() => {});
        return { notModified: true };
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
      return { res, linked, attempt, arm, done };
    }
  }

  /** Drops a try whose answer is not used. */
  const drop = async (t) => { t.done(); await t.res.body?.cancel().catch(() => {}); };

  /**
   * Checks the answer to a request for the bytes from `pos` on, made with If-Range `validator`:
   * returns how many bytes of its body to skip (a 200 of the same version: the server ignored
   * Range), or throws a restart error when the file is not the version of the bytes before pos.
   */
  async function resumed(t, pos, total, validator, etag) {
    const res = t.res;
    if (res.status === 206) {
      const m = /^bytes (\d+)-\d+\/(\d+|\*)/.exec(res.headers.get('content-range') ?? '');
      const e = strongEtag(res);
      if (m && Number(m[1]) === pos && (total < 0 || m[2] === '*' || Number(m[2]) === total) && !(e && etag && e !== etag)) return 0;
      await drop(t);
      throw restartError(`${url} changed during its download (the resumed part is from another version of the file)`);
    }
    const same = validator && (strongEtag(res) === validator || res.headers.get('last-modified') === validator);
    if (same && (total < 0 || bodyLength(res) < 0 || bodyLength(res) === total)) return pos;
    await drop(t);
    throw restartError(`${url} changed during its download (the server sent the whole file again, not the same version)`);
  }

  const from = opts.fromOffset ?? 0;
  /** @type {Record<string, string>} */
  const firstExtra = {};
  if (from > 0) {
    if (!opts.ifRange) throw restartError(`${url}: cannot continue at byte ${from} without a validator (ETag / Last-Modified)`);
    firstExtra['If-Range'] = opts.ifRange;
  }
  if (opts.conditional?.etag) firstExtra['If-None-Match'] = opts.conditional.etag;
  if (opts.conditional?.lastModified) firstExtra['If-Modified-Since'] = opts.conditional.lastModified;
  const first = await start(from, firstExtra);
  budget = maxRetries;
  if (!first) return null;
  if ('notModified' in first) return { notModified: true };
  let size = bodyLength(first.res);
  const etag = from > 0 ? (strongEtag(first.res) ?? (opts.ifRange?.startsWith('"') ? opts.ifRange : null)) : strongEtag(first.res);
  const lastModified = first.res.headers.get('last-modified');
  const sha256 = first.linked ?? SHA256.exec(first.res.headers.get('x-linked-etag') ?? '')?.[1].toLowerCase() ?? null;
  let firstSkip = 0;
  if (from > 0) {
    const m = /\/(\d+)\s*$/.exec(first.res.headers.get('content-range') ?? '');
    size = first.res.status === 206 ? (m ? Number(m[1]) : -1) : bodyLength(first.res);
    const known = opts.ifRange?.startsWith('"') ? opts.ifRange : null;   // the ETag of the bytes before `from`
    firstSkip = await resumed(first, from, -1, opts.ifRange, known);
  }
  // What a resume sends as If-Range: the strong ETag, else the Last-Modified date.
  const validator = etag ?? (from > 0 ? opts.ifRange : lastModified) ?? null;

  let started = false;
  async function* chunks() {
    started = true;
    let cur = first;
    let pos = from;   // bytes of the file handed out so far
    let skip = firstSkip;
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
      if (pos > 0 && !validator) {
        throw restartError(`${url}: ${broke}, and the server gave no ETag or Last-Modified to resume it safely with`);
      }
      const next = await start(pos, pos > 0 ? { 'If-Range': validator } : {});
      if (!next) throw new WembedError('network', `${url} disappeared (HTTP 404) in the middle of its download`);
      if ('notModified' in next) throw new WembedError('network', `${url}: HTTP 304 to a plain request`);
      skip = pos > 0 ? await resumed(next, pos, size, validator, etag) : 0;
      cur = next;
    }
  }

  return {
    size,
    status: first.res.status,
    headers: first.res.headers,
    etag,
    lastModified,
    sha256,
    chunks: chunks(),
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
  if (!d || 'notModified' in d) return null;
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
