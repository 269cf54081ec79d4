// png-bomb.mjs - PNG files whose decoded size is out of all proportion to their bytes, made on
// the spot (nothing committed): an all-black RGB image, its rows deflated as a stream so that
// making a 16000 x 16000 one (768 MB of pixels, about 750 KB of file) never holds the pixels.

import zlib from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes, crc = 0xffffffff) {
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return crc;
}

/** One PNG chunk: length, type, data, CRC over type and data. */
function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  dv.setUint32(8 + data.length, (crc32(out.subarray(4, 8 + data.length)) ^ 0xffffffff) >>> 0);
  return out;
}

/** The signature and IHDR of a width x height 8-bit RGB PNG. @returns {Uint8Array} */
export function pngHeader(width, height) {
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);   // depth 8, RGB, deflate, no filter choice, no interlace
  return Uint8Array.from([...[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], ...chunk('IHDR', ihdr)]);
}

/** A whole valid all-black width x height PNG. @returns {Promise<Uint8Array>} */
export async function pngBomb(width, height) {
  const deflate = zlib.createDeflate({ level: 9 });
  const parts = [];
  deflate.on('data', (c) => parts.push(c));
  const done = new Promise((resolve, reject) => { deflate.on('end', resolve); deflate.on('error', reject); });
  const row = new Uint8Array(1 + width * 3);   // filter byte 0, then black pixels
  for (let y = 0; y < height; y++) {
    if (!deflate.write(row)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  const idat = Buffer.concat(parts);
  return Uint8Array.from(Buffer.concat([pngHeader(width, height), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]));
}
