// embed-worker.js - runs one benchmark job (suite.js) inside a module Worker of bench/embed.html
// and posts its rows back. The wasm memory watch goes in before either engine is imported.
import { watchWasmMemories } from './wasm-memory.js';

watchWasmMemories();

self.onmessage = async ({ data: job }) => {
  const emit = (row) => self.postMessage({ row });
  try {
    const { runThroughput, runCold, runLong, parseReference } = await import('./suite.js');
    const get = async (url, kind) => {
      const r = await fetch(url);
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return kind === 'json' ? r.text() : new Uint8Array(await r.arrayBuffer());
    };
    const inputs = JSON.parse(await get(new URL('./out/inputs.json', import.meta.url), 'json'));
    const references = {};
    for (const m of job.models ?? [job.model]) {
      const base = job.modelsBase + m + '/';
      const json = await get(base + 'reference.json', 'json');
      const px = JSON.parse(json).kind === 'image' ? await get(base + 'reference.pixel_values.bin') : null;
      references[m] = parseReference(json, px);
    }
    const run = { throughput: runThroughput, cold: runCold, long: runLong }[job.type];
    await run({ ...job, env: 'chromium' }, { inputs, references }, emit);
    self.postMessage({ done: true });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
