#!/usr/bin/env node
// tokenizer-goldens.mjs - writes the tokenizer goldens tests/tokenizer/<vocab>.inp / .out in
// llama.cpp's format (house style item 10) with the Rust `tokenizers` library (npm
// @anush008/tokenizers 0.22.2, a devDependency), add_special_tokens=False:
//   <vocab>.inp  the cases, each followed by "\n__wembed_vocab_test__\n"
//   <vocab>.out  one line per case: " id" for each token
//
//     node scripts/tokenizer-goldens.mjs            (rewrites the files; commit the result)
//
// The C test (tests/test-tokenizer.c) reads the same files.
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('@anush008/tokenizers');

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SEP = '\n__wembed_vocab_test__\n';
const VOCABS = ['bge-small-en-v1.5', 'bge-small-zh-v1.5', 'clip-vit-base-patch32', 't5-small'];

const CASES = [
  // empty and whitespace runs
  '', ' ', '  ', '   ', '\t', '\n', '\n\n', '\n\n\n', '\t\n', ' \t \n ', 'a  b   c    d', '  leading', 'trailing  ',
  '\u00a0non\u00a0breaking\u00a0', '\u3000ideographic\u3000space', 'line\u2028sep\u2029para', 'x\u0085y', 'tab\there\r\nnext',
  // plain text and punctuation
  'Hello world', ' Hello world', 'Hello World!', 'HELLO WORLD', 'hello, world; (again) [and] {again}?!',
  "They're going to the park, aren't they? I'll see, you'd say, we've done.", 'a/b\\c|d', '#1 @home $5 100% a&b',
  '"quoted" \u201csmart\u201d \u2018single\u2019 \u00abguillemets\u00bb', 'e-mail: alice@example.org, https://example.com/a?b=c#d',
  'x = [i*i for i in range(5)]', '<a href="#">link</a>', 'a != b && c >= d || e <= f',
  // digits
  '3', '33', '333', '3333', '33333', '333333', '3333333', '33333333', '333333333', '2025-12-31 10:45:00', '10,000.50',
  '9.81 m/s\u00b2', '\u2164 \u2167 \u216b', '\u0663\u0664\u0665 \u0967\u0968', '\uff11\uff12\uff13',
  // accents and combining marks
  'caf\u00e9 na\u00efve r\u00e9sum\u00e9', 'cafe\u0301 nai\u0308ve', 'pi\u00f1ata \u00fcber', '\u00c0\u00c9\u00ce\u00d5\u00dc', 'e\u0302\u0301 l\u0327\u0334',
  'a\u0301\u0316 a\u0316\u0301', '\u1e9b\u0323', '\ufb01\u0301 \ufb03 \ufb04', 'Stra\u00dfe \u1e9e', '\u0130stanbul \u0131',
  // Greek, Cyrillic, RTL, Indic, Thai
  '\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3 \u039f\u0394\u039f\u03a3', '\u0395\u03c5\u03c7\u03b1\u03c1\u03b9\u03c3\u03c4\u03ce',
  '\u0414\u043e\u0431\u0440\u044b\u0439 \u0434\u0435\u043d\u044c', '\u0634\u0643\u0631\u0627 \u062c\u0632\u064a\u0644\u0627 \u0645\u064f\u062d\u064e\u0645\u064e\u0651\u062f',
  '\u05ea\u05d5\u05d3\u05d4 \u05e8\u05d1\u05d4', '\u0936\u0941\u092d \u0930\u093e\u0924\u094d\u0930\u093f \u0915\u094d\u0937', '\u0e02\u0e2d\u0e1a\u0e04\u0e38\u0e13',
  'Ng\u01b0\u1eddi Vi\u1ec7t', 'G\u00fcnayd\u0131n',
  // CJK, kana, Hangul
  '\u673a\u5668\u5b66\u4e60', '\u6a5f\u68b0\u5b66\u7fd2\u3092\u52c9\u5f37\u3057\u307e\u3059', '\u5b89\u5fc3\u3057\u3066\u304f\u3060\u3055\u3044',
  '\u4e2d\u6587abc\u4e2d\u6587123', '\ud840\udc01\ud840\udc02 ext-B', '\uff8a\uff9d\uff76\uff78 \uff76\uff9e', '\uc548\ub155\ud558\uc138\uc694',
  '\u1100\u1161\u11a8 \u3131\u314f', '\u2f00\u2f01 \uf900\uf901',
  // emoji
  '\ud83c\udf89\ud83c\udf8a', '\ud83d\udc69\ud83c\udffd\u200d\ud83d\udd2c scientist', '\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66',
  '\ud83c\uddeb\ud83c\uddf7\ud83c\uddef\ud83c\uddf5', 'ok\ud83d\udc4c', '1\ufe0f\u20e3 #\ufe0f\u20e3', '\u2764\ufe0f \u2764',
  '\ud83c\udff4\udb40\udc67\udb40\udc62\udb40\udc65\udb40\udc6e\udb40\udc67\udb40\udc7f',
  // controls and zero-width
  'tab\u0000null', '\u001b[1mbold\u001b[0m', 'a\u200bb\u200cc\u200dd', '\ufeffstart', 'soft\u00adhyphen', 'bidi\u202eltr\u202c',
  '\u0007\u0008\u007f\u0080\u009f', 'rep\ufffdlace', '\ue000\uf8ff private',
  // special-token literals, exact case and not
  '[CLS] [SEP] [MASK] [PAD] [UNK]', '[cls] [Sep]', '[MASK][MASK]', 'Say <|endoftext|> now', '<|startoftext|>x<|endoftext|>',
  '<|ENDOFTEXT|>', '</s> end', '<pad><unk></s>', '<extra_id_0> <extra_id_99> <extra_id_100>', '[SE P] <|endof',
  // unknown paths and long words
  '\u2764', '\ud835\udc00\ud835\udc01\ud835\udc02 bold math', '\u2603\u2604\u2605', '\ud834\udd1e', 'x\u{e0001}y',
  'a'.repeat(99), 'a'.repeat(100), 'a'.repeat(101), 'b'.repeat(200), '\u00fc'.repeat(120),
  'pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism',
  'The sun dipped below the horizon, painting the sky in shades of orange, pink and purple, while the first stars appeared.',
];

for (const name of VOCABS) {
  const tok = Tokenizer.fromFile(join(ROOT, 'tests', 'data', 'tokenizers', name, 'tokenizer.json'));
  tok.disablePadding();
  tok.disableTruncation();
  const encs = await tok.encodeBatch(CASES, { addSpecialTokens: false });
  const dir = join(ROOT, 'tests', 'tokenizer');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name + '.inp'), CASES.map((c) => c + SEP).join(''));
  writeFileSync(join(dir, name + '.out'), encs.map((e) => e.getIds().map((id) => ' ' + id).join('') + '\n').join(''));
  console.log(`${name}: ${CASES.length} cases`);
}
