#!/usr/bin/python3
"""Reference resizes for tests/test-image.c, made with Pillow itself.

    /usr/bin/python3 gen/image_refs.py      (Debian: python3-pil, python3-numpy)

Inputs are synthetic images defined by integer arithmetic (`synth` below, mirrored in the C
test), so only Pillow's outputs are stored: tests/data/image/<case>.bin (uint8 HWC) and
manifest.json. A case either resizes the whole image, or resizes and then center-crops the
way transformers' center_crop does (pad with zeros when the crop is larger).
"""
import json
import os
import sys

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), '..', 'tests', 'data', 'image')


def synth(w, h, seed):
    """A smooth gradient plus hashed noise; every step is exact integer arithmetic."""
    y, x, c = np.meshgrid(np.arange(h, dtype=np.uint64), np.arange(w, dtype=np.uint64),
                          np.arange(3, dtype=np.uint64), indexing='ij')
    grad = (x * 255) // max(w - 1, 1) + (y * 191) // max(h - 1, 1) + c * 40
    mix = (x * 2654435761 + y * 40503 + c * 97 + seed * 7919) & 0xFFFFFFFF
    noise = ((mix ^ (mix >> 13)) * 1103515245 & 0xFFFFFFFF) >> 26   # 0..63
    return ((grad + noise) % 256).astype(np.uint8)


def center_crop(a, ch, cw):
    """transformers.image_transforms.center_crop on an HWC uint8 array."""
    h, w = a.shape[:2]
    top, left = (h - ch) // 2, (w - cw) // 2
    bottom, right = top + ch, left + cw
    if top >= 0 and bottom <= h and left >= 0 and right <= w:
        return a[top:bottom, left:right]
    nh, nw = max(ch, h), max(cw, w)
    canvas = np.zeros((nh, nw, 3), dtype=a.dtype)
    tp, lp = -(-(nh - h) // 2), -(-(nw - w) // 2)
    canvas[tp:tp + h, lp:lp + w] = a
    top, bottom, left, right = top + tp, bottom + tp, left + lp, right + lp
    return canvas[max(0, top):min(nh, bottom), max(0, left):min(nw, right)]


CASES = [
    # name, src w, h, seed, dst w, h, filter, crop (h, w) or None
    ('down_bicubic_300x200', 300, 200, 1, 336, 224, 3, None),
    ('down_bicubic_640x480', 640, 480, 2, 298, 224, 3, (224, 224)),
    ('down_big_ratio_bicubic', 1000, 90, 3, 248, 22, 3, None),
    ('up_bicubic_1x1', 1, 1, 4, 224, 224, 3, None),
    ('up_bicubic_7x5', 7, 5, 5, 33, 23, 3, None),
    ('strip_1x300_crop', 1, 300, 6, 224, 67200, 3, (224, 224)),
    ('strip_500x2_crop', 500, 2, 7, 56000, 224, 3, (224, 224)),
    ('small_crop_pads', 9, 6, 8, 30, 20, 3, (32, 32)),
    ('only_horizontal', 40, 30, 9, 61, 30, 3, None),
    ('only_vertical', 40, 30, 10, 40, 17, 3, None),
    ('mixed_nearest', 50, 37, 11, 23, 19, 0, None),
    ('mixed_lanczos', 50, 37, 11, 23, 49, 1, None),
    ('mixed_bilinear', 50, 37, 11, 71, 19, 2, None),
    ('mixed_box', 50, 37, 11, 23, 19, 4, None),
    ('mixed_hamming', 50, 37, 11, 23, 19, 5, None),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {'generator': 'gen/image_refs.py', 'pillow': Image.__version__, 'cases': []}
    for name, sw, sh, seed, dw, dh, flt, crop in CASES:
        src = synth(sw, sh, seed)
        out = np.asarray(Image.fromarray(src, 'RGB').resize((dw, dh), resample=flt))
        if crop:
            out = center_crop(out, *crop)
        out = np.ascontiguousarray(out)
        out.tofile(os.path.join(OUT, name + '.bin'))
        manifest['cases'].append({'name': name, 'src': [sw, sh], 'seed': seed, 'resize': [dw, dh],
                                  'filter': flt, 'crop': list(crop) if crop else None,
                                  'out_shape': list(out.shape)})
        print(name, out.shape, file=sys.stderr)
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
