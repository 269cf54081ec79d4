#!/usr/bin/python3
"""The demo's bundled image model: a tiny random-weight CLIP with the real CLIP vocabulary.

    /usr/bin/python3 web-demo/models/gen_tiny_clip.py     (Debian: python3-torch, python3-numpy; node)

Text tower: hidden 32, 2 layers, the real 49,408-token vocabulary of openai/clip-vit-base-patch32
(its tokenizer.json, from tests/data/tokenizers), 77 positions, causal attention, EOS pooling.
Vision tower: hidden 32, 2 layers, the real input pipeline (224 x 224, 32 x 32 patches, CLIP's
mean/std). Projection to 32 dimensions. Float16 safetensors in the exact HF layout (names as in
transformers' modeling_clip.py), so wembed loads it like the real model, offline, in a few MB.
The weights are random: rankings are deterministic but carry no meaning.

Also writes expected.json: token ids from the Rust tokenizers library (models/e2e-ids.mjs) and
the projected, normalized text and image embeddings of an independent float64 forward pass
written here after modeling_clip.py, on the float16-rounded weights (images as pixel values).
"""
import json
import math
import os
import shutil
import struct
import subprocess
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', '..')
OUT = os.path.join(HERE, 'tiny-clip')
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


def save_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        b = a.tobytes()
        header[name] = {'dtype': 'F16', 'shape': list(a.shape), 'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    header['__metadata__'] = {'format': 'pt'}
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def encoder(t, prefix, c, x, causal):
    """Pre-LN transformer layers, after modeling_clip.py's CLIPEncoderLayer (float64)."""
    E, H, eps = c['hidden_size'], c['num_attention_heads'], c['layer_norm_eps']
    d = E // H
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (E,), t[p + '.weight'], t[p + '.bias'], eps)
    lin = lambda x, p: x @ t[p + '.weight'].T + t[p + '.bias']
    T = x.shape[0]
    mask = torch.triu(torch.full((T, T), float('-inf'), dtype=torch.float64), 1) if causal else None
    for i in range(c['num_hidden_layers']):
        p = f'{prefix}.encoder.layers.{i}.'
        h = ln(x, p + 'layer_norm1')
        q, k, v = (lin(h, p + f'self_attn.{m}').view(T, H, d).transpose(0, 1) for m in ('q_proj', 'k_proj', 'v_proj'))
        s = q @ k.transpose(1, 2) / math.sqrt(d)
        if mask is not None:
            s = s + mask
        a = (torch.softmax(s, dim=-1) @ v).transpose(0, 1).reshape(T, E)
        x = x + lin(a, p + 'self_attn.out_proj')
        h = lin(ln(x, p + 'layer_norm2'), p + 'mlp.fc1')
        h = h * torch.sigmoid(1.702 * h)
        x = x + lin(h, p + 'mlp.fc2')
    return x


def text_embed(t, ids):
    E = TEXT['hidden_size']
    x = t['text_model.embeddings.token_embedding.weight'][torch.tensor(ids)] + \
        t['text_model.embeddings.position_embedding.weight'][torch.arange(len(ids))]
    x = encoder(t, 'text_model', TEXT, x, causal=True)
    x = torch.nn.functional.layer_norm(x, (E,), t['text_model.final_layer_norm.weight'], t['text_model.final_layer_norm.bias'], TEXT['layer_norm_eps'])
    pooled = x[ids.index(TEXT['eos_token_id'])]           # the first EOS token
    v = pooled @ t['text_projection.weight'].T
    return v / v.norm()


def image_embed(t, pixels):
    V, P = VISION['hidden_size'], VISION['patch_size']
    patches = torch.nn.functional.conv2d(pixels[None], t['vision_model.embeddings.patch_embedding.weight'], stride=P)
    x = torch.cat([t['vision_model.embeddings.class_embedding'][None], patches.flatten(2)[0].T], 0)
    x = x + t['vision_model.embeddings.position_embedding.weight']
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (V,), t[p + '.weight'], t[p + '.bias'], VISION['layer_norm_eps'])
    x = ln(x, 'vision_model.pre_layrnorm')
    x = encoder(t, 'vision_model', VISION, x, causal=False)
    v = ln(x[0], 'vision_model.post_layernorm') @ t['visual_projection.weight'].T
    return v / v.norm()


def pattern(i):
    """Pixel values (3, 224, 224) the JS test makes the same way: sin(0.05 x (i + 1) + 0.11 y + 1.3 c) * 1.5."""
    c, y, x = np.meshgrid(np.arange(3), np.arange(224), np.arange(224), indexing='ij')
    return (np.sin(0.05 * x * (i + 1) + 0.11 * y + 1.3 * c) * 1.5).astype(np.float32)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261129)
    w = weights(rng)
    save_safetensors(os.path.join(OUT, 'model.safetensors'), w)
    with open(os.path.join(OUT, 'config.json'), 'w') as f:
        json.dump(CONFIG, f, indent=2)
        f.write('\n')
    with open(os.path.join(OUT, 'preprocessor_config.json'), 'w') as f:
        json.dump(PREPROCESSOR, f, indent=2)
        f.write('\n')
    shutil.copyfile(TOKENIZER, os.path.join(OUT, 'tokenizer.json'))

    t = {k: torch.tensor(v.astype(np.float64)) for k, v in w.items()}
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        json.dump(TEXTS, f)
        texts_path = f.name
    enc = json.loads(subprocess.check_output(['node', os.path.join(ROOT, 'models', 'e2e-ids.mjs'),
                                              os.path.join(OUT, 'tokenizer.json'), texts_path], cwd=ROOT))
    os.unlink(texts_path)
    texts = [{'text': s, 'ids': e['ids'], 'embedding': text_embed(t, e['ids']).tolist()} for s, e in zip(TEXTS, enc)]
    images = []
    for i in range(2):
        px = pattern(i)
        images.append({'pattern': i, 'embedding': image_embed(t, torch.tensor(px.astype(np.float64))).tolist()})
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'generator': 'web-demo/models/gen_tiny_clip.py', 'texts': texts, 'pixels': images}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
