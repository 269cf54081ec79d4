// errors.js - the one error type the package throws, and the mapping from engine statuses.

/**
 * Codes: the engine's status names ('invalid_argument', 'alloc_failed', 'bad_format',
 * 'unsupported', 'missing_file', 'missing_tensor', 'shape_mismatch', 'too_long', 'aborted',
 * 'limit', 'internal', 'non_finite': an output vector has NaN or Inf, see allowNonFinite) and the JS
 * side's own:
 *   'network'           a request failed after its retries (the message says which and why)
 *   'not_found'         a file the model needs is not at the source (HTTP 404, no such file)
 *   'integrity'         a download's bytes do not have the sha256 the hub announced for them
 *   'unauthorized'      the hub refused the request (HTTP 401/403): a gated or private model
 *                       needs a `token`, or the token given is wrong
 *   'bad_image'         an image could not be decoded (corrupt or unsupported format)
 *   'image_too_large'   an image has more pixels than the call's maxPixels (read from its header, before decoding)
 *   'disposed'          the embedder or engine was disposed
 *   'aborted_by_signal' the caller's AbortSignal fired
 *   'missing_text'      a reranked index search met a row without its passage text (Index#search rerank.text)
 *   'worker'            the worker thread died
 */
export class WembedError extends Error {
  /**
   * @param {string} code machine-readable reason, stable across versions
   * @param {string} message what happened and, where possible, what to do about it
   * @param {{cause?: unknown}} [options]
   */
  constructor(code, message, options) {
    super(message, options);
    this.name = 'WembedError';
    /** @type {string} */
    this.code = code;
  }
}

/**
 * The error for an engine status: its name as the code, the handle's message as the text.
 * @param {Record<string, number>} statuses the engine's status table (Engine.status)
 * @param {number} rc
 * @param {string} message
 */
export function statusError(statuses, rc, message) {
  const code = Object.keys(statuses).find((k) => statuses[k] === rc) ?? 'internal';
  return new WembedError(code, message || `the engine failed with status ${code}`);
}

/** The error thrown when an AbortSignal fires. @param {AbortSignal} [signal] */
export function abortError(signal) {
  const reason = signal?.reason;
  const why = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
  return new WembedError('aborted_by_signal', `aborted by the caller's AbortSignal${why}`, { cause: reason });
}

/** Throws abortError when signal has fired. @param {AbortSignal} [signal] */
export function throwIfAborted(signal) {
  if (signal?.aborted) throw abortError(signal);
}

/**
 * True when v is an array whose every element passes ok, holes included (Array#some and
 * forEach skip holes, so a sparse array would pass them and fail later as a raw TypeError).
 * @param {unknown} v @param {(x: any, i: number) => unknown} ok @returns {v is any[]}
 */
export function isArrayOf(v, ok) {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!ok(v[i], i)) return false;
  return true;
}
