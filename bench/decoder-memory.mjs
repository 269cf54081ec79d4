// decoder-memory.mjs - wasm memory of the decoder embedders with 4-bit weights: one document of
// N tokens (default 2048) through the Qwen3-Embedding-0.6B and EmbeddingGemma-300m shaped
// random-weight models (gen/decoder_shaped.py writes them into bench/models/), per dtype, in
// Node with the single-thread module: the wasm memory after loading and after the document
// (a memory only grows: that is its peak), the engine's own peak allocation, the time, and the
// cosine of each dtype's vector to f32's.
//
//   /usr/bin/python3 gen/decoder_shaped.py
//   node bench/decoder-memory.mjs [--tokens 2048] [--dtypes f32,q8,q4] [--models qwen3,gemma]
//
// Each (model, dtype) runs in a fresh process (the memory of one never hides another's).
// Targets (issue 17): Qwen3-Embedding-0.6B q4 <= 600 MiB, EmbeddingGemma q4 <= 300 MiB. The
// folders carry the real tokenizer.json of each model (gen/decoder_shaped.py), loaded with the
// model as a user's would be, so the figures include the tokenizer; the document is English text
// (the benchmark's 8192-token document) cut by that tokenizer to N tokens, special tokens included.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MODELS = { qwen3: 'qwen3-0.6b-shaped', gemma: 'embeddinggemma-shaped' };
const MiB = 1024 * 1024;

async function child(model, dtype, tokens) {
  const { Embedder, createEngine } = await import('../js/index.js');
  const engine = await createEngine({ backend: 'wasm', variant: 'st' });
  const m = engine.module;
  const t0 = performance.now();
  const e = await Embedder.load(path.join(HERE, 'models', MODELS[model]), { engine, dtype });
  const loadSeconds = (performance.now() - t0) / 1000;
  const afterLoad = engine.heapU8().buffer.byteLength;
  const engineAfterLoad = m._wembed__alloc_bytes();
  m._wembed__alloc_reset_peak();
  const text = await longText();
  const t1 = performance.now();
  const [v] = await e.embed([text], { maxTokens: tokens, truncate: 'truncate' });
  const seconds = (performance.now() - t1) / 1000;
  const n = (await e.tokenize(text, { maxLength: tokens })).ids.length;
  if (n !== tokens) throw new Error(`the document is ${n} tokens, not ${tokens}`);
  process.stdout.write(JSON.stringify({
    model, dtype, tokens, loadSeconds, seconds, afterLoad, engineAfterLoad,
    wasmPeak: engine.heapU8().buffer.byteLength, enginePeak: m._wembed__alloc_peak_bytes(),
    vector: Array.from(v),
  }) + '\n');
  e.dispose();
}

/** The benchmark's 8192-token document (bench/inputs.js), longer than any N here in every tokenizer. */
async function longText() {
  const { Tokenizer } = await import('../js/index.js');
  const { makeTexts } = await import('./inputs.js');
  const bert = await Tokenizer.load(path.join(HERE, '..', 'tests/data/tokenizers/bge-small-en-v1.5/tokenizer.json'));
  const doc = makeTexts((s) => bert.encode(s).ids.length).docs[8192];
  bert.dispose();
  return doc;
}

function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
}

const { values } = parseArgs({ options: {
  tokens: { type: 'string', default: '2048' }, dtypes: { type: 'string', default: 'f32,q8,q4' },
  models: { type: 'string', default: 'qwen3,gemma' }, child: { type: 'string' },
} });
const tokens = Number(values.tokens);
if (values.child) {
  const [model, dtype] = values.child.split(':');
  await child(model, dtype, tokens);
} else {
  console.log(`| model | dtype | load s | ${tokens} tokens s | wasm memory after load MiB | wasm memory peak MiB | engine peak MiB | cosine to f32 |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const model of values.models.split(',')) {
    let ref = null;
    for (const dtype of values.dtypes.split(',')) {
      let r;
      try {
        const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', `${model}:${dtype}`, '--tokens', String(tokens)],
          { encoding: 'utf8', maxBuffer: 64 * MiB, stdio: ['ignore', 'pipe', 'inherit'] });
        r = JSON.parse(out.trim().split('\n').pop());
      } catch (err) {
        console.log(`| ${MODELS[model]} | ${dtype} | failed: ${String(err.message).split('\n')[0]} |`);
        continue;
      }
      if (dtype === 'f32') ref = r.vector;
      const cos = ref ? cosine(r.vector, ref).toFixed(6) : '–';
      console.log(`| ${MODELS[model]} | ${dtype} | ${r.loadSeconds.toFixed(1)} | ${r.seconds.toFixed(1)} | ${(r.afterLoad / MiB).toFixed(0)} | ` +
        `${(r.wasmPeak / MiB).toFixed(0)} | ${(r.enginePeak / MiB).toFixed(0)} | ${cos} |`);
    }
  }
}
