#!/usr/bin/python3
"""decoder_shaped.py [qwen3|gemma ...] - random-weight models with the shapes of
Qwen/Qwen3-Embedding-0.6B (596M parameters: hidden 1024, 28 layers, 16 query / 8 key-value heads
of 128, SwiGLU 3072, vocab 151669) and google/embeddinggemma-300m (hidden 768, 24 layers, 3 / 1
heads of 256, GeGLU 1152, vocab 262144, with its sentence-transformers Pooling and two Dense
modules), as config.json + model.safetensors in BF16 (the hub files' dtype) and the
sentence-transformers files, for the q4 memory measurements (bench/decoder-memory.mjs). The
configs are the real models' config.json values. The tokenizer.json is the real Qwen3 / Gemma 3
file (tests/data/tokenizers, stored compressed) with the post-processor the embedding model
ships in place of the language model's: Qwen3-Embedding appends <|endoftext|>
(QwenLM/Qwen3-Embedding#54), EmbeddingGemma wraps the text in <bos> ... <eos>. Output:
bench/models/qwen3-0.6b-shaped and bench/models/embeddinggemma-shaped (git-ignored). Written
tensor by tensor, in little memory.
"""
import gzip
import json
import lzma
import os
import struct
import sys

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

QWEN3 = {
    "architectures": ["Qwen3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
    "bos_token_id": 151643, "eos_token_id": 151643, "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024,
    "initializer_range": 0.02, "intermediate_size": 3072, "max_position_embeddings": 32768, "max_window_layers": 28,
    "model_type": "qwen3", "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8,
    "rms_norm_eps": 1e-06, "rope_scaling": None, "rope_theta": 1000000, "sliding_window": None,
    "tie_word_embeddings": True, "torch_dtype": "bfloat16", "use_cache": True, "use_sliding_window": False,
    "vocab_size": 151669,
}

GEMMA = {
    "_sliding_window_pattern": 6, "architectures": ["Gemma3TextModel"], "attention_bias": False,
    "attention_dropout": 0.0, "attn_logit_softcapping": None, "bos_token_id": 2, "eos_token_id": 1,
    "final_logit_softcapping": None, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 768,
    "initializer_range": 0.02, "intermediate_size": 1152,
    "layer_types": (["sliding_attention"] * 5 + ["full_attention"]) * 4,
    "max_position_embeddings": 2048, "model_type": "gemma3_text", "num_attention_heads": 3, "num_hidden_layers": 24,
    "num_key_value_heads": 1, "pad_token_id": 0, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06,
    "rope_local_base_freq": 10000.0, "rope_scaling": None, "rope_theta": 1000000.0, "sliding_window": 512,
    "torch_dtype": "float32", "use_bidirectional_attention": True, "use_cache": True, "vocab_size": 262144,
}


def layer_shapes(cfg, gemma):
    E, F, D = cfg["hidden_size"], cfg["intermediate_size"], cfg["head_dim"]
    Q, KV = cfg["num_attention_heads"] * D, cfg["num_key_value_heads"] * D
    out = [("embed_tokens.weight", (cfg["vocab_size"], E)), ("norm.weight", (E,))]
    for i in range(cfg["num_hidden_layers"]):
        p = "layers.%d." % i
        out += [(p + "input_layernorm.weight", (E,)), (p + "self_attn.q_proj.weight", (Q, E)),
                (p + "self_attn.k_proj.weight", (KV, E)), (p + "self_attn.v_proj.weight", (KV, E)),
                (p + "self_attn.o_proj.weight", (E, Q)), (p + "self_attn.q_norm.weight", (D,)),
                (p + "self_attn.k_norm.weight", (D,)), (p + "post_attention_layernorm.weight", (E,)),
                (p + "mlp.gate_proj.weight", (F, E)), (p + "mlp.up_proj.weight", (F, E)),
                (p + "mlp.down_proj.weight", (E, F))]
        if gemma:
            out += [(p + "pre_feedforward_layernorm.weight", (E,)), (p + "post_feedforward_layernorm.weight", (E,))]
    return out


def bf16(a):
    u = a.astype(np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)   # round to nearest even


def write_safetensors(path, shapes, seed, norm_one):
    header, off = {}, 0
    for name, s in shapes:
        n = int(np.prod(s)) * 2
        header[name] = {"dtype": "BF16", "shape": list(s), "data_offsets": [off, off + n]}
        off += n
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for name, s in shapes:
            if len(s) == 2:
                rows = 8192   # a big table in slices
                for r0 in range(0, s[0], rows):
                    r1 = min(s[0], r0 + rows)
                    f.write(bf16(rng.standard_normal((r1 - r0, s[1]), dtype=np.float32) * 0.02).tobytes())
            else:   # norms: 1 (Qwen's weight), 0 (Gemma's 1 + w)
                f.write(bf16(np.full(s, 1.0 if norm_one else 0.0, np.float32)).tobytes())
    return off // 2


def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)


def template(single, pair, specials):
    """A TemplateProcessing post-processor; pieces as "$A", "$B:1", "<eos>" or "<eos>:1"."""
    def piece(p):
        name, _, type_id = p.partition(":")
        if name.startswith("$"):
            return {"Sequence": {"id": name[1:], "type_id": int(type_id or 0)}}
        return {"SpecialToken": {"id": name, "type_id": int(type_id or 0)}}
    return {"type": "TemplateProcessing", "single": [piece(p) for p in single], "pair": [piece(p) for p in pair],
            "special_tokens": {t: {"id": t, "ids": [i], "tokens": [t]} for t, i in specials.items()}}


TOKENIZERS = {
    # (stored file, the embedding model's post-processor, tokenizer_config.json)
    "qwen3": ("qwen3/tokenizer.json.gz",
              template(["$A", "<|endoftext|>"], ["$A", "<|endoftext|>", "$B:1", "<|endoftext|>:1"], {"<|endoftext|>": 151643}),
              {"tokenizer_class": "Qwen2Tokenizer", "padding_side": "left", "model_max_length": 32768,
               "bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "unk_token": None,
               "add_prefix_space": False, "errors": "replace", "clean_up_tokenization_spaces": False}),
    "gemma": ("gemma-3/tokenizer.json.xz",
              template(["<bos>", "$A", "<eos>"], ["<bos>", "$A", "<eos>", "$B:1", "<eos>:1"], {"<bos>": 2, "<eos>": 1}),
              {"tokenizer_class": "GemmaTokenizer", "padding_side": "right", "model_max_length": 2048,
               "bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>",
               "add_bos_token": True, "add_eos_token": True, "clean_up_tokenization_spaces": False}),
}


def tokenizer_files(out, which):
    stored, post, config = TOKENIZERS[which]
    path = os.path.join(ROOT, "tests", "data", "tokenizers", stored)
    with (gzip.open if path.endswith(".gz") else lzma.open)(path, "rt", encoding="utf-8") as f:
        tok = json.load(f)
    tok["post_processor"] = post
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=2)   # as the Rust library writes it: the real file's size
    dump(os.path.join(out, "tokenizer_config.json"), config)


def gen_qwen3(out):
    os.makedirs(out, exist_ok=True)
    dump(os.path.join(out, "config.json"), QWEN3)
    tokenizer_files(out, "qwen3")
    n = write_safetensors(os.path.join(out, "model.safetensors"), layer_shapes(QWEN3, False), 1, True)
    dump(os.path.join(out, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
    dump(os.path.join(out, "1_Pooling", "config.json"), {
        "word_embedding_dimension": 1024, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": False,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": True, "include_prompt": True})
    print("%s: %d parameters" % (out, n))


def gen_gemma(out):
    os.makedirs(out, exist_ok=True)
    dump(os.path.join(out, "config.json"), GEMMA)
    tokenizer_files(out, "gemma")
    n = write_safetensors(os.path.join(out, "model.safetensors"), layer_shapes(GEMMA, True), 2, False)
    dump(os.path.join(out, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
        {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"},
        {"idx": 4, "name": "4", "path": "4_Normalize", "type": "sentence_transformers.models.Normalize"}])
    dump(os.path.join(out, "1_Pooling", "config.json"), {
        "word_embedding_dimension": 768, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True})
    dump(os.path.join(out, "sentence_bert_config.json"), {"max_seq_length": 2048, "do_lower_case": False})
    for i, (name, fin, fout) in enumerate([("2_Dense", 768, 3072), ("3_Dense", 3072, 768)]):
        dump(os.path.join(out, name, "config.json"), {"in_features": fin, "out_features": fout, "bias": False,
                                                      "activation_function": "torch.nn.modules.linear.Identity"})
        n += write_safetensors(os.path.join(out, name, "model.safetensors"), [("linear.weight", (fout, fin))], 3 + i, False)
    print("%s: %d parameters" % (out, n))


def main():
    which = sys.argv[1:] or ["qwen3", "gemma"]
    models = os.path.join(ROOT, "bench", "models")
    for w in which:
        if w == "qwen3":
            gen_qwen3(os.path.join(models, "qwen3-0.6b-shaped"))
        elif w == "gemma":
            gen_gemma(os.path.join(models, "embeddinggemma-shaped"))
        else:
            sys.exit("decoder_shaped.py: unknown model %s (qwen3, gemma)" % w)


if __name__ == "__main__":
    main()
