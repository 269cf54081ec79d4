#!/usr/bin/python3
"""broken_models.py - writes deliberately broken model folders for the loader's error tests.

Every case is a folder of tests/data/broken holding a tiny BERT (hidden 8, 1 layer, vocab 16: a few KB) with
one defect, and cases.json lists, per case, the files, the status the loader must return and
a piece of its message. tests/test-model-load.c loads each case whole and streamed, checks
status and message, that nothing leaks, and that a good model still loads afterwards.

Run: /usr/bin/python3 gen/broken_models.py   (deterministic)
"""
import json
import os
import shutil
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "broken")

CONFIG = {
    "architectures": ["BertModel"], "model_type": "bert", "hidden_size": 8, "num_hidden_layers": 1,
    "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
    "max_position_embeddings": 16, "type_vocab_size": 2, "vocab_size": 16, "pad_token_id": 0,
    "position_embedding_type": "absolute",
}


def tiny_bert():
    rng = np.random.default_rng(7)
    E, F, V, P = 8, 16, 16, 16
    t = {
        "embeddings.word_embeddings.weight": (V, E), "embeddings.position_embeddings.weight": (P, E),
        "embeddings.token_type_embeddings.weight": (2, E), "embeddings.LayerNorm.weight": (E,),
        "embeddings.LayerNorm.bias": (E,),
    }
    for n, s in [("attention.self.query", (E, E)), ("attention.self.key", (E, E)), ("attention.self.value", (E, E)),
                 ("attention.output.dense", (E, E)), ("attention.output.LayerNorm", None),
                 ("intermediate.dense", (F, E)), ("output.dense", (E, F)), ("output.LayerNorm", None)]:
        if s is None:
            t["encoder.layer.0.%s.weight" % n] = (E,)
            t["encoder.layer.0.%s.bias" % n] = (E,)
        else:
            t["encoder.layer.0.%s.weight" % n] = s
            t["encoder.layer.0.%s.bias" % n] = (s[0],)
    return {k: rng.normal(0, 0.02, size=s).astype(np.float32) for k, s in sorted(t.items())}


def safetensors(tensors, dtypes=None, mutate=None, metadata=None):
    """tensors: {name: array}; mutate(header_dict) may edit the header before writing."""
    header, data = {}, b""
    for k, a in tensors.items():
        raw = a.tobytes()
        header[k] = {"dtype": (dtypes or {}).get(k, "F32"), "shape": list(a.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    if mutate:
        extra = mutate(header)
        if extra:
            data += extra
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def main():
    for f in os.listdir(OUT):
        if os.path.isdir(os.path.join(OUT, f)):
            shutil.rmtree(os.path.join(OUT, f))
    base = tiny_bert()
    good = safetensors(base, metadata={"format": "pt"})
    cfg = json.dumps(CONFIG, indent=2).encode()
    cases = []

    def case(name, status, message, st=good, config=cfg, extra=None):
        d = os.path.join(OUT, name)
        os.makedirs(d)
        files = []
        if config is not None:
            open(os.path.join(d, "config.json"), "wb").write(config)
            files.append("config.json")
        if st is not None:
            open(os.path.join(d, "model.safetensors"), "wb").write(st)
            files.append("model.safetensors")
        cases.append({"name": name, "files": files, "status": status, "message": message})

    case("ok", "ok", "")

    case("truncated", "bad_format", "the file is truncated: its header describes", st=good[:len(good) * 6 // 10])
    n = struct.unpack("<Q", good[:8])[0]
    case("header-past-end", "bad_format", "runs past the end of the file",
         st=struct.pack("<Q", len(good)) + good[8:])
    case("header-2gb", "limit", "header length 2147483648 is over the limit of 100000000 bytes",
         st=struct.pack("<Q", 2 ** 31) + good[8:])
    case("short-file", "bad_format", "too short for the 8-byte header length", st=good[:5])
    case("empty-file", "bad_format", "model.safetensors is empty", st=b"")

    def overlap(h):
        b, e = h["embeddings.LayerNorm.weight"]["data_offsets"]
        h["embeddings.LayerNorm.weight"]["data_offsets"] = [b - 4, e - 4]
    case("overlap", "bad_format", "overlap", st=safetensors(base, mutate=overlap))

    def out_of_range(h):
        e = max(v["data_offsets"][1] for v in h.values())
        size = h["embeddings.LayerNorm.bias"]["data_offsets"][1] - h["embeddings.LayerNorm.bias"]["data_offsets"][0]
        h["embeddings.LayerNorm.bias"]["data_offsets"] = [e + 4096, e + 4096 + size]
    case("out-of-range", "bad_format", "are out of range (the data section has", st=safetensors(base, mutate=out_of_range))

    def gap(h):
        for k in sorted(h, key=lambda k: h[k]["data_offsets"][0])[3:]:
            h[k]["data_offsets"] = [h[k]["data_offsets"][0] + 8, h[k]["data_offsets"][1] + 8]
        return b"\0" * 8
    case("gap", "bad_format", "belong to no tensor (before", st=safetensors(base, mutate=gap))
    case("trailing-bytes", "bad_format", "16 bytes after the last tensor belong to no tensor",
         st=safetensors(base, mutate=lambda h: b"\0" * 16))

    def unknown_dtype(h):
        h["embeddings.LayerNorm.bias"]["dtype"] = "F4"
    case("unknown-dtype", "unsupported", "tensor \"embeddings.LayerNorm.bias\": unknown dtype \"F4\"",
         st=safetensors(base, mutate=unknown_dtype))

    def size_mismatch(h):
        h["embeddings.LayerNorm.bias"]["shape"] = [9]
    case("size-mismatch", "bad_format", "hold 32 bytes, but F32 [9] needs 36", st=safetensors(base, mutate=size_mismatch))

    def overflow(h):
        h["embeddings.LayerNorm.bias"]["shape"] = [2 ** 40, 2 ** 40]
    case("shape-overflow", "bad_format", "the shape's size overflows", st=safetensors(base, mutate=overflow))

    def not_string_meta(h):
        h["__metadata__"] = {"format": 1}
    case("metadata-not-string", "bad_format", "\"__metadata__\" value \"format\" is not a string",
         st=safetensors(base, mutate=not_string_meta))

    h = b'["not", "an", "object"]'
    case("header-not-object", "bad_format", "does not start with '{'", st=struct.pack("<Q", len(h)) + h)
    h = b'{"a": {"dtype": "F32",, }}'
    case("header-bad-json", "bad_format", "model.safetensors: safetensors header: JSON 1:23: expected a string key, found ','",
         st=struct.pack("<Q", len(h)) + h)

    ints = dict(base)
    ints["embeddings.word_embeddings.weight"] = (base["embeddings.word_embeddings.weight"] * 1000).astype(np.int32)
    case("int-weight", "unsupported", "tensor embeddings.word_embeddings.weight has dtype I32",
         st=safetensors(ints, dtypes={"embeddings.word_embeddings.weight": "I32"}))

    c = dict(CONFIG, intermediate_size=12)
    case("shape-mismatch", "shape_mismatch",
         "tensor encoder.layer.0.intermediate.dense.bias has shape [16], but config.json implies [12]",
         config=json.dumps(c).encode())

    miss = {k: v for k, v in base.items() if k != "encoder.layer.0.output.LayerNorm.bias"}
    case("missing-tensor", "missing_tensor", "missing tensor encoder.layer.0.output.LayerNorm.bias for bert",
         st=safetensors(miss))

    c = dict(CONFIG, model_type="gpt2")
    case("unsupported-arch", "unsupported",
         "unsupported architecture \"gpt2\"; supported: bert, roberta, xlm-roberta, nomic_bert, clip",
         config=json.dumps(c).encode())
    case("no-model-type", "bad_format", "config.json: no \"model_type\" string",
         config=json.dumps({k: v for k, v in CONFIG.items() if k != "model_type"}).encode())
    c = dict(CONFIG, num_attention_heads=3)
    case("heads-not-dividing", "bad_format", "hidden_size 8 is not a multiple of num_attention_heads 3",
         config=json.dumps(c).encode())
    c = dict(CONFIG, hidden_act="mish")
    case("unsupported-act", "unsupported", "hidden_act \"mish\" is not supported", config=json.dumps(c).encode())
    # MPNet reads 32 relative-position buckets whatever the config says: a smaller table is refused.
    c = dict(CONFIG, model_type="mpnet", relative_attention_num_buckets=16)
    case("mpnet-few-buckets", "unsupported", "relative_attention_num_buckets 16 is not supported",
         config=json.dumps(c).encode())
    c = dict(CONFIG, hidden_size="8")
    case("config-wrong-type", "bad_format", "config.json: \"hidden_size\" must be an integer", config=json.dumps(c).encode())
    bad = cfg.replace(b'"pad_token_id": 0,', b'"pad_token_id": 0,,')
    case("bad-config-json", "bad_format", "config.json: JSON 15:21: expected a string key, found ','", config=bad)
    case("no-config", "missing_file", "config.json is needed before the weights (model.safetensors)", config=None)

    nan = dict(base)
    w = base["encoder.layer.0.attention.self.key.weight"].copy()
    w[1, 2] = np.nan
    w[3, 4] = np.inf
    w[5, 6] = -np.inf
    nan["encoder.layer.0.attention.self.key.weight"] = w
    case("nan-inf", "ok", "tensor encoder.layer.0.attention.self.key.weight has 3 NaN or infinite values",
         st=safetensors(nan))

    json.dump({"cases": cases}, open(os.path.join(OUT, "cases.json"), "w"), indent=1)
    print("%d cases" % len(cases))


if __name__ == "__main__":
    main()
