#!/usr/bin/python3
"""Tiny JinaBERT v2 fixtures that the shared jina_bert_v2 fixture does not cover.

    /usr/bin/python3 gen/jina_fixture.py       (Debian: python3-torch, python3-numpy)

Writes three role-tagged fixture folders under tests/data/fixtures/ (the shared format:
manifest.json with cases and tensor roles, raw little-endian .bin files, README.md):

  jina_own        jina-bert-implementation layout (gated_layers = [gate; up], mlp.layernorm),
                  6 heads (ALiBi slopes by the non-power-of-two rule)
  jina_own_code   jina-bert-v2-qk-post-norm layout (-base-code: q/k LayerNorms, layer_norm_1
                  re-adding the layer input, up_gated_layer = [up; gate], layer_norm_2), 5 heads
  jina_own_orig   feed_forward_type "original" (BERT's intermediate/output MLP), 3 heads

each with config.json, model.safetensors (HF names, float32, pooler included), the
sentence-transformers files (mean pooling), and llama.cpp "jina-bert-v2" GGUF files of the same
weights written with gen/gguf_writer.py: model.gguf (the gated projection as one ffn_up, as
llama.cpp's converter writes it now) and, for the gated models, model-split.gguf (ffn_gate =
the activated half, ffn_up = the other, as its older converters split it). The manifest lists
them under "gguf": test-families runs every case on each of them too.

Cases: batch_padded (3 rows of 21, 9 and 4 tokens right padded with 0, rows 0 and 1 sentence
pairs with token type 1 on the second segment) and long (80 tokens, more than the config's
max_position_embeddings of 32: ALiBi extends; option max_tokens 80 lifts the default
truncation to the trained length).

Expected outputs come from the float64 forward pass below, written from the remote code the
configs name (jinaai/jina-bert-implementation and jinaai/jina-bert-v2-qk-post-norm
modeling_bert.py; the latter as text-embeddings-inference ports it), not from wembed: a padded
batch with HF's additive mask (finfo.min), the ALiBi tensor built in float32 exactly as
JinaBertEncoder.rebuild_alibi_tensor does, then everything in float64. Deterministic
(numpy RandomState seeds below); re-running rewrites the same bytes.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
sys.path.insert(0, os.path.join(ROOT, 'gen'))
from gguf_writer import GGUFValueType as T, GGUFWriter  # noqa: E402

FIX = os.path.join(ROOT, 'tests', 'data', 'fixtures')
IMPL = 'jinaai/jina-bert-implementation'
QKN = 'jinaai/jina-bert-v2-qk-post-norm'

MODELS = {
    'jina_own': dict(layout='impl', ff='geglu', E=24, H=6, F=32, seed=6101),
    'jina_own_code': dict(layout='qkn', ff='geglu', E=20, H=5, F=24, seed=6102),
    'jina_own_orig': dict(layout='impl', ff='original', E=24, H=3, F=40, seed=6103),
}
V, L, P, TYPES, EPS = 128, 2, 32, 2, 1e-12
PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4


def config(m):
    repo = QKN if m['layout'] == 'qkn' else IMPL
    return {
        '_name_or_path': repo, 'architectures': ['JinaBertForMaskedLM'],
        'attention_probs_dropout_prob': 0.0,
        'auto_map': {'AutoConfig': f'{repo}--configuration_bert.JinaBertConfig',
                     'AutoModel': f'{repo}--modeling_bert.JinaBertModel',
                     'AutoModelForMaskedLM': f'{repo}--modeling_bert.JinaBertForMaskedLM'},
        'classifier_dropout': None, 'emb_pooler': 'mean', 'feed_forward_type': m['ff'], 'hidden_act': 'gelu',
        'hidden_dropout_prob': 0.1, 'hidden_size': m['E'], 'initializer_range': 0.02, 'intermediate_size': m['F'],
        'layer_norm_eps': EPS, 'max_position_embeddings': P, 'model_max_length': P, 'model_type': 'bert',
        'num_attention_heads': m['H'], 'num_hidden_layers': L, 'pad_token_id': PAD,
        'position_embedding_type': 'alibi', 'torch_dtype': 'float32', 'type_vocab_size': TYPES, 'vocab_size': V,
    }


def weights(m):
    rng = np.random.RandomState(m['seed'])
    E, F = m['E'], m['F']
    n = lambda s, *shape: (rng.standard_normal(shape) * s).astype(np.float32)
    lnw = lambda: (1 + n(0.1, E)).astype(np.float32)
    w = {'embeddings.word_embeddings.weight': n(0.5, V, E), 'embeddings.token_type_embeddings.weight': n(0.5, TYPES, E),
         'embeddings.LayerNorm.weight': lnw(), 'embeddings.LayerNorm.bias': n(0.05, E)}
    for i in range(L):
        p = f'encoder.layer.{i}.'
        for name, s in (('query', 0.35), ('key', 0.35), ('value', 0.3)):
            w[p + f'attention.self.{name}.weight'] = n(s, E, E)
            w[p + f'attention.self.{name}.bias'] = n(0.05, E)
        if m['layout'] == 'qkn':
            for name in ('layer_norm_q', 'layer_norm_k'):
                w[p + f'attention.self.{name}.weight'] = lnw()
                w[p + f'attention.self.{name}.bias'] = n(0.05, E)
        w[p + 'attention.output.dense.weight'] = n(0.3, E, E)
        w[p + 'attention.output.dense.bias'] = n(0.05, E)
        w[p + 'attention.output.LayerNorm.weight'] = lnw()
        w[p + 'attention.output.LayerNorm.bias'] = n(0.05, E)
        if m['layout'] == 'qkn':
            w[p + 'layer_norm_1.weight'] = lnw()
            w[p + 'layer_norm_1.bias'] = n(0.05, E)
            w[p + 'mlp.up_gated_layer.weight'] = n(0.4, 2 * F, E)
            w[p + 'mlp.down_layer.weight'] = n(0.25, E, F)
            w[p + 'mlp.down_layer.bias'] = n(0.05, E)
            w[p + 'layer_norm_2.weight'] = lnw()
            w[p + 'layer_norm_2.bias'] = n(0.05, E)
        elif m['ff'] == 'geglu':
            w[p + 'mlp.gated_layers.weight'] = n(0.4, 2 * F, E)
            w[p + 'mlp.wo.weight'] = n(0.25, E, F)
            w[p + 'mlp.wo.bias'] = n(0.05, E)
            w[p + 'mlp.layernorm.weight'] = lnw()
            w[p + 'mlp.layernorm.bias'] = n(0.05, E)
        else:
            w[p + 'intermediate.dense.weight'] = n(0.4, F, E)
            w[p + 'intermediate.dense.bias'] = n(0.05, F)
            w[p + 'output.dense.weight'] = n(0.25, E, F)
            w[p + 'output.dense.bias'] = n(0.05, E)
            w[p + 'output.LayerNorm.weight'] = lnw()
            w[p + 'output.LayerNorm.bias'] = n(0.05, E)
    w['pooler.dense.weight'] = n(0.2, E, E)
    w['pooler.dense.bias'] = n(0.05, E)
    return w


# -----------------------------------------------------------------------------------------
# The reference forward pass (float64)

def alibi_head_slopes(n):
    """_get_alibi_head_slopes of JinaBertEncoder (Python floats)."""
    def pow2(k):
        start = 2 ** (-(2 ** -(math.log2(k) - 3)))
        return [start * start ** i for i in range(k)]
    if math.log2(n).is_integer():
        return pow2(n)
    c = 2 ** math.floor(math.log2(n))
    return pow2(c) + alibi_head_slopes(2 * c)[0::2][:n - c]


def alibi_tensor(n_heads, size):
    """rebuild_alibi_tensor: [n_heads, size, size] = -slope * |j - i|, in float32."""
    ctx = torch.arange(size)[:, None]
    mem = torch.arange(size)[None, :]
    rel = torch.abs(mem - ctx).unsqueeze(0).expand(n_heads, -1, -1)
    slopes = torch.Tensor(alibi_head_slopes(n_heads)) * -1
    return slopes.unsqueeze(1).unsqueeze(1) * rel


def forward(m, w, ids, mask, types):
    E, H, F = m['E'], m['H'], m['F']
    d = E // H
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in w.items()}
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (E,), t[p + '.weight'], t[p + '.bias'], EPS)
    lin = lambda x, p, bias=True: x @ t[p + '.weight'].T + (t[p + '.bias'] if bias else 0)
    gelu = lambda x: torch.nn.functional.gelu(x)     # nn.GELU(): erf
    ids, mask, types = (torch.tensor(a, dtype=torch.long) for a in (ids, mask, types))
    B, S = ids.shape
    x = t['embeddings.word_embeddings.weight'][ids] + t['embeddings.token_type_embeddings.weight'][types]
    x = ln(x, 'embeddings.LayerNorm')
    ext = (1.0 - mask[:, None, None, :].double()) * torch.finfo(torch.float64).min
    bias = alibi_tensor(H, S).double()[None]           # built in float32, added in float64
    heads = lambda y: y.view(B, S, H, d).permute(0, 2, 1, 3)
    for i in range(L):
        p = f'encoder.layer.{i}.'
        q, k, v = (lin(x, p + 'attention.self.' + n) for n in ('query', 'key', 'value'))
        if m['layout'] == 'qkn':
            q, k = ln(q, p + 'attention.self.layer_norm_q'), ln(k, p + 'attention.self.layer_norm_k')
        s = heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(d) + ext
        ctx = torch.softmax(s + bias, dim=-1) @ heads(v)
        a = lin(ctx.permute(0, 2, 1, 3).reshape(B, S, E), p + 'attention.output.dense')
        y = ln(a + x, p + 'attention.output.LayerNorm')
        if m['layout'] == 'qkn':
            x = ln(x + y, p + 'layer_norm_1')
            g = lin(x, p + 'mlp.up_gated_layer', bias=False)
            up, gated = g[..., :F], g[..., F:]
            x = ln(x + lin(up * gelu(gated), p + 'mlp.down_layer'), p + 'layer_norm_2')
        elif m['ff'] == 'geglu':
            x = y
            g = lin(x, p + 'mlp.gated_layers', bias=False)
            gated, non_gated = g[..., :F], g[..., F:]
            x = ln(lin(gelu(gated) * non_gated, p + 'mlp.wo') + x, p + 'mlp.layernorm')
        else:
            x = y
            x = ln(lin(gelu(lin(x, p + 'intermediate.dense')), p + 'output.dense') + x, p + 'output.LayerNorm')
    mk = mask[..., None].double()
    mean = (x * mk).sum(1) / mk.sum(1).clamp(min=1e-9)
    return x, mean, torch.nn.functional.normalize(mean, p=2, dim=1)


# -----------------------------------------------------------------------------------------
# Inputs

def inputs(rng):
    body = lambda k: list(rng.randint(5, V, size=k))
    rows, tys = [], []
    for a, b in ((10, 9), (4, 2), (2, 0)):
        r = [CLS] + body(a) + [SEP] + (body(b) + [SEP] if b else [])
        rows.append(r)
        tys.append([0] * (a + 2) + [1] * (len(r) - a - 2))
    S = max(len(r) for r in rows)
    ids = np.array([r + [PAD] * (S - len(r)) for r in rows], dtype=np.int32)
    mask = np.array([[1] * len(r) + [0] * (S - len(r)) for r in rows], dtype=np.int32)
    types = np.array([ty + [0] * (S - len(ty)) for ty in tys], dtype=np.int32)
    long_ids = np.array([[CLS] + body(78) + [SEP]], dtype=np.int32)
    return [('batch_padded', 'rows of 21, 9 and 4 tokens right padded with 0; rows 0 and 1 are sentence pairs '
             '(token type 1 on the second segment)', ids, mask, types, None),
            ('long', '80 tokens, more than max_position_embeddings (32): ALiBi extends; no token_type_ids '
             '(=> 0); option max_tokens 80 (the default truncates to the trained length)',
             long_ids, np.ones_like(long_ids), None, {'max_tokens': 80})]


# -----------------------------------------------------------------------------------------
# Files

def write_safetensors(path, w):
    header, off, blobs = {}, 0, []
    for k in sorted(w):
        b = np.ascontiguousarray(w[k]).tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(w[k].shape), 'data_offsets': [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def gguf_names(m, w, split):
    """(gguf name, array) in llama.cpp's jina-bert-v2 naming (tensor_mapping.py)."""
    F = m['F']
    out = [('token_embd.weight', w['embeddings.word_embeddings.weight']),
           ('token_types.weight', w['embeddings.token_type_embeddings.weight']),
           ('token_embd_norm.weight', w['embeddings.LayerNorm.weight']),
           ('token_embd_norm.bias', w['embeddings.LayerNorm.bias'])]
    layer = [('attention.self.query', 'attn_q'), ('attention.self.key', 'attn_k'), ('attention.self.value', 'attn_v'),
             ('attention.self.layer_norm_q', 'attn_q_norm'), ('attention.self.layer_norm_k', 'attn_k_norm'),
             ('attention.output.dense', 'attn_output'), ('attention.output.LayerNorm', 'attn_output_norm'),
             ('layer_norm_1', 'attn_norm_2'), ('mlp.wo', 'ffn_down'), ('mlp.down_layer', 'ffn_down'),
             ('mlp.layernorm', 'layer_output_norm'), ('layer_norm_2', 'layer_output_norm'),
             ('intermediate.dense', 'ffn_up'), ('output.dense', 'ffn_down'), ('output.LayerNorm', 'layer_output_norm')]
    for i in range(L):
        p = f'encoder.layer.{i}.'
        for h, g in layer:
            for sfx in ('weight', 'bias'):
                if p + h + '.' + sfx in w:
                    out.append((f'blk.{i}.{g}.{sfx}', w[p + h + '.' + sfx]))
        for h, first, second in (('mlp.gated_layers', 'ffn_gate', 'ffn_up'), ('mlp.up_gated_layer', 'ffn_up', 'ffn_gate')):
            a = w.get(p + h + '.weight')
            if a is None:
                continue
            if split:   # the older converter: halves renamed gated_layers_w (-> ffn_gate) / _v (-> ffn_up)
                out += [(f'blk.{i}.{first}.weight', a[:F]), (f'blk.{i}.{second}.weight', a[F:])]
            else:       # the converter now: the checkpoint's tensor as it is
                out.append((f'blk.{i}.ffn_up.weight', a))
    return out


def write_gguf(path, m, w, split):
    g = GGUFWriter(arch='jina-bert-v2')
    g.add_string('general.name', 'wembed tiny jina-bert-v2 fixture')
    g.add_uint32('general.file_type', 0)
    g.add_uint32('jina-bert-v2.context_length', P)
    g.add_uint32('jina-bert-v2.embedding_length', m['E'])
    g.add_uint32('jina-bert-v2.feed_forward_length', m['F'])
    g.add_uint32('jina-bert-v2.block_count', L)
    g.add_uint32('jina-bert-v2.attention.head_count', m['H'])
    g.add_float32('jina-bert-v2.attention.layer_norm_epsilon', EPS)
    g.add_bool('jina-bert-v2.attention.causal', False)
    g.add_uint32('jina-bert-v2.pooling_type', 1)
    special = {PAD: '[PAD]', UNK: '[UNK]', CLS: '[CLS]', SEP: '[SEP]', MASK: '[MASK]'}
    g.add_string('tokenizer.ggml.model', 'bert')
    g.add_array('tokenizer.ggml.tokens', T.STRING, [special.get(i, ('\u2581tok%d' if i % 2 else 'tok%d') % i) for i in range(V)])
    g.add_array('tokenizer.ggml.token_type', T.INT32, [3 if i in special else 1 for i in range(V)])
    g.add_uint32('tokenizer.ggml.token_type_count', TYPES)
    for key, v in (('unknown', UNK), ('seperator', SEP), ('padding', PAD), ('cls', CLS), ('mask', MASK)):
        g.add_uint32(f'tokenizer.ggml.{key}_token_id', v)
    for name, a in gguf_names(m, w, split):
        g.add_tensor(name, np.ascontiguousarray(a, dtype=np.float32), 'F32')
    with open(path, 'wb') as f:
        f.write(g.to_bytes())


README = """# {name}: {title}

Written by `gen/jina_fixture.py` (wembed's own fixture; format, roles and tolerances as in
`../README.md`). Tiny random-weight JinaBERT v2 in the exact HF layout of the remote code its
`auto_map` names ({repo}): hidden {E}, {H} heads (head_dim {d}), {L} layers, intermediate {F}, vocab {V},
type_vocab {TYPES}, `max_position_embeddings` {P}, `layer_norm_eps` 1e-12, `feed_forward_type` "{ff}",
no `bert.` prefix, `pooler.dense` present. Sentence-transformers files: Transformer -> Pooling(mean).
Ids: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4, body ids 5..127.

`model.gguf`{split_note}: the same weights in llama.cpp's `jina-bert-v2` naming (listed under
"gguf" in the manifest; test-families runs every case on them too).

## Cases

| case | what |
|---|---|
| `batch_padded` | 3 rows of 21, 9 and 4 tokens right padded with 0; rows 0 and 1 are sentence pairs with token type 1 on the second segment |
| `long` | 80 tokens, more than `max_position_embeddings` (32): ALiBi extends (option `max_tokens` 80) |

## Subtle points

{points}

## Reference and seeds

Expected outputs: an independent float64 PyTorch forward written from {repo} `modeling_bert.py`
(padded batch with the additive finfo.min mask; the ALiBi tensor built in float32 as
`rebuild_alibi_tensor` does), stored as float32. Weights numpy `RandomState({seed})`, inputs
`RandomState({iseed})`.
"""

POINTS = {
    'jina_own': """1. 6 heads: ALiBi slopes by the non-power-of-two rule: those of 4 heads (2^-2, 2^-4, 2^-6, 2^-8), then
   every other slope of 8 heads (2^-1, 2^-3); bias `-slope_h * |i - j|` after the 1/sqrt(d) scale.
2. GEGLU with `mlp.gated_layers` = [gate; up]: exact GELU on the FIRST half, times the second; `mlp.wo`,
   then `mlp.layernorm(wo_out + residual)`.
3. Post-LN; embeddings LayerNorm(word + token_type), no positions.""",
    'jina_own_code': """1. 5 heads: slopes of 4 heads (2^-2, 2^-4, 2^-6, 2^-8) then the first of 8 heads (2^-1).
2. qk-post-norm: `layer_norm_q` / `layer_norm_k` (LayerNorm over the whole projection, all heads) on q and k
   after their biases.
3. `y = attention.output.LayerNorm(dense(ctx) + x)`, then `x = layer_norm_1(x + y)`: the layer input is
   added a second time.
4. `mlp.up_gated_layer` = [up; gate]: exact GELU on the SECOND half, times the first; `down_layer` (bias);
   `layer_norm_2(x + down)`.""",
    'jina_own_orig': """1. 3 heads: slopes of 2 heads (2^-4, 2^-8) then the first of 4 heads (2^-2).
2. `feed_forward_type` "original": BERT's `intermediate.dense` (bias) -> hidden_act (gelu, erf) ->
   `output.dense` -> `output.LayerNorm(+ residual)`.""",
}

TITLES = {
    'jina_own': 'jina-bert-implementation layout, GEGLU, 6 heads',
    'jina_own_code': 'jina-bert-v2-qk-post-norm layout (jina-embeddings-v2-base-code), 5 heads',
    'jina_own_orig': 'feed_forward_type "original", 3 heads',
}


def write_fixture(name, m):
    out = os.path.join(FIX, name)
    os.makedirs(os.path.join(out, '1_Pooling'), exist_ok=True)
    cfg = config(m)
    w = weights(m)
    with open(os.path.join(out, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
        f.write('\n')
    write_safetensors(os.path.join(out, 'model.safetensors'), w)
    for fn, obj in (('modules.json', [{'idx': 0, 'name': '0', 'path': '', 'type': 'sentence_transformers.models.Transformer'},
                                      {'idx': 1, 'name': '1', 'path': '1_Pooling', 'type': 'sentence_transformers.models.Pooling'}]),
                    ('1_Pooling/config.json', {'word_embedding_dimension': m['E'], 'pooling_mode_cls_token': False,
                                               'pooling_mode_mean_tokens': True, 'pooling_mode_max_tokens': False,
                                               'pooling_mode_mean_sqrt_len_tokens': False}),
                    ('sentence_bert_config.json', {'max_seq_length': 8192, 'do_lower_case': False})):
        with open(os.path.join(out, fn), 'w') as f:
            json.dump(obj, f, indent=2)
            f.write('\n')
    ggufs = ['model.gguf']
    write_gguf(os.path.join(out, 'model.gguf'), m, w, False)
    if m['ff'] == 'geglu':
        ggufs.append('model-split.gguf')
        write_gguf(os.path.join(out, 'model-split.gguf'), m, w, True)

    iseed = m['seed'] + 100
    cases = []
    for cname, desc, ids, mask, types, opts in inputs(np.random.RandomState(iseed)):
        hid, mean, norm = forward(m, w, ids, mask, types if types is not None else np.zeros_like(ids))
        B, S = ids.shape
        tensors = {}

        def put(tn, arr, dtype, role, tdesc):
            fn = f'{cname}.{tn}.bin'
            np.ascontiguousarray(arr, dtype=dtype).tofile(os.path.join(out, fn))
            tensors[tn] = {'file': fn, 'dtype': 'int32' if dtype == np.int32 else 'float32',
                           'shape': list(np.shape(arr)), 'desc': tdesc, 'role': role}
        put('input_ids', ids, np.int32, 'input', 'token ids [B,S] (right padded)')
        put('attention_mask', mask, np.int32, 'input', '1 = real token, 0 = padding')
        if types is not None:
            put('token_type_ids', types, np.int32, 'input', 'segment ids')
        put('last_hidden_state', hid.numpy(), np.float32, 'expected', 'final encoder output [B,S,D] (compare where attention_mask == 1)')
        put('mean_pooled', mean.numpy(), np.float32, 'expected', 'mean over attention_mask == 1 [B,D]')
        put('mean_pooled_normalized', norm.numpy(), np.float32, 'expected', 'L2-normalised mean [B,D]')
        case = {'name': cname, 'desc': desc, 'tensors': tensors, 'lengths': [int(v) for v in mask.sum(1)], 'padded_length': S}
        if opts:
            case['options'] = opts
        cases.append(case)
    manifest = {
        'model': 'jina_bert_v2', 'model_type': 'bert', 'note': TITLES[name],
        'format': 'every .bin is raw little-endian, row-major (C order); shapes in elements',
        'reference': 'independent float64 PyTorch forward (gen/jina_fixture.py), rounded to float32 on save',
        'alibi_slopes': [float(np.float32(s)) for s in alibi_head_slopes(m['H'])],
        'inference_options': {'max_tokens': 'the longest input kept (wembed_embed_params.max_tokens); past the '
                                            "config's max_position_embeddings for ALiBi models"},
        'gguf': ggufs,
        'cases': cases,
    }
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    repo = QKN if m['layout'] == 'qkn' else IMPL
    split_note = ' and `model-split.gguf` (the gated projection split into `ffn_gate`, the activated half, and `ffn_up`)' \
        if m['ff'] == 'geglu' else ' (a biased `ffn_up`: the original MLP)'
    with open(os.path.join(out, 'README.md'), 'w') as f:
        f.write(README.format(name=name, title=TITLES[name], repo=repo, d=m['E'] // m['H'], L=L, V=V, TYPES=TYPES, P=P,
                              split_note=split_note, points=POINTS[name], iseed=iseed, **m))


def main():
    torch.set_grad_enabled(False)
    for name, m in MODELS.items():
        write_fixture(name, m)
        print('wrote', os.path.join('tests/data/fixtures', name))


if __name__ == '__main__':
    main()
