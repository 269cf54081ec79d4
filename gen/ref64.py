"""ref64.py - the float64 reference forward passes the fixture generators share, and the
tiny-model pieces they have in common. Imported by e2e_fixture.py, roberta_fixture.py and
tiny_clip.py in this folder (Debian: python3-torch, python3-numpy).

  bert_weights(rng, cfg)                   a random BERT in HF names (float32), fixed draw order
  bert_forward(t, cfg, ids, ...)           HF modeling_bert.py: post-LN encoder, GELU (erf);
                                           positions and a padding mask by argument (RoBERTa)
  clip_text_embed(t, text_cfg, ids)        modeling_clip.py's text tower, EOS pooling, projection
  clip_image_embed(t, vision_cfg, pixels)  its vision tower, class token, projection
  to_float64(w)                            numpy weights -> float64 torch tensors
  save_safetensors(path, tensors, ...)     HF layout, names sorted

The forwards are written from the official modeling code, independently of the engine, and run
in float64 on the weights as stored (rounded to float16 first where the file holds float16), so
a reference differs from the engine only by the engine's own float32 rounding. `t` is a dict of
float64 tensors by HF name (without a model prefix such as "roberta.").
"""
import json
import math
import struct

import numpy as np
import torch


def to_float64(w):
    """numpy arrays by name -> float64 torch tensors by name."""
    return {k: torch.tensor(v.astype(np.float64)) for k, v in w.items()}


# -----------------------------------------------------------------------------------------
# BERT (and RoBERTa, which is BERT with other position ids)

def bert_weights(rng, cfg):
    """A random BERT of cfg's sizes, float32, in HF names. The draw order is part of the fixtures:
    changing it changes every committed file made from it."""
    E, F, V, P, L = (cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size'],
                     cfg['max_position_embeddings'], cfg['num_hidden_layers'])
    w = {}
    n = lambda *s: (rng.standard_normal(s) * 0.5).astype(np.float32)
    w['embeddings.word_embeddings.weight'] = n(V, E)
    w['embeddings.position_embeddings.weight'] = n(P, E)
    w['embeddings.token_type_embeddings.weight'] = n(cfg['type_vocab_size'], E)
    w['embeddings.LayerNorm.weight'] = 1 + n(E) * 0.2
    w['embeddings.LayerNorm.bias'] = n(E) * 0.2
    for i in range(L):
        p = f'encoder.layer.{i}.'
        for m in ('query', 'key', 'value'):
            w[p + f'attention.self.{m}.weight'] = n(E, E) / math.sqrt(E) * 2
            w[p + f'attention.self.{m}.bias'] = n(E) * 0.2
        w[p + 'attention.output.dense.weight'] = n(E, E) / math.sqrt(E) * 2
        w[p + 'attention.output.dense.bias'] = n(E) * 0.2
        w[p + 'attention.output.LayerNorm.weight'] = 1 + n(E) * 0.2
        w[p + 'attention.output.LayerNorm.bias'] = n(E) * 0.2
        w[p + 'intermediate.dense.weight'] = n(F, E) / math.sqrt(E) * 2
        w[p + 'intermediate.dense.bias'] = n(F) * 0.2
        w[p + 'output.dense.weight'] = n(E, F) / math.sqrt(F) * 2
        w[p + 'output.dense.bias'] = n(E) * 0.2
        w[p + 'output.LayerNorm.weight'] = 1 + n(E) * 0.2
        w[p + 'output.LayerNorm.bias'] = n(E) * 0.2
    return w


def bert_forward(t, cfg, ids, types=None, positions=None, mask=None):
    """Last hidden states (T, E) of one row of ids, after HF modeling_bert.py: embeddings (word +
    token type + position) and LayerNorm, then post-LN layers with GELU (erf).
    types: token type ids (default 0); positions: position ids (default 0..T-1; RoBERTa passes
    its own); mask: 1 for real tokens, 0 for padding, which no query attends to (default: all 1)."""
    E, H, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg['layer_norm_eps']
    d = E // H
    ids = torch.tensor(ids)
    types = torch.zeros_like(ids) if types is None else torch.tensor(types)
    pos = torch.arange(len(ids)) if positions is None else positions
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (E,), t[p + '.weight'], t[p + '.bias'], eps)
    lin = lambda x, p: x @ t[p + '.weight'].T + t[p + '.bias']
    x = t['embeddings.word_embeddings.weight'][ids] + t['embeddings.token_type_embeddings.weight'][types]
    x = ln(x + t['embeddings.position_embeddings.weight'][pos], 'embeddings.LayerNorm')
    # the extended attention mask: 0 to attend, a large negative number for padding keys
    bias = None if mask is None else torch.where(torch.tensor(mask, dtype=torch.bool), 0.0, -1e9).double()
    for i in range(cfg['num_hidden_layers']):
        p = f'encoder.layer.{i}.'
        q, k, v = (lin(x, p + f'attention.self.{m}').view(-1, H, d).transpose(0, 1) for m in ('query', 'key', 'value'))
        s = q @ k.transpose(1, 2) / math.sqrt(d)
        if bias is not None:
            s = s + bias
        a = (torch.softmax(s, dim=-1) @ v).transpose(0, 1).reshape(-1, E)
        x = ln(lin(a, p + 'attention.output.dense') + x, p + 'attention.output.LayerNorm')
        h = lin(x, p + 'intermediate.dense')
        h = 0.5 * h * (1 + torch.erf(h / math.sqrt(2)))
        x = ln(lin(h, p + 'output.dense') + x, p + 'output.LayerNorm')
    return x


# -----------------------------------------------------------------------------------------
# CLIP

def clip_encoder(t, prefix, c, x, causal):
    """Pre-LN transformer layers (T, E) -> (T, E), after modeling_clip.py's CLIPEncoderLayer:
    quick_gelu MLP; causal: the text tower's mask (a token sees itself and those before it)."""
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


def clip_text_embed(t, c, ids):
    """The projected, L2-normalized text embedding of one row of ids (CLIPModel.get_text_features):
    final LayerNorm, the first EOS token's row, text_projection."""
    E = c['hidden_size']
    x = t['text_model.embeddings.token_embedding.weight'][torch.tensor(ids)] + \
        t['text_model.embeddings.position_embedding.weight'][torch.arange(len(ids))]
    x = clip_encoder(t, 'text_model', c, x, causal=True)
    x = torch.nn.functional.layer_norm(x, (E,), t['text_model.final_layer_norm.weight'], t['text_model.final_layer_norm.bias'], c['layer_norm_eps'])
    pooled = x[ids.index(c['eos_token_id'])]           # the first EOS token
    v = pooled @ t['text_projection.weight'].T
    return v / v.norm()


def clip_image_embed(t, c, pixels):
    """The projected, L2-normalized image embedding of pixel values (3, S, S) (get_image_features):
    patch convolution, class token, pre-LN, encoder, post-LN of the class token, projection."""
    V, P = c['hidden_size'], c['patch_size']
    patches = torch.nn.functional.conv2d(pixels[None], t['vision_model.embeddings.patch_embedding.weight'], stride=P)
    x = torch.cat([t['vision_model.embeddings.class_embedding'][None], patches.flatten(2)[0].T], 0)
    x = x + t['vision_model.embeddings.position_embedding.weight']
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (V,), t[p + '.weight'], t[p + '.bias'], c['layer_norm_eps'])
    x = ln(x, 'vision_model.pre_layrnorm')
    x = clip_encoder(t, 'vision_model', c, x, causal=False)
    v = ln(x[0], 'vision_model.post_layernorm') @ t['visual_projection.weight'].T
    return v / v.norm()


# -----------------------------------------------------------------------------------------
# Files

SAFETENSORS_DTYPES = {np.dtype(np.float16): 'F16', np.dtype(np.float32): 'F32'}


def save_safetensors(path, tensors, prefix='', metadata=None, align=True):
    """tensors: numpy arrays by name (float16 or float32), written in name order as prefix + name.
    metadata: the "__metadata__" entry, if any; align: pad the header to a multiple of 8 bytes."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        b = a.tobytes()
        header[prefix + name] = {'dtype': SAFETENSORS_DTYPES[a.dtype], 'shape': list(a.shape),
                                 'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    if metadata is not None:
        header['__metadata__'] = metadata
    h = json.dumps(header, separators=(',', ':')).encode()
    if align:
        h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
