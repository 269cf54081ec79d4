#!/usr/bin/python3
"""The end-to-end fixture: text -> the real bert-base-uncased tokenizer -> a BERT -> a vector.

    /usr/bin/python3 gen/e2e_fixture.py        (Debian: python3-torch, python3-numpy; node)

A small random-weight BERT (hidden 32, 2 layers) with the real 30,522-token vocabulary, stored
in float16 safetensors (so the file is small), in the exact HF layout, with the
sentence-transformers files for mean pooling + normalization and bge-small-en-v1.5's
tokenizer.json (the bert-base-uncased vocabulary). The reference:
  ids      from the Rust tokenizers library (gen/ref-ids.mjs, truncation at 512), and
  vectors  from the independent float64 BERT forward pass of gen/ref64.py (after HF's
           modeling_bert.py: GELU erf, post-LN), on the float16-rounded weights.
Writes tests/data/e2e/: config.json, model.safetensors, tokenizer.json, modules.json,
1_Pooling/config.json, texts.json, expected.json (ids, mean-pooled normalized vectors).
"""
import json
import os
import shutil
import subprocess

import numpy as np

from ref64 import bert_forward, bert_weights, save_safetensors, to_float64

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..')
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


def main():
    os.makedirs(os.path.join(OUT, '1_Pooling'), exist_ok=True)
    rng = np.random.default_rng(20261128)
    w = {k: v.astype(np.float16) for k, v in bert_weights(rng, CFG).items()}
    save_safetensors(os.path.join(OUT, 'model.safetensors'), w, metadata={'format': 'pt'})
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
    enc = json.loads(subprocess.check_output(['node', os.path.join(HERE, 'ref-ids.mjs'),
                                              os.path.join(OUT, 'tokenizer.json'), texts_path], cwd=ROOT))
    t = to_float64(w)
    expected = []
    for e in enc:
        h = bert_forward(t, CFG, e['ids'], e['type_ids'])
        v = h.mean(dim=0)
        expected.append({'ids': e['ids'], 'mean_normalized': (v / v.norm()).tolist(),
                         'last_hidden_first_row': h[0].tolist()})
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'generator': 'gen/e2e_fixture.py', 'cases': expected}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
