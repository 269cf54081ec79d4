// engine.test.js - both Emscripten modules and the WASI module load and run in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { WASI } from 'node:wasi';

import { createEngine, threadsSupported, relaxedSimdSupported, WembedError } from '../../js/index.js';

const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

test('single-thread module loads and reports itself', async () => {
  const e = await createEngine({ backend: 'wasm', variant: 'st' });
  try {
    assert.equal(e.variant, 'st');
    assert.equal(e.threads, 1);
    assert.equal(e.version, pkg.version);
    assert.match(e.systemInfo, /^simd128( relaxed-dot-[us]8)? wasm32$/);   // relaxed where the host has it (Node >= 22)
    assert.equal(e.status.ok, 0);
    assert.equal(e.status.alloc_failed, 2);
  } finally {
    e.dispose();
  }
  assert.throws(() => e.pool, (err) => err instanceof WembedError && err.code === 'disposed');
  e.dispose();   // twice is harmless
});

test('threaded module runs a pool of real threads in Node', async () => {
  assert.equal(threadsSupported(), true);
  const e = await createEngine({ backend: 'wasm', variant: 'mt', threads: 3 });
  try {
    assert.equal(e.variant, 'mt');
    assert.equal(e.threads, 3);
    assert.match(e.systemInfo, /simd128( relaxed-dot-[us]8)? threads wasm32/);
    // A second pool, freed again: the engine's allocation count comes back. (One thread:
    // the module has workers for the engine's own pool only, by design - see engine.js.)
    const m = e.module;
    const before = e.liveAllocations();
    const p = m._wembed__pool_new(1);
    assert.ok(p);
    assert.equal(m._wembed__pool_n_threads(p), 1);
    m._wembed__pool_free(p);
    assert.equal(e.liveAllocations(), before);
  } finally {
    e.dispose();
  }
});

test('auto picks the threaded module in Node', async () => {
  const e = await createEngine({ backend: 'wasm', threads: 2 });
  try {
    assert.equal(e.variant, 'mt');
    assert.equal(e.threads, 2);
  } finally {
    e.dispose();
  }
});

test('wasm bytes can be handed in', async () => {
  const bytes = fs.readFileSync(new URL('../../dist/wembed.wasm', import.meta.url));
  const e = await createEngine({ variant: 'st', wasmBinary: bytes });
  assert.equal(e.version, pkg.version);
  e.dispose();
});

test('bad options are clear errors', async () => {
  await assert.rejects(createEngine({ variant: /** @type {any} */ ('gpu') }),
    (err) => err instanceof WembedError && err.code === 'invalid_argument' && /variant/.test(err.message));
  await assert.rejects(createEngine({ variant: 'mt', threads: 0 }),
    (err) => err instanceof WembedError && err.code === 'invalid_argument');
  await assert.rejects(createEngine({ variant: 'st', wasmBinary: new Uint8Array([0, 1, 2, 3]) }),
    (err) => err instanceof WebAssembly.CompileError);
  await assert.rejects(createEngine({ simd: /** @type {any} */ ('avx') }),
    (err) => err instanceof WembedError && err.code === 'invalid_argument' && /simd/.test(err.message));
});

// Node 20 has no relaxed SIMD (without --experimental-wasm-relaxed-simd): 'auto' takes the plain
// module there, and asking for the relaxed one says why it cannot be had.
test('relaxed SIMD is detected, and the plain module serves where it is missing', async () => {
  const e = await createEngine({ backend: 'wasm', variant: 'st' });
  assert.equal(e.simd, relaxedSimdSupported() ? 'relaxed' : 'simd128');
  e.dispose();
  if (!relaxedSimdSupported()) {
    await assert.rejects(createEngine({ variant: 'st', simd: 'relaxed' }),
      (err) => err instanceof WembedError && err.code === 'unsupported' && /relaxed SIMD/.test(err.message));
  }
});

test('WASI module runs under node:wasi', async () => {
  const wasi = new WASI({ version: 'preview1', args: [], env: {} });
  const bytes = fs.readFileSync(new URL('../../dist/wembed.wasi.wasm', import.meta.url));
  const { instance } = await WebAssembly.instantiate(bytes, wasi.getImportObject());
  wasi.initialize(instance);
  const x = /** @type {any} */ (instance.exports);
  const str = (p) => {
    const u8 = new Uint8Array(x.memory.buffer);
    let end = p;
    while (u8[end]) end++;
    return new TextDecoder().decode(u8.subarray(p, end));
  };
  assert.equal(str(x.wembed__version()), pkg.version);
  assert.equal(str(x.wembed__system_info()), 'simd128 wasm32');
  const pool = x.wembed__pool_new(4);   // no threads on WASI: a pool of one
  assert.ok(pool);
  assert.equal(x.wembed__pool_n_threads(pool), 1);
  x.wembed__pool_free(pool);
  assert.equal(x.wembed__alloc_live(), 0);
  const p = x.malloc(16);
  assert.ok(p);
  x.free(p);
});
