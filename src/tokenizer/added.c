// added.c - added tokens ([CLS], <|endoftext|>, <extra_id_0>, ...) found in the text, as the
// Rust AddedVocabulary::extract_and_normalize does: first the tokens with normalized=false
// on the raw text, then, in each remaining piece once normalized, the tokens with
// normalized=true on the normalized text (matched against their normalized form). Matching is
// leftmost-longest (aho-corasick MatchKind::LeftmostLongest), exact case, with the
// single_word / lstrip / rstrip rules of AddedVocabulary::find_matches.
#include <string.h>

#include "tok.h"
#include "unicode.h"

#define OOM(w) we_errorf((w)->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory")

bool we_is_rust_word(uint32_t c);

// -----------------------------------------------------------------------------------------
// A byte trie over the patterns

wembed_status we_matcher_build(we_arena *arena, we_matcher *m, const char *const *pats, const uint32_t *lens,
                               uint32_t n, we_err *err) {
    size_t total = 1;
    for (uint32_t i = 0; i < n; i++) total += lens[i];
    if (total > UINT32_MAX / 4) return we_errorf(err, WEMBED_STATUS_LIMIT, "added tokens: too much text");
    m->first = we_arena_calloc(arena, total, sizeof(uint32_t), 4);
    m->value = we_arena_calloc(arena, total, sizeof(uint32_t), 4);
    m->edges = we_arena_alloc(arena, total * sizeof(struct we_trie_edge), 4);
    if (!m->first || !m->value || !m->edges) return we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "added tokens: out of memory");
    m->n_nodes = 1;
    m->n_edges = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t node = 0;
        for (uint32_t k = 0; k < lens[i]; k++) {
            uint8_t b = (uint8_t)pats[i][k];
            uint32_t e = m->first[node];
            while (e && m->edges[e - 1].byte != b) e = m->edges[e - 1].next_sibling;
            if (!e) {
                m->edges[m->n_edges] = (struct we_trie_edge){ m->first[node], m->n_nodes, b };
                m->first[node] = ++m->n_edges;
                e = m->n_edges;
                m->n_nodes++;
            }
            node = m->edges[e - 1].child;
        }
        if (lens[i] && !m->value[node]) m->value[node] = i + 1;   // the first pattern wins a tie
    }
    return WEMBED_STATUS_OK;
}

// Longest pattern matching at s[i..n): its index + 1 and end, or 0.
static uint32_t match_at(const we_matcher *m, const uint8_t *s, uint32_t n, uint32_t i, uint32_t *end) {
    uint32_t node = 0, best = 0;
    for (uint32_t p = i; p < n; p++) {
        uint32_t e = m->first[node];
        while (e && m->edges[e - 1].byte != s[p]) e = m->edges[e - 1].next_sibling;
        if (!e) break;
        node = m->edges[e - 1].child;
        if (m->value[node]) { best = m->value[node]; *end = p + 1; }
    }
    return best;
}

static bool ends_with_word(const uint8_t *s, uint32_t end) {
    if (end == 0) return false;
    uint32_t p = end - 1;
    while (p > 0 && (s[p] & 0xC0) == 0x80) p--;
    uint32_t q = p;
    return we_is_rust_word(we_next_cp(s, end, &q));
}

static bool starts_with_word(const uint8_t *s, uint32_t n, uint32_t start) {
    if (start >= n) return false;
    return we_is_rust_word(we_next_cp(s, n, &start));
}

// -----------------------------------------------------------------------------------------

static wembed_status push_split(we_work *w, const we_nstr *ns, uint32_t a, uint32_t b, int32_t added) {
    we_nstr piece;
    if (!we_nstr_slice(ns, a, b, &piece))
        return we_errorf(w->err, WEMBED_STATUS_INTERNAL, "added tokens: bad split %u..%u", a, b);
    if (piece.len == 0) return WEMBED_STATUS_OK;
    if (!we_buf_reserve(&w->next, 1, sizeof(we_split))) return OOM(w);
    ((we_split *)w->next.p)[w->next.n++] = (we_split){ piece, added };
    return WEMBED_STATUS_OK;
}

// split_with_indices + find_matches over the normalized text of ns; appends to w->next.
static wembed_status split_on(we_tokenizer *tok, we_work *w, const we_nstr *ns, const we_matcher *mt,
                              const int32_t *pat_tok) {
    const uint8_t *s = ns->s;
    uint32_t n = ns->len, start_offset = 0, pos = 0;
    wembed_status rc;
    if (mt->n_nodes <= 1 || n == 0) return push_split(w, ns, 0, n, -1);
    while (pos < n) {
        uint32_t end = 0, pat = 0, i;
        for (i = pos; i < n; i++) {
            if (!mt->first[0]) break;
            if ((pat = match_at(mt, s, n, i, &end))) break;
        }
        if (!pat) break;
        pos = end;                   // find_iter resumes after the match, kept or not
        const we_added_token *at = &tok->added[pat_tok[pat - 1]];
        uint32_t start = i, stop = end;
        if (at->single_word) {
            bool start_space = start == 0 || !ends_with_word(s, start);
            bool stop_space = stop == n || !starts_with_word(s, n, stop);
            if (!stop_space || !start_space) continue;
        }
        if (at->lstrip) {
            uint32_t ns_ = start;        // start of the whitespace run before the match
            while (ns_ > 0) {
                uint32_t p = ns_ - 1;
                while (p > 0 && (s[p] & 0xC0) == 0x80) p--;
                uint32_t q = p;
                if (!we_uc_is_ws(we_next_cp(s, n, &q))) break;
                ns_ = p;
            }
            start = WE_MAX(ns_, start_offset);
        }
        if (at->rstrip) {
            while (stop < n) {
                uint32_t q = stop;
                if (!we_uc_is_ws(we_next_cp(s, n, &q))) break;
                stop = q;
            }
        }
        if (start_offset < start && (rc = push_split(w, ns, start_offset, start, -1))) return rc;
        if ((rc = push_split(w, ns, start, stop, pat_tok[pat - 1]))) return rc;
        start_offset = stop;
    }
    if (start_offset != n) return push_split(w, ns, start_offset, n, -1);
    return WEMBED_STATUS_OK;
}

wembed_status we_added_extract(we_tokenizer *tok, we_work *w, const uint8_t *text, uint32_t n) {
    we_nstr whole;
    wembed_status rc = we_nstr_init(w, &whole, text, n, 0);
    if (rc) return rc;
    // 1. Tokens with normalized=false, on the raw text.
    w->next.n = 0;
    if ((rc = split_on(tok, w, &whole, &tok->match_raw, tok->match_raw_tok))) return rc;
    we_buf t = w->cur;
    w->cur = w->next;
    w->next = t;
    // 2. Normalize the rest, then the tokens with normalized=true on the normalized text.
    w->next.n = 0;
    for (size_t i = 0; i < w->cur.n; i++) {
        we_split sp = ((we_split *)w->cur.p)[i];
        if (sp.added >= 0) {
            if (!we_buf_reserve(&w->next, 1, sizeof(we_split))) return OOM(w);
            ((we_split *)w->next.p)[w->next.n++] = sp;
            continue;
        }
        if (tok->normalizer && (rc = we_normalize(w, tok->normalizer, &sp.ns))) return rc;
        if ((rc = split_on(tok, w, &sp.ns, &tok->match_norm, tok->match_norm_tok))) return rc;
    }
    t = w->cur;
    w->cur = w->next;
    w->next = t;
    return WEMBED_STATUS_OK;
}
