// names.test.js - the names of option values are defined once, in the engine (src/wembed.h,
// WEMBED_OPTION_NAMES, handed over as engine.consts), and everything else agrees with it: the
// Embedder accepts exactly those values, the CLI's flags accept them and its usage lists them,
// the README's CLI table lists them, and the TypeScript types (js/names.js) spell them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { ROOT, DATA } from './helpers.js';
import { createEngine, Embedder, WembedError } from '../../js/index.js';
import { jsName, flagName, valueNames } from '../../js/names.js';
import { embedOptions } from '../../js/cli/model.js';
import { UsageError } from '../../js/cli/args.js';

const E2E = path.join(DATA, 'e2e');
const CLI = path.join(ROOT, 'js/cli.js');
/** The options of the embed calls, and where each sits in Embedder#_params (wasm/wembed_wasm.c's order). */
const EMBED_SLOT = { pooling: 0, truncate: 4, rope_scaling: 6, ntk_length: 8, quantize: 9 };

let engine;
let e;
let consts;
let options;   // the named options of the table

before(async () => {
  engine = await createEngine({ variant: 'st' });
  e = await Embedder.load(E2E, { engine });
  consts = engine.consts;
  options = Object.keys(consts).filter((k) => k !== 'status' && k !== 'default');
});

after(() => {
  e?.dispose();
  engine?.dispose();
});

test('the table names every value of each option once, numbered 0..n-1', () => {
  assert.deepEqual(options, ['dtype', 'pooling', 'truncate', 'rope_scaling', 'ntk_length', 'quantize']);
  for (const option of options) {
    const numbers = Object.values(consts[option]).sort((a, b) => a - b);
    assert.deepEqual(numbers, numbers.map((_, i) => i), option);
  }
  assert.deepEqual(Object.keys(consts.default), ['pooling', 'normalize']);
  assert.equal(consts.status.ok, 0);
});

test('the Embedder accepts exactly the table\'s values', async () => {
  for (const [option, slot] of Object.entries(EMBED_SLOT)) {
    const name = jsName(option);
    for (const [value, number] of Object.entries(consts[option])) {
      assert.equal(e._params({ [name]: value })[slot], number, `${name}: '${value}'`);
    }
    await assert.rejects(e.embed(['x'], { [name]: 'bogus' }), (err) => err instanceof WembedError &&
      err.message === `${name} must be one of ${valueNames(consts, option).map((v) => `'${v}'`).join(', ')}, not "bogus"`);
  }
  await assert.rejects(Embedder.load(E2E, { engine, dtype: /** @type {any} */ ('q2') }),
    (err) => err.message === `dtype must be one of ${valueNames(consts, 'dtype').map((v) => `'${v}'`).join(', ')}, not "q2"`);
});

test('the CLI accepts exactly the table\'s values and its usage lists them', () => {
  for (const option of Object.keys(EMBED_SLOT)) {
    const flag = flagName(option).slice(2);
    for (const value of valueNames(consts, option)) {
      const o = embedOptions({ [flag]: value }, consts);
      assert.equal(o[jsName(option)], value, `--${flag} ${value}`);
    }
    assert.throws(() => embedOptions({ [flag]: 'bogus' }, consts), (err) => err instanceof UsageError &&
      err.message.includes(valueNames(consts, option).join(option === 'rope_scaling' ? '|' : ', ')));
  }
  assert.deepEqual(embedOptions({ 'rope-scaling': 'dynamic-ntk:2.5' }, consts), { ropeScaling: 'dynamic-ntk', ropeFactor: 2.5 });
  const help = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  for (const option of options) {
    assert.ok(help.includes(`${flagName(option)} ${valueNames(consts, option).join('|')}`), `usage lists ${flagName(option)}`);
  }
  const bad = spawnSync(process.execPath, [CLI, 'info', '--model', E2E, '--threads', '1', '--dtype', 'q2'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, new RegExp(`--dtype must be one of ${valueNames(consts, 'dtype').join(', ')}, not q2`));
});

test('the README\'s CLI table lists the table\'s values', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const row = readme.split('\n').find((l) => l.startsWith('| `embed --model M'));
  assert.ok(row, 'the README has the embed row');
  for (const option of options) {
    assert.ok(row.includes(`${flagName(option)} ${valueNames(consts, option).join('\\|')}`), `README lists ${flagName(option)}`);
  }
});

test('the TypeScript types spell the table\'s values', () => {
  const src = fs.readFileSync(path.join(ROOT, 'js/names.js'), 'utf8');
  for (const option of options) {
    const type = jsName(option)[0].toUpperCase() + jsName(option).slice(1);   // rope_scaling -> RopeScaling
    const m = new RegExp(`@typedef \\{([^}]*)\\} ${type}\\b`).exec(src);
    assert.ok(m, `js/names.js has the type ${type}`);
    assert.deepEqual(m[1].split('|').map((s) => s.trim().replace(/^'|'$/g, '')), valueNames(consts, option), type);
  }
});
