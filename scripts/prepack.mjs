// prepack.mjs - run by `npm pack` and `npm publish` before the tarball is made: writes the
// TypeScript declarations (types/, from the JSDoc) and checks that every file the package names
// exists and is packed: each target of `exports`, `main`, `types` and `bin`, and the declaration
// of every JS entry. A missing file fails the pack with its name and the command that builds it,
// so no tarball ships an `exports` entry that points nowhere (a `types` path that is not there
// makes every TypeScript user's build fail with TS7016). Its `optionalDependencies` must name
// every platform package of npm/platforms.json at its own version.
//
// The platform packages (npm/<platform>/, `wembed-<platform>`) run it too: there it checks the
// manifest against npm/platforms.json (name, `os`, `cpu`, `libc`, the main package's version,
// `main` = the packed .node file) and that the binary is there and is an ELF shared object for
// that machine, so no package ships another platform's binary or none.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// `--check-only [DIR]` checks DIR (default: the repository) without writing the types (tests).
// Run by npm, it checks the package being packed (npm_package_json).
const checkOnly = process.argv[2] === '--check-only';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = checkOnly && process.argv[3] ? path.resolve(process.argv[3])
  : !checkOnly && process.env.npm_package_json ? path.dirname(process.env.npm_package_json) : repo;
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const main = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
const platforms = JSON.parse(fs.readFileSync(path.join(repo, 'npm/platforms.json'), 'utf8'));

const fail = (problems) => {
  console.error(`prepack: the package would be incomplete:\n  ${problems.join('\n  ')}`);
  process.exit(1);
};

if (pkg.name !== main.name) {
  const target = pkg.name.replace(/^wembed-/, '');
  const p = platforms[target];
  if (!p) fail([`${pkg.name} is not a platform of npm/platforms.json (${Object.keys(platforms).join(', ')})`]);
  const problems = [];
  const same = (field, want) => { if (JSON.stringify(pkg[field]) !== JSON.stringify(want)) problems.push(`"${field}" is ${JSON.stringify(pkg[field])}, not ${JSON.stringify(want)} (npm/platforms.json, package.json)`); };
  same('version', main.version);
  same('os', [p.os]);
  same('cpu', [p.cpu]);
  same('libc', [p.libc]);
  same('main', `wembed.${target}.node`);
  same('files', [`wembed.${target}.node`]);
  const bin = path.join(root, `wembed.${target}.node`);
  if (!fs.existsSync(bin)) problems.push(`wembed.${target}.node is missing: scripts/pack-native.sh ${target} copies it in`);
  else {
    // ELF: magic, 64-bit, little-endian, e_type ET_DYN (3), e_machine.
    const h = fs.readFileSync(bin).subarray(0, 20);
    const elf = h.length === 20 && h.readUInt32BE(0) === 0x7f454c46 && h[4] === 2 && h[5] === 1;
    if (!elf || h.readUInt16LE(16) !== 3 || h.readUInt16LE(18) !== p.elfMachine) {
      problems.push(`wembed.${target}.node is not a 64-bit ELF shared object for ${p.cpu} (ELF machine ${elf ? h.readUInt16LE(18) : 'none'}, want ${p.elfMachine})`);
    }
  }
  if (problems.length) fail(problems);
  console.error(`prepack: ${pkg.name} ${pkg.version} holds its ${p.cpu} binary`);
  process.exit(0);
}

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
for (const t of Object.keys(platforms)) {
  if (pkg.optionalDependencies?.[`wembed-${t}`] !== pkg.version) problems.push(`optionalDependencies must name wembed-${t} at ${pkg.version} (npm/platforms.json)`);
}
for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
  if (name.startsWith('wembed-') && !platforms[name.slice(7)]) problems.push(`optionalDependencies name ${name}, which npm/platforms.json does not list`);
}
for (const f of [...named].sort()) {
  if (!fs.existsSync(path.join(root, f))) problems.push(`${f} is missing: build it with ${builtBy(f)}`);
  else if (!packed(f)) problems.push(`${f} is named in package.json but not packed by "files"`);
}
if (problems.length) fail(problems);
console.error(`prepack: ${named.size} named files present${checkOnly ? '' : ', types written'}`);
