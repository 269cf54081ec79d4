// smoke-worker.js - smoke.html?worker=1 starts the engine inside this module Worker.
import { createEngine } from '/js/index.js';

self.onmessage = async (ev) => {
  try {
    const e = await createEngine(ev.data);
    self.postMessage({ variant: e.variant, threads: e.threads, version: e.version,
      systemInfo: e.systemInfo, simd: e.simd, isolated: self.crossOriginIsolated === true, inWorker: true });
    e.dispose();
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
