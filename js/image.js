// image.js - turns what a caller calls an image into 8-bit RGB(A) pixels for the engine.
//
// Taken everywhere: pixel objects `{data, width, height, channels?, stride?}` (RGBA or RGB,
// rows `stride` bytes apart) and ImageData. In browsers also ImageBitmap, OffscreenCanvas,
// canvas and <img> elements, Blob/File and URLs, drawn through an OffscreenCanvas (the browser
// decodes and applies EXIF orientation). In Node, encoded PNG/JPEG/WebP bytes, file paths and
// file: URLs are decoded with sharp.
//
// Why sharp: it is the best-kept image library on npm (libvips; the decoder transformers.js
// uses too), it decodes PNG, JPEG and WebP (and more) in one package, applies EXIF orientation
// with `.rotate()`, and installs from the npm registry alone: its prebuilt binaries are npm
// packages (@img/sharp-<platform>), nothing is downloaded at install time. It is an optional
// dependency, imported only when an encoded image must be decoded in Node, so browsers and
// bundles never see it. Alpha is dropped without compositing, as Pillow's convert('RGB') does.

import { WembedError, throwIfAborted } from './errors.js';

const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';

/**
 * @typedef {object} Pixels
 * @property {Uint8Array | Uint8ClampedArray | ArrayBuffer} data 8-bit samples, row-major
 * @property {number} width
 * @property {number} height
 * @property {3 | 4} [channels] 3 = RGB, 4 = RGBA (default: from the data's length)
 * @property {number} [stride] bytes per row (default width * channels)
 *
 * @typedef {Pixels | Uint8Array | ArrayBuffer | string | URL | Blob | ImageBitmap | OffscreenCanvas | any} ImageInput
 *
 * @typedef {{data: Uint8Array, width: number, height: number, channels: number, stride: number}} RGBImage
 */

/** @param {unknown} v */
function isPixels(v) {
  return v != null && typeof v === 'object' && 'data' in v && 'width' in v && 'height' in v;
}

/** @param {Pixels} p @returns {RGBImage} */
function fromPixels(p) {
  const { width, height } = p;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new WembedError('invalid_argument', `image width and height must be positive integers, not ${width}x${height}`);
  }
  const d = /** @type {any} */ (p.data);
  const data = d instanceof Uint8Array ? d
    : d instanceof Uint8ClampedArray ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
      : d instanceof ArrayBuffer ? new Uint8Array(d)
        : ArrayBuffer.isView(d) && /** @type {any} */ (d).BYTES_PER_ELEMENT === 1 ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
          : null;
  if (!data) throw new WembedError('invalid_argument', 'image data must be 8-bit samples (Uint8Array, Uint8ClampedArray or ArrayBuffer)');
  const channels = p.channels ?? (p.stride ? undefined : data.byteLength === width * height * 3 ? 3 : 4);
  const ch = channels ?? Math.floor(p.stride / width);
  if (ch !== 3 && ch !== 4) throw new WembedError('invalid_argument', `image channels must be 3 (RGB) or 4 (RGBA), not ${ch}`);
  const stride = p.stride ?? width * ch;
  if (!(Number.isInteger(stride) && stride >= width * ch)) {
    throw new WembedError('invalid_argument', `image stride ${stride} is less than width * channels = ${width * ch}`);
  }
  const need = stride * (height - 1) + width * ch;
  if (data.byteLength < need) {
    throw new WembedError('invalid_argument', `image data has ${data.byteLength} bytes; ${width}x${height}x${ch} with stride ${stride} needs ${need}`);
  }
  return { data, width, height, channels: ch, stride };
}

/** The format of encoded image bytes, by their magic number. */
export function sniffFormat(b) {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 &&
      b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'webp';
  return null;
}

/** Default bound on an image's pixels (width * height): far more than any embedding model's input. */
export const MAX_PIXELS = 50_000_000;

/**
 * The dimensions a PNG, JPEG or WebP header declares, read without decoding, or null.
 * @param {Uint8Array} b @returns {{width: number, height: number} | null}
 */
export function imageSize(b) {
  const fmt = sniffFormat(b);
  const be16 = (i) => (b[i] << 8) | b[i + 1];
  const le16 = (i) => b[i] | (b[i + 1] << 8);
  const le24 = (i) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
  if (fmt === 'png') {
    if (b.length < 24) return null;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return { width: dv.getUint32(16), height: dv.getUint32(20) };
  }
  if (fmt === 'jpeg') {
    // Markers until a start of frame (SOF0-SOF15 but DHT C4, JPG C8, DAC CC): its height, width.
    for (let i = 2; i + 9 < b.length;) {
      if (b[i] !== 0xff) return null;
      const mk = b[i + 1];
      if (mk === 0xff) { i++; continue; }
      if (mk === 0x01 || (mk >= 0xd0 && mk <= 0xd8)) { i += 2; continue; }
      if (mk >= 0xc0 && mk <= 0xcf && mk !== 0xc4 && mk !== 0xc8 && mk !== 0xcc) return { width: be16(i + 7), height: be16(i + 5) };
      i += 2 + be16(i + 2);
    }
    return null;
  }
  if (fmt === 'webp' && b.length >= 30) {
    const chunk = String.fromCharCode(b[12], b[13], b[14], b[15]);
    if (chunk === 'VP8 ') return { width: le16(26) & 0x3fff, height: le16(28) & 0x3fff };
    if (chunk === 'VP8L') {
      return { width: 1 + (((b[22] & 0x3f) << 8) | b[21]), height: 1 + (((b[24] & 0xf) << 10) | (b[23] << 2) | ((b[22] & 0xc0) >> 6)) };
    }
    if (chunk === 'VP8X') return { width: 1 + le24(24), height: 1 + le24(27) };
  }
  return null;
}

/**
 * Refuses an image of more than maxPixels pixels (0: no bound).
 * @param {number} width @param {number} height @param {number} maxPixels @param {string} label
 */
export function checkPixels(width, height, maxPixels, label) {
  if (maxPixels > 0 && width * height > maxPixels) {
    throw new WembedError('image_too_large', `${label}: ${width}x${height} is ${width * height} pixels, more than maxPixels ` +
      `${maxPixels}; embedding models take a few hundred pixels a side: downscale it first, or raise maxPixels`);
  }
}

/** The maxPixels option, checked. @param {unknown} v @returns {number} */
export function maxPixelsOf(v) {
  if (v === undefined) return MAX_PIXELS;
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0)) {
    throw new WembedError('invalid_argument', `maxPixels must be a non-negative integer (0: no limit), not ${v}`);
  }
  return v;
}

let sharpP;
async function loadSharp() {
  // A specifier bundlers do not follow: sharp is for Node only and must stay out of bundles.
  const name = 'sharp';
  sharpP ??= import(/* @vite-ignore */ /* webpackIgnore: true */ name).then((m) => m.default ?? m, () => null);
  const s = await sharpP;
  if (!s) {
    throw new WembedError('unsupported', 'decoding PNG, JPEG or WebP in Node needs the optional dependency sharp ' +
      '(npm install sharp), or pass decoded pixels as {data, width, height, channels}');
  }
  return s;
}

/**
 * Decodes PNG/JPEG/WebP bytes in Node, EXIF orientation applied. The label names the image in errors.
 * @param {Uint8Array} bytes @param {string} label @returns {Promise<RGBImage>}
 */
export async function decodeNode(bytes, label, maxPixels = MAX_PIXELS) {
  const fmt = sniffFormat(bytes);
  const size = imageSize(bytes);
  if (size) checkPixels(size.width, size.height, maxPixels, label);   // before any pixel is decoded
  if (!fmt) {
    throw new WembedError('bad_image', `${label}: not a PNG, JPEG or WebP image (unrecognized first bytes` +
      `${bytes.length ? ' ' + Array.from(bytes.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ') : ': empty'})`);
  }
  const sharp = await loadSharp();
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: maxPixels > 0 ? maxPixels : false })
      .rotate()                    // EXIF orientation
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const u8 = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data: u8, width: info.width, height: info.height, channels: 3, stride: info.width * 3 };
  } catch (e) {
    if (e instanceof WembedError) throw e;
    if (/pixel limit/i.test(/** @type {any} */ (e)?.message ?? '')) {   // a header this file's reader did not see
      throw new WembedError('image_too_large', `${label}: more pixels than maxPixels ${maxPixels} (${/** @type {any} */ (e).message})`, { cause: e });
    }
    throw new WembedError('bad_image', `${label}: could not decode the ${fmt.toUpperCase()} image: ${/** @type {any} */ (e)?.message ?? e}`, { cause: e });
  }
}

/** Draws anything createImageBitmap takes into RGBA pixels (browsers). */
async function decodeBrowser(src, label, maxPixels = MAX_PIXELS) {
  if (typeof Blob !== 'undefined' && src instanceof Blob) {
    const size = imageSize(new Uint8Array(await src.slice(0, 1 << 16).arrayBuffer()));
    if (size) checkPixels(size.width, size.height, maxPixels, label);   // before the browser decodes it
  }
  let bmp = src;
  try {
    if (!(typeof ImageBitmap !== 'undefined' && src instanceof ImageBitmap)) {
      bmp = await createImageBitmap(src, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    }
  } catch (e) {
    throw new WembedError('bad_image', `${label}: the browser could not decode this image: ${/** @type {any} */ (e)?.message ?? e}`, { cause: e });
  }
  const w = bmp.width;
  const h = bmp.height;
  try {
    checkPixels(w, h, maxPixels, label);
  } catch (e) {
    if (bmp !== src) bmp.close?.();
    throw e;
  }
  const canvas = new OffscreenCanvas(w, h);
  const ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d', { willReadFrequently: true }));
  ctx.drawImage(bmp, 0, 0);
  if (bmp !== src) bmp.close?.();
  const id = ctx.getImageData(0, 0, w, h);
  return { data: new Uint8Array(id.data.buffer, id.data.byteOffset, id.data.byteLength), width: w, height: h, channels: 4, stride: w * 4 };
}

/**
 * Any supported image input as pixels.
 * @param {ImageInput} input @param {string} [label]
 * @param {{fetch?: typeof fetch, signal?: AbortSignal, maxPixels?: number}} [opts] maxPixels: refuse larger images
 *   (code 'image_too_large'), from the header before decoding (default MAX_PIXELS; 0: no limit)
 * @returns {Promise<RGBImage>}
 */
export async function toPixels(input, label = 'image', opts = {}) {
  const maxPixels = maxPixelsOf(opts.maxPixels);
  if (isPixels(input)) {
    const px = fromPixels(/** @type {Pixels} */ (input));
    checkPixels(px.width, px.height, maxPixels, label);
    return px;
  }
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
    const b = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    if (isNode) return decodeNode(b, label, maxPixels);
    const fmt = sniffFormat(b);
    return decodeBrowser(new Blob([/** @type {any} */ (b)], { type: fmt ? `image/${fmt}` : '' }), label, maxPixels);
  }
  if (typeof input === 'string' || input instanceof URL) {
    const s = String(input);
    if (isNode && !/^(https?|data|blob):/i.test(s)) {
      const fs = process.getBuiltinModule('node:fs/promises');
      const { fileURLToPath } = process.getBuiltinModule('node:url');
      const file = /^file:/i.test(s) ? fileURLToPath(s) : s;
      let bytes;
      try { bytes = await fs.readFile(file); } catch (e) {
        throw new WembedError('not_found', `cannot read image ${file}: ${/** @type {any} */ (e).code ?? e}`);
      }
      return decodeNode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file, maxPixels);
    }
    let b;
    try {
      const res = await (opts.fetch ?? fetch)(s, { signal: opts.signal });
      if (!res.ok) throw new WembedError('network', `could not fetch image ${s}: HTTP ${res.status}`);
      b = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      // fetch rejects with a bare TypeError ("fetch failed") or the signal's reason
      throwIfAborted(opts.signal);
      if (e instanceof WembedError) throw e;
      const cause = /** @type {any} */ (e)?.cause;
      throw new WembedError('network', `could not fetch image ${s}: ${/** @type {any} */ (e)?.message ?? e}${cause?.code ? ` (${cause.code})` : ''}`, { cause: e });
    }
    return isNode ? decodeNode(b, s, maxPixels) : decodeBrowser(new Blob([b]), s, maxPixels);
  }
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    if (isNode) return decodeNode(new Uint8Array(await input.arrayBuffer()), label, maxPixels);
    return decodeBrowser(input, label, maxPixels);
  }
  if (!isNode && input && typeof input === 'object') return decodeBrowser(input, label, maxPixels);
  throw new WembedError('invalid_argument', `${label}: unsupported image input (${Object.prototype.toString.call(input)}); ` +
    'give {data, width, height, channels}, ImageData, encoded PNG/JPEG/WebP bytes, a file path (Node), or a Blob/ImageBitmap/URL (browsers)');
}
