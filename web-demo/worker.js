// worker.js - the demo's engine side, in a Web Worker: models, embedding, the two indexes
// (text passages, images), search, and persistence in IndexedDB. The page (app.js) only draws.
//
// The engine is the wembed package itself (../js/index.js), loaded as plain ES modules. On a
// cross-origin isolated page it takes the threaded wasm module with a pool of
// navigator.hardwareConcurrency threads (at most 8); elsewhere the single-thread one.
//
// Messages: {id, method, args} in; {id, result} | {id, error} | {id, progress} out.
//
// Each of the two "slots" (text, image) has: a model (Embedder), the embedded vectors at the
// chosen dims (kept as floats so the binary switch rebuilds the index instantly), the Index
// built from them with the chosen storage, and its items' metadata. After every change the
// slot is saved: the Index through Index.saveToIndexedDB (database 'wembed-demo-index'),
// everything else (documents, thumbnails, the float vectors, settings) in 'wembed-demo'.
//
// Text search can be reranked: a cross-encoder (Reranker) re-scores the vector search's best
// RERANK_CANDIDATES passages with the query, through Index#search's rerank option.

import { Embedder, Index, Reranker, threadsSupported, REGISTRY } from '../js/index.js';
import { chunkText, queryTerms, PASSAGE_CHARS } from './chunk.js';

const INDEX_DB = 'wembed-demo-index';
const STATE_DB = 'wembed-demo';
const EMBED_BATCH = 16;
const RERANK_CANDIDATES = 40;   // the vector search's best 40 go to the cross-encoder (4 k for 10 results)

/** The text slot's reranker: {model, reranker, loading}. */
const rerank = { model: null, reranker: null, loading: null };

/** @type {Record<'text'|'image', any>} */
const slots = { text: emptySlot(), image: emptySlot() };

function emptySlot() {
  return {
    model: null,           // {key, source, label, registryId}
    embedder: null,        // Embedder
    loading: null,         // Promise of the embedder being loaded
    dims: 0,               // dims the vectors were embedded with (0: the model's own)
    binary: false,
    chunking: 'passages',
    items: [],             // per vector: text {doc, start, end} | image {name, thumb: Blob}
    docs: [],              // text: [{name, text}]
    vectors: [],           // Float32Array per item, at `dims`
    index: null,           // Index
  };
}

const post = (m, t) => self.postMessage(m, { transfer: t ?? [] });
const now = () => performance.now();

// -----------------------------------------------------------------------------------------
// IndexedDB: one object store of settings and documents, keyed by slot.

function stateDB(mode, fn) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(STATE_DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('slots');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction('slots', mode);
      const req = fn(tx.objectStore('slots'));
      tx.oncomplete = () => { db.close(); resolve(req.result); };
      tx.onerror = tx.onabort = () => { db.close(); reject(tx.error); };
    };
  });
}

async function persist(name) {
  const s = slots[name];
  if (!s.index || s.items.length === 0) {
    await stateDB('readwrite', (st) => st.delete(name));
    await Index.deleteFromIndexedDB(name, { db: INDEX_DB });
    return;
  }
  await s.index.saveToIndexedDB(name, { db: INDEX_DB, extra: { model: s.model } });
  await stateDB('readwrite', (st) => st.put({
    model: s.model, dims: s.dims, binary: s.binary, chunking: s.chunking, items: s.items, docs: s.docs,
    vectors: s.vectors,
  }, name));
}

async function restore(name) {
  const saved = await stateDB('readonly', (st) => st.get(name));
  if (!saved) return null;
  const s = slots[name];
  const index = await Index.loadFromIndexedDB(name, { db: INDEX_DB, engine: await engineFor() });
  if (!index || index.size !== saved.items.length) {   // half-written: start over
    index?.dispose();
    return null;
  }
  Object.assign(s, { model: saved.model, dims: saved.dims, binary: saved.binary, chunking: saved.chunking,
    items: saved.items, docs: saved.docs, vectors: saved.vectors, index });
  return summary(name);
}

// -----------------------------------------------------------------------------------------
// Models

let engine = null;   // one engine (wasm instance, thread pool) for every model and index here

async function engineFor() {
  if (!engine) {
    const { createEngine } = await import('../js/index.js');
    engine = await createEngine({ threads: Math.min(8, navigator.hardwareConcurrency || 1) });
  }
  return engine;
}

async function loadModel(id, [name, model]) {
  const s = slots[name];
  const t0 = now();
  // A folder the user picked comes as its files ({ 'config.json': File, ... }); bundled models are
  // URLs relative to this file; a pair of towers ({ text, vision }) has two.
  const where = (src) => (model.bundled ? new URL(src, self.location.href).href : src);
  const source = model.files ? { files: model.files }
    : typeof model.source === 'object' ? { text: where(model.source.text), vision: where(model.source.vision) } : where(model.source);
  const load = Embedder.load(source, {
    engine: await engineFor(),
    cache: !model.bundled && !model.files,
    model: model.registryId,
    onProgress: (event) => post({ id, progress: event }),
  });
  s.loading = load;
  let e;
  try {
    e = await load;
  } finally {
    s.loading = null;
  }
  const loadMs = now() - t0;
  s.embedder?.dispose();
  const prev = s.model;
  s.embedder = e;
  s.model = model.files ? { key: model.key, label: model.label } : model;   // never the files themselves into IndexedDB
  // Vectors of another model cannot be searched with this one: start the slot over.
  if (s.items.length && prev?.key !== model.key) await clearSlot(name);
  return { info: e.info(), loadMs, memory: memory(e.engine), summary: summary(name) };
}

async function loadReranker(id, [model]) {
  const t0 = now();
  const source = model.bundled ? new URL(model.source, self.location.href).href : model.source;
  const load = Reranker.load(source, {
    engine: await engineFor(),
    cache: !model.bundled,
    model: model.registryId,
    onProgress: (event) => post({ id, progress: event }),
  });
  rerank.loading = load;
  let r;
  try {
    r = await load;
  } finally {
    rerank.loading = null;
  }
  rerank.reranker?.dispose();
  rerank.reranker = r;
  rerank.model = model;
  return { info: r.info(), loadMs: now() - t0, memory: memory(r.model.engine) };
}

function memory(engine) {
  return { heapBytes: engine.heapU8().byteLength, liveBytes: engine.module._wembed__alloc_bytes() };
}

/** Embed options for this slot: dims, the long-context path, and the model's task prefixes. */
function embedOpts(s, task) {
  // Text longer than the model's window goes through the long-context path (overlapping
  // windows averaged); CLIP's text tower pools one end-of-text token, so it truncates instead.
  const o = s.embedder.info().hasVision ? {} : { truncate: 'chunk' };
  if (s.dims) o.dims = s.dims;
  if (task && s.embedder.registry?.prefixes?.[task] !== undefined) o.task = task;
  return o;
}

// -----------------------------------------------------------------------------------------
// Indexes

async function buildIndex(name) {
  const s = slots[name];
  const dims = s.vectors[0]?.length ?? (s.dims || s.embedder.info().dims);
  const index = await Index.create({
    dims, engine: await engineFor(),
    storage: s.binary ? 'binary' : 'f32', rescore: 'int8',
  });
  index.add(s.vectors.map((v, i) => ({ id: i, vector: v })));
  index.extra = { model: s.model };
  s.index?.dispose();
  s.index = index;
}

function summary(name) {
  const s = slots[name];
  const n = s.items.length;
  const dims = s.index?.dims ?? 0;
  return {
    name, count: n, dims, dimsSetting: s.dims, binary: s.binary, chunking: s.chunking, model: s.model,
    docs: s.docs.map((d) => d.name),
    bytes: s.index?.bytes ?? 0,
    f32FullBytes: n * (s.embedder?.info().dims ?? dims) * 4,
    images: name === 'image' ? s.items.map((it, i) => ({ id: i, name: it.name, thumb: it.thumb })) : undefined,
  };
}

async function indexTexts(id, [docs, opts]) {
  const s = slots.text;
  if (!s.embedder) throw new Error('load a model first');
  s.chunking = opts.chunking;
  const start = s.docs.length;
  const items = [];
  docs.forEach((d, k) => {
    for (const c of chunkText(d.text, { mode: opts.chunking === 'document' ? 'document' : 'passages', maxChars: PASSAGE_CHARS })) {
      items.push({ doc: start + k, start: c.start, end: c.end, text: c.text });
    }
  });
  s.docs.push(...docs);
  const t0 = now();
  const vectors = [];
  for (let i = 0; i < items.length; i += EMBED_BATCH) {
    vectors.push(...await s.embedder.embed(items.slice(i, i + EMBED_BATCH).map((it) => it.text), embedOpts(s, 'document')));
    post({ id, progress: { done: Math.min(items.length, i + EMBED_BATCH), total: items.length } });
  }
  const embedMs = now() - t0;
  s.items.push(...items.map(({ text: _t, ...rest }) => rest));
  s.vectors.push(...vectors);
  const t1 = now();
  await buildIndex('text');
  const indexMs = now() - t1;
  await persist('text');
  return { ...summary('text'), embedMs, indexMs, added: items.length };
}

async function thumbnail(file) {
  const bmp = await createImageBitmap(file);
  const scale = Math.min(1, 240 / Math.max(bmp.width, bmp.height));
  const c = new OffscreenCanvas(Math.max(1, Math.round(bmp.width * scale)), Math.max(1, Math.round(bmp.height * scale)));
  c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
  bmp.close();
  return c.convertToBlob({ type: 'image/webp', quality: 0.85 });
}

async function indexImages(id, [files]) {
  const s = slots.image;
  if (!s.embedder) throw new Error('load a model first');
  if (!s.embedder.info().hasVision) throw new Error('this model has no vision tower: pick an image model');
  const t0 = now();
  const vectors = [];
  const items = [];
  for (let i = 0; i < files.length; i += 4) {
    const part = files.slice(i, i + 4);
    vectors.push(...await s.embedder.embedImage(part.map((f) => f.file), embedOpts(s)));
    for (const f of part) items.push({ name: f.name, thumb: await thumbnail(f.file) });
    post({ id, progress: { done: Math.min(files.length, i + 4), total: files.length } });
  }
  const embedMs = now() - t0;
  s.items.push(...items);
  s.vectors.push(...vectors);
  const t1 = now();
  await buildIndex('image');
  const indexMs = now() - t1;
  await persist('image');
  return { ...summary('image'), embedMs, indexMs, added: items.length };
}

/** Re-embeds everything at new dims (the model's Matryoshka rule applies in the engine). */
async function reembed(id, name) {
  const s = slots[name];
  const vectors = [];
  const n = s.items.length;
  if (name === 'text') {
    const texts = s.items.map((it) => s.docs[it.doc].text.slice(it.start, it.end));
    for (let i = 0; i < n; i += EMBED_BATCH) {
      vectors.push(...await s.embedder.embed(texts.slice(i, i + EMBED_BATCH), embedOpts(s, 'document')));
      post({ id, progress: { done: Math.min(n, i + EMBED_BATCH), total: n } });
    }
  } else {
    throw new Error('image vectors are kept at the model\'s dims (the originals are not stored)');
  }
  s.vectors = vectors;
}

async function setOptions(id, [name, opts]) {
  const s = slots[name];
  const t0 = now();
  if (opts.dims !== undefined && opts.dims !== s.dims) {
    if (!s.embedder) throw new Error('load the model first');
    s.dims = opts.dims;
    if (s.items.length) await reembed(id, name);
  }
  if (opts.binary !== undefined) s.binary = opts.binary;
  if (s.items.length) {
    await buildIndex(name);
    await persist(name);
  }
  return { ...summary(name), rebuildMs: now() - t0 };
}

async function clearSlot(name) {
  const s = slots[name];
  s.index?.dispose();
  Object.assign(s, { index: null, items: [], docs: [], vectors: [] });
  await persist(name);
  return summary(name);
}

// -----------------------------------------------------------------------------------------
// Search

async function search(id, [name, query, opts]) {
  const s = slots[name];
  if (!s.index || s.items.length === 0) return { hits: [], embedMs: 0, searchMs: 0 };
  if (s.loading) await s.loading;
  let q;
  const t0 = now();
  if (query.text !== undefined) {
    if (!s.embedder) throw new Error('load a model to search');
    [q] = await s.embedder.embed([query.text], embedOpts(s, 'query'));
  } else if (query.similarTo !== undefined) {
    q = s.vectors[query.similarTo];
  } else if (query.image) {
    [q] = await s.embedder.embedImage(query.image, embedOpts(s));
  }
  const embedMs = now() - t0;
  const k = opts.k ?? 10;
  const t1 = now();
  let hits = s.index.search(q, { k });
  const searchMs = now() - t1;
  // Retrieve, then rerank: the passages' text is in the documents, found from each row's id.
  let reranked = null;
  if (opts.rerank && name === 'text' && query.text !== undefined) {
    if (rerank.loading) await rerank.loading;
    if (!rerank.reranker) throw new Error('load a reranker first');
    const passage = (_meta, id) => { const it = s.items[id]; return s.docs[it.doc].text.slice(it.start, it.end); };
    const t2 = now();
    hits = await s.index.search(q, { k, rerank: { reranker: rerank.reranker, query: query.text, candidates: RERANK_CANDIDATES, text: passage } });
    reranked = { ms: now() - t2, candidates: Math.min(RERANK_CANDIDATES, s.items.length), model: rerank.model.key };
  }
  const terms = query.text ? queryTerms(query.text) : [];
  return {
    embedMs, searchMs, terms, reranked,
    hits: hits.map((h) => {
      const it = s.items[h.id];
      if (name === 'image') return { id: h.id, score: h.score, name: it.name, thumb: it.thumb };
      const doc = s.docs[it.doc];
      return {
        id: h.id, score: h.score, doc: doc.name, chunk: doc.text.slice(it.start, it.end),
        before: doc.text.slice(Math.max(0, it.start - 160), it.start), after: doc.text.slice(it.end, it.end + 160),
        ...(reranked ? { retrievalScore: h.retrievalScore, retrievalRank: h.retrievalRank, truncated: h.truncated === true } : {}),
      };
    }),
  };
}

/** What the current settings buy: size and search time against float32 vectors at full dims. */
async function measure(id, [name]) {
  const s = slots[name];
  if (!s.index || !s.items.length) return null;
  const fullDims = s.embedder?.info().dims ?? s.index.dims;
  const n = s.items.length;
  const queries = s.vectors.slice(0, 16);
  const time = (ix, qs) => {
    ix.searchMany(qs.slice(0, 2), { k: 10 });
    let runs = 0;
    const t0 = now();
    while (now() - t0 < 150 || runs < 5) { for (const q of qs) ix.search(q, { k: 10 }); runs++; }
    return (now() - t0) / (runs * qs.length);
  };
  const ms = time(s.index, queries);
  // The baseline: the same number of float32 vectors at the model's full dims (a flat scan's
  // cost depends only on their count and size, so random vectors measure it).
  const base = await Index.create({ dims: fullDims, engine: s.index.engine });
  let seed = 1;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 - 0.5; };
  base.add(Array.from({ length: n }, (_, i) => ({ id: i, vector: Float32Array.from({ length: fullDims }, rnd) })));
  const baseMs = time(base, Array.from({ length: 4 }, () => Float32Array.from({ length: fullDims }, rnd)));
  const baseBytes = base.bytes;
  base.dispose();
  return { count: n, dims: s.index.dims, fullDims, storage: s.index.storage, bytes: s.index.bytes, baseBytes, ms, baseMs };
}

// -----------------------------------------------------------------------------------------

async function init() {
  const restored = {};
  for (const name of ['text', 'image']) {
    try {
      restored[name] = await restore(name);
    } catch (e) {
      restored[name] = null;
      console.warn(`could not restore the ${name} index:`, e);
    }
  }
  const engine = await engineFor();
  return {
    isolated: self.crossOriginIsolated === true, threadsSupported: threadsSupported(),
    variant: engine.variant, threads: engine.threads, systemInfo: engine.systemInfo, version: engine.version,
    memory: memory(engine), restored,
    registry: Object.fromEntries(Object.entries(REGISTRY).map(([k, v]) => [k, { dims: v.dims, matryoshkaDims: v.matryoshkaDims ?? null }])),
  };
}

const methods = {
  init: () => init(),
  loadModel,
  loadReranker,
  indexTexts,
  indexImages,
  setOptions,
  clear: (id, [name]) => clearSlot(name),
  search,
  measure,
  memory: async () => memory(await engineFor()),
};

self.addEventListener('message', async (ev) => {
  const { id, method, args } = ev.data ?? {};
  try {
    const fn = methods[method];
    if (!fn) throw new Error(`unknown method ${method}`);
    post({ id, result: await fn(id, args ?? []) });
  } catch (e) {
    post({ id, error: { message: e?.message ?? String(e), code: e?.code } });
  }
});
