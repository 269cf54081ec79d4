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
export async function decodeNode(bytes, label) {
  const fmt = sniffFormat(bytes);
  if (!fmt) {
    throw new WembedError('bad_image', `${label}: not a PNG, JPEG or WebP image (unrecognized first bytes` +
      `${bytes.length ? ' ' + Array.from(bytes.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ') : ': empty'})`);
  }
  const sharp = await loadSharp();
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: 1 << 28 })
      .rotate()                    // EXIF orientation
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const u8 = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data: u8, width: info.width, height: info.height, channels: 3, stride: info.width * 3 };
  } catch (e) {
    throw new WembedError('bad_image', `${label}: could not decode the ${fmt.toUpperCase()} image: ${/** @type {any} */ (e)?.message ?? e}`, { cause: e });
  }
}

/** Draws anything createImageBitmap takes into RGBA pixels (browsers). */
async function decodeBrowser(src, label) {
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
  const canvas = new OffscreenCanvas(w, h);
  const ctx = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext('2d', { willReadFrequently: true }));
  ctx.drawImage(bmp, 0, 0);
  if (bmp !== src) bmp.close?.();
  const id = ctx.getImageData(0, 0, w, h);
  return { data: new Uint8Array(id.data.buffer, id.data.byteOffset, id.data.byteLength), width: w, height: h, channels: 4, stride: w * 4 };
}

/**
 * Any supported image input as pixels.
 * @param {ImageInput} input @param {string} [label] @param {{fetch?: typeof fetch, signal?: AbortSignal}} [opts]
 * @returns {Promise<RGBImage>}
 */
export async function toPixels(input, label = 'image', opts = {}) {
  if (isPixels(input)) return fromPixels(/** @type {Pixels} */ (input));
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
    const b = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    if (isNode) return decodeNode(b, label);
    const fmt = sniffFormat(b);
    return decodeBrowser(new Blob([/** @type {any} */ (b)], { type: fmt ? `image/${fmt}` : '' }), label);
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
      return decodeNode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
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
    return isNode ? decodeNode(b, s) : decodeBrowser(new Blob([b]), s);
  }
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    if (isNode) return decodeNode(new Uint8Array(await input.arrayBuffer()), label);
    return decodeBrowser(input, label);
  }
  if (!isNode && input && typeof input === 'object') return decodeBrowser(input, label);
  throw new WembedError('invalid_argument', `${label}: unsupported image input (${Object.prototype.toString.call(input)}); ` +
    'give {data, width, height, channels}, ImageData, encoded PNG/JPEG/WebP bytes, a file path (Node), or a Blob/ImageBitmap/URL (browsers)');
}
