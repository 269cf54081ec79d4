// errors.js - the one error type the package throws.

/**
 * Codes: the engine's status names ('invalid_argument', 'alloc_failed', 'bad_format',
 * 'unsupported', 'missing_file', 'missing_tensor', 'shape_mismatch', 'too_long', 'aborted',
 * 'limit', 'internal') and the JS side's own ('network', 'disposed', 'aborted_by_signal').
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
