// gemm-worker.js - runs the GEMM suite inside a browser Worker (bench/gemm.html starts it).
import { relaxedSimdSupported } from '../js/index.js';
import { createBenchEngine, benchGemm } from '../js/bench.js';
import { runSuite } from './gemm-runners.js';

self.onmessage = async ({ data: o }) => {
  try {
    const ort = o.withOrt ? await import('./node_modules/onnxruntime-web/dist/ort.wasm.min.mjs') : null;
    if (ort) {
      ort.env.wasm.numThreads = o.threads;
      ort.env.wasm.wasmPaths = new URL('./node_modules/onnxruntime-web/dist/', import.meta.url).href;
    }
    // With relaxed SIMD, both flavours of the module: the relaxed one a page gets, and SIMD128.
    const simds = relaxedSimdSupported() ? ['relaxed', 'simd128'] : ['simd128'];
    await runSuite({ ...o, simds, createEngine: createBenchEngine, benchGemm, ort, onRow: (row) => self.postMessage({ row }) });
    self.postMessage({ done: true });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
