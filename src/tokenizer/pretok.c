// pretok.c - the pre-tokenizers of tokenizer.json: BertPreTokenizer, Whitespace,
// WhitespaceSplit, Metaspace, ByteLevel, Punctuation, Digits, Split, CharDelimiterSplit and
// Sequence. Each works on the splits of w->cur (those not already an added token), as the Rust
// PreTokenizedString::split does, and leaves the result in w->cur.
//
// Not: UnicodeScripts, FixedLength, or Split with a pattern the regex subset refuses.
#include <string.h>

#include "tok.h"
#include "unicode.h"

#define OOM(w) we_errorf((w)->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory")

wembed_status we_nstr_prepend(we_work *w, we_nstr *ns, const char *str, uint32_t n);
wembed_status we_bytelevel_map(we_work *w, we_nstr *ns);
wembed_status we_replace_matches(we_work *w, we_nstr *ns, const char *content, uint32_t n);

static bool pred_ws(uint32_t c, const void *ctx) { (void)ctx; return we_uc_is_ws(c); }
static bool pred_bert_punct(uint32_t c, const void *ctx) {
    (void)ctx;
    if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
    return we_uc_has(c, WE_UC_PUNCT8);
}
static bool pred_numeric(uint32_t c, const void *ctx) {
    (void)ctx;
    if (c < 0x80) return c >= '0' && c <= '9';
    return we_uc_is_number(c);
}
static bool pred_char(uint32_t c, const void *ctx) { return c == *(const uint32_t *)ctx; }

// Appends the slice [a, b) of ns to w->next.
static wembed_status push_piece(we_work *w, const we_nstr *ns, uint32_t a, uint32_t b) {
    we_nstr piece;
    if (!we_nstr_slice(ns, a, b, &piece)) return we_errorf(w->err, WEMBED_STATUS_INTERNAL, "tokenizer: bad split %u..%u", a, b);
    if (piece.len == 0) return WEMBED_STATUS_OK;
    if (!we_buf_reserve(&w->next, 1, sizeof(we_split))) return OOM(w);
    ((we_split *)w->next.p)[w->next.n++] = (we_split){ piece, -1 };
    return WEMBED_STATUS_OK;
}

static void swap_lists(we_work *w) {
    we_buf t = w->cur;
    w->cur = w->next;
    w->next = t;
}

// Appends split sp as it is to w->next.
static wembed_status keep(we_work *w, const we_split *sp) {
    if (!we_buf_reserve(&w->next, 1, sizeof(we_split))) return OOM(w);
    ((we_split *)w->next.p)[w->next.n++] = *sp;
    return WEMBED_STATUS_OK;
}

// One pass: every split without a token goes through fn, which appends its pieces to w->next.
typedef wembed_status (*split_fn)(we_work *w, const we_pretok *pt, we_nstr *ns);

static wembed_status each_split(we_work *w, const we_pretok *pt, split_fn fn) {
    w->next.n = 0;
    for (size_t i = 0; i < w->cur.n; i++) {
        we_split sp = ((we_split *)w->cur.p)[i];
        wembed_status rc = sp.added >= 0 ? keep(w, &sp) : fn(w, pt, &sp.ns);
        if (rc) return rc;
    }
    swap_lists(w);
    return WEMBED_STATUS_OK;
}

static wembed_status split_ws_removed(we_work *w, const we_pretok *pt, we_nstr *ns) {
    (void)pt;
    wembed_status rc = we_find_char_matches(w, ns->s, ns->len, pred_ws, NULL);
    return rc ? rc : we_nstr_split(w, ns, WE_SPLIT_REMOVED);
}

static wembed_status split_bert_punct(we_work *w, const we_pretok *pt, we_nstr *ns) {
    (void)pt;
    wembed_status rc = we_find_char_matches(w, ns->s, ns->len, pred_bert_punct, NULL);
    return rc ? rc : we_nstr_split(w, ns, pt ? pt->behavior : WE_SPLIT_ISOLATED);
}

static wembed_status split_punct(we_work *w, const we_pretok *pt, we_nstr *ns) {
    wembed_status rc = we_find_char_matches(w, ns->s, ns->len, pred_bert_punct, NULL);
    return rc ? rc : we_nstr_split(w, ns, pt->behavior);
}

static wembed_status split_digits(we_work *w, const we_pretok *pt, we_nstr *ns) {
    wembed_status rc = we_find_char_matches(w, ns->s, ns->len, pred_numeric, NULL);
    return rc ? rc : we_nstr_split(w, ns, pt->individual_digits ? WE_SPLIT_ISOLATED : WE_SPLIT_CONTIGUOUS);
}

static wembed_status split_char_delim(we_work *w, const we_pretok *pt, we_nstr *ns) {
    wembed_status rc = we_find_char_matches(w, ns->s, ns->len, pred_char, &pt->delimiter);
    return rc ? rc : we_nstr_split(w, ns, WE_SPLIT_REMOVED);
}

// Rust regex `\w` (Alphabetic, M, Nd, Pc, Join_Control), which Whitespace and the added-token
// single_word test use.
bool we_is_rust_word(uint32_t c);
bool we_is_rust_word(uint32_t c) {
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    return we_uc_has(c, WE_UC_WORD);
}

// Whitespace: the regex \w+|[^\w\s]+ (Rust regex crate), matches kept (Removed + invert).
static wembed_status split_whitespace(we_work *w, const we_pretok *pt, we_nstr *ns) {
    (void)pt;
    w->matches.n = 0;
    uint32_t i = 0, prev = 0;
    while (i < ns->len) {
        uint32_t j = i;
        uint32_t c = we_next_cp(ns->s, ns->len, &j);
        int kind = we_is_rust_word(c) ? 1 : we_uc_is_ws(c) ? 0 : 2;
        if (kind == 0) { i = j; continue; }
        uint32_t e = j;
        while (e < ns->len) {
            uint32_t k = e;
            uint32_t d = we_next_cp(ns->s, ns->len, &k);
            int dk = we_is_rust_word(d) ? 1 : we_uc_is_ws(d) ? 0 : 2;
            if (dk != kind) break;
            e = k;
        }
        if (!we_buf_reserve(&w->matches, 2, sizeof(we_match))) return OOM(w);
        we_match *m = w->matches.p;
        // find_matches' (range, is_match) list, then inverted: the hits are kept.
        if (prev != i) m[w->matches.n++] = (we_match){ prev, i, true };
        m[w->matches.n++] = (we_match){ i, e, false };
        prev = e;
        i = e;
    }
    if (!we_buf_reserve(&w->matches, 1, sizeof(we_match))) return OOM(w);
    if (ns->len == 0) ((we_match *)w->matches.p)[w->matches.n++] = (we_match){ 0, 0, true };
    else if (prev != ns->len) ((we_match *)w->matches.p)[w->matches.n++] = (we_match){ prev, ns->len, true };
    return we_nstr_split(w, ns, WE_SPLIT_REMOVED);
}

static wembed_status split_regex(we_work *w, const we_pretok *pt, we_nstr *ns) {
    wembed_status rc = we_regex_find_matches(w, pt->pattern, ns->s, ns->len);
    if (rc) return rc;
    if (pt->invert) {
        we_match *m = w->matches.p;
        for (size_t k = 0; k < w->matches.n; k++) m[k].is_match = !m[k].is_match;
    }
    return we_nstr_split(w, ns, pt->behavior);
}

static wembed_status metaspace(we_work *w, const we_pretok *pt, we_nstr *ns) {
    char rep[4];
    uint32_t rep_len = (uint32_t)we_utf8_encode(pt->replacement, (uint8_t *)rep);
    uint32_t space = ' ';
    wembed_status rc = we_find_char_matches(w, ns->s, ns->len, pred_char, &space);
    if (rc || (rc = we_replace_matches(w, ns, rep, rep_len))) return rc;
    bool starts = ns->len >= rep_len && memcmp(ns->s, rep, rep_len) == 0;
    if (!starts && (pt->prepend_scheme == WE_PREPEND_ALWAYS ||
                    (pt->prepend_scheme == WE_PREPEND_FIRST && ns->orig_shift == 0))) {
        if ((rc = we_nstr_prepend(w, ns, rep, rep_len))) return rc;
    }
    if (!pt->split) {
        if (ns->len == 0) return WEMBED_STATUS_OK;
        we_split sp = { *ns, -1 };
        return keep(w, &sp);
    }
    if ((rc = we_find_char_matches(w, ns->s, ns->len, pred_char, &pt->replacement))) return rc;
    return we_nstr_split(w, ns, WE_SPLIT_MERGED_WITH_NEXT);
}

static wembed_status bytelevel_split(we_work *w, const we_pretok *pt, we_nstr *ns) {
    wembed_status rc;
    if (pt->add_prefix_space && !(ns->len > 0 && ns->s[0] == ' ')) {
        if ((rc = we_nstr_prepend(w, ns, " ", 1))) return rc;
    }
    if (!pt->use_regex) {
        if (ns->len == 0) return WEMBED_STATUS_OK;
        we_split sp = { *ns, -1 };
        return keep(w, &sp);
    }
    if ((rc = we_regex_find_matches(w, pt->pattern, ns->s, ns->len))) return rc;
    return we_nstr_split(w, ns, WE_SPLIT_ISOLATED);
}

// BertPreTokenizer in one pass: splitting on whitespace (removed) and then on punctuation
// (isolated) gives the maximal runs of other chars and each punctuation char alone, and a
// slice of a slice is the slice of the whole, so this equals the two passes.
static wembed_status split_bert(we_work *w, const we_pretok *pt, we_nstr *ns) {
    (void)pt;
    uint32_t i = 0, run = 0;
    bool in_run = false;
    wembed_status rc;
    while (i < ns->len) {
        uint32_t st = i;
        uint32_t c = ns->s[i] < 0x80 ? ns->s[i++] : we_next_cp(ns->s, ns->len, &i);
        bool ws = c < 0x80 ? (c == ' ' || (c >= 9 && c <= 13)) : we_uc_is_ws(c);
        bool punct = !ws && pred_bert_punct(c, NULL);
        if (ws || punct) {
            if (in_run && (rc = push_piece(w, ns, run, st))) return rc;
            in_run = false;
            if (punct && (rc = push_piece(w, ns, st, i))) return rc;
        } else if (!in_run) {
            in_run = true;
            run = st;
        }
    }
    if (in_run) return push_piece(w, ns, run, ns->len);
    return WEMBED_STATUS_OK;
}

wembed_status we_pretokenize(we_work *w, const we_pretok *pt) {
    wembed_status rc;
    switch (pt->type) {
    case WE_PRE_BERT:
        return each_split(w, NULL, split_bert);
    case WE_PRE_WHITESPACE: return each_split(w, pt, split_whitespace);
    case WE_PRE_WHITESPACE_SPLIT: return each_split(w, pt, split_ws_removed);
    case WE_PRE_METASPACE: return each_split(w, pt, metaspace);
    case WE_PRE_PUNCTUATION: return each_split(w, pt, split_punct);
    case WE_PRE_DIGITS: return each_split(w, pt, split_digits);
    case WE_PRE_SPLIT: return each_split(w, pt, split_regex);
    case WE_PRE_CHAR_DELIMITER: return each_split(w, pt, split_char_delim);
    case WE_PRE_BYTELEVEL:
        if ((rc = each_split(w, pt, bytelevel_split))) return rc;
        for (size_t i = 0; i < w->cur.n; i++) {
            we_split *sp = (we_split *)w->cur.p + i;
            if (sp->added < 0 && (rc = we_bytelevel_map(w, &sp->ns))) return rc;
        }
        return WEMBED_STATUS_OK;
    case WE_PRE_SEQUENCE:
        for (uint32_t k = 0; k < pt->n_items; k++)
            if ((rc = we_pretokenize(w, &pt->items[k]))) return rc;
        return WEMBED_STATUS_OK;
    }
    return we_errorf(w->err, WEMBED_STATUS_INTERNAL, "tokenizer: unknown pre-tokenizer %d", (int)pt->type);
}
