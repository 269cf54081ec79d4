// normalizers.c - the normalizers of tokenizer.json: BertNormalizer, NFC/NFD/NFKC/NFKD,
// Lowercase, StripAccents, Replace, Prepend, Strip, Nmt, ByteLevel, Precompiled (the
// SentencePiece charsmap) and Sequence.
//
// Each one builds the same (char, change) list as the Rust library and hands it to
// we_nstr_transform, so alignments (and so offsets) come out the same. The normalization
// forms reproduce unicode-normalization-alignments 0.1.12 (Unicode 9.0 data, and its
// change annotations); Precompiled reproduces spm_precompiled's double-array trie and the
// tokenizers wrapper's grapheme-cluster loop, weird parts included.
//
// Not: Unicode normalization of anything newer than 9.0 (the reference has none either).
#include <string.h>

#include "tok.h"
#include "unicode.h"

#define OOM(w) we_errorf((w)->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory")

// True when a whole-string transform of ns covers all of it (Rust's transform then rewrites
// exactly the chars it is given); the fast paths that skip an identity transform need it.
static bool trivial(const we_nstr *ns) {
    return ns->len == 0 || (ns->orig_len > 0 && ns->al[0].s != ns->al[0].e);
}

// Applies w->tx to ns, or nothing when the list would rewrite the string into itself (the
// Rust transform then leaves text and alignments unchanged too: every byte of a char always
// carries that char's alignment).
static wembed_status apply(we_work *w, we_nstr *ns, uint32_t initial_offset) {
    const we_tchar *tx = w->tx.p;
    size_t n = w->tx.n;
    if (initial_offset == 0 && trivial(ns)) {
        uint32_t i = 0;
        size_t k = 0;
        while (k < n && i < ns->len && tx[k].change == 0) {
            uint32_t c = we_next_cp(ns->s, ns->len, &i);
            if (c != tx[k].c) break;
            k++;
        }
        if (k == n && i == ns->len) return WEMBED_STATUS_OK;
    }
    return we_nstr_transform(w, ns, initial_offset);
}

// Rust NormalizedString::filter: keeps the chars for which keep() is true.
static wembed_status filter(we_work *w, we_nstr *ns, bool (*keep)(uint32_t)) {
    w->tx.n = 0;
    uint32_t i = 0, initial = 0;
    bool any_kept = false;
    int32_t *last_change = NULL;
    bool removed_any = false;
    while (i < ns->len) {
        uint32_t c = we_next_cp(ns->s, ns->len, &i);
        if (keep(c)) {
            if (!we_tx_push(w, c, 0)) return OOM(w);
            last_change = &((we_tchar *)w->tx.p)[w->tx.n - 1].change;
            any_kept = true;
        } else {
            removed_any = true;
            if (!any_kept) initial++;
            else (*last_change)--;
        }
    }
    if (!removed_any && trivial(ns)) return WEMBED_STATUS_OK;
    return we_nstr_transform(w, ns, initial);
}

// -----------------------------------------------------------------------------------------
// Normalization forms (unicode-normalization-alignments' Decompositions / Recompositions)

// Decomposes the whole string into w->tx: each char's decomposition (first char change 0, the
// others 1), with every run of non-starters stably sorted by combining class.
static wembed_status decompose(we_work *w, const we_nstr *ns, bool compat) {
    w->tx.n = 0;
    uint32_t i = 0, d[WE_UC_DECOMP_MAX];
    size_t run = 0;     // start of the current run of non-starters in w->tx
    while (i < ns->len) {
        uint32_t c = we_next_cp(ns->s, ns->len, &i);
        int nd = we_uc_has(c, compat ? WE_UC_DECOMP_K : WE_UC_DECOMP_C) ? we_uc_decompose(c, compat, d) : (d[0] = c, 1);
        for (int k = 0; k < nd; k++) {
            uint8_t cc = we_uc(d[k])->ccc;
            if (cc == 0) run = w->tx.n + 1;
            if (!we_tx_push(w, d[k], k == 0 ? 0 : 1)) return OOM(w);
            // Insertion into the sorted run: stable (after equal classes).
            if (cc != 0) {
                we_tchar *tx = w->tx.p;
                size_t j = w->tx.n - 1;
                we_tchar t = tx[j];
                while (j > run && we_uc(tx[j - 1].c)->ccc > cc) { tx[j] = tx[j - 1]; j--; }
                tx[j] = t;
            }
        }
    }
    return WEMBED_STATUS_OK;
}

// Recomposes w->tx in place (Recompositions::next, its buffer and composee included).
static wembed_status recompose(we_work *w) {
    we_tchar *tx = w->tx.p;
    size_t n = w->tx.n, out = 0;
    // Marks blocked from the composee wait in `buf` (positions >= out are free to reuse since
    // the output never overtakes the input).
    we_buf *bb = &w->scratch;
    bb->n = 0;
    bool have_composee = false;
    we_tchar composee = { 0, 0 };
    int last_ccc = -1;          // -1: None
    for (size_t i = 0; i < n; i++) {
        we_tchar ch = tx[i];
        uint8_t cls = we_uc(ch.c)->ccc;
        if (!have_composee) {
            if (cls != 0) { tx[out++] = ch; continue; }
            composee = ch;
            have_composee = true;
            continue;
        }
        if (last_ccc < 0) {
            uint32_t r = we_uc_compose(composee.c, ch.c);
            if (r) {
                composee.c = r;
                composee.change = composee.change + ch.change - 1;
                continue;
            }
            if (cls == 0) {
                tx[out++] = composee;
                composee = ch;
                continue;
            }
            if (!we_buf_reserve(bb, 1, sizeof(we_tchar))) return OOM(w);
            ((we_tchar *)bb->p)[bb->n++] = ch;
            last_ccc = cls;
        } else {
            if (last_ccc >= cls) {
                if (cls == 0) {
                    // Purging: the composee, then the blocked marks, then on with ch.
                    tx[out++] = composee;
                    for (size_t k = 0; k < bb->n; k++) tx[out++] = ((we_tchar *)bb->p)[k];
                    bb->n = 0;
                    composee = ch;
                    last_ccc = -1;
                    continue;
                }
                if (!we_buf_reserve(bb, 1, sizeof(we_tchar))) return OOM(w);
                ((we_tchar *)bb->p)[bb->n++] = ch;
                last_ccc = cls;
                continue;
            }
            uint32_t r = we_uc_compose(composee.c, ch.c);
            if (r) {
                composee.c = r;
                composee.change = composee.change + ch.change - 1;
                continue;
            }
            if (!we_buf_reserve(bb, 1, sizeof(we_tchar))) return OOM(w);
            ((we_tchar *)bb->p)[bb->n++] = ch;
            last_ccc = cls;
        }
    }
    if (have_composee) tx[out++] = composee;
    for (size_t k = 0; k < bb->n; k++) tx[out++] = ((we_tchar *)bb->p)[k];
    w->tx.n = out;
    return WEMBED_STATUS_OK;
}

// Whether a normalization form could change the string (the quick check of UAX #15 on the
// reference's Unicode 9.0 data): a char that decomposes (D forms) or is not "Yes" for NFC /
// NFKC (C forms), or combining marks out of canonical order.
static bool may_change(const we_nstr *ns, bool compat, bool compose) {
    uint16_t flag = compose ? (compat ? WE_UC_NFKC_NM : WE_UC_NFC_NM) : (compat ? WE_UC_DECOMP_K : WE_UC_DECOMP_C);
    uint8_t last = 0;
    for (uint32_t i = 0; i < ns->len;) {
        if (ns->s[i] < 0x80) { i++; last = 0; continue; }
        uint32_t c = we_next_cp(ns->s, ns->len, &i);
        const we_uc_info *u = we_uc(c);
        if (u->flags & flag) return true;
        if (u->ccc && last > u->ccc) return true;
        last = u->ccc;
    }
    return false;
}

static wembed_status nf(we_work *w, we_nstr *ns, bool compat, bool compose) {
    if (!may_change(ns, compat, compose) && trivial(ns)) return WEMBED_STATUS_OK;
    wembed_status rc = decompose(w, ns, compat);
    if (rc) return rc;
    if (compose && (rc = recompose(w))) return rc;
    return apply(w, ns, 0);
}

// -----------------------------------------------------------------------------------------
// BertNormalizer

static bool bert_keep(uint32_t c) {
    if (c == 0 || c == 0xFFFD) return false;
    if (c == '\t' || c == '\n' || c == '\r') return true;
    return !we_uc_has(c, WE_UC_CTRL8);
}

static bool not_mark9(uint32_t c) { return !we_uc_has(c, WE_UC_MARK9); }
static bool not_mn8(uint32_t c) { return !we_uc_has(c, WE_UC_MN8); }

static wembed_status map_ws_to_space(we_work *w, we_nstr *ns) {
    bool any = false;
    for (uint32_t i = 0; i < ns->len && !any;) {
        uint32_t c = we_next_cp(ns->s, ns->len, &i);
        any = c != ' ' && we_uc_is_ws(c);
    }
    if (!any && trivial(ns)) return WEMBED_STATUS_OK;
    w->tx.n = 0;
    for (uint32_t i = 0; i < ns->len;) {
        uint32_t c = we_next_cp(ns->s, ns->len, &i);
        if (!we_tx_push(w, we_uc_is_ws(c) ? ' ' : c, 0)) return OOM(w);
    }
    return we_nstr_transform(w, ns, 0);
}

static wembed_status chinese_chars(we_work *w, we_nstr *ns) {
    bool any = false;
    for (uint32_t i = 0; i < ns->len && !any;) {
        if (ns->s[i] < 0xE3) { i += we_lead_len(ns->s[i]); continue; }   // all CJK chars are >= U+3400
        any = we_uc_is_cjk(we_next_cp(ns->s, ns->len, &i));
    }
    if (!any && trivial(ns)) return WEMBED_STATUS_OK;
    w->tx.n = 0;
    for (uint32_t i = 0; i < ns->len;) {
        uint32_t c = we_next_cp(ns->s, ns->len, &i);
        if (we_uc_is_cjk(c)) {
            if (!we_tx_push(w, ' ', 0) || !we_tx_push(w, c, 1) || !we_tx_push(w, ' ', 1)) return OOM(w);
        } else if (!we_tx_push(w, c, 0)) return OOM(w);
    }
    return we_nstr_transform(w, ns, 0);
}

static wembed_status lowercase(we_work *w, we_nstr *ns) {
    bool any = false;
    for (uint32_t i = 0; i < ns->len && !any;) {
        uint32_t c = we_next_cp(ns->s, ns->len, &i);
        any = c < 0x80 ? (c >= 'A' && c <= 'Z') : we_uc_has(c, WE_UC_LOWER);
    }
    if (!any && trivial(ns)) return WEMBED_STATUS_OK;
    w->tx.n = 0;
    for (uint32_t i = 0; i < ns->len;) {
        uint32_t c = we_next_cp(ns->s, ns->len, &i), lo[3];
        int k = we_uc_lower(c, lo);
        for (int j = 0; j < k; j++)
            if (!we_tx_push(w, lo[j], j > 0)) return OOM(w);
    }
    return we_nstr_transform(w, ns, 0);
}

// All of BertNormalizer in one pass. Every step gives each output char the alignment of the
// input char it comes from (filter keeps, map replaces, CJK spacing and lowercase insert
// beside, NFD emits a char's decomposition at its place), as long as NFD's canonical
// reordering moves nothing and the transforms cover the whole string; then one pass equals
// the Rust library's five. *done is false (and nothing changed) when it does not apply.
static wembed_status bert_fused(we_work *w, const we_normalizer *nz, we_nstr *ns, bool *done) {
    *done = false;
    if (!trivial(ns)) return WEMBED_STATUS_OK;
    we_buf *ob = &w->out_s, *ab = &w->out_al;
    ob->n = ab->n = 0;
    bool changed = false;
    uint8_t last_ccc = 0;
    uint32_t d[WE_UC_DECOMP_MAX];
    for (uint32_t i = 0; i < ns->len;) {
        uint32_t start = i;
        uint32_t c = we_next_cp(ns->s, ns->len, &i);
        we_align al = { ns->al[start].s - ns->base, ns->al[start].e - ns->base };
        // Room for the worst case of one input char: 3 chars of CJK spacing, or a
        // decomposition of up to WE_UC_DECOMP_MAX chars each lowercased to 3.
        if (!we_buf_reserve(ob, WE_UC_DECOMP_MAX * 12 + 8, 1) || !we_buf_reserve(ab, WE_UC_DECOMP_MAX * 12 + 8, sizeof(we_align)))
            return OOM(w);
        uint8_t *o = (uint8_t *)ob->p + ob->n;
        we_align *oa = (we_align *)ab->p + ab->n;
        size_t k = 0;
        if (c < 0x80) {
            // ASCII: clean_text drops controls but \t \n \r, which become spaces; lowercase.
            if (nz->clean_text && (c < 0x20 || c == 0x7F) && c != '\t' && c != '\n' && c != '\r') { changed = true; continue; }
            if (nz->clean_text && (c == '\t' || c == '\n' || c == '\r')) { c = ' '; changed = true; }
            if (nz->lowercase && c >= 'A' && c <= 'Z') { c += 32; changed = true; }
            o[k] = (uint8_t)c;
            oa[k++] = al;
            last_ccc = 0;
        } else if (nz->clean_text && !bert_keep(c)) {
            changed = true;
            continue;
        } else if (nz->clean_text && we_uc_is_ws(c)) {
            o[k] = ' ';
            oa[k++] = al;
            changed = true;
            last_ccc = 0;
        } else if (nz->handle_chinese_chars && we_uc_is_cjk(c)) {
            // Spaced, then (strip_accents) NFD: compatibility ideographs decompose to one
            // unified ideograph, a starter.
            if (nz->strip_accents && we_uc_has(c, WE_UC_DECOMP_C) && we_uc_decompose(c, false, d) == 1) c = d[0];
            else if (nz->strip_accents && we_uc_has(c, WE_UC_DECOMP_C)) return WEMBED_STATUS_OK;
            o[k] = ' ';
            oa[k++] = al;
            int l = we_utf8_encode(c, o + k);
            for (int j = 0; j < l; j++) oa[k++] = al;
            o[k] = ' ';
            oa[k++] = al;
            changed = true;
            last_ccc = 0;
        } else {
            int nd = 1;
            d[0] = c;
            if (nz->strip_accents && we_uc_has(c, WE_UC_DECOMP_C)) { nd = we_uc_decompose(c, false, d); changed = true; }
            for (int j = 0; j < nd; j++) {
                uint32_t x = d[j];
                if (nz->strip_accents) {
                    uint8_t cc = we_uc(x)->ccc;
                    if (cc != 0 && last_ccc > cc) return WEMBED_STATUS_OK;     // NFD would reorder: not here
                    last_ccc = cc;
                    if (we_uc_has(x, WE_UC_MN8)) { changed = true; continue; }
                }
                uint32_t lo[3];
                int nl = 1;
                lo[0] = x;
                if (nz->lowercase && we_uc_has(x, WE_UC_LOWER)) { nl = we_uc_lower(x, lo); changed = true; }
                for (int q = 0; q < nl; q++) {
                    int l = we_utf8_encode(lo[q], o + k);
                    for (int z = 0; z < l; z++) oa[k++] = al;
                }
            }
        }
        ob->n += k;
        ab->n += k;
    }
    *done = true;
    if (!changed) return WEMBED_STATUS_OK;
    return we_nstr_set(w, ns, ob->p, ab->p, (uint32_t)ob->n);
}

static wembed_status bert(we_work *w, const we_normalizer *nz, we_nstr *ns) {
    wembed_status rc;
    bool done;
    if ((rc = bert_fused(w, nz, ns, &done)) || done) return rc;
    if (nz->clean_text) {
        if ((rc = filter(w, ns, bert_keep))) return rc;
        if ((rc = map_ws_to_space(w, ns))) return rc;
    }
    if (nz->handle_chinese_chars && (rc = chinese_chars(w, ns))) return rc;
    if (nz->strip_accents) {
        if ((rc = nf(w, ns, false, false))) return rc;
        if ((rc = filter(w, ns, not_mn8))) return rc;     // Bert: Mn only (StripAccents: all marks)
    }
    if (nz->lowercase && (rc = lowercase(w, ns))) return rc;
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Replace, Prepend, Strip, Nmt, ByteLevel

// Rust applies one transform_range per match, each inserting the content chars (change 1, so
// with the alignment of the byte before them: the match's last byte) after removing the
// matched chars. Each only touches its own range, so one pass gives the same result.
wembed_status we_replace_matches(we_work *w, we_nstr *ns, const char *content, uint32_t content_len) {
    const we_match *m = w->matches.p;
    size_t nm = w->matches.n;
    size_t hits = 0;
    for (size_t k = 0; k < nm; k++) hits += m[k].is_match;
    if (hits == 0) return WEMBED_STATUS_OK;
    size_t cap = (size_t)ns->len + hits * (size_t)content_len;
    if (cap > UINT32_MAX - 8) return we_errorf(w->err, WEMBED_STATUS_TOO_LONG, "tokenizer: text too long");
    w->out_s.n = w->out_al.n = 0;
    if (!we_buf_reserve(&w->out_s, cap + 1, 1) || !we_buf_reserve(&w->out_al, cap + 1, sizeof(we_align))) return OOM(w);
    uint8_t *os = w->out_s.p;
    we_align *oal = w->out_al.p;
    size_t on = 0;
    for (size_t k = 0; k < nm; k++) {
        if (!m[k].is_match) {
            for (uint32_t p = m[k].s; p < m[k].e; p++) {
                os[on] = ns->s[p];
                oal[on] = (we_align){ ns->al[p].s - ns->base, ns->al[p].e - ns->base };
                on++;
            }
            continue;
        }
        we_align al = { 0, 0 };
        if (m[k].e > 0) al = (we_align){ ns->al[m[k].e - 1].s - ns->base, ns->al[m[k].e - 1].e - ns->base };
        for (uint32_t p = 0; p < content_len; p++) { os[on] = (uint8_t)content[p]; oal[on] = al; on++; }
    }
    return we_nstr_set(w, ns, os, oal, (uint32_t)on);
}

static wembed_status replace(we_work *w, const we_normalizer *nz, we_nstr *ns) {
    wembed_status rc = we_regex_find_matches(w, nz->pattern, ns->s, ns->len);
    return rc ? rc : we_replace_matches(w, ns, nz->content, nz->content_len);
}

static wembed_status prepend(we_work *w, const char *str, uint32_t n, we_nstr *ns) {
    if (ns->len == 0) return WEMBED_STATUS_OK;
    uint32_t i = 0;
    uint32_t first = we_next_cp(ns->s, ns->len, &i);
    w->tx.n = 0;
    uint32_t k = 0, idx = 0;
    while (k < n) {
        uint32_t c = we_next_cp((const uint8_t *)str, n, &k);
        if (!we_tx_push(w, c, idx++ == 0 ? 0 : 1)) return OOM(w);
    }
    if (!we_tx_push(w, first, 1)) return OOM(w);
    return we_nstr_transform_range(w, ns, 0, i, 0);
}

wembed_status we_nstr_prepend(we_work *w, we_nstr *ns, const char *str, uint32_t n);
wembed_status we_nstr_prepend(we_work *w, we_nstr *ns, const char *str, uint32_t n) {
    return prepend(w, str, n, ns);
}

static wembed_status strip(we_work *w, we_nstr *ns, bool left, bool right) {
    uint32_t count = 0, leading = 0, trailing = 0;
    bool in_lead = left;
    for (uint32_t i = 0; i < ns->len;) {
        uint32_t c = we_next_cp(ns->s, ns->len, &i);
        count++;
        if (in_lead && we_uc_is_ws(c)) leading++;
        else in_lead = false;
        if (right) trailing = we_uc_is_ws(c) ? trailing + 1 : 0;
    }
    if (leading == 0 && trailing == 0) return WEMBED_STATUS_OK;
    if (trailing > count - leading) trailing = count - leading;
    uint32_t keep_end = count - trailing;
    w->tx.n = 0;
    uint32_t idx = 0;
    for (uint32_t i = 0; i < ns->len; idx++) {
        uint32_t c = we_next_cp(ns->s, ns->len, &i);
        if (idx < leading || idx >= keep_end) continue;
        if (!we_tx_push(w, c, idx + 1 == keep_end ? -(int32_t)trailing : 0)) return OOM(w);
    }
    return we_nstr_transform(w, ns, leading);
}

static bool nmt_keep(uint32_t c) {
    return !((c >= 0x0001 && c <= 0x0008) || c == 0x000B || (c >= 0x000E && c <= 0x001F) ||
             c == 0x007F || c == 0x008F || c == 0x009F);
}

static wembed_status nmt(we_work *w, we_nstr *ns) {
    wembed_status rc = filter(w, ns, nmt_keep);
    if (rc) return rc;
    w->tx.n = 0;
    bool any = false;
    for (uint32_t i = 0; i < ns->len;) {
        uint32_t c = we_next_cp(ns->s, ns->len, &i);
        if (c == 0x0009 || c == 0x000A || c == 0x000C || c == 0x000D || c == 0x1680 ||
            (c >= 0x200B && c <= 0x200F) || c == 0x2028 || c == 0x2029 || c == 0x2581 ||
            c == 0xFEFF || c == 0xFFFD) {
            c = ' ';
            any = true;
        }
        if (!we_tx_push(w, c, 0)) return OOM(w);
    }
    return any || !trivial(ns) ? we_nstr_transform(w, ns, 0) : WEMBED_STATUS_OK;
}

// GPT-2's byte -> char table (bytes_char()): printable bytes map to themselves, the others
// in order to U+0100...: 0x00-0x20 -> +0, 0x7F-0xA0 -> +33, 0xAD -> +67.
uint32_t we_byte_char(uint8_t b) {
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE) return b;
    if (b <= 0x20) return 256u + b;
    if (b >= 0x7F && b <= 0xA0) return 256u + 33 + (b - 0x7Fu);
    return 256u + 67;
}

wembed_status we_bytelevel_map(we_work *w, we_nstr *ns);
wembed_status we_bytelevel_map(we_work *w, we_nstr *ns) {
    w->tx.n = 0;
    if (!we_buf_reserve(&w->tx, (size_t)ns->len, sizeof(we_tchar))) return OOM(w);
    we_tchar *tx = w->tx.p;
    bool identity = true;
    for (uint32_t i = 0; i < ns->len;) {
        uint32_t l = we_lead_len(ns->s[i]);
        for (uint32_t k = 0; k < l; k++) {
            uint32_t c = we_byte_char(ns->s[i + k]);
            identity &= c == ns->s[i + k] && l == 1;
            tx[w->tx.n++] = (we_tchar){ c, k > 0 };
        }
        i += l;
    }
    if (identity && trivial(ns)) return WEMBED_STATUS_OK;
    return we_nstr_transform(w, ns, 0);
}

// -----------------------------------------------------------------------------------------
// Precompiled (spm_precompiled)

wembed_status we_precompiled_parse(we_precompiled *pc, const uint8_t *blob, size_t n, we_err *err) {
    if (n < 4) return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "Precompiled: charsmap of %zu bytes is too short", n);
    uint32_t trie_size = (uint32_t)blob[0] | (uint32_t)blob[1] << 8 | (uint32_t)blob[2] << 16 | (uint32_t)blob[3] << 24;
    uint32_t units = trie_size / 4;
    if ((size_t)units * 4 > n - 4)
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "Precompiled: charsmap trie of %u bytes is longer than the charsmap", trie_size);
    pc->trie = blob + 4;
    pc->n_trie = units;
    pc->normalized = (const char *)(blob + 4 + (size_t)units * 4);
    pc->n_normalized = (uint32_t)(n - 4 - (size_t)units * 4);
    if (!we_utf8_valid((const uint8_t *)pc->normalized, pc->n_normalized))
        return we_errorf(err, WEMBED_STATUS_BAD_FORMAT, "Precompiled: normalized strings are not valid UTF-8");
    return WEMBED_STATUS_OK;
}

static inline uint32_t pc_unit(const we_precompiled *pc, uint32_t i) {
    if (i >= pc->n_trie) return 0;
    const uint8_t *p = pc->trie + (size_t)i * 4;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint32_t pc_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

// The replacement of the shortest prefix of chunk in the trie (DoubleArray::common_prefix_search
// then results[0]), or NULL.
static const char *pc_transform(const we_precompiled *pc, const uint8_t *chunk, uint32_t n, uint32_t *out_len) {
    if (pc->n_trie == 0) return NULL;
    uint32_t node = 0;
    uint32_t unit = pc_unit(pc, node);
    node ^= pc_offset(unit);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = chunk[i];
        if (c == 0) break;
        node ^= c;
        unit = pc_unit(pc, node);
        if ((unit & ((1u << 31) | 0xFF)) != c) return NULL;
        node ^= pc_offset(unit);
        if ((unit >> 8) & 1) {
            uint32_t index = pc_unit(pc, node) & 0x7FFFFFFFu;
            // Rust slices normalized[index..end]: out of range or not on a char boundary panics
            // there; here it is simply no match.
            if (index > pc->n_normalized) return NULL;
            if (index < pc->n_normalized && ((uint8_t)pc->normalized[index] & 0xC0) == 0x80) return NULL;
            uint32_t end = index;
            while (end < pc->n_normalized && pc->normalized[end] != 0) end++;
            *out_len = end - index;
            return pc->normalized + index;
        }
    }
    return NULL;
}

// spm's replace(): the new chars with change 0, then the extra ones marked as insertions or
// the removed count folded into the last entry of the whole list.
static bool pc_replace(we_work *w, uint32_t old_count, const char *s, uint32_t n) {
    uint32_t new_count = 0;
    for (uint32_t i = 0; i < n;) {
        if (!we_tx_push(w, we_next_cp((const uint8_t *)s, n, &i), 0)) return false;
        new_count++;
    }
    int64_t diff = (int64_t)new_count - old_count;
    we_tchar *tx = w->tx.p;
    if (diff > 0) {
        for (size_t k = 0; k < (size_t)diff && k < w->tx.n; k++) tx[w->tx.n - 1 - k].change = 1;
    } else if (diff < 0 && w->tx.n > 0) {
        tx[w->tx.n - 1].change += (int32_t)diff;
    }
    return true;
}

uint32_t we_grapheme_next(const uint8_t *s, uint32_t n, uint32_t i);

static wembed_status precompiled(we_work *w, const we_precompiled *pc, we_nstr *ns) {
    w->tx.n = 0;
    bool modified = false;
    uint32_t i = 0;
    while (i < ns->len) {
        uint32_t g = we_grapheme_next(ns->s, ns->len, i);
        uint32_t glen = g - i, nlen;
        const char *norm;
        if (glen < 6 && (norm = pc_transform(pc, ns->s + i, glen, &nlen))) {
            modified = true;
            uint32_t cnt = 0;
            for (uint32_t p = i; p < g; p += we_lead_len(ns->s[p])) cnt++;
            if (!pc_replace(w, cnt, norm, nlen)) return OOM(w);
            i = g;
            continue;
        }
        while (i < g) {
            uint32_t p = i;
            uint32_t c = we_next_cp(ns->s, ns->len, &i);
            if ((norm = pc_transform(pc, ns->s + p, i - p, &nlen))) {
                modified = true;
                if (!pc_replace(w, 1, norm, nlen)) return OOM(w);
            } else if (!we_tx_push(w, c, 0)) {
                return OOM(w);
            }
        }
    }
    if (!modified) return WEMBED_STATUS_OK;
    return we_nstr_transform(w, ns, 0);
}

// -----------------------------------------------------------------------------------------
// Grapheme clusters (UAX #29 extended grapheme clusters, Unicode 15.0)

// End of the grapheme cluster starting at i.
uint32_t we_grapheme_next(const uint8_t *s, uint32_t n, uint32_t i) {
    if (i >= n) return n;
    uint32_t c = we_next_cp(s, n, &i);
    const we_uc_info *u = we_uc(c);
    uint8_t prev = u->gcb;
    bool pict_seq = (u->flags & WE_UC_EXTPICT) != 0;   // ExtPict Extend* so far (GB11)
    bool pict_zwj = false;                              // ... followed by ZWJ
    int ri_count = prev == WE_GCB_RI;
    while (i < n) {
        uint32_t j = i;
        uint32_t d = we_next_cp(s, n, &j);
        const we_uc_info *v = we_uc(d);
        uint8_t cur = v->gcb;
        bool join;
        if (prev == WE_GCB_CR && cur == WE_GCB_LF) join = true;                        // GB3
        else if (prev == WE_GCB_CONTROL || prev == WE_GCB_CR || prev == WE_GCB_LF) join = false;   // GB4
        else if (cur == WE_GCB_CONTROL || cur == WE_GCB_CR || cur == WE_GCB_LF) join = false;      // GB5
        else if (prev == WE_GCB_L && (cur == WE_GCB_L || cur == WE_GCB_V || cur == WE_GCB_LV || cur == WE_GCB_LVT)) join = true;   // GB6
        else if ((prev == WE_GCB_LV || prev == WE_GCB_V) && (cur == WE_GCB_V || cur == WE_GCB_T)) join = true;   // GB7
        else if ((prev == WE_GCB_LVT || prev == WE_GCB_T) && cur == WE_GCB_T) join = true;   // GB8
        else if (cur == WE_GCB_EXTEND || cur == WE_GCB_ZWJ) join = true;               // GB9
        else if (cur == WE_GCB_SPACINGMARK) join = true;                               // GB9a
        else if (prev == WE_GCB_PREPEND) join = true;                                  // GB9b
        else if (pict_zwj && (v->flags & WE_UC_EXTPICT)) join = true;                  // GB11
        else if (prev == WE_GCB_RI && cur == WE_GCB_RI) join = (ri_count % 2) == 1;     // GB12/13
        else join = false;                                                             // GB999
        if (!join) break;
        // State for GB11 and GB12/13
        if (v->flags & WE_UC_EXTPICT) { pict_seq = true; pict_zwj = false; }
        else if (cur == WE_GCB_EXTEND && pict_seq && !pict_zwj) { /* ExtPict Extend* continues */ }
        else if (cur == WE_GCB_ZWJ && pict_seq && !pict_zwj) pict_zwj = true;
        else { pict_seq = false; pict_zwj = false; }
        ri_count = cur == WE_GCB_RI ? ri_count + 1 : 0;
        prev = cur;
        i = j;
    }
    return i;
}

// -----------------------------------------------------------------------------------------

wembed_status we_normalize(we_work *w, const we_normalizer *nz, we_nstr *ns) {
    switch (nz->type) {
    case WE_NORM_BERT: return bert(w, nz, ns);
    case WE_NORM_NFD: return nf(w, ns, false, false);
    case WE_NORM_NFKD: return nf(w, ns, true, false);
    case WE_NORM_NFC: return nf(w, ns, false, true);
    case WE_NORM_NFKC: return nf(w, ns, true, true);
    case WE_NORM_LOWERCASE: return lowercase(w, ns);
    case WE_NORM_STRIP_ACCENTS: return filter(w, ns, not_mark9);
    case WE_NORM_REPLACE: return replace(w, nz, ns);
    case WE_NORM_PREPEND: return prepend(w, nz->content, nz->content_len, ns);
    case WE_NORM_STRIP: return strip(w, ns, nz->strip_left, nz->strip_right);
    case WE_NORM_PRECOMPILED: return precompiled(w, &nz->pc, ns);
    case WE_NORM_NMT: return nmt(w, ns);
    case WE_NORM_BYTELEVEL: return we_bytelevel_map(w, ns);
    case WE_NORM_SEQUENCE:
        for (uint32_t k = 0; k < nz->n_items; k++) {
            wembed_status rc = we_normalize(w, &nz->items[k], ns);
            if (rc) return rc;
        }
        return WEMBED_STATUS_OK;
    }
    return we_errorf(w->err, WEMBED_STATUS_INTERNAL, "tokenizer: unknown normalizer %d", (int)nz->type);
}
