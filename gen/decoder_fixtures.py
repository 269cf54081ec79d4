#!/usr/bin/python3
"""Tiny Qwen3-Embedding and EmbeddingGemma fixtures with what the shared qwen3_embed and
embeddinggemma fixtures do not cover.

    /usr/bin/python3 gen/decoder_fixtures.py     (Debian: python3-torch, python3-numpy)

Writes, in the format of tests/data/fixtures/README.md (manifest.json with roles, raw
little-endian .bin tensors):

  qwen3_own          Qwen3-Embedding-0.6B layout (flat Qwen3Model names, modules.json ->
                     1_Pooling lasttoken -> 2_Normalize, config_sentence_transformers.json with the
                     model card's query prompt, generation_config.json); ONE key/value head for 4
                     query heads, head_dim 16 (4 x 16 != 40); the same rows RIGHT and LEFT padded
                     (the end id is the pad id), and one unpadded row.
  gemma_own          embeddinggemma-300m layout (Gemma3TextModel names, 1_Pooling mean -> 2_Dense ->
                     3_Dense -> 4_Normalize, both Dense Identity without bias); ONE key/value head,
                     head_dim 12 (4 x 12 != 40), query_pre_attn_scalar = head_dim (so that llama.cpp's
                     GGUF semantics give the same numbers: tests/data/gguf), no layer_types (sliding
                     unless (i + 1) % sliding_window_pattern == 0), sliding_window 6 (|i - j| <= 3):
                     rows of 3, 4, 5 and 30 tokens (below, at, just above and far above the
                     window) and one of 50.
  gemma_causal_bf16  a plain causal Gemma 3 checkpoint (Gemma3ForCausalLM: "model." names,
                     use_bidirectional_attention false, final_logit_softcapping 30) stored in
                     bfloat16 (torch_dtype bfloat16: the embedding scale is bf16(sqrt(40)) = 6.3125),
                     2 key/value heads, explicit layer_types, sliding_window 5 (causal: the last 5
                     keys), with sentence-transformers files around it: Pooling lasttoken ->
                     2_Dense (bias, Tanh) -> 3_Dense (Identity, no bias) -> Normalize, to cover the
                     generic Dense module options.

Expected outputs come from an independent float64 torch forward written from transformers'
modeling_qwen3.py / modeling_gemma3.py / configuration_gemma3.py / masking_utils.py (4.57) and
sentence-transformers' Pooling.py / Dense.py / Normalize.py, never from wembed: RoPE tables in
float32 as HF builds them, everything else in float64 on the stored weights (bf16 weights are
used as their rounded values), stored as float32. Re-running writes identical files.
"""
import json
import math
import os
import struct

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
FIXTURES = os.path.join(ROOT, 'tests', 'data', 'fixtures')
NEG = torch.finfo(torch.float64).min


# -----------------------------------------------------------------------------------------
# The reference, float64

def rope_tables(S, d, base):
    """Qwen3RotaryEmbedding / Gemma3RotaryEmbedding (default rope type): inv_freq and the
    angles in float32, positions arange(S) (position_ids = cache_position), cos/sin of
    cat(freqs, freqs); then used in float64."""
    inv_freq = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    pos = torch.arange(S, dtype=torch.int64).float()
    freqs = (inv_freq[:, None].float() @ pos[None, :].float()).transpose(0, 1)    # (S, d/2) float32
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().double(), emb.sin().double()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rms_norm(x, w, eps, offset):
    """Qwen3RMSNorm (offset 0): w * x rsqrt(mean x^2 + eps); Gemma3RMSNorm (offset 1): (1 + w)."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (offset + w)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def attention(q, k, v, allowed, scale):
    """eager_attention_forward: q (B, H, S, d), k / v (B, KV, S, d) repeated with repeat_kv
    (query head h reads kv head h // n_rep), scores * scaling + mask (finfo.min where not
    allowed), softmax, @ v. allowed (B, S, S) bool, [b, i, j]: query i may see key j."""
    n_rep = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(n_rep, dim=1)
    v = v.repeat_interleave(n_rep, dim=1)
    scores = q @ k.transpose(-1, -2) * scale
    scores = scores + torch.zeros(allowed.shape, dtype=torch.float64).masked_fill(~allowed, NEG)[:, None, :, :]
    return torch.softmax(scores, dim=-1) @ v


def masks(mask, kind, window=None):
    """masking_utils: padding mask (keys with attention_mask 0 never seen) AND
      causal                 kv <= q
      causal_sliding         kv <= q and kv > q - window          (sliding_window_overlay)
      bidirectional          every key
      bidirectional_sliding  |q - kv| < window  (window = sliding_window // 2 + 1, HF's config)"""
    S = mask.shape[1]
    i = torch.arange(S)[:, None]
    j = torch.arange(S)[None, :]
    if kind == 'causal':
        a = j <= i
    elif kind == 'causal_sliding':
        a = (j <= i) & (j > i - window)
    elif kind == 'bidirectional':
        a = torch.ones(S, S, dtype=torch.bool)
    else:
        a = (i - j).abs() < window
    return a[None, :, :] & torch.from_numpy(mask).bool()[:, None, :]


def qwen3_forward(cfg, w, ids, mask):
    """Qwen3Model: last_hidden_state (B, S, E)."""
    E, H, KV, d, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim'], cfg['rms_norm_eps']
    t = {k: torch.from_numpy(v.astype(np.float64)) for k, v in w.items()}
    B, S = ids.shape
    x = t['embed_tokens.weight'][torch.from_numpy(ids).long()]
    cos, sin = rope_tables(S, d, cfg['rope_theta'])
    allowed = masks(mask, 'causal')
    for il in range(cfg['num_hidden_layers']):
        p = f'layers.{il}.'
        lin = lambda a, n: a @ t[p + n + '.weight'].T
        h = rms_norm(x, t[p + 'input_layernorm.weight'], eps, 0.0)
        q = rms_norm(lin(h, 'self_attn.q_proj').view(B, S, H, d), t[p + 'self_attn.q_norm.weight'], eps, 0.0).transpose(1, 2)
        k = rms_norm(lin(h, 'self_attn.k_proj').view(B, S, KV, d), t[p + 'self_attn.k_norm.weight'], eps, 0.0).transpose(1, 2)
        v = lin(h, 'self_attn.v_proj').view(B, S, KV, d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        a = attention(q, k, v, allowed, d ** -0.5).transpose(1, 2).reshape(B, S, H * d)
        x = x + lin(a, 'self_attn.o_proj')
        h = rms_norm(x, t[p + 'post_attention_layernorm.weight'], eps, 0.0)
        x = x + lin(torch.nn.functional.silu(lin(h, 'mlp.gate_proj')) * lin(h, 'mlp.up_proj'), 'mlp.down_proj')
    return rms_norm(x, t['norm.weight'], eps, 0.0)


def gemma3_layer_types(cfg):
    if cfg.get('layer_types') is not None:
        return cfg['layer_types']
    pattern = cfg.get('sliding_window_pattern', 6)
    return ['sliding_attention' if (i + 1) % pattern else 'full_attention' for i in range(cfg['num_hidden_layers'])]


def gemma3_forward(cfg, w, ids, mask, weight_dtype):
    """Gemma3TextModel: last_hidden_state (B, S, E). weight_dtype: the checkpoint's torch dtype
    (the embedding scale is cast to it)."""
    E, H, KV, d, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim'], cfg['rms_norm_eps']
    t = {k: torch.from_numpy(v.astype(np.float64)) for k, v in w.items()}
    B, S = ids.shape
    bidir = cfg['use_bidirectional_attention']
    # Gemma3TextConfig.__post_init__: the bidirectional models' exclusive half window
    sw = cfg['sliding_window'] // 2 + 1 if bidir else cfg['sliding_window']
    scale_t = torch.tensor(cfg['hidden_size'] ** 0.5).to(weight_dtype)       # embed_scale.to(weight.dtype)
    x = t['embed_tokens.weight'][torch.from_numpy(ids).long()] * float(scale_t)
    cos_g, sin_g = rope_tables(S, d, cfg['rope_theta'])
    cos_l, sin_l = rope_tables(S, d, cfg['rope_local_base_freq'])
    full = masks(mask, 'bidirectional' if bidir else 'causal')
    slide = masks(mask, 'bidirectional_sliding' if bidir else 'causal_sliding', sw)
    kinds = gemma3_layer_types(cfg)
    for il in range(cfg['num_hidden_layers']):
        p = f'layers.{il}.'
        lin = lambda a, n: a @ t[p + n + '.weight'].T
        sliding = kinds[il] == 'sliding_attention'
        cos, sin = (cos_l, sin_l) if sliding else (cos_g, sin_g)
        h = rms_norm(x, t[p + 'input_layernorm.weight'], eps, 1.0)
        q = rms_norm(lin(h, 'self_attn.q_proj').view(B, S, H, d), t[p + 'self_attn.q_norm.weight'], eps, 1.0).transpose(1, 2)
        k = rms_norm(lin(h, 'self_attn.k_proj').view(B, S, KV, d), t[p + 'self_attn.k_norm.weight'], eps, 1.0).transpose(1, 2)
        v = lin(h, 'self_attn.v_proj').view(B, S, KV, d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        a = attention(q, k, v, slide if sliding else full, cfg['query_pre_attn_scalar'] ** -0.5)
        a = lin(a.transpose(1, 2).reshape(B, S, H * d), 'self_attn.o_proj')
        x = x + rms_norm(a, t[p + 'post_attention_layernorm.weight'], eps, 1.0)
        h = rms_norm(x, t[p + 'pre_feedforward_layernorm.weight'], eps, 1.0)
        h = lin(gelu_tanh(lin(h, 'mlp.gate_proj')) * lin(h, 'mlp.up_proj'), 'mlp.down_proj')
        x = x + rms_norm(h, t[p + 'post_feedforward_layernorm.weight'], eps, 1.0)
    return rms_norm(x, t['norm.weight'], eps, 1.0)


# sentence-transformers modules

def pool_mean(h, mask):
    m = torch.from_numpy(mask).double()[:, :, None]
    return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)


def pool_last(h, mask):
    """Pooling lasttoken: the last index whose attention_mask is 1 (flip + max)."""
    m = torch.from_numpy(mask)
    values, indices = m.flip(1).max(1)
    idx = torch.where(values == 0, h.shape[1] - 1, indices)
    idx = h.shape[1] - idx - 1
    return h[torch.arange(h.shape[0]), idx], idx


def dense(x, w, b, act):
    y = x @ torch.from_numpy(w.astype(np.float64)).T
    if b is not None:
        y = y + torch.from_numpy(b.astype(np.float64))
    return torch.tanh(y) if act == 'tanh' else y


def l2(x):
    return torch.nn.functional.normalize(x, p=2, dim=-1)


# -----------------------------------------------------------------------------------------
# Writers

def bf16_round(a):
    return torch.from_numpy(a).to(torch.bfloat16).float().numpy()


def write_safetensors(path, tensors, dtype='F32'):
    header, off, blobs = {}, 0, []
    for k in sorted(tensors):
        a = tensors[k]
        if dtype == 'BF16':
            b = torch.from_numpy(np.ascontiguousarray(a)).to(torch.bfloat16).view(torch.int16).numpy().astype('<i2').tobytes()
        else:
            b = a.astype('<f4').tobytes()
        header[k] = {'dtype': dtype, 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


def pooling_config(E, mode):
    return {'word_embedding_dimension': E, 'pooling_mode_cls_token': False, 'pooling_mode_mean_tokens': mode == 'mean',
            'pooling_mode_max_tokens': False, 'pooling_mode_mean_sqrt_len_tokens': False,
            'pooling_mode_weightedmean_tokens': False, 'pooling_mode_lasttoken': mode == 'lasttoken', 'include_prompt': True}


def modules(names):
    return [{'idx': i, 'name': str(i), 'path': p, 'type': 'sentence_transformers.models.' + t} for i, (p, t) in enumerate(names)]


def decoder_weights(cfg, seed, gemma):
    """Projections N(0, 0.08), embeddings N(0, 0.1); norm weights: Qwen3 1 + N(0, 0.15) (used as
    stored), Gemma offsets N(0, 0.15) (used as 1 + w)."""
    rs = np.random.RandomState(seed)
    E, F, V, H, KV, d = (cfg[k] for k in ('hidden_size', 'intermediate_size', 'vocab_size', 'num_attention_heads',
                                          'num_key_value_heads', 'head_dim'))
    n = lambda s, *shape: (rs.standard_normal(shape) * s).astype(np.float32)
    norm = (lambda *shape: n(0.15, *shape)) if gemma else (lambda *shape: 1 + n(0.15, *shape))
    w = {'embed_tokens.weight': n(0.1, V, E)}
    for il in range(cfg['num_hidden_layers']):
        p = f'layers.{il}.'
        w[p + 'input_layernorm.weight'] = norm(E)
        w[p + 'self_attn.q_proj.weight'] = n(0.08, H * d, E)
        w[p + 'self_attn.k_proj.weight'] = n(0.08, KV * d, E)
        w[p + 'self_attn.v_proj.weight'] = n(0.08, KV * d, E)
        w[p + 'self_attn.o_proj.weight'] = n(0.08, E, H * d)
        w[p + 'self_attn.q_norm.weight'] = norm(d)
        w[p + 'self_attn.k_norm.weight'] = norm(d)
        w[p + 'post_attention_layernorm.weight'] = norm(E)
        if gemma:
            w[p + 'pre_feedforward_layernorm.weight'] = norm(E)
            w[p + 'post_feedforward_layernorm.weight'] = norm(E)
        w[p + 'mlp.gate_proj.weight'] = n(0.08, F, E)
        w[p + 'mlp.up_proj.weight'] = n(0.08, F, E)
        w[p + 'mlp.down_proj.weight'] = n(0.08, E, F)
    w['norm.weight'] = norm(E)
    return w


def rows(rs, lengths, V, first, last, pad, S=None, left=False):
    """Rows of random ids in [3, V - 2): [first] body [last] (first None: none), padded with pad
    on the right (or on the left) to S."""
    S = S or max(lengths)
    ids = np.full((len(lengths), S), pad, np.int32)
    mask = np.zeros((len(lengths), S), np.int32)
    for b, n in enumerate(lengths):
        body = list(rs.randint(3, V - 2, n - (first is not None) - 1))
        r = ([first] if first is not None else []) + body + [last]
        r = r[-n:]
        at = S - n if left else 0
        ids[b, at:at + n] = r
        mask[b, at:at + n] = 1
    return ids, mask


class Fixture:
    def __init__(self, name, cfg, note):
        self.name, self.cfg, self.note = name, cfg, note
        self.dir = os.path.join(FIXTURES, name)
        self.cases = []
        os.makedirs(self.dir, exist_ok=True)

    def tensor(self, case, tname, arr, role, desc):
        fname = f'{case}.{tname}.bin'
        dtype = 'int32' if arr.dtype == np.int32 else 'float32'
        arr.astype('<i4' if dtype == 'int32' else '<f4').tofile(os.path.join(self.dir, fname))
        return tname, {'file': fname, 'dtype': dtype, 'shape': list(arr.shape), 'desc': desc, 'role': role}

    def case(self, name, desc, ids, mask, pad_desc, hidden, outputs):
        ts = [self.tensor(name, 'input_ids', ids, 'input', f'token ids [B,S] ({pad_desc})'),
              self.tensor(name, 'attention_mask', mask, 'input', '1 = real token, 0 = padding'),
              self.tensor(name, 'last_hidden_state', hidden.astype(np.float32), 'expected',
                          'final norm output [B,S,D]; compare where attention_mask==1')]
        for tname, (arr, tdesc) in outputs.items():
            ts.append(self.tensor(name, tname, np.asarray(arr, dtype=np.int32 if tname.endswith('index') else np.float32),
                                  'optional' if tname.endswith('index') else 'expected', tdesc))
        self.cases.append({'name': name, 'desc': desc, 'tensors': dict(ts)})

    def readme(self, title, points, reference, seeds):
        lines = [f'# {self.name}: {title}', '', 'Written by `gen/decoder_fixtures.py` (re-run it to regenerate; the files '
                 'come out identical). ' + self.note[0].upper() + self.note[1:] + '.', '', '## Cases', '', '| case | what |', '|---|---|']
        lines += [f"| `{c['name']}` | {c['desc']} |" for c in self.cases]
        lines += ['', 'Inputs: `input_ids`, `attention_mask`. Expected: every other tensor but `*_index` (optional) (format, '
                  'roles and tolerances: `../README.md`; hidden states only where attention_mask == 1).',
                  '', '## What it checks', '']
        lines += [f'{i + 1}. {p}' for i, p in enumerate(points)]
        lines += ['', '## Reference', '', reference, '', '## Seeds', '', seeds, '']
        with open(os.path.join(self.dir, 'README.md'), 'w') as f:
            f.write('\n'.join(lines))

    def finish(self, extra):
        manifest = {
            'model': self.name, 'model_type': self.cfg['model_type'], 'note': self.note,
            'generator': 'gen/decoder_fixtures.py',
            'format': 'every .bin is raw little-endian, row-major (C order); shapes in elements',
            'reference': 'independent float64 torch forward following transformers modeling_qwen3.py / modeling_gemma3.py '
                         '(4.57) and the sentence-transformers modules (gen/decoder_fixtures.py), RoPE tables in '
                         'float32 like HF, rounded to float32 on save',
            'roles': {'input': 'feed to the engine', 'expected': 'the engine must produce it and match',
                      'optional': 'compared only when the engine reports it'},
            'tolerances': {'float_max_abs': 1e-4, 'embedding_min_row_cosine': 0.99999},
            'cases': self.cases,
        }
        manifest.update(extra)
        write_json(os.path.join(self.dir, 'manifest.json'), manifest)


def np32(t):
    return t.numpy().astype(np.float32)


# -----------------------------------------------------------------------------------------

def gen_qwen3():
    cfg = {
        'architectures': ['Qwen3ForCausalLM'], 'attention_bias': False, 'attention_dropout': 0.0,
        'bos_token_id': 299, 'eos_token_id': 299, 'head_dim': 16, 'hidden_act': 'silu', 'hidden_size': 40,
        'initializer_range': 0.02, 'intermediate_size': 72, 'max_position_embeddings': 32768, 'max_window_layers': 2,
        'model_type': 'qwen3', 'num_attention_heads': 4, 'num_hidden_layers': 2, 'num_key_value_heads': 1,
        'rms_norm_eps': 1e-06, 'rope_scaling': None, 'rope_theta': 1000000, 'sliding_window': None,
        'tie_word_embeddings': True, 'torch_dtype': 'float32', 'transformers_version': '4.51.3', 'use_cache': True,
        'use_sliding_window': False, 'vocab_size': 300,
    }
    fx = Fixture('qwen3_own', cfg, 'Qwen3-Embedding-0.6B layout: hidden 40, 2 layers, 4 query heads and ONE key/value '
                 'head, head_dim 16 (4 x 16 = 64 != 40), intermediate 72, vocab 300, rope_theta 1e6, rms_norm_eps 1e-6, '
                 'flat Qwen3Model names; id 299 plays <|endoftext|>: it ends every row and is the pad id; '
                 'sentence-transformers Transformer -> Pooling(lasttoken) -> Normalize')
    w = decoder_weights(cfg, 33001, gemma=False)
    write_safetensors(os.path.join(fx.dir, 'model.safetensors'), w)
    write_json(os.path.join(fx.dir, 'config.json'), cfg)
    write_json(os.path.join(fx.dir, 'generation_config.json'), {'bos_token_id': 299, 'eos_token_id': 299, 'max_new_tokens': 2048,
                                                                 'transformers_version': '4.51.3'})
    write_json(os.path.join(fx.dir, 'modules.json'), modules([('', 'Transformer'), ('1_Pooling', 'Pooling'),
                                                               ('2_Normalize', 'Normalize')]))
    write_json(os.path.join(fx.dir, '1_Pooling', 'config.json'), pooling_config(40, 'lasttoken'))
    write_json(os.path.join(fx.dir, 'config_sentence_transformers.json'), {
        'prompts': {'query': 'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:',
                    'document': ''}, 'default_prompt_name': None, 'similarity_fn_name': 'cosine'})

    rs = np.random.RandomState(33002)
    lengths = [33, 12, 4, 1]
    ids_r, mask_r = rows(rs, lengths, 300, None, 299, 299)
    ids_l, mask_l = np.full_like(ids_r, 299), np.zeros_like(mask_r)
    S = ids_r.shape[1]
    for b, n in enumerate(lengths):   # the same texts, left padded
        ids_l[b, S - n:] = ids_r[b, :n]
        mask_l[b, S - n:] = 1
    ids_1, mask_1 = rows(rs, [70], 300, None, 299, 299)
    cases = [('right_padded', '4 rows of 33, 12, 4 and 1 tokens (the 1-token row is the end token alone), RIGHT padded with '
              'the end/pad id 299', ids_r, mask_r, 'right padded with 299'),
             ('left_padded', 'the same 4 rows LEFT padded (HF keeps position_ids = arange(S): a row sits at S-n..S-1); pooled '
              'outputs equal right_padded row by row up to rounding', ids_l, mask_l, 'left padded with 299'),
             ('single70', 'one unpadded 70-token row', ids_1, mask_1, 'no padding')]
    pooled = {}
    for name, desc, ids, mask, pad_desc in cases:
        h = qwen3_forward(cfg, w, ids, mask)
        last, idx = pool_last(h, mask)
        h = h * torch.from_numpy(mask).double()[:, :, None]
        pooled[name] = last
        fx.case(name, desc, ids, mask, pad_desc, np32(h), {
            'last_token_index': (idx.numpy(), 'the row of the last attention_mask == 1 position (Pooling lasttoken) [B]'),
            'last_pooled': (np32(last), 'last_hidden_state at last_token_index [B,D]'),
            'last_pooled_normalized': (np32(l2(last)), 'L2(last_pooled)'),
            'sentence_embedding': (np32(last), "the model's own modules: Pooling(lasttoken), before Normalize"),
            'sentence_embedding_normalized': (np32(l2(last)), 'sentence-transformers: Pooling(lasttoken) -> Normalize'),
            'matryoshka_32': (np32(l2(last[:, :32])), 'L2(last_pooled[:, :32])'),
            'matryoshka_16': (np32(l2(last[:, :16])), 'L2(last_pooled[:, :16])'),
        })
    assert (pooled['left_padded'] - pooled['right_padded']).abs().max() < 1e-5
    fx.readme('Qwen3-Embedding layout, one key/value head, left and right padding', [
        'CAUSAL attention with the padding mask; with LEFT padding the padded queries and keys come first and the real '
        'tokens sit at positions S-n..S-1 (position_ids = arange(S)); RoPE is relative, so the pooled vectors equal the '
        'right-padded ones up to rounding.',
        'Last-token pooling = the last position whose attention_mask is 1 (its id equals the pad id 299), wherever the '
        'padding is; a 1-token row is the end token alone.',
        'Grouped-query attention with ONE key/value head for 4 query heads (repeat_kv), head_dim 16 from the config '
        '(q_proj 64 x 40, o_proj 40 x 64); scale head_dim^-0.5.',
        'RMSNorm x rsqrt(mean x^2 + eps) w (weights 1 + N(0, 0.15), used as stored), q_norm / k_norm per head BEFORE RoPE.',
        'RoPE half-split, base 1e6, float32 tables; SwiGLU down(silu(gate) * up); final norm.',
        'Matryoshka 32 / 16 = L2(last_pooled[:, :d]).'],
        'An independent float64 torch forward written from transformers `models/qwen3/modeling_qwen3.py` (Qwen3RMSNorm, '
        'Qwen3Attention with repeat_kv and eager attention, Qwen3MLP, Qwen3RotaryEmbedding) and `masking_utils.py` '
        '(causal + padding mask), and sentence-transformers `Pooling.py` (lasttoken), on the float32 weights, stored as '
        'float32.',
        'numpy `RandomState(33001)` for the weights (projections N(0, 0.08), embeddings N(0, 0.1), norms 1 + N(0, 0.15)), '
        '`RandomState(33002)` for the inputs.')
    fx.finish({'pooling': 'lasttoken', 'matryoshka_dims': [32, 16], 'pad_token_id_used': 299})


def gemma_cfg(**over):
    cfg = {
        'architectures': ['Gemma3TextModel'], 'attention_bias': False, 'attention_dropout': 0.0,
        'attn_logit_softcapping': None, 'bos_token_id': 2, 'eos_token_id': 1, 'final_logit_softcapping': None,
        'head_dim': 12, 'hidden_activation': 'gelu_pytorch_tanh', 'hidden_size': 40, 'initializer_range': 0.02,
        'intermediate_size': 64, 'max_position_embeddings': 2048, 'model_type': 'gemma3_text', 'num_attention_heads': 4,
        'num_hidden_layers': 3, 'num_key_value_heads': 1, 'pad_token_id': 0, 'query_pre_attn_scalar': 12,
        'rms_norm_eps': 1e-06, 'rope_local_base_freq': 10000.0, 'rope_scaling': None, 'rope_theta': 1000000.0,
        'sliding_window': 6, 'sliding_window_pattern': 3, 'torch_dtype': 'float32', 'transformers_version': '4.57.0.dev0',
        'use_bidirectional_attention': True, 'use_cache': True, 'vocab_size': 300,
    }
    cfg.update(over)
    return cfg


def dense_weights(rs, n_in, n_out, bias):
    w = (rs.standard_normal((n_out, n_in)) * 0.08).astype(np.float32)
    b = (rs.standard_normal(n_out) * 0.05).astype(np.float32) if bias else None
    return w, b


def write_dense(fx, path, w, b, act):
    t = {'linear.weight': w}
    if b is not None:
        t['linear.bias'] = b
    write_safetensors(os.path.join(fx.dir, path, 'model.safetensors'), t)
    write_json(os.path.join(fx.dir, path, 'config.json'), {
        'in_features': int(w.shape[1]), 'out_features': int(w.shape[0]), 'bias': b is not None,
        'activation_function': 'torch.nn.modules.activation.Tanh' if act == 'tanh' else 'torch.nn.modules.linear.Identity'})


def gemma_outputs(pooled, mean, denses, dims):
    """The sentence-transformers head: pooled -> Dense... -> sentence_embedding (-> Normalize)."""
    x = pooled
    for w, b, act in denses:
        x = dense(x, w, b, act)
    out = {'sentence_embedding': (np32(x), "the model's own modules: Pooling -> Dense modules, before Normalize"),
           'sentence_embedding_normalized': (np32(l2(x)), 'sentence-transformers encode: ... -> Normalize')}
    if mean is not None:
        out['mean_pooled'] = (np32(mean), 'masked mean of last_hidden_state [B,D]: the pooling alone (no Dense)')
    for d in dims:
        out[f'matryoshka_{d}'] = (np32(l2(x[:, :d])), f'L2(sentence_embedding[:, :{d}]) (truncate, then normalize)')
    return out


def gen_gemma_own():
    cfg = gemma_cfg()
    fx = Fixture('gemma_own', cfg, 'embeddinggemma-300m layout: hidden 40, 3 layers (no layer_types: sliding_window_pattern 3 '
                 'gives [sliding, sliding, full]), 4 query heads and ONE key/value head, head_dim 12 (4 x 12 = 48 != 40), '
                 'query_pre_attn_scalar 12, intermediate 64, vocab 300, sliding_window 6 (bidirectional: |i-j| <= 3), '
                 'rope 1e6 / 1e4; Pooling mean -> 2_Dense (40 -> 96) -> 3_Dense (96 -> 40), both Identity without bias, '
                 '-> Normalize; [bos] body [eos], pad 0')
    w = decoder_weights(cfg, 44001, gemma=True)
    write_safetensors(os.path.join(fx.dir, 'model.safetensors'), w)
    write_json(os.path.join(fx.dir, 'config.json'), cfg)
    write_json(os.path.join(fx.dir, 'modules.json'), modules([('', 'Transformer'), ('1_Pooling', 'Pooling'), ('2_Dense', 'Dense'),
                                                               ('3_Dense', 'Dense'), ('4_Normalize', 'Normalize')]))
    write_json(os.path.join(fx.dir, '1_Pooling', 'config.json'), pooling_config(40, 'mean'))
    write_json(os.path.join(fx.dir, 'sentence_bert_config.json'), {'max_seq_length': 2048, 'do_lower_case': False})
    write_json(os.path.join(fx.dir, 'config_sentence_transformers.json'), {
        'prompts': {'query': 'task: search result | query: ', 'document': 'title: none | text: '},
        'default_prompt_name': None, 'similarity_fn_name': 'cosine'})
    rs = np.random.RandomState(44003)
    d2 = dense_weights(rs, 40, 96, False) + ('identity',)
    d3 = dense_weights(rs, 96, 40, False) + ('identity',)
    write_dense(fx, '2_Dense', d2[0], None, 'identity')
    write_dense(fx, '3_Dense', d3[0], None, 'identity')

    rs = np.random.RandomState(44002)
    cases = [('batch_window', '4 rows of 30, 5, 4 and 3 tokens RIGHT padded with 0: the 3- and 4-token rows fit in the '
              'sliding window (T - 1 <= 3), the 5-token row just exceeds it, the 30-token row far', [30, 5, 4, 3]),
             ('len50', 'one unpadded 50-token row', [50])]
    for name, desc, lengths in cases:
        ids, mask = rows(rs, lengths, 300, 2, 1, 0)
        h = gemma3_forward(cfg, w, ids, mask, torch.float32)
        mean = pool_mean(h, mask)
        h = h * torch.from_numpy(mask).double()[:, :, None]
        fx.case(name, desc, ids, mask, 'right padded with 0', np32(h), gemma_outputs(mean, mean, [d2, d3], [32, 16]))
    fx.readme('EmbeddingGemma layout, one key/value head, rows below / at / above the sliding window', [
        'Bidirectional attention; sliding layers see |i - j| <= sliding_window // 2 = 3 (HF: sliding_window // 2 + 1, '
        'exclusive); rows of 3 and 4 tokens lie inside the window, 5 just past it, 30 and 50 far past it.',
        'No layer_types in config.json: layer i slides unless (i + 1) % sliding_window_pattern (3) == 0: [sliding, '
        'sliding, full]; RoPE base 1e4 on sliding layers, 1e6 on the full one.',
        'Grouped-query attention with ONE key/value head for 4 query heads; head_dim 12 from the config; scale '
        'query_pre_attn_scalar^-0.5 (12 here, equal to head_dim: llama.cpp\'s GGUF semantics give the same numbers).',
        'Embedding times sqrt(40) in float32; Gemma RMSNorm (1 + w) in the four sandwich norms, q/k norms and the final '
        'norm; GeGLU with the tanh GELU.',
        'Mean pooling over real tokens (mean_pooled: the pooling alone) -> 2_Dense (40 -> 96) -> 3_Dense (96 -> 40), '
        'Identity, no bias (sentence_embedding) -> Normalize; Matryoshka 32 / 16 = L2(sentence_embedding[:, :d]).'],
        'An independent float64 torch forward written from transformers `models/gemma3/modeling_gemma3.py` '
        '(Gemma3TextScaledWordEmbedding, Gemma3RMSNorm, Gemma3Attention, Gemma3MLP, Gemma3TextModel with its two rotary '
        'embeddings), `configuration_gemma3.py` (4.57: the bidirectional window) and `masking_utils.py`, and '
        'sentence-transformers `Pooling.py`, `Dense.py`, `Normalize.py`, on the float32 weights, stored as float32.',
        'numpy `RandomState(44001)` for the transformer (projections N(0, 0.08), embeddings N(0, 0.1), norm offsets '
        'N(0, 0.15)), `RandomState(44003)` for the Dense layers (N(0, 0.08)), `RandomState(44002)` for the inputs.')
    fx.finish({'pooling': 'mean', 'matryoshka_dims': [32, 16], 'effective_sliding_window': {
        'config_sliding_window': 6, 'hf_internal_sliding_window': 4, 'rule': '|q_idx - kv_idx| <= 3 on sliding layers'}})


def gen_gemma_causal():
    cfg = gemma_cfg(architectures=['Gemma3ForCausalLM'], num_key_value_heads=2, query_pre_attn_scalar=16,
                    final_logit_softcapping=30.0, sliding_window=5, torch_dtype='bfloat16',
                    use_bidirectional_attention=False,
                    layer_types=['sliding_attention', 'full_attention', 'sliding_attention'])
    del cfg['sliding_window_pattern']
    fx = Fixture('gemma_causal_bf16', cfg, 'a plain causal Gemma 3 (Gemma3ForCausalLM checkpoint: "model." names, '
                 'use_bidirectional_attention false, final_logit_softcapping 30) stored in BFLOAT16 (torch_dtype '
                 'bfloat16), hidden 40, 3 layers [sliding, full, sliding], 4 query heads / 2 key/value heads, head_dim 12, '
                 'query_pre_attn_scalar 16, sliding_window 5 (causal: the last 5 keys); sentence-transformers files around '
                 'it: Pooling(lasttoken) -> 2_Dense (40 -> 56, bias, Tanh) -> 3_Dense (56 -> 40, Identity, no bias) -> '
                 'Normalize')
    w = decoder_weights(cfg, 55001, gemma=True)
    w = {k: bf16_round(v) for k, v in w.items()}                    # the checkpoint's values
    write_safetensors(os.path.join(fx.dir, 'model.safetensors'), {'model.' + k: v for k, v in w.items()}, dtype='BF16')
    write_json(os.path.join(fx.dir, 'config.json'), cfg)
    write_json(os.path.join(fx.dir, 'modules.json'), modules([('', 'Transformer'), ('1_Pooling', 'Pooling'), ('2_Dense', 'Dense'),
                                                               ('3_Dense', 'Dense'), ('4_Normalize', 'Normalize')]))
    write_json(os.path.join(fx.dir, '1_Pooling', 'config.json'), pooling_config(40, 'lasttoken'))
    rs = np.random.RandomState(55003)
    d2 = dense_weights(rs, 40, 56, True) + ('tanh',)
    d3 = dense_weights(rs, 56, 40, False) + ('identity',)
    write_dense(fx, '2_Dense', d2[0], d2[1], 'tanh')
    write_dense(fx, '3_Dense', d3[0], None, 'identity')

    rs = np.random.RandomState(55002)
    cases = [('batch_window', '4 rows of 25, 6, 5 and 2 tokens RIGHT padded with 0: the causal window (the last 5 keys) '
              'covers the 2- and 5-token rows whole, the 6-token row just not', [25, 6, 5, 2]),
             ('len40', 'one unpadded 40-token row', [40])]
    for name, desc, lengths in cases:
        ids, mask = rows(rs, lengths, 300, 2, 1, 0)
        h = gemma3_forward(cfg, w, ids, mask, torch.bfloat16)
        last, idx = pool_last(h, mask)
        h = h * torch.from_numpy(mask).double()[:, :, None]
        out = gemma_outputs(last, None, [d2, d3], [32, 16])
        out['last_pooled'] = (np32(last), 'last_hidden_state at the last attention_mask == 1 position: the pooling alone')
        fx.case(name, desc, ids, mask, 'right padded with 0', np32(h), out)
    fx.readme('causal Gemma 3 in bfloat16 with Dense modules (bias, Tanh)', [
        'use_bidirectional_attention false: causal attention; sliding layers keep kv > q - sliding_window '
        '(sliding_window_overlay), i.e. the last 5 keys up to the query (sliding_window NOT halved).',
        'torch_dtype bfloat16 with BF16 weights: the embedding scale is sqrt(40) cast to bfloat16 = 6.3125 (not 6.3246); '
        'the reference runs in float64 on the rounded weights, so the float32 tolerances apply.',
        'A Gemma3ForCausalLM checkpoint: every name has the "model." prefix; final_logit_softcapping (30) only scales LM '
        'logits and changes nothing here.',
        'Explicit layer_types [sliding, full, sliding]; 2 key/value heads for 4 query heads; query_pre_attn_scalar 16 != '
        'head_dim 12.',
        'Generic sentence-transformers Dense modules: 2_Dense with a bias and the Tanh activation, 3_Dense Identity '
        'without bias, after last-token pooling (last_pooled: the pooling alone); Matryoshka 32 / 16 truncate the Dense '
        'output, then normalize.'],
        'As gemma_own: an independent float64 torch forward written from transformers `modeling_gemma3.py`, '
        '`configuration_gemma3.py`, `masking_utils.py` (causal and sliding_window_overlay masks) and sentence-transformers '
        '`Pooling.py` (lasttoken), `Dense.py`, `Normalize.py`, on the bfloat16-rounded weights, stored as float32.',
        'numpy `RandomState(55001)` for the transformer (as gemma_own, then rounded to bfloat16), `RandomState(55003)` for '
        'the Dense layers (weights N(0, 0.08), bias N(0, 0.05)), `RandomState(55002)` for the inputs.')
    fx.finish({'pooling': 'lasttoken', 'matryoshka_dims': [32, 16], 'embed_scale': float(torch.tensor(40 ** 0.5).to(torch.bfloat16))})


def main():
    torch.set_num_threads(1)
    gen_qwen3()
    gen_gemma_own()
    gen_gemma_causal()


if __name__ == '__main__':
    main()
