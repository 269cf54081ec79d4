// tensor.test.js - pipeline()'s Tensor against transformers.js's own (tests/data/transformersjs/
// tensor.json, written by gen/transformersjs_tensor.mjs from transformers.js 4.3.2): indexing,
// iteration, item, slice, mean, norm, sum and normalize give the same dims and the same float32
// values, bit for bit, including normalize's default dimension 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { Tensor } from '../../js/index.js';
import { DATA } from './helpers.js';

const ref = JSON.parse(fs.readFileSync(path.join(DATA, 'transformersjs/tensor.json'), 'utf8'));
const t = new Tensor('float32', new Float32Array(ref.data), ref.dims);
const z = (v) => v + 0;   // JSON has no -0
const same = (x, [dims, data], what) => {
  assert.deepEqual(x.dims, dims, `${what}: dims`);
  assert.deepEqual(Array.from(x.data, z), data, `${what}: values`);
};

test('indexing, iteration and item() as transformers.js', () => {
  same(t[1], ref.idx1, 't[1]');
  same(t[-1][-2], ref.idxNeg, 't[-1][-2]');
  assert.equal(t[0][2][3].item(), ref.scalar);
  assert.ok(t[1] instanceof Tensor);
  assert.deepEqual([...t].map((x) => x.dims), ref.iter);
  assert.throws(() => t[2], /out of bounds/);
  assert.throws(() => t.item(), /24 elements cannot be converted to Scalar/);
  // A row shares the tensor's data, as transformers.js's does.
  assert.equal(t[1].data.buffer, t.data.buffer);
  assert.equal(t.size, 24);
  assert.equal(t.type, 'float32');
});

test('slice() as transformers.js: numbers drop a dimension, ranges clamp', () => {
  same(t.slice(null, 0), ref.first, 'slice(null, 0)');
  same(t.slice(null, -1), ref.last, 'slice(null, -1)');
  same(t.slice([0, 1], [1, null], [-3, 10]), ref.range, 'slice([0, 1], [1, null], [-3, 10])');
  assert.deepEqual(t.slice(0, 0).tolist(), ref.tolist);
  assert.throws(() => t.slice(5), /out of bounds/);
  assert.throws(() => t.slice([2, 1]), /Invalid slice/);
});

test('mean(), norm(), sum() and normalize() as transformers.js, to the bit', () => {
  same(t.mean(), ref.meanAll, 'mean()');
  same(t.mean(1), ref.mean1, 'mean(1)');
  same(t.mean(-1, true), ref.meanLastKeep, 'mean(-1, true)');
  same(t.normalize(), ref.normDefault, 'normalize() (dim 1)');
  assert.deepEqual(Array.from(t.normalize(2, -1).data, z), ref.normLast);
  assert.deepEqual(Array.from(t.normalize(1, 2).data, z), ref.norm1);
  same(t.sum(0), ref.sum0, 'sum(0)');
  assert.deepEqual(Array.from(t.norm(2, 2).data, z), ref.norm2);
  // normalize() copies; the tensor itself is unchanged.
  assert.deepEqual(Array.from(t.data), Array.from(new Float32Array(ref.data)));
});
