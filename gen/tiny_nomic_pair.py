#!/usr/bin/python3
"""The demo's bundled pair of towers: a tiny random-weight nomic-embed-text-v1.5 and nomic-embed-vision-v1.5.

    /usr/bin/python3 gen/tiny_nomic_pair.py     (Debian: python3-torch, python3-numpy, python3-pil; node)

text/: a nomic_bert (NomicBertModel) 32 wide, 2 layers, with the real bert-base-uncased vocabulary
(nomic-embed-text's tokenizer; its tokenizer.json from tests/data/tokenizers/bge-small-en-v1.5) padded to
30528 rows, RoPE base 1000, SwiGLU, mean pooling + Normalize (sentence-transformers files as on the hub).
vision/: a NomicVisionModel 32 wide, 2 layers, the real input pipeline (224 x 224, CLIP mean/std) with
32 x 32 patches (a 7 x 7 grid, ref_feat_shape [14, 14]). Both float16 safetensors in the exact hub layout,
so wembed loads them like the real pair, offline, in about 2 MB. The weights are random: rankings are
deterministic but carry no meaning, and the two towers share a space only in name.

Writes web-demo/models/tiny-nomic/{text,vision}/ and expected.json there: token ids of the Rust tokenizers
library (gen/ref-ids.mjs) for 'search_query: ' + each text, their normalized mean-pooled embeddings from the
float64 NomicBertModel of gen/long_fixture.py, and the normalized embeddings of two of the demo's sample
images from the float64 NomicVisionModel and CLIPImageProcessor of gen/nomic_vision_fixture.py, all on the
float16-rounded weights.
"""
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np
from PIL import Image

from long_fixture import l2, mean_pool, nomic_forward, nomic_weights, st_files, write_json
from nomic_vision_fixture import CONFIG as VISION_OWN, PREPROCESSOR as PREP_OWN, forward as vision_forward, preprocess, random_weights
from ref64 import save_safetensors

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..')
OUT = os.path.join(ROOT, 'web-demo', 'models', 'tiny-nomic')
TOKENIZER = os.path.join(ROOT, 'tests', 'data', 'tokenizers', 'bge-small-en-v1.5', 'tokenizer.json')
SAMPLES = os.path.join(ROOT, 'web-demo', 'samples', 'images')

TEXT = {
    'activation_function': 'swiglu', 'architectures': ['NomicBertModel'], 'attn_pdrop': 0.0,
    'auto_map': {'AutoConfig': 'nomic-ai/nomic-bert-2048--configuration_hf_nomic_bert.NomicBertConfig',
                 'AutoModel': 'nomic-ai/nomic-bert-2048--modeling_hf_nomic_bert.NomicBertModel'},
    'bos_token_id': None, 'causal': False, 'dense_seq_output': True, 'embd_pdrop': 0.0, 'eos_token_id': None,
    'fused_bias_fc': True, 'fused_dropout_add_ln': True, 'initializer_range': 0.02, 'layer_norm_epsilon': 1e-12,
    'max_trained_positions': 2048, 'mlp_fc1_bias': False, 'mlp_fc2_bias': False, 'model_type': 'nomic_bert',
    'n_embd': 32, 'n_head': 2, 'n_inner': 96, 'n_layer': 2, 'n_positions': 8192, 'pad_vocab_size_multiple': 64,
    'parallel_block': False, 'parallel_block_tied_norm': False, 'prenorm': False, 'qkv_proj_bias': False,
    'reorder_and_upcast_attn': False, 'resid_pdrop': 0.0, 'rotary_emb_base': 1000, 'rotary_emb_fraction': 1.0,
    'rotary_emb_interleaved': False, 'rotary_emb_scale_base': None, 'rotary_scaling_factor': None,
    'scale_attn_by_inverse_layer_idx': False, 'scale_attn_weights': True, 'summary_activation': None,
    'summary_first_dropout': 0.0, 'summary_proj_to_labels': True, 'summary_type': 'cls_index',
    'summary_use_proj': True, 'torch_dtype': 'float16', 'transformers_version': '4.37.2', 'type_vocab_size': 2,
    'use_cache': True, 'use_flash_attn': True, 'use_rms_norm': False, 'use_xentropy': True, 'vocab_size': 30528,
}
VISION = {**VISION_OWN, 'img_size': 224, 'patch_size': 32, 'n_embd': 32, 'n_head': 2, 'n_layer': 2, 'n_inner': 96.0,
          'ref_feat_shape': [14, 14], 'torch_dtype': 'float16'}
PREPROCESSOR = {**PREP_OWN, 'crop_size': {'height': 224, 'width': 224}, 'size': {'shortest_edge': 224}}
QUERY = 'search_query: '   # the text model's 'query' task: text that searches images
TEXTS = ['a red circle', 'a night sky full of stars', 'yellow star', 'stripes']
IMAGES = ['red-circle.png', 'night-sky.png']


def main():
    for d in ('text', 'vision'):
        os.makedirs(os.path.join(OUT, d), exist_ok=True)
    tw = {k: v.astype(np.float16) for k, v in nomic_weights(TEXT, 55101).items()}
    vw = {k: v.astype(np.float16) for k, v in random_weights(VISION, 55102).items()}
    save_safetensors(os.path.join(OUT, 'text', 'model.safetensors'), tw, metadata={'format': 'pt'})
    save_safetensors(os.path.join(OUT, 'vision', 'model.safetensors'), vw, metadata={'format': 'pt'})
    write_json(os.path.join(OUT, 'text', 'config.json'), TEXT)
    st_files(os.path.join(OUT, 'text'), TEXT['n_embd'], 'mean')
    shutil.copyfile(TOKENIZER, os.path.join(OUT, 'text', 'tokenizer.json'))
    write_json(os.path.join(OUT, 'vision', 'config.json'), VISION)
    write_json(os.path.join(OUT, 'vision', 'preprocessor_config.json'), PREPROCESSOR)

    queries = [QUERY + t for t in TEXTS]
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        json.dump(queries, f)
        texts_path = f.name
    enc = json.loads(subprocess.check_output(['node', os.path.join(HERE, 'ref-ids.mjs'),
                                              os.path.join(OUT, 'text', 'tokenizer.json'), texts_path], cwd=ROOT))
    os.unlink(texts_path)
    texts = []
    for s, e in zip(TEXTS, enc):
        ids = np.array([e['ids']])
        mask = np.ones_like(ids)
        h = nomic_forward(TEXT, tw, ids, mask, {}).numpy()
        texts.append({'text': s, 'task': 'query', 'ids': e['ids'], 'embedding': l2(mean_pool(h, mask))[0].tolist()})
    images = []
    for name in IMAGES:
        rgb = np.asarray(Image.open(os.path.join(SAMPLES, name)).convert('RGB'))
        _, _, pixels, _ = preprocess(rgb, PREPROCESSOR)
        _, _, last = vision_forward(VISION, vw, pixels)
        images.append({'image': name, 'embedding': l2(last[:, 0])[0].tolist()})
    write_json(os.path.join(OUT, 'expected.json'), {'generator': 'gen/tiny_nomic_pair.py', 'texts': texts, 'images': images})
    with open(os.path.join(OUT, 'SOURCE.md'), 'w') as f:
        f.write('''# tiny-nomic: the demo's bundled pair of towers

Made by `gen/tiny_nomic_pair.py` (deterministic, offline): a tiny random-weight nomic-embed-text-v1.5 (`text/`,
nomic_bert with the real bert-base-uncased vocabulary: tokenizer.json copied from
tests/data/tokenizers/bge-small-en-v1.5) and nomic-embed-vision-v1.5 (`vision/`, NomicVisionModel with the real
224 x 224 CLIP input pipeline, 32 x 32 patches), float16, in the hub layout. Loaded as a pair with
`Embedder.load({ text: '.../text/', vision: '.../vision/' })`. Random weights: rankings are deterministic but
carry no meaning. `expected.json` holds float64 reference embeddings (see the generator) that
tests/js/nomic-vision.test.js compares with.
''')


if __name__ == '__main__':
    main()
