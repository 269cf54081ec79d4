// helpers.js - shared by the JS tests: fixture readers, cosine, and a local "hub" that serves
// the fixture models under hub-style paths with misbehaving endpoints for the loading tests.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DATA = path.join(ROOT, 'tests/data');
export const FIXTURES = path.join(DATA, 'fixtures');

/** A fixture tensor as a typed array. */
export function readBin(dir, file, T = Float32Array) {
  const b = fs.readFileSync(path.join(dir, file));
  return new T(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The tensors of one case of a fixture's manifest, by name, with shapes. */
export function fixtureCase(model, name) {
  const dir = path.join(FIXTURES, model);
  const man = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const c = man.cases.find((x) => x.name === name);
  if (!c) throw new Error(`no case ${name} in ${model}`);
  const out = {};
  for (const [k, t] of Object.entries(c.tensors)) {
    const T = t.dtype === 'int32' ? Int32Array : t.dtype === 'uint8' ? Uint8Array : Float32Array;
    out[k] = { data: readBin(dir, t.file, T), shape: t.shape };
  }
  return out;
}

/** Rows of a [B, T] tensor as arrays. */
export function rows(t) {
  const [B, T] = t.shape;
  return Array.from({ length: B }, (_, b) => Array.from(t.data.subarray(b * T, (b + 1) * T)));
}

const WORDS = ('the a of cat cats dog is are small feline pet car fast red what who which ' +
  'animal animals drives road has four legs wheels engine purrs barks , . ? ##s').split(' ');
/** A tiny BERT WordPiece tokenizer.json (as an object) whose ids fit rerank_bert's 400-row vocabulary. */
export function tinyTokenizer() {
  const vocab = { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3 };
  WORDS.forEach((w, i) => { vocab[w] = 10 + i; });
  const special = (content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special('[PAD]', 0), special('[UNK]', 1), special('[CLS]', 2), special('[SEP]', 3)],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: null,
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

export function cosine(a, b) {
  let d = 0; let x = 0; let y = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; x += a[i] * a[i]; y += b[i] * b[i]; }
  return d / Math.sqrt(x * y);
}

export function tmpDir(prefix = 'wembed-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A local hub: GET /<org>/<name>/resolve/<rev>/<file> serves `models[org/name]/<file>`, with
 * Range, If-Range and If-None-Match support, a strong ETag (sha1 of the bytes, as the hub's git
 * blob ids) and a Last-Modified. Behaviours per model id (set `hub.mode[id]`):
 *   'ok'        plain
 *   'flaky'     each file's first request answers 503, the next ones succeed
 *   'truncate'  each file's first request sends half its bytes then drops the connection
 *   'truncate-always'  every request of a big file drops the connection half way
 *   'slow'      sends a big file 1 KiB every 50 ms
 *   'stall'     sends a big file's headers and 1 KiB, then nothing
 *   'portal'    config.json answers 200 with an HTML page (a captive portal)
 *   'short'     tokenizer.json is declared (Content-Length) and sent at half its size
 *   'no-validators'  no ETag, no Last-Modified
 *   'ignore-if-range'  Range is honoured whatever If-Range says
 *   'lfs'       *.safetensors answer 302 to /cdn/... with X-Linked-Etag: the file's sha256
 *   'lfs-bad'   the same with a wrong sha256
 * `hub.content[id/file]` replaces a file's bytes: a Buffer, or a function of the request's number
 * for that file (1, 2, ...) returning one: a file that changes upstream.
 * Every request is logged in hub.log as {id, file, range, ifRange, ifNoneMatch, status}.
 * @param {Record<string, string>} models hub id -> folder
 */
export async function startHub(models) {
  const hub = {
    mode: /** @type {Record<string, string>} */ ({}), content: /** @type {Record<string, Buffer | ((hit: number) => Buffer)>} */ ({}),
    log: [], hits: new Map(), token: null, server: null, url: '',
  };
  const sockets = new Set();
  hub.server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const cdn = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(decodeURIComponent(u.pathname));
    const m = cdn ? [null, cdn[1], 'main', cdn[2]] : /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(decodeURIComponent(u.pathname));
    const entry = {
      id: m?.[1], rev: m?.[2], file: m?.[3], cdn: !!cdn, range: req.headers.range ?? null, ifRange: req.headers['if-range'] ?? null,
      ifNoneMatch: req.headers['if-none-match'] ?? null, status: 0, auth: req.headers.authorization ?? null,
    };
    hub.log.push(entry);
    const send = (status, body = '', type = 'text/plain') => { entry.status = status; res.writeHead(status, { 'Content-Type': type }).end(body); };
    if (!m || !models[m[1]]) return send(404, 'Repository not found');
    if (hub.token && !cdn && req.headers.authorization !== `Bearer ${hub.token}`) return send(401, 'Invalid credentials');
    if (m[2] !== 'main' && m[2] !== 'v1') return send(404, 'Revision not found');
    const file = path.join(models[m[1]], ...m[3].split('/'));
    const key = `${m[1]}/${m[3]}`;
    if (!hub.content[key] && (!file.startsWith(models[m[1]]) || !fs.existsSync(file) || !fs.statSync(file).isFile())) return send(404, 'Entry not found');
    const mode = hub.mode[m[1]] ?? 'ok';
    const hits = (hub.hits.get(key) ?? 0) + 1;
    hub.hits.set(key, hits);
    if (mode === 'flaky' && hits === 1) return send(503, 'Service unavailable');
    if (mode === 'portal' && m[3] === 'config.json') {
      const page = Buffer.from('<!DOCTYPE html><html><body>Sign in to the hotel Wi-Fi to continue</body></html>');
      entry.status = 200;
      res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': String(page.length) }).end(page);
      return;
    }
    const over = hub.content[key];
    const data = (typeof over === 'function' ? over(hits) : over) ?? fs.readFileSync(file);
    if (!cdn && /^lfs/.test(mode) && m[3].endsWith('.safetensors')) {
      const sha = mode === 'lfs-bad' ? '0'.repeat(64) : crypto.createHash('sha256').update(data).digest('hex');
      entry.status = 302;
      res.writeHead(302, { Location: `/cdn/${m[1]}/${m[3]}`, 'X-Linked-Etag': `"${sha}"`, 'X-Linked-Size': String(data.length) }).end();
      return;
    }
    const headers = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes' };
    const etag = `"${crypto.createHash('sha1').update(data).digest('hex')}"`;
    if (mode !== 'no-validators') {
      headers.ETag = etag;
      headers['Last-Modified'] = new Date(Math.floor(fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0)).toUTCString();
    }
    if (mode !== 'no-validators' && req.headers['if-none-match'] === etag) {
      entry.status = 304;
      res.writeHead(304, { ETag: etag }).end();
      return;
    }
    let start = 0;
    let status = 200;
    const rm = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    const rangeOk = !ifRange || mode === 'ignore-if-range' || ifRange === headers.ETag || ifRange === headers['Last-Modified'];
    if (rm && rangeOk) {
      start = Number(rm[1]);
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    }
    let body = data.subarray(start);
    if (mode === 'short' && m[3] === 'tokenizer.json') body = body.subarray(0, body.length >> 1);
    headers['Content-Length'] = String(body.length);
    entry.status = status;
    res.writeHead(status, headers);
    const big = data.length > 1000000;   // model.safetensors, not tokenizer.json
    if ((['truncate', 'no-validators', 'ignore-if-range'].includes(mode) && hits === 1 && big) || (mode === 'truncate-always' && big)) {
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    if ((mode === 'slow' || mode === 'stall') && big) {
      let o = 0;
      const tick = () => {
        if (res.destroyed) return;
        res.write(body.subarray(o, o + 1024));
        o += 1024;
        if (o >= body.length) return res.end();
        if (mode === 'slow') setTimeout(tick, 50);
      };
      tick();
      return;
    }
    res.end(body);
  });
  hub.server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => hub.server.listen(0, '127.0.0.1', r));
  hub.url = `http://127.0.0.1:${hub.server.address().port}`;
  hub.close = () => new Promise((r) => { for (const s of sockets) s.destroy(); hub.server.close(r); });
  return hub;
}
