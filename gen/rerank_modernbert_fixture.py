#!/usr/bin/python3
"""Tiny ModernBertForSequenceClassification cross-encoders and their float64 reference logits.

    /usr/bin/python3 gen/rerank_modernbert_fixture.py   (Debian: python3-torch, python3-numpy)

Writes two folders of tests/data/fixtures/ in the role-tagged manifest format
(tests/data/fixtures/README.md), each with config.json (ModernBertConfig keys, architectures
ModernBertForSequenceClassification), model.safetensors (float32, HF layout: the encoder under
"model.", head.* and classifier.* at the top level) and tokenizer.json:

  rerank_modernbert      gte-reranker-modernbert-base's head: classifier_pooling "mean",
                         classifier_bias false, classifier_activation "gelu", one label
  rerank_modernbert_cls  the other choices: classifier_pooling "cls", classifier_bias true,
                         classifier_activation "silu" (not hidden_activation's gelu), two labels

Cases: a right-padded batch of token-id pairs of different lengths ([CLS] a [SEP] b [SEP]), one
row exactly at max_position_embeddings (48), and (text_pairs) query/passage texts that go
through the tokenizer's pair template, one of them longer than 48 tokens, so the passage is cut
(only_second) and never the query; `truncated` says which.

The logits come from a float64 forward written after transformers' modeling_modernbert.py:
the encoder is gen/modernbert_fixture.py's reference (ModernBertModel, RoPE tables in float32
as HF builds them), then ModernBertForSequenceClassification.forward:

    last_hidden_state = ModernBertModel(...)[0]               (after final_norm)
    "cls":  pooled = last_hidden_state[:, 0]
    "mean": pooled = (last_hidden_state * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    pooled = ModernBertPredictionHead(pooled) = norm(act(dense(pooled)))
             dense = nn.Linear(E, E, bias=classifier_bias), act = ACT2FN[classifier_activation],
             norm = nn.LayerNorm(E, eps=norm_eps, bias=norm_bias)
    logits = classifier(drop(pooled))                         (nn.Linear(E, num_labels); dropout off)

The tokenizer is a WordPiece one whose words are all in its vocabulary, so the encoding is the
lowercased words' ids; the pair template is ModernBERT's ([CLS] $A [SEP] $B [SEP]). It does not
call wembed. Deterministic: numpy RandomState(61) for the head weights, RandomState(62) for
the inputs (the encoder weights: modernbert_fixture.make_weights).
"""
import json
import os
import sys

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sys.path.insert(0, os.path.join(ROOT, 'gen'))
import modernbert_fixture as mb  # noqa: E402

PAD, UNK, CLS, SEP = 0, 1, 2, 3
N_CTX = 48
WORDS = ('what is a small feline pet cats are pets the cat purrs car fast and red dog barks which animal drives '
         'has four legs tail sleeps all day on warm windows mouse chases milk').split()
VOCAB = {'[PAD]': PAD, '[UNK]': UNK, '[CLS]': CLS, '[SEP]': SEP, **{w: 4 + i for i, w in enumerate(WORDS)}}

BASE = {
    '_name_or_path': 'wembed/tiny-modernbert-reranker',
    'architectures': ['ModernBertForSequenceClassification'],
    'attention_bias': False, 'attention_dropout': 0.0,
    'bos_token_id': CLS, 'cls_token_id': CLS, 'eos_token_id': SEP, 'sep_token_id': SEP, 'pad_token_id': PAD,
    'classifier_dropout': 0.0, 'decoder_bias': True, 'deterministic_flash_attn': False, 'embedding_dropout': 0.0,
    'global_attn_every_n_layers': 2, 'global_rope_theta': 160000.0, 'local_rope_theta': 10000.0,
    'local_attention': 8, 'hidden_activation': 'gelu',
    'hidden_size': 32, 'intermediate_size': 32, 'num_attention_heads': 2, 'num_hidden_layers': 3,
    'initializer_cutoff_factor': 2.0, 'initializer_range': 0.02,
    'layer_norm_eps': 1e-05, 'norm_eps': 1e-05, 'norm_bias': False,
    'max_position_embeddings': N_CTX, 'mlp_bias': False, 'mlp_dropout': 0.0,
    'model_type': 'modernbert', 'position_embedding_type': 'absolute', 'reference_compile': False,
    'sparse_pred_ignore_index': -100, 'sparse_prediction': False,
    'torch_dtype': 'float32', 'transformers_version': '4.48.0', 'vocab_size': len(VOCAB),
}
VARIANTS = {
    'rerank_modernbert': dict(BASE, classifier_pooling='mean', classifier_bias=False, classifier_activation='gelu',
                              id2label={'0': 'LABEL_0'}, label2id={'LABEL_0': 0}),
    'rerank_modernbert_cls': dict(BASE, classifier_pooling='cls', classifier_bias=True, classifier_activation='silu',
                                  id2label={'0': 'irrelevant', '1': 'relevant'}, label2id={'irrelevant': 0, 'relevant': 1}),
}

QUERY = 'what is a small feline pet'
DOCS = [
    'cats are small feline pets the cat purrs',
    'a car is fast and red',
    'the dog barks',
    # 1 + 6 + 1 + 60 + 1 tokens: over 48, so only the passage is cut (to 39 words)
    ' '.join(['the cat has four legs and a tail'] * 7 + ['the cat sleeps all day']),
    'which animal drives',
]


def tokenizer_json():
    special = lambda c, i: {'id': i, 'content': c, 'single_word': False, 'lstrip': False, 'rstrip': False,  # noqa: E731
                            'normalized': False, 'special': True}
    return {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [special(k, v) for k, v in list(VOCAB.items())[:4]],
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True, 'strip_accents': None,
                       'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                       {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                     {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 1}},
                     {'SpecialToken': {'id': '[SEP]', 'type_id': 1}}],
            'special_tokens': {'[CLS]': {'id': '[CLS]', 'ids': [CLS], 'tokens': ['[CLS]']},
                               '[SEP]': {'id': '[SEP]', 'ids': [SEP], 'tokens': ['[SEP]']}},
        },
        'decoder': None,
        'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##',
                  'max_input_chars_per_word': 100, 'vocab': VOCAB},
    }


def encode_pair(a, b, max_len):
    """[CLS] a [SEP] b [SEP], b cut from its end to fit max_len (only_second); (ids, truncated)."""
    ia = [VOCAB[w] for w in a.lower().split()]
    ib = [VOCAB[w] for w in b.lower().split()]
    room = max_len - 3 - len(ia)
    assert room > 0
    return [CLS] + ia + [SEP] + ib[:room] + [SEP], len(ib) > room


def head_weights(cfg):
    rng = np.random.RandomState(61)
    E, L = cfg['hidden_size'], len(cfg['id2label'])
    w = {'head.dense.weight': 0.3 * rng.standard_normal((E, E)),
         'head.norm.weight': 1 + 0.1 * rng.standard_normal(E),
         'classifier.weight': 0.3 * rng.standard_normal((L, E)),
         'classifier.bias': 0.1 * rng.standard_normal(L)}
    if cfg['classifier_bias']:
        w['head.dense.bias'] = 0.5 * rng.standard_normal(E)
    return {k: v.astype(np.float32) for k, v in w.items()}


ACT = {'gelu': mb.gelu, 'silu': lambda x: x * torch.sigmoid(x)}


def logits(cfg, w, ids, mask):
    h = mb.forward(cfg, {k[len('model.'):]: v for k, v in w.items() if k.startswith('model.')}, ids, mask)
    W = {k: torch.from_numpy(v.astype(np.float64)) for k, v in w.items() if not k.startswith('model.')}
    m = torch.from_numpy(mask.astype(np.float64))
    if cfg['classifier_pooling'] == 'cls':
        p = h[:, 0]
    else:
        p = (h * m[:, :, None]).sum(dim=1) / m.sum(dim=1, keepdim=True)
    z = p @ W['head.dense.weight'].T
    if cfg['classifier_bias']:
        z = z + W['head.dense.bias']
    z = mb.layer_norm(ACT[cfg['classifier_activation']](z), W['head.norm.weight'], cfg['norm_eps'])
    return z @ W['classifier.weight'].T + W['classifier.bias']


def padded(rows):
    S = max(len(r) for r in rows)
    ids = np.full((len(rows), S), PAD, dtype=np.int32)
    mask = np.zeros((len(rows), S), dtype=np.int32)
    for b, r in enumerate(rows):
        ids[b, :len(r)] = r
        mask[b, :len(r)] = 1
    return ids, mask


def write(name, cfg):
    out = os.path.join(ROOT, 'tests', 'data', 'fixtures', name)
    os.makedirs(out, exist_ok=True)
    enc = mb.make_weights(cfg)   # ModernBertModel's weights, unprefixed
    w = {'model.' + k: v for k, v in enc.items()}
    w.update(head_weights(cfg))
    with open(os.path.join(out, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    mb.write_safetensors(os.path.join(out, 'model.safetensors'), w)
    with open(os.path.join(out, 'tokenizer.json'), 'w') as f:
        json.dump(tokenizer_json(), f, indent=1)

    rng = np.random.RandomState(62)
    V = cfg['vocab_size']
    rows = []
    for la, lb in [(6, 20), (3, 40), (10, 5), (1, 1), (5, N_CTX - 8)]:   # the last: exactly N_CTX tokens
        rows.append([CLS] + list(rng.randint(4, V, size=la)) + [SEP] + list(rng.randint(4, V, size=lb)) + [SEP])
    ids, mask = padded(rows)
    lg = logits(cfg, w, ids, mask).numpy().astype(np.float32)
    n_labels = lg.shape[1]
    cases = []
    t = {}

    def put(case, tname, arr, desc, role):
        fn = f'{case}.{tname}.bin'
        arr.tofile(os.path.join(out, fn))
        t[tname] = mb.tensor_entry(fn, arr, desc, role)

    put('pairs5', 'input_ids', ids, 'token ids [B,S]: [CLS] a [SEP] b [SEP], right padded', 'input')
    put('pairs5', 'attention_mask', mask, '1 = real token, 0 = padding', 'input')
    put('pairs5', 'logits', lg, f'classifier logits [B, num_labels={n_labels}] (raw)', 'expected')
    cases.append({'name': 'pairs5', 'desc': 'token-id pairs with (a, b) lengths (6,20), (3,40), (10,5), (1,1), (5,40): '
                  f'rows of 29, 46, 18, 5 and {N_CTX} (max_position_embeddings) tokens, right padded',
                  'lengths': [len(r) for r in rows], 'tensors': t})

    encs = [encode_pair(QUERY, d, N_CTX) for d in DOCS]
    ids, mask = padded([e[0] for e in encs])
    lg = logits(cfg, w, ids, mask).numpy().astype(np.float32)
    t = {}
    put('text_pairs', 'logits', lg, f'classifier logits [B, num_labels={n_labels}] of the encoded pairs (raw)', 'expected')
    cases.append({'name': 'text_pairs', 'desc': 'the query with each passage through the tokenizer\'s pair template; '
                  f'passage 3 is cut to fit {N_CTX} tokens (only_second), the query never',
                  'text_pairs': [[QUERY, d] for d in DOCS], 'truncated': [e[1] for e in encs],
                  'lengths': [len(e[0]) for e in encs], 'tensors': t})

    manifest = {
        'model': name, 'model_type': 'modernbert',
        'note': f'wembed\'s own tiny ModernBertForSequenceClassification (gen/rerank_modernbert_fixture.py): 32 wide, 2 heads, '
                f'3 layers (global, local |i-j|<=4, global), vocab {V}, max_position_embeddings {N_CTX}; classifier_pooling '
                f'{cfg["classifier_pooling"]!r}, classifier_bias {cfg["classifier_bias"]}, classifier_activation '
                f'{cfg["classifier_activation"]!r}, {n_labels} label(s); score = raw logit',
        'format': 'every .bin is raw little-endian, row-major (C order); shapes in elements',
        'reference': 'independent float64 PyTorch forward following transformers modeling_modernbert.py '
                     '(ModernBertModel, ModernBertPredictionHead, ModernBertForSequenceClassification), RoPE tables in '
                     'float32 like HF, rounded to float32 on save',
        'roles': {'input': 'feed to the engine', 'expected': 'the engine must produce it and match'},
        'tolerances': {'float_max_abs': 1e-4},
        'seeds': {'encoder': 92103, 'head': 61, 'inputs': 62},
        'cases': cases,
    }
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    what = {
        'rerank_modernbert': 'gte-reranker-modernbert-base style head: classifier_pooling "mean" (the mean of every real '
                             'token\'s row of last_hidden_state, [CLS] and [SEP] included), no head.dense bias, '
                             'classifier_activation "gelu" (erf), one label',
        'rerank_modernbert_cls': 'the other choices: classifier_pooling "cls" (row 0), classifier_bias true (head.dense.bias), '
                                 'classifier_activation "silu" while hidden_activation is "gelu", two labels with id2label names',
    }[name]
    readme = f"""# {name}: ModernBertForSequenceClassification

Written by `gen/rerank_modernbert_fixture.py` (re-run it to regenerate; the files come out identical).
A tiny cross-encoder: 32 wide, 2 heads, 3 layers (global, local with |i - j| <= 4, global),
vocab {V}, max_position_embeddings {N_CTX}; {what}.

## Cases

| case | what |
|---|---|
| `pairs5` | token-id pairs [CLS] a [SEP] b [SEP] of 29, 46, 18, 5 and {N_CTX} tokens, right padded |
| `text_pairs` | a query with five passages through tokenizer.json's pair template; the fourth is longer than {N_CTX} tokens and loses the end of its passage (only_second), never the query (`truncated`) |

Expected: `logits` [B, num_labels], raw (format, roles and tolerances: `../README.md`).

## What it checks

1. The head pools last_hidden_state after final_norm, by classifier_pooling (cls: row 0; mean: masked mean).
2. ModernBertPredictionHead: classifier(norm(act(dense(p)))): dense with a bias only when classifier_bias,
   act = ACT2FN[classifier_activation] (not hidden_activation), LayerNorm with norm_eps and no bias.
3. classifier always has a bias; dropout is off; the weights are head.* and classifier.* at the top level,
   the encoder under "model.".
4. Pairs are encoded with the pair template and cut only_second at max_position_embeddings.
"""
    with open(os.path.join(out, 'README.md'), 'w') as f:
        f.write(readme)
    print(name, 'pairs5', logits(cfg, w, *padded(rows)).numpy().ravel()[:4], 'truncated', [e[1] for e in encs])


def main():
    torch.set_num_threads(2)
    for name, cfg in VARIANTS.items():
        write(name, cfg)


if __name__ == '__main__':
    main()
