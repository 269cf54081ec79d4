#!/usr/bin/python3
"""wembed's own DeBERTa-v2 fixtures: tiny random-weight DebertaV2ForSequenceClassification
cross-encoders in the exact HF layout (mixedbread-ai/mxbai-rerank-xsmall-v1 / -base-v1 config
keys and tensor names), with logits and hidden states from an independent float64 forward written
after transformers' modeling_deberta_v2.py (DebertaV2Embeddings, DebertaV2Encoder.get_rel_embedding,
build_relative_position, make_log_bucket_position, DisentangledSelfAttention and its
disentangled_attention_bias, XSoftmax, ContextPooler).

    /usr/bin/python3 gen/deberta_fixture.py        (Debian: python3-torch, python3-numpy)

Deterministic. Writes two role-tagged fixture folders (tests/data/fixtures/README.md has the format):

  deberta_own      the mxbai-rerank layout: share_att_key, pos_att_type [p2c, c2p],
                   norm_rel_ebd layer_norm, position_buckets 16 (mid 8) with max_relative_positions -1
                   (-> max_position_embeddings 64), position_biased_input false, type_vocab_size 0,
                   pooler_hidden_act gelu, one label; and a DeBERTa-v3 style tokenizer.json (Unigram,
                   Metaspace, the [CLS] A [SEP] B [SEP] pair template) over a small vocabulary taken
                   from tests/data/tokenizers/t5-small (for the JS pair-encoding test).
  deberta_own_sep  the other branches of the same code: separate pos_key_proj / pos_query_proj (no
                   share_att_key), no rel-embedding norm, max_relative_positions 40 (so distances of a
                   64-token row bucket past 2S - 1 and are clamped), position_biased_input true,
                   type_vocab_size 2, pooler_hidden_act tanh, two labels.

Also checks that the reference's float32 log bucket and a float64 one agree for every distance below
8192 under the mxbai configuration (mid 128, max 512) and the fixtures' (the engine computes in double).
"""
import base64
import json
import math
import os
import shutil
import struct

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
FIXTURES = os.path.join(ROOT, 'tests', 'data', 'fixtures')
GENERATOR = 'gen/deberta_fixture.py'

E, H, L, F = 32, 4, 2, 64              # hidden, heads (head_dim 8), layers, intermediate
N_POS = 64
PAD, CLS, SEP, UNK = 0, 1, 2, 3        # DeBERTa-v3's special ids


# -----------------------------------------------------------------------------------------
# The tokenizer: DebertaV2Converter's tokenizer.json over t5-small's first pieces

def tokenizer_json():
    t5 = json.load(open(os.path.join(ROOT, 'tests', 'data', 'tokenizers', 't5-small', 'tokenizer.json')))
    pieces = [p for p in t5['model']['vocab'][3:403]]
    have = {p for p, _ in pieces}
    pieces += [p for p in t5['model']['vocab'][403:] if len(p[0]) == 1 and p[0].isalnum() and p[0].isascii() and p[0] not in have]
    vocab = [['[PAD]', 0.0], ['[CLS]', 0.0], ['[SEP]', 0.0], ['[UNK]', 0.0]] + pieces + [['[MASK]', 0.0]]
    special = lambda c, i: {'id': i, 'content': c, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False,
                            'special': True}
    V = len(vocab)
    return {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [special('[PAD]', 0), special('[CLS]', 1), special('[SEP]', 2), special('[UNK]', 3), special('[MASK]', V - 1)],
        'normalizer': {'type': 'Sequence', 'normalizers': [
            {'type': 'Strip', 'strip_left': True, 'strip_right': True},
            {'type': 'Precompiled', 'precompiled_charsmap': t5['normalizer']['precompiled_charsmap']},
            {'type': 'Replace', 'pattern': {'Regex': ' {2,}'}, 'content': ' '}]},
        'pre_tokenizer': {'type': 'Sequence', 'pretokenizers': [
            {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True}]},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                       {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                     {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 1}},
                     {'SpecialToken': {'id': '[SEP]', 'type_id': 1}}],
            'special_tokens': {'[CLS]': {'id': '[CLS]', 'ids': [CLS], 'tokens': ['[CLS]']},
                               '[SEP]': {'id': '[SEP]', 'ids': [SEP], 'tokens': ['[SEP]']}}},
        'decoder': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True},
        'model': {'type': 'Unigram', 'unk_id': UNK, 'vocab': vocab, 'byte_fallback': False},
    }


# -----------------------------------------------------------------------------------------
# Config and weights

def config(V, sep):
    c = {
        '_name_or_path': 'mixedbread-ai/mxbai-rerank-xsmall-v1', 'architectures': ['DebertaV2ForSequenceClassification'],
        'attention_probs_dropout_prob': 0.1, 'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1, 'hidden_size': E,
        'id2label': {'0': 'LABEL_0'}, 'initializer_range': 0.02, 'intermediate_size': F, 'label2id': {'LABEL_0': 0},
        'layer_norm_eps': 1e-07, 'max_position_embeddings': N_POS, 'max_relative_positions': -1, 'model_type': 'deberta-v2',
        'norm_rel_ebd': 'layer_norm', 'num_attention_heads': H, 'num_hidden_layers': L, 'pad_token_id': PAD,
        'pooler_dropout': 0, 'pooler_hidden_act': 'gelu', 'pooler_hidden_size': E, 'pos_att_type': ['p2c', 'c2p'],
        'position_biased_input': False, 'position_buckets': 16, 'relative_attention': True, 'share_att_key': True,
        'torch_dtype': 'float32', 'transformers_version': '4.38.1', 'type_vocab_size': 0, 'vocab_size': V,
    }
    if sep:
        c.update({'_name_or_path': 'microsoft/deberta-v2-style', 'share_att_key': False, 'norm_rel_ebd': 'none',
                  'max_relative_positions': 40, 'position_biased_input': True, 'type_vocab_size': 2,
                  'pooler_hidden_act': 'tanh', 'pos_att_type': 'p2c|c2p', 'id2label': {'0': 'LABEL_0', '1': 'LABEL_1'},
                  'label2id': {'LABEL_0': 0, 'LABEL_1': 1}, 'layer_norm_eps': 1e-05})
    return c


def make_weights(rng, cfg):
    """HF tensor names of DebertaV2ForSequenceClassification."""
    n = lambda *s, sd=1.0: (rng.standard_normal(s) * sd).astype(np.float32)
    V, S = cfg['vocab_size'], cfg['position_buckets']
    p = 'deberta.'
    w = {p + 'embeddings.word_embeddings.weight': n(V, E, sd=0.5),
         p + 'embeddings.LayerNorm.weight': 1 + n(E, sd=0.1), p + 'embeddings.LayerNorm.bias': n(E, sd=0.1),
         # large enough that every relative row moves the outputs
         p + 'encoder.rel_embeddings.weight': n(2 * S, E, sd=1.0)}
    if cfg['position_biased_input']:
        w[p + 'embeddings.position_embeddings.weight'] = n(cfg['max_position_embeddings'], E, sd=0.5)
    if cfg['type_vocab_size'] > 0:
        w[p + 'embeddings.token_type_embeddings.weight'] = n(cfg['type_vocab_size'], E, sd=0.5)
    if 'layer_norm' in cfg['norm_rel_ebd']:
        w[p + 'encoder.LayerNorm.weight'] = 1 + n(E, sd=0.2)
        w[p + 'encoder.LayerNorm.bias'] = n(E, sd=0.2)
    for i in range(L):
        q = f'{p}encoder.layer.{i}.'
        projs = ['query_proj', 'key_proj', 'value_proj']
        if not cfg['share_att_key']:
            projs += ['pos_key_proj', 'pos_query_proj']
        for m in projs:
            w[q + f'attention.self.{m}.weight'] = n(E, E, sd=1.5 / math.sqrt(E))
            w[q + f'attention.self.{m}.bias'] = n(E, sd=0.2)
        w[q + 'attention.output.dense.weight'] = n(E, E, sd=1.5 / math.sqrt(E))
        w[q + 'attention.output.dense.bias'] = n(E, sd=0.1)
        w[q + 'attention.output.LayerNorm.weight'] = 1 + n(E, sd=0.1)
        w[q + 'attention.output.LayerNorm.bias'] = n(E, sd=0.1)
        w[q + 'intermediate.dense.weight'] = n(F, E, sd=1.5 / math.sqrt(E))
        w[q + 'intermediate.dense.bias'] = n(F, sd=0.1)
        w[q + 'output.dense.weight'] = n(E, F, sd=1.5 / math.sqrt(F))
        w[q + 'output.dense.bias'] = n(E, sd=0.1)
        w[q + 'output.LayerNorm.weight'] = 1 + n(E, sd=0.1)
        w[q + 'output.LayerNorm.bias'] = n(E, sd=0.1)
    n_labels = len(cfg['id2label'])
    w['pooler.dense.weight'] = n(E, E, sd=1.5 / math.sqrt(E))
    w['pooler.dense.bias'] = n(E, sd=0.2)
    w['classifier.weight'] = n(n_labels, E, sd=1 / math.sqrt(E))
    w['classifier.bias'] = n(n_labels, sd=0.1)
    return w


def write_safetensors(path, w):
    header, off, blobs = {}, 0, []
    for k in sorted(w):
        b = w[k].astype(np.float32).tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(w[k].shape), 'data_offsets': [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    header['__metadata__'] = {'format': 'pt'}
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


# -----------------------------------------------------------------------------------------
# The reference: float64, the padded batch as DebertaV2ForSequenceClassification runs it

def make_log_bucket_position(relative_pos, bucket_size, max_position):
    # op for op (int64 positions, so the log runs in float32 as in the reference)
    sign = torch.sign(relative_pos)
    mid = bucket_size // 2
    abs_pos = torch.where((relative_pos < mid) & (relative_pos > -mid), torch.tensor(mid - 1).type_as(relative_pos),
                          torch.abs(relative_pos))
    log_pos = torch.ceil(torch.log(abs_pos / mid) / torch.log(torch.tensor((max_position - 1) / mid)) * (mid - 1)) + mid
    bucket_pos = torch.where(abs_pos <= mid, relative_pos.type_as(log_pos), log_pos * sign)
    return bucket_pos


def build_relative_position(query_size, key_size, bucket_size=-1, max_position=-1):
    q_ids = torch.arange(0, query_size)
    k_ids = torch.arange(0, key_size)
    rel_pos_ids = q_ids[:, None] - k_ids[None, :]
    if bucket_size > 0 and max_position > 0:
        rel_pos_ids = make_log_bucket_position(rel_pos_ids, bucket_size, max_position)
    rel_pos_ids = rel_pos_ids.to(torch.long)
    return rel_pos_ids[:query_size, :].unsqueeze(0)


def forward(w, cfg, ids, mask, types=None):
    t = {k: torch.tensor(v.astype(np.float64)) for k, v in w.items()}
    ids = torch.tensor(ids, dtype=torch.long)
    mask = torch.tensor(mask, dtype=torch.long)
    types = torch.zeros_like(ids) if types is None else torch.tensor(types, dtype=torch.long)
    B, S = ids.shape
    D = E // H
    eps = cfg['layer_norm_eps']
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (E,), t[p + '.weight'], t[p + '.bias'], eps)
    lin = lambda x, p: x @ t[p + '.weight'].T + t[p + '.bias']
    act = {'gelu': lambda x: 0.5 * x * (1 + torch.erf(x / math.sqrt(2))), 'tanh': torch.tanh}
    pre = 'deberta.'

    # DebertaV2Embeddings: word (+ position) (+ type), LayerNorm, * mask
    x = t[pre + 'embeddings.word_embeddings.weight'][ids]
    if cfg['position_biased_input']:
        x = x + t[pre + 'embeddings.position_embeddings.weight'][torch.arange(S)][None]
    if cfg['type_vocab_size'] > 0:
        x = x + t[pre + 'embeddings.token_type_embeddings.weight'][types]
    x = ln(x, pre + 'embeddings.LayerNorm')
    x = x * mask.unsqueeze(2).to(x.dtype)

    # DebertaV2Encoder
    ext = mask.unsqueeze(1).unsqueeze(2)
    att_mask = (ext * ext.squeeze(-2).unsqueeze(-1)).byte()                     # (B, 1, S, S)
    max_rel = cfg['max_relative_positions']
    if max_rel < 1:
        max_rel = cfg['max_position_embeddings']
    buckets = cfg['position_buckets']
    att_span = buckets if buckets > 0 else max_rel
    relative_pos = build_relative_position(S, S, bucket_size=buckets, max_position=max_rel)
    rel_emb = t[pre + 'encoder.rel_embeddings.weight']
    if 'layer_norm' in [s.strip() for s in cfg['norm_rel_ebd'].lower().split('|')]:
        rel_emb = ln(rel_emb, pre + 'encoder.LayerNorm')
    pat = cfg['pos_att_type']
    pat = [s.strip() for s in pat.lower().split('|')] if isinstance(pat, str) else pat
    scale_factor = 1 + ('c2p' in pat) + ('p2c' in pat)

    def tfs(y):   # transpose_for_scores: (B, S, E) -> (B * H, S, D)
        return y.view(y.shape[0], y.shape[1], H, D).permute(0, 2, 1, 3).contiguous().view(-1, y.shape[1], D)

    for i in range(L):
        p = f'{pre}encoder.layer.{i}.attention.self.'
        q, k, v = tfs(lin(x, p + 'query_proj')), tfs(lin(x, p + 'key_proj')), tfs(lin(x, p + 'value_proj'))
        scale = math.sqrt(D * scale_factor)
        scores = torch.bmm(q, k.transpose(-1, -2)) / scale
        # disentangled_attention_bias
        rp = relative_pos.unsqueeze(1)
        re = rel_emb[0:att_span * 2, :].unsqueeze(0)
        if cfg['share_att_key']:
            pos_q = tfs(lin(re, p + 'query_proj')).repeat(B, 1, 1)
            pos_k = tfs(lin(re, p + 'key_proj')).repeat(B, 1, 1)
        else:
            pos_k = tfs(lin(re, p + 'pos_key_proj')).repeat(B, 1, 1)
            pos_q = tfs(lin(re, p + 'pos_query_proj')).repeat(B, 1, 1)
        score = 0
        if 'c2p' in pat:
            c2p = torch.bmm(q, pos_k.transpose(-1, -2))
            c2p_pos = torch.clamp(rp + att_span, 0, att_span * 2 - 1)
            c2p = torch.gather(c2p, dim=-1, index=c2p_pos.squeeze(0).expand([q.size(0), q.size(1), rp.size(-1)]))
            score = score + c2p / scale
        if 'p2c' in pat:
            p2c_pos = torch.clamp(-rp + att_span, 0, att_span * 2 - 1)
            p2c = torch.bmm(k, pos_q.transpose(-1, -2))
            p2c = torch.gather(p2c, dim=-1, index=p2c_pos.squeeze(0).expand([q.size(0), k.size(-2), k.size(-2)])).transpose(-1, -2)
            score = score + p2c / scale
        scores = (scores + score).view(-1, H, S, S)
        # XSoftmax
        rmask = ~(att_mask.to(torch.bool))
        probs = torch.softmax(scores.masked_fill(rmask, torch.finfo(scores.dtype).min), -1).masked_fill(rmask, 0)
        ctx = torch.bmm(probs.view(-1, S, S), v).view(-1, H, S, D).permute(0, 2, 1, 3).contiguous().view(B, S, E)
        o = f'{pre}encoder.layer.{i}.'
        x = ln(lin(ctx, o + 'attention.output.dense') + x, o + 'attention.output.LayerNorm')
        x = ln(lin(act[cfg['hidden_act']](lin(x, o + 'intermediate.dense')), o + 'output.dense') + x, o + 'output.LayerNorm')

    # ContextPooler on token 0, then classifier
    pooled = act[cfg['pooler_hidden_act']](lin(x[:, 0], 'pooler.dense'))
    logits = lin(pooled, 'classifier')
    return {'last_hidden_state': x, 'pooler_output': pooled, 'logits': logits, 'scores_sigmoid': torch.sigmoid(logits)}


def check_buckets():
    """The reference's float32 log bucket against float64, for every distance below 8192."""
    for bucket_size, max_position in [(256, 512), (16, N_POS), (16, 40)]:
        r = torch.arange(-8191, 8192)
        f32 = make_log_bucket_position(r, bucket_size, max_position).long()
        mid = bucket_size // 2
        a = r.abs().double()
        f64 = torch.where(a <= mid, r.double(),
                          torch.sign(r.double()) * (torch.ceil(torch.log(a / mid) / math.log((max_position - 1) / mid) * (mid - 1)) + mid)).long()
        bad = (f32 != f64).nonzero().flatten()
        assert len(bad) == 0, f'float32 and float64 log buckets differ at {r[bad][:5].tolist()} ({bucket_size}, {max_position})'


# -----------------------------------------------------------------------------------------
# Files

DESCS = {
    'input_ids': 'token ids [B,S]: [CLS] query [SEP] passage [SEP], right padded with [PAD]=0',
    'attention_mask': '1 = real token, 0 = padding [B,S]',
    'token_type_ids': 'pair template type ids: 0 on [CLS] query [SEP], 1 on passage [SEP] [B,S]',
    'last_hidden_state': 'DebertaV2Model output [B,S,D] (post-LN); compare where attention_mask==1',
    'logits': 'classifier(act(pooler.dense(h[:,0]))) [B,labels] = the reranker score (raw logit)',
    'scores_sigmoid': 'sigmoid(logits) [B,labels]',
    'pooler_output': 'ContextPooler output act(dense(h[:,0])) [B,D]',
}


def pair(rng, V, nq, nd):
    q = [int(v) for v in rng.integers(4, V - 1, nq)]
    d = [int(v) for v in rng.integers(4, V - 1, nd)]
    return [CLS] + q + [SEP] + d + [SEP], [0] * (nq + 2) + [1] * (nd + 1)


def only_second(ids, types, limit):
    """A pair cut to limit tokens the way only_second truncation does: passage tokens off the end."""
    if len(ids) <= limit:
        return ids, types
    cut = len(ids) - limit
    return ids[:-1 - cut] + [SEP], types[:-1 - cut] + [1]


def write_fixture(name, w, cfg, cases, note, readme, tok):
    out = os.path.join(FIXTURES, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    write_safetensors(os.path.join(out, 'model.safetensors'), w)
    dump = lambda rel, obj: open(os.path.join(out, rel), 'w').write(json.dumps(obj, indent=2, ensure_ascii=False) + '\n')
    dump('config.json', cfg)
    if tok:
        dump('tokenizer.json', tok)
    manifest = {'model': name, 'model_type': 'deberta-v2', 'generator': GENERATOR, 'note': note,
                'format': 'every .bin is raw little-endian, row-major (C order); shapes in elements',
                'reference': 'independent float64 PyTorch forward following transformers modeling_deberta_v2.py '
                             '(gen/deberta_fixture.py), rounded to float32 on save',
                'cases': []}
    for cname, desc, rows in cases:
        S = max(len(r[0]) for r in rows)
        ids = [r[0] + [PAD] * (S - len(r[0])) for r in rows]
        types = [r[1] + [0] * (S - len(r[1])) for r in rows]
        mask = [[1] * len(r[0]) + [0] * (S - len(r[0])) for r in rows]
        res = forward(w, cfg, ids, mask, types)
        res = {k: v.numpy() for k, v in res.items()}
        res['input_ids'], res['attention_mask'], res['token_type_ids'] = np.array(ids), np.array(mask), np.array(types)
        tensors = {}
        for tname, role in [('input_ids', 'input'), ('attention_mask', 'input'), ('token_type_ids', 'input'),
                            ('logits', 'expected'), ('last_hidden_state', 'expected'), ('scores_sigmoid', 'expected'),
                            ('pooler_output', 'optional')]:
            is_int = tname in ('input_ids', 'attention_mask', 'token_type_ids')
            v = res[tname].astype(np.int32 if is_int else np.float32)
            fname = f'{cname}.{tname}.bin'
            v.tofile(os.path.join(out, fname))
            tensors[tname] = {'file': fname, 'dtype': 'int32' if is_int else 'float32', 'shape': list(v.shape),
                              'desc': DESCS[tname], 'role': role}
        manifest['cases'].append({'name': cname, 'desc': desc, 'tensors': tensors})
    dump('manifest.json', manifest)
    open(os.path.join(out, 'README.md'), 'w').write(readme)


def cases_for(rng, V):
    long_pair = only_second(*pair(rng, V, 9, 80), N_POS)      # 93 tokens cut to 64: the passage loses 29
    rows = [long_pair, pair(rng, V, 6, 31), pair(rng, V, 12, 5), pair(rng, V, 1, 1)]
    return [
        ('pairs4', '4 pairs: (9, 80) cut to 64 tokens by only_second truncation (distances up to 63, log buckets '
         'past 8), (6, 31) = 40 tokens, (12, 5) = 20 tokens, (1, 1) = 5 tokens; right padded to 64', rows),
        ('pair_single', 'one unpadded pair (3, 20) = 26 tokens', [pair(rng, V, 3, 20)]),
    ]


def main():
    check_buckets()
    tok = tokenizer_json()
    V = len(tok['model']['vocab'])
    rng = np.random.RandomState(20240229)
    cfg = config(V, sep=False)
    w = make_weights(rng, cfg)
    write_fixture('deberta_own', w, cfg, cases_for(np.random.default_rng(128100), V),
                  f'mxbai-rerank-xsmall-v1 layout (DebertaV2ForSequenceClassification): hidden {E}, {H} heads, {L} layers, '
                  f'intermediate {F}, vocab {V}, max_position_embeddings {N_POS}, position_buckets 16, '
                  'max_relative_positions -1, share_att_key, pos_att_type [p2c, c2p], norm_rel_ebd layer_norm, '
                  'position_biased_input false, type_vocab_size 0, pooler gelu, 1 label; score = raw logit',
                  README_OWN, tok)
    rng = np.random.RandomState(27182818)
    cfg = config(V, sep=True)
    w = make_weights(rng, cfg)
    write_fixture('deberta_own_sep', w, cfg, cases_for(np.random.default_rng(40), V),
                  f'DeBERTa-v2 branches mxbai does not take: pos_key_proj / pos_query_proj (no share_att_key), '
                  'norm_rel_ebd none, max_relative_positions 40 (buckets clamped past 2S - 1), position_biased_input, '
                  'type_vocab_size 2, pos_att_type "p2c|c2p", pooler tanh, 2 labels',
                  README_SEP, None)


README_COMMON = """
## Subtle points (modeling_deberta_v2.py; src/arch/deberta_v2.c has the full list)

1. Relative positions r = i - j through `make_log_bucket_position(r, position_buckets, max_relative_positions)`:
   |r| <= mid (= buckets / 2) exact, else sign(r) (mid + ceil(log(|r|/mid) / log((max_rel - 1)/mid) (mid - 1))).
   `max_relative_positions` < 1 means `max_position_embeddings`.
2. c2p reads q_i against the position keys at clamp(delta(i - j) + S, 0, 2S - 1); p2c is computed over
   (key j, query i) at clamp(-delta(j - i) + S) and transposed. S = position_buckets (or max_relative_positions).
3. One scale 1/sqrt(head_dim * (1 + #c2p + #p2c)) on all three terms.
4. share_att_key: the position keys / queries come from key_proj / query_proj (with biases) of the rel embeddings;
   else pos_key_proj / pos_query_proj.
5. norm_rel_ebd layer_norm: encoder.LayerNorm on rel_embeddings once.
6. Embeddings: word (+ position when position_biased_input) (+ type when type_vocab_size > 0), LayerNorm, * mask.
7. Head: ContextPooler dense + pooler_hidden_act on token 0, then classifier; raw logits.

Format, roles and tolerances: `../README.md`. Hidden states are compared only where attention_mask == 1.
Regenerate with `/usr/bin/python3 gen/deberta_fixture.py` (deterministic).
"""

README_OWN = """# deberta_own: DeBERTa-v2 cross-encoder, mxbai-rerank layout (wembed's own)

Tiny random-weight `DebertaV2ForSequenceClassification` (float32) with the config keys of
mixedbread-ai/mxbai-rerank-xsmall-v1 at hidden 32, 4 heads, 2 layers, intermediate 64, `max_position_embeddings` 64,
`position_buckets` 16: share_att_key, pos_att_type [p2c, c2p], norm_rel_ebd layer_norm, no absolute positions, no
token types, ContextPooler with gelu, one label. `tokenizer.json` is a DeBERTa-v3 style tokenizer (Strip,
Precompiled, Replace; Metaspace; Unigram; [CLS] A [SEP] B [SEP]) over t5-small's first 400 pieces (plus its ASCII
letters and digits), for the pair-encoding test (tests/js/rerank.test.js).
Seeds: numpy `RandomState(20240229)` for the weights, `default_rng(128100)` for the inputs.

## Cases

| case | what |
|---|---|
| `pairs4` | a (9, 80) pair cut to 64 tokens by only_second truncation (distances up to 63: log buckets), (6, 31), (12, 5), (1, 1); right padded |
| `pair_single` | one unpadded (3, 20) pair |

Expected: `logits`, `scores_sigmoid`, `last_hidden_state`. Optional: `pooler_output`.
""" + README_COMMON

README_SEP = """# deberta_own_sep: DeBERTa-v2 cross-encoder, the other branches (wembed's own)

The same shape as `deberta_own` with the branches mxbai does not take: separate `pos_key_proj` / `pos_query_proj`
(share_att_key false), no rel-embedding norm, `max_relative_positions` 40 (a 64-token row's distances bucket past
2S - 1 = 31 and are clamped), absolute position embeddings (position_biased_input), `type_vocab_size` 2 (the pair's
type ids are read), pos_att_type as the string "p2c|c2p", a tanh pooler, two labels.
Seeds: numpy `RandomState(27182818)` for the weights, `default_rng(40)` for the inputs.

## Cases

As `deberta_own`: `pairs4` and `pair_single`.
""" + README_COMMON

if __name__ == '__main__':
    main()
