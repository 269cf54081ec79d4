// patch-glue.mjs - copies an Emscripten 3.1.6 build into dist/ and makes its ES-module glue
// load in Node 20 as well as in browsers.
//
//   node wasm/patch-glue.mjs <glue-dir> <dist-dir> <name> [--glue-of <other>]
//
// With --glue-of, <name> is a second module of the same engine (the relaxed-SIMD build): only
// its .wasm is copied, after checking that its glue is <other>'s but for the file names, so
// that js/engine.js can start either module with <other>'s glue.
//
// Why: with -sMODULARIZE -sEXPORT_ES6 this Emscripten still writes CommonJS-isms (`require`,
// `__dirname`) into the Node branch of its glue, which throw in an ES module (docs/TOOLCHAIN.md).
// We define both at the top of the module from import.meta.url, using
// process.getBuiltinModule (Node >= 20.16), which bundlers do not try to resolve, so the same
// file stays valid in pages and workers. The pthread worker script (<name>.worker.js) is a
// classic script in browsers and CommonJS in Node; dist/package.json says "commonjs" so Node
// does not take it for an ES module inside this "type": "module" package.
// Every edit checks that its anchor is there, so a different Emscripten fails the build here
// rather than at run time.
import fs from 'node:fs';
import path from 'node:path';

const [glueDir, distDir, name, flag, other] = process.argv.slice(2);
if (!glueDir || !distDir || !name || (flag && (flag !== '--glue-of' || !other))) {
  console.error('usage: node wasm/patch-glue.mjs <glue-dir> <dist-dir> <name> [--glue-of <other>]');
  process.exit(2);
}

if (flag) {
  const read = (n) => fs.readFileSync(path.join(glueDir, `${n}.mjs`), 'utf8')
    .replace(new RegExp(`${n.replace(/[-.]/g, '\\$&')}\\.(wasm|worker\\.js|mjs)`, 'g'), '<name>.$1');
  if (read(name) !== read(other)) {
    console.error(`patch-glue: ${name}.mjs differs from ${other}.mjs beyond the file names; ` +
      'the two modules must be linked with the same flags and exports to share a glue');
    process.exit(1);
  }
  fs.writeFileSync(path.join(distDir, `${name}.wasm`), stripNames(path.join(glueDir, `${name}.wasm`)));
  console.log(`patch-glue: ${name}.wasm (glue of ${other}) -> ${path.relative(process.cwd(), distDir) || '.'}`);
  process.exit(0);
}

const shim = `// Patched by wasm/patch-glue.mjs: CommonJS names the Node branch below expects.
const __wembedNode = typeof process == 'object' && typeof process.versions == 'object' &&
  typeof process.versions.node == 'string';
const require = __wembedNode ? process.getBuiltinModule('module').createRequire(import.meta.url) : undefined;
const __dirname = __wembedNode ? require('path').dirname(require('url').fileURLToPath(import.meta.url)) : '';
`;

// The module without its "name" custom section (function names, for debuggers: binaryen used
// to drop it, and nobody downloading the module needs it; its size is in bench/results/notes.md).
function stripNames(file) {
  const b = fs.readFileSync(file);
  const out = [b.subarray(0, 8)];
  let p = 8;
  const leb = () => { let r = 0, shift = 0, x; do { x = b[p++]; r += (x & 0x7f) * 2 ** shift; shift += 7; } while (x & 0x80); return r; };
  while (p < b.length) {
    const start = p, id = b[p++], size = leb(), body = p;
    let name = '';
    if (id === 0) { const n = leb(); name = b.subarray(p, p + n).toString(); }
    p = body + size;
    if (!(id === 0 && name === 'name')) out.push(b.subarray(start, p));
  }
  return Buffer.concat(out);
}

function mustContain(text, anchor, file) {
  if (!text.includes(anchor)) {
    console.error(`patch-glue: ${file} lacks the expected text ${JSON.stringify(anchor)}; ` +
      'this script knows Emscripten 3.1.6 glue only');
    process.exit(1);
  }
}

const glueFile = path.join(glueDir, `${name}.mjs`);
let glue = fs.readFileSync(glueFile, 'utf8');
mustContain(glue, 'import.meta.url', glueFile);
mustContain(glue, '__dirname', glueFile);
mustContain(glue, 'export default ', glueFile);
glue = shim + glue;

// The threaded glue starts its pthread workers with `new Worker(new URL("<name>.worker.js",
// import.meta.url))` when no locateFile is given. Bundlers take that literal pattern for a worker
// entry of the app and bundle the (classic) script, whose dynamic import of the glue splits it
// into chunks, which Vite 6's default worker format (iife) cannot build. Without the branch the
// glue asks locateFile, which js/engine.js answers in browsers with the shipped files' literal
// URLs (copied as assets by bundlers), and which defaults to the glue's own folder.
const direct = new RegExp(`if \\(!Module\\["locateFile"\\]\\) \\{\\s*PThread\\.unusedWorkers\\.push\\(new Worker\\(new URL\\("${name.replace(/[-.]/g, '\\$&')}\\.worker\\.js", import\\.meta\\.url\\)\\)\\);\\s*return;\\s*\\}`);
if (fs.existsSync(path.join(glueDir, `${name}.worker.js`))) {
  if (!direct.test(glue)) {
    console.error(`patch-glue: ${glueFile} lacks the expected pthread worker start; this script knows Emscripten 3.1.6 glue only`);
    process.exit(1);
  }
  glue = glue.replace(direct, '');
}

fs.mkdirSync(distDir, { recursive: true });
fs.writeFileSync(path.join(distDir, `${name}.mjs`), glue);
fs.writeFileSync(path.join(distDir, `${name}.wasm`), stripNames(path.join(glueDir, `${name}.wasm`)));
const worker = path.join(glueDir, `${name}.worker.js`);
if (fs.existsSync(worker)) {
  const text = fs.readFileSync(worker, 'utf8');
  mustContain(text, 'require("worker_threads")', worker);
  // A glue that fails to import in the worker (not served, or served as a page) must fail the
  // engine's start, not leave it waiting forever: the rejection is thrown again as an uncaught
  // error, which reaches the page as the Worker's 'error' event (js/engine.js turns it into a
  // WembedError). A rejected promise alone never leaves a worker.
  const anchor = '.then(function(instance){Module=instance})';
  mustContain(text, anchor, worker);
  fs.writeFileSync(path.join(distDir, `${name}.worker.js`),
    text.replace(anchor, '.then(function(instance){Module=instance},function(e){setTimeout(function(){throw e})})'));
}
// Types for the glue, so that type-checking js/ never reads the generated code.
fs.writeFileSync(path.join(distDir, `${name}.d.mts`),
  '/** Emscripten module factory (see js/engine.js for the options the package passes). */\n' +
  'declare function createModule(moduleArg?: Record<string, unknown>): Promise<any>;\n' +
  'export default createModule;\n');
fs.writeFileSync(path.join(distDir, 'package.json'),
  JSON.stringify({ type: 'commonjs', private: true,
    description: 'Built by `npm run build`: wasm modules and their glue. The pthread worker script is CommonJS in Node.' }, null, 2) + '\n');
console.log(`patch-glue: ${name} -> ${path.relative(process.cwd(), distDir) || '.'}`);
