// bench-load.mjs - peak memory of a streaming model load in Node through the wasm module:
// the weights are read from disk in fixed-size chunks (as fetch() would hand them over) and
// each chunk is copied into wasm memory and written with wembed_loader_write, so neither JS
// nor the engine ever holds the whole file.
//
//   node bench/bench-load.mjs <model folder> [f32|f16|q8] [chunk bytes] [st|mt]
//
// Prints the process's peak RSS (process.resourceUsage().maxRSS), the wasm memory size and
// the engine's own peak allocation, against the weights' final size and the file size.
import { open, readFile } from 'node:fs/promises';
import { createEngine } from '../js/engine.js';
import { cString, withUTF8 } from '../js/heap.js';

const [dir, dtypeName = 'q8', chunkArg = String(1 << 20), variant = 'st'] = process.argv.slice(2);
if (!dir) { console.error('usage: node bench/bench-load.mjs <model folder> [f32|f16|q8] [chunk bytes] [st|mt]'); process.exit(2); }
const chunk = Number(chunkArg);
const MiB = 1024 * 1024;

const engine = await createEngine({ backend: 'wasm', variant, threads: variant === 'st' ? 1 : 2 });
const m = engine.module;
const rss0 = process.resourceUsage().maxRSS / 1024;
const check = (rc, ld) => { if (rc) throw new Error(cString(engine, m._wembed__loader_last_error(ld))); };

const t0 = performance.now();
const ld = m._wembed__loader_new(engine.consts.dtype[dtypeName], 1, engine.pool);
m._wembed__alloc_reset_peak?.();   // (modules built before the byte counters lack them)
const buf = m._malloc(chunk);   // one chunk buffer in wasm memory, reused
let total = 0;
for (const name of ['config.json', 'model.safetensors']) {
  const fh = await open(`${dir}/${name}`);
  const size = (await fh.stat()).size;
  total += size;
  check(withUTF8(engine, name, (p) => m._wembed__loader_begin_file(ld, p, size)), ld);
  const js = new Uint8Array(chunk);
  for (let off = 0; off < size;) {
    const { bytesRead } = await fh.read(js, 0, Math.min(chunk, size - off), off);
    engine.heapU8().set(js.subarray(0, bytesRead), buf);   // re-read the view: memory may have grown
    check(m._wembed__loader_write(ld, buf, bytesRead), ld);
    off += bytesRead;
  }
  check(m._wembed__loader_end_file(ld), ld);
  await fh.close();
}
m._free(buf);
const model = m._wembed__loader_finish(ld);
if (!model) throw new Error(cString(engine, m._wembed__loader_last_error(ld)));
m._wembed__loader_free(ld);
const t1 = performance.now();
const infoPtr = m._wembed__model_info_json(model);
const info = JSON.parse(cString(engine, infoPtr));
m._free(infoPtr);
const rss = process.resourceUsage().maxRSS / 1024;
const wasmMem = engine.heapU8().byteLength / MiB;
console.log(`model ${dir} (${info.architecture}), ${info.parameters} params, dtype ${dtypeName}, chunk ${chunk} bytes, ${engine.systemInfo}`);
console.log(`files ${(total / MiB).toFixed(1)} MiB, weights in memory ${(info.weightBytes / MiB).toFixed(1)} MiB`);
if (m._wembed__alloc_peak_bytes) console.log(`engine allocations: peak ${(m._wembed__alloc_peak_bytes() / MiB).toFixed(1)} MiB during the load, ${(m._wembed__alloc_bytes() / MiB).toFixed(1)} MiB after`);
console.log(`wasm memory ${wasmMem.toFixed(1)} MiB; process peak RSS ${rss.toFixed(1)} MiB (${rss0.toFixed(1)} MiB before loading)`);
console.log(`load time ${((t1 - t0) / 1000).toFixed(2)} s (${(total / MiB / ((t1 - t0) / 1000)).toFixed(0)} MiB/s)`);
m._wembed__model_free(model);
engine.dispose?.();
