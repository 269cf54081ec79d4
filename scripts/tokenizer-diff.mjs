#!/usr/bin/env node
// tokenizer-diff.mjs - the reference half of the tokenizer differential test.
//
// Generates many strings (seeded: the same on every run) that mix scripts, combining marks,
// emoji ZWJ sequences, controls, unusual whitespace, special-token literals and long words,
// plus a sweep over every code point assigned in Unicode 15.0, encodes each with the Rust
// `tokenizers` library (npm @anush008/tokenizers, 0.22.2) for every tokenizer file in
// tests/data/tokenizers (five plain, and the real Gemma 3 and Qwen3 files stored compressed: xz and gzip),
// and prints one JSON line per (tokenizer, string) with the reference ids, tokens and UTF-8 byte
// offsets (plain, with special tokens, truncated, and for all-MiniLM-L6-v2 with the file's own
// truncation and padding).
//
// An XLM-RoBERTa-shaped file (bench/xlmr-shaped.mjs: Unigram over 250,001 real multilingual
// SentencePiece pieces, T5's Precompiled charsmap, Metaspace; no real XLM-R tokenizer.json is in
// the repository) is built in memory from the Gemma 3 and T5 files and compared the same way on
// the generated strings plus the public sample texts of tests/data and web-demo/samples.
//
// Beyond the five plain files, variants of them (written to a temporary folder) switch on the
// components and options the real files do not use: other normalizers and pre-tokenizers,
// added-token flags, WordLevel, Unigram byte fallback, BPE ignore_merges, the Bert, Roberta,
// ByteLevel and Sequence post-processors, left truncation and padding, and pairs; and the Gemma 3
// and Qwen3 files with the post-processors of EmbeddingGemma and Qwen3-Embedding.
//
// tests/test-tokenizer-diff.c runs this script and compares the C engine line by line:
//     node scripts/tokenizer-diff.mjs [--seed N] [--random N] [--sweep-step N] [--only NAME]
//
// Characters are kept to those assigned in Unicode 15.0 (tests/data/tokenizers/assigned-15.0.json,
// the engine's tables) or unassigned in Node's own newer Unicode: the reference's Rust std and
// Oniguruma know Unicode 16/17 and would differ on newer characters by design.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPRESSED, readCompressed } from './tokenizer-samples.mjs';
import { xlmrShaped } from '../bench/xlmr-shaped.mjs';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('@anush008/tokenizers');

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(ROOT, 'tests', 'data', 'tokenizers');
const NAMES = ['bge-small-en-v1.5', 'all-MiniLM-L6-v2', 'bge-small-zh-v1.5', 'clip-vit-base-patch32', 't5-small'];
// The real files stored compressed (COMPRESSED; the C side reads the build's unpacked copy).

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const SEED = Number(opt('--seed', 20251128));
const N_RANDOM = Number(opt('--random', 2000));
const N_VARIANT = Number(opt('--variant-random', 600));   // the variants see the first N random strings
const SWEEP_STEP = Number(opt('--sweep-step', 1));
const ONLY = opt('--only', null);
const TRUNC = 12;

// -----------------------------------------------------------------------------------------
// Seeded random numbers (mulberry32)

let state = SEED >>> 0;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const ri = (a, b) => a + Math.floor(rand() * (b - a + 1));   // [a, b]
const pick = (arr) => arr[Math.floor(rand() * arr.length)];
const cp = (c) => String.fromCodePoint(c);
const range = (a, b) => cp(ri(a, b));

// Code points safe to use: assigned in 15.0, or unassigned even in Node's Unicode.
const assigned = JSON.parse(readFileSync(join(DATA, 'assigned-15.0.json'), 'utf8')).assigned;
const isAssigned15 = (c) => {
  let lo = 0, hi = assigned.length - 1;
  while (lo <= hi) {
    const m = (lo + hi) >> 1;
    if (c < assigned[m][0]) hi = m - 1;
    else if (c > assigned[m][1]) lo = m + 1;
    else return true;
  }
  return false;
};
const newerOnly = /\p{Assigned}/u;
const safe = (c) => !(c >= 0xd800 && c <= 0xdfff) && (isAssigned15(c) || !newerOnly.test(cp(c)));

// -----------------------------------------------------------------------------------------
// Fragments

const LOWER = 'abcdefghijklmnopqrstuvwxyz', UPPER = LOWER.toUpperCase();
const PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const MARKS = [[0x300, 0x36f], [0x483, 0x489], [0x591, 0x5bd], [0x610, 0x61a], [0x64b, 0x65f], [0x6d6, 0x6dc],
  [0x93c, 0x93c], [0x941, 0x948], [0x94d, 0x94d], [0x1ab0, 0x1abe], [0x1dc0, 0x1dff], [0x20d0, 0x20f0],
  [0x302a, 0x302f], [0x3099, 0x309a], [0xfe20, 0xfe2f], [0x1d165, 0x1d169], [0x1d16d, 0x1d172], [0x0e31, 0x0e31],
  [0x0e34, 0x0e3a], [0x0903, 0x0903], [0x093e, 0x0940], [0x0949, 0x094c], [0x0334, 0x0338], [0x0345, 0x0345]];
const WS = [' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\r', '\u000b', '\u000c', '\u00a0', '\u1680', '\u2000', '\u2003',
  '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\u0085', '\u180e', '\u200b', ' \u00a0 '];
const CONTROLS = [0x0, 0x1, 0x7, 0x8, 0x1b, 0x1f, 0x7f, 0x80, 0x8f, 0x9f, 0xad, 0x34f, 0x61c, 0x200b, 0x200c, 0x200d,
  0x200e, 0x200f, 0x202a, 0x202e, 0x2060, 0x2061, 0x2064, 0x2066, 0x206f, 0xfeff, 0xfff9, 0xfffb, 0xfffc, 0xfffd,
  0xe000, 0xf8ff, 0xf0000, 0x10fffd, 0xfdd0, 0xfffe, 0xffff, 0x1fffe, 0xe0001, 0xe0020, 0xe007f, 0x110bd, 0x1bca0, 0x13430];
const SPECIALS = ['[CLS]', '[SEP]', '[MASK]', '[PAD]', '[UNK]', '[cls]', '[Sep]', '<|endoftext|>', '<|startoftext|>',
  '<|ENDOFTEXT|>', '</s>', '<pad>', '<unk>', '<s>', '</S>', '<extra_id_0>', '<extra_id_99>', '<extra_id_100>',
  '<extra_id_7>', '<|endof', '[SE', '[MASK][MASK]', '<|endoftext|><|endoftext|>', '</s></s>', '[CLS]x[SEP]'];
const COMPAT = [[0xfb00, 0xfb06], [0xff01, 0xff5e], [0x2460, 0x24ff], [0x2150, 0x218b], [0x3380, 0x33ff], [0x2100, 0x214f],
  [0x1d400, 0x1d7ff], [0x2f00, 0x2fd5], [0xf900, 0xfad9], [0x3131, 0x318e], [0xff61, 0xff9f], [0x00b2, 0x00be],
  [0x2070, 0x209c], [0x1f100, 0x1f1ad], [0x3200, 0x33ff], [0xfe30, 0xfe6b], [0x2e80, 0x2ef3], [0x1e9b, 0x1e9b],
  [0x0130, 0x0130], [0x03f4, 0x03f4], [0x2126, 0x2126], [0x212a, 0x212b], [0xfdf0, 0xfdfd], [0x0f73, 0x0f81]];
const SCRIPTS = [[0x391, 0x3a9], [0x3b1, 0x3c9], [0x410, 0x44f], [0x531, 0x556], [0x561, 0x587], [0x10a0, 0x10ff],
  [0x5d0, 0x5ea], [0x621, 0x64a], [0x905, 0x939], [0x985, 0x9b9], [0xb85, 0xbb9], [0xe01, 0xe30], [0xe81, 0xeb0],
  [0xf40, 0xf6c], [0x1000, 0x102a], [0x1780, 0x17b3], [0xac00, 0xd7a3], [0x3041, 0x3096], [0x30a1, 0x30fa],
  [0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b739], [0xa000, 0xa48c], [0x1200, 0x135a],
  [0x13a0, 0x13f5], [0xab70, 0xabbf], [0x10400, 0x1044f], [0x104b0, 0x104fb], [0x1e900, 0x1e943], [0x0100, 0x024f],
  [0x1e00, 0x1eff], [0x00c0, 0x00ff], [0x1f00, 0x1ffc], [0x0660, 0x0669], [0x0966, 0x096f], [0xff10, 0xff19],
  [0x1100, 0x1112], [0x1161, 0x1175], [0x11a8, 0x11c2], [0x0b05, 0x0b39], [0x0c05, 0x0c39], [0x0d05, 0x0d39]];
const EMOJI = [[0x1f300, 0x1f5ff], [0x1f600, 0x1f64f], [0x1f680, 0x1f6ff], [0x1f900, 0x1f9ff], [0x2600, 0x27bf], [0x1fa70, 0x1faf8]];

function safeRange([a, b]) {
  for (let k = 0; k < 8; k++) {
    const c = ri(a, b);
    if (safe(c)) return cp(c);
  }
  return 'x';
}
const word = (n) => Array.from({ length: n }, () => pick(LOWER)).join('');
const mark = () => safeRange(pick(MARKS));

const FRAGMENTS = [
  [8, () => word(ri(1, 10))],
  [3, () => pick(UPPER) + word(ri(0, 8))],
  [2, () => (rand() < 0.5 ? word(ri(1, 6)).toUpperCase() : word(ri(2, 6)))],
  [3, () => String(ri(0, 1000000)) + (rand() < 0.3 ? '.' + ri(0, 99) : '')],
  [3, () => Array.from({ length: ri(1, 4) }, () => pick(PUNCT)).join('')],
  [2, () => pick(["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "n't", "'", "''"])],
  [4, () => {   // base + combining marks, in random order
    let s = rand() < 0.7 ? pick(LOWER + UPPER) : safeRange(pick(SCRIPTS));
    for (let k = ri(1, 4); k > 0; k--) s += mark();
    return s;
  }],
  [6, () => Array.from({ length: ri(1, 6) }, () => safeRange(pick(SCRIPTS))).join('')],
  [3, () => Array.from({ length: ri(1, 3) }, () => safeRange(pick(COMPAT))).join('')],
  [3, () => {   // emoji: plain, skin tone, ZWJ sequences, flags, keycaps, tags
    const e = () => safeRange(pick(EMOJI));
    switch (ri(0, 6)) {
      case 0: return e();
      case 1: return e() + range(0x1f3fb, 0x1f3ff);
      case 2: return e() + '\u200d' + e() + (rand() < 0.5 ? '\u200d' + e() : '');
      case 3: return range(0x1f1e6, 0x1f1ff) + range(0x1f1e6, 0x1f1ff);
      case 4: return pick('0123456789#*') + '\ufe0f\u20e3';
      case 5: return e() + pick(['\ufe0f', '\ufe0e']);
      default: return '\u{1f3f4}\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}';
    }
  }],
  [3, () => cp(pick(CONTROLS))],
  [2, () => pick(SPECIALS)],
  [1, () => (rand() < 0.5 ? pick(LOWER) : safeRange(pick(SCRIPTS))).repeat(ri(90, 160))],
  [1, () => word(ri(95, 130))],
  [1, () => pick(WS).repeat(ri(2, 12))],
  [2, () => {   // any code point of the safe set
    for (;;) {
      const c = rand() < 0.8 ? ri(0x80, 0xffff) : ri(0x10000, 0x10ffff);
      if (safe(c)) return cp(c);
    }
  }],
  [1, () => 'ΣΊΣΥΦΟΣ ' + pick(['ΟΔΟΣ', 'ὈΔΥΣΣΕΎΣ', 'Σ', 'ΑΣ.', 'İstanbul', 'ǅ', 'ﬃ', 'ẞ'])],
  [1, () => pick(['e\u0302\u0301', 'l\u0327\u0334', 'a\u0301\u0316', 'ﬁ\u0301', '\u00a0\u0301', '\uff76\uff9e', '\u1100\u1161\u11a8', 'क्ष', '각'])],
];
const TOTAL_W = FRAGMENTS.reduce((a, f) => a + f[0], 0);
function fragment() {
  let r = rand() * TOTAL_W;
  for (const [w, f] of FRAGMENTS) {
    if ((r -= w) < 0) return f();
  }
  return 'x';
}

function randomString() {
  if (rand() < 0.01) return '';
  const n = ri(1, 14);
  let s = rand() < 0.1 ? pick(WS) : '';
  for (let i = 0; i < n; i++) {
    s += fragment();
    const r = rand();
    if (i + 1 < n) s += r < 0.55 ? ' ' : r < 0.75 ? '' : pick(WS);
  }
  if (rand() < 0.1) s += pick(WS);
  return s;
}

// Every assigned code point, in strings of 40, spaced or glued (private use planes and big
// ideograph blocks sampled).
function sweepStrings() {
  const cps = [];
  for (const [a, b] of assigned) {
    for (let c = a; c <= b; c++) {
      const big = (c >= 0xf0000) || (c >= 0x20000 && c <= 0x3134f) || (c >= 0x4e00 && c <= 0x9fff) ||
        (c >= 0xac00 && c <= 0xd7a3) || (c >= 0x17000 && c <= 0x18cff) || (c >= 0xe000 && c <= 0xf8ff) || (c >= 0x3400 && c <= 0x4dbf);
      if (big && c % 16 !== 0) continue;
      if (c % SWEEP_STEP !== 0) continue;
      cps.push(c);
    }
  }
  const out = [];
  for (let i = 0; i < cps.length; i += 40) {
    const chunk = cps.slice(i, i + 40).map(cp);
    const mode = (i / 40) % 3;
    out.push(mode === 0 ? chunk.join(' ') : mode === 1 ? chunk.join('') : chunk.map((c, k) => c + (k % 5 === 4 ? ' ' : 'a')).join(''));
  }
  return out;
}

// -----------------------------------------------------------------------------------------
// Variants of the real files

const load = (name) => JSON.parse(readFileSync(join(DATA, name, 'tokenizer.json'), 'utf8'));
const special = (id, ids) => ({ id, ids, tokens: [id] });
const tmpl = (parts) => parts.map((p) => (p[0] === '$' ? { Sequence: { id: p[1], type_id: Number(p[3] || 0) } }
  : { SpecialToken: { id: p.split(':')[0], type_id: Number(p.split(':')[1] || 0) } }));

function variants(packed) {
  const out = {};
  {   // WordPiece with other normalizers / pre-tokenizers, added-token flags, left truncation/padding
    const v = load('bge-small-en-v1.5');
    v.normalizer = { type: 'Sequence', normalizers: [
      { type: 'NFKC' }, { type: 'Replace', pattern: { String: '``' }, content: '"' },
      { type: 'Replace', pattern: { Regex: '[0-9]{4,}' }, content: '0000' }, { type: 'Lowercase' },
      { type: 'NFD' }, { type: 'StripAccents' }, { type: 'Strip', strip_left: true, strip_right: true }] };
    v.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Whitespace' },
      { type: 'Punctuation', behavior: 'Contiguous' }, { type: 'Digits', individual_digits: true }] };
    v.post_processor = { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] };
    for (const t of v.added_tokens) if (t.content === '[MASK]') { t.lstrip = true; t.rstrip = true; }
    v.added_tokens.push({ id: 30522, content: 'hello world', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
    v.added_tokens.push({ id: 30523, content: 'ok', single_word: true, lstrip: false, rstrip: true, normalized: false, special: false });
    v.added_tokens.push({ id: 30524, content: '<|endoftext|>', single_word: false, lstrip: true, rstrip: false, normalized: false, special: true });
    v.truncation = { max_length: 20, strategy: 'LongestFirst', stride: 0, direction: 'Left' };
    v.padding = { strategy: 'BatchLongest', direction: 'Left', pad_to_multiple_of: 8, pad_id: 0, pad_type_id: 1, pad_token: '[PAD]' };
    out['v-wordpiece'] = v;
  }
  {   // BertNormalizer options, WordLevel, more pre-tokenizers, template pair
    const v = load('bge-small-en-v1.5');
    v.normalizer = { type: 'Sequence', normalizers: [
      { type: 'BertNormalizer', clean_text: false, handle_chinese_chars: false, strip_accents: true, lowercase: false },
      { type: 'Nmt' }, { type: 'NFKD' }, { type: 'Prepend', prepend: '~' }] };
    v.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' },
      { type: 'CharDelimiterSplit', delimiter: '-' }, { type: 'Split', pattern: { String: "'" }, behavior: 'MergedWithNext', invert: false },
      { type: 'Split', pattern: { Regex: '\\p{P}' }, behavior: 'MergedWithPrevious', invert: false }] };
    v.model = { type: 'WordLevel', vocab: v.model.vocab, unk_token: '[UNK]' };
    v.post_processor = { type: 'TemplateProcessing', single: tmpl(['[CLS]', '$A', '[SEP]']),
      pair: tmpl(['[CLS]:2', '$A:0', '[SEP]', '$B:1', '[SEP]:1', '[CLS]']),
      special_tokens: { '[CLS]': special('[CLS]', [101]), '[SEP]': special('[SEP]', [102]) } };
    v.truncation = { max_length: 9, strategy: 'OnlyFirst', stride: 0, direction: 'Right' };
    v.padding = { strategy: { Fixed: 16 }, direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' };
    out['v-wordlevel'] = v;
  }
  {   // Byte-level BPE as GPT-2 does it: ByteLevel pre-tokenizer and post-processor, ignore_merges
    const v = load('clip-vit-base-patch32');
    v.normalizer = { type: 'NFKC' };
    v.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
    v.model.ignore_merges = true;
    v.post_processor = { type: 'Sequence', processors: [{ type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      { type: 'TemplateProcessing', single: tmpl(['<|startoftext|>', '$A', '<|endoftext|>']),
        pair: tmpl(['<|startoftext|>', '$A', '<|endoftext|>', '$B:1', '<|endoftext|>:1']),
        special_tokens: { '<|startoftext|>': special('<|startoftext|>', [49406]), '<|endoftext|>': special('<|endoftext|>', [49407]) } }] };
    for (const t of v.added_tokens) t.normalized = false;
    out['v-bytelevel'] = v;
  }
  {   // Split with a GPT-4 style pattern, then byte mapping only; Roberta trimming offsets
    const v = load('clip-vit-base-patch32');
    v.normalizer = { type: 'NFC' };
    v.pre_tokenizer = { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }] };
    v.model.end_of_word_suffix = null;
    v.post_processor = { type: 'RobertaProcessing', sep: ['<|endoftext|>', 49407], cls: ['<|startoftext|>', 49406], trim_offsets: true, add_prefix_space: true };
    v.truncation = { max_length: 16, strategy: 'LongestFirst', stride: 0, direction: 'Right' };
    out['v-roberta'] = v;
  }
  {   // Unigram with Metaspace alone (prepend "first", split), byte fallback for unknown chars
    const v = load('t5-small');
    v.normalizer = { type: 'Sequence', normalizers: [v.normalizer, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] };
    v.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: true };
    const n = v.model.vocab.length;
    for (let b = 0; b < 256; b++) v.model.vocab.push([`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, -30 - b / 100]);
    v.model.byte_fallback = true;
    v.added_tokens = v.added_tokens.filter((t) => t.id < n);
    v.post_processor = { type: 'TemplateProcessing', single: tmpl(['$A', '</s>']), pair: tmpl(['$A', '</s>', '$B:1', '</s>:1']),
      special_tokens: { '</s>': special('</s>', [1]) } };
    out['v-unigram'] = v;
  }
  {   // Unigram with a repeated piece (the last id wins, its score counts), an empty piece
    const v = load('t5-small');
    const n = v.model.vocab.length;
    v.model.vocab.push(['▁the', -1.0], ['', -2.0], ['▁quick', -30.0], ['s', -0.5], ['▁the', -1.5]);
    v.added_tokens = v.added_tokens.filter((t) => t.id < n);
    out['v-unigram-repeat'] = v;
  }
  {   // Metaspace without prepending or splitting after WhitespaceSplit; Bert processing
    const v = load('t5-small');
    v.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' },
      { type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: false }] };
    v.post_processor = { type: 'BertProcessing', sep: ['</s>', 1], cls: ['<pad>', 0] };
    v.padding = { strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: 5, pad_id: 0, pad_type_id: 0, pad_token: '<pad>' };
    out['v-metaspace'] = v;
  }
  // The embedding models' post-processors on the real language-model files: EmbeddingGemma wraps
  // the text in <bos> ... <eos> (Gemma 3's own adds <bos> only), Qwen3-Embedding appends
  // <|endoftext|> (Qwen3's own adds nothing), so truncation must keep the end token last.
  // gen/decoder_shaped.py writes the same files for the memory benchmark.
  {
    const v = JSON.parse(packed['gemma-3']);
    v.post_processor = { type: 'TemplateProcessing', single: tmpl(['<bos>', '$A', '<eos>']),
      pair: tmpl(['<bos>', '$A', '<eos>', '$B:1', '<eos>:1']),
      special_tokens: { '<bos>': special('<bos>', [2]), '<eos>': special('<eos>', [1]) } };
    out['v-embeddinggemma'] = v;
  }
  {
    const v = JSON.parse(packed['qwen3']);
    v.post_processor = { type: 'TemplateProcessing', single: tmpl(['$A', '<|endoftext|>']),
      pair: tmpl(['$A', '<|endoftext|>', '$B:1', '<|endoftext|>:1']),
      special_tokens: { '<|endoftext|>': special('<|endoftext|>', [151643]) } };
    out['v-qwen3-embedding'] = v;
  }
  // Small hand-made files from the fuzz corpus: a hand-built Precompiled charsmap (with a
  // mapping to nothing), added-token flags, Strip/Nmt/Prepend, a CLIP-like BPE with fuse_unk
  // and byte fallback.
  const FUZZ = join(ROOT, 'tests', 'fuzz', 'tokenizer-load');
  for (const f of ['precompiled', 'unigram-metaspace', 'wordpiece-bert', 'bpe-clip-like', 'misc-pretok'])
    out['v-tiny-' + f] = JSON.parse(readFileSync(join(FUZZ, f + '.json'), 'utf8'));
  return out;
}

// The public sample texts: tests/data/tokenizers' samples (English, CJK, Arabic, Devanagari,
// Thai, emoji, code, whitespace runs, digits and the traps of the Gemma/Qwen samples) and the
// web demo's documents, each once.
function sampleTexts() {
  const texts = new Set();
  const files = NAMES.map((n) => join(DATA, `samples-${n}.jsonl`)).concat(COMPRESSED.map((n) => join(DATA, n, 'samples.jsonl')));
  for (const f of files)
    for (const line of readFileSync(f, 'utf8').split('\n')) if (line.trim()) texts.add(JSON.parse(line).text);
  const docs = join(ROOT, 'web-demo', 'samples', 'docs');
  for (const name of JSON.parse(readFileSync(join(docs, 'index.json'), 'utf8')))
    texts.add(readFileSync(join(docs, name), 'utf8'));
  return [...texts];
}

// -----------------------------------------------------------------------------------------

function byteOffsets(text, offsets) {
  // Reference offsets count code points; the engine's count UTF-8 bytes.
  const starts = [0];
  let b = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0);
    b += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    starts.push(b);
  }
  const out = [];
  for (const [s, e] of offsets) out.push(s < starts.length ? starts[s] : -1, e < starts.length ? starts[e] : -1);
  return out;
}

// Pair offsets: each token's offsets count in the text it came from.
function pairOffsets(a, b, enc) {
  const offs = enc.getOffsets(), seq = enc.getSequenceIds();
  const oa = byteOffsets(a, offs), ob = byteOffsets(b, offs);
  return offs.flatMap((_, i) => (seq[i] === 1 ? [ob[2 * i], ob[2 * i + 1]] : [oa[2 * i], oa[2 * i + 1]]));
}

async function main() {
  const strings = [];
  for (let i = 0; i < N_RANDOM; i++) strings.push(randomString());
  strings.push(...sweepStrings());
  const files = NAMES.map((name) => [name, readFileSync(join(DATA, name, 'tokenizer.json'), 'utf8'), false]);
  const packed = Object.fromEntries(COMPRESSED.map((name) => [name, readCompressed(name)]));
  for (const name of COMPRESSED) files.push([name, packed[name], false]);
  // Inline like a variant, but with every string and the sample texts.
  if (!ONLY || ONLY === 'xlmr-shaped')
    files.push(['xlmr-shaped', JSON.stringify(xlmrShaped(JSON.parse(packed['gemma-3']), load('t5-small'))), 'big']);
  for (const [name, json] of Object.entries(variants(packed))) files.push([name, JSON.stringify(json), true]);
  const out = [];
  const flush = () => { if (out.length) { process.stdout.write(out.join('\n') + '\n'); out.length = 0; } };
  {
    for (let [name, json, variant] of files) {
      if (ONLY && name !== ONLY) continue;
      const plain = Tokenizer.fromString(json), trunc = Tokenizer.fromString(json), conf = Tokenizer.fromString(json);
      for (const t of [plain, trunc]) { t.disablePadding(); t.disableTruncation(); }
      trunc.setTruncation(TRUNC);
      const big = variant === 'big';
      if (big) variant = false;
      const configured = name === 'all-MiniLM-L6-v2' || variant;
      // Variants travel inline; the real files are read from tests/data by the C side.
      out.push(JSON.stringify(variant || big ? { tokenizer: name, json, trunc: TRUNC } : { tokenizer: name, trunc: TRUNC }));
      const B = 256;
      const mine = variant ? strings.slice(0, Math.min(N_VARIANT, N_RANDOM)) : big ? strings.concat(sampleTexts()) : strings;
      for (let i = 0; i < mine.length; i += B) {
        const batch = mine.slice(i, i + B);
        const pairs = batch.map((s, k) => [s, batch[(k + 1) % batch.length]]);
        const [ep, es, et, ec, epair] = await Promise.all([
          plain.encodeBatch(batch, { addSpecialTokens: false }),
          plain.encodeBatch(batch, { addSpecialTokens: true }),
          trunc.encodeBatch(batch, { addSpecialTokens: true }),
          // one by one: BatchLongest padding would pad to the batch
          configured ? Promise.all(batch.map((x) => conf.encode(x, null, { addSpecialTokens: true }))) : Promise.resolve(null),
          variant ? Promise.all(pairs.map(([a, b]) => trunc.encode(a, b, { addSpecialTokens: true }))) : Promise.resolve(null),
        ]);
        for (let k = 0; k < batch.length; k++) {
          const s = batch[k];
          const rec = {
            s,
            i: ep[k].getIds(), k: ep[k].getTokens(), o: byteOffsets(s, ep[k].getOffsets()),
            is: es[k].getIds(), os: byteOffsets(s, es[k].getOffsets()), ts: es[k].getTypeIds(), ms: es[k].getSpecialTokensMask(),
            it: et[k].getIds(),
          };
          if (ec) { rec.ic = ec[k].getIds(); rec.ac = ec[k].getAttentionMask(); rec.tc = ec[k].getTypeIds(); }
          if (epair) {
            rec.p = pairs[k][1];
            rec.pi = epair[k].getIds(); rec.pt = epair[k].getTypeIds(); rec.po = pairOffsets(s, pairs[k][1], epair[k]);
          }
          out.push(JSON.stringify(rec));
        }
        if (out.length > 2000) flush();
        // The encodings hold native memory the JS heap does not see: collect now and then.
        if (globalThis.gc && (i / B) % 6 === 5) globalThis.gc();
      }
      flush();
      if (globalThis.gc) globalThis.gc();
    }
  }
  flush();
}

main().catch((e) => { console.error(e); process.exit(1); });
