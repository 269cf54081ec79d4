// index.js - the wembed package's entry point.
//
//   import { createEngine } from 'wembed';
//   const engine = await createEngine();          // threaded where SharedArrayBuffer works
//   console.log(engine.version, engine.systemInfo, engine.threads);
//   engine.dispose();
//
// The model API (Embedder.load, embed, embedImage, tokenize) builds on this engine.
export { createEngine, Engine, threadsSupported, MAX_THREADS } from './engine.js';
export { WembedError } from './errors.js';
export { benchGemm } from './bench.js';
