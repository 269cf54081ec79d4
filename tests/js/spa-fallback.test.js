// spa-fallback.test.js - a model served by a static host with an SPA fallback (vite dev, many
// CDNs and hosting services): every missing file comes back as index.html with status 200. An
// optional JSON file that is such a page is taken as missing, with a 'debug' progress event
// saying so; sentence_bert_config.json is asked for only beside a modules.json (without one,
// sentence-transformers never reads it). The vectors are the reference's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { Embedder } from '../../js/index.js';
import { DATA, cosine, tmpDir } from './helpers.js';

const E2E = path.join(DATA, 'e2e');
const expected = JSON.parse(fs.readFileSync(path.join(E2E, 'expected.json'), 'utf8')).cases;
const texts = JSON.parse(fs.readFileSync(path.join(E2E, 'texts.json'), 'utf8'));
const PAGE = '<!doctype html>\n<html><head><title>app</title></head><body><div id="app"></div></body></html>\n';

let server;
let url;
let root;
/** @type {string[]} */
const log = [];

before(async () => {
  // site/st: the e2e model as it is (modules.json, no sentence_bert_config.json);
  // site/plain: the same without the sentence-transformers files (mean pooling is the default).
  root = tmpDir('wembed-spa-');
  for (const [dir, files] of [['st', ['config.json', 'model.safetensors', 'tokenizer.json', 'modules.json', '1_Pooling/config.json']],
    ['plain', ['config.json', 'model.safetensors', 'tokenizer.json']]]) {
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(root, dir, f)), { recursive: true });
      fs.copyFileSync(path.join(E2E, f), path.join(root, dir, f));
    }
  }
  server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    log.push(p);
    const file = path.join(root, ...p.split('/').filter(Boolean));
    if (file.startsWith(root) && fs.existsSync(file) && fs.statSync(file).isFile()) {
      const body = fs.readFileSync(file);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length }).end(body);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);   // the fallback: never a 404
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(root, { recursive: true, force: true });
});

async function load(dir) {
  log.length = 0;
  const events = [];
  const e = await Embedder.load(`${url}/${dir}/`, { variant: 'st', cache: false, onProgress: (p) => events.push(p) });
  try {
    const vs = await e.embed(texts.slice(0, 3));
    vs.forEach((v, i) => assert.ok(cosine(v, expected[i].mean_normalized) >= 0.99999, `${dir}: text ${i}`));
    return { events, files: e.files, asked: log.map((p) => p.slice(dir.length + 2)) };
  } finally {
    e.dispose();
  }
}

test('a sentence-transformers model: the missing sentence_bert_config.json is an HTML page, taken as missing', async () => {
  const { events, files, asked } = await load('st');
  assert.ok(asked.includes('sentence_bert_config.json'));
  assert.ok(!files.includes('sentence_bert_config.json'));
  const debug = events.filter((x) => x.status === 'debug');
  assert.equal(debug.length, 1);
  assert.equal(debug[0].file, 'sentence_bert_config.json');
  assert.match(debug[0].message, /sentence_bert_config\.json is an HTML page, not JSON: taken as missing/);
  assert.equal(events.at(-1).status, 'ready');
});

test('a plain model: modules.json is a page, and sentence_bert_config.json is not asked for', async () => {
  const { events, files, asked } = await load('plain');
  assert.ok(asked.includes('modules.json'));
  assert.ok(!asked.includes('sentence_bert_config.json'), `asked: ${asked.join(', ')}`);
  assert.ok(!asked.includes('preprocessor_config.json'), 'a text model is not asked for an image preprocessor');
  assert.deepEqual(files.sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
  assert.deepEqual(events.filter((x) => x.status === 'debug').map((x) => x.file), ['modules.json']);
});

test('a required file that is a page is still an error that says what came back', async () => {
  await assert.rejects(Embedder.load(`${url}/none/`, { variant: 'st', cache: false }), (e) => e.code === 'bad_format' && /config\.json is not valid JSON/.test(e.message));
});
