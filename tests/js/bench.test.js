// bench.test.js - the benchmark's entry points live only in the bench build (dist/bench/, made by
// `scripts/build.sh bench`, which `npm test` runs): the shipped modules export none of them, and
// the bench build runs the GEMM benchmark from JS and from `wembed bench gemm`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { ROOT } from './helpers.js';
import { createEngine, WembedError } from '../../js/index.js';
import { createBenchEngine, benchGemm } from '../../js/bench.js';

/** The export names of a wasm file, read from its export section (no compile: Node 20 rejects relaxed SIMD). */
function exportNames(file) {
  const b = fs.readFileSync(file);
  let p = 8;
  const leb = () => { let r = 0, shift = 0, x; do { x = b[p++]; r += (x & 0x7f) * 2 ** shift; shift += 7; } while (x & 0x80); return r; };
  while (p < b.length) {
    const id = b[p++];
    const end = leb() + p;
    if (id === 7) {
      const names = [];
      for (let n = leb(); n > 0; n--) {
        const len = leb();
        names.push(b.subarray(p, p + len).toString());
        p += len + 1;   // the name, the export kind
        leb();          // the index
      }
      return names;
    }
    p = end;
  }
  return [];
}

test('the shipped modules carry no benchmark export; the bench build does', () => {
  for (const f of ['wembed.wasm', 'wembed-relaxed.wasm', 'wembed-mt.wasm', 'wembed-mt-relaxed.wasm', 'wembed.wasi.wasm']) {
    const names = exportNames(path.join(ROOT, 'dist', f));
    assert.ok(names.includes('wembed__embed_text'), `${f} exports the engine`);
    assert.deepEqual(names.filter((n) => n.includes('bench')), [], `${f} exports no benchmark`);
  }
  for (const f of ['wembed-bench.wasm', 'wembed-bench-relaxed.wasm', 'wembed-mt-bench.wasm', 'wembed-mt-bench-relaxed.wasm']) {
    const names = exportNames(path.join(ROOT, 'dist/bench', f));
    assert.ok(names.includes('wembed__embed_text') && names.includes('wembed__bench_gemm'), `${f}: the engine and the benchmark`);
  }
});

test('benchGemm runs on the bench build, one thread and two', async () => {
  for (const variant of /** @type {const} */ (['st', 'mt'])) {
    const engine = await createBenchEngine({ variant, threads: variant === 'st' ? 1 : 2 });
    try {
      for (const dtype of /** @type {const} */ (['f32', 'q8'])) {
        const r = benchGemm(engine, { dtype, T: 8, K: 32, N: 16, minSeconds: 0.01 });
        assert.equal(r.threads, variant === 'st' ? 1 : 2);
        assert.ok(r.gflops > 0 && r.iters >= 1 && r.seconds > 0, `${variant} ${dtype}: ${JSON.stringify(r)}`);
        assert.equal(r.nmse, 0, 'the kernel matches its scalar reference');
      }
    } finally {
      engine.dispose();
    }
  }
  const shipped = await createEngine({ variant: 'st' });
  try {
    assert.throws(() => benchGemm(shipped, { T: 8, K: 8, N: 8 }), (e) => e instanceof WembedError && /createBenchEngine/.test(e.message));
  } finally {
    shipped.dispose();
  }
});

test('wembed bench gemm', () => {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'js/cli.js'), 'bench', 'gemm', '--threads', '1', '--tokens', '8',
    '--shapes', '32x16', '--dtype', 'f32', '--min-seconds', '0.01', '--json'], { encoding: 'utf8' });
  const rows = out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 1);
  assert.equal(rows[0].K, 32);
  assert.ok(rows[0].gflops > 0);
});
