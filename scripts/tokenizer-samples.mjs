#!/usr/bin/env node
// tokenizer-samples.mjs - the reference tokenizations of the real tokenizer.json files that are
// stored compressed (tests/data/tokenizers/<name>/tokenizer.json.xz / .gz: Gemma 3, Qwen3), from the
// Rust `tokenizers` library (npm @anush008/tokenizers 0.22.2, a devDependency), in the format of
// tests/data/tokenizers/samples-*.jsonl (tests/data/tokenizers/SOURCE.md): per text the ids,
// tokens and UTF-8 byte offsets without special tokens, the ids and special-token mask with them,
// and the ids truncated to TRUNC with them.
//
//     node scripts/tokenizer-samples.mjs      (rewrites tests/data/tokenizers/<name>/samples.jsonl)
//
// The texts: the house goldens' cases (tests/tokenizer/t5-small.inp), the public sample texts of
// samples-*.jsonl, and the traps below, aimed at what these two files do: byte-level BPE after a
// regex split with \p{L}/\p{N} classes and NFC (Qwen), SentencePiece BPE with byte fallback and
// whitespace-run tokens after "▁" replacement, thousands of non-special added tokens (Gemma).
// tests/test-tokenizer.c compares the C engine with every line.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('@anush008/tokenizers');

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(ROOT, 'tests', 'data', 'tokenizers');
export const COMPRESSED = ['gemma-3', 'qwen3'];
const TRUNC = 16;

// tokenizer.json.gz, or .xz where gzip leaves more than the repository's 4 MB (Gemma 3); Node has
// no xz decoder, so the xz-utils program unpacks it (scripts/setup.sh installs it).
export function readCompressed(name) {
  const gz = join(DATA, name, 'tokenizer.json.gz');
  if (existsSync(gz)) return gunzipSync(readFileSync(gz)).toString('utf8');
  return execFileSync('xz', ['-dc', join(DATA, name, 'tokenizer.json.xz')], { maxBuffer: 1 << 30 }).toString('utf8');
}

const para = 'Der schnelle braune Fuchs springt über den faulen Hund. Le renard brun rapide saute par-dessus le chien paresseux. ' +
  'Быстрая коричневая лиса прыгает через ленивую собаку. 敏捷的棕色狐狸跳过了懒狗。素早い茶色の狐がのろまな犬を飛び越える。' +
  '빠른 갈색 여우가 게으른 개를 뛰어넘는다. الثعلب البني السريع يقفز فوق الكلب الكسول. तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है। ' +
  'สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ Η γρήγορη καφέ αλεπού πηδά πάνω από τον τεμπέλη σκύλο. השועל החום המהיר קופץ מעל הכלב העצלן.';

const TRAPS = [
  // whitespace runs: Gemma has tokens for runs of spaces, tabs and newlines; Qwen's \s+(?!\S)
  ' '.repeat(2), ' '.repeat(7), ' '.repeat(31), ' '.repeat(32), ' '.repeat(33), ' '.repeat(80), '\t'.repeat(5), '\n'.repeat(6), '\n'.repeat(40),
  'a' + ' '.repeat(16) + 'b', 'x\t\ty', 'x \t \n y', ' \n \n ', '\r\n\r\n', 'end   \n', '\u00a0\u00a0x', '\u3000\u3000字',
  'def f(x):\n    return x * 2\n\n\nclass A:\n\tpass\n', '    indented\n        more\n            most',
  'if (a &&b) {\n  console.log(`v=${a}`);\n}\n// comment\n/* block */', '#include <stdio.h>\nint main(void){return 0;}',
  '{"key": [1, 2.5e-3, null, true], "k2": "v\\n"}', 'SELECT * FROM t WHERE id=42;', '<div class="x"><p>Hi</p></div>',
  '<table><tr><td>1</td></tr></table>', '<h1>Title</h1><br><hr/>', '```python\nprint(1)\n```', '$ ls -la | grep "^d"',
  // digits: Gemma and Qwen split numbers into single digits
  '0', '12', '123456789012345678901234567890', '3.14159265358979', '-0.5e+10', '1,234,567.89', '٣٤٥', '१२३', '①②③', '¹²³', '½ ¾',
  // contractions and case (Qwen's (?i:'s|'t|...) alternatives)
  "I'M HERE, YOU'RE THERE, HE'S, WE'VE, THEY'LL, SHE'D, DON'T", "it'ſ 'ſ 'K 'K 'ß 'ﬆ 'İ", "'Sup 'LLama 'REd 'Tis 'Dough 'Mmm 'VEry 'ſo", "'s 's's ''s", "rock'n'roll", 'l’homme', "x's\n's",
  // normalization: NFC (Qwen) against nothing (Gemma)
  'e\u0301 a\u0308 o\u0302\u0323 \u1e9b\u0323', '\u212b \u2126 \ufb01 \uff21\uff22\uff23', 'Å Å Å', '\u0344 \u0958 \u2adc',
  '\u1100\u1161\u11a8 \uac01', '\u0928\u093c \u0929', 'ﾊﾟ ﾊﾞ', 'ǅ ǆ Ǆ',
  // byte fallback: characters outside the vocabulary
  '\u0001\u0002\u0003', '\u{10fffd}\u{f0000}', '\ue000\ue001', '\u{1d11e}\u{1d11f}', '\u{13000}\u{13001}', '\u{1f9ff}\u{1fa70}\u{1faf8}',
  '\u{20000}\u{2a6d6}\u{2b734}\u{30000}', '\u0fff\u0378\u0379', 'a\u0000b', '\ufffe\uffff', '\u{e0041}\u{e0042}', '\u2060\u2061\u2062',
  // "▁" and the replacement in the input itself
  '▁', '▁▁x', 'a▁b', '▁ ▁', ' ▁', '__init__', '_ _',
  // added and special tokens, exact and near misses
  '<bos>', '<eos>', '<pad>', '<unk>', '<mask>', '<start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n', '<start_of_image>',
  '<end_of_image>', '<bos><bos>', '<BOS>', '<bo s>', '<unused0> <unused99>', '[multimodal]', '<image_soft_token>',
  '<|endoftext|>', '<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nhi<|im_end|>', '<|im_start|><|im_start|>',
  '<think>\nhmm\n</think>\n\nanswer', '<tool_call>{"name": "f"}</tool_call>', '<|vision_start|><|image_pad|><|vision_end|>',
  '<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>', '<|endoftext|x', '<|im_end', 'Instruct: Given a query\nQuery: what is it?',
  'task: search result | query: tallest mountain', 'title: none | text: a document',
  // emoji and scripts
  '👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇯🇵 1️⃣ ❤️‍🔥', '😀😃😄😁😆😅😂🤣', '∀x∈ℝ: x²≥0 ∑∫∮ ≈≠≤', '«Привет», — сказал он.', 'Ελληνικά: αβγ ΑΒΓ',
  'ქართული ენა', 'Հայերեն', 'ᏣᎳᎩ', 'ꯃꯤꯇꯩ', '𐌰𐌱𐌲', 'ܐܪܡܝܐ', 'ދިވެހި', 'ትግርኛ', 'ᠮᠣᠩᠭᠣᠯ', 'ཀ་ཁ་ག', 'ꦗꦮ', 'ᜀᜁ',
  '中文，標點。“引號”【括號】', '한국어 문장입니다.', 'ひらがな カタカナ ｶﾀｶﾅ 漢字', 'Tiếng Việt có dấu', 'Türkçe İı',
  para, para.repeat(3), 'x'.repeat(500), 'ab'.repeat(300), '🙂'.repeat(50), '字'.repeat(200), 'A'.repeat(257) + ' ' + 'B'.repeat(3),
];

function texts() {
  const out = [];
  const seen = new Set();
  const add = (s) => { if (!seen.has(s)) { seen.add(s); out.push(s); } };
  const inp = readFileSync(join(ROOT, 'tests', 'tokenizer', 't5-small.inp'), 'utf8').split('\n__wembed_vocab_test__\n');
  inp.pop();
  inp.forEach(add);
  for (const f of ['bge-small-en-v1.5', 'bge-small-zh-v1.5', 'clip-vit-base-patch32', 't5-small'])
    for (const line of readFileSync(join(DATA, `samples-${f}.jsonl`), 'utf8').split('\n'))
      if (line) add(JSON.parse(line).text);
  TRAPS.forEach(add);
  return out;
}

function byteOffsets(text, offsets) {
  // The library's offsets count code points; the engine's count UTF-8 bytes.
  const starts = [0];
  let b = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0);
    b += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    starts.push(b);
  }
  return offsets.map(([s, e]) => [starts[s], starts[e]]);
}

async function main() {
  const all = texts();
  for (const name of COMPRESSED) {
    const json = readCompressed(name);
    const plain = Tokenizer.fromString(json), trunc = Tokenizer.fromString(json);
    for (const t of [plain, trunc]) { t.disablePadding(); t.disableTruncation(); }
    trunc.setTruncation(TRUNC);
    const [ep, es, et] = await Promise.all([plain.encodeBatch(all, { addSpecialTokens: false }),
      plain.encodeBatch(all, { addSpecialTokens: true }), trunc.encodeBatch(all, { addSpecialTokens: true })]);
    const lines = all.map((text, i) => {
      const ids = ep[i].getIds(), idsS = es[i].getIds(), idsT = et[i].getIds();
      return JSON.stringify({
        id: `c${String(i).padStart(3, '0')}`, text, ids, tokens: ep[i].getTokens(), offsets_utf8: byteOffsets(text, ep[i].getOffsets()),
        ids_special: idsS, special_tokens_mask: es[i].getSpecialTokensMask(), truncation_max_length: TRUNC,
        ids_truncated: idsT.length === idsS.length && idsT.every((v, k) => v === idsS[k]) ? null : idsT,
      });
    });
    writeFileSync(join(DATA, name, 'samples.jsonl'), lines.join('\n') + '\n');
    console.log(`${name}: ${all.length} samples`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main().catch((e) => { console.error(e); process.exit(1); });
