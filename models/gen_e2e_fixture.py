#!/usr/bin/python3
"""The end-to-end fixture: text -> the real bert-base-uncased tokenizer -> a BERT -> a vector.

    /usr/bin/python3 models/gen_e2e_fixture.py        (Debian: python3-torch, python3-numpy; node)

A small random-weight BERT (hidden 32, 2 layers) with the real 30,522-token vocabulary, stored
in float16 safetensors (so the file is small), in the exact HF layout, with the
sentence-transformers files for mean pooling + normalization and bge-small-en-v1.5's
tokenizer.json (the bert-base-uncased vocabulary). The reference:
  ids      from the Rust tokenizers library (models/e2e-ids.mjs, truncation at 512), and
  vectors  from an independent float64 BERT forward pass written here after HF's
           modeling_bert.py (GELU erf, post-LN), on the float16-rounded weights.
Writes tests/data/e2e/: config.json, model.safetensors, tokenizer.json, modules.json,
1_Pooling/config.json, texts.json, expected.json (ids, mean-pooled normalized vectors).
"""
import json
import math
import os
import shutil
import struct
import subprocess

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'tests', 'data', 'e2e')
TOKENIZER = os.path.join(ROOT, 'tests', 'data', 'tokenizers', 'bge-small-en-v1.5', 'tokenizer.json')

CFG = {
    'architectures': ['BertModel'], 'model_type': 'bert', 'hidden_size': 32, 'num_hidden_layers': 2,
    'num_attention_heads': 4, 'intermediate_size': 64, 'hidden_act': 'gelu', 'layer_norm_eps': 1e-12,
    'max_position_embeddings': 512, 'type_vocab_size': 2, 'vocab_size': 30522, 'pad_token_id': 0,
    'position_embedding_type': 'absolute', 'torch_dtype': 'float16',
    'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1, 'initializer_range': 0.02,
}

TEXTS = [
    'Hello world!',
    'The quick brown fox jumps over the lazy dog.',
    'Café déjà vu: naïve résumé, ΣΊΣΥΦΟΣ and straße.',
    '北京是中国的首都。 東京タワー',
    'emoji 👩‍👩‍👧 and zero\u200bwidth, tabs\tand\nnewlines',
    '',
    'search_query: what is rotary position embedding?',
    '[CLS] literal specials [SEP] in [MASK] text',
    ' '.join(['tokens'] * 600),              # longer than 512: truncated, [SEP] kept
    'a' * 150,                                  # one long word: [UNK] via max_input_chars_per_word
]


def weights(rng):
    E, F, V, P, L = CFG['hidden_size'], CFG['intermediate_size'], CFG['vocab_size'], CFG['max_position_embeddings'], CFG['num_hidden_layers']
    w = {}
    n = lambda *s: (rng.standard_normal(s) * 0.5).astype(np.float32)
    w['embeddings.word_embeddings.weight'] = n(V, E)
    w['embeddings.position_embeddings.weight'] = n(P, E)
    w['embeddings.token_type_embeddings.weight'] = n(2, E)
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


def bert_forward(w, ids, types):
    """float64, after HF modeling_bert.py: post-LN encoder, GELU (erf)."""
    t = {k: torch.tensor(v.astype(np.float64)) for k, v in w.items()}
    E, H, eps = CFG['hidden_size'], CFG['num_attention_heads'], CFG['layer_norm_eps']
    d = E // H
    ids_t, types_t = torch.tensor(ids), torch.tensor(types)
    pos = torch.arange(len(ids))
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (E,), t[p + '.weight'], t[p + '.bias'], eps)
    lin = lambda x, p: x @ t[p + '.weight'].T + t[p + '.bias']
    x = t['embeddings.word_embeddings.weight'][ids_t] + t['embeddings.token_type_embeddings.weight'][types_t]
    x = x + t['embeddings.position_embeddings.weight'][pos]
    x = ln(x, 'embeddings.LayerNorm')
    for i in range(CFG['num_hidden_layers']):
        p = f'encoder.layer.{i}.'
        q, k, v = (lin(x, p + f'attention.self.{m}').view(-1, H, d).transpose(0, 1) for m in ('query', 'key', 'value'))
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(d), dim=-1) @ v
        a = a.transpose(0, 1).reshape(-1, E)
        x = ln(lin(a, p + 'attention.output.dense') + x, p + 'attention.output.LayerNorm')
        h = lin(x, p + 'intermediate.dense')
        h = 0.5 * h * (1 + torch.erf(h / math.sqrt(2)))
        x = ln(lin(h, p + 'output.dense') + x, p + 'output.LayerNorm')
    return x


def main():
    os.makedirs(os.path.join(OUT, '1_Pooling'), exist_ok=True)
    rng = np.random.default_rng(20261128)
    w = weights(rng)
    save_safetensors(os.path.join(OUT, 'model.safetensors'), w)
    with open(os.path.join(OUT, 'config.json'), 'w') as f:
        json.dump(CFG, f, indent=2)
    shutil.copyfile(TOKENIZER, os.path.join(OUT, 'tokenizer.json'))
    with open(os.path.join(OUT, 'modules.json'), 'w') as f:
        json.dump([{'idx': 0, 'name': '0', 'path': '', 'type': 'sentence_transformers.models.Transformer'},
                   {'idx': 1, 'name': '1', 'path': '1_Pooling', 'type': 'sentence_transformers.models.Pooling'},
                   {'idx': 2, 'name': '2', 'path': '2_Normalize', 'type': 'sentence_transformers.models.Normalize'}], f, indent=2)
    with open(os.path.join(OUT, '1_Pooling', 'config.json'), 'w') as f:
        json.dump({'word_embedding_dimension': 32, 'pooling_mode_cls_token': False, 'pooling_mode_mean_tokens': True,
                   'pooling_mode_max_tokens': False, 'pooling_mode_mean_sqrt_len_tokens': False}, f, indent=2)
    texts_path = os.path.join(OUT, 'texts.json')
    with open(texts_path, 'w') as f:
        json.dump(TEXTS, f, ensure_ascii=False, indent=1)
    enc = json.loads(subprocess.check_output(['node', os.path.join(ROOT, 'models', 'e2e-ids.mjs'),
                                              os.path.join(OUT, 'tokenizer.json'), texts_path], cwd=ROOT))
    expected = []
    for e in enc:
        h = bert_forward(w, e['ids'], e['type_ids'])
        v = h.mean(dim=0)
        expected.append({'ids': e['ids'], 'mean_normalized': (v / v.norm()).tolist(),
                         'last_hidden_first_row': h[0].tolist()})
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'generator': 'models/gen_e2e_fixture.py', 'cases': expected}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
