// models.c - the tokenizer models: WordPiece, BPE, Unigram and WordLevel, each turning one
// pre-tokenized piece into tokens exactly as the Rust library's Model::tokenize does.
//
//   WordPiece: greedy longest-match-first with the continuing prefix; the whole word becomes
//              the unk token when any part is missing or it has more than
//              max_input_chars_per_word chars.
//   BPE:       merges by rank with a priority queue (Word::merge_all), end_of_word_suffix,
//              continuing_subword_prefix, byte_fallback, fuse_unk, ignore_merges. Dropout is
//              not applied (it is for training).
//   Unigram:   SentencePiece's Viterbi (encode_optimized) over f64 scores, the unknown-char
//              penalty of 10, fused unknowns, byte fallback.
#include <stdio.h>
#include <string.h>

#include "tok.h"

#define OOM(w) we_errorf((w)->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory")

static wembed_status push_tok(we_work *w, int32_t id, uint32_t s, uint32_t e, const char *val, uint32_t len) {
    if (!we_buf_reserve(&w->mtoks, 1, sizeof(we_mtok))) return OOM(w);
    ((we_mtok *)w->mtoks.p)[w->mtoks.n++] = (we_mtok){ id, s, e, val, len };
    return WEMBED_STATUS_OK;
}

bool we_model_token_id(const we_model *m, const char *s, size_t n, int32_t *id) {
    if (m->type != WE_MODEL_UNIGRAM) return we_strmap_get(&m->map, s, n, id);
    uint32_t v = we_trie_find(&m->trie, s, n);
    if (v) *id = (int32_t)v - 1;
    return v != 0;
}

static bool lookup(const we_model *m, const char *s, size_t n, int32_t *id) { return we_model_token_id(m, s, n, id); }

// -----------------------------------------------------------------------------------------
// WordPiece

static wembed_status wp_unk(we_work *w, const we_model *m, uint32_t n) {
    int32_t id;
    if (!m->unk || !lookup(m, m->unk, m->unk_len, &id))
        return we_errorf(w->err, WEMBED_STATUS_BAD_FORMAT, "WordPiece: the unk token is missing from the vocabulary");
    return push_tok(w, id, 0, n, m->unk, m->unk_len);
}

static wembed_status wordpiece(we_work *w, const we_model *m, const uint8_t *s, uint32_t n) {
    uint32_t chars = 0;
    for (uint32_t i = 0; i < n; i += we_lead_len(s[i])) chars++;
    if (chars > m->max_input_chars_per_word) return wp_unk(w, m, n);
    size_t first = w->mtoks.n;
    if (!we_buf_reserve(&w->scratch, (size_t)m->prefix_len + n + 1, 1)) return OOM(w);
    char *key = w->scratch.p;
    if (m->prefix_len) memcpy(key, m->prefix, m->prefix_len);
    uint32_t start = 0;
    while (start < n) {
        uint32_t plen = start > 0 ? m->prefix_len : 0;
        // Longer than the longest token cannot match: start at the last char boundary within it.
        uint32_t end = n;
        if (m->max_tok_bytes >= plen && end - start > m->max_tok_bytes - plen) {
            end = start + (m->max_tok_bytes - plen);
            while (end > start && (s[end] & 0xC0) == 0x80) end--;
        }
        bool found = false;
        while (start < end) {
            const char *k = (const char *)s + start;
            size_t kl = end - start;
            if (start > 0) {
                memcpy(key + plen, s + start, end - start);
                k = key;
                kl += plen;
            }
            int32_t id;
            if (lookup(m, k, kl, &id)) {
                wembed_status rc = push_tok(w, id, start, end, m->tok[id], m->tok_len[id]);
                if (rc) return rc;
                found = true;
                break;
            }
            // Back off by the last char.
            uint32_t e = end - 1;
            while (e > start && (s[e] & 0xC0) == 0x80) e--;
            end = e;
        }
        if (!found) {
            w->mtoks.n = first;
            return wp_unk(w, m, n);
        }
        start = end;
    }
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// BPE

typedef struct sym {
    int32_t c;                // token id
    int32_t prev, next;
    uint32_t len;             // bytes of the piece covered (0: merged away)
} sym;

typedef struct merge {
    uint32_t rank, pos;
    int32_t new_id;
} merge;

// Min-heap on (rank, pos): Rust's BinaryHeap with the reversed Ord of Merge.
static inline bool merge_less(merge a, merge b) { return a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos; }

static bool heap_push(we_buf *h, merge m) {
    if (!we_buf_reserve(h, 1, sizeof(merge))) return false;
    merge *a = h->p;
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!merge_less(m, a[p])) break;
        a[i] = a[p];
        i = p;
    }
    a[i] = m;
    return true;
}

static merge heap_pop(we_buf *h) {
    merge *a = h->p;
    merge top = a[0];
    merge last = a[--h->n];
    size_t i = 0, n = h->n;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        merge best = last;
        if (l < n && merge_less(a[l], best)) { m = l; best = a[l]; }
        if (r < n && merge_less(a[r], best)) { m = r; }
        if (m == i) break;
        a[i] = a[m];
        i = m;
    }
    if (n) a[i] = last;
    return top;
}

static wembed_status bpe(we_work *w, const we_model *m, const uint8_t *s, uint32_t n) {
    int32_t id;
    if (n == 0) return WEMBED_STATUS_OK;
    if (m->ignore_merges && lookup(m, (const char *)s, n, &id))
        return push_tok(w, id, 0, n, m->tok[id], m->tok_len[id]);

    // Symbols, one per char (or per byte with byte fallback), built in scratch.
    we_buf *sb = &w->scratch;
    sb->n = 0;
    if (!we_buf_reserve(sb, (size_t)n + 1, sizeof(sym))) return OOM(w);
    we_buf *kb = &w->scratch2;       // key: prefix + char + suffix
    if (!we_buf_reserve(kb, (size_t)m->prefix_len + 4 + m->suffix_len + 1, 1)) return OOM(w);
    char *key = kb->p;
    sym *sy = sb->p;
    uint32_t ns = 0;
    bool have_unk = false;
    int32_t unk_id = -1;
    uint32_t unk_len = 0;
#define ADD(cid, clen) do { sy[ns] = (sym){ (cid), (int32_t)ns - 1, (int32_t)ns + 1, (clen) }; ns++; } while (0)
    for (uint32_t i = 0; i < n;) {
        uint32_t l = we_lead_len(s[i]);
        bool is_first = i == 0, is_last = i + l >= n;
        size_t kl = 0;
        if (!is_first && m->prefix) { memcpy(key, m->prefix, m->prefix_len); kl = m->prefix_len; }
        memcpy(key + kl, s + i, l);
        kl += l;
        if (is_last && m->suffix) { memcpy(key + kl, m->suffix, m->suffix_len); kl += m->suffix_len; }
        if (lookup(m, key, kl, &id)) {
            if (have_unk) { ADD(unk_id, unk_len); have_unk = false; }
            ADD(id, l);
        } else {
            bool done = false;
            if (m->byte_fallback) {
                bool all = true;
                for (size_t k = 0; k < kl && all; k++) all = m->byte_ids[(uint8_t)key[k]] >= 0;
                if (all) {
                    if (!we_buf_reserve(sb, ns + kl + (n - i) + 1, sizeof(sym))) return OOM(w);
                    sy = sb->p;
                    for (size_t k = 0; k < kl; k++) ADD(m->byte_ids[(uint8_t)key[k]], 1);
                    done = true;
                }
            }
            if (!done && m->unk) {
                int32_t uid;
                if (!lookup(m, m->unk, m->unk_len, &uid))
                    return we_errorf(w->err, WEMBED_STATUS_BAD_FORMAT, "BPE: the unk token \"%.*s\" is not in the vocabulary",
                                     (int)WE_MIN(m->unk_len, 64u), m->unk);
                if (have_unk && m->fuse_unk) {
                    unk_len += l;
                } else {
                    if (have_unk) ADD(unk_id, unk_len);
                    have_unk = true;
                    unk_id = uid;
                    unk_len = l;
                }
            }
        }
        i += l;
    }
    if (have_unk) ADD(unk_id, unk_len);
#undef ADD
    if (ns == 0) return WEMBED_STATUS_OK;
    sy[ns - 1].next = -1;

    // merge_all
    we_buf *hb = &w->re_threads;        // free while the model runs
    hb->n = 0;
    uint32_t rank, nid;
    for (uint32_t i = 0; i + 1 < ns; i++) {
        if (we_pairmap_get(&m->merges, (uint32_t)sy[i].c, (uint32_t)sy[i + 1].c, &rank, &nid))
            if (!heap_push(hb, (merge){ rank, i, (int32_t)nid })) return OOM(w);
    }
    while (hb->n) {
        merge top = heap_pop(hb);
        sym *cur = &sy[top.pos];
        if (cur->len == 0 || cur->next == -1) continue;
        int32_t next_pos = cur->next;
        sym right = sy[next_pos];
        if (!we_pairmap_get(&m->merges, (uint32_t)cur->c, (uint32_t)right.c, &rank, &nid) || (int32_t)nid != top.new_id)
            continue;
        cur->c = top.new_id;
        cur->len += right.len;
        cur->next = right.next;
        sy[next_pos].len = 0;
        if (right.next > -1 && (uint32_t)right.next < ns) sy[right.next].prev = (int32_t)top.pos;
        if (cur->prev >= 0) {
            sym *p = &sy[cur->prev];
            if (we_pairmap_get(&m->merges, (uint32_t)p->c, (uint32_t)cur->c, &rank, &nid))
                if (!heap_push(hb, (merge){ rank, (uint32_t)cur->prev, (int32_t)nid })) return OOM(w);
        }
        if (cur->next >= 0 && (uint32_t)cur->next < ns) {
            sym *q = &sy[cur->next];
            if (we_pairmap_get(&m->merges, (uint32_t)cur->c, (uint32_t)q->c, &rank, &nid))
                if (!heap_push(hb, (merge){ rank, top.pos, (int32_t)nid })) return OOM(w);
        }
    }
    uint32_t off = 0;
    for (uint32_t i = 0; i < ns; i++) {
        if (sy[i].len == 0) continue;
        int32_t t = sy[i].c;
        const char *v = (t >= 0 && (uint32_t)t < m->n_tok) ? m->tok[t] : NULL;
        wembed_status rc = push_tok(w, t, off, off + sy[i].len, v ? v : "", v ? m->tok_len[t] : 0);
        if (rc) return rc;
        off += sy[i].len;
    }
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Unigram

typedef struct best {
    double score;
    int32_t id;
    int32_t starts_at;        // -1: none
} best;

#define K_UNK_PENALTY 10.0

static wembed_status unigram(we_work *w, const we_model *m, const uint8_t *s, uint32_t n) {
    if (n == 0) return WEMBED_STATUS_OK;
    we_buf *bb = &w->scratch;
    bb->n = 0;
    if (!we_buf_reserve(bb, (size_t)n + 1, sizeof(best))) return OOM(w);
    best *b = bb->p;
    for (uint32_t i = 0; i <= n; i++) b[i] = (best){ 0.0, 0, -1 };
    double unk_score = m->min_score - K_UNK_PENALTY;
    for (uint32_t at = 0; at < n;) {
        double here = b[at].score;
        uint32_t mblen = we_lead_len(s[at]);
        if (mblen > n - at) mblen = n - at;
        bool single = false;
        // common_prefix_search over the byte trie
        uint32_t node = 0;
        for (uint32_t p = at; p < n; p++) {
            if (!(node = we_trie_child(&m->trie, node, s[p]))) break;
            int32_t id = (int32_t)m->trie.value[node] - 1;
            if (id < 0) continue;
            uint32_t key_pos = p + 1;
            double cand = m->score[id] + here;
            best *t = &b[key_pos];
            if (t->starts_at < 0 || cand > t->score) { t->score = cand; t->starts_at = (int32_t)at; t->id = id; }
            if (!single && key_pos - at == mblen) single = true;
        }
        if (!single) {
            if (m->unk_id < 0) return we_errorf(w->err, WEMBED_STATUS_BAD_FORMAT, "Unigram: no unk_id for an unknown character");
            best *t = &b[at + mblen];
            double cand = unk_score + here;
            if (t->starts_at < 0 || cand > t->score) { t->score = cand; t->starts_at = (int32_t)at; t->id = m->unk_id; }
        }
        at += mblen;
    }
    // Back from the end: pieces in reverse, consecutive unknowns fused.
    we_buf *rb = &w->scratch2;      // (start, end) pairs, reversed
    rb->n = 0;
    uint32_t end = n, fuse_end = 0;
    bool fusing = false;
    while (end > 0) {
        const best *nd = &b[end];
        if (nd->starts_at < 0) return we_errorf(w->err, WEMBED_STATUS_INTERNAL, "Unigram: broken lattice");
        uint32_t st = (uint32_t)nd->starts_at;
        if (m->fuse_unk && m->unk_id >= 0 && nd->id == m->unk_id) {
            if (!fusing) { fusing = true; fuse_end = end; }
        } else {
            if (fusing) {
                if (!we_buf_reserve(rb, 2, sizeof(uint32_t))) return OOM(w);
                ((uint32_t *)rb->p)[rb->n++] = end;
                ((uint32_t *)rb->p)[rb->n++] = fuse_end;
                fusing = false;
            }
            if (!we_buf_reserve(rb, 2, sizeof(uint32_t))) return OOM(w);
            ((uint32_t *)rb->p)[rb->n++] = st;
            ((uint32_t *)rb->p)[rb->n++] = end;
        }
        end = st;
    }
    if (fusing) {
        if (!we_buf_reserve(rb, 2, sizeof(uint32_t))) return OOM(w);
        ((uint32_t *)rb->p)[rb->n++] = 0;
        ((uint32_t *)rb->p)[rb->n++] = fuse_end;
    }
    const uint32_t *r = rb->p;
    for (size_t k = rb->n; k >= 2; k -= 2) {
        uint32_t ps = r[k - 2], pe = r[k - 1];
        int32_t id;
        wembed_status rc;
        if (lookup(m, (const char *)s + ps, pe - ps, &id)) {
            rc = push_tok(w, id, ps, pe, (const char *)s + ps, pe - ps);
        } else {
            bool done = false;
            if (m->byte_fallback) {
                bool all = true;
                for (uint32_t q = ps; q < pe && all; q++) all = m->byte_ids[s[q]] >= 0;
                if (all) {
                    for (uint32_t q = ps; q < pe; q++) {
                        int32_t bid = m->byte_ids[s[q]];
                        if ((rc = push_tok(w, bid, ps, pe, m->tok[bid], m->tok_len[bid]))) return rc;
                    }
                    done = true;
                }
            }
            if (done) continue;
            if (m->unk_id < 0) return we_errorf(w->err, WEMBED_STATUS_BAD_FORMAT, "Unigram: no unk_id for an unknown piece");
            rc = push_tok(w, m->unk_id, ps, pe, (const char *)s + ps, pe - ps);
        }
        if (rc) return rc;
    }
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------

static wembed_status wordlevel(we_work *w, const we_model *m, const uint8_t *s, uint32_t n) {
    int32_t id;
    if (lookup(m, (const char *)s, n, &id)) return push_tok(w, id, 0, n, (const char *)s, n);
    if (m->unk && lookup(m, m->unk, m->unk_len, &id)) return push_tok(w, id, 0, n, m->unk, m->unk_len);
    return we_errorf(w->err, WEMBED_STATUS_BAD_FORMAT, "WordLevel: the unk token is missing from the vocabulary");
}

// -----------------------------------------------------------------------------------------
// A cache of pieces already tokenized (words repeat; the result depends on the piece only),
// as the Rust BPE keeps one. Cleared when full.

#define CACHE_MAX_ENTRIES 8192
#define CACHE_MAX_PIECE 128

typedef struct cache_tok {
    int32_t id;
    uint16_t s, e;
    uint8_t val_is_piece;     // token text: the piece's bytes [s, e) (else the vocabulary's)
} cache_tok;

struct we_cache_entry {
    uint32_t hash, key_off, key_len, tok_off, n_tok;
};

static uint32_t hash_piece(const uint8_t *s, uint32_t n) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++) { h ^= s[i]; h *= 16777619u; }
    return h ? h : 1;
}

static void cache_clear(we_cache *c) {
    if (c->slots) memset(c->slots, 0, (size_t)c->cap * sizeof(uint32_t));
    c->n = 0;
    c->keys.n = c->toks.n = 0;
}

void we_cache_free(we_cache *c) {
    we_free(c->slots);
    we_free(c->ents);
    we_buf_free(&c->keys);
    we_buf_free(&c->toks);
    memset(c, 0, sizeof *c);
}

static const struct we_cache_entry *cache_find(const we_cache *c, const uint8_t *s, uint32_t n, uint32_t h) {
    if (!c->cap) return NULL;
    for (uint32_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        uint32_t k = c->slots[i];
        if (!k) return NULL;
        const struct we_cache_entry *e = &c->ents[k - 1];
        if (e->hash == h && e->key_len == n && memcmp((const uint8_t *)c->keys.p + e->key_off, s, n) == 0) return e;
    }
}

// Stores the tokens w->mtoks[first..] of piece s (best effort: failures only skip caching).
static void cache_put(we_cache *c, const we_model *m, const uint8_t *s, uint32_t n, uint32_t h, size_t first, we_work *w) {
    if (!c->cap) {
        c->slots = we_calloc(2 * CACHE_MAX_ENTRIES, sizeof(uint32_t));
        c->ents = we_malloc(CACHE_MAX_ENTRIES * sizeof(struct we_cache_entry));
        if (!c->slots || !c->ents) { we_free(c->slots); we_free(c->ents); c->slots = NULL; c->ents = NULL; return; }
        c->cap = 2 * CACHE_MAX_ENTRIES;
    }
    if (c->n >= CACHE_MAX_ENTRIES) cache_clear(c);
    size_t nt = w->mtoks.n - first;
    if (!we_buf_reserve(&c->keys, n, 1) || !we_buf_reserve(&c->toks, nt, sizeof(cache_tok))) return;
    const we_mtok *mt = (const we_mtok *)w->mtoks.p + first;
    cache_tok *ct = (cache_tok *)c->toks.p + c->toks.n;
    for (size_t k = 0; k < nt; k++) {
        bool is_piece = mt[k].val == (const char *)s + mt[k].s && mt[k].val_len == mt[k].e - mt[k].s;
        bool is_vocab = mt[k].id >= 0 && (uint32_t)mt[k].id < m->n_tok && mt[k].val == m->tok[mt[k].id];
        if (!is_piece && !is_vocab) return;      // some other text (an unk string): not cached
        ct[k] = (cache_tok){ mt[k].id, (uint16_t)mt[k].s, (uint16_t)mt[k].e, is_piece };
    }
    struct we_cache_entry *e = &c->ents[c->n];
    *e = (struct we_cache_entry){ h, (uint32_t)c->keys.n, n, (uint32_t)c->toks.n, (uint32_t)nt };
    memcpy((uint8_t *)c->keys.p + c->keys.n, s, n);
    c->keys.n += n;
    c->toks.n += nt;
    uint32_t i = h & (c->cap - 1);
    while (c->slots[i]) i = (i + 1) & (c->cap - 1);
    c->slots[i] = ++c->n;
}

static wembed_status run_model(we_work *w, const we_model *m, const uint8_t *s, uint32_t n) {
    switch (m->type) {
    case WE_MODEL_WORDPIECE: return wordpiece(w, m, s, n);
    case WE_MODEL_BPE: return bpe(w, m, s, n);
    case WE_MODEL_UNIGRAM: return unigram(w, m, s, n);
    case WE_MODEL_WORDLEVEL: return wordlevel(w, m, s, n);
    }
    return we_errorf(w->err, WEMBED_STATUS_INTERNAL, "tokenizer: unknown model %d", (int)m->type);
}

wembed_status we_model_tokenize(we_work *w, const we_model *m, const uint8_t *s, uint32_t n) {
    if (n == 0 || n > CACHE_MAX_PIECE || m->type == WE_MODEL_WORDLEVEL) return run_model(w, m, s, n);
    uint32_t h = hash_piece(s, n);
    const struct we_cache_entry *e = cache_find(&w->cache, s, n, h);
    if (e) {
        if (!we_buf_reserve(&w->mtoks, e->n_tok, sizeof(we_mtok))) return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
        const cache_tok *ct = (const cache_tok *)w->cache.toks.p + e->tok_off;
        we_mtok *mt = (we_mtok *)w->mtoks.p + w->mtoks.n;
        for (uint32_t k = 0; k < e->n_tok; k++) {
            const char *v = ct[k].val_is_piece ? (const char *)s + ct[k].s : m->tok[ct[k].id];
            uint32_t vl = ct[k].val_is_piece ? (uint32_t)(ct[k].e - ct[k].s) : m->tok_len[ct[k].id];
            mt[k] = (we_mtok){ ct[k].id, ct[k].s, ct[k].e, v, vl };
        }
        w->mtoks.n += e->n_tok;
        return WEMBED_STATUS_OK;
    }
    size_t first = w->mtoks.n;
    wembed_status rc = run_model(w, m, s, n);
    if (rc == WEMBED_STATUS_OK) cache_put(&w->cache, m, s, n, h, first, w);
    return rc;
}
