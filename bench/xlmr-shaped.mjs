#!/usr/bin/env node
// xlmr-shaped.mjs - a tokenizer.json of XLM-RoBERTa's shape, for load timing only (no real
// XLM-R tokenizer.json could be had for the repository): Unigram over 250,001 pieces (Gemma 3's
// pieces, seeded random scores written shortest-round-trip, ~17 digits as in the real file),
// T5's Precompiled charsmap, Metaspace, XLM-R's special tokens and post-processor, indented by
// 2 like the Hugging Face files (16.7 MB; the real multilingual-e5 / bge-m3 files are ~17 MB).
//
//   node bench/xlmr-shaped.mjs tests/data/tokenizers/gemma-3/tokenizer.json.xz \
//        tests/data/tokenizers/t5-small/tokenizer.json /tmp/xlmr-shaped.json
//
// scripts/tokenizer-diff.mjs imports xlmrShaped() to compare the engine with the Rust library on
// this file (the pieces are real multilingual SentencePiece pieces; the scores are not XLM-R's).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

// The tokenizer.json object, from Gemma 3's and T5's parsed tokenizer.json objects.
export function xlmrShaped(g, t) {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  const pieces = Object.keys(g.model.vocab).filter((p) => !/^<.*>$/.test(p)).slice(0, 250000 - 4);
  const vocab = [['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0], ...pieces.map((p) => [p, -(1 + rnd() * 18)])];
  vocab.push(['<mask>', 0]);
  const added = [['<s>', 0], ['<pad>', 1], ['</s>', 2], ['<unk>', 3], ['<mask>', vocab.length - 1]].map(([c, id]) =>
    ({ id, content: c, single_word: false, lstrip: c === '<mask>', rstrip: false, normalized: false, special: true }));
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: { type: 'Sequence', normalizers: [t.normalizer.type === 'Precompiled' ? t.normalizer : t.normalizer.normalizers.find((n) => n.type === 'Precompiled'), { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: false },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [gemmaXz, t5, out] = process.argv.slice(2);
  const gemma = execFileSync('xz', ['-dc', gemmaXz], { maxBuffer: 1 << 30 }).toString('utf8');
  const j = xlmrShaped(JSON.parse(gemma), JSON.parse(readFileSync(t5, 'utf8')));
  writeFileSync(out, JSON.stringify(j, null, 2));
  console.log(out, j.model.vocab.length);
}
