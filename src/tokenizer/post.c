// post.c - what happens after the model: truncation, the post-processors (TemplateProcessing,
// BertProcessing, RobertaProcessing, ByteLevel, Sequence) and padding, in the order and with
// the rules of the Rust library's Tokenizer::post_process.
//
// Offsets stay in bytes of the input; ByteLevel's offset trimming counts characters as the
// reference does (its offsets are in characters there), by walking the input text.
#include <string.h>

#include "tok.h"
#include "unicode.h"

#define OOM(tok) we_errorf(&(tok)->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory")

// -----------------------------------------------------------------------------------------
// Encodings

wembed_status we_enc_push(we_enc *e, int32_t id, const char *str, uint32_t str_len, uint32_t s, uint32_t eo,
                          int32_t word, uint32_t type_id, uint8_t special, uint8_t attn, uint8_t seq) {
    if (!we_buf_reserve(&e->toks, 1, sizeof(we_etok)) || !we_buf_reserve(&e->pool, str_len + 1, 1))
        return WEMBED_STATUS_ALLOC_FAILED;
    char *pool = e->pool.p;
    uint32_t off = (uint32_t)e->pool.n;
    if (str_len) memcpy(pool + off, str, str_len);
    e->pool.n += str_len;
    ((we_etok *)e->toks.p)[e->toks.n++] = (we_etok){ id, type_id, s, eo, word, special, attn, seq, off, str_len };
    return WEMBED_STATUS_OK;
}

void we_enc_free(we_enc *e) {
    we_buf_free(&e->toks);
    we_buf_free(&e->pool);
}

// Appends src[a..b) to dst.
static wembed_status enc_append(we_enc *dst, const we_enc *src, size_t a, size_t b) {
    if (b <= a) return WEMBED_STATUS_OK;
    if (!we_buf_reserve(&dst->toks, b - a, sizeof(we_etok)) || !we_buf_reserve(&dst->pool, src->pool.n + 1, 1))
        return WEMBED_STATUS_ALLOC_FAILED;
    const we_etok *st = src->toks.p;
    we_etok *dt = dst->toks.p;
    for (size_t i = a; i < b; i++) {
        we_etok t = st[i];
        uint32_t off = (uint32_t)dst->pool.n;
        memcpy((char *)dst->pool.p + off, (const char *)src->pool.p + t.str_off, t.str_len);
        dst->pool.n += t.str_len;
        t.str_off = off;
        dt[dst->toks.n++] = t;
    }
    return WEMBED_STATUS_OK;
}

// Encoding::truncate (the overflowing part is dropped: embedding has no use for it).
static void enc_truncate(we_enc *e, size_t max_len, bool left) {
    if (max_len >= e->toks.n) return;
    if (left) {
        we_etok *t = e->toks.p;
        memmove(t, t + (e->toks.n - max_len), max_len * sizeof(we_etok));
    }
    e->toks.n = max_len;
}

// -----------------------------------------------------------------------------------------
// Truncation (utils::truncation::truncate_encodings)

static wembed_status truncate_encodings(we_tokenizer *tok, we_enc *a, we_enc *b, const we_trunc *t, size_t max_length) {
    if (max_length == 0) {
        enc_truncate(a, 0, t->left);
        if (b) enc_truncate(b, 0, t->left);
        return WEMBED_STATUS_OK;
    }
    size_t total = a->toks.n + (b ? b->toks.n : 0);
    if (total <= max_length) return WEMBED_STATUS_OK;
    size_t to_remove = total - max_length;
    switch (t->strategy) {
    case WE_TRUNC_LONGEST_FIRST:
        if (b) {
            size_t n1 = a->toks.n, n2 = b->toks.n;
            bool swap = false;
            if (n1 > n2) { swap = true; size_t x = n1; n1 = n2; n2 = x; }
            if (n1 > max_length) n2 = n1;
            else n2 = WE_MAX(n1, max_length - n1);
            if (n1 + n2 > max_length) {
                n1 = max_length / 2;
                n2 = n1 + max_length % 2;
            }
            if (swap) { size_t x = n1; n1 = n2; n2 = x; }
            enc_truncate(a, n1, t->left);
            enc_truncate(b, n2, t->left);
        } else {
            enc_truncate(a, total - to_remove, t->left);
        }
        return WEMBED_STATUS_OK;
    case WE_TRUNC_ONLY_FIRST:
    case WE_TRUNC_ONLY_SECOND: {
        we_enc *target = t->strategy == WE_TRUNC_ONLY_FIRST ? a : b;
        if (!target)
            return we_errorf(&tok->err, WEMBED_STATUS_INVALID_ARGUMENT, "truncation: only_second needs a second sequence");
        if (target->toks.n <= to_remove)
            return we_errorf(&tok->err, WEMBED_STATUS_TOO_LONG,
                             "truncation: the sequence to truncate is too short to remove %zu tokens", to_remove);
        enc_truncate(target, target->toks.n - to_remove, t->left);
        return WEMBED_STATUS_OK;
    }
    }
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Processors. They work on a list of encodings (Rust process_encodings), merged at the end.

typedef struct enc_list {
    we_enc *v;
    uint32_t n, cap;
} enc_list;

static wembed_status list_add(enc_list *l, we_enc *e) {
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 8;
        we_enc *v = we_realloc(l->v, (size_t)cap * sizeof(we_enc));
        if (!v) return WEMBED_STATUS_ALLOC_FAILED;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *e;        // takes ownership
    memset(e, 0, sizeof *e);
    return WEMBED_STATUS_OK;
}

static void list_free(enc_list *l) {
    for (uint32_t i = 0; i < l->n; i++) we_enc_free(&l->v[i]);
    we_free(l->v);
    memset(l, 0, sizeof *l);
}

uint32_t we_post_added(const we_post *pp, bool pair) {
    if (!pp) return 0;
    switch (pp->type) {
    case WE_POST_BERT: return pair ? 3 : 2;
    case WE_POST_ROBERTA: return pair ? 4 : 2;
    case WE_POST_BYTELEVEL: return 0;
    case WE_POST_TEMPLATE: {
        const we_piece *p = pair ? pp->pair : pp->single;
        uint32_t n = pair ? pp->n_pair : pp->n_single, count = 0;
        for (uint32_t i = 0; i < n; i++)
            if (!p[i].is_seq) count += pp->specials[p[i].special].n;
        return count;
    }
    case WE_POST_SEQUENCE: {
        uint32_t count = 0;
        for (uint32_t i = 0; i < pp->n_items; i++) count += we_post_added(&pp->items[i], pair);
        return count;
    }
    }
    return 0;
}

static uint32_t walk_fwd(const uint8_t *text, uint32_t pos, uint32_t k, uint32_t limit) {
    while (k-- && pos < limit) {
        pos++;
        while (pos < limit && (text[pos] & 0xC0) == 0x80) pos++;
    }
    return pos;
}

// ByteLevel process_offsets: trims the offsets of tokens starting or ending with spaces ('Ġ' or
// whitespace), by as many characters as the token has.
typedef struct post_ctx {
    const uint8_t *text[2];
    uint32_t text_len[2];
} post_ctx;

static void process_offsets(we_enc *e, bool add_prefix_space, const post_ctx *ctx) {
    we_etok *t = e->toks.p;
    for (size_t i = 0; i < e->toks.n; i++) {
        const uint8_t *text = ctx->text[t[i].seq == 1];
        uint32_t text_len = ctx->text_len[t[i].seq == 1];
        const uint8_t *s = (const uint8_t *)e->pool.p + t[i].str_off;
        uint32_t n = t[i].str_len;
        uint32_t leading = 0, trailing = 0, chars = 0;
        bool lead = true;
        for (uint32_t p = 0; p < n;) {
            uint32_t c = we_next_cp(s, n, &p);
            bool sp = c == 0x120 || we_uc_is_ws(c);
            chars++;
            if (lead && sp) leading++;
            else lead = false;
            trailing = sp ? trailing + 1 : 0;
        }
        (void)chars;
        if (leading == 0 && trailing == 0) continue;
        if (leading > 0) {
            bool is_first = i == 0 || t[i].s == 0;
            if (is_first && add_prefix_space && leading == 1) leading = 0;
            uint32_t ns = walk_fwd(text, t[i].s, leading, text_len);
            t[i].s = WE_MIN(ns, t[i].e);
        }
        if (trailing > 0) {
            // offsets.1 >= trailing, in characters: enough chars before the end.
            uint32_t pos = t[i].e, k = trailing;
            while (k && pos > 0) {
                pos--;
                while (pos > 0 && (text[pos] & 0xC0) == 0x80) pos--;
                k--;
            }
            if (k == 0) t[i].e = WE_MAX(pos, t[i].s);
        }
    }
}

static wembed_status special_enc(we_enc *out, const we_special *sp, uint32_t type_id) {
    for (uint32_t k = 0; k < sp->n; k++) {
        const char *s = sp->tokens[k];
        wembed_status rc = we_enc_push(out, sp->ids[k], s, (uint32_t)strlen(s), 0, 0, -1, type_id, 1, 1, 255);
        if (rc) return rc;
    }
    return WEMBED_STATUS_OK;
}

static void set_type_ids(we_enc *e, uint32_t type_id) {
    we_etok *t = e->toks.p;
    for (size_t i = 0; i < e->toks.n; i++) t[i].type_id = type_id;
}

static void set_seq(we_enc *e, uint8_t seq) {
    we_etok *t = e->toks.p;
    for (size_t i = 0; i < e->toks.n; i++) t[i].seq = seq;
}

// Rust process_encodings: rewrites the list.
static wembed_status process_list(const we_post *pp, enc_list *l, bool add_special, const post_ctx *ctx) {
    wembed_status rc;
    switch (pp->type) {
    case WE_POST_BYTELEVEL:
        if (pp->trim_offsets)
            for (uint32_t i = 0; i < l->n; i++)
                process_offsets(&l->v[i], pp->add_prefix_space, ctx);
        return WEMBED_STATUS_OK;
    case WE_POST_SEQUENCE:
        for (uint32_t k = 0; k < pp->n_items; k++)
            if ((rc = process_list(&pp->items[k], l, add_special, ctx))) return rc;
        return WEMBED_STATUS_OK;
    case WE_POST_BERT:
    case WE_POST_ROBERTA: {
        bool roberta = pp->type == WE_POST_ROBERTA;
        if (roberta) {
            if (pp->trim_offsets)
                for (uint32_t i = 0; i < l->n; i++)
                    process_offsets(&l->v[i], pp->add_prefix_space, ctx);
            for (uint32_t i = 0; i < l->n; i++) set_type_ids(&l->v[i], 0);
        }
        if (!add_special) return WEMBED_STATUS_OK;
        enc_list out = { 0 };
        for (uint32_t i = 0; i < l->n; i++) {
            we_enc e = { 0 };
            const char *cls = pp->cls, *sep = pp->sep;
            if (i == 0) {
                rc = we_enc_push(&e, pp->cls_id, cls, (uint32_t)strlen(cls), 0, 0, -1, 0, 1, 1, 255);
            } else if (roberta) {
                rc = we_enc_push(&e, pp->sep_id, sep, (uint32_t)strlen(sep), 0, 0, -1, 0, 1, 1, 255);
            } else {
                rc = WEMBED_STATUS_OK;
            }
            if (!rc) rc = enc_append(&e, &l->v[i], 0, l->v[i].toks.n);
            if (!rc) rc = we_enc_push(&e, pp->sep_id, sep, (uint32_t)strlen(sep), 0, 0, -1,
                                      (i == 0 || roberta) ? 0 : 1, 1, 1, 255);
            if (!rc) rc = list_add(&out, &e);
            if (rc) { we_enc_free(&e); list_free(&out); return rc; }
        }
        list_free(l);
        *l = out;
        return WEMBED_STATUS_OK;
    }
    case WE_POST_TEMPLATE: {
        const we_piece *pieces = l->n == 2 ? pp->pair : pp->single;
        uint32_t n = l->n == 2 ? pp->n_pair : pp->n_single;
        if (l->n != 1 && l->n != 2) return WEMBED_STATUS_INTERNAL;
        enc_list out = { 0 };
        for (uint32_t k = 0; k < n; k++) {
            we_enc e = { 0 };
            rc = WEMBED_STATUS_OK;
            if (pieces[k].is_seq) {
                uint32_t i = pieces[k].seq;
                if (i >= l->n) continue;
                rc = enc_append(&e, &l->v[i], 0, l->v[i].toks.n);
                set_type_ids(&e, pieces[k].type_id);
                set_seq(&e, (uint8_t)i);
            } else if (add_special) {
                rc = special_enc(&e, &pp->specials[pieces[k].special], pieces[k].type_id);
            } else {
                continue;
            }
            if (!rc) rc = list_add(&out, &e);
            if (rc) { we_enc_free(&e); list_free(&out); return rc; }
        }
        list_free(l);
        *l = out;
        return WEMBED_STATUS_OK;
    }
    }
    return WEMBED_STATUS_OK;
}

static void pad_enc(we_enc *e, const we_pad *pad, size_t target, we_tokenizer *tok, wembed_status *rc) {
    size_t n = e->toks.n;
    if (n >= target) return;
    size_t add = target - n;
    const char *pt = pad->pad_token ? pad->pad_token : "";
    uint32_t plen = (uint32_t)strlen(pt);
    if (!we_buf_reserve(&e->toks, add, sizeof(we_etok)) || !we_buf_reserve(&e->pool, plen + 1, 1)) {
        *rc = OOM(tok);
        return;
    }
    uint32_t off = (uint32_t)e->pool.n;
    memcpy((char *)e->pool.p + off, pt, plen);
    e->pool.n += plen;
    we_etok p = { pad->pad_id, pad->pad_type_id, 0, 0, -1, 1, 0, 255, off, plen };
    we_etok *t = e->toks.p;
    if (pad->left) {
        memmove(t + add, t, n * sizeof(we_etok));
        for (size_t i = 0; i < add; i++) t[i] = p;
    } else {
        for (size_t i = 0; i < add; i++) t[n + i] = p;
    }
    e->toks.n = target;
}

wembed_status we_post_process(we_tokenizer *tok, we_enc *a, we_enc *b, bool add_special,
                              const we_trunc *trunc, const we_pad *pad, const uint8_t *text_a, uint32_t len_a,
                              const uint8_t *text_b, uint32_t len_b, we_enc *out) {
    wembed_status rc;
    // 1. Truncation, keeping room for the special tokens the processor will add.
    if (trunc && trunc->on) {
        uint32_t n_added = add_special ? we_post_added(tok->post, b != NULL) : 0;
        size_t max_length = trunc->max_length;
        if (n_added > 0) {
            // Rust computes max_length - n_added in usize; a release build wraps around when it
            // is smaller, which leaves the input untruncated.
            max_length = trunc->max_length >= n_added ? trunc->max_length - n_added : SIZE_MAX;
        }
        if ((rc = truncate_encodings(tok, a, b, trunc, max_length))) return rc;
    }
    // 2. The processor (or a plain merge).
    set_seq(a, 0);
    if (b) set_seq(b, 1);
    enc_list l = { 0 };
    if ((rc = list_add(&l, a)) || (b && (rc = list_add(&l, b)))) { list_free(&l); return OOM(tok); }
    post_ctx ctx = { { text_a, text_b ? text_b : text_a }, { len_a, text_b ? len_b : len_a } };
    if (tok->post && (rc = process_list(tok->post, &l, add_special, &ctx))) {
        list_free(&l);
        return rc == WEMBED_STATUS_ALLOC_FAILED ? OOM(tok) : rc;
    }
    out->toks.n = out->pool.n = 0;
    for (uint32_t i = 0; i < l.n; i++) {
        if ((rc = enc_append(out, &l.v[i], 0, l.v[i].toks.n))) { list_free(&l); return OOM(tok); }
    }
    list_free(&l);
    // 3. Padding.
    if (pad && pad->on) {
        size_t target = pad->fixed ? pad->length : out->toks.n;
        if (pad->multiple > 0 && target % pad->multiple) target += pad->multiple - target % pad->multiple;
        rc = WEMBED_STATUS_OK;
        pad_enc(out, pad, target, tok, &rc);
        if (rc) return rc;
    }
    return WEMBED_STATUS_OK;
}
