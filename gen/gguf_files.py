#!/usr/bin/python3
"""gguf_files.py - writes the small GGUF test files of tests/data/gguf from the reference fixtures
(tests/data/fixtures), with gguf_writer.py in this folder, in llama.cpp's layouts:

  bert-f32.gguf     fixtures/bert, every tensor F32 (the pooler dropped, as llama.cpp does)
  bert-mixed.gguf   the same model as GGUF v2, matmul weights in Q8_0 / Q4_0 / Q4_1 / Q5_0 /
                    Q5_1 / F16 / BF16 per tensor (listed in MIXED below), the rest F32
  nomic-q8_0.gguf   fixtures/nomic_bert ("nomic-bert"), 2-D weights Q8_0, norms F32
  clip-f16.gguf     fixtures/clip in the llava convert_image_encoder_to_gguf.py layout
                    (t.* / v.* names, fc1 -> ffn_down, fc2 -> ffn_up, 2-D and 4-D weights F16)
  qwen3-f16.gguf    fixtures/qwen3_own in llama.cpp's "qwen3" layout (convert_hf_to_gguf.py Qwen3Model:
                    blk.N.attn_q_norm / attn_k_norm, key_length = head_dim, pooling_type 3 = last),
                    2-D weights F16, norms F32
  gemma-embedding-f32.gguf
                    fixtures/gemma_own in llama.cpp's "gemma-embedding" layout (EmbeddingGemma with
                    --sentence-transformers-dense-modules): every norm weight stored as 1 + w,
                    post_attention_norm / post_ffw_norm, the ORIGINAL sliding_window (6),
                    attention.sliding_window_pattern 3, dense_2 / dense_3 weights (no bias) with
                    their dense_N_feat_in / _out, pooling_type 1 (mean); every tensor F32
  quant-blocks.gguf random blocks of every quantized type the engine reads, each with its
                    float32 dequantization "<type>.ref" computed here with numpy (float32
                    arithmetic in ggml's order), for an exact check of the C decoders

It also writes the seed corpus of the GGUF fuzz target, tests/fuzz/gguf/: tiny (a few KB)
random bert, nomic-bert and clip models in several tensor types, and a gpt2-style vocabulary.

Run from anywhere: /usr/bin/python3 gen/gguf_files.py
"""
import json
import os
import struct

import numpy as np

from gguf_writer import GGUFValueType as T, GGUFWriter, dequantize

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "tests", "data", "gguf")

FIX = os.path.join(ROOT, "tests", "data", "fixtures")


def read_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    out = {}
    for k, v in h.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        raw = b[8 + n + s:8 + n + e]
        dt = {"F32": np.float32, "F16": np.float16, "I64": np.int64}[v["dtype"]]
        out[k] = np.frombuffer(raw, dtype=dt).reshape(v["shape"])
    return out


def bert_vocab(w, n):
    toks, types = [], []
    ids = (0, 100, 101, 102, 103) if n > 103 else (0, 1, 2, 3, 4)   # pad unk cls sep mask
    special = dict(zip(ids, ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")))
    for i in range(n):
        if i in special:
            toks.append(special[i]); types.append(3)
        else:
            toks.append(("\u2581tok%d" if i % 2 else "tok%d") % i); types.append(1)
    w.add_string("tokenizer.ggml.model", "bert")
    w.add_array("tokenizer.ggml.tokens", T.STRING, toks)
    w.add_array("tokenizer.ggml.token_type", T.INT32, types)
    w.add_uint32("tokenizer.ggml.token_type_count", 2)
    w.add_uint32("tokenizer.ggml.unknown_token_id", ids[1])
    w.add_uint32("tokenizer.ggml.seperator_token_id", ids[3])
    w.add_uint32("tokenizer.ggml.padding_token_id", ids[0])
    w.add_uint32("tokenizer.ggml.cls_token_id", ids[2])
    w.add_uint32("tokenizer.ggml.mask_token_id", ids[4])


BERT_NAMES = [
    ("embeddings.word_embeddings.weight", "token_embd.weight"),
    ("embeddings.position_embeddings.weight", "position_embd.weight"),
    ("embeddings.token_type_embeddings.weight", "token_types.weight"),
    ("embeddings.LayerNorm.weight", "token_embd_norm.weight"),
    ("embeddings.LayerNorm.bias", "token_embd_norm.bias"),
]
BERT_LAYER = [
    ("attention.self.query", "attn_q"), ("attention.self.key", "attn_k"), ("attention.self.value", "attn_v"),
    ("attention.output.dense", "attn_output"), ("attention.output.LayerNorm", "attn_output_norm"),
    ("intermediate.dense", "ffn_up"), ("output.dense", "ffn_down"), ("output.LayerNorm", "layer_output_norm"),
]

# bert-mixed: the type of each 2-D weight, so that every reader path is used at least twice.
MIXED = {
    "token_embd.weight": "Q8_0",
    "blk.0.attn_q.weight": "Q4_0", "blk.0.attn_k.weight": "Q4_1", "blk.0.attn_v.weight": "Q5_0",
    "blk.0.attn_output.weight": "Q5_1", "blk.0.ffn_up.weight": "Q8_0", "blk.0.ffn_down.weight": "F16",
    "blk.1.attn_q.weight": "Q5_1", "blk.1.attn_k.weight": "Q5_0", "blk.1.attn_v.weight": "Q4_1",
    "blk.1.attn_output.weight": "Q4_0", "blk.1.ffn_up.weight": "BF16", "blk.1.ffn_down.weight": "Q8_0",
}


def bert_tensors(st):
    out = [(g, st[h]) for h, g in BERT_NAMES]
    for il in range(2):
        for h, g in BERT_LAYER:
            for suffix in ("weight", "bias"):
                out.append(("blk.%d.%s.%s" % (il, g, suffix), st["encoder.layer.%d.%s.%s" % (il, h, suffix)]))
    return out


def write_bert(path, version, types):
    st = read_safetensors(os.path.join(FIX, "bert", "model.safetensors"))
    w = GGUFWriter(arch="bert", version=version)
    w.add_string("general.name", "wembed tiny bert fixture")
    w.add_uint32("general.file_type", 0 if not types else 7)
    w.add_uint32("bert.context_length", 512)
    w.add_uint32("bert.embedding_length", 64)
    w.add_uint32("bert.feed_forward_length", 128)
    w.add_uint32("bert.block_count", 2)
    w.add_uint32("bert.attention.head_count", 4)
    w.add_float32("bert.attention.layer_norm_epsilon", 1e-12)
    w.add_bool("bert.attention.causal", False)
    w.add_uint32("bert.pooling_type", 1)
    bert_vocab(w, 512)
    for name, a in bert_tensors(st):
        w.add_tensor(name, a.astype(np.float32), types.get(name, "F32"))
    open(path, "wb").write(w.to_bytes())


def write_nomic(path):
    st = read_safetensors(os.path.join(FIX, "nomic_bert", "model.safetensors"))
    w = GGUFWriter(arch="nomic-bert")
    w.add_string("general.name", "wembed tiny nomic_bert fixture")
    w.add_uint32("nomic-bert.context_length", 2048)
    w.add_uint32("nomic-bert.embedding_length", 64)
    w.add_uint32("nomic-bert.feed_forward_length", 256)
    w.add_uint32("nomic-bert.block_count", 2)
    w.add_uint32("nomic-bert.attention.head_count", 4)
    w.add_float32("nomic-bert.attention.layer_norm_epsilon", 1e-12)
    w.add_bool("nomic-bert.attention.causal", False)
    w.add_float32("nomic-bert.rope.freq_base", 1000.0)
    w.add_uint32("nomic-bert.pooling_type", 1)
    bert_vocab(w, 512)
    names = [("embeddings.word_embeddings.weight", "token_embd.weight"),
             ("embeddings.token_type_embeddings.weight", "token_types.weight"),
             ("emb_ln.weight", "token_embd_norm.weight"), ("emb_ln.bias", "token_embd_norm.bias")]
    for il in range(2):
        for h, g in [("attn.Wqkv.weight", "attn_qkv.weight"), ("attn.out_proj.weight", "attn_output.weight"),
                     ("norm1.weight", "attn_output_norm.weight"), ("norm1.bias", "attn_output_norm.bias"),
                     ("mlp.fc11.weight", "ffn_up.weight"), ("mlp.fc12.weight", "ffn_gate.weight"),
                     ("mlp.fc2.weight", "ffn_down.weight"), ("norm2.weight", "layer_output_norm.weight"),
                     ("norm2.bias", "layer_output_norm.bias")]:
            names.append(("encoder.layers.%d.%s" % (il, h), "blk.%d.%s" % (il, g)))
    for h, g in names:
        a = st[h].astype(np.float32)
        # llama.cpp keeps token_types F32 (read with get_rows)
        w.add_tensor(g, a, "Q8_0" if a.ndim == 2 and g != "token_types.weight" else "F32")
    open(path, "wb").write(w.to_bytes())


def llava_name(name):
    # llama.cpp examples/llava/convert_image_encoder_to_gguf.py: get_tensor_name
    if "projection" in name:
        return name
    for a, b in [("text_model", "t"), ("vision_model", "v"), ("encoder.layers", "blk"), ("embeddings.", ""),
                 ("_proj", ""), ("self_attn.", "attn_"), ("layer_norm", "ln"), ("layernorm", "ln"),
                 ("mlp.fc1", "ffn_down"), ("mlp.fc2", "ffn_up"), ("embedding", "embd"), ("final", "post"),
                 ("layrnorm", "ln")]:
        name = name.replace(a, b)
    return name


def write_clip(path):
    st = read_safetensors(os.path.join(FIX, "clip", "model.safetensors"))
    cfg = json.load(open(os.path.join(FIX, "clip", "config.json")))
    tc, vc = cfg["text_config"], cfg["vision_config"]
    w = GGUFWriter(arch="clip")
    w.add_bool("clip.has_text_encoder", True)
    w.add_bool("clip.has_vision_encoder", True)
    w.add_bool("clip.has_llava_projector", False)
    w.add_uint32("general.file_type", 1)
    w.add_string("general.name", "wembed tiny clip fixture")
    w.add_string("general.description", "two-tower CLIP model")
    w.add_uint32("clip.text.context_length", tc["max_position_embeddings"])
    w.add_uint32("clip.text.embedding_length", tc["hidden_size"])
    w.add_uint32("clip.text.feed_forward_length", tc["intermediate_size"])
    w.add_uint32("clip.text.projection_dim", cfg["projection_dim"])
    w.add_uint32("clip.text.attention.head_count", tc["num_attention_heads"])
    w.add_float32("clip.text.attention.layer_norm_epsilon", tc["layer_norm_eps"])
    w.add_uint32("clip.text.block_count", tc["num_hidden_layers"])
    toks = ["tok%d" % i for i in range(510)] + ["<|startoftext|>", "<|endoftext|>"]
    w.add_array("tokenizer.ggml.tokens", T.STRING, toks)
    w.add_uint32("clip.vision.image_size", vc["image_size"])
    w.add_uint32("clip.vision.patch_size", vc["patch_size"])
    w.add_uint32("clip.vision.embedding_length", vc["hidden_size"])
    w.add_uint32("clip.vision.feed_forward_length", vc["intermediate_size"])
    w.add_uint32("clip.vision.projection_dim", cfg["projection_dim"])
    w.add_uint32("clip.vision.attention.head_count", vc["num_attention_heads"])
    w.add_float32("clip.vision.attention.layer_norm_epsilon", vc["layer_norm_eps"])
    w.add_uint32("clip.vision.block_count", vc["num_hidden_layers"])
    w.add_array("clip.vision.image_mean", T.FLOAT32, [0.48145466, 0.4578275, 0.40821073])
    w.add_array("clip.vision.image_std", T.FLOAT32, [0.26862954, 0.26130258, 0.27577711])
    w.add_bool("clip.use_gelu", False)
    for name, a in st.items():
        if name in ("logit_scale",) or name.endswith("position_ids"):
            continue
        a = a.astype(np.float32)
        qt = "F16" if a.ndim == 4 or (a.ndim == 2 and name.endswith(".weight")) else "F32"
        w.add_tensor(llava_name(name), a, qt)
    open(path, "wb").write(w.to_bytes())


def write_qwen3(path):
    """fixtures/qwen3_own as llama.cpp's converter writes a Qwen3-Embedding model (Qwen3Model: no
    q/k permutation, NEOX RoPE)."""
    fx = os.path.join(FIX, "qwen3_own")
    st = read_safetensors(os.path.join(fx, "model.safetensors"))
    cfg = json.load(open(os.path.join(fx, "config.json")))
    w = GGUFWriter(arch="qwen3")
    w.add_string("general.name", "wembed tiny qwen3 fixture")
    w.add_uint32("general.file_type", 1)
    w.add_uint32("qwen3.context_length", cfg["max_position_embeddings"])
    w.add_uint32("qwen3.embedding_length", cfg["hidden_size"])
    w.add_uint32("qwen3.block_count", cfg["num_hidden_layers"])
    w.add_uint32("qwen3.feed_forward_length", cfg["intermediate_size"])
    w.add_uint32("qwen3.attention.head_count", cfg["num_attention_heads"])
    w.add_uint32("qwen3.attention.head_count_kv", cfg["num_key_value_heads"])
    w.add_uint32("qwen3.attention.key_length", cfg["head_dim"])
    w.add_uint32("qwen3.attention.value_length", cfg["head_dim"])
    w.add_float32("qwen3.rope.freq_base", float(cfg["rope_theta"]))
    w.add_float32("qwen3.attention.layer_norm_rms_epsilon", cfg["rms_norm_eps"])
    w.add_uint32("qwen3.pooling_type", 3)
    names = [("embed_tokens.weight", "token_embd.weight"), ("norm.weight", "output_norm.weight")]
    for il in range(cfg["num_hidden_layers"]):
        for h, g in [("input_layernorm", "attn_norm"), ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"),
                     ("self_attn.v_proj", "attn_v"), ("self_attn.o_proj", "attn_output"), ("self_attn.q_norm", "attn_q_norm"),
                     ("self_attn.k_norm", "attn_k_norm"), ("post_attention_layernorm", "ffn_norm"),
                     ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"), ("mlp.down_proj", "ffn_down")]:
            names.append(("layers.%d.%s.weight" % (il, h), "blk.%d.%s.weight" % (il, g)))
    for h, g in names:
        a = st[h].astype(np.float32)
        w.add_tensor(g, a, "F16" if a.ndim == 2 else "F32")
    open(path, "wb").write(w.to_bytes())


def write_gemma_embedding(path):
    """fixtures/gemma_own as llama.cpp's EmbeddingGemma converter writes it (norms + 1, the
    config's own sliding_window, the Dense modules' weights as dense_2 / dense_3)."""
    fx = os.path.join(FIX, "gemma_own")
    st = read_safetensors(os.path.join(fx, "model.safetensors"))
    cfg = json.load(open(os.path.join(fx, "config.json")))
    a = "gemma-embedding."
    w = GGUFWriter(arch="gemma-embedding")
    w.add_string("general.name", "wembed tiny embeddinggemma fixture")
    w.add_uint32("general.file_type", 0)
    w.add_uint32(a + "context_length", cfg["max_position_embeddings"])
    w.add_uint32(a + "embedding_length", cfg["hidden_size"])
    w.add_uint32(a + "block_count", cfg["num_hidden_layers"])
    w.add_uint32(a + "feed_forward_length", cfg["intermediate_size"])
    w.add_uint32(a + "attention.head_count", cfg["num_attention_heads"])
    w.add_uint32(a + "attention.head_count_kv", cfg["num_key_value_heads"])
    w.add_float32(a + "attention.layer_norm_rms_epsilon", cfg["rms_norm_eps"])
    w.add_uint32(a + "attention.key_length", cfg["head_dim"])
    w.add_uint32(a + "attention.value_length", cfg["head_dim"])
    w.add_float32(a + "rope.freq_base", cfg["rope_theta"])
    w.add_uint32(a + "attention.sliding_window", cfg["sliding_window"])
    w.add_uint32(a + "attention.sliding_window_pattern", cfg["sliding_window_pattern"])
    dense = {}
    for mod, prefix in [("2_Dense", "dense_2"), ("3_Dense", "dense_3")]:
        dc = json.load(open(os.path.join(fx, mod, "config.json")))
        w.add_uint32(a + prefix + "_feat_in", dc["in_features"])
        w.add_uint32(a + prefix + "_feat_out", dc["out_features"])
        dense[prefix] = read_safetensors(os.path.join(fx, mod, "model.safetensors"))["linear.weight"]
    w.add_uint32(a + "pooling_type", 1)
    names = [("embed_tokens.weight", "token_embd.weight"), ("norm.weight", "output_norm.weight")]
    for il in range(cfg["num_hidden_layers"]):
        for h, g in [("input_layernorm", "attn_norm"), ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"),
                     ("self_attn.v_proj", "attn_v"), ("self_attn.o_proj", "attn_output"), ("self_attn.q_norm", "attn_q_norm"),
                     ("self_attn.k_norm", "attn_k_norm"), ("post_attention_layernorm", "post_attention_norm"),
                     ("pre_feedforward_layernorm", "ffn_norm"), ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"),
                     ("mlp.down_proj", "ffn_down"), ("post_feedforward_layernorm", "post_ffw_norm")]:
            names.append(("layers.%d.%s.weight" % (il, h), "blk.%d.%s.weight" % (il, g)))
    for h, g in names:
        t = st[h].astype(np.float32)
        if h.endswith("norm.weight"):
            t = t + np.float32(1.0)   # Gemma3Model.norm_shift: Gemma3RMSNorm's (1 + w), stored
        w.add_tensor(g, t, "F32")
    for prefix in ("dense_2", "dense_3"):
        w.add_tensor(prefix + ".weight", dense[prefix].astype(np.float32), "F32")
    open(path, "wb").write(w.to_bytes())


def write_blocks(path):
    """Random blocks of each quantized type (scales kept finite and moderate) + references."""
    rng = np.random.default_rng(1234)
    w = GGUFWriter(arch="wembed-test")
    # every metadata value type once, for the reader's test
    w.add_uint8("test.u8", 250); w.add_int8("test.i8", -7); w.add_uint16("test.u16", 65000)
    w.add_int16("test.i16", -30000); w.add_uint32("test.u32", 4000000000); w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 0.25); w.add_bool("test.bool", True); w.add_string("test.str", "h\u00e9llo")
    w.add_uint64("test.u64", 2**63 + 5); w.add_int64("test.i64", -(2**62)); w.add_float64("test.f64", 1e-300)
    w.add_array("test.arr_i16", T.INT16, [1, -2, 3]); w.add_array("test.arr_str", T.STRING, ["a", "", "\u00e7"])
    w.add_array("test.arr_bool", T.BOOL, [True, False]); w.add_array("test.arr_f64", T.FLOAT64, [0.5, -1.5])
    w.add_array("test.arr_empty", T.UINT32, [])
    layout = {  # type: (block bytes, offsets of f16 scales within the block)
        "Q4_0": (18, [0]), "Q4_1": (20, [0, 2]), "Q5_0": (22, [0]), "Q5_1": (24, [0, 2]), "Q8_0": (34, [0]),
        "Q2_K": (84, [80, 82]), "Q3_K": (110, [108]), "Q4_K": (144, [0, 2]), "Q5_K": (176, [0, 2]),
        "Q6_K": (210, [208]),
    }
    for qt, (bb, scale_offs) in layout.items():
        be = 256 if qt.endswith("_K") else 32
        nb = 6
        raw = rng.integers(0, 256, size=(nb, bb), dtype=np.uint8)
        for o in scale_offs:
            raw[:, o:o + 2] = np.float16(rng.uniform(-0.05, 0.05, size=nb)).view(np.uint8).reshape(nb, 2)
        w.add_tensor_raw(qt, [be * 2, nb // 2], qt, raw.tobytes())
        ref = dequantize(raw.tobytes(), qt, nb * be).astype(np.float32)
        w.add_tensor(qt + ".ref", ref.reshape(nb // 2, be * 2), "F32")
    open(path, "wb").write(w.to_bytes())


def write_fuzz_seeds(folder):
    """Tiny models (E = 32 so that 32-blocks fit) in several types, and a BPE vocabulary."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(99)
    r = lambda *s: rng.normal(0, 0.05, size=s).astype(np.float32)
    E, F, V, P = 32, 64, 16, 16
    for tag, types in [("f32", {}), ("mixed", {"blk.0.attn_q.weight": "Q4_0", "blk.0.attn_k.weight": "Q4_1",
                                               "blk.0.attn_v.weight": "Q5_0", "blk.0.attn_output.weight": "Q5_1",
                                               "blk.0.ffn_up.weight": "Q8_0", "blk.0.ffn_down.weight": "F16",
                                               "token_embd.weight": "BF16"})]:
        w = GGUFWriter(arch="bert")
        for k, v in [("context_length", P), ("embedding_length", E), ("feed_forward_length", F), ("block_count", 1),
                     ("attention.head_count", 2), ("pooling_type", 2)]:
            w.add_uint32("bert." + k, v)
        w.add_float32("bert.attention.layer_norm_epsilon", 1e-12)
        bert_vocab(w, V)
        t = [("token_embd.weight", r(V, E)), ("position_embd.weight", r(P, E)), ("token_types.weight", r(2, E)),
             ("token_embd_norm.weight", r(E)), ("token_embd_norm.bias", r(E))]
        for g, shape in [("attn_q", (E, E)), ("attn_k", (E, E)), ("attn_v", (E, E)), ("attn_output", (E, E)),
                         ("attn_output_norm", (E,)), ("ffn_up", (F, E)), ("ffn_down", (E, F)), ("layer_output_norm", (E,))]:
            t.append(("blk.0.%s.weight" % g, r(*shape)))
            t.append(("blk.0.%s.bias" % g, r(shape[0])))
        for name, a in t:
            w.add_tensor(name, a, types.get(name, "F32"))
        open(os.path.join(folder, "tiny-bert-%s.gguf" % tag), "wb").write(w.to_bytes())

    w = GGUFWriter(arch="nomic-bert", alignment=64)
    for k, v in [("context_length", 128), ("embedding_length", E), ("feed_forward_length", F), ("block_count", 1),
                 ("attention.head_count", 2)]:
        w.add_uint32("nomic-bert." + k, v)
    w.add_float32("nomic-bert.rope.freq_base", 1000.0)
    for name, a in [("token_embd.weight", r(V, E)), ("token_types.weight", r(2, E)), ("token_embd_norm.weight", r(E)),
                    ("token_embd_norm.bias", r(E)), ("blk.0.attn_qkv.weight", r(3 * E, E)), ("blk.0.attn_output.weight", r(E, E)),
                    ("blk.0.attn_output_norm.weight", r(E)), ("blk.0.attn_output_norm.bias", r(E)), ("blk.0.ffn_up.weight", r(F, E)),
                    ("blk.0.ffn_gate.weight", r(F, E)), ("blk.0.ffn_down.weight", r(E, F)), ("blk.0.layer_output_norm.weight", r(E)),
                    ("blk.0.layer_output_norm.bias", r(E))]:
        w.add_tensor(name, a, "Q8_0" if a.ndim == 2 and name != "token_types.weight" else "F32")
    open(os.path.join(folder, "tiny-nomic-q8_0.gguf"), "wb").write(w.to_bytes())

    w = GGUFWriter(arch="clip", version=2)
    w.add_bool("clip.has_text_encoder", True)
    w.add_bool("clip.has_vision_encoder", True)
    for tw, n_pos in [("text", 8), ("vision", 0)]:
        for k, v in [("embedding_length", E), ("feed_forward_length", F), ("block_count", 1), ("attention.head_count", 2),
                     ("projection_dim", 16)]:
            w.add_uint32("clip.%s.%s" % (tw, k), v)
    w.add_uint32("clip.text.context_length", 8)
    w.add_uint32("clip.vision.image_size", 8)
    w.add_uint32("clip.vision.patch_size", 4)
    w.add_array("tokenizer.ggml.tokens", T.STRING, ["t%d" % i for i in range(V - 2)] + ["<|startoftext|>", "<|endoftext|>"])
    t = [("t.token_embd.weight", r(V, E)), ("t.position_embd.weight", r(8, E)), ("t.post_ln.weight", r(E)), ("t.post_ln.bias", r(E)),
         ("text_projection.weight", r(16, E)), ("v.class_embd", r(E)), ("v.patch_embd.weight", r(E, 3, 4, 4)),
         ("v.position_embd.weight", r(5, E)), ("v.pre_ln.weight", r(E)), ("v.pre_ln.bias", r(E)), ("v.post_ln.weight", r(E)),
         ("v.post_ln.bias", r(E)), ("visual_projection.weight", r(16, E))]
    for p in ("t", "v"):
        for g, shape in [("ln1", (E,)), ("attn_q", (E, E)), ("attn_k", (E, E)), ("attn_v", (E, E)), ("attn_out", (E, E)),
                         ("ln2", (E,)), ("ffn_down", (F, E)), ("ffn_up", (E, F))]:
            t.append(("%s.blk.0.%s.weight" % (p, g), r(*shape)))
            t.append(("%s.blk.0.%s.bias" % (p, g), r(shape[0])))
    for name, a in t:
        w.add_tensor(name, a, "F16" if a.ndim >= 2 else "F32")
    open(os.path.join(folder, "tiny-clip-f16.gguf"), "wb").write(w.to_bytes())

    w = GGUFWriter(arch="gpt2")
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_string("tokenizer.ggml.pre", "default")
    w.add_array("tokenizer.ggml.tokens", T.STRING, ["a", "b", "ab", "\u0120c", "<s>", "</s>"])
    w.add_array("tokenizer.ggml.scores", T.FLOAT32, [0.0, -1.0, -2.0, -3.0, 0.0, 0.0])
    w.add_array("tokenizer.ggml.token_type", T.INT32, [1, 1, 1, 1, 3, 3])
    w.add_array("tokenizer.ggml.merges", T.STRING, ["a b", "\u0120 c"])
    w.add_uint32("tokenizer.ggml.bos_token_id", 4)
    w.add_uint32("tokenizer.ggml.eos_token_id", 5)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_array("tokenizer.ggml.precompiled_charsmap", T.UINT8, list(range(16)))
    open(os.path.join(folder, "vocab-gpt2.gguf"), "wb").write(w.to_bytes())


if __name__ == "__main__":
    write_fuzz_seeds(os.path.join(ROOT, "tests", "fuzz", "gguf"))
    write_bert(os.path.join(OUT, "bert-f32.gguf"), 3, {})
    write_bert(os.path.join(OUT, "bert-mixed.gguf"), 2, MIXED)
    write_nomic(os.path.join(OUT, "nomic-q8_0.gguf"))
    write_clip(os.path.join(OUT, "clip-f16.gguf"))
    write_blocks(os.path.join(OUT, "quant-blocks.gguf"))
    write_qwen3(os.path.join(OUT, "qwen3-f16.gguf"))
    write_gemma_embedding(os.path.join(OUT, "gemma-embedding-f32.gguf"))
    for f in sorted(os.listdir(OUT)):
        if f.endswith(".gguf"):
            print("%-28s %8d bytes" % (f, os.path.getsize(os.path.join(OUT, f))))
