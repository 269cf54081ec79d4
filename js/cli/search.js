// search.js - `search build|query|remove|info`: a vector index in a file (js/vector-index.js).
// `build` embeds (or takes) vectors and writes the index with the model and embed options in it,
// so `query` embeds its queries the same way; prefixes still come only from --task / --prefix.

import fs from 'node:fs';
import path from 'node:path';
import { WembedError } from '../errors.js';
import { Index, INDEX_NAMES } from '../vector-index.js';
import { parseArgs, UsageError, intArg, choice } from './args.js';
import { jsonLines, batches, Lines, runBatch, out, f32 } from './io.js';
import { MODEL_SPEC, commandEngine, loadEmbedder, embedOptions, checkEmbedOptions } from './model.js';

const SEARCH_SPEC = {
  ...MODEL_SPEC, index: 'string', storage: 'string', rescore: 'string', candidates: 'string', metric: 'string',
  append: 'boolean', k: 'string', filter: 'string', 'batch-size': 'string', pooling: 'string', normalize: 'boolean',
  dims: 'string', prefix: 'string', task: 'string', 'max-tokens': 'string', truncate: 'string', 'chunk-overlap': 'string',
  'rope-scaling': 'string', 'ntk-length': 'string', 'attention-temperature': 'string', 'self-extend': 'string',
};

/** Embed options that shape the vectors (stored in the index; prefixes are not). */
function vectorOptions(o) {
  const { prefix: _p, task: _t, quantize: _q, ...rest } = o;
  return rest;
}

/**
 * The model a search command embeds texts with: --model, else the one the index was built with.
 * A --model other than the index's is refused (its vectors would not be comparable, even at the
 * same width). Loaded on first use: lines that bring their own embeddings never load (or fetch) it.
 * @returns {() => Promise<import('../embedder.js').Embedder | null>} plus .loaded, the embedder once loaded
 */
function searchModel(args, extra, opts) {
  if (extra?.model && args.model && modelId(args.model) !== extra.model) {
    throw new UsageError(`the index was built with --model ${extra.model}; ${args.model} is another model (give the same one, or none)`);
  }
  const model = args.model ?? extra?.model;
  /** @type {Promise<any> | null} */
  let p = null;
  const get = async () => {
    if (!model) return null;
    p ??= loadEmbedder({ ...args, model }).then((e) => {
      get.loaded = e;
      checkEmbedOptions(e, opts);
      return e;
    });
    return p;
  };
  /** @type {import('../embedder.js').Embedder | null} */
  get.loaded = null;
  get.has = !!model;
  return get;
}

const isNumArray = (a) => Array.isArray(a) && a.length > 0 && a.every((x) => typeof x === 'number');

export async function searchCommand(argv) {
  const [sub, ...rest] = argv;
  const args = parseArgs(rest, SEARCH_SPEC);
  if (!['build', 'query', 'remove', 'info'].includes(sub)) throw new UsageError(`search needs a subcommand: build, query, remove or info (not ${sub ?? 'none'})`);
  if (!args.index) throw new UsageError('--index FILE is required');
  if (args._.length) throw new UsageError(`search ${sub} reads JSON Lines on stdin; unexpected argument ${args._[0]}`);
  const exists = fs.existsSync(args.index);
  if (sub !== 'build' || args.append) {
    if (!exists) throw new WembedError('not_found', `no index at ${args.index}${sub === 'build' ? ' to append to' : ''} (make one with: wembed search build --index ${args.index})`);
  }
  const engine = await commandEngine(args);
  const index = exists && (sub !== 'build' || args.append) ? await Index.loadFile(args.index, { engine }) : null;
  for (const w of index?.warnings ?? []) process.stderr.write(`wembed: ${args.index}: ${w}\n`);
  try {
    if (sub === 'info') {
      const i = index.info();
      await out(JSON.stringify({ ...i, model: index.extra?.model ?? null, embed: index.extra?.embed ?? null }));
      return 0;
    }
    if (sub === 'remove') return await searchRemove(args, index);
    if (sub === 'build') return await searchBuild(args, index, engine);
    return await searchQuery(args, index);
  } finally {
    index?.dispose();
  }
}

async function searchBuild(args, existing, engine) {
  if (existing) {
    for (const k of ['storage', 'rescore', 'metric', 'candidates']) {
      if (args[k] !== undefined) throw new UsageError(`--${k} cannot change when appending (the index has its own)`);
    }
  }
  const storage = choice(args, 'storage', INDEX_NAMES.storage);
  const rescore = choice(args, 'rescore', INDEX_NAMES.rescore);
  const metric = choice(args, 'metric', INDEX_NAMES.metric);
  const candidates = args.candidates === undefined ? undefined : intArg(args, 'candidates');
  const extra = existing?.extra ?? null;
  const opts = { ...(extra?.embed ?? {}), ...embedOptions(args, engine.consts) };
  const batchSize = intArg(args, 'batch-size', 32);
  const model = searchModel(args, extra, opts);
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
          if (!model.has) return { n: l.n, kind: 'bad', error: '"text" needs a model: give --model' };
          return { n: l.n, kind: 'text', id, meta: v.meta, input: v.text };
        }
        return { n: l.n, kind: 'bad', error: 'expected {"id", "text"} or {"id", "embedding": [numbers]}' };
      });
      const texts = items.filter((x) => x.kind === 'text');
      const e = texts.length ? await model() : null;
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
            index = await Index.create({ dims: it.vector.length, storage, rescore, metric, candidates, engine });
            index.extra = { model: model.has ? modelId(args.model ?? extra?.model) : null, embed: model.has ? vectorOptions(opts) : null };
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
    model.loaded?.dispose();
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
  const opts = { ...(extra.embed ?? {}), ...embedOptions(args, index.engine.consts) };
  const model = searchModel(args, extra, opts);
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
          if (!model.has) return { n: l.n, kind: 'bad', error: '"text" needs a model: the index has none recorded; give --model' };
          return { n: l.n, kind: 'text', o, input: v.text };
        }
        return { n: l.n, kind: 'bad', error: 'expected {"text": ...} or {"embedding": [numbers]}' };
      });
      const texts = items.filter((x) => x.kind === 'text');
      const e = texts.length ? await model() : null;
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
    model.loaded?.dispose();
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

