// memory-bounds.test.js - inputs whose size should not become memory: a long text is truncated
// from a prefix of it (exactly the whole text's first tokens) and chunked through a text stream
// that reports progress and stops on an AbortSignal; an image over maxPixels is refused from its
// header before decoding; a tokenizer.json over the engine's limit is refused before it is read.
// The peak memory figures are bench/memory-bounds.mjs's (not a test: it takes gigabytes to show).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Embedder, Tokenizer, createEngine } from '../../js/index.js';
import { imageSize, MAX_PIXELS } from '../../js/image.js';
import { LONG_TEXT } from '../../js/embedder.js';
import { FIXTURES, DATA, cosine } from './helpers.js';
import { pngHeader } from '../../bench/png-bomb.mjs';

/** @type {import('../../js/engine.js').Engine} */
let engine;
before(async () => { engine = await createEngine({ variant: 'st' }); });

// ~1.5 MB of numbered sentences (no window repeats another).
function longText() {
  const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dogs', 'while', 'embedding', 'models', 'read', 'long', 'texts'];
  const parts = [];
  let n = 0;
  for (let k = 0; n < 1.5e6; k++) {
    const s = `${k}. ${words[k % 14]} ${words[(k * 7) % 14]} ${words[(k * 3 + 1) % 14]}, über café ${k % 97}! `;
    parts.push(s);
    n += s.length;
  }
  return parts.join('');
}

test('a long text: truncation gives the whole text\'s first tokens; chunking streams it', async () => {
  const e = await Embedder.load(path.join(DATA, 'e2e'), { engine });
  try {
    const text = longText();
    assert.ok(text.length > LONG_TEXT);
    // Truncation: the same vector as the ids of the whole text's first tokens.
    const enc = await e.tokenize(text.slice(0, 20000), { maxLength: 512 });
    const [t] = await e.embed(text);
    const [ids] = await e.embedIds([enc.ids]);
    assert.ok(cosine(t, ids) > 0.99999, 'truncated long text = its first 512 tokens');
    // Chunking: progress in characters, never decreasing, one total, ending at it.
    const events = [];
    const [c] = await e.embed([text, 'short one'], { truncate: 'chunk', maxTokens: 128, onProgress: (ev) => events.push(ev) });
    assert.equal(c.length, 32);
    assert.ok(events.length >= 3, `${events.length} progress events`);
    assert.ok(events.every((ev, i) => ev.status === 'embed' && ev.total === text.length && (i === 0 || ev.loaded >= events[i - 1].loaded)));
    assert.equal(events.at(-1).loaded, text.length);
    // The same through the engine's own chunking (one copy of the whole text in): same vector.
    const [whole] = await e.embed(text.slice(0, LONG_TEXT - 10), { truncate: 'chunk', maxTokens: 128 });
    const [streamed] = await e.embed(text.slice(0, LONG_TEXT - 10) + ' '.repeat(20), { truncate: 'chunk', maxTokens: 128 });
    assert.ok(cosine(whole, streamed) > 0.9999999, 'streamed and whole chunking agree');
    // An AbortSignal stops it between pieces: fired from a timer, not from inside the call.
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 0);
    await assert.rejects(e.embed(text, { truncate: 'chunk', signal: ac.signal }), (err) => err.code === 'aborted_by_signal');
    // 'error' says so without reading the whole text.
    await assert.rejects(e.embed(text, { truncate: 'error' }), (err) => err.code === 'too_long' && /more than 512 tokens/.test(err.message));
    const live = engine.liveAllocations();
    await e.embed(text.slice(0, 300000), { truncate: 'chunk', maxTokens: 64 });
    assert.equal(engine.liveAllocations(), live, 'a stream frees what it took');
  } finally {
    e.dispose();
  }
});

test('maxPixels: an image too large is refused from its header, before decoding', async () => {
  // A 16000 x 16000 PNG's header (the bytes after it are never read).
  const bomb = pngHeader(16000, 16000);
  assert.deepEqual(imageSize(bomb), { width: 16000, height: 16000 });
  // JPEG (SOF0 after an APP0) and WebP (VP8X) headers.
  const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0x1f, 0x40, 0x3e, 0x80, 3, 0, 0, 0]);
  assert.deepEqual(imageSize(jpeg), { width: 16000, height: 8000 });
  const webp = new Uint8Array(30);
  webp.set([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x58]);
  webp.set([0x7f, 0x3e, 0x00, 0x3f, 0x1f, 0x00], 24);   // canvas 16000 x 8000, minus one
  assert.deepEqual(imageSize(webp), { width: 16000, height: 8000 });

  const e = await Embedder.load(path.join(FIXTURES, 'clip'), { engine });
  try {
    const before = engine.heapU8().byteLength;
    await assert.rejects(e.embedImage(bomb), (err) => err.code === 'image_too_large' && /16000x16000/.test(err.message) && /maxPixels 50000000/.test(err.message));
    await assert.rejects(e.embedImage([jpeg, webp]), (err) => err.code === 'image_too_large');
    assert.equal(MAX_PIXELS, 50_000_000);
    // Decoded pixels are bound too, and the bound is the caller's to set.
    const px = { data: new Uint8Array(20 * 20 * 3), width: 20, height: 20, channels: 3 };
    await assert.rejects(e.embedImage(px, { maxPixels: 399 }), (err) => err.code === 'image_too_large');
    assert.equal((await e.embedImage(px, { maxPixels: 400 })).length, 1);
    await assert.rejects(e.preprocessImage(px, { maxPixels: 10 }), (err) => err.code === 'image_too_large');
    await assert.rejects(e.embedImage(px, { maxPixels: -1 }), (err) => err.code === 'invalid_argument');
    assert.equal(engine.heapU8().byteLength, before, 'the refusals grew no memory');
  } finally {
    e.dispose();
  }
});

test('a tokenizer.json over the limit is refused from its size, before it is read', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wembed-big-'));
  try {
    // Sparse: 300 MB on paper, nothing on disk; reading it would take 300 MB.
    const file = path.join(dir, 'tokenizer.json');
    fs.closeSync(fs.openSync(file, 'w'));
    fs.truncateSync(file, 300 << 20);
    const rss = process.memoryUsage().rss;
    await assert.rejects(Tokenizer.load(file, { engine }), (err) => err.code === 'limit' && /314572800 bytes/.test(err.message));
    for (const name of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(FIXTURES, 'bert', name), path.join(dir, name));
    await assert.rejects(Embedder.load(dir, { engine }), (err) => err.code === 'limit' && /tokenizer\.json/.test(err.message));
    assert.ok(process.memoryUsage().rss - rss < 100 << 20, 'not read');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('worker mode: a long text\'s progress comes back and its AbortSignal reaches the worker', async () => {
  const e = await Embedder.load(path.join(DATA, 'e2e'), { worker: true, variant: 'st' });
  try {
    const text = longText().slice(0, 600000);
    const events = [];
    const [v] = await e.embed(text, { onProgress: (ev) => events.push(ev) });
    assert.equal(v.length, 32);
    assert.ok(events.length >= 1 && events.at(-1).loaded === text.length && events.every((ev) => ev.total === text.length));
    const ac = new AbortController();
    const p = e.embed(text, { truncate: 'chunk', signal: ac.signal, onProgress: () => ac.abort() });
    await assert.rejects(p, (err) => err.code === 'aborted_by_signal');
    // The worker stops that call at its next piece and answers the next one.
    assert.equal((await e.embed('short'))[0].length, 32);
  } finally {
    e.dispose();
  }
});
