#!/usr/bin/python3
"""A tiny xlm-roberta fixture: BERT's encoder with RoBERTa's position ids.

    /usr/bin/python3 models/gen_roberta_fixture.py       (Debian: python3-torch, python3-numpy)

Writes tests/data/roberta/: config.json (model_type xlm-roberta, pad_token_id 1, 514
positions as the real models have), model.safetensors (float32, HF names with the
"roberta." prefix), and expected.json: input ids (right-padded with pad id 1) and masks, and
the last hidden states of the real tokens from a float64 forward pass written after HF's
modeling_xlm_roberta.py: positions = cumsum(ids != pad) * (ids != pad) + pad.
"""
import json
import math
import os
import struct

import numpy as np
import torch

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
    E, F, V, P, L = 32, 64, 300, 514, 2
    n = lambda *s: (rng.standard_normal(s) * 0.5).astype(np.float32)
    w = {'embeddings.word_embeddings.weight': n(V, E), 'embeddings.position_embeddings.weight': n(P, E),
         'embeddings.token_type_embeddings.weight': n(1, E), 'embeddings.LayerNorm.weight': 1 + n(E) * 0.2,
         'embeddings.LayerNorm.bias': n(E) * 0.2}
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
    os.makedirs(OUT, exist_ok=True)
    header, off, blobs = {}, 0, []
    for k in sorted(w):
        b = w[k].tobytes()
        header['roberta.' + k] = {'dtype': 'F32', 'shape': list(w[k].shape), 'data_offsets': [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    with open(os.path.join(OUT, 'model.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
    with open(os.path.join(OUT, 'config.json'), 'w') as f:
        json.dump(CFG, f, indent=2)

    # rows: <s> ... </s>, right-padded with pad id 1
    rows = [[0] + list(rng.integers(3, V, 9)) + [2], [0] + list(rng.integers(3, V, 4)) + [2]]
    S = max(len(r) for r in rows)
    ids = [r + [1] * (S - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (S - len(r)) for r in rows]
    t = {k: torch.tensor(v.astype(np.float64)) for k, v in w.items()}
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (E,), t[p + '.weight'], t[p + '.bias'], CFG['layer_norm_eps'])
    lin = lambda x, p: x @ t[p + '.weight'].T + t[p + '.bias']
    hidden = []
    for r, mk in zip(ids, mask):
        idt = torch.tensor(r)
        m = (idt != 1).long()
        pos = torch.cumsum(m, 0) * m + 1                      # create_position_ids_from_input_ids
        x = t['embeddings.word_embeddings.weight'][idt] + t['embeddings.token_type_embeddings.weight'][torch.zeros_like(idt)]
        x = ln(x + t['embeddings.position_embeddings.weight'][pos], 'embeddings.LayerNorm')
        keep = torch.tensor(mk, dtype=torch.bool)
        bias = torch.where(keep, 0.0, -1e9).double()          # the padding mask
        for i in range(L):
            p = f'encoder.layer.{i}.'
            q, k, v = (lin(x, p + f'attention.self.{nm}').view(-1, 4, 8).transpose(0, 1) for nm in ('query', 'key', 'value'))
            a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(8) + bias, dim=-1) @ v
            x = ln(lin(a.transpose(0, 1).reshape(-1, E), p + 'attention.output.dense') + x, p + 'attention.output.LayerNorm')
            g = lin(x, p + 'intermediate.dense')
            x = ln(lin(0.5 * g * (1 + torch.erf(g / math.sqrt(2))), p + 'output.dense') + x, p + 'output.LayerNorm')
        hidden.append(x[keep].tolist())
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'generator': 'models/gen_roberta_fixture.py', 'input_ids': [[int(v) for v in r] for r in ids],
                   'attention_mask': mask, 'hidden': hidden}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
