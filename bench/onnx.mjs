// onnx.mjs - writes small ONNX models for the benchmarks, without Python: a minimal protobuf
// encoder for the few ModelProto fields a one-operator graph needs (onnx.proto3 field numbers).
//
//   matmulModel(K, N, W)          y = x @ W,  x float [T, K] (T symbolic), W float [K, N]
//   matmulQ8Model(K, N, Wq, s)    the graph onnxruntime's quantize_dynamic makes of a MatMul:
//                                 DynamicQuantizeLinear(x) -> MatMulInteger(., Wq int8) ->
//                                 Cast float -> Mul(x_scale * w_scale)

class Writer {
  constructor() { this.parts = []; this.length = 0; }
  bytes(b) { this.parts.push(b); this.length += b.length; return this; }
  varint(v) {
    const out = [];
    let x = BigInt(v);
    if (x < 0n) x += 1n << 64n;
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      out.push(byte);
    } while (x);
    return this.bytes(Uint8Array.from(out));
  }
  key(field, wire) { return this.varint((field << 3) | wire); }
  int(field, v) { return this.key(field, 0).varint(v); }
  len(field, b) { return this.key(field, 2).varint(b.length).bytes(b); }
  str(field, s) { return this.len(field, new TextEncoder().encode(s)); }
  msg(field, fn) { const w = new Writer(); fn(w); return this.len(field, w.finish()); }
  finish() {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}

const FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6;

function tensor(w, field, name, dataType, dims, raw) {
  w.msg(field, (t) => {
    for (const d of dims) t.int(1, d);
    t.int(2, dataType);
    t.str(8, name);
    t.len(9, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
  });
}

function valueInfo(w, field, name, elemType, dims) {
  w.msg(field, (v) => {
    v.str(1, name);
    v.msg(2, (type) => type.msg(1, (tt) => {
      tt.int(1, elemType);
      tt.msg(2, (shape) => {
        for (const d of dims) shape.msg(1, (dim) => (typeof d === 'string' ? dim.str(2, d) : dim.int(1, d)));
      });
    }));
  });
}

function node(g, op, inputs, outputs, attrs = {}) {
  g.msg(1, (n) => {
    for (const i of inputs) n.str(1, i);
    for (const o of outputs) n.str(2, o);
    n.str(3, `${op}_${outputs[0]}`);
    n.str(4, op);
    for (const [name, value] of Object.entries(attrs)) {
      n.msg(5, (a) => { a.str(1, name); a.int(3, value); a.int(20, 2 /* INT */); });
    }
  });
}

function model(build) {
  const w = new Writer();
  w.int(1, 8);                                       // ir_version
  w.str(2, 'wembed-bench');                          // producer_name
  w.msg(7, build);                                   // graph
  w.msg(8, (o) => { o.str(1, ''); o.int(2, 17); });  // opset_import: ai.onnx 17
  return w.finish();
}

/** @param {number} K @param {number} N @param {Float32Array} W row-major [K, N] */
export function matmulModel(K, N, W) {
  return model((g) => {
    node(g, 'MatMul', ['x', 'W'], ['y']);
    g.str(2, 'matmul');
    tensor(g, 5, 'W', FLOAT, [K, N], W);
    valueInfo(g, 11, 'x', FLOAT, ['T', K]);
    valueInfo(g, 12, 'y', FLOAT, ['T', N]);
  });
}

/** @param {number} K @param {number} N @param {Int8Array} Wq row-major [K, N] @param {number} wScale */
export function matmulQ8Model(K, N, Wq, wScale) {
  return model((g) => {
    node(g, 'DynamicQuantizeLinear', ['x'], ['xq', 'x_scale', 'x_zp']);
    node(g, 'MatMulInteger', ['xq', 'Wq', 'x_zp', 'W_zp'], ['acc']);
    node(g, 'Cast', ['acc'], ['accf'], { to: FLOAT });
    node(g, 'Mul', ['x_scale', 'W_scale'], ['scale']);
    node(g, 'Mul', ['accf', 'scale'], ['y']);
    g.str(2, 'matmul_q8');
    tensor(g, 5, 'Wq', INT8, [K, N], Wq);
    tensor(g, 5, 'W_zp', INT8, [], new Int8Array([0]));
    tensor(g, 5, 'W_scale', FLOAT, [], new Float32Array([wScale]));
    valueInfo(g, 11, 'x', FLOAT, ['T', K]);
    valueInfo(g, 12, 'y', FLOAT, ['T', N]);
  });
}

export { UINT8, INT32 };
