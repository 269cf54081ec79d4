// child.mjs - runs one benchmark job (suite.js) in this fresh Node process and prints its
// results as JSON lines on stdout. bench/run.mjs starts it:
//   node bench/child.mjs '<job json>'
// The wasm memory watch goes in before either engine is imported; the process's peak RSS
// (getrusage) is read at the end against its value before the job began.
import { watchWasmMemories } from './wasm-memory.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

watchWasmMemories();
const rssBase = process.resourceUsage().maxRSS * 1024;
const here = path.dirname(fileURLToPath(import.meta.url));
const job = JSON.parse(process.argv[2]);
const { runThroughput, runCold, runLong, parseReference } = await import('./suite.js');

const inputs = JSON.parse(fs.readFileSync(path.join(here, 'out/inputs.json'), 'utf8'));
const references = {};
for (const m of job.models ?? [job.model]) {
  const dir = path.join(job.modelsBase, m);
  const px = path.join(dir, 'reference.pixel_values.bin');
  references[m] = parseReference(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'), fs.existsSync(px) ? fs.readFileSync(px) : null);
}
const emit = (row) => process.stdout.write(JSON.stringify(row) + '\n');
const probe = () => ({ rssPeakBytes: process.resourceUsage().maxRSS * 1024, rssBaseBytes: rssBase, jsHeapBytes: process.memoryUsage().heapUsed });
const run = { throughput: runThroughput, cold: runCold, long: runLong }[job.type];
try {
  await run({ ...job, env: job.env ?? 'node' }, { inputs, references }, emit, probe);
} catch (e) {
  emit({ type: 'error', env: job.env ?? 'node', job, error: String(e?.stack ?? e) });
  process.exitCode = 1;
}
process.exit();   // both engines' worker threads would keep the process alive
