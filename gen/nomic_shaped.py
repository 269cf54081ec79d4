#!/usr/bin/python3
"""nomic_shaped.py [out_dir] - a random-weight model with the shape of
nomic-ai/nomic-embed-text-v1.5 (137M parameters: n_embd 768, 12 layers, 12 heads, SwiGLU
n_inner 3072, vocab 30528, no biases), as config.json + model.safetensors (F32, 547 MB),
for memory and speed measurements. Default out_dir: bench/models/nomic-shaped (git-ignored).
Written tensor by tensor, so this script itself needs little memory.
"""
import json
import os
import struct
import sys

import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "models", "nomic-shaped")
os.makedirs(out, exist_ok=True)
E, F, L, V = 768, 3072, 12, 30528
config = {
    "activation_function": "swiglu", "architectures": ["NomicBertModel"], "model_type": "nomic_bert",
    "n_embd": E, "n_head": 12, "n_inner": F, "n_layer": L, "n_positions": 8192, "vocab_size": V,
    "pad_vocab_size_multiple": 64, "type_vocab_size": 2, "layer_norm_epsilon": 1e-12, "max_trained_positions": 2048,
    "rotary_emb_base": 1000, "rotary_emb_fraction": 1.0, "rotary_emb_interleaved": False, "rotary_scaling_factor": None,
    "rotary_emb_scale_base": None, "qkv_proj_bias": False, "mlp_fc1_bias": False, "mlp_fc2_bias": False,
    "prenorm": False, "causal": False, "use_rms_norm": False, "parallel_block": False,
}
json.dump(config, open(os.path.join(out, "config.json"), "w"), indent=2)
shapes = [("embeddings.word_embeddings.weight", (V, E)), ("embeddings.token_type_embeddings.weight", (2, E)),
          ("emb_ln.weight", (E,)), ("emb_ln.bias", (E,))]
for i in range(L):
    p = "encoder.layers.%d." % i
    shapes += [(p + "attn.Wqkv.weight", (3 * E, E)), (p + "attn.out_proj.weight", (E, E)),
               (p + "mlp.fc11.weight", (F, E)), (p + "mlp.fc12.weight", (F, E)), (p + "mlp.fc2.weight", (E, F)),
               (p + "norm1.weight", (E,)), (p + "norm1.bias", (E,)), (p + "norm2.weight", (E,)), (p + "norm2.bias", (E,))]
header, off = {}, 0
for name, s in shapes:
    n = int(np.prod(s)) * 4
    header[name] = {"dtype": "F32", "shape": list(s), "data_offsets": [off, off + n]}
    off += n
header["__metadata__"] = {"format": "pt"}
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
rng = np.random.default_rng(0)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    for name, s in shapes:
        a = (rng.standard_normal(s, dtype=np.float32) * 0.02) if len(s) == 2 else np.ones(s, np.float32)
        f.write(a.tobytes())
print("%s: %d parameters, %d bytes" % (out, off // 4, 8 + len(h) + off))
