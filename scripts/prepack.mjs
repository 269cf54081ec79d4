// prepack.mjs - run by `npm pack` and `npm publish` before the tarball is made: writes the
// TypeScript declarations (types/, from the JSDoc) and checks that every file the package names
// exists and is packed: each target of `exports`, `main`, `types` and `bin`, and the declaration
// of every JS entry. A missing file fails the pack with its name and the command that builds it,
// so no tarball ships an `exports` entry that points nowhere (a `types` path that is not there
// makes every TypeScript user's build fail with TS7016).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// `--check-only [DIR]` checks DIR (default: the repository) without writing the types (tests).
const checkOnly = process.argv[2] === '--check-only';
const root = checkOnly && process.argv[3] ? path.resolve(process.argv[3]) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

if (!checkOnly) execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });

/** Every file the manifest names, with what builds it. */
const named = new Set();
const walk = (x) => {
  if (typeof x === 'string') named.add(x);
  else if (x && typeof x === 'object') Object.values(x).forEach(walk);
};
walk(pkg.exports);
walk(pkg.main);
walk(pkg.types);
walk(pkg.bin);
const builtBy = (f) => (f.startsWith('./types/') ? 'tsc -p tsconfig.json (npm run types)'
  : f.includes('.wasi.') ? 'scripts/build.sh wasi'
  : f.startsWith('./dist/') ? `scripts/build.sh ${/-mt/.test(f) ? 'wasm-mt' : 'wasm'} (or npm run build)` : 'it is a source file');

// What `files` packs: a path is packed when one entry of `files` is it, a folder above it, or a
// glob (dist/*.wasm) that matches it.
const packed = (f) => f === './package.json' || pkg.files.some((g) => {   // npm always packs package.json
  const rel = f.replace(/^\.\//, '');
  if (!g.includes('*')) return rel === g || rel.startsWith(g.replace(/\/$/, '') + '/');
  const re = new RegExp('^' + g.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '$');
  return re.test(rel);
});

const problems = [];
for (const f of [...named].sort()) {
  if (!fs.existsSync(path.join(root, f))) problems.push(`${f} is missing: build it with ${builtBy(f)}`);
  else if (!packed(f)) problems.push(`${f} is named in package.json but not packed by "files"`);
}
if (problems.length) {
  console.error(`prepack: the package would be incomplete:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.error(`prepack: ${named.size} named files present${checkOnly ? '' : ', types written'}`);
