#!/usr/bin/python3
"""The demo's bundled reranker: a tiny random-weight cross-encoder with the real bert-base-uncased vocabulary.

    /usr/bin/python3 gen/tiny_reranker.py     (Debian: python3-torch, python3-numpy; node)

BertForSequenceClassification in the layout of cross-encoder/ms-marco-MiniLM-L6-v2 (tensors under
`bert.`, the pooler, `classifier` [1, hidden]; config with one label and
sbert_ce_default_activation_function Identity, so scores are raw logits): hidden 8, 2 heads,
2 layers, intermediate 16, 512 positions, the real 30,522-token vocabulary (tokenizer.json of
tests/data/tokenizers/bge-small-en-v1.5), float16 safetensors, about 500 KB of weights. The
weights are random: its order is deterministic but carries no meaning.

Writes web-demo/models/tiny-reranker/, and there also expected.json: pair token ids from the Rust
tokenizers library (gen/ref-ids.mjs, pair template [CLS] q [SEP] d [SEP], token type 1 on the
passage) and the logits of the independent float64 forward pass of gen/ref64.py (after
modeling_bert.py's BertForSequenceClassification: classifier(tanh(pooler.dense(h[CLS])))) on the
float16-rounded weights.
"""
import json
import os
import shutil
import subprocess

import numpy as np
import torch

from ref64 import bert_forward, bert_weights, save_safetensors, to_float64

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..')
OUT = os.path.join(ROOT, 'web-demo', 'models', 'tiny-reranker')
TOKENIZER = os.path.join(ROOT, 'tests', 'data', 'tokenizers', 'bge-small-en-v1.5', 'tokenizer.json')

CFG = {
    'architectures': ['BertForSequenceClassification'], 'model_type': 'bert', 'hidden_size': 8,
    'num_hidden_layers': 2, 'num_attention_heads': 2, 'intermediate_size': 16, 'hidden_act': 'gelu',
    'layer_norm_eps': 1e-12, 'max_position_embeddings': 512, 'type_vocab_size': 2, 'vocab_size': 30522,
    'pad_token_id': 0, 'position_embedding_type': 'absolute', 'torch_dtype': 'float16',
    'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1, 'initializer_range': 0.02,
    'classifier_dropout': None, 'id2label': {'0': 'LABEL_0'}, 'label2id': {'LABEL_0': 0},
    'sbert_ce_default_activation_function': 'torch.nn.modules.linear.Identity',
}

PAIRS = [
    ['how do volcanoes erupt', 'Magma rises through the crust and gas pressure drives an eruption.'],
    ['how do volcanoes erupt', 'The recipe needs two eggs and a cup of flour.'],
    ['what is a cat?', 'A small feline.'],
    ['', 'An empty query still makes a pair.'],
]


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261207)
    w = bert_weights(rng, CFG)
    E = CFG['hidden_size']
    n = lambda *s: (rng.standard_normal(s) * 0.5).astype(np.float32)
    w['pooler.dense.weight'] = n(E, E) / np.sqrt(E) * 2
    w['pooler.dense.bias'] = n(E) * 0.2
    head = {'classifier.weight': n(1, E) / np.sqrt(E) * 2, 'classifier.bias': n(1) * 0.2}
    w = {k: v.astype(np.float16) for k, v in w.items()}
    head = {k: v.astype(np.float16) for k, v in head.items()}
    tensors = {**{'bert.' + k: v for k, v in w.items()}, **head}
    save_safetensors(os.path.join(OUT, 'model.safetensors'), tensors, metadata={'format': 'pt'})
    with open(os.path.join(OUT, 'config.json'), 'w') as f:
        json.dump(CFG, f, indent=2)
        f.write('\n')
    shutil.copyfile(TOKENIZER, os.path.join(OUT, 'tokenizer.json'))
    pairs_path = os.path.join(OUT, 'pairs.json.tmp')
    with open(pairs_path, 'w') as f:
        json.dump(PAIRS, f)
    try:
        enc = json.loads(subprocess.check_output(['node', os.path.join(HERE, 'ref-ids.mjs'),
                                                  os.path.join(OUT, 'tokenizer.json'), pairs_path], cwd=ROOT))
    finally:
        os.remove(pairs_path)
    t = to_float64(w)
    th = to_float64(head)
    cases = []
    for (q, d), e in zip(PAIRS, enc):
        h = bert_forward(t, CFG, e['ids'], e['type_ids'])
        pooled = torch.tanh(h[0] @ t['pooler.dense.weight'].T + t['pooler.dense.bias'])
        logit = pooled @ th['classifier.weight'].T + th['classifier.bias']
        cases.append({'query': q, 'document': d, 'ids': e['ids'], 'type_ids': e['type_ids'], 'logit': float(logit[0])})
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'generator': 'gen/tiny_reranker.py', 'cases': cases}, f, ensure_ascii=False)
        f.write('\n')


if __name__ == '__main__':
    main()
