#!/usr/bin/python3
"""wembed's own nomic-embed-vision fixture: a tiny NomicVisionModel and its float64 reference outputs.

    /usr/bin/python3 gen/nomic_vision_fixture.py               writes tests/data/fixtures/nomic_vision_own/
    /usr/bin/python3 gen/nomic_vision_fixture.py --check DIR   runs the reference on a fixture folder of the
                                                              same layout (the copied nomic_vision) and compares

The reference below is written after nomic-ai/contrastors src/contrastors/models/huggingface/
modeling_hf_nomic_bert.py (NomicVisionPatchEmbeddings, NomicVisionRotaryEmbeddingCat and timm's
build_rotary_pos_embed / apply_rot_embed_cat, NomicBertAttention's `rope` branch, NomicBertBlock
with prenorm, NomciBertGatedMLP with norm_layer, NomicAttentionPooling /
NomicMultiHeadAttentionPooling, NomicVisionModel) and transformers' CLIPImageProcessor with
Pillow, in float64 except where the official code fixes float32 (the 2-D RoPE tables, the
rescaled pixels). It differs from the shared fixture on purpose: a 10 x 10 grid with
ref_feat_shape [16, 12] (t = row * 1.6 and col * 1.2, the two axes scaled differently), head_dim
16 (4 bands per axis), n_inner 100.0 (256 in the weights), a portrait image cropped vertically
and a small landscape image upscaled.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'tests', 'data', 'fixtures', 'nomic_vision_own')

CONFIG = {
    'activation_function': 'swiglu', 'architectures': ['NomicVisionModel'], 'attn_pdrop': 0.0,
    'auto_map': {'AutoConfig': 'configuration_hf_nomic_bert.NomicBertConfig',
                 'AutoModel': 'modeling_hf_nomic_bert.NomicVisionModel'},
    'bos_token_id': None, 'causal': False, 'dense_seq_output': True, 'drop_path_rate': 0.0, 'embd_pdrop': 0.0,
    'eos_token_id': None, 'eva_qkv_bias': False, 'fused_bias_fc': True, 'fused_dropout_add_ln': True,
    'global_pool': None, 'hidden_features_scaling_factor': 1.0, 'img_size': 40, 'initializer_range': 0.02,
    'layer_norm_epsilon': 1e-06, 'layer_scale': False, 'layer_scale_init': 1.0, 'learned_pos_embedding': False,
    'mask_token': False, 'max_trained_positions': 2048, 'mlp_fc1_bias': True, 'mlp_fc2_bias': True,
    'model_type': 'nomic_bert', 'n_embd': 48, 'n_head': 3, 'n_inner': 100.0, 'n_layer': 2, 'n_positions': 0,
    'no_cls_token': False, 'no_embed_class': False, 'no_last_ln': True, 'norm_mlp': True, 'num_channels': 3,
    'pad_vocab_size_multiple': 1, 'parallel_block': False, 'parallel_block_tied_norm': False, 'patch_dropout': 0,
    'patch_embed_bias': True, 'patch_size': 4, 'prenorm': True, 'prepre_layernom': False, 'qkv_proj_bias': True,
    'ref_feat_shape': [16, 12], 'register_tokens': 0, 'reorder_and_upcast_attn': False, 'resid_pdrop': 0.0,
    'rotary_emb_base': 10000, 'rotary_emb_fraction': 0, 'rotary_emb_interleaved': False,
    'rotary_emb_scale_base': None, 'rotary_scaling_factor': None, 'scale_attn_by_inverse_layer_idx': False,
    'scale_attn_weights': True, 'sinusoidal_pos_embedding': False, 'torch_dtype': 'float32',
    'transformers_version': '4.40.2', 'type_vocab_size': 2, 'use_cache': True, 'use_flash_attn': True,
    'use_pos_embed': True, 'use_rms_norm': False, 'use_rotary_pos_emb': True, 'use_xentropy': False, 'vocab_size': 0,
}
PREPROCESSOR = {
    'crop_size': {'height': 40, 'width': 40}, 'do_center_crop': True, 'do_convert_rgb': True, 'do_normalize': True,
    'do_rescale': True, 'do_resize': True, 'image_mean': [0.48145466, 0.4578275, 0.40821073],
    'image_processor_type': 'CLIPImageProcessor', 'image_std': [0.26862954, 0.26130258, 0.27577711], 'resample': 3,
    'rescale_factor': 0.00392156862745098, 'size': {'shortest_edge': 40},
}
# (name, H, W, what it covers)
IMAGES = [
    ('portrait_70x45', 70, 45, 'portrait: 45x70 (WxH) -> 40x62, center crop top 11'),
    ('landscape_33x50', 33, 50, 'small landscape, upscaled: 50x33 -> 60x40, center crop left 10'),
]


def ff_width(cfg):
    """NomciBertGatedMLP: hidden = n_inner or int(8 * n_embd / 3), then int((h + 255) // 256 * 256)."""
    h = cfg['n_inner'] if cfg.get('n_inner') is not None else int(8 * cfg['n_embd'] / 3)
    return int((h + 256 - 1) // 256 * 256)


def random_weights(cfg, seed):
    rs = np.random.RandomState(seed)
    E, F, C, P = cfg['n_embd'], ff_width(cfg), cfg['num_channels'], cfg['patch_size']
    N = (cfg['img_size'] // P) ** 2 + 1
    n = lambda *s, sd=1.0: (rs.standard_normal(s) * sd).astype(np.float32)
    w = {'embeddings.proj.weight': n(E, C * P * P, sd=0.15), 'embeddings.proj.bias': n(E, sd=0.1),
         'embeddings.cls_token': n(1, 1, E, sd=2.0), 'embeddings.pos_embed': n(1, N, E, sd=0.5)}
    lin = lambda o, i, sd: (n(o, i, sd=sd / np.sqrt(i)), n(o, sd=0.05))
    for i in range(cfg['n_layer']):
        p = f'layers.{i}.'
        for ln, width in (('norm1', E), ('norm2', E), ('mlp.norm', F)):
            w[p + ln + '.weight'] = 1 + n(width, sd=0.2)
            w[p + ln + '.bias'] = n(width, sd=0.1)
        for name, o, k, sd in (('attn.Wqkv', 3 * E, E, 2.0), ('attn.out_proj', E, E, 1.0), ('mlp.fc11', F, E, 1.0),
                               ('mlp.fc12', F, E, 1.5), ('mlp.fc2', E, F, 1.0)):
            w[p + name + '.weight'], w[p + name + '.bias'] = lin(o, k, sd)
    w['selector.attn.latent'] = n(1, 1, E, sd=1.0)
    for name, o, k, sd in (('attn.Wq', E, E, 3.0), ('attn.Wkv', 2 * E, E, 3.0), ('attn.out_proj', E, E, 1.0),
                           ('mlp.fc11', F, E, 1.0), ('mlp.fc12', F, E, 1.5), ('mlp.fc2', E, F, 2.0)):
        w['selector.' + name + '.weight'], w['selector.' + name + '.bias'] = lin(o, k, sd)
    w['selector.norm1.weight'] = 1 + n(E, sd=0.2)
    w['selector.norm1.bias'] = n(E, sd=0.1)
    return w


# -----------------------------------------------------------------------------------------
# Preprocessing: CLIPImageProcessor (shortest_edge resize with Pillow, center crop, rescale, normalize)

def preprocess(rgb, pp):
    h, w = rgb.shape[:2]
    s = pp['size']['shortest_edge']
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = s, int(s * long / short)          # get_resize_output_image_size(default_to_square=False)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    resized = np.asarray(Image.fromarray(rgb).resize((nw, nh), resample=pp['resample']))
    ch, cw = pp['crop_size']['height'], pp['crop_size']['width']
    top, left = (nh - ch) // 2, (nw - cw) // 2               # center_crop (the images here are larger than the crop)
    cropped = resized[top:top + ch, left:left + cw]
    x = (cropped.astype(np.float64) * pp['rescale_factor']).astype(np.float32)
    mean, std = np.array(pp['image_mean'], np.float32), np.array(pp['image_std'], np.float32)
    x = (x - mean) / std
    return resized, cropped, x.transpose(2, 0, 1)[None].astype(np.float32), (top, left)


# -----------------------------------------------------------------------------------------
# NomicVisionModel in float64

def rope_tables(grid, ref, head_dim):
    """build_rotary_pos_embed(feat_shape=grid, dim=head_dim, in_pixels=False, ref_feat_shape=ref): float32, as
    the module buffer; returns sin, cos (grid_h * grid_w, head_dim), each band repeated for its pair."""
    nb = head_dim // 4
    bands = 1.0 / (10000.0 ** (torch.arange(0, nb, 1, dtype=torch.int64).to(torch.float32) / nb))   # freq_bands, step 1
    t = [torch.arange(s, dtype=torch.int64).to(torch.float32) for s in grid]
    if ref is not None:
        t = [x / f * r for x, f, r in zip(t, grid, ref)]
    g = torch.stack(torch.meshgrid(*t, indexing='ij'), dim=-1).unsqueeze(-1)    # (gh, gw, 2, 1)
    pos = g * bands                                                             # (gh, gw, 2, nb)
    sin = pos.sin().reshape(grid[0] * grid[1], -1).repeat_interleave(2, -1)
    cos = pos.cos().reshape(grid[0] * grid[1], -1).repeat_interleave(2, -1)
    return sin.double(), cos.double()


def rot(x):
    return torch.stack([-x[..., 1::2], x[..., ::2]], -1).reshape(x.shape)


def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def gated_mlp(t, p, x, norm):
    y = (x @ t[p + 'fc11.weight'].T + t[p + 'fc11.bias']) * torch.nn.functional.silu(x @ t[p + 'fc12.weight'].T + t[p + 'fc12.bias'])
    if norm:
        y = layer_norm(y, t[p + 'norm.weight'], t[p + 'norm.bias'], 1e-5)              # nn.LayerNorm default eps
    return y @ t[p + 'fc2.weight'].T + t[p + 'fc2.bias']


def softmax_attention(q, k, v, d):
    return torch.softmax(q @ k.transpose(-1, -2) / np.sqrt(d), dim=-1) @ v


def forward(cfg, w, pixels):
    """pixels (B, C, S, S) -> trunk (HF .hidden_states), map output m (B, E), last_hidden_state."""
    t = {k: torch.from_numpy(v).double() for k, v in w.items()}
    E, H, P, S = cfg['n_embd'], cfg['n_head'], cfg['patch_size'], cfg['img_size']
    d, G = E // H, S // P
    eps = cfg['layer_norm_epsilon']
    x = torch.from_numpy(pixels).double()
    B = x.shape[0]
    # rearrange "b c (h p1) (w p2) -> b h w (c p1 p2)", then the Linear
    patches = x.reshape(B, -1, G, P, G, P).permute(0, 2, 4, 1, 3, 5).reshape(B, G * G, -1)
    emb = patches @ t['embeddings.proj.weight'].T + t['embeddings.proj.bias']
    x = torch.cat([t['embeddings.cls_token'].expand(B, 1, E), emb], dim=1) + t['embeddings.pos_embed']
    sin, cos = rope_tables((G, G), cfg['ref_feat_shape'], d)
    for i in range(cfg['n_layer']):
        p = f'layers.{i}.'
        h = layer_norm(x, t[p + 'norm1.weight'], t[p + 'norm1.bias'], eps)
        qkv = (h @ t[p + 'attn.Wqkv.weight'].T + t[p + 'attn.Wqkv.bias']).reshape(B, -1, 3, H, d)
        q, k, v = (qkv[:, :, j].permute(0, 2, 1, 3) for j in range(3))            # (B, H, T, d)
        # num_prefix_tokens = 1: the class token is not rotated
        q = torch.cat([q[:, :, :1], q[:, :, 1:] * cos + rot(q[:, :, 1:]) * sin], dim=2)
        k = torch.cat([k[:, :, :1], k[:, :, 1:] * cos + rot(k[:, :, 1:]) * sin], dim=2)
        a = softmax_attention(q, k, v, d).permute(0, 2, 1, 3).reshape(B, -1, E)
        x = x + a @ t[p + 'attn.out_proj.weight'].T + t[p + 'attn.out_proj.bias']
        h = layer_norm(x, t[p + 'norm2.weight'], t[p + 'norm2.bias'], eps)
        x = x + gated_mlp(t, p + 'mlp.', h, cfg['norm_mlp'])
    trunk = x                                                                     # no_last_ln
    q = (t['selector.attn.latent'].expand(B, 1, E) @ t['selector.attn.Wq.weight'].T + t['selector.attn.Wq.bias'])
    kv = (trunk @ t['selector.attn.Wkv.weight'].T + t['selector.attn.Wkv.bias']).reshape(B, -1, 2, H, d)
    q = q.reshape(B, 1, H, d).permute(0, 2, 1, 3)
    k, v = kv[:, :, 0].permute(0, 2, 1, 3), kv[:, :, 1].permute(0, 2, 1, 3)
    a = softmax_attention(q, k, v, d).permute(0, 2, 1, 3).reshape(B, 1, E)
    a = a @ t['selector.attn.out_proj.weight'].T + t['selector.attn.out_proj.bias']
    m = gated_mlp(t, 'selector.mlp.', layer_norm(a, t['selector.norm1.weight'], t['selector.norm1.bias'], eps), False)
    last = trunk + m                                                              # broadcast over the tokens
    return trunk.numpy(), m[:, 0].numpy(), last.numpy()


# -----------------------------------------------------------------------------------------
# Files

def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        a, b = v['data_offsets']
        out[k] = np.frombuffer(data[a:b], dtype=np.float32).reshape(v['shape']).copy()
    return out


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        b = np.ascontiguousarray(tensors[name], dtype=np.float32).tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


def l2(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def outputs(cfg, pp, w, rgb):
    resized, cropped, pixels, crop = preprocess(rgb, pp)
    trunk, m, last = forward(cfg, w, pixels)
    return {'resized_uint8': resized, 'cropped_uint8': cropped, 'pixel_values': pixels, 'trunk_hidden_state': trunk,
            'last_hidden_state': last, 'map_output': m, 'image_embeds': last[:, 0], 'image_embeds_normalized': l2(last[:, 0])}, crop


DESCS = {
    'image_uint8': ('input', 'raw RGB image, uint8 [H,W,3] (HWC)'),
    'resized_uint8': ('optional', 'after PIL BICUBIC shortest-edge resize (before the crop), uint8 HWC'),
    'cropped_uint8': ('optional', 'resized then center-cropped, uint8 HWC'),
    'pixel_values': ('expected', 'CLIPImageProcessor output [1,3,S,S] float32 (CLIP mean/std)'),
    'trunk_hidden_state': ('optional', 'HF .hidden_states: the trunk after the last block, no final LayerNorm [1,T,D]'),
    'last_hidden_state': ('optional', 'HF .last_hidden_state = trunk + the selector output broadcast to every token [1,T,D]'),
    'map_output': ('optional', 'the selector output m [1,D] (selector(trunk) - trunk)'),
    'image_embeds': ('expected', 'last_hidden_state[:, 0] [1,D]'),
    'image_embeds_normalized': ('expected', 'F.normalize(last_hidden_state[:, 0]) (the model card) [1,D]'),
}


def check(folder):
    """Runs the reference on a fixture folder of this layout and reports the largest differences."""
    cfg = json.load(open(os.path.join(folder, 'config.json')))
    pp = json.load(open(os.path.join(folder, 'preprocessor_config.json')))
    man = json.load(open(os.path.join(folder, 'manifest.json')))
    w = read_safetensors(os.path.join(folder, 'model.safetensors'))
    worst = 0.0
    for case in man['cases']:
        ts = case['tensors']
        def load(name):
            t = ts[name]
            return np.fromfile(os.path.join(folder, t['file']), dtype=t['dtype']).reshape(t['shape'])
        got, _ = outputs(cfg, pp, w, load('image_uint8'))
        for name, v in got.items():
            if name not in ts:
                continue
            diff = float(np.abs(v.astype(np.float64) - load(name).astype(np.float64)).max())
            worst = max(worst, diff)
            print(f"{case['name']:>20} {name:<24} max |diff| {diff:.3g}")
    print(f'worst {worst:.3g}')
    return worst < 1e-5


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--check':
        sys.exit(0 if check(sys.argv[2]) else 1)
    os.makedirs(OUT, exist_ok=True)
    w = random_weights(CONFIG, 61331)
    write_safetensors(os.path.join(OUT, 'model.safetensors'), w)
    write_json(os.path.join(OUT, 'config.json'), CONFIG)
    write_json(os.path.join(OUT, 'preprocessor_config.json'), PREPROCESSOR)
    rs = np.random.RandomState(61332)
    cases = []
    for name, h, wd, desc in IMAGES:
        # smooth gradients plus noise: the resize filter matters, and every channel differs
        yy, xx = np.mgrid[0:h, 0:wd]
        base = np.stack([xx * 255.0 / wd, yy * 255.0 / h, (xx + yy) * 127.0 / (h + wd)], -1)
        rgb = np.clip(base + rs.randint(-60, 61, (h, wd, 3)), 0, 255).astype(np.uint8)
        got, crop = outputs(CONFIG, PREPROCESSOR, w, rgb)
        got = {'image_uint8': rgb, **got}
        tensors = {}
        for k, v in got.items():
            dt = 'uint8' if v.dtype == np.uint8 else 'float32'
            fn = f'{name}.{k}.bin'
            np.ascontiguousarray(v.astype(dt)).tofile(os.path.join(OUT, fn))
            role, d = DESCS[k]
            tensors[k] = {'file': fn, 'dtype': dt, 'shape': list(v.shape), 'desc': d, 'role': role}
        cases.append({'name': name, 'desc': f'{desc} (crop top/left {list(crop)})', 'tensors': tensors})
    write_json(os.path.join(OUT, 'manifest.json'), {
        'model': 'nomic_vision_own', 'model_type': 'nomic_vision',
        'note': 'NomicVisionModel: 48 wide, 3 heads (head_dim 16: 4 RoPE bands per axis), 2 pre-LN blocks, img 40 / '
                'patch 4 = a 10x10 grid with ref_feat_shape [16, 12] (rows t = 1.6 i, columns t = 1.2 j), SwiGLU with '
                'inner LayerNorm (n_inner 100.0 -> 256), no final LayerNorm, selector head broadcast-added',
        'format': 'every .bin is raw little-endian, row-major (C order); shapes in elements',
        'reference': 'gen/nomic_vision_fixture.py: float64 after modeling_hf_nomic_bert.py NomicVisionModel and '
                     'CLIPImageProcessor with Pillow',
        'tolerances': {'float_max_abs': 1e-4, 'embedding_min_row_cosine': 0.99999, 'integers': 'exact'},
        'cases': cases})
    with open(os.path.join(OUT, 'README.md'), 'w') as f:
        f.write('''# nomic_vision_own: wembed's own NomicVisionModel fixture

Written by `gen/nomic_vision_fixture.py` (deterministic; `--check DIR` runs its reference on the copied
`nomic_vision` fixture). A tiny random-weight NomicVisionModel in the hub layout (config.json key for key like
nomic-embed-vision-v1.5's, with tiny sizes), and a CLIPImageProcessor preprocessor_config.json (shortest edge 40,
center crop 40, bicubic, OpenAI CLIP mean/std).

What it covers beyond the shared `nomic_vision` fixture (whose 14 x 14 grid equals its ref_feat_shape, so
the RoPE rescaling is the identity there):

- 2-D RoPE with `ref_feat_shape` [16, 12] on a 10 x 10 grid: t_row = i / 10 * 16, t_col = j / 10 * 12, so
  dropping the rescaling, or swapping the axes' references or halves, changes the output;
- head_dim 16: 4 frequency bands per axis, interleaved pairs;
- `n_inner` 100.0 (a float) -> an MLP 256 wide in the weights;
- a portrait image (45 x 70, cropped vertically) and a small landscape image that is upscaled.

Cases: ''' + ', '.join(f'`{n}`' for n, *_ in IMAGES) + '''. Inputs `image_uint8`; expected `pixel_values`,
`image_embeds`, `image_embeds_normalized`; optional `resized_uint8`, `cropped_uint8`, `trunk_hidden_state`,
`last_hidden_state`, `map_output` (tolerances as in ../README.md).

Seeds: numpy `RandomState(61331)` for the weights, `RandomState(61332)` for the images.
''')


if __name__ == '__main__':
    main()
