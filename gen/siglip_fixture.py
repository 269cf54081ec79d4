#!/usr/bin/python3
"""wembed's own SigLIP fixture: a tiny random-weight SiglipModel in the exact HF layout, with
outputs from an independent float64 forward written after transformers' modeling_siglip.py
(SiglipTextEmbeddings, SiglipVisionEmbeddings, SiglipAttention, SiglipMLP, SiglipEncoderLayer,
SiglipTextTransformer, SiglipVisionTransformer, SiglipMultiheadAttentionPoolingHead,
SiglipModel) and image_processing_siglip.py with Pillow.

    /usr/bin/python3 gen/siglip_fixture.py          (Debian: python3-torch, python3-numpy, python3-pil)
    /usr/bin/python3 gen/siglip_fixture.py --check  also runs this reference on the copied shared
                                                    fixture tests/data/fixtures/siglip, and its MAP
                                                    head against torch.nn.MultiheadAttention

Deterministic: the same bytes on every run. Writes tests/data/fixtures/siglip_own/ (role-tagged,
tests/data/fixtures/README.md has the format), covering what the shared `siglip` fixture does not:
a config that states its own values (16 positions, projection_size 40 != the text width 48,
pad_token_id 3, text layer_norm_eps 1e-5), token ids handed over UNPADDED (with a mask for the
caller's own padding) that the engine must pad to 16 with pad_token_id, a vision tower whose
image size (30) is not a multiple of its patch (7: the partial patch is dropped), and images
that are downscaled (antialiased) or both down- and upscaled; preprocessor_config.json names
SiglipImageProcessor without mean, std or crop fields (the processor's own defaults apply).
"""
import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import torch
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
FIXTURES = os.path.join(ROOT, 'tests', 'data', 'fixtures')
GENERATOR = 'gen/siglip_fixture.py'

TEXT = {'model_type': 'siglip_text_model', 'vocab_size': 300, 'hidden_size': 48, 'intermediate_size': 80,
        'num_hidden_layers': 2, 'num_attention_heads': 3, 'max_position_embeddings': 16, 'hidden_act': 'gelu_pytorch_tanh',
        'layer_norm_eps': 1e-5, 'pad_token_id': 3, 'projection_size': 40}
VISION = {'model_type': 'siglip_vision_model', 'hidden_size': 40, 'intermediate_size': 72, 'num_hidden_layers': 2,
          'num_attention_heads': 5, 'image_size': 30, 'patch_size': 7}
CONFIG = {'architectures': ['SiglipModel'], 'model_type': 'siglip', 'initializer_factor': 1.0,
          'text_config': TEXT, 'vision_config': VISION, 'torch_dtype': 'float32'}
# No image_mean / image_std / do_center_crop: SiglipImageProcessor's defaults (0.5, no crop) apply.
PREPROCESSOR = {'do_normalize': True, 'do_rescale': True, 'do_resize': True, 'image_processor_type': 'SiglipImageProcessor',
                'processor_class': 'SiglipProcessor', 'resample': 3, 'rescale_factor': 1 / 255,
                'size': {'height': 30, 'width': 30}}
# The SiglipTextConfig / SiglipVisionConfig defaults for the keys a config leaves out.
TEXT_DEFAULTS = {'max_position_embeddings': 64, 'hidden_act': 'gelu_pytorch_tanh', 'layer_norm_eps': 1e-6, 'pad_token_id': 1}
VISION_DEFAULTS = {'num_channels': 3, 'hidden_act': 'gelu_pytorch_tanh', 'layer_norm_eps': 1e-6}
FILLER = 299   # what the caller put under mask 0: dropped, never fed to the model


def cfg_get(c, defaults, key):
    return c[key] if key in c else defaults[key]


# -----------------------------------------------------------------------------------------
# The reference, float64, batch at a time as SiglipModel runs it

def gelu_tanh(x):                      # ACT2FN["gelu_pytorch_tanh"]
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def linear(x, t, name):
    return x @ t[name + '.weight'].T + t[name + '.bias']


def attention(q, k, v, n_head):
    """softmax(q k^T / sqrt(d)) v per head, with no mask; q (B, Tq, E), k and v (B, T, E)."""
    B, Tq, E = q.shape
    d = E // n_head
    sp = lambda x: x.reshape(B, x.shape[1], n_head, d).transpose(1, 2)
    w = torch.softmax(sp(q) @ sp(k).transpose(-1, -2) * d ** -0.5, dim=-1)
    return (w @ sp(v)).transpose(1, 2).reshape(B, Tq, E)


def encoder(t, prefix, c, x, eps):
    """SiglipEncoder: pre-LN layers, no attention mask (neither tower passes one)."""
    for i in range(c['num_hidden_layers']):
        p = f'{prefix}.encoder.layers.{i}.'
        h = layer_norm(x, t[p + 'layer_norm1.weight'], t[p + 'layer_norm1.bias'], eps)
        a = attention(linear(h, t, p + 'self_attn.q_proj'), linear(h, t, p + 'self_attn.k_proj'),
                      linear(h, t, p + 'self_attn.v_proj'), c['num_attention_heads'])
        x = x + linear(a, t, p + 'self_attn.out_proj')
        h = layer_norm(x, t[p + 'layer_norm2.weight'], t[p + 'layer_norm2.bias'], eps)
        x = x + linear(gelu_tanh(linear(h, t, p + 'mlp.fc1')), t, p + 'mlp.fc2')
    return x


def pad_ids(rows, c):
    """What SiglipProcessor(padding="max_length") hands the model: each row padded with the pad
    token to max_position_embeddings, and no attention_mask."""
    S, pad = cfg_get(c, TEXT_DEFAULTS, 'max_position_embeddings'), cfg_get(c, TEXT_DEFAULTS, 'pad_token_id')
    assert all(len(r) <= S for r in rows)
    return torch.tensor([r + [pad] * (S - len(r)) for r in rows])


def text_forward(t, c, ids):
    """SiglipTextTransformer on padded ids (B, S): hidden states after final_layer_norm and
    pooler_output = head(h[:, -1]) -- the LAST position, not the end-of-text token."""
    eps = cfg_get(c, TEXT_DEFAULTS, 'layer_norm_eps')
    x = t['text_model.embeddings.token_embedding.weight'][ids] + t['text_model.embeddings.position_embedding.weight'][:ids.shape[1]]
    x = encoder(t, 'text_model', c, x, eps)
    h = layer_norm(x, t['text_model.final_layer_norm.weight'], t['text_model.final_layer_norm.bias'], eps)
    return h, linear(h[:, -1], t, 'text_model.head')


def map_head(t, c, h, eps):
    """SiglipMultiheadAttentionPoolingHead: the probe as the one query of nn.MultiheadAttention
    (in_proj rows q, k, v; out_proj), then h + mlp(layernorm(h))."""
    E = h.shape[-1]
    W, b = t['vision_model.head.attention.in_proj_weight'], t['vision_model.head.attention.in_proj_bias']
    probe = t['vision_model.head.probe'].expand(h.shape[0], 1, E)
    q, k, v = probe @ W[:E].T + b[:E], h @ W[E:2 * E].T + b[E:2 * E], h @ W[2 * E:].T + b[2 * E:]
    a = linear(attention(q, k, v, c['num_attention_heads']), t, 'vision_model.head.attention.out_proj')
    r = a + linear(gelu_tanh(linear(layer_norm(a, t['vision_model.head.layernorm.weight'], t['vision_model.head.layernorm.bias'], eps),
                                    t, 'vision_model.head.mlp.fc1')), t, 'vision_model.head.mlp.fc2')
    return r[:, 0]


def vision_forward(t, c, pixels):
    """SiglipVisionTransformer: patch conv (with bias, stride = kernel), positions, no class
    token, encoder, post_layernorm on every token, MAP head."""
    eps = cfg_get(c, VISION_DEFAULTS, 'layer_norm_eps')
    x = torch.nn.functional.conv2d(pixels, t['vision_model.embeddings.patch_embedding.weight'],
                                   t['vision_model.embeddings.patch_embedding.bias'], stride=c['patch_size'])
    x = x.flatten(2).transpose(1, 2) + t['vision_model.embeddings.position_embedding.weight']
    x = encoder(t, 'vision_model', c, x, eps)
    h = layer_norm(x, t['vision_model.post_layernorm.weight'], t['vision_model.post_layernorm.bias'], eps)
    return h, map_head(t, c, h, eps)


def normalize(x):
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def preprocess(img_hwc, pp):
    """SiglipImageProcessor: PIL resize straight to (height, width) (no crop, aspect not kept),
    rescale in float64 then float32, normalize in float32 (mean and std default 0.5), CHW."""
    size = pp['size']
    im = Image.fromarray(img_hwc).resize((size['width'], size['height']), resample=pp['resample'])
    resized = np.asarray(im)
    x = (resized.astype(np.float64) * pp['rescale_factor']).astype(np.float32)
    mean = np.array(pp.get('image_mean', [0.5] * 3), dtype=np.float32)
    std = np.array(pp.get('image_std', [0.5] * 3), dtype=np.float32)
    x = ((x - mean) / std).astype(np.float32)
    return resized, x.transpose(2, 0, 1)


# -----------------------------------------------------------------------------------------
# Weights, files, cases

def make_weights(rng):
    w = {}
    n = lambda s, *shape: (rng.standard_normal(shape) * s).astype(np.float32)

    def tower(prefix, c):
        E, F = c['hidden_size'], c['intermediate_size']
        for i in range(c['num_hidden_layers']):
            p = f'{prefix}.encoder.layers.{i}.'
            for ln in ('layer_norm1', 'layer_norm2'):
                w[p + ln + '.weight'], w[p + ln + '.bias'] = 1 + n(0.1, E), n(0.05, E)
            for pr in ('q_proj', 'k_proj', 'v_proj', 'out_proj'):
                w[p + f'self_attn.{pr}.weight'], w[p + f'self_attn.{pr}.bias'] = n(0.2, E, E), n(0.05, E)
            w[p + 'mlp.fc1.weight'], w[p + 'mlp.fc1.bias'] = n(0.15, F, E), n(0.05, F)
            w[p + 'mlp.fc2.weight'], w[p + 'mlp.fc2.bias'] = n(0.15, E, F), n(0.05, E)

    E, P = TEXT['hidden_size'], TEXT['projection_size']
    w['text_model.embeddings.token_embedding.weight'] = n(0.5, TEXT['vocab_size'], E)
    w['text_model.embeddings.position_embedding.weight'] = n(0.3, TEXT['max_position_embeddings'], E)
    tower('text_model', TEXT)
    w['text_model.final_layer_norm.weight'], w['text_model.final_layer_norm.bias'] = 1 + n(0.1, E), n(0.05, E)
    w['text_model.head.weight'], w['text_model.head.bias'] = n(0.15, P, E), n(0.05, P)
    E, F, p = VISION['hidden_size'], VISION['intermediate_size'], VISION['patch_size']
    G = VISION['image_size'] // p
    w['vision_model.embeddings.patch_embedding.weight'] = n(0.08, E, 3, p, p)
    w['vision_model.embeddings.patch_embedding.bias'] = n(0.1, E)
    w['vision_model.embeddings.position_embedding.weight'] = n(0.3, G * G, E)
    tower('vision_model', VISION)
    w['vision_model.post_layernorm.weight'], w['vision_model.post_layernorm.bias'] = 1 + n(0.1, E), n(0.05, E)
    w['vision_model.head.probe'] = n(0.8, 1, 1, E)
    w['vision_model.head.attention.in_proj_weight'], w['vision_model.head.attention.in_proj_bias'] = n(0.25, 3 * E, E), n(0.05, 3 * E)
    w['vision_model.head.attention.out_proj.weight'], w['vision_model.head.attention.out_proj.bias'] = n(0.15, E, E), n(0.05, E)
    w['vision_model.head.layernorm.weight'], w['vision_model.head.layernorm.bias'] = 1 + n(0.1, E), n(0.05, E)
    w['vision_model.head.mlp.fc1.weight'], w['vision_model.head.mlp.fc1.bias'] = n(0.15, F, E), n(0.05, F)
    w['vision_model.head.mlp.fc2.weight'], w['vision_model.head.mlp.fc2.bias'] = n(0.15, E, F), n(0.05, E)
    w['logit_scale'] = np.array([math.log(10.0)], dtype=np.float32)
    w['logit_bias'] = np.array([-2.5], dtype=np.float32)
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


def to64(w):
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in w.items()}


DESCS = {
    'input_ids': 'token ids [B,T] as the caller hands them: NOT padded to 16; under attention_mask 0 the caller\'s own '
                 'filler (299), which the engine drops',
    'attention_mask': 'the caller\'s mask [B,T]: which ids are the text. It is not the model\'s: the engine pads each '
                      'text with pad_token_id 3 to 16 and attends every position, as the reference does',
    'last_hidden_state': 'text tower after final_layer_norm at the given tokens [B,T,D] (computed on the row padded to 16; '
                         'compare where attention_mask == 1)',
    'text_embeds': 'text_model.head(h[:, -1]) on the row padded to 16 [B,40] (unnormalised)',
    'text_embeds_normalized': 'L2-normalised text_embeds',
    'pooled_index': 'the position pooled: always 15 (the last of the 16)',
    'image_uint8': 'raw RGB image, uint8 [H,W,3] (HWC)',
    'resized_uint8': 'after PIL resize to 30x30 (BICUBIC, no crop, aspect not kept), uint8 HWC',
    'pixel_values': 'SiglipImageProcessor output [1,3,30,30] float32: (resized/255 as f32 - 0.5)/0.5',
    'image_last_hidden_state': 'vision tower after post_layernorm [1,16,40] (4x4 patches of 7: the last 2 rows and '
                               'columns of pixels are dropped by the stride-7 convolution; no class token)',
    'image_embeds': 'MAP head output [1,40] (unnormalised)',
    'image_embeds_normalized': 'L2-normalised image_embeds',
    'logits_per_image': 'exp(logit_scale) * norm(image_embeds) @ norm(text_embeds of case text_masked)^T + logit_bias [1,3]',
}


def main():
    rng = np.random.RandomState(90210)
    w = make_weights(rng)
    t = to64(w)
    rin = np.random.RandomState(90211)
    body = lambda k: [int(v) for v in rin.randint(4, 298, k)]
    EOS = 1
    out = os.path.join(FIXTURES, 'siglip_own')
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    write_safetensors(os.path.join(out, 'model.safetensors'), w)
    dump = lambda rel, obj: open(os.path.join(out, rel), 'w').write(json.dumps(obj, indent=2) + '\n')
    dump('config.json', CONFIG)
    dump('preprocessor_config.json', PREPROCESSOR)
    manifest = {'model': 'siglip_own', 'model_type': 'siglip', 'generator': GENERATOR,
                'note': 'SiglipModel: text 48 wide / 3 heads / 2 layers / 80, vocab 300, 16 positions, head Linear(48, 40), '
                        'pad_token_id 3, eps 1e-5; vision 40 wide / 5 heads / 2 layers / 72, image 30, patch 7 (4x4 patches, '
                        'partial patch dropped), MAP head; logit_scale log(10), logit_bias -2.5',
                'format': 'every .bin is raw little-endian, row-major (C order); shapes in elements',
                'reference': 'independent float64 PyTorch forward following transformers modeling_siglip.py and '
                             'image_processing_siglip.py with Pillow (gen/siglip_fixture.py), rounded to float32 on save',
                'cases': []}

    def save(cname, tname, v, role, desc_key=None):
        v = v.numpy() if isinstance(v, torch.Tensor) else np.asarray(v)
        dt = {np.dtype(np.uint8): 'uint8'}.get(v.dtype, 'int32' if v.dtype.kind in 'iu' else 'float32')
        v = v.astype({'uint8': np.uint8, 'int32': np.int32, 'float32': np.float32}[dt])
        fname = f'{cname}.{tname}.bin'
        v.tofile(os.path.join(out, fname))
        return tname, {'file': fname, 'dtype': dt, 'shape': list(v.shape), 'desc': DESCS[desc_key or tname], 'role': role}

    # --- text: rows of 3, 9 and 16 tokens (the last one exactly the trained length), the
    # caller's filler under mask 0 up to 16, then the same 3-token text padded by the caller
    # with the pad id (no mask), which must give the same vector as the unpadded one.
    rows = [body(2) + [EOS], body(8) + [EOS], body(15) + [EOS]]
    T = 16
    ids = [r + [FILLER] * (T - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (T - len(r)) for r in rows]
    h, pooled = text_forward(t, TEXT, pad_ids(rows, TEXT))
    text_cases = [('text_masked', '3 texts of 3, 9 and 16 tokens (ending in </s>=1) handed over with the caller\'s '
                   'mask and filler 299; the engine pads each to 16 with pad_token_id 3, no mask', ids, mask, h, pooled)]
    short = [rows[0]]
    h1, p1 = text_forward(t, TEXT, pad_ids(short, TEXT))
    text_cases.append(('text_short', 'the 3-token text alone, no mask and no padding: 13 pad ids (3) are added and attended, '
                       'the vector is the last position\'s', short, None, h1, p1))
    text_norm = None
    for cname, desc, cid, cmask, hh, pp in text_cases:
        tensors = dict([save(cname, 'input_ids', np.array(cid), 'input')])
        if cmask is not None:
            tensors.update([save(cname, 'attention_mask', np.array(cmask), 'input')])
        tensors.update([save(cname, 'last_hidden_state', hh[:, :len(cid[0])], 'expected'),
                        save(cname, 'text_embeds', pp, 'expected'),
                        save(cname, 'text_embeds_normalized', normalize(pp), 'expected'),
                        save(cname, 'pooled_index', np.full(len(cid), 15), 'optional')])
        manifest['cases'].append({'name': cname, 'desc': desc, 'tensors': tensors})
        if text_norm is None:
            text_norm = normalize(pp)

    # --- images: downscaled on both axes (antialiased), down on one and up on the other, and
    # the model size itself (no resampling)
    scale, bias = math.exp(float(w['logit_scale'][0])), float(w['logit_bias'][0])
    for H, W, what in [(50, 64, 'downscaled on both axes (antialiased bicubic), aspect not kept'),
                       (90, 20, 'downscaled vertically, upscaled horizontally'),
                       (30, 30, 'the model size: PIL returns an unchanged copy')]:
        cname = f'image_{H}x{W}'
        img = rin.randint(0, 256, (H, W, 3)).astype(np.uint8)
        img[: H // 2, :, 0] = np.linspace(0, 255, W).astype(np.uint8)   # smooth structure besides noise
        resized, px = preprocess(img, PREPROCESSOR)
        hv, iv = vision_forward(t, VISION, torch.tensor(px[None], dtype=torch.float64))
        logits = scale * normalize(iv) @ text_norm.T + bias
        tensors = dict([save(cname, 'image_uint8', img, 'input'),
                        save(cname, 'resized_uint8', resized, 'optional'),
                        save(cname, 'pixel_values', px[None], 'expected'),
                        save(cname, 'last_hidden_state', hv, 'expected', 'image_last_hidden_state'),
                        save(cname, 'image_embeds', iv, 'expected'),
                        save(cname, 'image_embeds_normalized', normalize(iv), 'expected'),
                        save(cname, 'logits_per_image', logits, 'expected')])
        manifest['cases'].append({'name': cname, 'desc': f'raw uint8 RGB image H x W = {H} x {W} -> SiglipImageProcessor '
                                  f'(BICUBIC to 30x30) -> vision tower; {what}', 'tensors': tensors,
                                  'logits_text_case': 'text_masked'})
    manifest['roles'] = {'input': 'feed to the engine', 'expected': 'the engine must produce it and match',
                         'optional': 'compared only when the engine reports it'}
    dump('manifest.json', manifest)
    open(os.path.join(out, 'README.md'), 'w').write(README)


def check():
    """This reference on the shared fixture (float32 outputs of another float64 implementation),
    and the MAP head against torch.nn.MultiheadAttention."""
    d = os.path.join(FIXTURES, 'siglip')
    man = json.load(open(os.path.join(d, 'manifest.json')))
    cfg = json.load(open(os.path.join(d, 'config.json')))
    pp = json.load(open(os.path.join(d, 'preprocessor_config.json')))
    with open(os.path.join(d, 'model.safetensors'), 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        hdr = json.loads(f.read(n))
        data = f.read()
    t = {k: torch.tensor(np.frombuffer(data[v['data_offsets'][0]:v['data_offsets'][1]], np.float32).reshape(v['shape']),
                         dtype=torch.float64) for k, v in hdr.items() if k != '__metadata__'}
    read = lambda spec: np.fromfile(os.path.join(d, spec['file']), {'int32': np.int32, 'uint8': np.uint8,
                                                                     'float32': np.float32}[spec['dtype']]).reshape(spec['shape'])
    worst = 0.0
    for cs in man['cases']:
        ts = cs['tensors']
        if 'input_ids' in ts:
            h, p = text_forward(t, cfg['text_config'], torch.tensor(read(ts['input_ids']).astype(np.int64)))
            got = {'last_hidden_state': h, 'text_embeds': p, 'text_embeds_normalized': normalize(p)}
        else:
            resized, px = preprocess(read(ts['image_uint8']), pp)
            assert (resized == read(ts['resized_uint8'])).all(), cs['name']
            h, p = vision_forward(t, cfg['vision_config'], torch.tensor(px[None], dtype=torch.float64))
            got = {'pixel_values': torch.tensor(px[None]), 'last_hidden_state': h, 'image_embeds': p,
                   'image_embeds_normalized': normalize(p)}
        for k, v in got.items():
            diff = float((v - torch.tensor(read(ts[k]), dtype=torch.float64)).abs().max())
            worst = max(worst, diff)
            print(f'{cs["name"]} {k}: max |diff| {diff:.3g}')
    # the MAP head's attention against torch's own module, in float64
    c = cfg['vision_config']
    E = c['hidden_size']
    mha = torch.nn.MultiheadAttention(E, c['num_attention_heads'], batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(t['vision_model.head.attention.in_proj_weight'])
        mha.in_proj_bias.copy_(t['vision_model.head.attention.in_proj_bias'])
        mha.out_proj.weight.copy_(t['vision_model.head.attention.out_proj.weight'])
        mha.out_proj.bias.copy_(t['vision_model.head.attention.out_proj.bias'])
        hs = torch.randn(2, 36, E, dtype=torch.float64)
        a = mha(t['vision_model.head.probe'].repeat(2, 1, 1), hs, hs)[0]
        eps = cfg_get(c, VISION_DEFAULTS, 'layer_norm_eps')
        r = a + linear(gelu_tanh(linear(layer_norm(a, t['vision_model.head.layernorm.weight'], t['vision_model.head.layernorm.bias'], eps),
                                        t, 'vision_model.head.mlp.fc1')), t, 'vision_model.head.mlp.fc2')
        diff = float((r[:, 0] - map_head(t, c, hs, eps)).abs().max())
    print(f'MAP head vs torch.nn.MultiheadAttention: max |diff| {diff:.3g}')
    ok = worst < 1e-5 and diff < 1e-12
    print('check:', 'ok' if ok else 'FAILED')
    return ok


README = """# siglip_own: SigLIP (wembed's own)

Tiny random-weight `SiglipModel` (float32) whose config states its own values: text 48 wide, 3 heads, 2 layers,
intermediate 80, vocab 300, `max_position_embeddings` 16, `projection_size` 40 (the text head is Linear(48, 40)),
`pad_token_id` 3, `layer_norm_eps` 1e-5; vision 40 wide, 5 heads, 2 layers, intermediate 72, `image_size` 30,
`patch_size` 7 (4 x 4 patches: the stride-7 convolution drops the last 2 rows and columns), MAP head, the
SiglipVisionConfig defaults otherwise (eps 1e-6, tanh GELU); `logit_scale` log(10), `logit_bias` -2.5.
`preprocessor_config.json` names SiglipImageProcessor with size 30 x 30 and BICUBIC, and leaves out `image_mean`,
`image_std` and `do_center_crop`: the processor's own defaults apply (0.5, 0.5, no crop).
Seeds: numpy `RandomState(90210)` for the weights, `RandomState(90211)` for the texts and images.

## Cases

| case | what |
|---|---|
| `text_masked` | 3 texts of 3, 9 and 16 tokens handed over UNPADDED: the caller's mask marks the text, its filler (299) is dropped, and the engine pads each text with pad_token_id 3 to 16; every position attended |
| `text_short` | the 3-token text alone, no mask: 13 pad ids added; the vector is the last position's (15) |
| `image_50x64` | downscaled on both axes (Pillow's antialiased bicubic), aspect not kept |
| `image_90x20` | downscaled vertically, upscaled horizontally |
| `image_30x30` | the model size: no resampling |

Expected: `last_hidden_state` (text: at the given tokens, computed on the padded row; image: after post_layernorm),
`text_embeds[_normalized]`, `pixel_values`, `image_embeds[_normalized]`, `logits_per_image` (against the
normalized `text_embeds` of `text_masked`). Optional: `pooled_index`, `resized_uint8`.

## Subtle points (modeling_siglip.py, SiglipProcessor)

1. The processor pads the text to `max_position_embeddings` with the pad token and returns no attention mask: the
   model attends to the padding, so a text's vector depends on the pad id and on the trained length, not on what
   the caller padded with. The caller's mask here only says which ids are the text.
2. `text_embeds = head(h[:, -1])`: the last position, whatever token is there.
3. The vision tower: patch convolution with bias, no class token, post_layernorm on every token, the MAP head
   (probe -> nn.MultiheadAttention with in_proj rows q, k, v -> `h + mlp(layernorm(h))`).
4. Logits `exp(logit_scale) * cos + logit_bias`; probabilities are their sigmoids.

Format, roles and tolerances: `../README.md`. Regenerate with `/usr/bin/python3 gen/siglip_fixture.py`
(deterministic; `--check` also compares this reference with the shared `siglip` fixture).
"""

if __name__ == '__main__':
    if '--check' in sys.argv:
        sys.exit(0 if check() else 1)
    main()
