// embed.js - the `embed` (texts or token ids) and `embed-image` (paths, folders, RGB bytes or
// pixel values) commands: lines read in batches, each batch embedded in one call, a failed batch
// retried line by line so that only the bad lines fail.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, UsageError, intArg } from './args.js';
import { jsonLines, batches, Lines, runBatch, out, resultJSON, vecJSON } from './io.js';
import { MODEL_SPEC, commandEngine, loadEmbedder, embedOptions, checkEmbedOptions } from './model.js';

const isIntArray = (a) => Array.isArray(a) && a.every((x) => Number.isInteger(x));

export async function embedCommand(argv) {
  const args = parseArgs(argv, {
    ...MODEL_SPEC, pooling: 'string', normalize: 'boolean', dims: 'string', 'batch-size': 'string', prefix: 'string',
    task: 'string', 'max-tokens': 'string', truncate: 'string', 'chunk-overlap': 'string', 'rope-scaling': 'string',
    'ntk-length': 'string', quantize: 'string', 'attention-temperature': 'string', 'self-extend': 'string',
  });
  if (args._.length) throw new UsageError(`embed reads JSON Lines on stdin; unexpected argument ${args._[0]}`);
  if (!args.model) throw new UsageError('--model is required');
  const opts = embedOptions(args, (await commandEngine(args)).consts);
  const batchSize = intArg(args, 'batch-size', 32);
  const e = await loadEmbedder(args);
  const lines = new Lines();
  try {
    checkEmbedOptions(e, opts);
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

export async function embedImageCommand(argv) {
  const args = parseArgs(argv, { ...MODEL_SPEC, pooling: 'string', normalize: 'boolean', 'preprocess-only': 'boolean', 'batch-size': 'string', dims: 'string', quantize: 'string', 'max-pixels': 'string' });
  if (!args.model) throw new UsageError('--model is required');
  const opts = embedOptions(args, (await commandEngine(args)).consts);
  if (args['max-pixels'] !== undefined) opts.maxPixels = intArg(args, 'max-pixels', undefined, 0);
  const batchSize = intArg(args, 'batch-size', 8);
  const e = await loadEmbedder(args);
  try {
    if (!args['preprocess-only']) checkEmbedOptions(e, opts, { image: true });
  } catch (err) {
    e.dispose();
    throw err;
  }
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
      const ir = await runBatch(images, (xs) => (pre ? Promise.all(xs.map((x) => e.preprocessImage(x, { maxPixels: opts.maxPixels }))) : e.embedImage(xs, opts)));
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

