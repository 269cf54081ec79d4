// image.test.js - images in Node: PNG, lossless WebP and JPEG files and bytes decoded with sharp,
// EXIF orientation honoured, corrupt and unsupported inputs as clear errors, pixel objects checked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';

import { Embedder, createEngine, WembedError } from '../../js/index.js';
import { FIXTURES, cosine, fixtureCase, tmpDir } from './helpers.js';

let engine;
let clip;
let dir;
const c0 = fixtureCase('clip', 'image_raw0');
const [H, W] = c0.image_uint8.shape;
const raw = () => sharp(Buffer.from(c0.image_uint8.data), { raw: { width: W, height: H, channels: 3 } });
const ref = c0.image_embeds_normalized.data;

before(async () => {
  engine = await createEngine({ variant: 'st' });
  clip = await Embedder.load(path.join(FIXTURES, 'clip'), { engine });
  dir = tmpDir();
});
after(() => {
  clip.dispose();
  engine.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('PNG and lossless WebP decode to the exact pixels', async () => {
  const png = await raw().png().toBuffer();
  const webp = await raw().webp({ lossless: true }).toBuffer();
  fs.writeFileSync(path.join(dir, 'a.png'), png);
  const out = await clip.embedImage([png, new Uint8Array(webp), path.join(dir, 'a.png'), pathToFileURL(path.join(dir, 'a.png')), new Blob([png])]);
  out.forEach((v, i) => assert.ok(cosine(v, ref) >= 0.99999, `input ${i}`));
});

test('JPEG decodes (lossy, so close rather than exact)', async () => {
  const jpg = await raw().jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer();
  const [v] = await clip.embedImage(jpg);
  assert.ok(cosine(v, ref) >= 0.99, `cosine ${cosine(v, ref)}`);
});

test('EXIF orientation is applied', async () => {
  // Stored turned 90 degrees counter-clockwise, tagged "rotate 90 clockwise to display" (6).
  const stored = await raw().rotate(-90).webp({ lossless: true }).withMetadata({ orientation: 6 }).toBuffer();
  const meta = await sharp(stored).metadata();
  assert.equal(meta.orientation, 6);
  assert.equal(meta.width, H, 'stored sideways');
  const [v] = await clip.embedImage(stored);
  assert.ok(cosine(v, ref) >= 0.99999, `cosine ${cosine(v, ref)}`);
  const [sideways] = await clip.embedImage(await raw().rotate(-90).webp({ lossless: true }).toBuffer());
  assert.ok(cosine(sideways, ref) < 0.999, 'without the tag it is a different image');
});

test('corrupt, unsupported and malformed inputs are clear errors', async () => {
  const png = await raw().png().toBuffer();
  await assert.rejects(clip.embedImage(png.subarray(0, 60)), (e) => e instanceof WembedError && e.code === 'bad_image' && /PNG/.test(e.message));
  await assert.rejects(clip.embedImage(Buffer.from('GIF89a......')), (e) => e.code === 'bad_image' && /not a PNG, JPEG or WebP/.test(e.message));
  await assert.rejects(clip.embedImage(path.join(dir, 'missing.png')), (e) => e.code === 'not_found');
  await assert.rejects(clip.embedImage({ data: new Uint8Array(10), width: 4, height: 4 }), (e) => e.code === 'invalid_argument' && /needs/.test(e.message));
  await assert.rejects(clip.embedImage({ data: new Uint8Array(48), width: 4, height: 4, channels: 2 }), (e) => e.code === 'invalid_argument' && /channels/.test(e.message));
  await assert.rejects(clip.embedImage({ data: new Float32Array(48), width: 4, height: 4 }), (e) => e.code === 'invalid_argument');
  await assert.rejects(clip.embedImage(42), (e) => e.code === 'invalid_argument');
  const [v] = await clip.embedImage(png);   // still usable
  assert.ok(cosine(v, ref) >= 0.99999);
});
