// gemm-worker.js - runs the GEMM suite inside a browser Worker (bench/gemm.html starts it).
import { createEngine, benchGemm } from '../js/index.js';
import { runSuite } from './gemm-runners.js';

self.onmessage = async ({ data: o }) => {
  try {
    const ort = o.withOrt ? await import('./node_modules/onnxruntime-web/dist/ort.wasm.min.mjs') : null;
    if (ort) {
      ort.env.wasm.numThreads = o.threads;
      ort.env.wasm.wasmPaths = new URL('./node_modules/onnxruntime-web/dist/', import.meta.url).href;
    }
    await runSuite({ ...o, createEngine, benchGemm, ort, onRow: (row) => self.postMessage({ row }) });
    self.postMessage({ done: true });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
