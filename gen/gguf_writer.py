#!/usr/bin/python3
"""gguf_writer.py - a small GGUF (v2/v3) writer with numpy, for wembed's test files.

It writes what llama.cpp's readers expect: "GGUF", version, tensor and key counts, typed
metadata (every GGUF value type, arrays included), tensor infos (dims innermost first),
then the data section aligned to general.alignment (default 32). Tensors can be stored as
F32, F16, BF16 or quantized to Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 (ggml's reference rules, blocks
of 32 along the innermost dimension); any other type can be written from raw block bytes.

    w = GGUFWriter(arch="bert")
    w.add_uint32("bert.block_count", 2)
    w.add_array("tokenizer.ggml.tokens", GGUFValueType.STRING, ["[PAD]", ...])
    w.add_tensor("token_embd.weight", np_array_in_torch_order, "Q8_0")
    open("model.gguf", "wb").write(w.to_bytes())

dequantize(raw, type, n) gives the float32 values a reader must see (numpy, independent of
the C decoders it is used to check).

Not: a converter from Hugging Face checkpoints (see gguf_files.py beside it), nor a
reader, nor K-quant quantization (K-quant blocks are written from raw bytes for tests).
"""
import struct

import numpy as np


class GGUFValueType:
    UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)


# GGML type codes and (block elements, block bytes)
GGML_TYPES = {
    "F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q4_1": (3, 32, 20),
    "Q5_0": (6, 32, 22), "Q5_1": (7, 32, 24), "Q8_0": (8, 32, 34),
    "Q2_K": (10, 256, 84), "Q3_K": (11, 256, 110), "Q4_K": (12, 256, 144),
    "Q5_K": (13, 256, 176), "Q6_K": (14, 256, 210),
    "I8": (24, 1, 1), "I16": (25, 1, 2), "I32": (26, 1, 4), "I64": (27, 1, 8),
    "F64": (28, 1, 8), "BF16": (30, 1, 2),
}

_SCALAR_FMT = {
    GGUFValueType.UINT8: "<B", GGUFValueType.INT8: "<b", GGUFValueType.UINT16: "<H",
    GGUFValueType.INT16: "<h", GGUFValueType.UINT32: "<I", GGUFValueType.INT32: "<i",
    GGUFValueType.FLOAT32: "<f", GGUFValueType.BOOL: "<?", GGUFValueType.UINT64: "<Q",
    GGUFValueType.INT64: "<q", GGUFValueType.FLOAT64: "<d",
}


def _str(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


def _f16(x):
    return np.asarray(x, dtype=np.float32).astype(np.float16)


# ---------------------------------------------------------------------------------------
# Quantization (ggml-quants.c reference rules), x: (n_blocks, 32) float32 -> (n_blocks, bytes)

def _q8_0(x):
    amax = np.abs(x).max(axis=1)
    d = amax / 127.0
    idv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0).astype(np.float32)
    q = np.round(x * idv[:, None]).astype(np.int8)
    return np.concatenate([_f16(d)[:, None].view(np.uint8), q.view(np.uint8)], axis=1)


def _signed_max(x):
    i = np.abs(x).argmax(axis=1)
    return x[np.arange(len(x)), i]


def _q4_0(x):
    mx = _signed_max(x)
    d = (mx / -8.0).astype(np.float32)
    idv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0).astype(np.float32)
    q = np.minimum(15, np.trunc(x * idv[:, None] + 8.5)).astype(np.uint8)
    qs = q[:, :16] | (q[:, 16:] << 4)
    return np.concatenate([_f16(d)[:, None].view(np.uint8), qs], axis=1)


def _q4_1(x):
    mn, mx = x.min(axis=1), x.max(axis=1)
    d = ((mx - mn) / 15.0).astype(np.float32)
    idv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0).astype(np.float32)
    q = np.minimum(15, np.trunc((x - mn[:, None]) * idv[:, None] + 0.5)).astype(np.uint8)
    qs = q[:, :16] | (q[:, 16:] << 4)
    return np.concatenate([_f16(d)[:, None].view(np.uint8), _f16(mn)[:, None].view(np.uint8), qs], axis=1)


def _qh_bits(q):
    hi = ((q >> 4) & 1).astype(np.uint32)
    qh = (hi << np.arange(32, dtype=np.uint32)[None, :]).sum(axis=1).astype(np.uint32)
    return qh[:, None].view(np.uint8)


def _q5_0(x):
    mx = _signed_max(x)
    d = (mx / -16.0).astype(np.float32)
    idv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0).astype(np.float32)
    q = np.minimum(31, np.trunc(x * idv[:, None] + 16.5)).astype(np.uint8)
    qs = (q[:, :16] & 15) | ((q[:, 16:] & 15) << 4)
    return np.concatenate([_f16(d)[:, None].view(np.uint8), _qh_bits(q), qs], axis=1)


def _q5_1(x):
    mn, mx = x.min(axis=1), x.max(axis=1)
    d = ((mx - mn) / 31.0).astype(np.float32)
    idv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0).astype(np.float32)
    q = np.minimum(31, np.trunc((x - mn[:, None]) * idv[:, None] + 0.5)).astype(np.uint8)
    qs = (q[:, :16] & 15) | ((q[:, 16:] & 15) << 4)
    return np.concatenate([_f16(d)[:, None].view(np.uint8), _f16(mn)[:, None].view(np.uint8), _qh_bits(q), qs], axis=1)


_QUANTIZE = {"Q8_0": _q8_0, "Q4_0": _q4_0, "Q4_1": _q4_1, "Q5_0": _q5_0, "Q5_1": _q5_1}


def quantize(x, qtype):
    """float32 array (any shape, innermost dim a multiple of 32) -> raw bytes of qtype."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if qtype == "F32":
        return x.tobytes()
    if qtype == "F16":
        return x.astype(np.float16).tobytes()
    if qtype == "BF16":
        u = x.view(np.uint32).astype(np.uint64)
        r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)   # round to nearest even
        return r.tobytes()
    blocks = x.reshape(-1, 32)
    return _QUANTIZE[qtype](blocks).astype(np.uint8).tobytes()


# ---------------------------------------------------------------------------------------
# Dequantization, for references (float32 arithmetic in the same order as ggml's)

def _h(b, off):
    return b[:, off:off + 2].copy().view(np.float16).astype(np.float32)[:, 0]


def dequantize(raw, qtype, n):
    b = np.frombuffer(raw, dtype=np.uint8)
    if qtype == "F32":
        return b.view(np.float32)[:n].copy()
    if qtype == "F16":
        return b.view(np.float16).astype(np.float32)[:n]
    if qtype == "BF16":
        return (b.view(np.uint16).astype(np.uint32) << 16).view(np.float32)[:n]
    _, be, bb = GGML_TYPES[qtype]
    b = b.reshape(-1, bb)
    nb = b.shape[0]
    f = np.float32
    if qtype == "Q8_0":
        d = _h(b, 0)
        return (b[:, 2:].view(np.int8).astype(f) * d[:, None]).reshape(-1)
    if qtype in ("Q4_0", "Q4_1"):
        d = _h(b, 0)
        off = 2 if qtype == "Q4_0" else 4
        qs = b[:, off:off + 16]
        q = np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.int32)
        if qtype == "Q4_0":
            return ((q - 8).astype(f) * d[:, None]).reshape(-1)
        return (q.astype(f) * d[:, None] + _h(b, 2)[:, None]).reshape(-1)
    if qtype in ("Q5_0", "Q5_1"):
        d = _h(b, 0)
        off = 2 if qtype == "Q5_0" else 4
        qh = b[:, off:off + 4].copy().view(np.uint32)[:, 0]
        qs = b[:, off + 4:off + 20]
        hb = ((qh[:, None] >> np.arange(32, dtype=np.uint32)[None, :]) & 1).astype(np.int32)
        q = np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.int32) | (hb << 4)
        if qtype == "Q5_0":
            return ((q - 16).astype(f) * d[:, None]).reshape(-1)
        return (q.astype(f) * d[:, None] + _h(b, 2)[:, None]).reshape(-1)
    if qtype == "Q2_K":
        sc, qs = b[:, :16], b[:, 16:80]
        d, dmin = _h(b, 80), _h(b, 82)
        dl = (d[:, None] * (sc & 15).astype(f)).reshape(nb, 16, 1)
        ml = (dmin[:, None] * (sc >> 4).astype(f)).reshape(nb, 16, 1)
        q = (qs.reshape(nb, 2, 1, 32) >> np.array([0, 2, 4, 6], dtype=np.uint8).reshape(1, 1, 4, 1)) & 3
        q = q.reshape(nb, 16, 16).astype(f)
        return (dl * q - ml).reshape(-1)
    if qtype == "Q3_K":
        hm, qs, sb = b[:, :32], b[:, 32:96], b[:, 96:108]
        d = _h(b, 108)
        lo = np.concatenate([sb[:, :8] & 15, sb[:, :8] >> 4], axis=1)
        hi = (sb[:, 8:12].reshape(nb, 1, 4) >> np.array([0, 2, 4, 6], dtype=np.uint8).reshape(1, 4, 1)).reshape(nb, 16) & 3
        scales = ((lo | (hi << 4)).astype(np.int32) - 32).astype(f)
        dl = (d[:, None] * scales).reshape(nb, 16, 1)
        ql = (qs.reshape(nb, 2, 1, 32) >> np.array([0, 2, 4, 6], dtype=np.uint8).reshape(1, 1, 4, 1)) & 3
        ql = ql.reshape(nb, 16, 16).astype(np.int32)
        hbit = (hm.reshape(nb, 1, 32) >> np.arange(8, dtype=np.uint8).reshape(1, 8, 1)) & 1
        hbit = hbit.reshape(nb, 16, 16).astype(np.int32)
        q = (ql - 4 * (1 - hbit)).astype(f)
        return (dl * q).reshape(-1)
    if qtype in ("Q4_K", "Q5_K"):
        d, dmin = _h(b, 0), _h(b, 2)
        s = b[:, 4:16].astype(np.int32)
        sc = np.concatenate([s[:, 0:4] & 63, (s[:, 8:12] & 15) | ((s[:, 0:4] >> 6) << 4)], axis=1)
        mn = np.concatenate([s[:, 4:8] & 63, (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)], axis=1)
        d1 = (d[:, None] * sc.astype(f)).reshape(nb, 8, 1)
        m1 = (dmin[:, None] * mn.astype(f)).reshape(nb, 8, 1)
        if qtype == "Q4_K":
            qs = b[:, 16:144]
            q = (qs.reshape(nb, 4, 1, 32) >> np.array([0, 4], dtype=np.uint8).reshape(1, 1, 2, 1)) & 15
            q = q.reshape(nb, 8, 32).astype(f)
        else:
            qh, qs = b[:, 16:48], b[:, 48:176]
            ql = (qs.reshape(nb, 4, 1, 32) >> np.array([0, 4], dtype=np.uint8).reshape(1, 1, 2, 1)) & 15
            hb = (qh.reshape(nb, 1, 32) >> np.arange(8, dtype=np.uint8).reshape(1, 8, 1)) & 1
            q = (ql.reshape(nb, 8, 32) | (hb << 4)).astype(f)
        return (d1 * q - m1).reshape(-1)
    if qtype == "Q6_K":
        ql, qh, sc = b[:, :128], b[:, 128:192], b[:, 192:208].view(np.int8)
        d = _h(b, 208)
        dl = (d[:, None] * sc.astype(f)).reshape(nb, 16, 1)
        lo = (ql.reshape(nb, 2, 1, 64) >> np.array([0, 4], dtype=np.uint8).reshape(1, 1, 2, 1)) & 15
        lo = lo.reshape(nb, 8, 32)
        hi = (qh.reshape(nb, 2, 1, 32) >> np.array([0, 2, 4, 6], dtype=np.uint8).reshape(1, 1, 4, 1)) & 3
        hi = hi.reshape(nb, 8, 32)
        q = ((lo | (hi << 4)).astype(np.int32) - 32).astype(f).reshape(nb, 16, 16)
        return (dl * q).reshape(-1)
    raise ValueError(qtype)


# ---------------------------------------------------------------------------------------

class GGUFWriter:
    def __init__(self, arch=None, version=3, alignment=32):
        self.version = version
        self.alignment = alignment
        self.kv = []          # (key, bytes of type + value)
        self.tensors = []     # (name, ggml dims innermost first, type code, raw bytes)
        if arch is not None:
            self.add_string("general.architecture", arch)
        if alignment != 32:
            self.add_uint32("general.alignment", alignment)

    # metadata
    def add_scalar(self, key, vtype, value):
        self.kv.append((key, struct.pack("<I", vtype) + self._value(vtype, value)))

    def _value(self, vtype, value):
        if vtype == GGUFValueType.STRING:
            return _str(value)
        return struct.pack(_SCALAR_FMT[vtype], value)

    def add_uint8(self, k, v): self.add_scalar(k, GGUFValueType.UINT8, v)
    def add_int8(self, k, v): self.add_scalar(k, GGUFValueType.INT8, v)
    def add_uint16(self, k, v): self.add_scalar(k, GGUFValueType.UINT16, v)
    def add_int16(self, k, v): self.add_scalar(k, GGUFValueType.INT16, v)
    def add_uint32(self, k, v): self.add_scalar(k, GGUFValueType.UINT32, v)
    def add_int32(self, k, v): self.add_scalar(k, GGUFValueType.INT32, v)
    def add_float32(self, k, v): self.add_scalar(k, GGUFValueType.FLOAT32, v)
    def add_uint64(self, k, v): self.add_scalar(k, GGUFValueType.UINT64, v)
    def add_int64(self, k, v): self.add_scalar(k, GGUFValueType.INT64, v)
    def add_float64(self, k, v): self.add_scalar(k, GGUFValueType.FLOAT64, v)
    def add_bool(self, k, v): self.add_scalar(k, GGUFValueType.BOOL, bool(v))
    def add_string(self, k, v): self.add_scalar(k, GGUFValueType.STRING, v)

    def add_array(self, key, elem_type, values):
        body = struct.pack("<IQ", elem_type, len(values)) + b"".join(self._value(elem_type, v) for v in values)
        self.kv.append((key, struct.pack("<I", GGUFValueType.ARRAY) + body))

    # tensors
    def add_tensor(self, name, array, qtype="F32"):
        """array in torch order (outermost first); stored with GGUF dims innermost first."""
        a = np.asarray(array)
        if qtype in ("I8", "I16", "I32", "I64", "F64"):
            raw = a.astype({"I8": np.int8, "I16": np.int16, "I32": np.int32, "I64": np.int64, "F64": np.float64}[qtype]).tobytes()
        else:
            raw = quantize(a, qtype)
        self.add_tensor_raw(name, list(reversed(a.shape)) or [1], qtype, raw)
        return raw

    def add_tensor_raw(self, name, ggml_dims, qtype, raw):
        code, be, bb = GGML_TYPES[qtype] if isinstance(qtype, str) else (qtype, 1, 1)
        self.tensors.append((name, list(ggml_dims), code, bytes(raw)))

    def to_bytes(self):
        out = bytearray(b"GGUF")
        out += struct.pack("<IQQ", self.version, len(self.tensors), len(self.kv))
        for key, val in self.kv:
            out += _str(key) + val
        offsets, off = [], 0
        for name, dims, code, raw in self.tensors:
            off = (off + self.alignment - 1) // self.alignment * self.alignment
            offsets.append(off)
            off += len(raw)
        for (name, dims, code, raw), o in zip(self.tensors, offsets):
            out += _str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
            out += struct.pack("<IQ", code, o)
        pad = (-len(out)) % self.alignment
        out += b"\0" * pad
        start = len(out)
        for (name, dims, code, raw), o in zip(self.tensors, offsets):
            out += b"\0" * (start + o - len(out))
            out += raw
        return bytes(out)
