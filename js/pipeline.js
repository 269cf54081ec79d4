// pipeline.js - transformers.js's call shape on top of Embedder, so an app can switch by
// changing its import:
//
//   import { pipeline } from 'wembed';               // was '@huggingface/transformers'
//   const extractor = await pipeline('feature-extraction', 'sentence-transformers/all-MiniLM-L6-v2');
//   const out = await extractor(['a', 'b'], { pooling: 'mean', normalize: true });
//   out.dims;            // [2, 384]
//   out.tolist();        // number[][]
//
// The result is a Tensor-like {type, data, dims} as transformers.js returns. Differences that
// remain (the README's "Switching from transformers.js" lists them): the model id must name a
// repository with safetensors weights (not an ONNX conversion under Xenova/ or onnx-community/),
// and with pooling 'none' padded positions are zeros rather than the padding tokens' states.

import { Embedder } from './embedder.js';
import { WembedError, isArrayOf } from './errors.js';
import { softmax } from './similarity.js';
import { Tensor } from './tensor.js';
import { resolveSource } from './sources.js';

export { Tensor };

/**
 * transformers.js's pooling names: 'first_token' is the first token (cls); 'last_token' and 'eos'
 * are its last position, which wembed takes as each input's last real token (transformers.js
 * takes the padded batch's last position, a padding token for all but the longest input).
 */
const POOLINGS = { first_token: 'cls', last_token: 'last', eos: 'last' };

// transformers.js's 4-bit dtypes (MatMulNBits, blocks of 32) map to wembed's q4; q4f16's f16
// activations have no counterpart (wembed's stay f32).
const DTYPES = { fp32: 'f32', f32: 'f32', fp16: 'f16', f16: 'f16', q8: 'q8', int8: 'q8', uint8: 'q8', q4: 'q4', bnb4: 'q4', q4f16: 'q4', auto: 'f32' };

/** transformers.js progress events from ours. */
function progressAdapter(cb, model) {
  if (typeof cb !== 'function') return undefined;
  const begun = new Set();
  return (e) => {
    if (e.status === 'ready') {
      cb({ status: 'ready', task: 'feature-extraction', model });
      return;
    }
    if (e.status === 'debug') return;
    if (!begun.has(e.file)) {
      begun.add(e.file);
      cb({ status: 'initiate', name: model, file: e.file });
      cb({ status: 'download', name: model, file: e.file });
    }
    cb({ status: 'progress', name: model, file: e.file, progress: e.total > 0 ? (100 * e.loaded) / e.total : 0, loaded: e.loaded, total: e.total });
    if (e.total >= 0 && e.loaded === e.total) cb({ status: 'done', name: model, file: e.file });
  };
}

function concat(vs, T) {
  const d = vs.length ? vs[0].length : 0;
  const out = new T(vs.length * d);
  vs.forEach((v, i) => out.set(v, i * d));
  return out;
}

/**
 * The 'text-classification' task on a model with a sequence-classification head (cross-encoders):
 * texts or {text, text_pair} pairs in, per input the top_k {label, score} (labels from the
 * config's id2label). The scores follow Python transformers' TextClassificationPipeline: a
 * sigmoid for a one-label head, a softmax over several (`function_to_apply` 'sigmoid' | 'softmax'
 * | 'none' overrides it). transformers.js (v3) applies a softmax to a one-label head too, which
 * makes every score 1: rank with Reranker (raw logits) rather than with that.
 * @param {Embedder} embedder
 */
function textClassification(embedder) {
  const info = embedder.info();
  const n = info.labels;
  if (!n) throw new WembedError('unsupported', `text-classification needs a model with a sequence-classification head; ${embedder.source} has none`);
  const names = Array.from({ length: n }, (_, i) => info.labelNames?.[i] ?? `LABEL_${i}`);
  /**
   * @param {string | {text: string, text_pair?: string} | Array<string | {text: string, text_pair?: string}>} inputs
   * @param {{top_k?: number | null, function_to_apply?: 'sigmoid' | 'softmax' | 'none'}} [o]
   */
  return async (inputs, o = {}) => {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const fn = o.function_to_apply ?? (n === 1 ? 'sigmoid' : 'softmax');
    if (!['sigmoid', 'softmax', 'none'].includes(fn)) throw new WembedError('invalid_argument', `function_to_apply must be 'sigmoid', 'softmax' or 'none', not ${JSON.stringify(fn)}`);
    const topK = o.top_k === null ? n : o.top_k ?? 1;
    const pairs = list.map((x) => (typeof x === 'string' ? { text: x } : x));
    if (!isArrayOf(pairs, (x) => x && typeof x.text === 'string' && (x.text_pair === undefined || typeof x.text_pair === 'string'))) {
      throw new WembedError('invalid_argument', 'text-classification takes strings or {text, text_pair} objects');
    }
    // Pairs through the pair template; single texts through the single template (their own call).
    const logits = new Array(pairs.length);
    /** @type {Array<[{text: string, text_pair?: string}, number]>} */
    const indexed = pairs.map((x, i) => [x, i]);
    const withPair = indexed.filter(([x]) => x.text_pair !== undefined);
    const single = indexed.filter(([x]) => x.text_pair === undefined);
    if (withPair.length) {
      const r = await embedder.classifyPairs(withPair.map(([x]) => x.text), withPair.map(([x]) => x.text_pair));
      withPair.forEach(([, i], k) => { logits[i] = r.logits[k]; });
    }
    if (single.length) {
      const max = info.maxSeqLength > 0 ? Math.min(info.maxSeqLength, info.maxTokens) : info.maxTokens;
      const encs = await Promise.all(single.map(([x]) => embedder.tokenize(x.text, { maxLength: max })));
      const r = await embedder.classifyIds(encs.map((e) => e.ids), { tokenTypeIds: encs.map((e) => e.typeIds) });
      single.forEach(([, i], k) => { logits[i] = r[k]; });
    }
    const out = logits.map((l) => {
      let p = Array.from(l);
      if (fn === 'sigmoid') p = p.map((x) => 1 / (1 + Math.exp(-x)));
      else if (fn === 'softmax') p = softmax(p);
      return p.map((score, i) => ({ label: names[i], score })).sort((a, b) => b.score - a.score).slice(0, topK);
    });
    if (!Array.isArray(inputs)) return out[0];
    return topK === 1 ? out.map((r) => r[0]) : out;
  };
}

/**
 * What pipeline() takes besides Embedder.load's options: transformers.js's names for some of them.
 * @typedef {object} PipelineOptions
 * @property {'fp32' | 'f32' | 'fp16' | 'f16' | 'q8' | 'int8' | 'uint8' | 'auto'} [dtype]
 * @property {boolean} [quantized] as in transformers.js v2 (the xenova package): true = dtype 'q8', false = 'f32'
 * @property {Function} [progress_callback] transformers.js progress events (initiate, download, progress, done, ready)
 * @property {string} [cache_dir] a cache folder (Node)
 * @property {string} [device] accepted and ignored: wembed runs on the CPU
 * @property {boolean} [local_files_only] a remote model is read from the cache only, never requested
 *
 * @typedef {object} PipelineExtras
 * @property {string} task
 * @property {Embedder} model
 * @property {Embedder} embedder
 * @property {() => Promise<void>} dispose
 *
 * @typedef {{pooling?: import('./names.js').Pooling | 'first_token' | 'last_token', normalize?: boolean, quantize?: boolean,
 *   precision?: 'binary' | 'ubinary'} & Omit<import('./embedder.js').EmbedOptions, 'pooling' | 'normalize' | 'quantize'>} FeatureExtractionOptions
 * @typedef {((texts: string | string[], options?: FeatureExtractionOptions) => Promise<Tensor>) & PipelineExtras} FeatureExtractionPipeline
 * @typedef {((images: any, options?: {normalize?: boolean, pool?: boolean}) => Promise<Tensor>) & PipelineExtras} ImageFeatureExtractionPipeline
 * @typedef {((image: any, labels: string[], options?: {hypothesis_template?: string}) => Promise<Array<{score: number, label: string}>>) & PipelineExtras} ZeroShotImageClassificationPipeline
 * @typedef {{text: string, text_pair?: string}} TextPair
 * @typedef {{label: string, score: number}} TextLabel
 * @typedef {((inputs: string | TextPair | Array<string | TextPair>, options?: {top_k?: number | null, function_to_apply?: 'sigmoid' | 'softmax' | 'none'}) => Promise<TextLabel | TextLabel[] | TextLabel[][]>) & PipelineExtras} TextClassificationPipeline
 */

/**
 * @overload
 * @param {'feature-extraction' | 'embeddings'} task @param {string} model
 * @param {Omit<import('./embedder.js').LoadOptions, 'dtype'> & PipelineOptions} [opts]
 * @returns {Promise<FeatureExtractionPipeline>}
 */
/**
 * @overload
 * @param {'image-feature-extraction'} task @param {string} model
 * @param {Omit<import('./embedder.js').LoadOptions, 'dtype'> & PipelineOptions} [opts]
 * @returns {Promise<ImageFeatureExtractionPipeline>}
 */
/**
 * @overload
 * @param {'zero-shot-image-classification'} task @param {string} model
 * @param {Omit<import('./embedder.js').LoadOptions, 'dtype'> & PipelineOptions} [opts]
 * @returns {Promise<ZeroShotImageClassificationPipeline>}
 */
/**
 * @overload
 * @param {'text-classification'} task @param {string} model
 * @param {Omit<import('./embedder.js').LoadOptions, 'dtype'> & PipelineOptions} [opts]
 * @returns {Promise<TextClassificationPipeline>}
 */
/**
 * A transformers.js-style pipeline. Tasks: 'feature-extraction' (alias 'embeddings'),
 * 'image-feature-extraction', 'zero-shot-image-classification', 'text-classification' (models
 * with a sequence-classification head: cross-encoders; see textClassification).
 * @param {string} task
 * @param {string} model hub id, URL or folder
 * @param {Omit<import('./embedder.js').LoadOptions, 'dtype'> & PipelineOptions} [opts]
 * @returns {Promise<any>}
 */
export async function pipeline(task, model, opts = {}) {
  const tasks = ['feature-extraction', 'embeddings', 'image-feature-extraction', 'zero-shot-image-classification', 'text-classification'];
  if (!tasks.includes(task)) {
    throw new WembedError('unsupported', `pipeline task ${JSON.stringify(task)} is not supported; wembed has ${tasks.map((t) => `'${t}'`).join(', ')}`);
  }
  if (!model) throw new WembedError('invalid_argument', 'pipeline needs a model id (wembed has no default model)');
  const { progress_callback: progressCb, cache_dir: cacheDir, dtype, device, local_files_only: local, quantized, ...rest } = opts;
  if (dtype !== undefined && !(dtype in DTYPES)) {
    throw new WembedError('invalid_argument', `dtype ${JSON.stringify(dtype)}: wembed runs ${Object.keys(DTYPES).join(', ')}`);
  }
  // transformers.js v2's `quantized` (the xenova package): true = int8 weights, false = float32. It is honoured
  // as the dtype it means; beside a dtype that says otherwise it is refused.
  if (quantized !== undefined && typeof quantized !== 'boolean') throw new WembedError('invalid_argument', 'quantized must be true or false');
  const want = dtype ? DTYPES[dtype] : quantized === undefined ? undefined : quantized ? 'q8' : 'f32';
  if (quantized !== undefined && dtype && want !== (quantized ? 'q8' : 'f32')) {
    throw new WembedError('invalid_argument', `quantized: ${quantized} and dtype: ${JSON.stringify(dtype)} disagree; give one of them`);
  }
  void device;   // always the CPU (WebAssembly); accepted so existing calls keep working
  // local_files_only: a remote model comes from the cache or not at all; no request is made.
  /** @type {string[]} */
  const refused = [];
  const offline = local ? { fetch: async (url) => { refused.push(String(url)); throw new WembedError('not_found', 'local_files_only'); }, maxRetries: 0 } : {};
  if (local && rest.fetch) throw new WembedError('invalid_argument', 'local_files_only makes no requests: drop fetch');
  if (local && rest.worker) throw new WembedError('invalid_argument', 'local_files_only cannot be kept in a worker: drop worker');
  let embedder;
  try {
    embedder = await Embedder.load(model, {
      ...rest,
      ...offline,
      dtype: /** @type {any} */ (want),
      cache: cacheDir ?? rest.cache,
      onProgress: rest.onProgress ?? progressAdapter(progressCb, model),
    });
  } catch (e) {
    if (refused.length) {
      const kind = (await resolveSource(model, { cache: false }).catch(() => null))?.kind;
      throw new WembedError('not_found', `local_files_only: ${refused[0]} is not in the cache, and local_files_only ` +
        `forbids downloading it${kind === 'hub' ? ': load the model once with the network (it is cached then), or from a folder' : ''}`, { cause: e });
    }
    throw e;
  }

  let run;
  if (task === 'text-classification') {
    try {
      run = textClassification(embedder);
    } catch (e) {
      embedder.dispose();
      throw e;
    }
  } else if (task === 'zero-shot-image-classification') {
    run = async (image, labels, o = {}) => {
      const r = await embedder.classify(image, labels, { template: o.hypothesis_template?.replace('{}', '{}') });
      return r.map(({ label, score }) => ({ score, label }));
    };
  } else if (task === 'image-feature-extraction') {
    run = async (images, o = {}) => {
      const list = Array.isArray(images) ? images : [images];
      const vs = /** @type {Float32Array[]} */ (await embedder.embedImage(list, { normalize: o.normalize ?? false, ...(o.pool === false ? { pooling: 'none' } : {}) }));
      if (o.pool === false) {
        const flat = vs.flatMap((x) => /** @type {any} */ (x));
        return new Tensor('float32', concat(flat, Float32Array), [list.length, flat.length / list.length, flat[0].length]);
      }
      return new Tensor('float32', concat(vs, Float32Array), [list.length, vs[0].length]);
    };
  } else {
    /**
     * @param {string | string[]} texts
     * @param {{pooling?: import('./names.js').Pooling | 'first_token' | 'last_token', normalize?: boolean, quantize?: boolean, precision?: 'binary'|'ubinary'} & import('./embedder.js').EmbedOptions} [o]
     */
    run = async (texts, o = {}) => {
      const list = typeof texts === 'string' ? [texts] : texts;
      const { pooling: asked = 'none', normalize = false, quantize = false, precision = 'binary', ...more } = o;
      const pooling = /** @type {Exclude<import('./names.js').Pooling, 'none'> | 'none'} */ (POOLINGS[asked] ?? asked);
      if (pooling === 'none') {
        if (quantize) throw new WembedError('invalid_argument', 'quantize needs pooled vectors (pooling mean or cls)');
        const per = /** @type {Float32Array[][]} */ (await embedder.embed(list, { ...more, pooling: 'none', normalize }));
        const T = Math.max(0, ...per.map((r) => r.length));
        const D = per[0]?.[0]?.length ?? 0;
        const data = new Float32Array(list.length * T * D);   // padded positions stay 0
        per.forEach((r, b) => r.forEach((v, t) => data.set(v, (b * T + t) * D)));
        return new Tensor('float32', data, [list.length, T, D]);
      }
      if (quantize) {
        const bits = await embedder.embed(list, { ...more, pooling: /** @type {Exclude<typeof pooling, 'none'>} */ (pooling), normalize, quantize: 'binary' });
        const u = concat(bits, Uint8Array);
        if (precision === 'ubinary') return new Tensor('uint8', u, [list.length, bits[0].length]);
        const i8 = new Int8Array(u.length);
        u.forEach((x, i) => { i8[i] = x - 128; });   // transformers.js / sentence-transformers 'binary'
        return new Tensor('int8', i8, [list.length, bits[0].length]);
      }
      const vs = await embedder.embed(list, { ...more, pooling: /** @type {Exclude<typeof pooling, 'none'>} */ (pooling), normalize, quantize: 'none' });
      return new Tensor('float32', concat(vs, Float32Array), [list.length, vs[0]?.length ?? 0]);
    };
  }
  const fn = /** @type {any} */ (run);
  fn.task = task === 'embeddings' ? 'feature-extraction' : task;
  fn.model = embedder;
  fn.embedder = embedder;
  fn.dispose = async () => embedder.dispose();
  return fn;
}
