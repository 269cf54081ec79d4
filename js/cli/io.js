// io.js - the CLI's input and output: JSON Lines read incrementally (each line keeps its number),
// batching, float32 values written in their shortest round-tripping form, stdout with back-pressure,
// EPIPE (a quiet end) and write errors (an error), a progress line on stderr when it is a terminal, and the bookkeeping of failed lines.

import { WembedError } from '../errors.js';

// -----------------------------------------------------------------------------------------
// Output: JSON with float32 values written in their shortest round-tripping form.

export function f32(x) {
  if (!Number.isFinite(x)) return 'null';
  if (x === 0) return '0';
  for (let p = 6; p < 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(Number(x.toPrecision(9)));
}
export const vecJSON = (v) => (v instanceof Float32Array ? `[${Array.from(v, f32).join(',')}]` : `[${Array.from(v).join(',')}]`);
export const rowsJSON = (rs) => `[${rs.map(vecJSON).join(',')}]`;

/** A write to stdout failed (disk full, I/O error, ...): the run fails with exit code 1. */
export class WriteError extends Error {
  /** @param {any} cause */
  constructor(cause) {
    super(`cannot write to stdout: ${cause?.message ?? cause}${cause?.code && !String(cause?.message).includes(cause.code) ? ` (${cause.code})` : ''}`, { cause });
    this.name = 'WriteError';
  }
}

// A closed pipe (EPIPE: the reader went away, as with `| head -1`) ends the run quietly; any other
// write error is kept and thrown by the next out() or by flushOut(), so nothing is lost silently.
let stdoutBroken = false;
/** @type {any} */
let stdoutError = null;
process.stdout.on('error', (e) => {
  if (/** @type {any} */ (e).code === 'EPIPE') { stdoutBroken = true; process.exit(process.exitCode ?? 0); }
  stdoutError ??= e;
});

/** Resolves on 'drain', or when stdout fails or closes (a failed stream never drains). */
function drained() {
  return new Promise((resolve) => {
    const done = () => {
      for (const ev of ['drain', 'error', 'close']) process.stdout.off(ev, done);
      resolve(undefined);
    };
    for (const ev of ['drain', 'error', 'close']) process.stdout.on(ev, done);
  });
}

export async function out(line) {
  if (stdoutBroken) return;
  if (stdoutError) throw new WriteError(stdoutError);
  if (!process.stdout.write(line + '\n')) await drained();
  if (stdoutError) throw new WriteError(stdoutError);
}

/** Waits until everything written to stdout has gone out; throws WriteError if any write failed. */
export async function flushOut() {
  if (stdoutBroken) return;
  if (!stdoutError && !process.stdout.destroyed) {
    await new Promise((resolve) => process.stdout.write('', (err) => { if (err) stdoutError ??= err; resolve(undefined); }));
    await new Promise((resolve) => setImmediate(resolve));   // an error event from a sync write comes a tick later
  }
  if (stdoutError) throw new WriteError(stdoutError);
}

export const resultJSON = (r) => (Array.isArray(r) ? `{"hidden":${rowsJSON(r)}}` : `{"embedding":${vecJSON(r)}}`);

// -----------------------------------------------------------------------------------------
// Progress on stderr, only when it is a terminal.

const tty = !!process.stderr.isTTY;
export function status(text) {
  if (tty) process.stderr.write(`\r\x1b[K${text}`);
}
export function statusDone() {
  if (tty) process.stderr.write('\r\x1b[K');
}
export function loadProgress() {
  if (!tty) return undefined;
  let last = 0;
  return (e) => {
    const now = Date.now();
    if (e.status === 'ready') { statusDone(); return; }
    if (e.status === 'debug') return;
    if (now - last < 100 && e.loaded !== e.total) return;
    last = now;
    const mb = (n) => (n / 1048576).toFixed(1);
    const pct = e.total > 0 ? Math.floor((20 * e.loaded) / e.total) : 0;
    const bar = e.total > 0 ? `[${'#'.repeat(pct)}${'.'.repeat(20 - pct)}] ` : '';
    status(`${e.status === 'download' ? 'downloading' : 'loading'} ${e.file} ${bar}${mb(e.loaded)}${e.total > 0 ? '/' + mb(e.total) : ''} MB`);
  };
}

// -----------------------------------------------------------------------------------------
// Input: JSON Lines read incrementally; each line keeps its number.

/** Yields {n, value} or {n, error} per line. A blank line is an error too (not skipped), so every
 * input line gets exactly one output line and outputs never shift against their inputs; only the
 * end of the input after a final newline is not a line. */
export async function* jsonLines(stream) {
  let buf = '';
  let n = 0;
  const parse = (line) => {
    n++;
    const s = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (!s.trim()) return { n, error: 'blank line' };
    try {
      const value = JSON.parse(s);
      if (!value || typeof value !== 'object' || Array.isArray(value)) return { n, error: 'expected a JSON object' };
      return { n, value };
    } catch (e) {
      return { n, error: `not valid JSON: ${/** @type {any} */ (e).message}` };
    }
  };
  stream.setEncoding('utf8');
  for await (const chunk of stream) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const r = parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      yield r;
    }
  }
  if (buf) yield parse(buf);
}

/** Groups an async sequence into arrays of at most n. */
export async function* batches(it, n) {
  let b = [];
  for await (const x of it) {
    b.push(x);
    if (b.length >= n) { yield b; b = []; }
  }
  if (b.length) yield b;
}

/** Counts failed lines, reports them on stderr and in place on stdout. */
export class Lines {
  constructor() { this.failed = 0; this.done = 0; this.t0 = Date.now(); }
  async fail(n, msg) {
    this.failed++;
    process.stderr.write(`${tty ? '\r\x1b[K' : ''}wembed: line ${n}: ${msg}\n`);
    await out(JSON.stringify({ error: msg, line: n }));
  }
  tick(k) {
    this.done += k;
    if (!tty || Date.now() - (this.shown ?? 0) < 100) return;
    this.shown = Date.now();
    const s = (Date.now() - this.t0) / 1000;
    status(`${this.done} lines  ${s > 0 ? (this.done / s).toFixed(1) : '0'} lines/s${this.failed ? `  ${this.failed} failed` : ''}`);
  }
  finish() {
    statusDone();
    return this.failed ? 1 : 0;
  }
}

/** Runs fn on a batch; if the batch fails, runs the items one by one to find the bad ones. */
export async function runBatch(items, fn) {
  if (items.length === 0) return { results: [], failed: new Map() };
  try {
    return { results: await fn(items.map((x) => x.input)), failed: new Map() };
  } catch (e) {
    if (!(e instanceof WembedError)) throw e;
  }
  const results = [];
  const failed = new Map();
  for (const it of items) {
    try {
      results.push((await fn([it.input]))[0]);
    } catch (e) {
      if (!(e instanceof WembedError)) throw e;
      failed.set(it.n, e.message);
      results.push(null);
    }
  }
  return { results, failed };
}
