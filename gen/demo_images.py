#!/usr/bin/python3
"""The demo's sample images: eight small synthetic RGB PNGs (shapes, gradients, patterns), made
here so the demo and its tests have images that work offline and carry no license question.

    /usr/bin/python3 gen/demo_images.py      (Debian: python3-pil)

Writes web-demo/samples/images/*.png.
"""
import math
import os

from PIL import Image, ImageDraw

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'web-demo', 'samples', 'images')
S = 128


def canvas(bg):
    im = Image.new('RGB', (S, S), bg)
    return im, ImageDraw.Draw(im)


def red_circle():
    im, d = canvas((245, 240, 230))
    d.ellipse((24, 24, 104, 104), fill=(210, 40, 40))
    return im


def blue_square():
    im, d = canvas((230, 236, 245))
    d.rectangle((30, 30, 98, 98), fill=(40, 80, 200))
    return im


def green_triangle():
    im, d = canvas((240, 245, 235))
    d.polygon([(64, 18), (112, 106), (16, 106)], fill=(40, 150, 60))
    return im


def yellow_star():
    im, d = canvas((30, 30, 60))
    pts = []
    for i in range(10):
        r = 50 if i % 2 == 0 else 20
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((64 + r * math.cos(a), 64 + r * math.sin(a)))
    d.polygon(pts, fill=(250, 210, 40))
    return im


def sunset():
    im, d = canvas((0, 0, 0))
    for y in range(S):
        t = y / (S - 1)
        d.line([(0, y), (S, y)], fill=(int(250 - 120 * t), int(140 - 110 * t), int(60 + 80 * t)))
    d.ellipse((44, 70, 84, 110), fill=(255, 230, 120))
    return im


def checkerboard():
    im, d = canvas((255, 255, 255))
    for y in range(0, S, 16):
        for x in range(0, S, 16):
            if (x // 16 + y // 16) % 2:
                d.rectangle((x, y, x + 15, y + 15), fill=(20, 20, 20))
    return im


def stripes():
    im, d = canvas((255, 255, 255))
    for x in range(0, S, 12):
        d.rectangle((x, 0, x + 5, S), fill=(230, 120, 30))
    return im


def night_sky():
    im, d = canvas((8, 12, 40))
    seed = 12345
    for _ in range(60):
        seed = (seed * 1103515245 + 12345) % 2147483648
        x = seed % S
        seed = (seed * 1103515245 + 12345) % 2147483648
        y = seed % S
        d.point((x, y), fill=(255, 255, 255))
    d.ellipse((84, 14, 112, 42), fill=(240, 240, 210))
    return im


def main():
    os.makedirs(OUT, exist_ok=True)
    for fn in (red_circle, blue_square, green_triangle, yellow_star, sunset, checkerboard, stripes, night_sky):
        fn().save(os.path.join(OUT, fn.__name__.replace('_', '-') + '.png'), optimize=True)


if __name__ == '__main__':
    main()
