#!/usr/bin/env python3
"""gen-unicode-tables.py - generates src/tokenizer/unicode_tables.c from Debian's unicode-data
package (/usr/share/unicode, Unicode 15.0.0).

    python3 scripts/gen-unicode-tables.py [UCD_DIR] > src/tokenizer/unicode_tables.c
    python3 scripts/gen-unicode-tables.py --assigned [UCD_DIR] > tests/data/tokenizers/assigned-15.0.json

The second form lists the code point ranges assigned in this Unicode version, for the
tokenizer differential test (scripts/tokenizer-diff.mjs), which keeps its random characters
to those (and to ones unassigned even in the reference's newer Unicode).

The Rust `tokenizers` library (the reference for src/tokenizer/) takes its Unicode data from
several crates of different ages, and the tables below reproduce each one:

  - Rust std (char::is_whitespace, to_lowercase, is_numeric, is_alphabetic), the `regex`
    crate (\\w, \\s) and Oniguruma (\\p{L}, \\p{N}, \\s): current Unicode. Generated from 15.0;
    characters assigned after 15.0 are the one known difference (see the limitations in
    src/wembed.h).
  - unicode_categories 0.1 (BertNormalizer's "is_other" and, for strip_accents,
    "is_mark_nonspacing"; the Bert/Punctuation pre-tokenizers' "is_punctuation"): Unicode 8.0
    general categories. Derived here as "category in 15.0 and
    assigned by 8.0" (DerivedAge.txt), with the category changes since 8.0 listed in
    OVERRIDES_8 below.
  - unicode-normalization-alignments 0.1.12 (NFD/NFC/NFKD/NFKC, canonical combining classes,
    is_combining_mark for StripAccents): Unicode 9.0. Decompositions, compositions and
    combining classes of characters assigned after 9.0 are left out; category changes since
    9.0 are listed in OVERRIDES_9.
  - unicode-segmentation (grapheme clusters for the Precompiled normalizer): current Unicode;
    15.0 here (GraphemeBreakProperty.txt, emoji-data.txt).

The overrides were found by comparing every code point against the reference library.
"""
import json
import os
import sys

ARGS = [a for a in sys.argv[1:] if not a.startswith('--')]
UCD = ARGS[0] if ARGS else '/usr/share/unicode'

# General categories that changed after Unicode 8.0 / 9.0 (value = category in that version).
#   U+166D CANADIAN SYLLABICS CHI SIGN: Po until 11.0, So since 12.0.
#   U+111C9 SHARADA SANDHI MARK: Po until 10.0, Mn since 11.0.
#   U+1CF2, U+1CF3 VEDIC SIGN ARDHAVISARGA / ROTATED ARDHAVISARGA: Mc until 9.0, Lo since 10.0.
#   U+1734 HANUNOO SIGN PAMUDPOD: Mn until 13.0, Mc since 14.0.
#   U+1885, U+1886 MONGOLIAN LETTER ALI GALI BALUDA / THREE BALUDA: Lo until 8.0, Mn since 9.0.
#   U+A9BD JAVANESE CONSONANT SIGN KERET: Mc until 11.0, Mn since 12.0.
OVERRIDES_8 = {0x166D: 'Po', 0x111C9: 'Po', 0x1CF2: 'Mc', 0x1CF3: 'Mc', 0x1734: 'Mn', 0x1885: 'Lo',
               0x1886: 'Lo', 0xA9BD: 'Mc'}
OVERRIDES_9 = {0x166D: 'Po', 0x111C9: 'Po', 0x1CF2: 'Mc', 0x1CF3: 'Mc'}

GC_NAMES = ['Cn', 'Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'Mn', 'Mc', 'Me', 'Nd', 'Nl', 'No', 'Pc', 'Pd',
            'Ps', 'Pe', 'Pi', 'Pf', 'Po', 'Sm', 'Sc', 'Sk', 'So', 'Zs', 'Zl', 'Zp', 'Cc', 'Cf',
            'Cs', 'Co']
GCB_NAMES = ['Other', 'CR', 'LF', 'Control', 'Extend', 'ZWJ', 'Regional_Indicator', 'Prepend',
             'SpacingMark', 'L', 'V', 'T', 'LV', 'LVT']

# Must match the WE_UC_* flags in src/tokenizer/unicode.h.
F_WS, F_CTRL8, F_PUNCT8, F_MARK9, F_WORD, F_EXTPICT, F_LOWER, F_DECOMP_C, F_DECOMP_K, F_ALPHA, F_MN8, \
    F_NFC_NM, F_NFKC_NM = [1 << i for i in range(13)]

N = 0x110000


def ranges(path, want_field=None):
    """Yields (first, last, fields) of a UCD 'XXXX..YYYY ; a ; b # comment' file."""
    with open(os.path.join(UCD, path), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            fields = [x.strip() for x in line.split(';')]
            r = fields[0].split('..')
            yield int(r[0], 16), int(r[-1], 16), fields[1:]


def main():
    gc = ['Cn'] * N
    ccc = [0] * N
    decomp = {}          # cp -> (is_compat, [cps])   (single level)
    lower = {}
    with open(os.path.join(UCD, 'UnicodeData.txt'), encoding='utf-8') as f:
        rows = [line.rstrip('\n').split(';') for line in f]
    i = 0
    while i < len(rows):
        r = rows[i]
        cp = int(r[0], 16)
        last = cp
        if r[1].endswith(', First>'):
            last = int(rows[i + 1][0], 16)
            i += 1
        for c in range(cp, last + 1):
            gc[c] = r[2]
            ccc[c] = int(r[3])
        if r[5]:
            d = r[5].split()
            compat = d[0].startswith('<')
            if compat:
                d = d[1:]
            decomp[cp] = (compat, [int(x, 16) for x in d])
        if r[13]:
            lower[cp] = [int(r[13], 16)]
        i += 1
    # SpecialCasing: the unconditional lowercase mappings (Rust's char::to_lowercase).
    for a, b, f in ranges('SpecialCasing.txt'):
        if len(f) >= 4 and f[3]:
            continue       # conditional (language or context): not used by to_lowercase
        lo = [int(x, 16) for x in f[0].split()]
        if lo != [a]:
            lower[a] = lo

    age = [None] * N
    for a, b, f in ranges('DerivedAge.txt'):
        for c in range(a, b + 1):
            age[c] = float(f[0])
    if '--assigned' in sys.argv:
        out, start = [], None
        for c in range(N + 1):
            on = c < N and age[c] is not None and not (0xD800 <= c <= 0xDFFF)
            if on and start is None:
                start = c
            elif not on and start is not None:
                out.append([start, c - 1])
                start = None
        sys.stdout.write('{"unicode": "15.0.0", "assigned": %s}\n' % json.dumps(out, separators=(',', ':')))
        return

    props = {}
    for path in ('PropList.txt', 'DerivedCoreProperties.txt', 'emoji/emoji-data.txt'):
        for a, b, f in ranges(path):
            props.setdefault(f[0], set()).update(range(a, b + 1))
    full_excl = set()
    for a, b, f in ranges('DerivedNormalizationProps.txt'):
        if f[0] == 'Full_Composition_Exclusion':
            full_excl.update(range(a, b + 1))
    gcb = ['Other'] * N
    for a, b, f in ranges('auxiliary/GraphemeBreakProperty.txt'):
        for c in range(a, b + 1):
            gcb[c] = f[0]

    def assigned_by(c, v):
        return age[c] is not None and age[c] <= v

    def gc_at(c, v, overrides):
        if c in overrides:
            return overrides[c]
        return gc[c] if assigned_by(c, v) else 'Cn'

    ws = props['White_Space']
    alpha = props['Alphabetic']
    join_control = props['Join_Control']
    extpict = props['Extended_Pictographic']

    # Decompositions and combining classes as of Unicode 9.0.
    decomp9 = {c: v for c, v in decomp.items() if assigned_by(c, 9.0)}

    def full_decomp(c, compat):
        if 0xAC00 <= c <= 0xD7A3:
            return None        # Hangul: algorithmic
        d = decomp9.get(c)
        if d is None or (d[0] and not compat):
            return None
        return d

    # NFC / NFKC quick check (Unicode 9.0 data): "No" (decomposes and does not recompose to
    # itself) or "Maybe" (may compose with the char before it).
    composites = set()
    seconds = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    for c, (compat, d) in decomp9.items():
        if not compat and len(d) == 2 and c not in full_excl:
            composites.add(c)
            seconds.add(d[1])

    # ---------------------------------------------------------------------------------------
    # Per code point records.
    recs = {}
    rec_list = []
    cp_rec = [0] * N
    for c in range(N):
        flags = 0
        if c in ws:
            flags |= F_WS
        g8 = gc_at(c, 8.0, OVERRIDES_8)
        if g8 in ('Cc', 'Cf', 'Co', 'Cs'):
            flags |= F_CTRL8
        if g8[0] == 'P':
            flags |= F_PUNCT8
        if g8 == 'Mn':
            flags |= F_MN8
        g9 = gc_at(c, 9.0, OVERRIDES_9)
        if g9 in ('Mn', 'Mc', 'Me'):
            flags |= F_MARK9
        if c in alpha or gc[c][0] == 'M' or gc[c] in ('Nd', 'Pc') or c in join_control:
            flags |= F_WORD
        if c in alpha:
            flags |= F_ALPHA
        if c in extpict:
            flags |= F_EXTPICT
        if c in lower and lower[c] != [c]:
            flags |= F_LOWER
        if 0xAC00 <= c <= 0xD7A3:
            flags |= F_DECOMP_C | F_DECOMP_K
        elif c in decomp9:
            flags |= F_DECOMP_K | F_NFKC_NM
            if not decomp9[c][0]:
                flags |= F_DECOMP_C
                if c not in composites:
                    flags |= F_NFC_NM
        if c in seconds:
            flags |= F_NFC_NM | F_NFKC_NM
        cc = ccc[c] if assigned_by(c, 9.0) else 0
        key = (flags, GC_NAMES.index(gc[c]), cc, GCB_NAMES.index(gcb[c]))
        if key not in recs:
            recs[key] = len(rec_list)
            rec_list.append(key)
        cp_rec[c] = recs[key]

    SHIFT = 7
    BLOCK = 1 << SHIFT
    blocks = {}
    block_list = []
    stage1 = []
    for start in range(0, N, BLOCK):
        blk = tuple(cp_rec[start:start + BLOCK])
        if blk not in blocks:
            blocks[blk] = len(block_list)
            block_list.append(blk)
        stage1.append(blocks[blk])
    assert len(rec_list) < 65536 and len(block_list) < 65536

    out = []
    w = out.append
    w('// unicode_tables.c - GENERATED by scripts/gen-unicode-tables.py from Debian\'s unicode-data')
    w('// (Unicode 15.0.0). Do not edit; re-run the script. See that script for which table')
    w('// follows which Unicode version of the Rust tokenizers library\'s crates.')
    w('#include "unicode.h"')
    w('')
    w('const char we_uc_version[] = "15.0.0";')
    w('')
    w('// Records: flags, general category, canonical combining class (Unicode 9.0),')
    w('// grapheme cluster break.')
    w('const we_uc_info we_uc_records[%d] = {' % len(rec_list))
    for k in rec_list:
        w('    {0x%04x, %d, %d, %d},' % k)
    w('};')
    w('')
    w('// Two-stage lookup: we_uc_stage1[cp >> %d] is a block, each block has %d record indices.' % (SHIFT, BLOCK))
    w('const uint16_t we_uc_stage1[%d] = {' % len(stage1))
    for i in range(0, len(stage1), 16):
        w('    ' + ','.join(str(x) for x in stage1[i:i + 16]) + ',')
    w('};')
    stage2 = [x for blk in block_list for x in blk]
    typ = 'uint8_t' if len(rec_list) < 256 else 'uint16_t'
    w('const %s we_uc_stage2[%d] = {' % (typ, len(stage2)))
    for i in range(0, len(stage2), 24):
        w('    ' + ','.join(str(x) for x in stage2[i:i + 24]) + ',')
    w('};')
    w('')

    # Lowercase: simple mappings (one code point) and the few multi-code-point ones.
    simple = sorted((c, v[0]) for c, v in lower.items() if len(v) == 1 and v[0] != c)
    multi = sorted((c, v) for c, v in lower.items() if len(v) > 1)
    w('// Lowercase mappings (UnicodeData simple mapping + unconditional SpecialCasing), sorted.')
    w('const uint32_t we_uc_lower_n = %d;' % len(simple))
    w('const uint32_t we_uc_lower_map[%d][2] = {' % len(simple))
    for i in range(0, len(simple), 6):
        w('    ' + ' '.join('{0x%x,0x%x},' % p for p in simple[i:i + 6]))
    w('};')
    w('const uint32_t we_uc_lower_multi_n = %d;' % len(multi))
    w('const uint32_t we_uc_lower_multi[%d][4] = {   // cp, then up to 3 code points (0 = none)' % max(1, len(multi)))
    for c, v in multi:
        assert len(v) <= 3
        w('    {0x%x, %s},' % (c, ', '.join('0x%x' % x for x in (v + [0, 0, 0])[:3])))
    w('};')
    w('')

    # Decompositions (Unicode 9.0), one level; the code applies them recursively.
    items = sorted(decomp9.items())
    data = []
    idx = []
    for c, (compat, d) in items:
        if 0xAC00 <= c <= 0xD7A3:
            continue
        assert len(d) < 32
        idx.append((c, len(data), len(d), compat))
        data.extend(d)
    w('// Decomposition mappings of Unicode 9.0 (one level), sorted by code point. Entry:')
    w('// code point, offset into we_uc_decomp_data, length, 1 if compatibility-only.')
    w('const uint32_t we_uc_decomp_n = %d;' % len(idx))
    w('const we_uc_decomp_entry we_uc_decomp_index[%d] = {' % len(idx))
    for i in range(0, len(idx), 4):
        w('    ' + ' '.join('{0x%x,%d,%d,%d},' % e for e in idx[i:i + 4]))
    w('};')
    w('const uint32_t we_uc_decomp_data[%d] = {' % len(data))
    for i in range(0, len(data), 10):
        w('    ' + ','.join('0x%x' % x for x in data[i:i + 10]) + ',')
    w('};')
    w('')

    # Canonical compositions (primary composites of Unicode 9.0), sorted by (first, second).
    comps = []
    for c, (compat, d) in decomp9.items():
        if compat or len(d) != 2 or c in full_excl or 0xAC00 <= c <= 0xD7A3:
            continue
        comps.append((d[0], d[1], c))
    comps.sort()
    w('// Canonical compositions of Unicode 9.0 (first, second, composite), sorted; Hangul is')
    w('// algorithmic.')
    w('const uint32_t we_uc_comp_n = %d;' % len(comps))
    w('const uint32_t we_uc_comp[%d][3] = {' % len(comps))
    for i in range(0, len(comps), 4):
        w('    ' + ' '.join('{0x%x,0x%x,0x%x},' % e for e in comps[i:i + 4]))
    w('};')
    sys.stdout.write('\n'.join(out) + '\n')
    sys.stderr.write('records %d, blocks %d, stage2 %s, lower %d+%d, decomp %d (%d cps), comp %d\n' % (
        len(rec_list), len(block_list), typ, len(simple), len(multi), len(idx), len(data), len(comps)))


if __name__ == '__main__':
    main()
