// io.js - the CLI's input and output: JSON Lines read incrementally (each line keeps its number),
// batching, float32 values written in their shortest round-tripping form, stdout with back-pressure
// and EPIPE, a progress line on stderr when it is a terminal, and the bookkeeping of failed lines.

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

let stdoutBroken = false;
process.stdout.on('error', (e) => {
  if (/** @type {any} */ (e).code === 'EPIPE') { stdoutBroken = true; process.exit(process.exitCode ?? 0); }
});

export async function out(line) {
  if (stdoutBroken) return;
  if (!process.stdout.write(line + '\n')) await new Promise((r) => process.stdout.once('drain', r));
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
