// demo-model.test.js - the demo's bundled image model (web-demo/models/tiny-clip): token ids
// equal the Rust tokenizers library's, and text and image embeddings equal an independent
// float64 PyTorch forward pass (expected.json, made by gen/tiny_clip.py). Also
// the demo's chunker: spans that cover the text, in order, within the size limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { Embedder } from '../../js/index.js';
import { chunkText, queryTerms, PASSAGE_CHARS } from '../../web-demo/chunk.js';
import { ROOT, cosine } from './helpers.js';

const DIR = path.join(ROOT, 'web-demo/models/tiny-clip');
const expected = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8'));

test('tiny CLIP: ids, text and image embeddings match the float64 reference', async () => {
  const e = await Embedder.load(DIR, { variant: 'st' });
  try {
    const i = e.info();
    assert.equal(i.vocabSize, 49408);
    assert.equal(i.dims, 32);
    assert.equal(i.imageSize, 224);
    assert.equal(e.warnings, '');
    const vecs = await e.embed(expected.texts.map((t) => t.text));
    for (const [k, t] of expected.texts.entries()) {
      assert.deepEqual((await e.tokenize(t.text)).ids, t.ids);
      assert.ok(cosine(vecs[k], t.embedding) >= 0.99999, `text ${JSON.stringify(t.text)}: ${cosine(vecs[k], t.embedding)}`);
    }
    for (const p of expected.pixels) {
      const px = new Float32Array(3 * 224 * 224);
      for (let c = 0; c < 3; c++) for (let y = 0; y < 224; y++) for (let x = 0; x < 224; x++) {
        px[(c * 224 + y) * 224 + x] = Math.sin(0.05 * x * (p.pattern + 1) + 0.11 * y + 1.3 * c) * 1.5;
      }
      const [v] = await e.embedPixels(px);
      assert.ok(cosine(v, p.embedding) >= 0.99999, `pattern ${p.pattern}: ${cosine(v, p.embedding)}`);
    }
  } finally {
    e.dispose();
  }
});

test('the demo chunker: ordered spans of the text, each within the limit, nothing lost', () => {
  const docs = JSON.parse(fs.readFileSync(path.join(ROOT, 'web-demo/samples/docs/index.json'), 'utf8'));
  for (const name of docs) {
    const text = fs.readFileSync(path.join(ROOT, 'web-demo/samples/docs', name), 'utf8');
    const chunks = chunkText(text, { maxChars: PASSAGE_CHARS });
    assert.ok(chunks.length >= 2, name);
    let last = 0;
    for (const c of chunks) {
      assert.equal(text.slice(c.start, c.end), c.text);
      assert.ok(c.end - c.start <= PASSAGE_CHARS);
      assert.ok(c.start >= last);
      assert.equal(text.slice(last, c.start).trim(), '', 'only whitespace between chunks');
      last = c.end;
    }
    assert.equal(text.slice(last).trim(), '');
    assert.deepEqual(chunkText(text, { mode: 'document' }), [{ text: text.trim(), start: 0, end: text.trimEnd().length }]);
  }
  assert.deepEqual(chunkText('   '), []);
  assert.deepEqual(chunkText('one two three', { maxChars: 7 }).map((c) => c.text), ['one two', 'three']);
  assert.deepEqual(chunkText('A. B.\n\nC.', { maxChars: 100 }).map((c) => c.text), ['A. B.\n\nC.']);
  assert.deepEqual(queryTerms('How do Volcanoes erupt? How'), ['how', 'volcanoes', 'erupt']);
});
