// worker.js - the engine in a Web Worker (browsers) or a worker thread (Node), driven by
// worker-client.js through messages:
//
//   in:  {type: 'call', id, method, args}    method: load | embed | embedIds | embedImage |
//                                              embedPixels | preprocessImage | tokenize | classify |
//                                              classifyPairs | classifyIds | dispose
//        {type: 'abort', id}                  cancels a pending load or embed (its AbortSignal fires)
//   out: {type: 'result', id, result}         typed arrays' buffers are transferred, not copied
//        {type: 'error', id, error: {code, message}}
//        {type: 'progress', id, event}        loading (or long-text embed) progress of call id
//
// Each call carries its request id; results come back in whatever order calls finish. Models
// live here by handle; the client holds only the handle. This file is also the package's
// "./worker" export: `new Worker(new URL('wembed/worker', import.meta.url), {type: 'module'})`.

import { Embedder } from './embedder.js';
import { WembedError } from './errors.js';
// Both glues, which engine.js imports on demand, are imported here too: bundled, this worker is
// then one file with no chunks, which a bundler's default format for workers can build (Vite 6:
// iife, which cannot split). For the same reason nothing the worker runs imports a Node module
// with import(): Node's built-ins come from process.getBuiltinModule (Node >= 20.16).
import '../dist/wembed.mjs';
import '../dist/wembed-mt.mjs';

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';

/** @type {Map<number, Embedder>} */
const models = new Map();
/** @type {Map<number, AbortController>} */
const aborts = new Map();
let nextHandle = 1;

/** Buffers of the typed arrays in a result, to transfer them. */
function transferables(x, out = []) {
  if (ArrayBuffer.isView(x)) {
    if (x.buffer instanceof ArrayBuffer && !out.includes(x.buffer)) out.push(x.buffer);
  } else if (Array.isArray(x)) {
    for (const y of x) transferables(y, out);
  }
  return out;
}

function model(handle) {
  const m = models.get(handle);
  if (!m) throw new WembedError('disposed', 'this embedder was disposed');
  return m;
}

const methods = {
  async load(id, [source, opts]) {
    const ac = new AbortController();
    aborts.set(id, ac);
    try {
      const e = await Embedder.load(source, {
        ...opts,
        worker: false,
        signal: ac.signal,
        onProgress: (event) => post({ type: 'progress', id, event }),
      });
      const handle = nextHandle++;
      models.set(handle, e);
      return { handle, info: e.info(), warnings: e.warnings, files: e.files, source: e.source, registry: e.registry ?? null };
    } finally {
      aborts.delete(id);
    }
  },
  async embed(id, [h, texts, opts]) {
    // Long texts read a piece at a time: progress goes back, an abort stops between pieces.
    const ac = new AbortController();
    aborts.set(id, ac);
    try {
      return await model(h).embed(texts, { ...opts, signal: ac.signal, onProgress: (event) => post({ type: 'progress', id, event }) });
    } finally {
      aborts.delete(id);
    }
  },
  embedIds: (id, [h, ids, opts]) => model(h).embedIds(ids, opts),
  embedImage: (id, [h, inputs, opts]) => model(h).embedImage(inputs, opts),
  embedPixels: (id, [h, px, opts]) => model(h).embedPixels(px, opts),
  preprocessImage: (id, [h, input, opts]) => model(h).preprocessImage(input, opts),
  tokenize: (id, [h, text, opts]) => model(h).tokenize(text, opts),
  classify: (id, [h, image, labels, opts]) => model(h).classify(image, labels, opts),
  classifyPairs: (id, [h, queries, documents]) => model(h).classifyPairs(queries, documents),
  classifyIds: (id, [h, ids, opts]) => model(h).classifyIds(ids, opts),
  dispose(id, [h]) {
    models.get(h)?.dispose();
    models.delete(h);
    return null;
  },
};

let post;
async function onMessage(msg) {
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'abort') {
    aborts.get(msg.id)?.abort();
    return;
  }
  if (msg.type !== 'call') return;
  const { id, method, args } = msg;
  try {
    const fn = methods[method];
    if (!fn) throw new WembedError('invalid_argument', `unknown worker method ${method}`);
    const result = await fn(id, args);
    post({ type: 'result', id, result }, transferables(result));
  } catch (e) {
    const err = /** @type {any} */ (e);
    post({ type: 'error', id, error: { code: err?.code ?? 'internal', message: err?.message ?? String(e), name: err?.name } });
  }
}

if (isNode) {
  const { parentPort } = process.getBuiltinModule('node:worker_threads');
  if (parentPort) {
    post = (m, t) => parentPort.postMessage(m, t);
    parentPort.on('message', onMessage);
  }
} else if (typeof self !== 'undefined' && typeof self.postMessage === 'function') {
  post = (m, t) => self.postMessage(m, { transfer: t ?? [] });
  self.addEventListener('message', (ev) => onMessage(/** @type {MessageEvent} */ (ev).data));
}
