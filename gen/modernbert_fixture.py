#!/usr/bin/python3
"""A tiny ModernBERT fixture, its expected outputs, and its llama.cpp GGUF form.

    /usr/bin/python3 gen/modernbert_fixture.py [--check]   (Debian: python3-torch, python3-numpy)

Writes tests/data/fixtures/modernbert_own/ in the role-tagged manifest format of the shared
fixtures (tests/data/fixtures/README.md): config.json (ModernBertConfig keys, transformers
4.48 style), model.safetensors (float32, HF names without prefix), sentence-transformers files
(Transformer -> Pooling(mean) -> Normalize), the inputs and the expected outputs; and
tests/data/gguf/modernbert-f16.gguf: the same weights as llama.cpp's convert_hf_to_gguf.py
writes a ModernBertModel ("modern-bert": 2-D weights F16, norms F32, its metadata keys).

The tiny model covers what the shared fixtures (modernbert, modernbert_mean: 4 layers, one
global every 3) do not: 5 layers with global_attn_every_n_layers 2 (layers 0, 2, 4 global with
theta 160000; 1, 3 local with theta 10000, so both bases act twice), local_attention 8 (window
|i - j| <= 4), a padded batch whose rows are shorter than the window (3), exactly at it (5: the
farthest pair is 4 apart), one past the full window (9) and far above (40), and one row of
8192 tokens (max_position_embeddings) with pooled outputs only.

The expected outputs come from the float64 forward below, written after transformers'
modeling_modernbert.py (ModernBertEmbeddings, ModernBertRotaryEmbedding with its float32
cos/sin tables, apply_rotary_pos_emb, eager_attention_forward with _update_attention_mask's
global and sliding-window masks, ModernBertMLP, ModernBertEncoderLayer, final_norm), on the
padded batch as HF runs it (positions arange(S), padding masked as keys). It does not call
wembed. --check also runs it on the copied shared fixtures and prints the largest difference
from their expected tensors (an independent check of this reference).

Deterministic: numpy RandomState(92103) for the weights, RandomState(10113) for the inputs.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUT = os.path.join(ROOT, 'tests', 'data', 'fixtures', 'modernbert_own')
GGUF_OUT = os.path.join(ROOT, 'tests', 'data', 'gguf', 'modernbert-f16.gguf')
sys.path.insert(0, os.path.join(ROOT, 'gen'))
from gguf_writer import GGUFValueType as T, GGUFWriter  # noqa: E402

CLS, SEP, PAD = 1, 2, 0
CFG = {
    '_name_or_path': 'wembed/tiny-modernbert-own',
    'architectures': ['ModernBertModel'],
    'attention_bias': False, 'attention_dropout': 0.0,
    'bos_token_id': CLS, 'cls_token_id': CLS, 'eos_token_id': SEP, 'sep_token_id': SEP, 'pad_token_id': PAD,
    'classifier_activation': 'gelu', 'classifier_bias': False, 'classifier_dropout': 0.0, 'classifier_pooling': 'mean',
    'decoder_bias': True, 'deterministic_flash_attn': False, 'embedding_dropout': 0.0,
    'global_attn_every_n_layers': 2, 'global_rope_theta': 160000.0, 'local_rope_theta': 10000.0,
    'local_attention': 8, 'hidden_activation': 'gelu',
    'hidden_size': 32, 'intermediate_size': 32, 'num_attention_heads': 2, 'num_hidden_layers': 5,
    'initializer_cutoff_factor': 2.0, 'initializer_range': 0.02,
    'layer_norm_eps': 1e-05, 'norm_eps': 1e-05, 'norm_bias': False,
    'max_position_embeddings': 8192, 'mlp_bias': False, 'mlp_dropout': 0.0,
    'model_type': 'modernbert', 'position_embedding_type': 'absolute', 'reference_compile': False,
    'sparse_pred_ignore_index': -100, 'sparse_prediction': False,
    'torch_dtype': 'float32', 'transformers_version': '4.48.0', 'vocab_size': 100,
}
MATRYOSHKA = [16]


# ---------------------------------------------------------------------------------------
# The reference forward (float64 except the RoPE tables, float32 as in HF)

def is_global(cfg, layer):
    # ModernBertAttention: local when layer_id % global_attn_every_n_layers != 0
    return layer % cfg['global_attn_every_n_layers'] == 0


def rope_tables(theta, dim, S):
    # ModernBertRotaryEmbedding.forward: inv_freq float32, freqs = inv_freq @ positions in
    # float32, emb = cat(freqs, freqs), cos/sin in float32
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    pos = torch.arange(S).float()
    freqs = (inv_freq[None, :, None] @ pos[None, None, :]).transpose(1, 2)[0]   # (S, dim/2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().double(), emb.sin().double()


def exact_rope_tables(theta, dim, S):
    inv = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    f = torch.arange(S, dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat((f, f), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def layer_norm(x, w, eps):
    # nn.LayerNorm(bias=False)
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / np.sqrt(2.0)))


def attention(q, k, v, key_ok, window, chunk=1024):
    # q, k, v (B, H, S, d); key_ok (B, S) bool; window: None (global) or w (|i - j| <= w).
    # Masked logits get a large negative value, as HF's finfo.min (padded query rows stay finite).
    # Query rows go by chunks; a local layer's chunk only reads the keys its window can reach.
    B, H, S, d = q.shape
    out = torch.empty_like(q)
    for i0 in range(0, S, chunk):
        i1 = min(S, i0 + chunk)
        j0, j1 = (0, S) if window is None else (max(0, i0 - window), min(S, i1 + window))
        s = q[:, :, i0:i1] @ k[:, :, j0:j1].transpose(2, 3) * d ** -0.5       # (B, H, c, j1 - j0)
        ok = key_ok[:, None, None, j0:j1].expand(B, 1, i1 - i0, j1 - j0)
        if window is not None:
            dist = (torch.arange(i0, i1)[:, None] - torch.arange(j0, j1)[None, :]).abs()
            ok = ok & (dist <= window)[None, None]
        s = s.masked_fill(~ok, -1e300)
        out[:, :, i0:i1] = torch.softmax(s, dim=-1) @ v[:, :, j0:j1]
    return out


def forward(cfg, w, ids, mask, exact_rope=False):
    """last_hidden_state (B, S, E) float64 of ModernBertModel on a right-padded batch."""
    E, H, L = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_hidden_layers']
    d, eps = E // H, cfg['norm_eps']
    B, S = ids.shape
    W = {k: torch.from_numpy(v.astype(np.float64)) for k, v in w.items()}
    key_ok = torch.from_numpy(mask.astype(bool))
    tables = exact_rope_tables if exact_rope else rope_tables
    local_theta = cfg['local_rope_theta'] if cfg.get('local_rope_theta') is not None else cfg['global_rope_theta']
    cos_g, sin_g = tables(cfg['global_rope_theta'], d, S)
    cos_l, sin_l = tables(local_theta, d, S)
    x = layer_norm(W['embeddings.tok_embeddings.weight'][torch.from_numpy(ids.astype(np.int64))], W['embeddings.norm.weight'], eps)
    for il in range(L):
        p = f'layers.{il}.'
        a = x if il == 0 else layer_norm(x, W[p + 'attn_norm.weight'], eps)   # layer 0: nn.Identity
        qkv = (a @ W[p + 'attn.Wqkv.weight'].T).view(B, S, 3, H, d)
        q, k, v = qkv.transpose(3, 1).unbind(dim=2)                             # (B, H, S, d)
        g = is_global(cfg, il)
        cos, sin = (cos_g, sin_g) if g else (cos_l, sin_l)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        o = attention(q, k, v, key_ok, None if g else cfg['local_attention'] // 2)
        o = o.transpose(1, 2).reshape(B, S, E)
        x = x + o @ W[p + 'attn.Wo.weight'].T
        hi = layer_norm(x, W[p + 'mlp_norm.weight'], eps) @ W[p + 'mlp.Wi.weight'].T
        inp, gate = hi.chunk(2, dim=-1)                                          # act on the first half
        x = x + (gelu(inp) * gate) @ W[p + 'mlp.Wo.weight'].T
    return layer_norm(x, W['final_norm.weight'], eps)


def pooled(h, mask):
    m = torch.from_numpy(mask.astype(np.float64))[:, :, None]
    mean = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return mean, h[:, 0]


def l2(x):
    return x / x.norm(dim=-1, keepdim=True).clamp(min=1e-12)


# ---------------------------------------------------------------------------------------
# Files

def read_safetensors(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    out = {}
    for k, v in h.items():
        if k == '__metadata__':
            continue
        s, e = v['data_offsets']
        out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype={'F32': np.float32}[v['dtype']]).reshape(v['shape'])
    return out


def write_safetensors(path, w):
    header, off, blobs = {}, 0, []
    for k in sorted(w):
        b = np.ascontiguousarray(w[k], dtype=np.float32).tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(w[k].shape), 'data_offsets': [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def make_weights(cfg):
    rng = np.random.RandomState(92103)
    E, F, V, L = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size'], cfg['num_hidden_layers']
    shapes = {'embeddings.tok_embeddings.weight': (V, E), 'embeddings.norm.weight': (E,), 'final_norm.weight': (E,)}
    for il in range(L):
        p = f'layers.{il}.'
        if il > 0:
            shapes[p + 'attn_norm.weight'] = (E,)
        shapes.update({p + 'attn.Wqkv.weight': (3 * E, E), p + 'attn.Wo.weight': (E, E), p + 'mlp_norm.weight': (E,),
                       p + 'mlp.Wi.weight': (2 * F, E), p + 'mlp.Wo.weight': (E, F)})
    w = {}
    for k in sorted(shapes):
        s = shapes[k]
        if k.endswith('norm.weight'):
            w[k] = 1 + 0.1 * rng.standard_normal(s)
        elif 'tok_embeddings' in k:
            w[k] = 0.02 * rng.standard_normal(s)
        else:
            std = {'attn.Wqkv': 0.15, 'attn.Wo': 0.1, 'mlp.Wi': 0.3, 'mlp.Wo': 0.1}[k.split('.', 2)[2].rsplit('.', 1)[0]]
            w[k] = std * rng.standard_normal(s)
        w[k] = w[k].astype(np.float32)
    return w


def make_inputs(cfg):
    rng = np.random.RandomState(10113)
    V = cfg['vocab_size']

    def row(n):
        return [CLS] + list(rng.randint(3, V, size=n - 2)) + [SEP]

    cases = []
    lens = [3, 5, 9, 40]
    S = max(lens)
    ids = np.full((len(lens), S), PAD, dtype=np.int32)
    mask = np.zeros((len(lens), S), dtype=np.int32)
    for b, n in enumerate(lens):
        ids[b, :n] = row(n)
        mask[b, :n] = 1
    cases.append(('batch4', 'rows of 3 (inside the +-4 window), 5 (the farthest pair exactly 4 apart), 9 (one past '
                  'local_attention) and 40 tokens, right padded with pad_token_id 0', ids, mask, lens, True))
    n = cfg['max_position_embeddings']
    ids = np.array([row(n)], dtype=np.int32)
    cases.append(('len8192', f'one row of {n} tokens (max_position_embeddings); pooled outputs only, no mask (all 1)',
                  ids, np.ones_like(ids), [n], False))
    return cases


def tensor_entry(name, arr, desc, role):
    dt = {np.dtype(np.int32): 'int32', np.dtype(np.float32): 'float32'}[arr.dtype]
    return {'file': name, 'dtype': dt, 'shape': list(arr.shape), 'desc': desc, 'role': role}


def write_fixture(cfg, w):
    os.makedirs(os.path.join(OUT, '1_Pooling'), exist_ok=True)
    with open(os.path.join(OUT, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(OUT, 'model.safetensors'), w)
    modules = [{'idx': 0, 'name': '0', 'path': '', 'type': 'sentence_transformers.models.Transformer'},
               {'idx': 1, 'name': '1', 'path': '1_Pooling', 'type': 'sentence_transformers.models.Pooling'},
               {'idx': 2, 'name': '2', 'path': '2_Normalize', 'type': 'sentence_transformers.models.Normalize'}]
    with open(os.path.join(OUT, 'modules.json'), 'w') as f:
        json.dump(modules, f, indent=2)
    with open(os.path.join(OUT, '1_Pooling', 'config.json'), 'w') as f:
        json.dump({'word_embedding_dimension': cfg['hidden_size'], 'pooling_mode_cls_token': False, 'pooling_mode_mean_tokens': True,
                   'pooling_mode_max_tokens': False, 'pooling_mode_mean_sqrt_len_tokens': False}, f, indent=2)
    with open(os.path.join(OUT, 'sentence_bert_config.json'), 'w') as f:
        json.dump({'max_seq_length': cfg['max_position_embeddings'], 'do_lower_case': False}, f, indent=2)

    manifest_cases = []
    for name, desc, ids, mask, lens, full in make_inputs(cfg):
        h = forward(cfg, w, ids, mask)
        mean, cls = pooled(h, mask)
        he = forward(cfg, w, ids, mask, exact_rope=True)
        t = {}

        def put(tname, arr, tdesc, role):
            fn = f'{name}.{tname}.bin'
            arr.tofile(os.path.join(OUT, fn))
            t[tname] = tensor_entry(fn, arr, tdesc, role)

        put('input_ids', ids, 'token ids [B,S] (right padded)', 'input')
        if full:
            put('attention_mask', mask, '1 = real token, 0 = padding', 'input')
            put('last_hidden_state', h.numpy().astype(np.float32),
                'final encoder output [B,S,D] after final_norm (compare where attention_mask == 1)', 'expected')
        put('mean_pooled', mean.numpy().astype(np.float32), 'mean pooling over attention_mask [B,D]', 'expected')
        put('mean_pooled_normalized', l2(mean).numpy().astype(np.float32), 'L2-normalised mean pooling [B,D]', 'expected')
        put('cls_pooled', cls.numpy().astype(np.float32), 'row 0 of last_hidden_state [B,D]', 'expected')
        put('cls_pooled_normalized', l2(cls).numpy().astype(np.float32), 'L2-normalised cls pooling [B,D]', 'expected')
        for dm in MATRYOSHKA:
            put(f'matryoshka_{dm}', l2(mean[:, :dm]).numpy().astype(np.float32),
                f'L2(mean_pooled[:, :{dm}]) (sentence-transformers truncate_dim, no layer_norm)', 'expected')
        valid = torch.from_numpy(mask.astype(bool))
        manifest_cases.append({
            'name': name, 'desc': desc, 'lengths': lens, 'padded_length': int(ids.shape[1]), 'tensors': t,
            'rope_fp32_tables_vs_exact_last_hidden_max_abs': float((h - he)[valid].abs().max()),
            'rope_fp32_tables_vs_exact_mean_pooled_max_abs': float((mean - pooled(he, mask)[0]).abs().max()),
        })
        print(f'{name}: rope float32 tables vs exact: hidden {manifest_cases[-1]["rope_fp32_tables_vs_exact_last_hidden_max_abs"]:.3g}, '
              f'mean {manifest_cases[-1]["rope_fp32_tables_vs_exact_mean_pooled_max_abs"]:.3g}')

    layers = [f'{i}:global(theta={cfg["global_rope_theta"]:g})' if is_global(cfg, i) else
              f'{i}:local(theta={cfg["local_rope_theta"]:g}, |i-j|<={cfg["local_attention"] // 2})' for i in range(cfg['num_hidden_layers'])]
    manifest = {
        'model': 'modernbert_own', 'model_type': 'modernbert',
        'note': 'wembed\'s own tiny ModernBertModel (gen/modernbert_fixture.py): 32 wide, 2 heads (head_dim 16), 5 layers with '
                'global_attn_every_n_layers 2, local_attention 8, intermediate 32 (Wi [64,32]), vocab 100; sentence-transformers '
                'mean pooling + Normalize; Matryoshka = L2(mean_pooled[:, :d]).',
        'format': 'every .bin is raw little-endian, row-major (C order); shapes in elements',
        'reference': 'independent float64 PyTorch forward following transformers modeling_modernbert.py, RoPE tables in float32 '
                     'like HF, rounded to float32 on save',
        'roles': {'input': 'feed to the engine', 'expected': 'the engine must produce it and match',
                  'optional': 'compared only when the engine reports it'},
        'tolerances': {'float_max_abs': 1e-4, 'embedding_min_row_cosine': 0.99999},
        'pooling': 'mean', 'layers': layers, 'matryoshka_dims': MATRYOSHKA, 'seeds': {'weights': 92103, 'inputs': 10113},
        'cases': manifest_cases,
    }
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')


def write_gguf(cfg, w):
    # convert_hf_to_gguf.py ModernBertModel (BertModel -> TextModel) with --outtype f16
    g = GGUFWriter(arch='modern-bert')
    g.add_string('general.name', 'wembed tiny modernbert fixture')
    g.add_uint32('general.file_type', 1)
    g.add_uint32('modern-bert.context_length', cfg['max_position_embeddings'])
    g.add_uint32('modern-bert.embedding_length', cfg['hidden_size'])
    g.add_uint32('modern-bert.feed_forward_length', cfg['intermediate_size'])
    g.add_uint32('modern-bert.block_count', cfg['num_hidden_layers'])
    g.add_uint32('modern-bert.attention.head_count', cfg['num_attention_heads'])
    g.add_float32('modern-bert.rope.freq_base', cfg['global_rope_theta'])
    g.add_float32('modern-bert.rope.freq_base_swa', cfg['local_rope_theta'])
    g.add_float32('modern-bert.attention.layer_norm_rms_epsilon', cfg['norm_eps'])   # find_hparam(["rms_norm_eps", "norm_eps"])
    g.add_float32('modern-bert.attention.layer_norm_epsilon', cfg['layer_norm_eps'])
    g.add_bool('modern-bert.attention.causal', False)
    g.add_uint32('modern-bert.pooling_type', 1)   # mean, from 1_Pooling
    g.add_uint32('modern-bert.attention.sliding_window', cfg['local_attention'])
    g.add_uint32('modern-bert.attention.sliding_window_pattern', cfg['global_attn_every_n_layers'])
    g.add_string('modern-bert.rope.scaling.type', 'none')
    g.add_uint32('modern-bert.vocab_size', cfg['vocab_size'])
    # A GPT-2 BPE vocabulary, as _set_vocab_gpt2 writes it (wembed does not tokenize it).
    toks = ['[PAD]', '[CLS]', '[SEP]'] + ['t%d' % i for i in range(3, cfg['vocab_size'])]
    g.add_string('tokenizer.ggml.model', 'gpt2')
    g.add_string('tokenizer.ggml.pre', 'gpt-2')
    g.add_array('tokenizer.ggml.tokens', T.STRING, toks)
    g.add_array('tokenizer.ggml.token_type', T.INT32, [3, 3, 3] + [1] * (len(toks) - 3))
    g.add_array('tokenizer.ggml.merges', T.STRING, ['t 1', 't 2'])
    g.add_uint32('tokenizer.ggml.bos_token_id', CLS)
    g.add_uint32('tokenizer.ggml.eos_token_id', SEP)
    g.add_uint32('tokenizer.ggml.seperator_token_id', SEP)
    g.add_uint32('tokenizer.ggml.padding_token_id', PAD)
    g.add_bool('tokenizer.ggml.add_bos_token', True)
    g.add_bool('tokenizer.ggml.add_eos_token', True)
    names = {'embeddings.tok_embeddings.weight': 'token_embd.weight', 'embeddings.norm.weight': 'token_embd_norm.weight',
             'final_norm.weight': 'output_norm.weight'}
    per_layer = {'attn_norm.weight': 'attn_norm.weight', 'attn.Wqkv.weight': 'attn_qkv.weight', 'attn.Wo.weight': 'attn_output.weight',
                 'mlp_norm.weight': 'ffn_norm.weight', 'mlp.Wi.weight': 'ffn_up.weight', 'mlp.Wo.weight': 'ffn_down.weight'}
    for k in sorted(w):
        if k.startswith('layers.'):
            _, il, rest = k.split('.', 2)
            gn = f'blk.{il}.{per_layer[rest]}'
        else:
            gn = names[k]
        g.add_tensor(gn, w[k], 'F16' if w[k].ndim == 2 else 'F32')
    with open(GGUF_OUT, 'wb') as f:
        f.write(g.to_bytes())


def check_shared():
    for name in ('modernbert', 'modernbert_mean'):
        d = os.path.join(ROOT, 'tests', 'data', 'fixtures', name)
        cfg = json.load(open(os.path.join(d, 'config.json')))
        w = read_safetensors(os.path.join(d, 'model.safetensors'))
        man = json.load(open(os.path.join(d, 'manifest.json')))
        for cs in man['cases']:
            t = cs['tensors']

            def load(k):
                e = t[k]
                return np.fromfile(os.path.join(d, e['file']), dtype=e['dtype']).reshape(e['shape'])
            ids, mask = load('input_ids'), load('attention_mask')
            h = forward(cfg, w, ids, mask)
            ref = load('last_hidden_state')
            diff = np.abs(h.numpy() - ref)[mask.astype(bool)].max()
            mean, cls = pooled(h, mask)
            dm = np.abs(l2(mean).numpy() - load('mean_pooled_normalized')).max()
            print(f'check {name}/{cs["name"]}: last_hidden_state max |diff| {diff:.3g}, mean_pooled_normalized {dm:.3g}')


def main():
    torch.set_num_threads(2)
    if '--check' in sys.argv:
        check_shared()
    w = make_weights(CFG)
    write_fixture(CFG, w)
    write_gguf(CFG, w)


if __name__ == '__main__':
    main()
