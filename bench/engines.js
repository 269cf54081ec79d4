// engines.js - the two engines behind one small interface, in Node and in a browser Worker:
// wembed (this repository's js/) and transformers.js (@huggingface/transformers from bench/'s
// own dependencies), in one of three environments (bench/run.mjs --env):
//   chromium     wembed's wasm module, transformers.js on onnxruntime-web's WASM backend;
//   node         the same pair forced onto WebAssembly in Node (the browser story measured in Node);
//   node-native  what Node users run: wembed's native addon (backend 'native', js/native.js) and
//                transformers.js on its Node default, onnxruntime-node (native C++), with
//                intraOpNumThreads = the thread count.
//   node24       the node pair under Node 24 (bench/run.mjs starts the job with .cache/node24's
//                binary, scripts/node24.sh): wembed's relaxed-SIMD flavour, which Node 20 cannot run.
//   node-wasi    wembed's WASI module (dist/wembed.wasi.wasm) under node:wasi (bench/wasi-engine.js;
//                one thread, WASI has none) and transformers.js forced onto WebAssembly as in node.
//
// Each runner loads one model folder of bench/models (made by gen/bench_models.py) in
// f32 or q8 and embeds with mean pooling + L2 normalization (texts) or each image model's own
// normalized vector (CLIP: the projected class token; SigLIP: the attention-pooling head;
// nomic-embed-vision: the class token of last_hidden_state), exactly as a user of each library would:
//   wembed           Embedder.load(folder | URL, { dtype, threads, backend }).embed(texts, ...) / .embedImage(images)
//   transformers.js  pipeline('feature-extraction', id, { dtype, device: 'wasm' })(texts, ...)
//                    (node-native: no device, session_options { intraOpNumThreads });
//                    images as each model's transformers.js documentation runs it (MODELS[m].tjs):
//                    AutoProcessor + CLIPVisionModelWithProjection (image_embeds) or SiglipVisionModel
//                    (pooler_output); nomic-embed-vision, custom code that transformers.js has no class
//                    for, through pipeline('image-feature-extraction', id), which falls back to AutoModel
//                    (model_type nomic_bert) on onnx/model.onnx and returns last_hidden_state.
//
// How transformers.js gets onnxruntime-web:
//   browser  transformers.min.js (the self-contained build CDNs serve) imports it itself; only
//            wasmPaths point at bench/node_modules instead of the jsDelivr CDN, to the files it
//            would fetch from there (ort-wasm-simd-threaded.asyncify.{mjs,wasm}).
//   Node     transformers.js runs onnxruntime-node (native) in Node and has no 'wasm' device
//            there. It takes another runtime through its documented hook,
//            globalThis[Symbol.for('onnxruntime')]; we hand it onnxruntime-web's own Node entry
//            (ort.node.min.mjs, the version transformers.js pins) and ask for the 'wasm'
//            execution provider in session_options. (That entry starts faster than the
//            browser build, and with the plain threaded wasm: the choice kindest to it.) Its
//            device list is empty on that route, so `device` names the session file with an
//            empty device, which makes transformers.js use session_options' providers as given.

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';
const TJS = new URL('./node_modules/@huggingface/transformers/', import.meta.url);
const ORT_DIST = new URL('node_modules/onnxruntime-web/dist/', TJS);

/**
 * What each benchmark model is. pooling: what both engines do with the last hidden states
 * ('st' = the model's sentence-transformers modules: EmbeddingGemma's mean pooling, two Dense
 * layers, Normalize; its ONNX graph has them as the `sentence_embedding` output, as
 * onnx-community's export does). layers: the model is generated with this many of its
 * realLayers (gen/bench_models.py --layers), to keep a run within its time; every other size is real.
 * Images: tjs = the transformers.js class (or pipeline task) that runs the model, output = the
 * output whose row (or first token, for a (B, T, E) last_hidden_state) is the embedding;
 * checkImages = how many of the 16 images the agreement check embeds (default all).
 */
export const MODELS = {
  minilm: { kind: 'text', label: 'all-MiniLM-L6-v2', maxTokens: 512, onnx: 'model', pooling: 'mean' },
  nomic: { kind: 'text', label: 'nomic-embed-text-v1.5', maxTokens: 8192, onnx: 'model', pooling: 'mean' },
  clip: { kind: 'image', label: 'CLIP ViT-B/32 vision', onnx: 'vision_model', tjs: 'CLIPVisionModelWithProjection', output: 'image_embeds' },
  siglip: { kind: 'image', label: 'SigLIP base-patch16-224 vision', onnx: 'vision_model', tjs: 'SiglipVisionModel', output: 'pooler_output', checkImages: 2 },
  nomicvision: { kind: 'image', label: 'nomic-embed-vision-v1.5', onnx: 'model', tjs: 'image-feature-extraction', output: 'last_hidden_state', checkImages: 2 },
  modernbert: { kind: 'text', label: 'gte-modernbert-base', maxTokens: 8192, onnx: 'model', pooling: 'cls' },
  jina: { kind: 'text', label: 'jina-embeddings-v2-small-en', maxTokens: 8192, onnx: 'model', pooling: 'mean' },
  rerank: { kind: 'rerank', label: 'ms-marco-MiniLM-L6-v2 (cross-encoder)', maxTokens: 512, onnx: 'model' },
  qwen3: { kind: 'text', label: 'Qwen3-Embedding-0.6B', maxTokens: 32768, onnx: 'model', pooling: 'last', realLayers: 28 },
  gemma: { kind: 'text', label: 'EmbeddingGemma-300m', maxTokens: 2048, onnx: 'model', pooling: 'st', realLayers: 24 },
};

/** The model's name in reports ("Qwen3-Embedding-0.6B, 4 of 28 layers" for a cut-down one). */
export const modelLabel = (m) => (MODELS[m] ? MODELS[m].label + (MODELS[m].layers ? `, ${MODELS[m].layers} of ${MODELS[m].realLayers} layers` : '') : m);

/** wembed's pooling option for a model (undefined: the model's own sentence-transformers pipeline). */
const wembedPooling = (m) => ({ mean: 'mean', cls: 'cls', last: 'last', st: undefined })[MODELS[m].pooling];

/** transformers.js's feature-extraction pooling for a model. */
const tjsPooling = (m) => ({ mean: 'mean', cls: 'cls', last: 'last_token' })[MODELS[m].pooling];

/**
 * @typedef {object} Ctx
 * @property {number} threads
 * @property {string} modelsBase Node: absolute folder path ending in '/'; browser: URL path ending in '/'
 * @property {boolean} [native] the node-native environment: wembed's addon, onnxruntime-node
 * @property {boolean} [wasi] the node-wasi environment: wembed's WASI module under node:wasi
 */

/** The engines' context of a job (bench/suite.js). @param {{threads: number, modelsBase: string, env?: string}} job @returns {Ctx} */
export const jobContext = (job) => ({ threads: job.threads, modelsBase: job.modelsBase, native: job.env === 'node-native', wasi: job.env === 'node-wasi' });

function l2normalize(v) {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const k = 1 / Math.sqrt(s || 1);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * k;
  return out;
}

/** An image model's output as normalized vectors: its rows, or of a (B, T, E) last_hidden_state the first (class) token's. */
function imageVectors(t) {
  const [n, d] = [t.dims[0], t.dims.at(-1)];
  const stride = t.dims.length === 3 ? t.dims[1] * d : d;
  return Array.from({ length: n }, (_, i) => l2normalize(t.data.subarray(i * stride, i * stride + d)));
}

/** Splits a [n, d] tensor's data into n Float32Array rows. */
function rows(data, n, d) {
  return Array.from({ length: n }, (_, i) => Float32Array.from(data.subarray(i * d, (i + 1) * d)));
}

// -----------------------------------------------------------------------------------------
// wembed

/** Imports the package (what "import to first vector" starts with). */
export async function importWembed() {
  return import(new URL('../js/index.js', import.meta.url).href);
}

export class WembedRunner {
  /** @param {any} lib js/index.js @param {Ctx} ctx @param {string} model @param {'f32'|'q8'|'q4'} dtype */
  static async load(lib, ctx, model, dtype) {
    const source = isNode ? ctx.modelsBase + model : new URL(ctx.modelsBase + model + '/', self.location.origin).href;
    // The backend is named: with the addon built, 'auto' would take it in the node environment too.
    const opts = { dtype, threads: ctx.threads, variant: ctx.threads > 1 ? 'mt' : 'st', cache: false, backend: ctx.native ? 'native' : 'wasm' };
    // node-wasi: the model on an engine of the WASI module, which this runner owns.
    const engine = ctx.wasi ? await (await import('./wasi-engine.js')).createWasiEngine() : undefined;
    if (engine) Object.assign(opts, { engine, threads: 1, variant: 'st' });
    try {
      if (MODELS[model].kind === 'rerank') return new WembedRerankRunner(await lib.Reranker.load(source, opts), model, engine);
      return new WembedRunner(await lib.Embedder.load(source, opts), model, engine);
    } catch (e) {
      engine?.dispose();
      throw e;
    }
  }

  constructor(e, model, ownEngine) {
    this.e = e;
    this.model = model;
    this.name = 'wembed';
    /** An engine made for this runner alone (node-wasi), disposed with it. */
    this.ownEngine = ownEngine;
  }

  /** @param {string[]} texts @param {number} maxTokens */
  async embedTexts(texts, maxTokens) {
    return /** @type {Float32Array[]} */ (await this.e.embed(texts, { pooling: wembedPooling(this.model), normalize: true, maxTokens, truncate: 'error' }));
  }

  /** @param {Array<{data: Uint8Array, width: number, height: number}>} images */
  async embedImages(images) {
    return /** @type {Float32Array[]} */ (await this.e.embedImage(images.map((im) => ({ data: im.data, width: im.width, height: im.height, channels: 3 })), { normalize: true }));
  }

  /** @param {Float32Array} pixels B x 3 x S x S */
  async embedPixels(pixels) {
    return /** @type {Float32Array[]} */ (await this.e.embedPixels(pixels, { normalize: true }));
  }

  /** Each row alone (no padding), pooled and normalized. @param {number[][]} ids */
  async embedIds(ids) {
    const out = [];
    for (const r of ids) out.push(...await this.e.embedIds([r], { pooling: wembedPooling(this.model), normalize: true, maxTokens: r.length, truncate: 'error' }));
    return out;
  }

  /** @param {string} text */
  async tokenIds(text) {
    return Array.from((await this.e.tokenize(text)).ids);
  }

  /** The engine's own byte counters (all live allocations; peak since the last reset). */
  allocBytes() {
    const m = this.e.engine.module;
    return { live: m._wembed__alloc_bytes(), peak: m._wembed__alloc_peak_bytes() };
  }

  resetAllocPeak() {
    this.e.engine.module._wembed__alloc_reset_peak();
  }

  wasmMemoryBytes() {
    return this.e.engine.heapU8().buffer.byteLength;
  }

  async dispose() {
    this.e.dispose();
    this.ownEngine?.dispose();
  }
}

/** A cross-encoder: Reranker.score on [query, passage] pairs (raw logits). */
class WembedRerankRunner extends WembedRunner {
  constructor(r, model, ownEngine) {
    super(r, model, ownEngine);
    this.r = r;
  }

  /** @param {string} query @param {string[]} passages @returns {Promise<number[]>} one logit per passage */
  async scorePairs(query, passages) {
    const { scores } = await this.r.score(passages.map((p) => [query, p]), { batchSize: passages.length });
    return scores.map((s) => s[0]);
  }

  /** @param {number[][]} ids @param {number[][]} types */
  async scoreIds(ids, types) {
    return (await this.r.scoreIds(ids, { tokenTypeIds: types })).map((s) => s[0]);
  }

  /** Token ids of one text (the pair template itself is not exposed by the JS API). */
  async tokenIds(text) {
    return Array.from((await this.r.model.tokenize(text)).ids);
  }

  allocBytes() {
    const m = this.r.model.engine.module;
    return { live: m._wembed__alloc_bytes(), peak: m._wembed__alloc_peak_bytes() };
  }

  resetAllocPeak() {
    this.r.model.engine.module._wembed__alloc_reset_peak();
  }

  wasmMemoryBytes() {
    return this.r.model.engine.heapU8().buffer.byteLength;
  }

  async dispose() {
    this.r.dispose();
    this.ownEngine?.dispose();
  }
}

// -----------------------------------------------------------------------------------------
// transformers.js

/**
 * Imports transformers.js (and in Node onnxruntime-web) with the thread count fixed, and points
 * it at the local model folders only.
 * @param {Ctx} ctx
 */
export async function importTransformers(ctx) {
  let T;
  if (ctx.native) {
    T = await import(new URL('dist/transformers.node.mjs', TJS).href);   // onnxruntime-node, its default
    T.env.useFSCache = false;
  } else if (isNode) {
    const { fileURLToPath } = await import('node:url');
    const ort = await import(new URL('ort.node.min.mjs', ORT_DIST).href);
    ort.env.wasm.numThreads = ctx.threads;
    ort.env.wasm.wasmPaths = fileURLToPath(ORT_DIST);
    ort.env.logLevel = 'error';
    /** @type {any} */ (globalThis)[Symbol.for('onnxruntime')] = ort;
    T = await import(new URL('dist/transformers.node.mjs', TJS).href);
    T.env.useFSCache = false;
    T.env.useWasmCache = false;
  } else {
    T = await import(new URL('dist/transformers.min.js', TJS).href);
    const w = T.env.backends.onnx.wasm;
    w.numThreads = ctx.threads;
    w.wasmPaths = { mjs: new URL('ort-wasm-simd-threaded.asyncify.mjs', ORT_DIST).href, wasm: new URL('ort-wasm-simd-threaded.asyncify.wasm', ORT_DIST).href };
    T.env.useBrowserCache = false;
  }
  T.env.allowRemoteModels = false;
  T.env.allowLocalModels = true;
  T.env.localModelPath = ctx.modelsBase;
  return T;
}

/** Model options naming the device (see the top comment for Node). @param {string} file @param {Ctx} ctx */
function deviceOptions(file, ctx) {
  if (ctx.native) return { session_options: { intraOpNumThreads: ctx.threads, interOpNumThreads: 1 } };
  return isNode ? { device: { [file]: '' }, session_options: { executionProviders: ['wasm'] } } : { device: 'wasm' };
}

export class TransformersRunner {
  /** @param {any} T @param {Ctx} ctx @param {string} model @param {'f32'|'q8'|'q4'} dtype */
  static async load(T, ctx, model, dtype) {
    const spec = MODELS[model];
    // transformers.js's file suffixes: fp32 model.onnx, q8 model_quantized.onnx, q4 model_q4.onnx.
    const opts = { dtype: dtype === 'f32' ? 'fp32' : dtype, ...deviceOptions(spec.onnx, ctx) };
    if (spec.kind === 'rerank') {
      const tokenizer = await T.AutoTokenizer.from_pretrained(model);
      const clf = await T.AutoModelForSequenceClassification.from_pretrained(model, opts);
      return new TransformersRerankRunner(T, model, tokenizer, clf);
    }
    if (spec.kind === 'text') {
      return new TransformersRunner(T, model, await T.pipeline('feature-extraction', model, opts), null, null);
    }
    if (spec.tjs === 'image-feature-extraction') {
      const extractor = await T.pipeline('image-feature-extraction', model, opts);
      return new TransformersRunner(T, model, extractor, extractor.processor, extractor.model);
    }
    const processor = await T.AutoProcessor.from_pretrained(model);
    const vision = await T[spec.tjs].from_pretrained(model, opts);
    return new TransformersRunner(T, model, null, processor, vision);
  }

  constructor(T, model, extractor, processor, vision) {
    this.T = T;
    this.model = model;
    this.extractor = extractor;
    this.processor = processor;
    this.vision = vision;
    this.name = 'transformers.js';
  }

  /**
   * The tokenizer truncates at tokenizer_config.json's model_max_length, as transformers.js always
   * does. EmbeddingGemma: the model's sentence_embedding output, as its model card shows
   * (`const { sentence_embedding } = await model(tokenizer(texts, { padding: true }))`).
   */
  async embedTexts(texts) {
    if (MODELS[this.model].pooling === 'st') {
      const { sentence_embedding: e } = await this.extractor.model(this.extractor.tokenizer(texts, { padding: true, truncation: true }));
      return rows(e.data, e.dims[0], e.dims[1]);
    }
    const t = await this.extractor(texts, { pooling: tjsPooling(this.model), normalize: true });
    return rows(t.data, t.dims[0], t.dims[1]);
  }

  async embedImages(images) {
    const raws = images.map((im) => new this.T.RawImage(im.data, im.width, im.height, 3));
    if (this.extractor) return imageVectors(await this.extractor(raws));
    const { pixel_values } = await this.processor(raws);
    return this.embedPixelTensor(pixel_values);
  }

  /** @param {Float32Array} pixels B x 3 x S x S */
  async embedPixels(pixels) {
    const S = 224;
    return this.embedPixelTensor(new this.T.Tensor('float32', pixels, [pixels.length / (3 * S * S), 3, S, S]));
  }

  async embedPixelTensor(pixel_values) {
    return imageVectors((await this.vision({ pixel_values }))[MODELS[this.model].output]);
  }

  /** The pixel values transformers.js's processor makes of the images (for the model-only check). */
  async preprocess(images) {
    const raws = images.map((im) => new this.T.RawImage(im.data, im.width, im.height, 3));
    return /** @type {Float32Array} */ ((await this.processor(raws)).pixel_values.data);
  }

  /** Each row alone through the ONNX model, pooled and normalized. @param {number[][]} ids */
  async embedIds(ids) {
    const out = [];
    const pooling = MODELS[this.model].pooling;
    for (const r of ids) {
      const L = r.length;
      const t = (a) => new this.T.Tensor('int64', BigInt64Array.from(a, (x) => BigInt(x)), [1, L]);
      // The model's forward picks the inputs its graph takes (and adds position_ids and empty
      // past_key_values for a decoder graph, as in the pipeline).
      const o = await this.extractor.model({ input_ids: t(r), attention_mask: t(r.map(() => 1)), token_type_ids: t(r.map(() => 0)) });
      if (pooling === 'st') {
        out.push(Float32Array.from(o.sentence_embedding.data));
        continue;
      }
      const h = o.last_hidden_state, d = h.dims[2];
      const v = new Float32Array(d);
      if (pooling === 'mean') for (let i = 0; i < L; i++) for (let j = 0; j < d; j++) v[j] += h.data[i * d + j] / L;
      else v.set(h.data.subarray((pooling === 'cls' ? 0 : L - 1) * d, (pooling === 'cls' ? 1 : L) * d));
      out.push(l2normalize(v));
    }
    return out;
  }

  async tokenIds(text) {
    return Array.from(this.extractor.tokenizer(text).input_ids.data, Number);
  }

  async dispose() {
    await (this.extractor ?? this.vision).dispose();
  }
}

/** A cross-encoder as transformers.js users run one: the tokenizer's pair encoding, the logits. */
class TransformersRerankRunner {
  constructor(T, model, tokenizer, clf) {
    this.T = T;
    this.model = model;
    this.tokenizer = tokenizer;
    this.clf = clf;
    this.name = 'transformers.js';
  }

  /** All pairs in one padded batch. @param {string} query @param {string[]} passages */
  async scorePairs(query, passages) {
    const inputs = this.tokenizer(passages.map(() => query), { text_pair: passages, padding: true, truncation: true });
    const { logits } = await this.clf(inputs);
    return Array.from(logits.data, Number);
  }

  /** Each pair alone. @param {number[][]} ids @param {number[][]} types */
  async scoreIds(ids, types) {
    const out = [];
    for (let k = 0; k < ids.length; k++) {
      const t = (a) => new this.T.Tensor('int64', BigInt64Array.from(a, (x) => BigInt(x)), [1, a.length]);
      const { logits } = await this.clf({ input_ids: t(ids[k]), attention_mask: t(ids[k].map(() => 1)), token_type_ids: t(types[k]) });
      out.push(logits.data[0]);
    }
    return out;
  }

  async tokenIds(text) {
    return Array.from(this.tokenizer(text).input_ids.data, Number);
  }

  async dispose() {
    await this.clf.dispose();
  }
}

/** Cosine of two vectors. */
export function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}
