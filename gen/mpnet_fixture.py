#!/usr/bin/python3
"""wembed's own MPNet fixtures: tiny random-weight MPNetModels in the exact HF /
sentence-transformers layout, with outputs from an independent float64 forward written after
transformers' modeling_mpnet.py (MPNetEmbeddings, create_position_ids_from_input_ids,
MPNetEncoder.compute_position_bias / relative_position_bucket, MPNetAttention, MPNetLayer).

    /usr/bin/python3 gen/mpnet_fixture.py        (Debian: python3-torch, python3-numpy)

Deterministic: the same bytes on every run. Writes two role-tagged fixture folders
(tests/data/fixtures/README.md has the format) that cover what the shared `mpnet` fixture
does not:

  mpnet_own      all-mpnet-base-v2 layout (mean pooling, Normalize), float32 weights:
                 a padded batch with a right-padded row, a LEFT-padded row, a row holding a
                 <pad> id (1) inside the text with mask 1 (its position is row 1 of the table,
                 and the tokens after it go on counting without it, while the relative bias
                 still counts columns), a two-token row; and one row at the model's limit
                 (320 tokens: distances up to 319, far past max_distance 128).
  mpnet_own_cls  multi-qa-mpnet-base-dot-v1 layout (CLS pooling, no Normalize), float16
                 weights (outputs computed from the rounded values), and a config.json whose
                 pad_token_id (0) and relative_attention_num_buckets (40) differ from what
                 MPNetModel reads: padding_idx is hard-coded to 1 and the buckets to 32, so the
                 table's rows 32..39 are never used.
"""
import json
import math
import os
import shutil
import struct

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
FIXTURES = os.path.join(ROOT, 'tests', 'data', 'fixtures')
GENERATOR = 'gen/mpnet_fixture.py'

E, H, L, F, V = 32, 4, 2, 64, 200      # hidden, heads (head_dim 8), layers, intermediate, vocab
PAD, BOS, EOS = 1, 0, 2


def config(n_pos, pad_token_id=1, n_buckets=32):
    # the keys of all-mpnet-base-v2's config.json
    return {
        '_name_or_path': 'microsoft/mpnet-base', 'architectures': ['MPNetForMaskedLM'],
        'attention_probs_dropout_prob': 0.1, 'bos_token_id': BOS, 'eos_token_id': EOS, 'hidden_act': 'gelu',
        'hidden_dropout_prob': 0.1, 'hidden_size': E, 'initializer_range': 0.02, 'intermediate_size': F,
        'layer_norm_eps': 1e-05, 'max_position_embeddings': n_pos, 'model_type': 'mpnet', 'num_attention_heads': H,
        'num_hidden_layers': L, 'pad_token_id': pad_token_id, 'relative_attention_num_buckets': n_buckets,
        'transformers_version': '4.8.2', 'vocab_size': V,
    }


def make_weights(rng, n_pos, n_buckets):
    """HF tensor names without prefix, as sentence-transformers saves MPNetModel."""
    n = lambda *s, sd=1.0: (rng.standard_normal(s) * sd).astype(np.float32)
    w = {'embeddings.word_embeddings.weight': n(V, E, sd=0.5), 'embeddings.position_embeddings.weight': n(n_pos, E, sd=0.5),
         'embeddings.LayerNorm.weight': 1 + n(E, sd=0.1), 'embeddings.LayerNorm.bias': n(E, sd=0.1),
         # large enough that every bucket (and its sign) moves the outputs
         'encoder.relative_attention_bias.weight': n(n_buckets, H, sd=1.0)}
    for i in range(L):
        p = f'encoder.layer.{i}.'
        for m in ('q', 'k', 'v', 'o'):
            w[p + f'attention.attn.{m}.weight'] = n(E, E, sd=1.5 / math.sqrt(E))
            w[p + f'attention.attn.{m}.bias'] = n(E, sd=0.1)
        w[p + 'attention.LayerNorm.weight'] = 1 + n(E, sd=0.1)
        w[p + 'attention.LayerNorm.bias'] = n(E, sd=0.1)
        w[p + 'intermediate.dense.weight'] = n(F, E, sd=1.5 / math.sqrt(E))
        w[p + 'intermediate.dense.bias'] = n(F, sd=0.1)
        w[p + 'output.dense.weight'] = n(E, F, sd=1.5 / math.sqrt(F))
        w[p + 'output.dense.bias'] = n(E, sd=0.1)
        w[p + 'output.LayerNorm.weight'] = 1 + n(E, sd=0.1)
        w[p + 'output.LayerNorm.bias'] = n(E, sd=0.1)
    w['pooler.dense.weight'] = n(E, E, sd=1 / math.sqrt(E))
    w['pooler.dense.bias'] = n(E, sd=0.1)
    return w


def write_safetensors(path, w, dtype):
    header, off, blobs = {}, 0, []
    for k in sorted(w):
        b = w[k].astype(np.float16 if dtype == 'F16' else np.float32).tobytes()
        header[k] = {'dtype': dtype, 'shape': list(w[k].shape), 'data_offsets': [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    header['__metadata__'] = {'format': 'pt'}
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


# -----------------------------------------------------------------------------------------
# The reference, float64, batch at a time as MPNetModel runs it (padding attended as HF does,
# masked by the extended attention mask).

def relative_position_bucket(relative_position, num_buckets=32, max_distance=128):
    # MPNetEncoder.relative_position_bucket, op for op (its log runs in float32)
    ret = 0
    n = -relative_position
    num_buckets //= 2
    ret += (n < 0).to(torch.long) * num_buckets
    n = torch.abs(n)
    max_exact = num_buckets // 2
    is_small = n < max_exact
    val_if_large = max_exact + (
        torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)).to(torch.long)
    val_if_large = torch.min(val_if_large, torch.full_like(val_if_large, num_buckets - 1))
    ret += torch.where(is_small, n, val_if_large)
    return ret


def forward(w, cfg, ids, mask):
    t = {k: torch.tensor(v.astype(np.float64)) for k, v in w.items()}
    ids, mask = torch.tensor(ids, dtype=torch.long), torch.tensor(mask, dtype=torch.float64)
    B, S = ids.shape
    D = E // H
    eps = cfg['layer_norm_eps']
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (E,), t[p + '.weight'], t[p + '.bias'], eps)
    lin = lambda x, p: x @ t[p + '.weight'].T + t[p + '.bias']
    gelu = lambda x: 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))

    # MPNetEmbeddings: padding_idx = 1 whatever the config says
    nz = ids.ne(1).long()
    pos = torch.cumsum(nz, dim=1) * nz + 1
    x = ln(t['embeddings.word_embeddings.weight'][ids] + t['embeddings.position_embeddings.weight'][pos], 'embeddings.LayerNorm')

    # get_extended_attention_mask
    ext = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float64).min
    # compute_position_bias(x): plain columns, num_buckets=32 (the default argument)
    ctx = torch.arange(S, dtype=torch.long)[:, None]
    mem = torch.arange(S, dtype=torch.long)[None, :]
    rp_bucket = relative_position_bucket(mem - ctx, num_buckets=32)
    pb = t['encoder.relative_attention_bias.weight'][rp_bucket].permute(2, 0, 1).unsqueeze(0)   # (1, H, S, S)

    split = lambda y: y.view(B, S, H, D).transpose(1, 2)
    for i in range(L):
        p = f'encoder.layer.{i}.'
        q, k, v = (split(lin(x, p + f'attention.attn.{m}')) for m in ('q', 'k', 'v'))
        scores = q @ k.transpose(-1, -2) / math.sqrt(D)
        scores = scores + pb
        scores = scores + ext
        c = (torch.softmax(scores, dim=-1) @ v).permute(0, 2, 1, 3).reshape(B, S, E)
        x = ln(lin(c, p + 'attention.attn.o') + x, p + 'attention.LayerNorm')
        x = ln(lin(gelu(lin(x, p + 'intermediate.dense')), p + 'output.dense') + x, p + 'output.LayerNorm')

    m = mask[:, :, None]
    mean = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)           # sentence-transformers Pooling (mean)
    # h[:, 0] as sentence-transformers reads it, at each row's first real token (the same for right
    # padding; a left-padded row's column 0 is a pad token, which a batch-invariant engine never sees)
    cls = x[torch.arange(B), mask.argmax(dim=1)]
    pooler = torch.tanh(lin(x[:, 0], 'pooler.dense'))                # MPNetPooler: column 0
    nrm = lambda y: y / y.norm(dim=-1, keepdim=True).clamp(min=1e-12)   # Normalize
    return {'last_hidden_state': x, 'mean_pooled': mean, 'mean_pooled_normalized': nrm(mean), 'cls_pooled': cls,
            'cls_pooled_normalized': nrm(cls), 'pooler_output': pooler, 'position_ids': pos}


# -----------------------------------------------------------------------------------------
# Files

DESCS = {
    'input_ids': 'token ids [B,S]',
    'attention_mask': '1 = real token, 0 = padding [B,S]',
    'last_hidden_state': 'final encoder output [B,S,D] (post-LN); compare where attention_mask==1',
    'mean_pooled': 'sentence-transformers mean pooling over attention_mask==1 [B,D]',
    'mean_pooled_normalized': 'L2-normalised mean pooling [B,D]',
    'cls_pooled': 'h[:,0] (at the first real token of the row) [B,D]',
    'cls_pooled_normalized': 'L2-normalised h[:,0] (at the first real token of the row) [B,D]',
    'pooler_output': 'MPNetModel pooler tanh(dense(h[:,0])) - NOT used by the embedder [B,D]',
    'position_ids': 'absolute position ids: cumsum(ids != 1) * (ids != 1) + 1 [B,S]',
}


def write_fixture(name, w, cfg, st, dtype, cases, note, readme):
    out = os.path.join(FIXTURES, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, '1_Pooling'))
    write_safetensors(os.path.join(out, 'model.safetensors'), w, dtype)
    dump = lambda rel, obj: open(os.path.join(out, rel), 'w').write(json.dumps(obj, indent=2) + '\n')
    dump('config.json', cfg)
    modules = [{'idx': 0, 'name': '0', 'path': '', 'type': 'sentence_transformers.models.Transformer'},
               {'idx': 1, 'name': '1', 'path': '1_Pooling', 'type': 'sentence_transformers.models.Pooling'}]
    if st['normalize']:
        modules.append({'idx': 2, 'name': '2', 'path': '2_Normalize', 'type': 'sentence_transformers.models.Normalize'})
    dump('modules.json', modules)
    dump('1_Pooling/config.json', {'word_embedding_dimension': E, 'pooling_mode_cls_token': st['pooling'] == 'cls',
                                   'pooling_mode_mean_tokens': st['pooling'] == 'mean', 'pooling_mode_max_tokens': False,
                                   'pooling_mode_mean_sqrt_len_tokens': False})
    dump('sentence_bert_config.json', {'max_seq_length': st['max_seq_length'], 'do_lower_case': False})
    dump('config_sentence_transformers.json', {'__version__': {'sentence_transformers': '2.0.0', 'transformers': '4.6.1',
                                                               'pytorch': '1.8.1'}})
    # the weights as the engine reads them (fp16 rounding included)
    wr = {k: v.astype(np.float16).astype(np.float32) if dtype == 'F16' else v for k, v in w.items()}
    manifest = {'model': name, 'model_type': 'mpnet', 'generator': GENERATOR, 'note': note,
                'format': 'every .bin is raw little-endian, row-major (C order); shapes in elements',
                'reference': 'independent float64 PyTorch forward following transformers modeling_mpnet.py '
                             '(gen/mpnet_fixture.py), rounded to float32 on save',
                'cases': []}
    for cname, desc, ids, mask, roles in cases:
        r = forward(wr, cfg, ids, mask)
        r['input_ids'], r['attention_mask'] = np.array(ids), np.array(mask)
        tensors = {}
        for tname, role in [('input_ids', 'input'), ('attention_mask', 'input')] + roles:
            src = st['sentence_embedding'] if tname.startswith('sentence_embedding') else tname
            v = r[src]
            v = v.numpy() if isinstance(v, torch.Tensor) else v
            is_int = tname in ('input_ids', 'attention_mask', 'position_ids')
            v = v.astype(np.int32 if is_int else np.float32)
            fname = f'{cname}.{tname}.bin'
            v.tofile(os.path.join(out, fname))
            d = DESCS.get(tname, f'the model\'s own embedding: {st["sentence_embedding"]} (modules.json) [B,D]')
            tensors[tname] = {'file': fname, 'dtype': 'int32' if is_int else 'float32', 'shape': list(v.shape),
                              'desc': d, 'role': role}
        manifest['cases'].append({'name': cname, 'desc': desc, 'tensors': tensors})
    dump('manifest.json', manifest)
    open(os.path.join(out, 'README.md'), 'w').write(readme)


def row(rng, n):
    """<s> + n - 2 random ids (never a special one) + </s>"""
    return [BOS] + [int(v) for v in rng.integers(3, V, n - 2)] + [EOS]


def main():
    # --- mpnet_own: float32, mean + Normalize, 322 positions (320 tokens)
    rng = np.random.RandomState(31415)
    n_pos = 322
    w = make_weights(rng, n_pos, 32)
    rng_in = np.random.default_rng(2718)
    S = 24
    a, b, d = row(rng_in, 24), row(rng_in, 11), row(rng_in, 2)
    c = row(rng_in, 17)
    c[6] = PAD                                            # a <pad> id inside the text, mask 1
    rows = [(a + [PAD] * (S - 24), [1] * 24 + [0] * (S - 24)),
            ([PAD] * (S - 11) + b, [0] * (S - 11) + [1] * 11),    # left padded
            (c + [PAD] * (S - 17), [1] * 17 + [0] * (S - 17)),
            (d + [PAD] * (S - 2), [1] * 2 + [0] * (S - 2))]
    long_row = row(rng_in, n_pos - 2)
    full = [('last_hidden_state', 'expected'), ('mean_pooled', 'expected'), ('mean_pooled_normalized', 'expected'),
            ('sentence_embedding_normalized', 'expected'), ('cls_pooled_normalized', 'optional'), ('pooler_output', 'optional'),
            ('position_ids', 'optional')]
    cases = [
        ('padded_batch', '4 rows padded to 24 with <pad>=1: 24 tokens; 11 tokens LEFT padded; 17 tokens with a <pad> id '
         '(mask 1) at column 6, right padded; 2 tokens (<s></s>)',
         [r for r, _ in rows], [m for _, m in rows], full),
        ('long320', 'one unpadded row at the model limit (320 tokens, positions 2..321): |i-j| up to 319, buckets 15/31 '
         'clamped from distance 91 on', [long_row], [[1] * len(long_row)], full),
    ]
    write_fixture('mpnet_own', w, config(n_pos), {'pooling': 'mean', 'normalize': True, 'max_seq_length': n_pos - 2,
                                                  'sentence_embedding': 'mean_pooled_normalized'}, 'F32', cases,
                  'all-mpnet-base-v2 layout: hidden 32, 4 heads (head_dim 8), 2 layers, intermediate 64, vocab 200, '
                  'max_position_embeddings 322 (=> 320 tokens), layer_norm_eps 1e-5; mean pooling + Normalize',
                  README_OWN)

    # --- mpnet_own_cls: float16, CLS without Normalize, deliberately misleading config keys
    rng = np.random.RandomState(27182)
    n_pos = 66
    w = make_weights(rng, n_pos, 40)
    rng_in = np.random.default_rng(1618)
    S = 64
    a, b, d = row(rng_in, 64), row(rng_in, 30), row(rng_in, 5)
    rows = [(a, [1] * 64), (b + [PAD] * (S - 30), [1] * 30 + [0] * (S - 30)), (d + [PAD] * (S - 5), [1] * 5 + [0] * (S - 5))]
    roles = [('last_hidden_state', 'expected'), ('sentence_embedding', 'expected'), ('cls_pooled', 'expected'),
             ('mean_pooled_normalized', 'expected'), ('position_ids', 'optional')]
    cases = [('batch3', '3 rows of 64 (the limit), 30 and 5 tokens, right padded with <pad>=1 to 64',
              [r for r, _ in rows], [m for _, m in rows], roles)]
    write_fixture('mpnet_own_cls', w, config(n_pos, pad_token_id=0, n_buckets=40),
                  {'pooling': 'cls', 'normalize': False, 'max_seq_length': n_pos - 2, 'sentence_embedding': 'cls_pooled'},
                  'F16', cases,
                  'multi-qa-mpnet-base-dot-v1 layout (CLS pooling, no Normalize), float16 weights: hidden 32, 4 heads, '
                  '2 layers, max_position_embeddings 66 (=> 64 tokens); config.json says pad_token_id 0 and '
                  'relative_attention_num_buckets 40, which MPNetModel does not read (padding_idx 1, 32 buckets)',
                  README_CLS)


README_COMMON = """
## Subtle points (modeling_mpnet.py)

1. Position ids: `cumsum(ids != 1) * (ids != 1) + 1` with `padding_idx` HARD-CODED to 1 (not config.pad_token_id):
   real tokens use rows 2, 3, ... of the position table, a <pad> id row 1. No token type embeddings.
2. Relative bias from plain columns 0..S-1 (`compute_position_bias` without position ids), the same in every layer,
   added after `/sqrt(head_dim)` and before the padding mask.
3. T5 bidirectional buckets with `num_buckets=32` and `max_distance=128` fixed as default arguments (config's
   `relative_attention_num_buckets` is not read for them): +16 when the key is after the query; |n| < 8 exact; else
   `8 + trunc(log(|n|/8) / log(16) * 8)` clamped to 15 (the reference runs this log in float32, as HF does).
4. Post-LN blocks, erf GELU, `layer_norm_eps` from the config (1e-5).
5. The pooler is not the embedding (sentence-transformers pools the hidden states).

Format, roles and tolerances: `../README.md`. Hidden states are compared only where attention_mask == 1.
Regenerate with `/usr/bin/python3 gen/mpnet_fixture.py` (deterministic).
"""

README_OWN = """# mpnet_own: MPNet, all-mpnet-base-v2 layout (wembed's own)

Tiny random-weight `MPNetModel` (float32): hidden 32, 4 heads (head_dim 8), 2 layers, intermediate 64, vocab 200,
`max_position_embeddings` 322 (=> 320 tokens), sentence-transformers Transformer -> Pooling(mean) -> Normalize.
Seeds: numpy `RandomState(31415)` for the weights, `default_rng(2718)` for the inputs.

## Cases

| case | what |
|---|---|
| `padded_batch` | 4 rows padded to 24: a right-padded 24-token row; an 11-token row LEFT padded (its outputs equal the unpadded ones: positions count non-pad ids and the bias only depends on j - i); a 17-token row with a <pad> id (1) at column 6 under mask 1 (position 1 for it, the tokens after it continue at 7, 8, ... while the relative bias still counts columns); a 2-token row |
| `long320` | one row at the model's limit: 320 tokens, positions 2..321, relative distances up to 319 (all clamped to bucket 15 / 31 from 91 on) |

Expected: `last_hidden_state`, `mean_pooled`, `mean_pooled_normalized`, `sentence_embedding_normalized` (the model's
own pooling, mean, then Normalize). Optional: `cls_pooled_normalized`, `pooler_output`, `position_ids`.
""" + README_COMMON

README_CLS = """# mpnet_own_cls: MPNet, multi-qa-mpnet-base-dot-v1 layout, float16 weights (wembed's own)

Tiny random-weight `MPNetModel` stored in float16 (expected outputs computed in float64 from the rounded weights):
hidden 32, 4 heads, 2 layers, intermediate 64, vocab 200, `max_position_embeddings` 66 (=> 64 tokens),
sentence-transformers Transformer -> Pooling(cls), no Normalize (a dot-product model).

config.json deliberately says `pad_token_id: 0` and `relative_attention_num_buckets: 40` (a 40-row bias table):
MPNetModel reads neither for its forward pass (`padding_idx = 1` is hard-coded; `compute_position_bias` calls
`relative_position_bucket` with its default 32 buckets, so rows 32..39 are never used), and neither may the engine.
Seeds: numpy `RandomState(27182)` for the weights, `default_rng(1618)` for the inputs.

## Cases

| case | what |
|---|---|
| `batch3` | 3 rows of 64 (the limit), 30 and 5 tokens, right padded with <pad>=1 to 64 |

Expected: `last_hidden_state`, `sentence_embedding` (the model's own: h[:,0], not normalized), `cls_pooled`,
`mean_pooled_normalized`. Optional: `position_ids`.
""" + README_COMMON

if __name__ == '__main__':
    main()
