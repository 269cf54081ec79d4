#!/usr/bin/python3
"""Two tiny GTE "NewModel" fixtures with what the shared gte_en fixture does not cover.

    /usr/bin/python3 gen/gte_fixture.py       (Debian: python3-torch, python3-numpy)

Writes tests/data/fixtures/gte_own/ and tests/data/fixtures/gte_own_ml/ in the format of
tests/data/fixtures/README.md (manifest.json with roles, raw little-endian .bin tensors):

  gte_own     snowflake-arctic-embed-m-v2.0 style: model_type "gte", rope_scaling null (plain
              RoPE, theta 160000), type_vocab_size 1 (type row 0 always added), XLM-R ids
              (<s> 0, </s> 2, pad 1), "unpad_inputs" / "use_memory_efficient_attention" written
              as the string "true" as that model's config.json does; sentence-transformers files
              Transformer -> Pooling(cls) -> Normalize with a "query: " prompt. Cases: a padded
              batch of 4, and one 150-token row (past max_position_embeddings 64: the reference
              rebuilds its tables). Matryoshka: L2(cls[:16]).
  gte_own_ml  gte-multilingual-base style: model_type "new", tensor names with the "new."
              prefix of a NewForTokenClassification checkpoint plus its classifier head (unused),
              type_vocab_size 2 with token_type_ids given, rope_scaling ntk factor 4 with
              max_position_embeddings 32, head_dim 32; no sentence-transformers files (the
              family's default pooling: CLS). Cases: a padded batch with token types, a
              padded batch without them (type 0), and one 150-token row (past
              max_position_embeddings * factor = 128: the reference rebuilds its tables with
              the same formula).

Expected outputs come from an independent float64 torch forward written from the remote code
Alibaba-NLP/new-impl modeling.py (NewEmbeddings, RotaryEmbedding / NTKScalingRotaryEmbedding
with their table cache and rebuild, NewAttention eager path with the padding mask, NewGatedMLP,
NewLayer), never from wembed. Weights are float32 (numpy RandomState seeds below), the reference
runs on them in float64, outputs are stored as float32. Re-running writes identical files.
"""
import json
import math
import os
import struct

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
FIXTURES = os.path.join(ROOT, 'tests', 'data', 'fixtures')


# -----------------------------------------------------------------------------------------
# The reference, float64

class Rope:
    """RotaryEmbedding, or NTKScalingRotaryEmbedding when factor is given (mixed_b None):
    the constructor's tables for max_position_embeddings (* factor) positions, rebuilt for a
    longer input, inv_freq replaced by the NTK one whenever the table length passes
    max_position_embeddings."""

    def __init__(self, dim, max_pos, base, factor=None):
        self.dim, self.max_pos, self.base, self.factor = dim, max_pos, base, factor
        self.rebuilds = 0
        self.inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
        self._set_cache(max_pos)
        if factor is not None:
            self._set_cache(max_pos * factor)
        self.rebuilds = 0

    def _set_cache(self, seq_len):
        self.cached = seq_len
        self.rebuilds += 1
        if self.factor is not None and seq_len > self.max_pos:
            j = torch.arange(0, self.dim, 2, dtype=torch.float64)
            self.inv_freq = 1.0 / ((self.base * self.factor) ** (j / self.dim)) / self.factor ** (2 / self.dim)
        t = torch.arange(int(math.ceil(seq_len)), dtype=torch.float64)
        freqs = torch.outer(t, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def __call__(self, seq_len):
        if seq_len > self.cached:
            self._set_cache(seq_len)
        return self.cos[:seq_len], self.sin[:seq_len]


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def reference(cfg, w, rope, ids, mask, types):
    """last_hidden_state (B, S, E) of a right-padded batch, as NewModel computes it."""
    E, H, F = cfg['hidden_size'], cfg['num_attention_heads'], cfg['intermediate_size']
    d, eps = E // H, cfg['layer_norm_eps']
    t = {k: torch.from_numpy(v).double() for k, v in w.items()}
    ids = torch.from_numpy(ids).long()
    B, S = ids.shape
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (E,), t[p + '.weight'], t[p + '.bias'], eps)
    lin = lambda x, p: x @ t[p + '.weight'].T + (t[p + '.bias'] if p + '.bias' in t else 0)

    # NewEmbeddings: word (+ token type: given ids, or position_ids * 0), LayerNorm; positions
    # 0..S-1 index the rotary tables.
    x = t['embeddings.word_embeddings.weight'][ids]
    if cfg['type_vocab_size'] > 0:
        tt = torch.zeros_like(ids) if types is None else torch.from_numpy(types).long()
        x = x + t['embeddings.token_type_embeddings.weight'][tt]
    x = ln(x, 'embeddings.LayerNorm')
    cos, sin = rope(S)                                    # (S, d)
    cos, sin = cos[None, :, None, :], sin[None, :, None, :]
    # get_extended_attention_mask: (1 - mask) * finfo.min, added to every query row
    bias = (1.0 - torch.from_numpy(mask).double())[:, None, None, :] * torch.finfo(torch.float64).min

    for i in range(cfg['num_hidden_layers']):
        p = f'encoder.layer.{i}.'
        q, k, v = (s.reshape(B, S, H, d) for s in lin(x, p + 'attention.qkv_proj').split(E, dim=-1))
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        q, k, v = (s.transpose(1, 2) for s in (q, k, v))  # (B, H, S, d)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + bias
        ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, S, E)
        x = ln(x + lin(ctx, p + 'attention.o_proj'), p + 'attn_ln')
        up, gate = lin(x, p + 'mlp.up_gate_proj').split(F, dim=-1)
        x = ln(x + lin(gelu(gate) * up, p + 'mlp.down_proj'), p + 'mlp_ln')
    return x


# -----------------------------------------------------------------------------------------
# Writers

def write_safetensors(path, tensors):
    header, off, blobs = {}, 0, []
    for k in sorted(tensors):
        b = tensors[k].astype('<f4').tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(tensors[k].shape), 'data_offsets': [off, off + len(b)]}
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


def random_weights(cfg, seed):
    """Matrices N(0, 0.08) (qkv 0.15: sharper, position-sensitive attention), embeddings
    N(0, 0.05), LayerNorm weights 1 + N(0, 0.1), biases N(0, 0.02)/N(0, 0.05)."""
    rs = np.random.RandomState(seed)
    E, F, V, T = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size'], cfg['type_vocab_size']
    n = lambda s, *shape: (rs.standard_normal(shape) * s).astype(np.float32)
    w = {'embeddings.word_embeddings.weight': n(0.05, V, E)}
    if T > 0:
        w['embeddings.token_type_embeddings.weight'] = n(0.05, T, E)
    w['embeddings.LayerNorm.weight'] = 1 + n(0.1, E)
    w['embeddings.LayerNorm.bias'] = n(0.05, E)
    for i in range(cfg['num_hidden_layers']):
        p = f'encoder.layer.{i}.'
        w[p + 'attention.qkv_proj.weight'] = n(0.15, 3 * E, E)
        w[p + 'attention.qkv_proj.bias'] = n(0.02, 3 * E)
        w[p + 'attention.o_proj.weight'] = n(0.08, E, E)
        w[p + 'attention.o_proj.bias'] = n(0.02, E)
        w[p + 'attn_ln.weight'] = 1 + n(0.1, E)
        w[p + 'attn_ln.bias'] = n(0.05, E)
        w[p + 'mlp.up_gate_proj.weight'] = n(0.08, 2 * F, E)
        w[p + 'mlp.down_proj.weight'] = n(0.08, E, F)
        w[p + 'mlp.down_proj.bias'] = n(0.02, E)
        w[p + 'mlp_ln.weight'] = 1 + n(0.1, E)
        w[p + 'mlp_ln.bias'] = n(0.05, E)
    return w


def l2(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def xlmr_rows(rs, lengths, V):
    """<s> 0, words 3..V-1, </s> 2, right-padded with pad 1."""
    S = max(lengths)
    ids = np.ones((len(lengths), S), np.int32)
    mask = np.zeros((len(lengths), S), np.int32)
    for b, n in enumerate(lengths):
        ids[b, :n] = [0] + list(rs.randint(3, V, n - 2)) + [2]
        mask[b, :n] = 1
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

    def case(self, name, desc, ids, mask, types, hidden, outputs):
        ts = [self.tensor(name, 'input_ids', ids, 'input', 'token ids [B,S] (right padded with 1)'),
              self.tensor(name, 'attention_mask', mask, 'input', '1 = real token, 0 = padding')]
        if types is not None:
            ts.append(self.tensor(name, 'token_type_ids', types, 'input', 'token type ids [B,S]'))
        ts.append(self.tensor(name, 'last_hidden_state', hidden, 'expected',
                              'final encoder output [B,S,D] (post-LN); compare where attention_mask==1'))
        for tname, (arr, tdesc) in outputs.items():
            ts.append(self.tensor(name, tname, arr, 'expected', tdesc))
        self.cases.append({'name': name, 'desc': desc, 'tensors': dict(ts)})

    def readme(self, title, points, seeds):
        lines = [f'# {self.name}: {title}', '', f'Written by `gen/gte_fixture.py` (re-run it to regenerate; the files come out '
                 'identical). ' + self.note + '.', '', '## Cases', '', '| case | what |', '|---|---|']
        lines += [f"| `{c['name']}` | {c['desc']} |" for c in self.cases]
        lines += ['', 'Inputs: `input_ids`, `attention_mask` (and `token_type_ids` where listed). Expected: every other '
                  'tensor (format, roles and tolerances: `../README.md`; hidden states only where attention_mask == 1).',
                  '', '## What it checks', '']
        lines += [f'{i + 1}. {p}' for i, p in enumerate(points)]
        lines += ['', '## Reference', '', 'An independent float64 torch forward written from the remote code '
                  '`Alibaba-NLP/new-impl` `modeling.py` (NewEmbeddings, RotaryEmbedding / NTKScalingRotaryEmbedding with '
                  'their table cache and its rebuild for longer inputs, eager NewAttention with the padding mask, '
                  'NewGatedMLP, NewLayer), run on the float32 weights, stored as float32.', '', '## Seeds', '', seeds, '']
        with open(os.path.join(self.dir, 'README.md'), 'w') as f:
            f.write('\n'.join(lines))

    def finish(self, extra):
        manifest = {
            'model': self.name, 'model_type': self.cfg['model_type'], 'note': self.note,
            'generator': 'gen/gte_fixture.py',
            'format': 'every .bin is raw little-endian, row-major (C order); shapes in elements',
            'reference': 'independent float64 torch forward following Alibaba-NLP/new-impl modeling.py '
                         '(gen/gte_fixture.py), rounded to float32 on save',
            'roles': {'input': 'feed to the engine', 'expected': 'the engine must produce it and match',
                      'optional': 'compared only when the engine reports it'},
            'tolerances': {'float_max_abs': 1e-4, 'embedding_min_row_cosine': 0.99999},
            'cases': self.cases,
        }
        manifest.update(extra)
        write_json(os.path.join(self.dir, 'manifest.json'), manifest)


def run(fx, w, rope, ids, mask, types):
    h = reference(fx.cfg, w, rope, ids, mask, types).numpy()
    h = h * mask[:, :, None]                              # padding rows are not compared; zero them
    return h.astype(np.float32), h[:, 0, :]


# -----------------------------------------------------------------------------------------

def gen_own():
    cfg = {
        'architectures': ['GteModel'],
        'auto_map': {'AutoConfig': 'configuration_hf_alibaba_nlp_gte.GteConfig',
                     'AutoModel': 'modeling_hf_alibaba_nlp_gte.GteModel'},
        'attention_probs_dropout_prob': 0.0, 'classifier_dropout': 0.1, 'hidden_act': 'gelu',
        'hidden_dropout_prob': 0.1, 'hidden_size': 48, 'initializer_range': 0.02, 'intermediate_size': 80,
        'layer_norm_eps': 1e-12, 'layer_norm_type': 'layer_norm', 'logn_attention_clip1': False,
        'logn_attention_scale': False, 'max_position_embeddings': 64, 'model_type': 'gte',
        'num_attention_heads': 4, 'num_hidden_layers': 2, 'pack_qkv': True, 'pad_token_id': 1,
        'position_embedding_type': 'rope', 'rope_scaling': None, 'rope_theta': 160000, 'torch_dtype': 'float32',
        'transformers_version': '4.39.3', 'type_vocab_size': 1, 'unpad_inputs': 'true',
        'use_memory_efficient_attention': 'true', 'vocab_size': 400,
    }
    fx = Fixture('gte_own', cfg, 'snowflake-arctic-embed-m-v2.0 style GteModel: 48 wide, 4 heads (head_dim 12), '
                 '2 layers, intermediate 80, vocab 400, type_vocab_size 1, rope_theta 160000, rope_scaling null '
                 '(plain RoPE), max_position_embeddings 64, string-valued unpad_inputs / '
                 'use_memory_efficient_attention, CLS pooling + Normalize, Matryoshka 16 = L2(cls[:16])')
    w = random_weights(cfg, 20240)
    write_safetensors(os.path.join(fx.dir, 'model.safetensors'), w)
    write_json(os.path.join(fx.dir, 'config.json'), cfg)
    write_json(os.path.join(fx.dir, 'modules.json'), [
        {'idx': 0, 'name': '0', 'path': '', 'type': 'sentence_transformers.models.Transformer'},
        {'idx': 1, 'name': '1', 'path': '1_Pooling', 'type': 'sentence_transformers.models.Pooling'},
        {'idx': 2, 'name': '2', 'path': '2_Normalize', 'type': 'sentence_transformers.models.Normalize'}])
    write_json(os.path.join(fx.dir, '1_Pooling', 'config.json'), {
        'word_embedding_dimension': 48, 'pooling_mode_cls_token': True, 'pooling_mode_mean_tokens': False,
        'pooling_mode_max_tokens': False, 'pooling_mode_mean_sqrt_len_tokens': False,
        'pooling_mode_weightedmean_tokens': False, 'pooling_mode_lasttoken': False, 'include_prompt': True})
    write_json(os.path.join(fx.dir, 'sentence_bert_config.json'), {'max_seq_length': 8192, 'do_lower_case': False})
    write_json(os.path.join(fx.dir, 'config_sentence_transformers.json'), {
        '__version__': {'sentence_transformers': '3.3.1', 'transformers': '4.39.3', 'pytorch': '2.2.0'},
        'prompts': {'query': 'query: '}, 'default_prompt_name': None, 'similarity_fn_name': 'cosine'})

    rs = np.random.RandomState(7341)
    rope = Rope(12, 64, 160000.0)
    cases = [('batch4', 'XLM-R ids, 4 rows of 31, 18, 9 and 2 tokens right padded; no token_type_ids (type row 0 added)',
              [31, 18, 9, 2]),
             ('len150', 'one 150-token row, past max_position_embeddings 64 (plain RoPE tables rebuilt)', [150])]
    for name, desc, lengths in cases:
        ids, mask = xlmr_rows(rs, lengths, cfg['vocab_size'])
        hidden, cls = run(fx, w, rope, ids, mask, None)
        fx.case(name, desc, ids, mask, None, hidden, {
            'cls_pooled': (cls.astype(np.float32), 'last_hidden_state[:, 0] [B,D]'),
            'cls_pooled_normalized': (l2(cls).astype(np.float32), 'L2(cls_pooled)'),
            'sentence_embedding': (cls.astype(np.float32), "the model's own pooling (sentence-transformers Pooling cls), "
                                   'before normalization'),
            'sentence_embedding_normalized': (l2(cls).astype(np.float32), 'sentence-transformers: Pooling(cls) -> Normalize'),
            'matryoshka_16': (l2(cls[:, :16]).astype(np.float32), 'L2(cls_pooled[:, :16]) (truncate, then normalize)'),
        })
    assert rope.rebuilds == 1, 'len150 rebuilds the plain tables once'
    fx.readme('snowflake-arctic-embed-m-v2.0 style GteModel', [
        'model_type "gte" (Snowflake\'s copy of the remote code) is the same family as "new".',
        'rope_scaling null: plain RoPE with rope_theta 160000 on the full head_dim, rotate_half layout, positions '
        '0..n-1 of each row, also past max_position_embeddings (len150).',
        'type_vocab_size 1 and no token_type_ids: token type row 0 is added to every token before the LayerNorm.',
        '"unpad_inputs" and "use_memory_efficient_attention" are the string "true" (Python truthiness; they change '
        'nothing on real tokens).',
        'A right-padded batch: padding is masked out and does not change the real rows.',
        'sentence-transformers: Pooling(cls) -> Normalize; Matryoshka 16 = L2(cls[:, :16]).'],
        'numpy `RandomState(20240)` for the weights (matrices N(0, 0.08), qkv N(0, 0.15), embeddings N(0, 0.05), '
        'LayerNorm weights 1 + N(0, 0.1), biases N(0, 0.02) / N(0, 0.05)), `RandomState(7341)` for the inputs.')
    fx.finish({'pooling': 'cls', 'rope': {'head_dim': 12, 'theta': 160000, 'scaling': None}})


def gen_ml():
    cfg = {
        'architectures': ['NewForTokenClassification'],
        'auto_map': {'AutoConfig': 'Alibaba-NLP/new-impl--configuration.NewConfig',
                     'AutoModel': 'Alibaba-NLP/new-impl--modeling.NewModel',
                     'AutoModelForTokenClassification': 'Alibaba-NLP/new-impl--modeling.NewForTokenClassification'},
        'attention_probs_dropout_prob': 0.0, 'classifier_dropout': 0.0, 'hidden_act': 'gelu',
        'hidden_dropout_prob': 0.1, 'hidden_size': 64, 'id2label': {'0': 'LABEL_0'}, 'initializer_range': 0.02,
        'intermediate_size': 96, 'label2id': {'LABEL_0': 0}, 'layer_norm_eps': 1e-12, 'layer_norm_type': 'layer_norm',
        'logn_attention_clip1': False, 'logn_attention_scale': False, 'max_position_embeddings': 32,
        'model_type': 'new', 'num_attention_heads': 2, 'num_hidden_layers': 2, 'pack_qkv': True, 'pad_token_id': 1,
        'position_embedding_type': 'rope', 'rope_scaling': {'factor': 4.0, 'type': 'ntk'}, 'rope_theta': 20000,
        'torch_dtype': 'float32', 'transformers_version': '4.39.1', 'type_vocab_size': 2, 'unpad_inputs': False,
        'use_memory_efficient_attention': False, 'vocab_size': 300,
    }
    fx = Fixture('gte_own_ml', cfg, 'gte-multilingual-base style NewModel checkpoint of NewForTokenClassification: '
                 '"new." prefixed names plus an unused classifier head, 64 wide, 2 heads (head_dim 32), 2 layers, '
                 'intermediate 96, vocab 300, type_vocab_size 2 (token types given), rope_theta 20000 with '
                 'rope_scaling ntk factor 4 and max_position_embeddings 32; no sentence-transformers files '
                 '(default pooling CLS)')
    w = random_weights(cfg, 31337)
    rs = np.random.RandomState(4242)
    stored = {'new.' + k: v for k, v in w.items()}
    stored['classifier.weight'] = (rs.standard_normal((1, 64)) * 0.08).astype(np.float32)
    stored['classifier.bias'] = np.zeros(1, np.float32)
    write_safetensors(os.path.join(fx.dir, 'model.safetensors'), stored)
    write_json(os.path.join(fx.dir, 'config.json'), cfg)

    rope = Rope(32, 32, 20000.0, 4.0)
    assert rope.cached == 128
    cases = [('batch3_types', '3 rows of 20, 11 and 4 tokens right padded, token_type_ids 0/1 on real tokens', [20, 11, 4], True),
             ('batch2_no_types', '2 rows of 13 and 6 tokens right padded, no token_type_ids (type row 0 added)', [13, 6], False),
             ('len150', 'one 150-token row, past max_position_embeddings * factor = 128 (NTK tables rebuilt, same formula)',
              [150], False)]
    for name, desc, lengths, with_types in cases:
        ids, mask = xlmr_rows(rs, lengths, cfg['vocab_size'])
        types = (rs.randint(0, 2, ids.shape) * mask).astype(np.int32) if with_types else None
        hidden, cls = run(fx, w, rope, ids, mask, types)
        fx.case(name, desc, ids, mask, types, hidden, {
            'cls_pooled': (cls.astype(np.float32), 'last_hidden_state[:, 0] [B,D]'),
            'sentence_embedding': (cls.astype(np.float32), "the family's default pooling without sentence-transformers "
                                   'files: CLS (before normalization)'),
            'sentence_embedding_normalized': (l2(cls).astype(np.float32), 'L2(sentence_embedding)'),
        })
    assert rope.rebuilds == 1 and rope.cached == 150, 'len150 rebuilds the NTK tables once'
    fx.readme('gte-multilingual-base style NewModel', [
        'Fixed NTK RoPE: inv_freq_j = 1 / (theta f)^(2j/d) / f^(2/d) (theta 20000, f 4, d 32) at every length: rows '
        'shorter than max_position_embeddings 32 (the batches) and a row past max_position_embeddings * f = 128 '
        '(len150), for which the reference rebuilds its tables with the same formula.',
        'type_vocab_size 2 with token_type_ids 0/1 (batch3_types): the type rows are gathered per token; without '
        'token_type_ids (batch2_no_types, len150) row 0 is added.',
        'A NewForTokenClassification checkpoint: every encoder name has the "new." prefix, and classifier.weight / '
        'classifier.bias are present and unused.',
        'No sentence-transformers files: the default pooling is CLS (sentence_embedding).'],
        'numpy `RandomState(31337)` for the weights (as gte_own), `RandomState(4242)` for the classifier head and the '
        'inputs.')
    j = np.arange(0, 32, 2)
    fx.finish({'pooling': 'cls', 'rope': {
        'head_dim': 32, 'formula': 'inv_freq_j = 1 / (20000 * 4) ** (2j/32) / 4 ** (2/32), at every length',
        'inv_freq': list(1.0 / (20000.0 * 4.0) ** (j / 32) / 4.0 ** (2 / 32))}})


def main():
    torch.set_num_threads(1)
    gen_own()
    gen_ml()


if __name__ == '__main__':
    main()
