// transformersjs_tensor.mjs - writes tests/data/transformersjs/tensor.json: what transformers.js's
// own Tensor (the benchmark's copy, bench/node_modules/@huggingface/transformers 4.3.2, from
// `npm ci --prefix bench`) returns for indexing, item, slice, mean, norm, sum and normalize on a
// fixed 2 x 3 x 4 float32 tensor. tests/js/tensor.test.js checks js/tensor.js against it, value
// for value.
//   node gen/transformersjs_tensor.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Tensor } = await import(path.join(root, 'bench/node_modules/@huggingface/transformers/src/utils/tensor.js'));
const version = JSON.parse(fs.readFileSync(path.join(root, 'bench/node_modules/@huggingface/transformers/package.json'), 'utf8')).version;

const data = new Float32Array(24).map((_, i) => Math.sin(i * 1.7) * (i % 5 + 1));
const t = new Tensor('float32', data, [2, 3, 4]);
const A = (x) => Array.from(x.data);
const out = {
  generator: 'gen/transformersjs_tensor.mjs', transformers: version, data: Array.from(data), dims: [2, 3, 4],
  idx1: [t[1].dims, A(t[1])], idxNeg: [t[-1][-2].dims, A(t[-1][-2])], scalar: t[0][2][3].item(),
  first: [t.slice(null, 0).dims, A(t.slice(null, 0))], last: [t.slice(null, -1).dims, A(t.slice(null, -1))],
  range: [t.slice([0, 1], [1, null], [-3, 10]).dims, A(t.slice([0, 1], [1, null], [-3, 10]))],
  meanAll: [t.mean().dims, A(t.mean())], mean1: [t.mean(1).dims, A(t.mean(1))], meanLastKeep: [t.mean(-1, true).dims, A(t.mean(-1, true))],
  normDefault: [t.normalize().dims, A(t.normalize())], normLast: A(t.normalize(2, -1)), norm1: A(t.normalize(1, 2)),
  sum0: [t.sum(0).dims, A(t.sum(0))], norm2: A(t.norm(2, 2)),
  iter: [...t].map((x) => x.dims), tolist: t.slice(0, 0).tolist(),
};
fs.writeFileSync(path.join(root, 'tests/data/transformersjs/tensor.json'), JSON.stringify(out) + '\n');
