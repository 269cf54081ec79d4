#!/usr/bin/python3
"""A tiny xlm-roberta fixture: BERT's encoder with RoBERTa's position ids.

    /usr/bin/python3 gen/roberta_fixture.py       (Debian: python3-torch, python3-numpy)

Writes tests/data/roberta/: config.json (model_type xlm-roberta, pad_token_id 1, 514
positions as the real models have), model.safetensors (float32, HF names with the
"roberta." prefix), and expected.json: input ids (right-padded with pad id 1) and masks, and
the last hidden states of the real tokens from the float64 BERT forward pass of gen/ref64.py
given HF modeling_xlm_roberta.py's position ids: cumsum(ids != pad) * (ids != pad) + pad.
"""
import json
import os

import numpy as np
import torch

from ref64 import bert_forward, bert_weights, save_safetensors, to_float64

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'tests', 'data', 'roberta')
CFG = {
    'architectures': ['XLMRobertaModel'], 'model_type': 'xlm-roberta', 'hidden_size': 32, 'num_hidden_layers': 2,
    'num_attention_heads': 4, 'intermediate_size': 64, 'hidden_act': 'gelu', 'layer_norm_eps': 1e-5,
    'max_position_embeddings': 514, 'type_vocab_size': 1, 'vocab_size': 300, 'pad_token_id': 1,
    'bos_token_id': 0, 'eos_token_id': 2, 'position_embedding_type': 'absolute', 'torch_dtype': 'float32',
}


def main():
    rng = np.random.default_rng(514)
    w = bert_weights(rng, CFG)
    os.makedirs(OUT, exist_ok=True)
    save_safetensors(os.path.join(OUT, 'model.safetensors'), w, prefix='roberta.', align=False)
    with open(os.path.join(OUT, 'config.json'), 'w') as f:
        json.dump(CFG, f, indent=2)

    # rows: <s> ... </s>, right-padded with pad id 1
    V, pad = CFG['vocab_size'], CFG['pad_token_id']
    rows = [[0] + list(rng.integers(3, V, 9)) + [2], [0] + list(rng.integers(3, V, 4)) + [2]]
    S = max(len(r) for r in rows)
    ids = [r + [pad] * (S - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (S - len(r)) for r in rows]
    t = to_float64(w)
    hidden = []
    for r, mk in zip(ids, mask):
        m = (torch.tensor(r) != pad).long()
        pos = torch.cumsum(m, 0) * m + pad                    # create_position_ids_from_input_ids
        x = bert_forward(t, CFG, r, positions=pos, mask=mk)
        hidden.append(x[torch.tensor(mk, dtype=torch.bool)].tolist())
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'generator': 'gen/roberta_fixture.py', 'input_ids': [[int(v) for v in r] for r in ids],
                   'attention_mask': mask, 'hidden': hidden}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
