#!/usr/bin/python3
"""Fixtures for the long-input inference options (issue 18): SelfExtend, TempScale and RoPE scaling
as call options, on tiny random-weight models.

    /usr/bin/python3 gen/long_fixture.py            (Debian: python3-torch, python3-numpy)
    /usr/bin/python3 gen/long_fixture.py --check    the references against the shared fixtures

Writes tests/data/fixtures/nomic_long/, gte_long/, bert_tempscale/, jina_tempscale/, modernbert_long/, qwen3_long/
and gemma_long/ in the format of
tests/data/fixtures/README.md (manifest.json with roles, raw little-endian .bin tensors; each
case's inference options under "options", defined in that README's "Inference options"):

  nomic_long      nomic_bert, no RoPE scaling in its config (max_trained_positions 64): SelfExtend at
                  several (G, W) including W not a multiple of G and G > W, lengths below, at and above
                  W, a padded batch; the identities G = 1 and W >= length (expected: the plain model);
                  TempScale above and below 1 and tau = 1 (plain); SelfExtend with TempScale; the rope
                  option linear / ntk / dynamic (the padded batch length, below and above Lmax).
  gte_long        GTE NewModel with its own fixed-NTK rope_scaling: SelfExtend on the model's own
                  scaled frequencies (single row and padded batch), TempScale, and the rope option
                  linear replacing the config's scaling.
  bert_tempscale  BERT (absolute positions, no RoPE): TempScale above and below 1, and tau = 1.
  jina_tempscale  JinaBERT v2 (ALiBi, the jina_own weights): TempScale divides the bias too.
  modernbert_long ModernBERT (the modernbert_own weights, trained length lowered to 64): SelfExtend on global and
                  local layers (the window boundary at the local window), TempScale, the rope option on the global
                  layers only, truncate 'extend'.
  qwen3_long      Qwen3 (the qwen3_own layout, causal, GQA): LongLM's causal SelfExtend, TempScale, rope options,
                  truncate 'extend'.
  gemma_long      EmbeddingGemma (the gemma_own layout, bidirectional, sliding + full layers, GQA): SelfExtend,
                  TempScale, the rope option on the full layers only.
  nomic_long and gte_long also hold truncate 'extend' cases (the SelfExtend it amounts to: W = 32, the least G).

Expected outputs come from independent float64 torch forwards written here from the reference code,
never from wembed:
  - nomic_bert: nomic-ai/contrastors modeling_hf_nomic_bert.py (NomicBertEmbeddings, NomicBertAttention
    with NomicBertRotaryEmbedding / NomicBertDynamicNTKRotaryEmbedding, NomciBertGatedMLP, post-LN blocks);
  - GTE: Alibaba-NLP/new-impl modeling.py (NewEmbeddings, NTKScalingRotaryEmbedding, NewAttention, NewGatedMLP);
  - BERT: transformers modeling_bert.py (BertEmbeddings, BertSelfAttention eager, BertIntermediate/Output);
  - JinaBERT v2: the repo's own float64 reference, gen/jina_fixture.py, its softmax input divided by tau;
  - ModernBERT, Qwen3, Gemma 3: gen/modernbert_fixture.py's and gen/decoder_fixtures.py's references (transformers'
    modeling_modernbert.py, modeling_qwen3.py, modeling_gemma3.py) with float64 RoPE angles;
  - SelfExtend: dwzhu-pku/LongEmbed src/self_extend_patch.py e5rope_self_extend_forward, written out with its
    four rotations (q at i//G + shift with k at j//G below the diagonal, q at i//G with k at j//G + shift above,
    shift = W - W//G, the neighbour logits where |i - j| < W), merged before the padding mask and the softmax;
  - TempScale: Yuqi-Zhou/Length_Collapse src/model.py (BertAttention with temperature): softmax((QK^T/sqrt(d)
    + mask) / tau) in every layer.
RoPE angles are computed in float64 from integer positions. --check runs the same code on the shared
fixtures (nomic_selfextend, nomic_tempscale, nomic_bert, nomic_bert_ntk, gte_en, bert) and prints the
largest differences. Weights are float32 from numpy RandomState seeds (below); outputs are stored as
float32. Re-running writes identical files.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
FIXTURES = os.path.join(ROOT, 'tests', 'data', 'fixtures')
SHARED = os.path.join(ROOT, '..', 'shared', 'fixtures')

DEFINITIONS = {
    'where': 'case-level field "options" (absent or {} = the plain model), applied at inference time; config.json '
             'stays the model\'s own',
    'self_extend': '{"group": G, "window": W}: SelfExtend, bidirectional-encoder variant (LongEmbed '
                   'e5rope_self_extend_forward). Positions p = 0..S-1 (S = padded length). For query i, key j: '
                   '|i-j| < W -> ordinary RoPE at (i, j); otherwise grouped RoPE with shift = W - W//G: key at or '
                   'before the query (j <= i): q at i//G + shift, k at j//G; key after (j > i): q at i//G, k at '
                   'j//G + shift. Merged with the window mask, then the padding mask, softmax. S <= W => the plain '
                   'model. RoPE tables are the model\'s own (same base, same scaling).',
    'attention_temperature': 'tau: TempScale (Length_Collapse): in every attention layer softmax((QK^T/sqrt(d) + '
                             'mask) / tau). tau = 1 => the plain model.',
    'truncate': '"extend": the model\'s extension method past its trained length (README "Long inputs"); a case '
                'says which SelfExtend it amounts to. The runner keeps every row whole.',
    'rope': '{"type": "linear" | "ntk" | "dynamic", "factor": f}, replacing the config\'s own scaling. linear: '
            'angle = (p / f) * inv_freq at every length. ntk: base\' = base * f ** (d/(d-2)) (d = rotary dims) at '
            'every length. dynamic: nomic\'s dynamic NTK as if rotary_scaling_factor were f: base\' = base * '
            '(f*L/Lmax - (f-1)) ** (d/(d-2)) only when the PADDED batch length L > Lmax = max_trained_positions.',
}


# -----------------------------------------------------------------------------------------
# The references, float64

def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Rope:
    """Half-split RoPE on the first `rot` dims of each head: angle(p, i) = p * pos_scale * inv_freq[i]."""

    def __init__(self, rot, inv_freq, pos_scale=1.0):
        self.rot, self.inv_freq, self.pos_scale = rot, inv_freq, pos_scale

    def __call__(self, x, pos):
        """x (B, S, H, d) rotated at positions pos (S,) (integers, any sign)."""
        ang = torch.outer(pos.double() * self.pos_scale, self.inv_freq)        # (S, rot/2)
        cos = torch.cat((ang.cos(), ang.cos()), -1)[None, :, None, :]
        sin = torch.cat((ang.sin(), ang.sin()), -1)[None, :, None, :]
        xr, xp = x[..., :self.rot], x[..., self.rot:]
        return torch.cat((xr * cos + rotate_half(xr) * sin, xp), dim=-1)


def plain_inv_freq(rot, base):
    return 1.0 / (base ** (torch.arange(0, rot, 2, dtype=torch.float64) / rot))


def attention(q, k, v, mask, rope, opts):
    """softmax over keys of (logits/sqrt(d) + padding mask) / tau, @ v. q, k, v (B, S, H, d) unrotated;
    rope None (no RoPE: BERT) or a Rope; opts may hold self_extend and attention_temperature."""
    B, S, H, d = q.shape
    pos = torch.arange(S)
    tr = lambda x: x.transpose(1, 2)                                          # (B, H, S, d)
    if rope is None:
        logits = tr(q) @ tr(k).transpose(-1, -2)
    else:
        logits = tr(rope(q, pos)) @ tr(rope(k, pos)).transpose(-1, -2)         # neighbour logits
        se = opts.get('self_extend')
        if se:
            G, W = se['group'], se['window']
            # e5rope_self_extend_forward: _re_group_size_2 = 0 if query_position.max() < W else W
            if pos.max().item() >= W:
                shift = W - W // G
                lower = tr(rope(q, pos // G + shift)) @ tr(rope(k, pos // G)).transpose(-1, -2)
                upper = tr(rope(q, pos // G)) @ tr(rope(k, pos // G + shift)).transpose(-1, -2)
                i, j = pos[:, None], pos[None, :]
                neighbour = (i - j).abs() < W
                logits = torch.where(neighbour, logits, torch.where(j <= i, lower, upper))
    scores = logits / math.sqrt(d)
    scores = scores + (1.0 - torch.from_numpy(mask).double())[:, None, None, :] * torch.finfo(torch.float64).min
    scores = scores / opts.get('attention_temperature', 1.0)
    probs = torch.softmax(scores, dim=-1)
    return (probs @ tr(v)).transpose(1, 2).reshape(B, S, H * d)


def tensors(w):
    return {k: torch.from_numpy(v).double() for k, v in w.items()}


def nomic_rope(cfg, S, opts):
    """NomicBertRotaryEmbedding / NomicBertDynamicNTKRotaryEmbedding for a padded length S, or the rope
    option replacing the config's scaling."""
    d = cfg['n_embd'] // cfg['n_head']
    rot = int(d * cfg['rotary_emb_fraction'])
    base, Lmax = float(cfg['rotary_emb_base']), cfg['max_trained_positions']
    ro = opts.get('rope')
    if ro is None:
        f = cfg.get('rotary_scaling_factor')
        ro = {'type': 'dynamic', 'factor': f} if f else None
    if ro is None:
        return Rope(rot, plain_inv_freq(rot, base))
    f = ro['factor']
    if ro['type'] == 'linear':
        return Rope(rot, plain_inv_freq(rot, base), 1.0 / f)
    if ro['type'] == 'ntk':
        return Rope(rot, plain_inv_freq(rot, base * f ** (rot / (rot - 2))))
    assert ro['type'] == 'dynamic'
    if S > Lmax:
        base = base * ((f * S / Lmax) - (f - 1)) ** (rot / (rot - 2))
    return Rope(rot, plain_inv_freq(rot, base))


def nomic_forward(cfg, w, ids, mask, opts):
    """last_hidden_state (B, S, E) of NomicBertModel on a right-padded batch (token types 0)."""
    E, H, eps = cfg['n_embd'], cfg['n_head'], cfg['layer_norm_epsilon']
    d = E // H
    t = tensors(w)
    B, S = ids.shape
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (E,), t[p + '.weight'], t[p + '.bias'], eps)
    lin = lambda x, p: x @ t[p + '.weight'].T + (t[p + '.bias'] if p + '.bias' in t else 0)
    idx = torch.from_numpy(ids).long()
    x = t['embeddings.word_embeddings.weight'][idx] + t['embeddings.token_type_embeddings.weight'][0]
    x = ln(x, 'emb_ln')
    rope = nomic_rope(cfg, S, opts)
    for i in range(cfg['n_layer']):
        p = f'encoder.layers.{i}.'
        q, k, v = (s.reshape(B, S, H, d) for s in lin(x, p + 'attn.Wqkv').split(E, dim=-1))
        x = ln(x + lin(attention(q, k, v, mask, rope, opts), p + 'attn.out_proj'), p + 'norm1')
        y = lin(x, p + 'mlp.fc11') * torch.nn.functional.silu(lin(x, p + 'mlp.fc12'))
        x = ln(x + lin(y, p + 'mlp.fc2'), p + 'norm2')
    return x


def gte_rope(cfg, opts):
    """NTKScalingRotaryEmbedding's fixed frequencies (rope_scaling ntk), or the rope option."""
    d = cfg['hidden_size'] // cfg['num_attention_heads']
    theta = float(cfg['rope_theta'])
    ro = opts.get('rope')
    if ro is not None:
        assert ro['type'] == 'linear'
        return Rope(d, plain_inv_freq(d, theta), 1.0 / ro['factor'])
    rs = cfg.get('rope_scaling')
    if not rs:
        return Rope(d, plain_inv_freq(d, theta))
    f = rs['factor']
    j = torch.arange(0, d, 2, dtype=torch.float64)
    return Rope(d, 1.0 / ((theta * f) ** (j / d)) / f ** (2 / d))


def gte_forward(cfg, w, ids, mask, opts):
    E, H, F, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg['intermediate_size'], cfg['layer_norm_eps']
    d = E // H
    t = tensors(w)
    B, S = ids.shape
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (E,), t[p + '.weight'], t[p + '.bias'], eps)
    lin = lambda x, p: x @ t[p + '.weight'].T + (t[p + '.bias'] if p + '.bias' in t else 0)
    x = t['embeddings.word_embeddings.weight'][torch.from_numpy(ids).long()]
    if cfg['type_vocab_size'] > 0:
        x = x + t['embeddings.token_type_embeddings.weight'][0]
    x = ln(x, 'embeddings.LayerNorm')
    rope = gte_rope(cfg, opts)
    for i in range(cfg['num_hidden_layers']):
        p = f'encoder.layer.{i}.'
        q, k, v = (s.reshape(B, S, H, d) for s in lin(x, p + 'attention.qkv_proj').split(E, dim=-1))
        x = ln(x + lin(attention(q, k, v, mask, rope, opts), p + 'attention.o_proj'), p + 'attn_ln')
        up, gate = lin(x, p + 'mlp.up_gate_proj').split(F, dim=-1)
        x = ln(x + lin(gelu(gate) * up, p + 'mlp.down_proj'), p + 'mlp_ln')
    return x


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def bert_forward(cfg, w, ids, mask, opts, types=None):
    E, H, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg['layer_norm_eps']
    d = E // H
    t = tensors(w)
    B, S = ids.shape
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (E,), t[p + '.weight'], t[p + '.bias'], eps)
    lin = lambda x, p: x @ t[p + '.weight'].T + t[p + '.bias']
    tt = torch.zeros(B, S, dtype=torch.long) if types is None else torch.from_numpy(types).long()
    x = (t['embeddings.word_embeddings.weight'][torch.from_numpy(ids).long()] +
         t['embeddings.position_embeddings.weight'][torch.arange(S)][None] +
         t['embeddings.token_type_embeddings.weight'][tt])
    x = ln(x, 'embeddings.LayerNorm')
    for i in range(cfg['num_hidden_layers']):
        p = f'encoder.layer.{i}.'
        q, k, v = (lin(x, p + 'attention.self.' + n).reshape(B, S, H, d) for n in ('query', 'key', 'value'))
        x = ln(x + lin(attention(q, k, v, mask, None, opts), p + 'attention.output.dense'), p + 'attention.output.LayerNorm')
        x = ln(x + lin(gelu(lin(x, p + 'intermediate.dense')), p + 'output.dense'), p + 'output.LayerNorm')
    return x


# -----------------------------------------------------------------------------------------
# Pooling

def l2(x):
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def mean_pool(h, mask):
    m = mask[:, :, None].astype(np.float64)
    return (h * m).sum(1) / m.sum(1)


def nomic_matryoshka(pooled, dim):
    """The nomic model card: layer_norm without affine (eps 1e-5), keep dim, L2."""
    mu = pooled.mean(-1, keepdims=True)
    var = ((pooled - mu) ** 2).mean(-1, keepdims=True)
    return l2(((pooled - mu) / np.sqrt(var + 1e-5))[:, :dim])


# -----------------------------------------------------------------------------------------
# Writers

def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dt = {'F32': np.float32, 'I64': np.int64}
    return {k: np.frombuffer(data[v['data_offsets'][0]:v['data_offsets'][1]], dt[v['dtype']]).reshape(v['shape'])
            for k, v in header.items() if k != '__metadata__'}


def write_safetensors(path, tensors_):
    header, off, blobs = {}, 0, []
    for k in sorted(tensors_):
        b = tensors_[k].astype('<f4').tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(tensors_[k].shape), 'data_offsets': [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


def rows(rs, lengths, V, first, last, pad):
    """Right-padded rows: first, random ids in [5, V), last; pad after."""
    S = max(lengths)
    ids = np.full((len(lengths), S), pad, np.int32)
    mask = np.zeros((len(lengths), S), np.int32)
    for b, n in enumerate(lengths):
        ids[b, :n] = [first] + list(rs.randint(5, V, n - 2)) + [last]
        mask[b, :n] = 1
    return ids, mask


class Fixture:
    def __init__(self, name, cfg, note, forward, outputs):
        self.name, self.cfg, self.note, self.forward, self.outputs = name, cfg, note, forward, outputs
        self.dir = os.path.join(FIXTURES, name)
        self.cases = []
        os.makedirs(self.dir, exist_ok=True)

    def tensor(self, case, tname, arr, role, desc):
        fname = f'{case}.{tname}.bin'
        dtype = 'int32' if arr.dtype == np.int32 else 'float32'
        arr.astype('<i4' if dtype == 'int32' else '<f4').tofile(os.path.join(self.dir, fname))
        return tname, {'file': fname, 'dtype': dtype, 'shape': list(arr.shape), 'desc': desc, 'role': role}

    def case(self, w, name, desc, ids, mask, options, same_as_plain=False, ref_options=None):
        """Runs the reference with options (or ref_options: what options mean, e.g. the SelfExtend
        truncate 'extend' picks); same_as_plain: the options must not change the float64 result (an
        identity), and the expected tensors are the plain model's."""
        h = self.forward(self.cfg, w, ids, mask, options if ref_options is None else ref_options).numpy()
        if same_as_plain:
            h0 = self.forward(self.cfg, w, ids, mask, {}).numpy()
            assert np.abs((h - h0) * mask[:, :, None]).max() < 1e-12, name
            h = h0
        else:
            h0 = self.forward(self.cfg, w, ids, mask, {}).numpy()
            diff = np.abs((h - h0) * mask[:, :, None]).max()
            assert diff > 1e-3, f'{name}: the options change the hidden states by only {diff:g}'
        h = h * mask[:, :, None]                    # padding rows are not compared; zero them
        ts = [self.tensor(name, 'input_ids', ids, 'input', 'token ids [B,S] (right padded)'),
              self.tensor(name, 'attention_mask', mask, 'input', '1 = real token, 0 = padding'),
              self.tensor(name, 'last_hidden_state', h.astype(np.float32), 'expected',
                          'final encoder output [B,S,D]; compare where attention_mask==1')]
        for tname, (arr, tdesc) in self.outputs(h, mask).items():
            ts.append(self.tensor(name, tname, arr.astype(np.float32), 'expected', tdesc))
        c = {'name': name, 'desc': desc}
        if options:
            c['options'] = options
        c['tensors'] = dict(ts)
        self.cases.append(c)
        return h

    def finish(self, title, points, seeds, extra):
        lines = [f'# {self.name}: {title}', '', f'Written by `gen/long_fixture.py` (re-run it to regenerate; the files '
                 'come out identical). ' + self.note + '.', '', '## Cases', '', '| case | options | what |', '|---|---|---|']
        lines += [f"| `{c['name']}` | `{json.dumps(c.get('options', {}))}` | {c['desc']} |" for c in self.cases]
        lines += ['', 'Inputs: `input_ids`, `attention_mask`. Expected: every other tensor (format, roles, tolerances and the '
                  'inference options: `../README.md`; hidden states only where attention_mask == 1).', '',
                  '## What it checks', '']
        lines += [f'{i + 1}. {p}' for i, p in enumerate(points)]
        lines += ['', '## Reference', '', 'An independent float64 torch forward (`gen/long_fixture.py`; its docstring '
                  'lists the reference code it follows), run on the float32 weights, stored as float32. '
                  '`long_fixture.py --check` runs the same code on the shared fixtures.', '', '## Seeds', '', seeds, '']
        with open(os.path.join(self.dir, 'README.md'), 'w') as f:
            f.write('\n'.join(lines))
        manifest = {
            'model': self.name, 'model_type': self.cfg['model_type'], 'note': self.note,
            'generator': 'gen/long_fixture.py',
            'format': 'every .bin is raw little-endian, row-major (C order); shapes in elements',
            'reference': 'independent float64 torch forward (gen/long_fixture.py), rounded to float32 on save',
            'roles': {'input': 'feed to the engine', 'expected': 'the engine must produce it and match',
                      'optional': 'compared only when the engine reports it'},
            'tolerances': {'float_max_abs': 1e-4, 'embedding_min_row_cosine': 0.99999},
            'inference_options': DEFINITIONS,
            'cases': self.cases,
        }
        manifest.update(extra)
        write_json(os.path.join(self.dir, 'manifest.json'), manifest)


def nomic_outputs(h, mask):
    mp = mean_pool(h, mask)
    return {'mean_pooled': (mp, 'mean over attention_mask [B,D]'),
            'mean_pooled_normalized': (l2(mp), 'L2(mean_pooled)'),
            'matryoshka_16': (nomic_matryoshka(mp, 16), 'layer_norm (no affine, eps 1e-5) -> [:, :16] -> L2'),
            'matryoshka_8': (nomic_matryoshka(mp, 8), 'layer_norm (no affine, eps 1e-5) -> [:, :8] -> L2'),
            # the full width too: the rule applies to any requested size (not the plain L2 output)
            f'matryoshka_{mp.shape[-1]}': (nomic_matryoshka(mp, mp.shape[-1]), 'layer_norm (no affine, eps 1e-5) -> all dims -> L2')}


def mean_outputs(h, mask):
    mp = mean_pool(h, mask)
    return {'mean_pooled': (mp, 'mean over attention_mask [B,D]'), 'mean_pooled_normalized': (l2(mp), 'L2(mean_pooled)')}


def cls_outputs(h, mask):
    return {'cls_pooled': (h[:, 0], 'last_hidden_state[:, 0] [B,D]'),
            'cls_pooled_normalized': (l2(h[:, 0]), 'L2(cls_pooled)'),
            'mean_pooled_normalized': (l2(mean_pool(h, mask)), 'L2(mean over attention_mask)')}


# -----------------------------------------------------------------------------------------
# nomic_long

def nomic_weights(cfg, seed):
    """nomic_bert layout without biases: matrices N(0, 0.08) with the Q and K rows of Wqkv x2.5 (sharp,
    position-sensitive attention, so that the options matter), embeddings N(0, 0.05), LayerNorm weights
    1 + N(0, 0.1), biases N(0, 0.05)."""
    rs = np.random.RandomState(seed)
    E, L = cfg['n_embd'], cfg['n_layer']
    V = -(-cfg['vocab_size'] // cfg['pad_vocab_size_multiple']) * cfg['pad_vocab_size_multiple']
    F = -(-cfg['n_inner'] // 256) * 256
    n = lambda s, *shape: (rs.standard_normal(shape) * s).astype(np.float32)
    w = {'embeddings.word_embeddings.weight': n(0.05, V, E), 'embeddings.token_type_embeddings.weight': n(0.05, 2, E),
         'emb_ln.weight': 1 + n(0.1, E), 'emb_ln.bias': n(0.05, E)}
    for i in range(L):
        p = f'encoder.layers.{i}.'
        qkv = n(0.08, 3 * E, E)
        qkv[:2 * E] *= 2.5
        w[p + 'attn.Wqkv.weight'] = qkv
        w[p + 'attn.out_proj.weight'] = n(0.08, E, E)
        w[p + 'norm1.weight'], w[p + 'norm1.bias'] = 1 + n(0.1, E), n(0.05, E)
        w[p + 'mlp.fc11.weight'] = n(0.08, F, E)
        w[p + 'mlp.fc12.weight'] = n(0.08, F, E)
        w[p + 'mlp.fc2.weight'] = n(0.08, E, F)
        w[p + 'norm2.weight'], w[p + 'norm2.bias'] = 1 + n(0.1, E), n(0.05, E)
    return w


def st_files(dir_, E, pooling):
    write_json(os.path.join(dir_, 'modules.json'), [
        {'idx': 0, 'name': '0', 'path': '', 'type': 'sentence_transformers.models.Transformer'},
        {'idx': 1, 'name': '1', 'path': '1_Pooling', 'type': 'sentence_transformers.models.Pooling'},
        {'idx': 2, 'name': '2', 'path': '2_Normalize', 'type': 'sentence_transformers.models.Normalize'}])
    write_json(os.path.join(dir_, '1_Pooling', 'config.json'), {
        'word_embedding_dimension': E, 'pooling_mode_cls_token': pooling == 'cls',
        'pooling_mode_mean_tokens': pooling == 'mean', 'pooling_mode_max_tokens': False,
        'pooling_mode_mean_sqrt_len_tokens': False})


def gen_nomic():
    cfg = {
        'activation_function': 'swiglu', 'architectures': ['NomicBertModel'], 'attn_pdrop': 0.0,
        'auto_map': {'AutoConfig': 'nomic-ai/nomic-bert-2048--configuration_hf_nomic_bert.NomicBertConfig',
                     'AutoModel': 'nomic-ai/nomic-bert-2048--modeling_hf_nomic_bert.NomicBertModel'},
        'bos_token_id': None, 'causal': False, 'dense_seq_output': True, 'embd_pdrop': 0.0, 'eos_token_id': None,
        'fused_bias_fc': True, 'fused_dropout_add_ln': True, 'initializer_range': 0.02, 'layer_norm_epsilon': 1e-12,
        'max_trained_positions': 64, 'mlp_fc1_bias': False, 'mlp_fc2_bias': False, 'model_type': 'nomic_bert',
        'n_embd': 32, 'n_head': 2, 'n_inner': 96, 'n_layer': 2, 'n_positions': 8192, 'pad_vocab_size_multiple': 64,
        'parallel_block': False, 'parallel_block_tied_norm': False, 'prenorm': False, 'qkv_proj_bias': False,
        'reorder_and_upcast_attn': False, 'resid_pdrop': 0.0, 'rotary_emb_base': 1000, 'rotary_emb_fraction': 1.0,
        'rotary_emb_interleaved': False, 'rotary_emb_scale_base': None, 'rotary_scaling_factor': None,
        'scale_attn_by_inverse_layer_idx': False, 'scale_attn_weights': True, 'summary_activation': None,
        'summary_first_dropout': 0.0, 'summary_proj_to_labels': True, 'summary_type': 'cls_index',
        'summary_use_proj': True, 'torch_dtype': 'float32', 'transformers_version': '4.37.2', 'type_vocab_size': 2,
        'use_cache': True, 'use_flash_attn': True, 'use_rms_norm': False, 'use_xentropy': True, 'vocab_size': 100,
    }
    fx = Fixture('nomic_long', cfg, 'nomic_bert 32 wide, 2 heads (head_dim 16 = rotary dims), 2 layers, n_inner 96 '
                 '(-> 256 in the weights), vocab 100 (-> 128 rows), rotary base 1000, max_trained_positions 64, '
                 'rotary_scaling_factor null; Q/K rows of Wqkv x2.5; mean pooling, nomic Matryoshka',
                 nomic_forward, nomic_outputs)
    w = nomic_weights(cfg, 18001)
    write_safetensors(os.path.join(fx.dir, 'model.safetensors'), w)
    write_json(os.path.join(fx.dir, 'config.json'), cfg)
    st_files(fx.dir, 32, 'mean')
    rs = np.random.RandomState(18002)
    mk = lambda lengths: rows(rs, lengths, cfg['vocab_size'], 1, 2, 0)
    se = lambda g, w_: {'self_extend': {'group': g, 'window': w_}}
    cases = [
        ('se_g4w16_len200', 'one 200-token row, G 4, W 16: shift 12', [200], se(4, 16), False),
        ('se_g3w10_len120', 'W not a multiple of G: shift 10 - 10//3 = 7 (W - W/G would be 6.67)', [120], se(3, 10), False),
        ('se_g6w4_len90', 'G > W: W//G = 0, shift = W = 4; every pair 4 or more apart grouped by 6', [90], se(6, 4), False),
        ('se_g2w7_len40', 'odd W with G 2: shift 4, rows and keys on both sides of the band', [40], se(2, 7), False),
        ('se_g5w12_batch', 'rows of 80, 41, 13, 12 and 5 tokens right padded to 80, G 5, W 12: SelfExtend on the '
         'rows past the window (13: one pair at distance 12), the rows of 12 and 5 as the plain model',
         [80, 41, 13, 12, 5], se(5, 12), False),
        ('se_g4w16_len16', 'length = W: every pair is a neighbour, the plain model', [16], se(4, 16), True),
        ('se_g4w64_len60', 'W >= length: the plain model', [60], se(4, 64), True),
        ('se_g1w8_len60', 'G = 1: shift 0 and positions unchanged, the plain model', [60], se(1, 8), True),
        ('tau07_batch', 'TempScale 0.7 (sharper) on rows of 40, 23 and 5 tokens padded to 40', [40, 23, 5],
         {'attention_temperature': 0.7}, False),
        ('tau15_len100', 'TempScale 1.5 (flatter) on one 100-token row', [100], {'attention_temperature': 1.5}, False),
        ('tau1_batch', 'TempScale 1: the plain model', [33, 8], {'attention_temperature': 1.0}, True),
        ('se_g4w16_tau08_len120', 'SelfExtend G 4, W 16 and TempScale 0.8 together (tau divides the merged logits)',
         [120], {'self_extend': {'group': 4, 'window': 16}, 'attention_temperature': 0.8}, False),
        ('rope_linear2_len120', 'rope linear 2 on a config without scaling: positions / 2 at every length', [120],
         {'rope': {'type': 'linear', 'factor': 2.0}}, False),
        ('rope_ntk3_len40', 'rope ntk 3: base 1000 * 3^(16/14) at every length, also below Lmax', [40],
         {'rope': {'type': 'ntk', 'factor': 3.0}}, False),
        ('rope_dynamic2_batch', 'rope dynamic 2 on rows of 100 and 30 padded to 100 > Lmax 64: both rows with the '
         'base for L = 100', [100, 30], {'rope': {'type': 'dynamic', 'factor': 2.0}}, False),
        ('rope_dynamic2_len50', 'rope dynamic 2 at 50 <= Lmax 64: the plain base', [50],
         {'rope': {'type': 'dynamic', 'factor': 2.0}}, True),
        ('extend_len200', "truncate 'extend' on 200 tokens, trained to 64 (max_trained_positions, no scaling in the "
         'config): SelfExtend with W = 64 / 2 = 32 and the least G with 199 // G + 32 - 32 // G <= 63, G = 6',
         [200], {'truncate': 'extend'}, False, se(6, 32)),
        ('extend_len60', "truncate 'extend' on 60 tokens, within the trained 64: the plain model", [60],
         {'truncate': 'extend'}, True),
    ]
    for name, desc, lengths, options, plain, *ref in cases:
        ids, mask = mk(lengths)
        fx.case(w, name, desc, ids, mask, options, plain, *ref)
    fx.finish('SelfExtend, TempScale and RoPE scaling options on a nomic_bert', [
        'SelfExtend (LongEmbed e5rope_self_extend_forward, bidirectional): |i - j| < W ordinary RoPE; else q at i//G + '
        'shift with k at j//G for keys at or before the query, q at i//G with k at j//G + shift for keys after it; '
        'shift = W - W//G (integer division; W not a multiple of G in se_g3w10_len120 and se_g2w7_len40, G > W in '
        'se_g6w4_len90).',
        'SelfExtend applies to the pairs 0..S-1 of the padded batch: a row no longer than W is the plain model '
        '(se_g5w12_batch rows of 12 and 5); the first grouped pair is at distance exactly W (the row of 13).',
        'Identities: length = W, W >= length and G = 1 give the plain model (their expected tensors are the plain '
        'model\'s; the generator asserts that the SelfExtend reference gives the same in float64).',
        'TempScale: softmax((QK^T / sqrt(d) + mask) / tau) in every layer, tau 0.7 and 1.5; tau 1 is the plain model; '
        'with SelfExtend, tau divides the merged logits.',
        'rope option on a config without scaling: linear (positions / f), ntk (base * f^(d/(d-2)) at every length, '
        'below Lmax too), dynamic (nomic\'s rule with the PADDED batch length: the 30-token row of '
        'rope_dynamic2_batch takes the base for 100; at 50 <= Lmax the plain base).'],
        'numpy `RandomState(18001)` for the weights, `RandomState(18002)` for the inputs.',
        {'pooling': 'mean', 'mlp_width_in_weights': 256})


# -----------------------------------------------------------------------------------------
# gte_long

def gen_gte():
    cfg = {
        'architectures': ['NewModel'],
        'auto_map': {'AutoConfig': 'Alibaba-NLP/new-impl--configuration.NewConfig',
                     'AutoModel': 'Alibaba-NLP/new-impl--modeling.NewModel'},
        'attention_probs_dropout_prob': 0.0, 'classifier_dropout': None, 'hidden_act': 'gelu',
        'hidden_dropout_prob': 0.1, 'hidden_size': 32, 'initializer_range': 0.02, 'intermediate_size': 48,
        'layer_norm_eps': 1e-12, 'layer_norm_type': 'layer_norm', 'logn_attention_clip1': False,
        'logn_attention_scale': False, 'max_position_embeddings': 64, 'model_type': 'new', 'num_attention_heads': 2,
        'num_hidden_layers': 2, 'pack_qkv': True, 'pad_token_id': 0, 'position_embedding_type': 'rope',
        'rope_scaling': {'factor': 2.0, 'type': 'ntk'}, 'rope_theta': 10000, 'torch_dtype': 'float32',
        'transformers_version': '4.39.1', 'type_vocab_size': 0, 'unpad_inputs': False,
        'use_memory_efficient_attention': False, 'vocab_size': 120,
    }
    fx = Fixture('gte_long', cfg, 'gte-base-en-v1.5 style NewModel: 32 wide, 2 heads (head_dim 16), 2 layers, '
                 'intermediate 48, vocab 120, no token types, rope_theta 10000 with rope_scaling ntk factor 2 (fixed '
                 'NTK frequencies), max_position_embeddings 64; Q/K rows x2; CLS pooling (no sentence-transformers '
                 'files)', gte_forward, cls_outputs)
    rs = np.random.RandomState(18003)
    E, F, V = 32, 48, 120
    n = lambda s, *shape: (rs.standard_normal(shape) * s).astype(np.float32)
    w = {'embeddings.word_embeddings.weight': n(0.05, V, E), 'embeddings.LayerNorm.weight': 1 + n(0.1, E),
         'embeddings.LayerNorm.bias': n(0.05, E)}
    for i in range(2):
        p = f'encoder.layer.{i}.'
        qkv = n(0.15, 3 * E, E)
        qkv[:2 * E] *= 2
        w[p + 'attention.qkv_proj.weight'], w[p + 'attention.qkv_proj.bias'] = qkv, n(0.02, 3 * E)
        w[p + 'attention.o_proj.weight'], w[p + 'attention.o_proj.bias'] = n(0.08, E, E), n(0.02, E)
        w[p + 'attn_ln.weight'], w[p + 'attn_ln.bias'] = 1 + n(0.1, E), n(0.05, E)
        w[p + 'mlp.up_gate_proj.weight'] = n(0.08, 2 * F, E)
        w[p + 'mlp.down_proj.weight'], w[p + 'mlp.down_proj.bias'] = n(0.08, E, F), n(0.02, E)
        w[p + 'mlp_ln.weight'], w[p + 'mlp_ln.bias'] = 1 + n(0.1, E), n(0.05, E)
    write_safetensors(os.path.join(fx.dir, 'model.safetensors'), w)
    write_json(os.path.join(fx.dir, 'config.json'), cfg)
    rs = np.random.RandomState(18004)
    mk = lambda lengths: rows(rs, lengths, V, 101, 102, 0)
    cases = [
        ('se_g4w16_len150', 'SelfExtend G 4, W 16 on one 150-token row, on the model\'s fixed NTK frequencies', [150],
         {'self_extend': {'group': 4, 'window': 16}}, False),
        ('se_g3w10_batch', 'SelfExtend G 3, W 10 on rows of 90, 30, 10 tokens padded to 90', [90, 30, 10],
         {'self_extend': {'group': 3, 'window': 10}}, False),
        ('tau075_batch', 'TempScale 0.75 on rows of 40, 17 tokens padded to 40', [40, 17],
         {'attention_temperature': 0.75}, False),
        ('rope_linear2_len100', 'rope linear 2 replacing the config\'s ntk scaling: plain frequencies of theta 10000 '
         'at positions / 2', [100], {'rope': {'type': 'linear', 'factor': 2.0}}, False),
        ('extend_len150', "truncate 'extend' on 150 tokens, trained to 64: SelfExtend W 32, G 4 (the least with "
         '149 // G + 32 - 32 // G <= 63), on the model\'s own NTK frequencies', [150], {'truncate': 'extend'}, False,
         {'self_extend': {'group': 4, 'window': 32}}),
    ]
    for name, desc, lengths, options, plain, *ref in cases:
        ids, mask = mk(lengths)
        fx.case(w, name, desc, ids, mask, options, plain, *ref)
    fx.finish('SelfExtend, TempScale and the rope option on a GTE NewModel', [
        'SelfExtend on a second RoPE family, with the model\'s own fixed-NTK frequencies (inv_freq = 1 / (theta f)^(2j/d) '
        '/ f^(2/d)) at the grouped positions: the same definition as nomic_long.',
        'SelfExtend in a padded batch: the row of 10 tokens (= W) is the plain model.',
        'TempScale 0.75 in every layer.',
        'rope linear replaces the config\'s ntk scaling: inv_freq of theta alone, positions / 2.'],
        'numpy `RandomState(18003)` for the weights (matrices N(0, 0.08), qkv N(0, 0.15) with the Q/K rows x2, '
        'embeddings N(0, 0.05), LayerNorm weights 1 + N(0, 0.1), biases N(0, 0.02) / N(0, 0.05)), '
        '`RandomState(18004)` for the inputs.', {'pooling': 'cls'})


# -----------------------------------------------------------------------------------------
# bert_tempscale

def gen_bert():
    cfg = {
        'architectures': ['BertModel'], 'attention_probs_dropout_prob': 0.1, 'classifier_dropout': None,
        'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1, 'hidden_size': 32, 'initializer_range': 0.02,
        'intermediate_size': 64, 'layer_norm_eps': 1e-12, 'max_position_embeddings': 64, 'model_type': 'bert',
        'num_attention_heads': 4, 'num_hidden_layers': 2, 'pad_token_id': 0, 'position_embedding_type': 'absolute',
        'torch_dtype': 'float32', 'transformers_version': '4.41.2', 'type_vocab_size': 2, 'vocab_size': 150,
    }
    fx = Fixture('bert_tempscale', cfg, 'MiniLM style BERT: 32 wide, 4 heads (head_dim 8), 2 layers, intermediate 64, '
                 'vocab 150, 64 positions; Q/K weights x3 (sharp attention, so that tau matters); mean pooling',
                 lambda c, w, i, m, o: bert_forward(c, w, i, m, o), mean_outputs)
    rs = np.random.RandomState(18005)
    E, F, V = 32, 64, 150
    n = lambda s, *shape: (rs.standard_normal(shape) * s).astype(np.float32)
    w = {'embeddings.word_embeddings.weight': n(0.05, V, E), 'embeddings.position_embeddings.weight': n(0.05, 64, E),
         'embeddings.token_type_embeddings.weight': n(0.05, 2, E), 'embeddings.LayerNorm.weight': 1 + n(0.1, E),
         'embeddings.LayerNorm.bias': n(0.05, E)}
    for i in range(2):
        p = f'encoder.layer.{i}.'
        for nm, s in (('query', 0.24), ('key', 0.24), ('value', 0.08)):
            w[p + 'attention.self.' + nm + '.weight'], w[p + 'attention.self.' + nm + '.bias'] = n(s, E, E), n(0.02, E)
        w[p + 'attention.output.dense.weight'], w[p + 'attention.output.dense.bias'] = n(0.08, E, E), n(0.02, E)
        w[p + 'attention.output.LayerNorm.weight'] = 1 + n(0.1, E)
        w[p + 'attention.output.LayerNorm.bias'] = n(0.05, E)
        w[p + 'intermediate.dense.weight'], w[p + 'intermediate.dense.bias'] = n(0.08, F, E), n(0.02, F)
        w[p + 'output.dense.weight'], w[p + 'output.dense.bias'] = n(0.08, E, F), n(0.02, E)
        w[p + 'output.LayerNorm.weight'], w[p + 'output.LayerNorm.bias'] = 1 + n(0.1, E), n(0.05, E)
    write_safetensors(os.path.join(fx.dir, 'model.safetensors'), w)
    write_json(os.path.join(fx.dir, 'config.json'), cfg)
    st_files(fx.dir, E, 'mean')
    rs = np.random.RandomState(18006)
    mk = lambda lengths: rows(rs, lengths, V, 101, 102, 0)
    for name, desc, lengths, tau in [('tau06_batch', 'TempScale 0.6 on rows of 30, 12 and 4 tokens padded to 30', [30, 12, 4], 0.6),
                                     ('tau14_batch', 'TempScale 1.4 on rows of 25 and 9 tokens padded to 25', [25, 9], 1.4),
                                     ('tau1_batch', 'TempScale 1: the plain model', [20, 6], 1.0)]:
        ids, mask = mk(lengths)
        fx.case(w, name, desc, ids, mask, {'attention_temperature': tau}, tau == 1.0)
    fx.finish('TempScale on BERT', [
        'TempScale (Length_Collapse BertAttention with temperature): softmax((QK^T / sqrt(d) + mask) / tau) in every '
        'layer of a family without RoPE, tau below (0.6) and above (1.4) 1, padded batches.',
        'tau = 1 is the plain model.'],
        'numpy `RandomState(18005)` for the weights (matrices N(0, 0.08), query/key N(0, 0.24), embeddings N(0, 0.05), '
        'LayerNorm weights 1 + N(0, 0.1), biases N(0, 0.02) / N(0, 0.05)), `RandomState(18006)` for the inputs.',
        {'pooling': 'mean'})


# -----------------------------------------------------------------------------------------
# jina_tempscale: TempScale where the logits carry a bias (ALiBi)

def gen_jina():
    sys.path.insert(0, os.path.join(ROOT, 'gen'))
    import jina_fixture as gj                      # the repo's own float64 JinaBERT reference
    m = gj.MODELS['jina_own']
    cfg = gj.config(m)

    def forward(cfg_, w_, ids, mask, opts):
        # TempScale divides the whole softmax input: QK^T/sqrt(d) + padding mask + ALiBi.
        tau, softmax = opts.get('attention_temperature', 1.0), torch.softmax
        torch.softmax = lambda x, dim: softmax(x / tau, dim=dim)
        try:
            return gj.forward(m, w_, ids, mask, np.zeros_like(ids))[0]
        finally:
            torch.softmax = softmax

    fx = Fixture('jina_tempscale', cfg, 'the jina_own model (JinaBERT v2, jina-bert-implementation layout, 24 wide, 6 '
                 'heads, symmetric ALiBi, GEGLU; the same weights, from gen/jina_fixture.py) with TempScale',
                 forward, mean_outputs)
    w = gj.weights(m)
    write_safetensors(os.path.join(fx.dir, 'model.safetensors'), w)
    write_json(os.path.join(fx.dir, 'config.json'), cfg)
    st_files(fx.dir, m['E'], 'mean')
    rs = np.random.RandomState(18007)
    mk = lambda lengths: rows(rs, lengths, gj.V, gj.CLS, gj.SEP, gj.PAD)
    for name, desc, lengths, tau in [('tau06_batch', 'TempScale 0.6 on rows of 28, 11 and 4 tokens padded to 28', [28, 11, 4], 0.6),
                                     ('tau13_len60', 'TempScale 1.3 on one 60-token row (past the 32 trained positions: '
                                      'ALiBi extends)', [60], 1.3)]:
        ids, mask = mk(lengths)
        fx.case(w, name, desc, ids, mask, {'attention_temperature': tau, 'max_tokens': int(max(lengths))})
    fx.finish('TempScale on JinaBERT v2 (ALiBi)', [
        'TempScale divides the whole logit, the ALiBi bias included: softmax((QK^T / sqrt(d) + mask - slope |i - j|) / '
        'tau) in every layer; a bias left undivided shows.',
        'tau below (0.6) and above (1.3) 1, a padded batch and a row past the trained length (max_tokens option).'],
        'the jina_own weights (`gen/jina_fixture.py`, numpy `RandomState(6101)`), `RandomState(18007)` for the '
        'inputs.', {'pooling': 'mean'})


# -----------------------------------------------------------------------------------------
# Families with several attention kinds: ModernBERT (global + sliding local layers, two thetas),
# Qwen3 (causal), EmbeddingGemma (bidirectional, sliding + full layers, GQA)
#
# SelfExtend there, as defined for wembed (README "Long inputs"): every attention layer regroups the
# pairs at distance >= W with its own RoPE base, then applies its own masks. A sliding layer that sees
# |i - j| <= w with w < W sees only neighbours: it is the plain layer (LongEmbed applies SelfExtend to
# full attention; this is the same thing stated per pair). A causal model sees only its lower
# triangle, where the grouped logit is q at i//G + shift with k at j//G: LongLM's causal SelfExtend
# (Jin et al. 2024, self_extend_patch), with LongEmbed's integer shift W - W//G. The rope option
# stands where the config's rope_scaling would: on the full (global) layers; sliding layers keep plain
# RoPE (HF Gemma 3's rotary_emb_local is always "default"). dynamic: Lmax = max_position_embeddings.

def option_rope(rot, base, lmax, S, ro):
    """A Rope of base `base` under the rope option ro (None: plain), for a padded length S."""
    if ro is None:
        return Rope(rot, plain_inv_freq(rot, base))
    f = ro['factor']
    if ro['type'] == 'linear':
        return Rope(rot, plain_inv_freq(rot, base), 1.0 / f)
    if ro['type'] == 'ntk':
        return Rope(rot, plain_inv_freq(rot, base * f ** (rot / (rot - 2))))
    assert ro['type'] == 'dynamic'
    if S > lmax:
        base = base * ((f * S / lmax) - (f - 1)) ** (rot / (rot - 2))
    return Rope(rot, plain_inv_freq(rot, base))


def attention_ext(q, k, v, allowed, rope, opts, scale):
    """q (B, S, H, d), k and v (B, S, KV, d) unrotated (query head h reads kv head h // (H/KV));
    allowed (B, S, S) bool [b, i, j] (padding, causal, sliding masks); SelfExtend on the pairs
    |i - j| >= W (above the diagonal too: a causal mask then hides them), TempScale on the masked
    logits. Returns (B, S, H * d)."""
    B, S, H, d = q.shape
    rep = H // k.shape[2]
    pos = torch.arange(S)
    tr = lambda x: x.transpose(1, 2)
    kr = lambda x: tr(x).repeat_interleave(rep, dim=1)                        # (B, H, S, d)
    logits = tr(rope(q, pos)) @ kr(rope(k, pos)).transpose(-1, -2)
    se = opts.get('self_extend')
    if se and pos.max().item() >= se['window']:
        G, W = se['group'], se['window']
        shift = W - W // G
        lower = tr(rope(q, pos // G + shift)) @ kr(rope(k, pos // G)).transpose(-1, -2)
        upper = tr(rope(q, pos // G)) @ kr(rope(k, pos // G + shift)).transpose(-1, -2)
        i, j = pos[:, None], pos[None, :]
        logits = torch.where((i - j).abs() < W, logits, torch.where(j <= i, lower, upper))
    # (s scale + mask) / tau, with the mask added after the division: the same weights (a masked key
    # weighs 0 either way), and finfo.min / tau cannot overflow to -inf on a padded query row whose
    # sliding window holds only padding.
    scores = logits * scale / opts.get('attention_temperature', 1.0)
    scores = scores + torch.zeros(allowed.shape, dtype=torch.float64).masked_fill(~allowed, torch.finfo(torch.float64).min)[:, None]
    return (torch.softmax(scores, dim=-1) @ kr(v)).transpose(1, 2).reshape(B, S, H * d)


def allowed_mask(mask, causal=False, window=None):
    """Padding AND (causal: j <= i) AND (window: |i - j| <= window) as (B, S, S) bool."""
    S = mask.shape[1]
    i, j = torch.arange(S)[:, None], torch.arange(S)[None, :]
    a = torch.ones(S, S, dtype=torch.bool)
    if causal:
        a &= j <= i
    if window is not None:
        a &= (i - j).abs() <= window
    return a[None] & torch.from_numpy(mask).bool()[:, None, :]


def mbert_forward(cfg, w, ids, mask, opts):
    """ModernBertModel (gen/modernbert_fixture.py's reference, float64 RoPE angles) with the options."""
    E, H, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg['norm_eps']
    d = E // H
    t = tensors(w)
    B, S = ids.shape
    ln = lambda x, n: (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + eps) * t[n]
    rope_g = option_rope(d, float(cfg['global_rope_theta']), cfg['max_position_embeddings'], S, opts.get('rope'))
    rope_l = option_rope(d, float(cfg['local_rope_theta']), cfg['max_position_embeddings'], S, None)
    full = allowed_mask(mask)
    local = allowed_mask(mask, window=cfg['local_attention'] // 2)
    x = ln(t['embeddings.tok_embeddings.weight'][torch.from_numpy(ids).long()], 'embeddings.norm.weight')
    for il in range(cfg['num_hidden_layers']):
        p = f'layers.{il}.'
        a = x if il == 0 else ln(x, p + 'attn_norm.weight')
        q, k, v = (s.reshape(B, S, H, d) for s in (a @ t[p + 'attn.Wqkv.weight'].T).split(E, dim=-1))
        g = il % cfg['global_attn_every_n_layers'] == 0
        x = x + attention_ext(q, k, v, full if g else local, rope_g if g else rope_l, opts, d ** -0.5) @ t[p + 'attn.Wo.weight'].T
        inp, gate = (ln(x, p + 'mlp_norm.weight') @ t[p + 'mlp.Wi.weight'].T).chunk(2, dim=-1)
        x = x + (gelu(inp) * gate) @ t[p + 'mlp.Wo.weight'].T
    return ln(x, 'final_norm.weight')


def rms(x, wt, eps, offset):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (offset + wt)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def decoder_forward(cfg, w, ids, mask, opts, gemma):
    """Qwen3Model (gemma False: causal, plain RMSNorm, SwiGLU) or Gemma3TextModel with
    use_bidirectional_attention (sandwich norms with 1 + w, GeGLU tanh, scaled embeddings,
    query_pre_attn_scalar, sliding |i - j| <= sliding_window // 2) (gen/decoder_fixtures.py's
    references, float64 RoPE angles), with the options."""
    E, H, KV, d, eps = (cfg[k] for k in ('hidden_size', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'rms_norm_eps'))
    off = 1.0 if gemma else 0.0
    t = tensors(w)
    B, S = ids.shape
    lmax = cfg['max_position_embeddings']
    rope_g = option_rope(d, float(cfg['rope_theta']), lmax, S, opts.get('rope'))
    x = t['embed_tokens.weight'][torch.from_numpy(ids).long()]
    if gemma:
        x = x * float(torch.tensor(E ** 0.5, dtype=torch.float32))
        rope_l = option_rope(d, float(cfg['rope_local_base_freq']), lmax, S, None)
        full, slide = allowed_mask(mask), allowed_mask(mask, window=cfg['sliding_window'] // 2)
        kinds = [(i + 1) % cfg['sliding_window_pattern'] != 0 for i in range(cfg['num_hidden_layers'])]
        scale = cfg['query_pre_attn_scalar'] ** -0.5
    else:
        full, kinds, scale = allowed_mask(mask, causal=True), [False] * cfg['num_hidden_layers'], d ** -0.5
    for il in range(cfg['num_hidden_layers']):
        p = f'layers.{il}.'
        lin = lambda a, n: a @ t[p + n + '.weight'].T
        h = rms(x, t[p + 'input_layernorm.weight'], eps, off)
        q = rms(lin(h, 'self_attn.q_proj').view(B, S, H, d), t[p + 'self_attn.q_norm.weight'], eps, off)
        k = rms(lin(h, 'self_attn.k_proj').view(B, S, KV, d), t[p + 'self_attn.k_norm.weight'], eps, off)
        v = lin(h, 'self_attn.v_proj').view(B, S, KV, d)
        sl = kinds[il]
        a = lin(attention_ext(q, k, v, slide if sl else full, rope_l if sl else rope_g, opts, scale), 'self_attn.o_proj')
        if gemma:
            x = x + rms(a, t[p + 'post_attention_layernorm.weight'], eps, off)
            h = rms(x, t[p + 'pre_feedforward_layernorm.weight'], eps, off)
            x = x + rms(lin(gelu_tanh(lin(h, 'mlp.gate_proj')) * lin(h, 'mlp.up_proj'), 'mlp.down_proj'),
                        t[p + 'post_feedforward_layernorm.weight'], eps, off)
        else:
            x = x + a
            h = rms(x, t[p + 'post_attention_layernorm.weight'], eps, off)
            x = x + lin(torch.nn.functional.silu(lin(h, 'mlp.gate_proj')) * lin(h, 'mlp.up_proj'), 'mlp.down_proj')
    return rms(x, t['norm.weight'], eps, off)


def last_outputs(h, mask):
    last = h[np.arange(h.shape[0]), mask.sum(1) - 1]
    return {'last_pooled': (last, 'the last real token [B,D]'), 'last_pooled_normalized': (l2(last), 'L2(last_pooled)')}


SE_POINTS = {
    'se': 'SelfExtend regroups the pairs at distance >= W with the layer\'s own RoPE base: q at i//G + shift with k at '
          'j//G below the diagonal, q at i//G with k at j//G + shift above it, shift = W - W//G (integer division), the '
          'neighbour logits where |i - j| < W; then the layer\'s masks, TempScale, the softmax.',
    'id': 'Identities: W >= length and G = 1 give the plain model, and so does tau = 1 (their expected tensors are the '
          'plain model\'s; the generator asserts that the references agree in float64).',
    'rope': 'The rope option stands where the config\'s rope_scaling would, on the full (global) layers only; sliding '
            'layers keep plain RoPE. dynamic: Lmax = max_position_embeddings, the padded batch length.',
}


def gen_modernbert():
    sys.path.insert(0, os.path.join(ROOT, 'gen'))
    import modernbert_fixture as mf
    cfg = dict(mf.CFG, max_position_embeddings=64)
    fx = Fixture('modernbert_long', cfg, 'the modernbert_own weights (gen/modernbert_fixture.py: 32 wide, 2 heads of 16, 5 '
                 'layers, global every 2nd (layers 0, 2, 4) with theta 160000, local layers 1 and 3 with a window of '
                 'local_attention // 2 = 4 and theta 10000), max_position_embeddings lowered to 64; mean pooling',
                 mbert_forward, mean_outputs)
    w = mf.make_weights(cfg)
    write_safetensors(os.path.join(fx.dir, 'model.safetensors'), w)
    write_json(os.path.join(fx.dir, 'config.json'), cfg)
    rs = np.random.RandomState(18008)
    mk = lambda lengths: rows(rs, lengths, cfg['vocab_size'], mf.CLS, mf.SEP, mf.PAD)
    se = lambda g, w_: {'self_extend': {'group': g, 'window': w_}}
    cases = [
        ('se_g4w16_len120', 'G 4, W 16 on one 120-token row: the global layers regrouped, the local ones (window 4 < 16) '
         'plain', [120], se(4, 16), False),
        ('se_g3w10_batch', 'G 3, W 10 (shift 7) on rows of 70, 25 and 9 tokens padded to 70', [70, 25, 9], se(3, 10), False),
        ('se_g2w3_len60', 'G 2, W 3 < the local window 4: the local layers regroup their pairs at distance 3 and 4 too '
         '(with theta 10000)', [60], se(2, 3), False),
        ('se_g3w4_len50', 'G 3, W 4 = the local window: a local layer sees distance 4 (|i - j| <= 4), so it groups '
         'those pairs (G does not divide W: at distance exactly W the grouped distance is 4 or 5, not always 4)', [50],
         se(3, 4), False),
        ('se_g4w64_len60', 'W >= length: the plain model', [60], se(4, 64), True),
        ('se_g1w8_len60', 'G = 1: the plain model', [60], se(1, 8), True),
        ('tau07_batch', 'TempScale 0.7 on rows of 40 and 11 padded to 40', [40, 11], {'attention_temperature': 0.7}, False),
        ('tau1_len30', 'TempScale 1: the plain model', [30], {'attention_temperature': 1.0}, True),
        ('rope_linear2_len90', 'rope linear 2: the global layers at positions / 2, the local ones plain', [90],
         {'rope': {'type': 'linear', 'factor': 2.0}}, False),
        ('rope_dynamic2_batch', 'rope dynamic 2 with rows of 100 and 20 padded to 100 > 64: the global theta grows',
         [100, 20], {'rope': {'type': 'dynamic', 'factor': 2.0}}, False),
        ('extend_len120', "truncate 'extend' on 120 tokens, trained to 64: SelfExtend W 32, G 3 (119 // 3 + 32 - 10 = 61 "
         '<= 63)', [120], {'truncate': 'extend'}, False, se(3, 32)),
    ]
    for name, desc, lengths, options, plain, *ref in cases:
        ids, mask = mk(lengths)
        fx.case(w, name, desc, ids, mask, options, plain, *ref)
    fx.finish('SelfExtend, TempScale and RoPE scaling options on a ModernBERT', [
        SE_POINTS['se'] + ' Global layers use theta 160000, local ones 10000.',
        'Local (sliding) layers see |i - j| <= 4: with W > 4 they are untouched (se_g4w16_len120, se_g3w10_batch); '
        'with W = 3 and W = 4 they group the pairs at distance W..4 (the boundary: distance W is grouped, W - 1 is not).',
        SE_POINTS['id'], SE_POINTS['rope']],
        'the modernbert_own weights (numpy `RandomState(92103)`), `RandomState(18008)` for the inputs.', {'pooling': 'mean'})


def gen_qwen3():
    sys.path.insert(0, os.path.join(ROOT, 'gen'))
    import decoder_fixtures as df
    cfg = {
        'architectures': ['Qwen3ForCausalLM'], 'attention_bias': False, 'attention_dropout': 0.0,
        'bos_token_id': 299, 'eos_token_id': 299, 'head_dim': 16, 'hidden_act': 'silu', 'hidden_size': 40,
        'initializer_range': 0.02, 'intermediate_size': 72, 'max_position_embeddings': 64, 'max_window_layers': 2,
        'model_type': 'qwen3', 'num_attention_heads': 4, 'num_hidden_layers': 2, 'num_key_value_heads': 1,
        'rms_norm_eps': 1e-06, 'rope_scaling': None, 'rope_theta': 10000, 'sliding_window': None,
        'tie_word_embeddings': True, 'torch_dtype': 'float32', 'transformers_version': '4.51.3', 'use_cache': True,
        'use_sliding_window': False, 'vocab_size': 300,
    }
    fx = Fixture('qwen3_long', cfg, 'the qwen3_own layout and weights (gen/decoder_fixtures.py: hidden 40, 2 layers, 4 '
                 'query heads and one key/value head of 16, causal), rope_theta 10000 and max_position_embeddings 64; '
                 'last-token pooling', lambda c, w, i, m, o: decoder_forward(c, w, i, m, o, False), last_outputs)
    w = df.decoder_weights(cfg, 33001, gemma=False)
    write_safetensors(os.path.join(fx.dir, 'model.safetensors'), w)
    write_json(os.path.join(fx.dir, 'config.json'), cfg)
    rs = np.random.RandomState(18009)
    mk = lambda lengths: df.rows(rs, lengths, 300, None, 299, 299)
    se = lambda g, w_: {'self_extend': {'group': g, 'window': w_}}
    cases = [
        ('se_g4w16_len120', 'causal SelfExtend G 4, W 16 on one 120-token row (the lower triangle only)', [120],
         se(4, 16), False),
        ('se_g3w10_batch', 'G 3, W 10 (shift 7) on rows of 80, 30 and 10 tokens padded to 80 (the row of 10: plain)',
         [80, 30, 10], se(3, 10), False),
        ('se_g5w7_len50', 'G 5 > W 7 // 5: shift 6', [50], se(5, 7), False),
        ('se_g4w64_len60', 'W >= length: the plain model', [60], se(4, 64), True),
        ('se_g1w8_len60', 'G = 1: the plain model', [60], se(1, 8), True),
        ('tau06_batch', 'TempScale 0.6 on rows of 45 and 12 padded to 45', [45, 12], {'attention_temperature': 0.6}, False),
        ('tau1_len30', 'TempScale 1: the plain model', [30], {'attention_temperature': 1.0}, True),
        ('rope_ntk4_len70', 'rope ntk 4 on a config without scaling: base 10000 * 4^(16/14)', [70],
         {'rope': {'type': 'ntk', 'factor': 4.0}}, False),
        ('rope_linear3_len50', 'rope linear 3: positions / 3', [50], {'rope': {'type': 'linear', 'factor': 3.0}}, False),
        ('extend_len120', "truncate 'extend' on 120 tokens, trained to 64: causal SelfExtend W 32, G 3", [120],
         {'truncate': 'extend'}, False, se(3, 32)),
    ]
    for name, desc, lengths, options, plain, *ref in cases:
        ids, mask = mk(lengths)
        fx.case(w, name, desc, ids, mask, options, plain, *ref)
    fx.finish('SelfExtend, TempScale and RoPE scaling options on a Qwen3 (causal)', [
        'Causal SelfExtend (LongLM): for j <= i - W the logit of q at i//G + shift and k at j//G, shift = W - W//G; '
        'neighbours (i - j < W) at their own positions; the upper triangle stays masked. A key after the query never '
        'enters.', SE_POINTS['id'], 'TempScale divides the causal-masked logits.', SE_POINTS['rope']],
        'the qwen3_own weights (numpy `RandomState(33001)`), `RandomState(18009)` for the inputs.', {'pooling': 'last'})


def gen_gemma():
    sys.path.insert(0, os.path.join(ROOT, 'gen'))
    import decoder_fixtures as df
    cfg = df.gemma_cfg(max_position_embeddings=64, rope_theta=10000.0, rope_local_base_freq=1000.0)
    fx = Fixture('gemma_long', cfg, 'the gemma_own layout and weights (gen/decoder_fixtures.py: hidden 40, 3 layers '
                 '[sliding, sliding, full], 4 query heads and one key/value head of 12, bidirectional, sliding_window 6: '
                 '|i - j| <= 3), rope_theta 10000 (full) and 1000 (sliding), max_position_embeddings 64; no '
                 'sentence-transformers files: mean pooling', lambda c, w, i, m, o: decoder_forward(c, w, i, m, o, True),
                 mean_outputs)
    w = df.decoder_weights(cfg, 44001, gemma=True)
    write_safetensors(os.path.join(fx.dir, 'model.safetensors'), w)
    write_json(os.path.join(fx.dir, 'config.json'), cfg)
    rs = np.random.RandomState(18010)
    mk = lambda lengths: df.rows(rs, lengths, 300, 2, 1, 0)
    se = lambda g, w_: {'self_extend': {'group': g, 'window': w_}}
    cases = [
        ('se_g4w16_len120', 'G 4, W 16 on one 120-token row: the full layer regrouped, the sliding ones (3 < 16) plain',
         [120], se(4, 16), False),
        ('se_g3w10_batch', 'G 3, W 10 on rows of 70, 24 and 10 tokens padded to 70', [70, 24, 10], se(3, 10), False),
        ('se_g2w3_len40', 'G 2, W 3 = the sliding window: the sliding layers group their pairs at distance 3', [40],
         se(2, 3), False),
        ('se_g4w64_len60', 'W >= length: the plain model', [60], se(4, 64), True),
        ('se_g1w8_len60', 'G = 1: the plain model', [60], se(1, 8), True),
        ('tau08_batch', 'TempScale 0.8 on rows of 36 and 7 padded to 36', [36, 7], {'attention_temperature': 0.8}, False),
        ('tau1_len30', 'TempScale 1: the plain model', [30], {'attention_temperature': 1.0}, True),
        ('rope_linear2_len80', 'rope linear 2: the full layer at positions / 2, the sliding ones plain', [80],
         {'rope': {'type': 'linear', 'factor': 2.0}}, False),
    ]
    for name, desc, lengths, options, plain, *ref in cases:
        ids, mask = mk(lengths)
        fx.case(w, name, desc, ids, mask, options, plain, *ref)
    fx.finish('SelfExtend, TempScale and RoPE scaling options on an EmbeddingGemma (bidirectional, sliding + full)', [
        SE_POINTS['se'] + ' Full layers use rope_theta, sliding ones rope_local_base_freq.',
        'Sliding layers see |i - j| <= 3: untouched for W > 3, grouping their pairs at distance 3 for W = 3.',
        SE_POINTS['id'], SE_POINTS['rope']],
        'the gemma_own weights (numpy `RandomState(44001)`), `RandomState(18010)` for the inputs.', {'pooling': 'mean'})


# -----------------------------------------------------------------------------------------
# --check: the same references on the shared fixtures

def check():
    worst = 0.0
    for name, fwd in (('nomic_selfextend', nomic_forward), ('nomic_tempscale', nomic_forward), ('nomic_bert', nomic_forward),
                      ('nomic_bert_ntk', nomic_forward), ('gte_en', gte_forward), ('bert', None)):
        d = os.path.join(SHARED, name)
        if not os.path.isdir(d):
            d = os.path.join(FIXTURES, name)
        cfg = json.load(open(os.path.join(d, 'config.json')))
        man = json.load(open(os.path.join(d, 'manifest.json')))
        w = {k: v.astype(np.float32) for k, v in read_safetensors(os.path.join(d, 'model.safetensors')).items()
             if v.dtype == np.float32}
        w = {k[len('bert.'):] if k.startswith('bert.') else k: v for k, v in w.items()}
        for c in man['cases']:
            ts = c['tensors']
            ld = lambda t, dt: np.fromfile(os.path.join(d, ts[t]['file']), dt).reshape(ts[t]['shape'])
            ids, mask = ld('input_ids', np.int32), ld('attention_mask', np.int32)
            types = ld('token_type_ids', np.int32) if 'token_type_ids' in ts else None
            opts = c.get('options', {})
            if fwd is None:
                h = bert_forward(cfg, w, ids, mask, opts, types).numpy()
            else:
                h = fwd(cfg, w, ids, mask, opts).numpy()
            ref = ld('last_hidden_state', np.float32)
            diff = np.abs((h - ref) * mask[:, :, None]).max()
            worst = max(worst, diff)
            print(f'{name}/{c["name"]} {json.dumps(opts)}: max |diff| {diff:.3g}')
    print(f'worst {worst:.3g}')
    return 0 if worst < 1e-5 else 1


def main():
    torch.set_num_threads(1)
    if '--check' in sys.argv:
        return check()
    gen_nomic()
    gen_gte()
    gen_bert()
    gen_jina()
    gen_modernbert()
    gen_qwen3()
    gen_gemma()
    return 0


if __name__ == '__main__':
    sys.exit(main())
