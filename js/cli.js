#!/usr/bin/env node
// cli.js - the `wembed` command (package.json "bin"). The contract is DESIGN.md's: JSON Lines in
// on stdin, JSON Lines out on stdout, one output line per input line and in the same order.
// Input is read incrementally and embedded in small batches, each written before the next is
// read, so memory stays flat on any input size. A bad line gets {"error": ..., "line": N} in its
// place on stdout and a message with its line number on stderr; the other lines are unaffected.
// Exit codes: 0 all lines done, 1 some line failed or a runtime error, 2 usage.

import fs from 'node:fs';
import path from 'node:path';
import { createEngine, MAX_THREADS } from './engine.js';
import { benchGemm, BERT_GEMM_SHAPES } from './bench.js';
import { WembedError } from './errors.js';
import { parseArgs, UsageError } from './cli-args.js';

const USAGE = `usage: wembed <command> [options]   (JSON Lines on stdin, JSON Lines on stdout)

commands:
  tokenize     --model M [--no-special] [--max-length N]
               < {"text": ...}   > {"ids": [...], "tokens": [...], "offsets": [[s,e],...]} (UTF-16 units)
  embed        --model M [--pooling mean|cls|eos|last|max|none] [--no-normalize] [--dims N]
               [--dtype f32|f16|q8] [--threads N] [--batch-size N] [--prefix S | --task T]
               [--max-tokens N] [--truncate error|truncate|chunk] [--chunk-overlap N]
               [--rope-scaling none|linear|ntk|dynamic-ntk[:FACTOR]] [--ntk-length own|padded]
               [--quantize none|int8|binary]
               < {"text": ...} | {"input_ids": [...], "token_type_ids": [...], "attention_mask": [...]}
               > {"embedding": [...]}  or, with --pooling none, {"hidden": [[...],...]}
  embed-image  --model M [--no-normalize] [--pooling none] [--preprocess-only] [--batch-size N] [PATH...]
               < {"path": ...} | {"rgb": base64, "width": W, "height": H} | {"pixel_values": [...]}
               > {"embedding": [...]} | {"hidden": [[...],...]} | {"pixel_values": [...]}
               PATH arguments (image files or folders of them) are embedded instead of stdin,
               each output with its "path".
  info         --model M [--dtype ...]   > architecture, dims, parameters, dtype, max tokens, memory
  search build --index FILE [--model M] [--storage f32|int8|binary] [--rescore int8|f32|bits]
               [--candidates N] [--metric cosine|dot] [--append] [embed options: --dims, --task, ...]
               < {"id": ..., "text": ... | "embedding": [...], "meta": {...}}   > {"id": ..., "added": true}
  search query --index FILE [--model M] [--k N] [--filter JSON] [--candidates N] [--task T | --prefix S]
               < {"text": ...} | {"embedding": [...]} (optional "k", "filter")
               > {"results": [{"id": ..., "score": ..., "meta": ...}, ...]}
  search remove --index FILE   < {"id": ...}   > {"id": ..., "removed": true|false}
  search info  --index FILE    > size, dims, storage, bytes, the model and embed options it was built with
  bench gemm   [--dtype f32|q8|all] [--threads N[,M...]] [--tokens 128,512] [--shapes KxN,...]
               [--min-seconds S] [--variant auto|mt|st] [--peak G] [--json]
               (--peak: this CPU's one-thread peak in GFLOP/s, e.g. from build/bench-peak)
  bench embed  --model M [--batch-size N] [--count N] [--words N] [--threads N] [--dtype ...]

model options (every model command):
  --model M          a folder, an http(s) URL, or a hub id org/name (tokenize: also a tokenizer.json)
  --revision R       hub revision (default main)      --hub-base URL   hub or mirror
  --token T          access token (default: $HF_TOKEN) --file F        weights file (e.g. a .gguf)
  --cache-dir D      download cache (default: $XDG_CACHE_HOME/wembed or ~/.cache/wembed)
  --no-cache         do not cache downloads            --variant auto|mt|st
options:
  --version          the package and engine versions
  --help             this text
`;

const MODEL_SPEC = {
  model: 'string', revision: 'string', 'hub-base': 'string', token: 'string', file: 'string',
  'cache-dir': 'string', cache: 'boolean', variant: 'string', threads: 'string', dtype: 'string',
};

function list(value, parse, name) {
  return String(value).split(',').map((s) => {
    const v = parse(s.trim());
    if (v === undefined || Number.isNaN(v)) throw new UsageError(`bad value in --${name}: ${s}`);
    return v;
  });
}

const positiveInt = (s) => (/^[1-9][0-9]*$/.test(s) ? Number(s) : undefined);

function intArg(args, name, dflt, min = 1) {
  if (args[name] === undefined) return dflt;
  const v = /^[0-9]+$/.test(args[name]) ? Number(args[name]) : NaN;
  if (!(v >= min)) throw new UsageError(`--${name} must be an integer >= ${min}, not ${args[name]}`);
  return v;
}

function choice(args, name, options) {
  const v = args[name];
  if (v !== undefined && !options.includes(v)) throw new UsageError(`--${name} must be one of ${options.join(', ')}, not ${v}`);
  return v;
}

// -----------------------------------------------------------------------------------------
// Output: JSON with float32 values written in their shortest round-tripping form.

function f32(x) {
  if (!Number.isFinite(x)) return 'null';
  if (x === 0) return '0';
  for (let p = 6; p < 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(Number(x.toPrecision(9)));
}
const vecJSON = (v) => (v instanceof Float32Array ? `[${Array.from(v, f32).join(',')}]` : `[${Array.from(v).join(',')}]`);
const rowsJSON = (rs) => `[${rs.map(vecJSON).join(',')}]`;

let stdoutBroken = false;
process.stdout.on('error', (e) => {
  if (/** @type {any} */ (e).code === 'EPIPE') { stdoutBroken = true; process.exit(process.exitCode ?? 0); }
});

async function out(line) {
  if (stdoutBroken) return;
  if (!process.stdout.write(line + '\n')) await new Promise((r) => process.stdout.once('drain', r));
}

// -----------------------------------------------------------------------------------------
// Progress on stderr, only when it is a terminal.

const tty = !!process.stderr.isTTY;
function status(text) {
  if (tty) process.stderr.write(`\r\x1b[K${text}`);
}
function statusDone() {
  if (tty) process.stderr.write('\r\x1b[K');
}
function loadProgress() {
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

/** Yields {n, value} or {n, error} per non-empty line. */
async function* jsonLines(stream) {
  let buf = '';
  let n = 0;
  const parse = (line) => {
    n++;
    const s = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (!s.trim()) return null;
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
      if (r) yield r;
    }
  }
  if (buf) {
    const r = parse(buf);
    if (r) yield r;
  }
}

/** Groups an async sequence into arrays of at most n. */
async function* batches(it, n) {
  let b = [];
  for await (const x of it) {
    b.push(x);
    if (b.length >= n) { yield b; b = []; }
  }
  if (b.length) yield b;
}

/** Counts failed lines, reports them on stderr and in place on stdout. */
class Lines {
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

// -----------------------------------------------------------------------------------------
// Models

function sourceOptions(args) {
  return {
    revision: args.revision,
    hubBase: args['hub-base'],
    token: args.token ?? process.env.HF_TOKEN ?? undefined,
    cache: args.cache === false ? false : args['cache-dir'] ?? true,
  };
}

async function loadEmbedder(args) {
  if (!args.model) throw new UsageError('--model is required');
  const { Embedder } = await import('./embedder.js');
  const threads = args.threads === undefined ? undefined : intArg(args, 'threads', undefined);
  if (threads !== undefined && threads > MAX_THREADS) throw new UsageError(`--threads: at most ${MAX_THREADS}`);
  const variant = choice(args, 'variant', ['auto', 'mt', 'st']) ?? (threads === 1 ? 'st' : 'auto');
  return Embedder.load(args.model, {
    ...sourceOptions(args),
    dtype: /** @type {any} */ (choice(args, 'dtype', ['f32', 'f16', 'q8'])),
    file: args.file,
    variant,
    threads,
    onProgress: loadProgress(),
  });
}

/** Embedding options from the flags of `embed` / `embed-image`. */
function embedOptions(args) {
  /** @type {import('./embedder.js').EmbedOptions} */
  const o = {};
  const pooling = choice(args, 'pooling', ['mean', 'cls', 'eos', 'last', 'max', 'mean_sqrt_len', 'weighted_mean', 'none']);
  if (pooling) o.pooling = /** @type {any} */ (pooling);
  if (args.normalize === false) o.normalize = false;
  if (args.dims !== undefined) o.dims = intArg(args, 'dims');
  if (args['max-tokens'] !== undefined) o.maxTokens = intArg(args, 'max-tokens');
  const tr = choice(args, 'truncate', ['error', 'truncate', 'chunk']);
  if (tr) o.truncate = /** @type {any} */ (tr);
  if (args['chunk-overlap'] !== undefined) o.chunkOverlap = intArg(args, 'chunk-overlap', undefined, 0);
  if (args['rope-scaling'] !== undefined) {
    const m = /^(none|linear|ntk|dynamic-ntk)(?::([0-9]*\.?[0-9]+))?$/.exec(args['rope-scaling']);
    if (!m) throw new UsageError(`--rope-scaling must be none|linear|ntk|dynamic-ntk[:FACTOR], not ${args['rope-scaling']}`);
    o.ropeScaling = /** @type {any} */ (m[1]);
    if (m[2]) o.ropeFactor = Number(m[2]);
  }
  const nl = choice(args, 'ntk-length', ['own', 'padded']);
  if (nl) o.ntkLength = /** @type {any} */ (nl);
  const q = choice(args, 'quantize', ['none', 'int8', 'binary']);
  if (q) o.quantize = /** @type {any} */ (q);
  if (args.prefix !== undefined && args.task !== undefined) throw new UsageError('give --prefix or --task, not both');
  if (args.prefix !== undefined) o.prefix = args.prefix;
  if (args.task !== undefined) o.task = args.task;
  return o;
}

const resultJSON = (r) => (Array.isArray(r) ? `{"hidden":${rowsJSON(r)}}` : `{"embedding":${vecJSON(r)}}`);

/** Runs fn on a batch; if the batch fails, runs the items one by one to find the bad ones. */
async function runBatch(items, fn) {
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

const isIntArray = (a) => Array.isArray(a) && a.every((x) => Number.isInteger(x));

async function embedCommand(argv) {
  const args = parseArgs(argv, {
    ...MODEL_SPEC, pooling: 'string', normalize: 'boolean', dims: 'string', 'batch-size': 'string', prefix: 'string',
    task: 'string', 'max-tokens': 'string', truncate: 'string', 'chunk-overlap': 'string', 'rope-scaling': 'string',
    'ntk-length': 'string', quantize: 'string',
  });
  if (args._.length) throw new UsageError(`embed reads JSON Lines on stdin; unexpected argument ${args._[0]}`);
  const opts = embedOptions(args);
  const batchSize = intArg(args, 'batch-size', 32);
  const e = await loadEmbedder(args);
  const lines = new Lines();
  try {
    for await (const batch of batches(jsonLines(process.stdin), batchSize)) {
      // Parse each line into a text or an ids row; bad lines are answered in place.
      /** @type {Array<{n: number, kind: 'text'|'ids'|'bad', input?: any, error?: string}>} */
      const items = batch.map((l) => {
        if (l.error) return { n: l.n, kind: 'bad', error: l.error };
        const v = l.value;
        if (typeof v.text === 'string') return { n: l.n, kind: 'text', input: v.text };
        if ('input_ids' in v) {
          if (!isIntArray(v.input_ids) || v.input_ids.length === 0) return { n: l.n, kind: 'bad', error: '"input_ids" must be a non-empty array of integers' };
          for (const k of ['token_type_ids', 'attention_mask']) {
            if (k in v && (!isIntArray(v[k]) || v[k].length !== v.input_ids.length)) {
              return { n: l.n, kind: 'bad', error: `"${k}" must be an array of integers as long as "input_ids"` };
            }
          }
          return { n: l.n, kind: 'ids', input: v };
        }
        return { n: l.n, kind: 'bad', error: 'expected {"text": string} or {"input_ids": [...]}' };
      });
      const texts = items.filter((x) => x.kind === 'text');
      const ids = items.filter((x) => x.kind === 'ids');
      const tr = await runBatch(texts, (xs) => e.embed(xs, opts));
      // Rows with token types or masks go one call per shape of options; plain rows together.
      const ir = await runBatch(ids, async (xs) => {
        const withTypes = xs.some((x) => x.token_type_ids);
        const withMask = xs.some((x) => x.attention_mask);
        return e.embedIds(xs.map((x) => x.input_ids), {
          ...opts,
          ...(withTypes ? { tokenTypeIds: xs.map((x) => x.token_type_ids ?? new Array(x.input_ids.length).fill(0)) } : {}),
          ...(withMask ? { attentionMask: xs.map((x) => x.attention_mask ?? new Array(x.input_ids.length).fill(1)) } : {}),
        });
      });
      let ti = 0;
      let ii = 0;
      for (const it of items) {
        if (it.kind === 'bad') { await lines.fail(it.n, it.error); continue; }
        const [r, k] = it.kind === 'text' ? [tr, ti++] : [ir, ii++];
        if (r.failed.has(it.n)) await lines.fail(it.n, r.failed.get(it.n));
        else await out(resultJSON(r.results[k]));
      }
      lines.tick(batch.length);
    }
  } finally {
    e.dispose();
  }
  return lines.finish();
}

const IMAGE_EXT = /\.(png|jpe?g|webp)$/i;

/** Image files of the PATH arguments (folders walked, sorted). */
function* imagePaths(paths) {
  for (const p of paths) {
    let st;
    try { st = fs.statSync(p); } catch { yield p; continue; }   // reported as that path's error
    if (!st.isDirectory()) { yield p; continue; }
    const walk = function* (dir) {
      for (const d of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const f = path.join(dir, d.name);
        if (d.isDirectory()) yield* walk(f);
        else if (IMAGE_EXT.test(d.name)) yield f;
      }
    };
    yield* walk(p);
  }
}

async function embedImageCommand(argv) {
  const args = parseArgs(argv, { ...MODEL_SPEC, pooling: 'string', normalize: 'boolean', 'preprocess-only': 'boolean', 'batch-size': 'string', dims: 'string', quantize: 'string' });
  const opts = embedOptions(args);
  const batchSize = intArg(args, 'batch-size', 8);
  const e = await loadEmbedder(args);
  const lines = new Lines();
  const fromArgs = args._.length > 0;
  async function* input() {
    if (fromArgs) {
      let n = 0;
      for (const p of imagePaths(args._)) yield { n: ++n, value: { path: p } };
    } else {
      yield* jsonLines(process.stdin);
    }
  }
  try {
    for await (const batch of batches(input(), batchSize)) {
      const items = batch.map((l) => {
        if (l.error) return { n: l.n, kind: 'bad', error: l.error };
        const v = l.value;
        if (typeof v.path === 'string') return { n: l.n, kind: 'image', input: v.path, path: v.path };
        if (typeof v.rgb === 'string') {
          if (!Number.isInteger(v.width) || !Number.isInteger(v.height) || v.width <= 0 || v.height <= 0) {
            return { n: l.n, kind: 'bad', error: '"rgb" needs positive integer "width" and "height"' };
          }
          const data = Buffer.from(v.rgb, 'base64');
          const px = v.width * v.height;
          const channels = data.length === px * 3 ? 3 : data.length === px * 4 ? 4 : 0;
          if (!channels) return { n: l.n, kind: 'bad', error: `"rgb" has ${data.length} bytes; ${v.width}x${v.height} needs ${px * 3} (RGB) or ${px * 4} (RGBA)` };
          return { n: l.n, kind: 'image', input: { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: v.width, height: v.height, channels } };
        }
        if (Array.isArray(v.pixel_values)) {
          const flat = v.pixel_values.flat(3);
          if (!flat.every((x) => typeof x === 'number')) return { n: l.n, kind: 'bad', error: '"pixel_values" must hold numbers' };
          return { n: l.n, kind: 'pixels', input: Float32Array.from(flat) };
        }
        return { n: l.n, kind: 'bad', error: 'expected {"path": ...}, {"rgb": base64, "width", "height"} or {"pixel_values": [...]}' };
      });
      const images = items.filter((x) => x.kind === 'image');
      const pixels = items.filter((x) => x.kind === 'pixels');
      const pre = args['preprocess-only'];
      const ir = await runBatch(images, (xs) => (pre ? Promise.all(xs.map((x) => e.preprocessImage(x))) : e.embedImage(xs, opts)));
      const pr = await runBatch(pixels, (xs) => (pre ? Promise.resolve(xs) : e.embedPixels(xs, opts)));
      let a = 0;
      let b = 0;
      for (const it of items) {
        if (it.kind === 'bad') { await lines.fail(it.n, it.error); continue; }
        const [r, k] = it.kind === 'image' ? [ir, a++] : [pr, b++];
        const label = fromArgs && it.path ? `${it.path}: ` : '';
        if (r.failed.has(it.n)) { await lines.fail(it.n, label + r.failed.get(it.n)); continue; }
        const res = r.results[k];
        const head = fromArgs && it.path ? `{"path":${JSON.stringify(it.path)},` : '{';
        if (pre) await out(`${head}"pixel_values":${vecJSON(res)}}`);
        else await out(head + resultJSON(res).slice(1));
      }
      lines.tick(batch.length);
    }
  } finally {
    e.dispose();
  }
  return lines.finish();
}

async function tokenizeCommand(argv) {
  const args = parseArgs(argv, { ...MODEL_SPEC, special: 'boolean', 'max-length': 'string', 'batch-size': 'string' });
  if (!args.model) throw new UsageError('--model is required');
  const { Tokenizer } = await import('./tokenizer.js');
  const tok = await Tokenizer.load(args.model, sourceOptions(args));
  const topts = { addSpecialTokens: args.special !== false, maxLength: intArg(args, 'max-length', 0, 0) };
  const lines = new Lines();
  try {
    for await (const l of jsonLines(process.stdin)) {
      if (l.error) { await lines.fail(l.n, l.error); continue; }
      if (typeof l.value.text !== 'string') { await lines.fail(l.n, 'expected {"text": string}'); continue; }
      try {
        const enc = tok.encode(l.value.text, topts);
        await out(JSON.stringify({ ids: enc.ids, tokens: enc.tokens, offsets: enc.offsets }));
      } catch (e) {
        if (!(e instanceof WembedError)) throw e;
        await lines.fail(l.n, e.message);
      }
      lines.tick(1);
    }
  } finally {
    tok.dispose();
  }
  return lines.finish();
}

async function infoCommand(argv) {
  const args = parseArgs(argv, MODEL_SPEC);
  const e = await loadEmbedder(args);
  try {
    const i = e.info();
    const heap = e.engine.heapU8().byteLength;
    await out(JSON.stringify({
      source: i.source, architecture: i.architecture, modelType: i.modelType, format: i.format, dtype: i.dtype,
      dims: i.dims, hiddenSize: i.hiddenSize, layers: i.layers, heads: i.heads, intermediateSize: i.intermediateSize,
      vocabSize: i.vocabSize, parameters: i.parameters, maxTokens: i.maxSeqLength > 0 ? Math.min(i.maxSeqLength, i.maxTokens) : i.maxTokens,
      positions: i.maxTokens, pooling: i.pooling, normalize: i.normalize,
      ...(i.hasVision ? { vision: { hiddenSize: i.visionHiddenSize, layers: i.visionLayers, heads: i.visionHeads, imageSize: i.imageSize, patchSize: i.patchSize }, logitScale: i.logitScale } : {}),
      text: i.hasText, tasks: i.tasks, matryoshkaDims: i.matryoshkaDims,
      memory: { weightBytes: i.weightBytes, wasmHeapBytes: heap },
      engine: i.engine, files: e.files, warnings: e.warnings ? e.warnings.split('\n').filter(Boolean) : [],
    }));
  } finally {
    e.dispose();
  }
  return 0;
}

async function benchGemmCommand(argv) {
  const args = parseArgs(argv, {
    dtype: 'string', threads: 'string', tokens: 'string', shapes: 'string',
    'min-seconds': 'string', variant: 'string', peak: 'string', json: 'boolean',
  });
  // The peak is the machine's, not the code's: wasm cannot measure it, so it is given
  // (build/bench-peak measures it natively for the instructions the kernels use).
  const peak = args.peak === undefined ? null : Number(args.peak);
  if (peak !== null && !(peak > 0)) throw new UsageError('--peak must be a positive number of GFLOP/s (GOP/s) per thread');
  const dtypes = args.dtype === undefined || args.dtype === 'all' ? ['f32', 'q8'] : list(args.dtype, (s) => (['f32', 'q8'].includes(s) ? s : undefined), 'dtype');
  const threadCounts = args.threads === undefined ? [1, 2] : list(args.threads, positiveInt, 'threads');
  const tokens = args.tokens === undefined ? [128, 512] : list(args.tokens, positiveInt, 'tokens');
  const shapes = args.shapes === undefined ? BERT_GEMM_SHAPES : list(args.shapes, (s) => {
    const m = /^([1-9][0-9]*)x([1-9][0-9]*)$/.exec(s);
    return m ? [Number(m[1]), Number(m[2])] : undefined;
  }, 'shapes');
  const minSeconds = args['min-seconds'] === undefined ? 0.3 : Number(args['min-seconds']);
  if (!(minSeconds > 0 && minSeconds < 600)) throw new UsageError('--min-seconds must be a number of seconds in (0, 600)');
  for (const t of threadCounts) {
    if (t > MAX_THREADS) throw new UsageError(`--threads: at most ${MAX_THREADS}`);
  }

  const rows = [];
  for (const threads of threadCounts) {
    const variant = args.variant ?? (threads > 1 ? 'mt' : 'auto');
    const engine = await createEngine({ variant, threads });
    try {
      for (const dtype of dtypes) {
        for (const T of tokens) {
          for (const [K, N] of shapes) {
            const r = benchGemm(engine, { dtype, T, K, N, minSeconds });
            const row = { ...r, variant: engine.variant, simd: engine.simd, systemInfo: engine.systemInfo,
              ...(peak ? { peakPercent: (100 * r.gflops) / (peak * r.threads) } : {}) };
            rows.push(row);
            if (args.json) process.stdout.write(JSON.stringify(row) + '\n');
            else {
              process.stdout.write(`${dtype.padEnd(4)} T=${String(T).padEnd(4)} K=${String(K).padEnd(5)} N=${String(N).padEnd(5)} ` +
                `threads=${r.threads} ${r.gflops.toFixed(1).padStart(6)} ${dtype === 'q8' ? 'GOP/s ' : 'GFLOP/s'} ` +
                (peak ? `${row.peakPercent.toFixed(0).padStart(3)}% of peak  ` : '') +
                `nmse ${r.nmse.toExponential(1)}  (${engine.systemInfo})\n`);
            }
          }
        }
      }
    } finally {
      engine.dispose();
    }
  }
  return 0;
}

/** Texts per second of a model on generated texts of a given length. */
async function benchEmbedCommand(argv) {
  const args = parseArgs(argv, { ...MODEL_SPEC, 'batch-size': 'string', count: 'string', words: 'string', json: 'boolean' });
  const count = intArg(args, 'count', 256);
  const words = intArg(args, 'words', 40);
  const batch = intArg(args, 'batch-size', 32);
  const t0 = performance.now();
  const e = await loadEmbedder(args);
  const loadMs = performance.now() - t0;
  try {
    const vocab = ['the', 'model', 'embeds', 'text', 'into', 'vectors', 'quickly', 'and', 'portable', 'engines', 'run', 'everywhere'];
    const texts = Array.from({ length: count }, (_, i) => Array.from({ length: words }, (_, k) => vocab[(i * 7 + k * 3) % vocab.length]).join(' '));
    await e.embed(texts.slice(0, Math.min(batch, 8)));   // warm-up
    const t1 = performance.now();
    for (let i = 0; i < texts.length; i += batch) await e.embed(texts.slice(i, i + batch));
    const s = (performance.now() - t1) / 1000;
    const i = e.info();
    const row = { model: args.model, dtype: i.dtype, threads: i.engine.threads, variant: i.engine.variant, texts: count, words, batch, loadMs: Math.round(loadMs), seconds: s, textsPerSecond: count / s };
    await out(args.json ? JSON.stringify(row) : `${args.model}: ${row.textsPerSecond.toFixed(1)} texts/s (${words} words, batch ${batch}, ${i.dtype}, ${row.threads} thread${row.threads > 1 ? 's' : ''}); load ${row.loadMs} ms`);
  } finally {
    e.dispose();
  }
  return 0;
}

// -----------------------------------------------------------------------------------------
// search: a vector index in a file (js/vector-index.js). `build` embeds (or takes) vectors and
// writes the index with the model and embed options in it, so `query` embeds its queries the
// same way; prefixes still come only from --task / --prefix.

const SEARCH_SPEC = {
  ...MODEL_SPEC, index: 'string', storage: 'string', rescore: 'string', candidates: 'string', metric: 'string',
  append: 'boolean', k: 'string', filter: 'string', 'batch-size': 'string', pooling: 'string', normalize: 'boolean',
  dims: 'string', prefix: 'string', task: 'string', 'max-tokens': 'string', truncate: 'string', 'chunk-overlap': 'string',
  'rope-scaling': 'string', 'ntk-length': 'string',
};

/** Embed options that shape the vectors (stored in the index; prefixes are not). */
function vectorOptions(o) {
  const { prefix: _p, task: _t, quantize: _q, ...rest } = o;
  return rest;
}

/** The model a search command uses: --model, else the one the index was built with. */
async function searchModel(args, extra) {
  const model = args.model ?? extra?.model;
  if (!model) return null;
  return loadEmbedder({ ...args, model });
}

const isNumArray = (a) => Array.isArray(a) && a.length > 0 && a.every((x) => typeof x === 'number');

async function searchCommand(argv) {
  const [sub, ...rest] = argv;
  const args = parseArgs(rest, SEARCH_SPEC);
  if (!['build', 'query', 'remove', 'info'].includes(sub)) throw new UsageError(`search needs a subcommand: build, query, remove or info (not ${sub ?? 'none'})`);
  if (!args.index) throw new UsageError('--index FILE is required');
  if (args._.length) throw new UsageError(`search ${sub} reads JSON Lines on stdin; unexpected argument ${args._[0]}`);
  const { Index } = await import('./vector-index.js');
  const exists = fs.existsSync(args.index);
  if (sub !== 'build' || args.append) {
    if (!exists) throw new WembedError('not_found', `no index at ${args.index}${sub === 'build' ? ' to append to' : ''} (make one with: wembed search build --index ${args.index})`);
  }
  const variant = choice(args, 'variant', ['auto', 'mt', 'st']);
  const index = exists && (sub !== 'build' || args.append) ? await Index.loadFile(args.index, { variant }) : null;
  try {
    if (sub === 'info') {
      const i = index.info();
      await out(JSON.stringify({ ...i, model: index.extra?.model ?? null, embed: index.extra?.embed ?? null }));
      return 0;
    }
    if (sub === 'remove') return await searchRemove(args, index);
    if (sub === 'build') return await searchBuild(args, index, Index, variant);
    return await searchQuery(args, index);
  } finally {
    index?.dispose();
  }
}

async function searchBuild(args, existing, Index, variant) {
  if (existing) {
    for (const k of ['storage', 'rescore', 'metric', 'candidates']) {
      if (args[k] !== undefined) throw new UsageError(`--${k} cannot change when appending (the index has its own)`);
    }
  }
  const storage = choice(args, 'storage', ['f32', 'int8', 'binary']);
  const rescore = choice(args, 'rescore', ['int8', 'f32', 'bits']);
  const metric = choice(args, 'metric', ['cosine', 'dot']);
  const candidates = args.candidates === undefined ? undefined : intArg(args, 'candidates');
  const extra = existing?.extra ?? null;
  const opts = { ...(extra?.embed ?? {}), ...embedOptions(args) };
  if (extra?.model && args.model && args.model !== extra.model) {
    throw new UsageError(`the index was built with --model ${extra.model}; appending needs the same model`);
  }
  const batchSize = intArg(args, 'batch-size', 32);
  const e = await searchModel(args, extra);
  let index = existing;
  const lines = new Lines();
  try {
    for await (const batch of batches(jsonLines(process.stdin), batchSize)) {
      const items = batch.map((l) => {
        if (l.error) return { n: l.n, kind: 'bad', error: l.error };
        const v = l.value;
        const id = v.id ?? l.n;
        if (!(typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)))) return { n: l.n, kind: 'bad', error: '"id" must be a string or a number' };
        if (isNumArray(v.embedding)) return { n: l.n, kind: 'vec', id, meta: v.meta, input: Float32Array.from(v.embedding) };
        if (typeof v.text === 'string') {
          if (!e) return { n: l.n, kind: 'bad', error: '"text" needs a model: give --model' };
          return { n: l.n, kind: 'text', id, meta: v.meta, input: v.text };
        }
        return { n: l.n, kind: 'bad', error: 'expected {"id", "text"} or {"id", "embedding": [numbers]}' };
      });
      const texts = items.filter((x) => x.kind === 'text');
      const tr = await runBatch(texts, (xs) => e.embed(xs, opts));
      let ti = 0;
      for (const it of items) {
        if (it.kind === 'text') {
          const k = ti++;
          if (tr.failed.has(it.n)) { it.kind = 'bad'; it.error = tr.failed.get(it.n); } else it.vector = tr.results[k];
        } else if (it.kind === 'vec') it.vector = it.input;
      }
      for (const it of items) {
        if (it.kind === 'bad') { await lines.fail(it.n, it.error); continue; }
        try {
          if (!index) {
            index = await Index.create({ dims: it.vector.length, storage, rescore, metric, candidates, ...(e ? { engine: e.engine } : { variant }) });
            index.extra = { model: e ? modelId(args.model ?? extra?.model) : null, embed: e ? vectorOptions(opts) : null };
          }
          index.add({ id: it.id, vector: it.vector, meta: it.meta });
          await out(JSON.stringify({ id: it.id, added: true }));
        } catch (err) {
          if (!(err instanceof WembedError)) throw err;
          await lines.fail(it.n, err.message);
        }
      }
      lines.tick(batch.length);
    }
    if (!index) throw new WembedError('invalid_argument', 'no vectors: nothing to index (the index file was not written)');
    await index.saveFile(args.index, { extra: index.extra });
  } finally {
    if (index !== existing) index?.dispose();
    e?.dispose();
  }
  return lines.finish();
}

/** The model as the index remembers it: an absolute path for a local folder, else the id or URL. */
function modelId(given) {
  return fs.existsSync(given) ? path.resolve(given) : given;
}

async function searchQuery(args, index) {
  const extra = index.extra ?? {};
  const k = intArg(args, 'k', 10);
  const candidates = args.candidates === undefined ? undefined : intArg(args, 'candidates');
  let filter;
  if (args.filter !== undefined) {
    try { filter = JSON.parse(args.filter); } catch { filter = undefined; }
    if (!filter || typeof filter !== 'object' || Array.isArray(filter)) throw new UsageError('--filter must be a JSON object of metadata fields, e.g. {"lang": "en"}');
  }
  const opts = { ...(extra.embed ?? {}), ...embedOptions(args) };
  const e = await searchModel(args, extra);
  const lines = new Lines();
  try {
    for await (const batch of batches(jsonLines(process.stdin), intArg(args, 'batch-size', 32))) {
      const items = batch.map((l) => {
        if (l.error) return { n: l.n, kind: 'bad', error: l.error };
        const v = l.value;
        if (v.k !== undefined && !(Number.isInteger(v.k) && v.k >= 1)) return { n: l.n, kind: 'bad', error: '"k" must be a positive integer' };
        if (v.filter !== undefined && (!v.filter || typeof v.filter !== 'object' || Array.isArray(v.filter))) return { n: l.n, kind: 'bad', error: '"filter" must be an object of metadata fields' };
        const o = { k: v.k ?? k, filter: v.filter ?? filter, candidates };
        if (isNumArray(v.embedding)) return { n: l.n, kind: 'vec', o, vector: Float32Array.from(v.embedding) };
        if (typeof v.text === 'string') {
          if (!e) return { n: l.n, kind: 'bad', error: '"text" needs a model: the index has none recorded; give --model' };
          return { n: l.n, kind: 'text', o, input: v.text };
        }
        return { n: l.n, kind: 'bad', error: 'expected {"text": ...} or {"embedding": [numbers]}' };
      });
      const texts = items.filter((x) => x.kind === 'text');
      const tr = await runBatch(texts, (xs) => e.embed(xs, opts));
      let ti = 0;
      for (const it of items) {
        if (it.kind === 'bad') { await lines.fail(it.n, it.error); continue; }
        if (it.kind === 'text') {
          const j = ti++;
          if (tr.failed.has(it.n)) { await lines.fail(it.n, tr.failed.get(it.n)); continue; }
          it.vector = tr.results[j];
        }
        try {
          const hits = index.search(it.vector, it.o);
          await out(`{"results":[${hits.map((h) => `{"id":${JSON.stringify(h.id)},"score":${f32(h.score)},"meta":${JSON.stringify(h.meta)}}`).join(',')}]}`);
        } catch (err) {
          if (!(err instanceof WembedError)) throw err;
          await lines.fail(it.n, err.message);
        }
      }
      lines.tick(batch.length);
    }
  } finally {
    e?.dispose();
  }
  return lines.finish();
}

async function searchRemove(args, index) {
  const lines = new Lines();
  let changed = false;
  for await (const l of jsonLines(process.stdin)) {
    if (l.error) { await lines.fail(l.n, l.error); continue; }
    const id = l.value.id;
    if (!(typeof id === 'string' || typeof id === 'number')) { await lines.fail(l.n, 'expected {"id": string | number}'); continue; }
    const removed = index.remove(id);
    changed ||= removed;
    await out(JSON.stringify({ id, removed }));
    lines.tick(1);
  }
  if (changed) await index.saveFile(args.index, { extra: index.extra });
  return lines.finish();
}

async function main(argv) {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const engine = await createEngine({ variant: 'st' });
    process.stdout.write(`wembed ${pkg.version} (engine ${engine.version}, ${engine.systemInfo})\n`);
    engine.dispose();
    return 0;
  }
  const [command, ...rest] = argv;
  switch (command) {
    case 'tokenize': return tokenizeCommand(rest);
    case 'embed': return embedCommand(rest);
    case 'embed-image': return embedImageCommand(rest);
    case 'info': return infoCommand(rest);
    case 'bench':
      if (rest[0] === 'gemm') return benchGemmCommand(rest.slice(1));
      if (rest[0] === 'embed') return benchEmbedCommand(rest.slice(1));
      throw new UsageError(`unknown benchmark: ${rest[0] ?? '(none)'}; there are gemm and embed`);
    case 'search': return searchCommand(rest);
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    statusDone();
    if (err instanceof UsageError) {
      process.stderr.write(`wembed: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (err instanceof WembedError) {
      process.stderr.write(`wembed: ${err.message} [${err.code}]\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`wembed: ${err?.stack ?? err}\n`);
      process.exitCode = 1;
    }
  },
);
