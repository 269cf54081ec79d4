// tensor.js - the Tensor that pipeline() returns, with the part of transformers.js's Tensor
// (src/utils/tensor.js, v3/v4) that feature-extraction users call: `t[i]` and iteration (a
// sub-tensor over the first dimension, sharing its data), item(), tolist(), slice(), mean(),
// norm(), sum(), normalize(), stride(), dispose(). Each follows transformers.js's rules to the
// bit, including its surprises, so code written against it gives the same numbers:
//   - normalize(p = 2, dim = 1): the default dimension is 1, not the last one;
//   - a reduction over a dimension accumulates in the tensor's own array type (float32 sums
//     round at every step), while mean() of all elements (dim null) sums in float64;
//   - slice(a, [s, e], null): a number drops its dimension, a [start, end) pair clamps
//     out-of-range ends (a negative one counts from the end), null keeps the whole dimension;
//     a number out of range throws;
//   - indexing past the end throws; a negative index counts from the end.
// Not here: the arithmetic and shape methods (add, mul, permute, view, ...): tolist() or data.

/** @typedef {'float32' | 'int8' | 'uint8'} TensorType */
/** @typedef {Float32Array | Int8Array | Uint8Array} TensorData */

/** index in [-size, size) -> [0, size); out of range: throws, or clamps when !boundsCheck. */
function safeIndex(index, size, dimension = null, boundsCheck = true) {
  if (index < -size || index >= size) {
    if (boundsCheck) throw new RangeError(`IndexError: index ${index} is out of bounds for dimension${dimension === null ? '' : ' ' + dimension} with size ${size}`);
    return index < -size ? 0 : size;
  }
  return index < 0 ? ((index % size) + size) % size : index;
}

/** Strides of row-major dims. @param {number[]} dims */
function strides(dims) {
  const s = new Array(dims.length);
  for (let i = dims.length - 1, m = 1; i >= 0; --i) { s[i] = m; m *= dims[i]; }
  return s;
}

/** A tensor as transformers.js returns one: flat data, dims, a type name. */
export class Tensor {
  /**
   * @param {TensorType} type
   * @param {TensorData} data
   * @param {number[]} dims
   */
  constructor(type, data, dims) {
    /** @type {TensorType} */
    this.type = type;
    /** @type {TensorData} */
    this.data = data;
    /** @type {number[]} */
    this.dims = dims;
    // t[0], t[-1]: a sub-tensor over the first dimension, as transformers.js's Proxy gives.
    return new Proxy(this, {
      get: (obj, key, receiver) => {
        if (typeof key === 'string' && key !== '' && Number.isInteger(Number(key))) return obj._getitem(Number(key));
        return Reflect.get(obj, key, receiver);
      },
    });
  }

  /** Number of elements. */
  get size() {
    return this.data.length;
  }

  /** Sub-tensors over the first dimension (numbers for a 1-D tensor). */
  *[Symbol.iterator]() {
    const [n, ...rest] = this.dims;
    if (rest.length > 0) {
      const step = rest.reduce((a, b) => a * b);
      for (let i = 0; i < n; ++i) yield this._sub(i, step, rest);
    } else {
      yield* this.data;
    }
  }

  /** @param {number} index @returns {Tensor} */
  _getitem(index) {
    const [n, ...rest] = this.dims;
    index = safeIndex(index, n);
    if (rest.length > 0) return this._sub(index, rest.reduce((a, b) => a * b), rest);
    const one = new /** @type {any} */ (this.data.constructor)(1);
    one[0] = this.data[index];
    return new Tensor(this.type, one, rest);
  }

  /** Row i of the first dimension, sharing this tensor's data. */
  _sub(i, step, dims) {
    return new Tensor(this.type, this.data.subarray(i * step, (i + 1) * step), dims);
  }

  /** The value of a one-element tensor. @returns {number} */
  item() {
    if (this.data.length !== 1) throw new RangeError(`a Tensor with ${this.data.length} elements cannot be converted to Scalar`);
    return this.data[0];
  }

  /** Nested arrays of numbers, dims deep. @returns {any[]} */
  tolist() {
    const build = (off, d) => {
      if (d === this.dims.length - 1) return Array.from(this.data.subarray(off, off + this.dims[d]));
      const stride = this.dims.slice(d + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.dims[d] }, (_, i) => build(off + i * stride, d + 1));
    };
    return this.dims.length ? build(0, 0) : [];
  }

  /** Row-major strides. @returns {number[]} */
  stride() {
    return strides(this.dims);
  }

  /**
   * A copy of a part: per dimension a number (that index; the dimension goes), [start, end]
   * (a range; the dimension stays) or null / undefined (all of it).
   * @param {...(number | [number | null, number | null] | null | undefined)} slices
   * @returns {Tensor}
   */
  slice(...slices) {
    /** @type {number[]} */
    const outDims = [];
    /** @type {Array<[number, number]>} */
    const ranges = [];
    for (let d = 0; d < this.dims.length; ++d) {
      const s = slices[d];
      if (s === null || s === undefined) {
        ranges.push([0, this.dims[d]]);
        outDims.push(this.dims[d]);
      } else if (typeof s === 'number') {
        const i = safeIndex(s, this.dims[d], d);
        ranges.push([i, i + 1]);
      } else if (Array.isArray(s) && s.length === 2) {
        const start = s[0] === null ? 0 : safeIndex(s[0], this.dims[d], d, false);
        const end = s[1] === null ? this.dims[d] : safeIndex(s[1], this.dims[d], d, false);
        if (start > end) throw new RangeError(`Invalid slice: ${s}`);
        const r = /** @type {[number, number]} */ ([Math.max(start, 0), Math.min(end, this.dims[d])]);
        ranges.push(r);
        outDims.push(r[1] - r[0]);
      } else {
        throw new RangeError(`Invalid slice: ${s}`);
      }
    }
    const sizes = ranges.map(([a, b]) => b - a);
    const n = sizes.reduce((a, b) => a * b, 1);
    const out = new /** @type {any} */ (this.data.constructor)(n);
    const st = this.stride();
    for (let i = 0; i < n; ++i) {
      let src = 0;
      for (let j = sizes.length - 1, k = i; j >= 0; --j) {
        src += ((k % sizes[j]) + ranges[j][0]) * st[j];
        k = Math.floor(k / sizes[j]);
      }
      out[i] = this.data[src];
    }
    return new Tensor(this.type, out, outDims);
  }

  /**
   * Reduces dimension dim with fn(acc, x), accumulating in this tensor's array type.
   * @returns {[TensorData, number[]]}
   */
  _reduce(fn, dim, keepdim) {
    dim = safeIndex(dim, this.dims.length);
    const dims = this.dims.slice();
    dims[dim] = 1;
    const out = new /** @type {any} */ (this.data.constructor)(this.data.length / this.dims[dim]);
    for (let i = 0; i < this.data.length; ++i) {
      let r = 0;
      for (let j = this.dims.length - 1, k = i, m = 1; j >= 0; --j) {
        const size = this.dims[j];
        if (j !== dim) { r += (k % size) * m; m *= dims[j]; }
        k = Math.floor(k / size);
      }
      out[r] = fn(out[r], this.data[i]);
    }
    if (!keepdim) dims.splice(dim, 1);
    return [out, dims];
  }

  /**
   * Mean over dimension dim (all elements when null).
   * @param {number | null} [dim=null] @param {boolean} [keepdim=false] @returns {Tensor}
   */
  mean(dim = null, keepdim = false) {
    if (dim === null) {
      let s = 0;
      for (const x of this.data) s += x;
      const out = new /** @type {any} */ (this.data.constructor)(1);
      out[0] = s / this.data.length;
      return new Tensor(this.type, out, []);
    }
    const size = this.dims[safeIndex(dim, this.dims.length)];
    const [out, dims] = this._reduce((a, b) => a + b, dim, keepdim);
    if (size !== 1) for (let i = 0; i < out.length; ++i) out[i] /= size;
    return new Tensor(this.type, out, dims);
  }

  /**
   * The p-norm over dimension dim (all elements when null); 'fro' is p = 2.
   * @param {number | 'fro'} [p='fro'] @param {number | null} [dim=null] @param {boolean} [keepdim=false] @returns {Tensor}
   */
  norm(p = 'fro', dim = null, keepdim = false) {
    if (p === 'fro') p = 2;
    else if (typeof p !== 'number') throw new RangeError(`Unsupported norm: ${p}`);
    const q = /** @type {number} */ (p);
    const fn = (a, b) => a + b ** q;
    if (dim === null) {
      let v = /** @type {number} */ (Array.prototype.reduce.call(this.data, fn, 0));
      if (q !== 1) v **= 1 / q;
      const out = new /** @type {any} */ (this.data.constructor)(1);
      out[0] = v;
      return new Tensor(this.type, out, []);
    }
    const [out, dims] = this._reduce(fn, dim, keepdim);
    if (q !== 1) for (let i = 0; i < out.length; ++i) out[i] **= 1 / q;
    return new Tensor(this.type, out, dims);
  }

  /** Sum over dimension dim (all elements when null). @param {number | null} [dim=null] @param {boolean} [keepdim=false] */
  sum(dim = null, keepdim = false) {
    return this.norm(1, dim, keepdim);
  }

  /**
   * A copy divided by its p-norm over dimension dim (default 1, as transformers.js).
   * @param {number} [p=2] @param {number} [dim=1] @returns {Tensor}
   */
  normalize(p = 2, dim = 1) {
    dim = safeIndex(dim, this.dims.length);
    const norm = this.norm(p, dim, true).data;
    const out = this.data.slice();
    for (let i = 0; i < out.length; ++i) {
      let r = 0;
      for (let j = this.dims.length - 1, k = i, m = 1; j >= 0; --j) {
        const size = this.dims[j];
        if (j !== dim) { r += (k % size) * m; m *= size; }
        k = Math.floor(k / size);
      }
      out[i] /= norm[r];
    }
    return new Tensor(this.type, out, this.dims.slice());
  }

  /** Nothing to release (the data is a plain typed array); here for code that calls it. */
  dispose() {}
}
