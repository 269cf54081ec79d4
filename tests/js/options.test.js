// options.test.js - what a newcomer mistypes is said at once: an unknown option key (with the
// known ones and the nearest), a local path that does not exist (not tried on the hub), and the
// README's offline examples run as written, their printed output as the README shows it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { Embedder, createEngine, pipeline } from '../../js/index.js';
import { ROOT, DATA } from './helpers.js';
import { LOAD_OPTIONS, EMBED_OPTIONS, ENGINE_OPTIONS, SEARCH_OPTIONS, RERANK_SEARCH_OPTIONS } from '../../js/options.js';

const E2E = path.join(DATA, 'e2e');
const bad = (re) => (e) => e.code === 'invalid_argument' && re.test(e.message);

test('unknown option keys are refused with the known ones', async () => {
  const e = await Embedder.load(E2E, { variant: 'st' });
  try {
    await assert.rejects(e.embed(['a'], /** @type {any} */ ({ normalise: false })),
      bad(/^embed: unknown option "normalise" \(did you mean 'normalize'\?\); the options are 'pooling', 'normalize', /));
    await assert.rejects(e.embed(['a'], /** @type {any} */ ({ maxToken: 8 })), bad(/did you mean 'maxTokens'/));
    await assert.rejects(e.embedIds([[101, 102]], /** @type {any} */ ({ tokenTypeId: [[0, 0]] })), bad(/^embedIds: unknown option "tokenTypeId" \(did you mean 'tokenTypeIds'\?\)/));
    // A known option that does not apply to the model is the engine's to refuse, with its reason.
    await assert.rejects(e.embed(['a'], { ropeScaling: 'linear', ropeFactor: 2 }), bad(/no rotary position embeddings/));
    // undefined values are the same as leaving the key out.
    const [a] = await e.embed(['a'], /** @type {any} */ ({ dims: undefined, whatever: undefined }));
    assert.equal(a.length, 32);
    // Through the pipeline, transformers.js's own names are taken; others are refused too.
    const x = await pipeline('feature-extraction', E2E, { variant: 'st' });
    await assert.rejects(x(['a'], /** @type {any} */ ({ pooling: 'mean', normalise: true })), bad(/unknown option "normalise"/));
    await x.dispose();
  } finally {
    e.dispose();
  }
  await assert.rejects(Embedder.load(E2E, /** @type {any} */ ({ dtyp: 'q8' })), bad(/^load: unknown option "dtyp" \(did you mean 'dtype'\?\)/));
  await assert.rejects(Embedder.load(E2E, /** @type {any} */ ({ worker: true, variant: 'st', normalize: true })), bad(/^load: unknown option "normalize"/));
  await assert.rejects(createEngine(/** @type {any} */ ({ thread: 2 })), bad(/^createEngine: unknown option "thread" \(did you mean 'threads'\?\)/));
  // The lists are the typedefs' properties (types/ is generated from the same JSDoc).
  const props = (file, name) => {
    const src = fs.readFileSync(path.join(ROOT, 'js', file), 'utf8');
    const block = src.split(`@typedef {object} ${name}`)[1].split(/\n \*\n|\*\//)[0];
    return [...block.matchAll(/@property \{[^}]*(?:\{[^}]*\}[^}]*)?\} \[?(\w+)/g)].map((m) => m[1]);
  };
  assert.deepEqual(props('embedder.js', 'EmbedOptions').sort(), [...EMBED_OPTIONS].sort());
  assert.deepEqual([...props('embedder.js', 'LoadOptions'), 'workerURL'].sort(), [...LOAD_OPTIONS].sort());
  assert.deepEqual(props('engine.js', 'EngineOptions').sort(), [...ENGINE_OPTIONS].sort());
  assert.deepEqual(props('vector-index.js', 'SearchOptions').sort(), [...SEARCH_OPTIONS].sort());
  assert.deepEqual(props('vector-index.js', 'RerankSearch').sort(), [...RERANK_SEARCH_OPTIONS].sort());
});

test('a path that looks local and does not exist is "no such folder", with no hub request', async () => {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    let requests = 0;
    const fetch = async () => { requests++; throw new Error('no network here'); };
    await assert.rejects(Embedder.load('tests/e2ee', { variant: 'st', fetch, maxRetries: 0 }),
      (e) => e.code === 'not_found' && /^no such folder: tests\/e2ee \(tests\/ is a folder here/.test(e.message));
    assert.equal(requests, 0);
  } finally {
    process.chdir(cwd);
  }
  // The CLI says the same.
  assert.throws(() => execFileSync(process.execPath, ['js/cli.js', 'info', '--model', 'tests/e2ee', '--threads', '1'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }),
    (e) => /no such folder: tests\/e2ee/.test(String(e.stderr)));
});

/** The README's fenced block that follows `marker`. */
function readmeBlock(marker) {
  const s = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const at = s.indexOf(marker);
  assert.ok(at >= 0, `README has ${marker}`);
  return s.slice(at).split('```js\n')[1].split('```')[0];
}

test("the README's offline JS example runs as written from the clone", () => {
  const file = path.join(ROOT, `example-${process.pid}.mjs`);
  fs.writeFileSync(file, readmeBlock('save it as `example.mjs`'));
  try {
    const out = execFileSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
    assert.equal(out.length, 2);
    const [s1, s2] = out[0].split(' ').map(Number);
    assert.ok(s1 > -1 && s1 <= 1 && s2 > -1 && s2 <= 1 && s1 !== s2, out[0]);
    assert.equal(out[1], 'bert 32');
  } finally {
    fs.rmSync(file, { force: true });
  }
});

test("the README's CLI outputs are what the CLI prints, --model-id included", () => {
  const s = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const lines = s.split('\n');
  let checked = 0;
  for (let i = 0; i < lines.length; i++) {
    const m = /^(?:printf|echo) '(.*)' \| node js\/cli\.js (embed --model tests\/data\/e2e.*)$/.exec(lines[i]);
    if (!m || /--pooling none/.test(m[2])) continue;
    const input = m[1].replaceAll('\\n', '\n');
    const args = m[2].split(' ');
    const out = execFileSync(process.execPath, ['js/cli.js', ...args, '--threads', '1'], { cwd: ROOT, input: input.endsWith('\n') ? input : input + '\n', encoding: 'utf8' })
      .trim().split('\n').map((l) => JSON.parse(l).embedding);
    out.forEach((v, k) => {
      const shown = /^# \{"embedding":\[([-0-9.e]+),([-0-9.e]+),\.\.\.\]\}/.exec(lines[i + 1 + k]);
      assert.ok(shown, `README line ${i + 2 + k} shows the output of line ${i + 1}`);
      assert.deepEqual([Number(shown[1]), Number(shown[2])], [v[0], v[1]], `README line ${i + 2 + k}`);
      checked++;
    });
  }
  assert.equal(checked, 3);
});
