#!/usr/bin/env node
// tokenize.mjs - tokenization speed: wembed's tokenizer in wasm (the single-thread module, as
// a page without cross-origin isolation gets it) against transformers.js's tokenizer
// (@huggingface/transformers 4.3.2, in bench/node_modules) on the same 1 MB of mixed text:
// English prose, accented Latin, Greek, CJK, emoji sequences, code, numbers and odd
// whitespace, cut into ~1 KB documents. Both produce the ids with special tokens; wembed is
// timed for ids only (encodeIds) and for the full encoding (ids, tokens, UTF-16 offsets).
// Rounds alternate between the engines; medians are reported. Both must agree on every id.
//
//   (cd bench && npm ci) && node bench/tokenize.mjs [--rounds 5] [--tokenizer bge-small-en-v1.5|clip-vit-base-patch32]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createRequire } from 'node:module';

import { Tokenizer } from '../js/index.js';

const { Tokenizer: RustTokenizer } = createRequire(import.meta.url)('@anush008/tokenizers');   // the reference

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(`--${n}`); return i >= 0 ? args[i + 1] : d; };
const rounds = Number(opt('rounds', '5'));
const names = opt('tokenizer', 'bge-small-en-v1.5,clip-vit-base-patch32').split(',');

// Deterministic mixed text from the public samples' strings plus generated prose.
function mixedText(bytes) {
  const pieces = [];
  for (const f of fs.readdirSync(path.join(root, 'tests/data/tokenizers')).filter((f) => f.startsWith('samples-'))) {
    for (const line of fs.readFileSync(path.join(root, 'tests/data/tokenizers', f), 'utf8').split('\n')) {
      if (line) pieces.push(JSON.parse(line).text);
    }
  }
  const words = 'the of embeddings run where data is a browser tab model vector search token rotary position long document query'.split(' ');
  let s = 1;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  const docs = [];
  let total = 0, doc = '';
  while (total < bytes) {
    const r = rnd();
    const add = r < 0.55 ? words[(rnd() * words.length) | 0] + (rnd() < 0.1 ? '. ' : ' ')
      : r < 0.8 ? pieces[(rnd() * pieces.length) | 0] + ' ' : String((rnd() * 1e6) | 0) + ' ';
    doc += add;
    if (Buffer.byteLength(doc) > 1000) {
      docs.push(doc);
      total += Buffer.byteLength(doc);
      doc = '';
    }
  }
  return docs;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const docs = mixedText(1 << 20);
const mb = docs.reduce((a, d) => a + Buffer.byteLength(d), 0) / (1 << 20);
const { AutoTokenizer, env } = await import('./node_modules/@huggingface/transformers/dist/transformers.node.mjs');
// transformers.js also wants the repos' tokenizer_config.json (its class name): a copy of each
// tokenizer.json with the class the HF repo declares, in a git-ignored folder.
const CLASSES = { 'bge-small-en-v1.5': 'BertTokenizer', 'all-MiniLM-L6-v2': 'BertTokenizer',
  'bge-small-zh-v1.5': 'BertTokenizer', 'clip-vit-base-patch32': 'CLIPTokenizer', 't5-small': 'T5Tokenizer' };
const tjsDir = path.join(here, 'out/tokenizers');
for (const name of names) {
  fs.mkdirSync(path.join(tjsDir, name), { recursive: true });
  fs.copyFileSync(path.join(root, 'tests/data/tokenizers', name, 'tokenizer.json'), path.join(tjsDir, name, 'tokenizer.json'));
  fs.writeFileSync(path.join(tjsDir, name, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: CLASSES[name] }));
}
env.allowRemoteModels = false;
env.localModelPath = tjsDir + '/';

const rows = [];
for (const name of names) {
  const file = path.join(root, 'tests/data/tokenizers', name, 'tokenizer.json');
  const ours = await Tokenizer.load(file);
  const theirs = await AutoTokenizer.from_pretrained(name, { local_files_only: true });
  // Agreement first. The reference is the Rust library: wembed must match it on every
  // document. transformers.js is not the reference (tests/data/tokenizers/README.md lists
  // where it differs, e.g. a word-final capital sigma); its differences are counted.
  const rust = RustTokenizer.fromFile(file);
  rust.disablePadding();
  rust.disableTruncation();
  const ref = await rust.encodeBatch(docs, { addSpecialTokens: true });
  let differ = 0, wrong = 0;
  const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
  docs.forEach((d, k) => {
    const a = Array.from(ours.encodeIds(d)), b = theirs.encode(d), c = Array.from(ref[k].getIds());
    if (!same(a, c)) wrong++;
    if (!same(b, c)) differ++;
  });
  if (wrong) throw new Error(`${name}: wembed differs from the Rust tokenizers library on ${wrong} documents`);
  const t = { ids: [], full: [], tjs: [] };
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    for (const d of docs) ours.encodeIds(d);
    t.ids.push(performance.now() - t0);
    t0 = performance.now();
    for (const d of docs) ours.encode(d);
    t.full.push(performance.now() - t0);
    t0 = performance.now();
    for (const d of docs) theirs.encode(d);
    t.tjs.push(performance.now() - t0);
  }
  const row = { tokenizer: name, mb, docs: docs.length, wembedDiffersFromRust: wrong, tjsDiffersFromRust: differ,
    wembedIdsMBs: mb / (median(t.ids) / 1000), wembedFullMBs: mb / (median(t.full) / 1000), tjsMBs: mb / (median(t.tjs) / 1000) };
  row.ratioIds = row.wembedIdsMBs / row.tjsMBs;
  row.ratioFull = row.wembedFullMBs / row.tjsMBs;
  rows.push(row);
  console.log(`${name}: wembed ids ${row.wembedIdsMBs.toFixed(2)} MB/s, full ${row.wembedFullMBs.toFixed(2)} MB/s; ` +
    `transformers.js ${row.tjsMBs.toFixed(2)} MB/s -> ${row.ratioIds.toFixed(2)}x (ids), ${row.ratioFull.toFixed(2)}x (full); ` +
    `wembed = Rust library on all ${docs.length} documents; transformers.js differs on ${differ}`);
  ours.dispose();
}
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
fs.writeFileSync(path.join(here, 'results/tokenize.json'), JSON.stringify({ date: new Date().toISOString(), node: process.versions.node, rounds, rows }, null, 1) + '\n');
