// run-wasi.mjs - runs a WASI command module (a C test built with cmake/wasi.cmake) under
// node:wasi, with the repository's tests/ folder readable at the same path, and exits with
// its exit code. ctest uses it as the emulator of the WASI build.
//   node tests/run-wasi.mjs <module.wasm> [args...]
import fs from 'node:fs';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { fileURLToPath } from 'node:url';

const [wasmPath, ...args] = process.argv.slice(2);
const testsDir = path.dirname(fileURLToPath(import.meta.url));
const wasi = new WASI({
  version: 'preview1',
  args: [wasmPath, ...args],
  env: {},
  preopens: { [testsDir]: testsDir, '/tmp': '/tmp' },
  returnOnExit: true,
});
const module = await WebAssembly.compile(fs.readFileSync(wasmPath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
