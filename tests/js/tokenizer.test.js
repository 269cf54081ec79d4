// tokenizer.test.js - the tokenizer through the wasm engine (js/tokenizer.js): the house and
// llama.cpp goldens, the public samples (ids, tokens, UTF-16 offsets) and a small
// differential run against the Rust library itself (@anush008/tokenizers, a devDependency),
// lone surrogates included. The C tests check the same files natively (tests/test-tokenizer.c).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

import { Tokenizer } from '../../js/tokenizer.js';
import { createEngine } from '../../js/engine.js';
import { ROOT, DATA } from './helpers.js';

const require = createRequire(import.meta.url);
const TOK = path.join(DATA, 'tokenizers');
const NAMES = ['bge-small-en-v1.5', 'all-MiniLM-L6-v2', 'bge-small-zh-v1.5', 'clip-vit-base-patch32', 't5-small'];

let engine;
const toks = {};
before(async () => {
  engine = await createEngine({ variant: 'st' });
  for (const n of NAMES) toks[n] = await Tokenizer.load(fs.readFileSync(path.join(TOK, n, 'tokenizer.json')), { engine });
});
after(() => {
  for (const t of Object.values(toks)) t.dispose();
  engine.dispose();
});

/** Code point offsets of text -> UTF-16 offsets. */
function utf16(text, offsets) {
  const at = [0];
  for (const ch of text) at.push(at[at.length - 1] + ch.length);
  return offsets.map(([s, e]) => [at[s], at[e]]);
}

function goldens(inp, out, sep) {
  const cases = fs.readFileSync(inp, 'utf8').split(sep);
  cases.pop();
  const lines = fs.readFileSync(out, 'utf8').split('\n');
  return cases.map((c, i) => [c, lines[i].split(' ').filter(Boolean).map(Number)]);
}

test('house goldens (tests/tokenizer/*.inp/.out) and llama.cpp goldens', () => {
  let n = 0;
  for (const name of ['bge-small-en-v1.5', 'bge-small-zh-v1.5', 'clip-vit-base-patch32', 't5-small']) {
    const dir = path.join(ROOT, 'tests', 'tokenizer');
    for (const [text, ids] of goldens(path.join(dir, name + '.inp'), path.join(dir, name + '.out'), '\n__wembed_vocab_test__\n')) {
      assert.deepEqual(toks[name].encode(text, { addSpecialTokens: false }).ids, ids, `${name}: ${JSON.stringify(text)}`);
      n++;
    }
  }
  const ll = path.join(TOK, 'llama.cpp', 'ggml-vocab-bert-bge.gguf');
  for (const [text, ids] of goldens(ll + '.inp', ll + '.out', '\n__ggml_vocab_test__\n')) {
    assert.deepEqual(toks['bge-small-en-v1.5'].encode(text, { addSpecialTokens: false }).ids, ids, JSON.stringify(text));
    n++;
  }
  assert.equal(n, 4 * 113 + 46);
});

test('public samples: ids, tokens, UTF-16 offsets, special tokens, truncation, file settings', () => {
  for (const name of NAMES) {
    const lines = fs.readFileSync(path.join(TOK, `samples-${name}.jsonl`), 'utf8').trim().split('\n');
    for (const line of lines) {
      const d = JSON.parse(line);
      const t = toks[name];
      const plain = t.encode(d.text, { addSpecialTokens: false });
      assert.deepEqual(plain.ids, d.ids, `${name} ${d.id}`);
      assert.deepEqual(plain.tokens, d.tokens, `${name} ${d.id}`);
      assert.deepEqual(plain.offsets, utf16(d.text, d.offsets), `${name} ${d.id} offsets`);
      const sp = t.encode(d.text);
      assert.deepEqual(sp.ids, d.ids_special, `${name} ${d.id} special`);
      assert.deepEqual(sp.specialTokensMask, d.special_tokens_mask, `${name} ${d.id} special mask`);
      const tr = t.encode(d.text, { maxLength: d.truncation_max_length });
      assert.deepEqual(tr.ids, d.ids_truncated ?? d.ids_special, `${name} ${d.id} truncated`);
      if (d.ids_as_configured) {
        const c = t.encode(d.text, { useFileSettings: true });
        assert.deepEqual(c.ids, d.ids_as_configured, `${name} ${d.id} as configured`);
        assert.deepEqual(c.attentionMask, d.attention_mask_as_configured, `${name} ${d.id} attention mask`);
      }
    }
  }
});

test('differential against the Rust library through wasm, lone surrogates included', async () => {
  const { Tokenizer: Ref } = require('@anush008/tokenizers');
  let state = 987654321;
  const rand = () => {
    state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const pieces = ['hello', 'World', ' ', '  ', '\n', '\t', "don't", 'café', 'cafe\u0301', '中文', '日本語', 'Ελλάδα', 'ΣΟΦΙΑ',
    '😀', '👩🏽‍🔬', '🇫🇷', '\u{1d400}', '\u{20001}', '[CLS]', '[SEP]', '<|endoftext|>', '</s>', '<pad>', '123', '4.5',
    '!?', '(x)', '\u00a0', '\u3000', '\u200b', '\ufeff', '\ud800', '\udfff', 'x\ud83dy', 'ﬁ', 'Ⅻ', '\u0000', '\u0085'];
  const strings = [];
  for (let i = 0; i < 300; i++) {
    let s = '';
    const n = 1 + Math.floor(rand() * 10);
    for (let k = 0; k < n; k++) s += pieces[Math.floor(rand() * pieces.length)] + (rand() < 0.5 ? ' ' : '');
    strings.push(s);
  }
  for (const name of NAMES) {
    const ref = Ref.fromFile(path.join(TOK, name, 'tokenizer.json'));
    ref.disablePadding();
    ref.disableTruncation();
    const encs = await ref.encodeBatch(strings, { addSpecialTokens: true });
    strings.forEach((s, i) => {
      // The reference sees the string with lone surrogates replaced (napi's UTF-8 conversion,
      // like TextEncoder); both are one UTF-16 unit, so offsets stay comparable.
      const fixed = s.toWellFormed ? s.toWellFormed() : s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
      const got = toks[name].encode(s);
      assert.deepEqual(got.ids, encs[i].getIds(), `${name}: ${JSON.stringify(s)}`);
      assert.deepEqual(got.offsets, utf16(fixed, encs[i].getOffsets()), `${name} offsets: ${JSON.stringify(s)}`);
    });
  }
});
