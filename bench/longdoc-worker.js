// longdoc-worker.js - one long document (bench/longdoc.mjs --one --browser) inside a module Worker
// of bench/longdoc.html: loads the model from the page's server, embeds the document, posts the row.
import { watchWasmMemories, wasmMemoryBytes } from './wasm-memory.js';

watchWasmMemories();

self.onmessage = async ({ data: job }) => {
  try {
    const { Embedder } = await import('../js/index.js');
    const { runOne } = await import('./longdoc.mjs');
    const e = await Embedder.load(new URL(job.model, self.location.origin).href,
      { dtype: job.dtype, threads: job.threads, variant: job.threads > 1 ? 'mt' : 'st', cache: false });
    try {
      // The threaded module's memory is shared: the page watches it grow while this thread is busy
      // in the engine (a time limit then still gives the memory a long run reached).
      const mem = e.engine.module.wasmMemory;
      if (typeof SharedArrayBuffer !== 'undefined' && mem?.buffer instanceof SharedArrayBuffer) self.postMessage({ memory: mem });
      self.postMessage({ started: true });
      const row = await runOne(e, job.tokens, job.opts);
      self.postMessage({ row: { ...row, wasmMemoriesBytes: wasmMemoryBytes(), crossOriginIsolated: self.crossOriginIsolated } });
    } finally {
      e.dispose();
    }
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
