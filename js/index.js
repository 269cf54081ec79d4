// index.js - the wembed package's entry point.
//
//   import { Embedder } from 'wembed';
//   const e = await Embedder.load('sentence-transformers/all-MiniLM-L6-v2');
//   const [a, b] = await e.embed(['a cat', 'a kitten']);
//   console.log(e.similarity(a, b));
//   e.dispose();
//
//   const r = await Reranker.load('cross-encoder/ms-marco-MiniLM-L6-v2');
//   await r.rerank('what is a cat?', ['a feline', 'a car']);   // [{index, score}], best first
//
// Also here: the engine itself (createEngine), a standalone tokenizer, caches, the
// transformers.js-shaped pipeline(), the vector Index, and the error type.
export { Embedder } from './embedder.js';
export { Reranker } from './reranker.js';
export { pipeline, Tensor } from './pipeline.js';
export { Tokenizer } from './tokenizer.js';
export { similarity } from './similarity.js';
export { folderCache, browserCache, reloadingCache } from './cache.js';
export { REGISTRY, lookupModel } from './registry.js';
export { createEngine, Engine, threadsSupported, relaxedSimdSupported, MAX_THREADS } from './engine.js';
export { WembedError } from './errors.js';
export { Index } from './vector-index.js';
