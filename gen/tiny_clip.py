#!/usr/bin/python3
"""The demo's bundled image model: a tiny random-weight CLIP with the real CLIP vocabulary.

    /usr/bin/python3 gen/tiny_clip.py     (Debian: python3-torch, python3-numpy; node)

Text tower: hidden 32, 2 layers, the real 49,408-token vocabulary of openai/clip-vit-base-patch32
(its tokenizer.json, from tests/data/tokenizers), 77 positions, causal attention, EOS pooling.
Vision tower: hidden 32, 2 layers, the real input pipeline (224 x 224, 32 x 32 patches, CLIP's
mean/std). Projection to 32 dimensions. Float16 safetensors in the exact HF layout (names as in
transformers' modeling_clip.py), so wembed loads it like the real model, offline, in a few MB.
The weights are random: rankings are deterministic but carry no meaning.

Writes web-demo/models/tiny-clip/, and there also expected.json: token ids from the Rust
tokenizers library (gen/ref-ids.mjs) and the projected, normalized text and image embeddings of
the independent float64 forward pass of gen/ref64.py (after modeling_clip.py), on the
float16-rounded weights (images as pixel values).
"""
import json
import math
import os
import shutil
import subprocess
import tempfile

import numpy as np
import torch

from ref64 import clip_image_embed, clip_text_embed, save_safetensors, to_float64

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..')
OUT = os.path.join(ROOT, 'web-demo', 'models', 'tiny-clip')
TOKENIZER = os.path.join(ROOT, 'tests', 'data', 'tokenizers', 'clip-vit-base-patch32', 'tokenizer.json')

TEXT = {'hidden_size': 32, 'intermediate_size': 64, 'num_hidden_layers': 2, 'num_attention_heads': 2,
        'max_position_embeddings': 77, 'vocab_size': 49408, 'hidden_act': 'quick_gelu', 'layer_norm_eps': 1e-5,
        'bos_token_id': 49406, 'eos_token_id': 49407, 'pad_token_id': 1, 'projection_dim': 32, 'model_type': 'clip_text_model'}
VISION = {'hidden_size': 32, 'intermediate_size': 64, 'num_hidden_layers': 2, 'num_attention_heads': 2,
          'image_size': 224, 'patch_size': 32, 'num_channels': 3, 'hidden_act': 'quick_gelu', 'layer_norm_eps': 1e-5,
          'projection_dim': 32, 'model_type': 'clip_vision_model'}
CONFIG = {'architectures': ['CLIPModel'], 'model_type': 'clip', 'projection_dim': 32, 'logit_scale_init_value': 2.6592,
          'text_config': TEXT, 'vision_config': VISION, 'torch_dtype': 'float16'}
PREPROCESSOR = {'crop_size': {'height': 224, 'width': 224}, 'do_center_crop': True, 'do_convert_rgb': True,
                'do_normalize': True, 'do_rescale': True, 'do_resize': True,
                'image_mean': [0.48145466, 0.4578275, 0.40821073], 'image_std': [0.26862954, 0.26130258, 0.27577711],
                'image_processor_type': 'CLIPImageProcessor', 'resample': 3, 'rescale_factor': 1 / 255,
                'size': {'shortest_edge': 224}}
TEXTS = ['a photo of a cat', 'a red sports car on a mountain road', 'Café au lait, s\'il vous plaît!', '']


def weights(rng):
    w = {}
    n = lambda *s: (rng.standard_normal(s) * 0.5).astype(np.float32)

    def tower(prefix, c):
        E, F = c['hidden_size'], c['intermediate_size']
        for i in range(c['num_hidden_layers']):
            p = f'{prefix}.encoder.layers.{i}.'
            for ln in ('layer_norm1', 'layer_norm2'):
                w[p + ln + '.weight'] = 1 + n(E) * 0.2
                w[p + ln + '.bias'] = n(E) * 0.2
            for m in ('q_proj', 'k_proj', 'v_proj', 'out_proj'):
                w[p + f'self_attn.{m}.weight'] = n(E, E) / math.sqrt(E) * 2
                w[p + f'self_attn.{m}.bias'] = n(E) * 0.2
            w[p + 'mlp.fc1.weight'] = n(F, E) / math.sqrt(E) * 2
            w[p + 'mlp.fc1.bias'] = n(F) * 0.2
            w[p + 'mlp.fc2.weight'] = n(E, F) / math.sqrt(F) * 2
            w[p + 'mlp.fc2.bias'] = n(E) * 0.2

    E = TEXT['hidden_size']
    w['text_model.embeddings.token_embedding.weight'] = n(TEXT['vocab_size'], E)
    w['text_model.embeddings.position_embedding.weight'] = n(TEXT['max_position_embeddings'], E)
    tower('text_model', TEXT)
    w['text_model.final_layer_norm.weight'] = 1 + n(E) * 0.2
    w['text_model.final_layer_norm.bias'] = n(E) * 0.2
    w['text_projection.weight'] = n(CONFIG['projection_dim'], E) / math.sqrt(E) * 2
    V, P, S = VISION['hidden_size'], VISION['patch_size'], VISION['image_size']
    w['vision_model.embeddings.class_embedding'] = n(V)
    w['vision_model.embeddings.patch_embedding.weight'] = n(V, 3, P, P) / math.sqrt(3 * P * P) * 2
    w['vision_model.embeddings.position_embedding.weight'] = n((S // P) ** 2 + 1, V)
    w['vision_model.pre_layrnorm.weight'] = 1 + n(V) * 0.2
    w['vision_model.pre_layrnorm.bias'] = n(V) * 0.2
    tower('vision_model', VISION)
    w['vision_model.post_layernorm.weight'] = 1 + n(V) * 0.2
    w['vision_model.post_layernorm.bias'] = n(V) * 0.2
    w['visual_projection.weight'] = n(CONFIG['projection_dim'], V) / math.sqrt(V) * 2
    w['logit_scale'] = np.array(CONFIG['logit_scale_init_value'], dtype=np.float32)
    return {k: v.astype(np.float16) for k, v in w.items()}


def pattern(i):
    """Pixel values (3, 224, 224) the JS test makes the same way: sin(0.05 x (i + 1) + 0.11 y + 1.3 c) * 1.5."""
    c, y, x = np.meshgrid(np.arange(3), np.arange(224), np.arange(224), indexing='ij')
    return (np.sin(0.05 * x * (i + 1) + 0.11 * y + 1.3 * c) * 1.5).astype(np.float32)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261129)
    w = weights(rng)
    save_safetensors(os.path.join(OUT, 'model.safetensors'), w, metadata={'format': 'pt'})
    with open(os.path.join(OUT, 'config.json'), 'w') as f:
        json.dump(CONFIG, f, indent=2)
        f.write('\n')
    with open(os.path.join(OUT, 'preprocessor_config.json'), 'w') as f:
        json.dump(PREPROCESSOR, f, indent=2)
        f.write('\n')
    shutil.copyfile(TOKENIZER, os.path.join(OUT, 'tokenizer.json'))

    t = to_float64(w)
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        json.dump(TEXTS, f)
        texts_path = f.name
    enc = json.loads(subprocess.check_output(['node', os.path.join(HERE, 'ref-ids.mjs'),
                                              os.path.join(OUT, 'tokenizer.json'), texts_path], cwd=ROOT))
    os.unlink(texts_path)
    texts = [{'text': s, 'ids': e['ids'], 'embedding': clip_text_embed(t, TEXT, e['ids']).tolist()} for s, e in zip(TEXTS, enc)]
    images = []
    for i in range(2):
        px = pattern(i)
        images.append({'pattern': i, 'embedding': clip_image_embed(t, VISION, torch.tensor(px.astype(np.float64))).tolist()})
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'generator': 'gen/tiny_clip.py', 'texts': texts, 'pixels': images}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
