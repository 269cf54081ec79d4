// run-wasi.mjs - runs a WASI command module (a C test built with cmake/wasi.cmake) under
// node:wasi, with the repository's tests/ folder (and the build's unpacked data) readable at the
// same paths, and exits with its exit code. ctest uses it as the emulator of the WASI build.
//   node tests/run-wasi.mjs <module.wasm> [args...]
import fs from 'node:fs';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { fileURLToPath } from 'node:url';

const [wasmPath, ...args] = process.argv.slice(2);
const testsDir = path.dirname(fileURLToPath(import.meta.url));
const preopens = { [testsDir]: testsDir, '/tmp': '/tmp' };
// The test data the build unpacked (<build>/data, CMakeLists.txt), beside the test module.
const unpacked = path.join(path.dirname(path.resolve(wasmPath)), 'data');
if (fs.existsSync(unpacked)) preopens[unpacked] = unpacked;
const wasi = new WASI({
  version: 'preview1',
  args: [wasmPath, ...args],
  env: {},
  preopens,
  returnOnExit: true,
});
const module = await WebAssembly.compile(fs.readFileSync(wasmPath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
