// nstr.c - normalized strings with alignments (Rust tokenizers' NormalizedString), split
// patterns, and the small hash maps the tokenizer uses.
//
// The alignment rules are the Rust library's, including its corner cases (a transform over a
// string whose first char has an empty alignment, empty slices, offsets of empty tokens): the
// ids and offsets must come out identical, so nothing here is "fixed".
#include <string.h>

#include "tok.h"

// -----------------------------------------------------------------------------------------
// Buffers

bool we_buf_grow(we_buf *b, size_t more, size_t size) {
    // The capacity is kept in bytes, so one buffer may serve elements of different sizes
    // (callers reset n when they start using it).
    size_t need;
    if (more > SIZE_MAX - b->n || !we_mul_size(b->n + more, size, &need)) return false;
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return false;
        cap *= 2;
    }
    void *p = we_realloc(b->p, cap);
    if (!p) return false;
    b->p = p;
    b->cap = cap;
    return true;
}

void we_buf_free(we_buf *b) {
    we_free(b->p);
    memset(b, 0, sizeof *b);
}

struct we_bump_chunk {
    we_bump_chunk *next;
    size_t cap, off;
    unsigned char data[];
};

void *we_bump_alloc(we_bump *b, size_t n, size_t align) {
    we_bump_chunk *c = b->head;
    if (c) {
        uintptr_t base = (uintptr_t)c->data;
        size_t off = (size_t)(((base + c->off + align - 1) & ~(uintptr_t)(align - 1)) - base);
        if (off <= c->cap && n <= c->cap - off) {
            c->off = off + n;
            return c->data + off;
        }
    }
    size_t cap = c ? c->cap * 2 : (size_t)64 << 10;
    if (n > SIZE_MAX - 64 - sizeof(we_bump_chunk)) return NULL;
    if (cap < n + 64) cap = n + 64;
    we_bump_chunk *nc = we_malloc(sizeof(we_bump_chunk) + cap);
    if (!nc) return NULL;
    nc->cap = cap;
    nc->next = c;
    b->head = nc;
    uintptr_t base = (uintptr_t)nc->data;
    size_t off = (size_t)(((base + align - 1) & ~(uintptr_t)(align - 1)) - base);
    nc->off = off + n;
    return nc->data + off;
}

void we_bump_reset(we_bump *b, size_t keep_bytes) {
    we_bump_chunk *c = b->head, *keep = NULL;
    if (c && c->cap <= keep_bytes) {
        keep = c;
        c = c->next;
        keep->next = NULL;
        keep->off = 0;
    }
    while (c) {
        we_bump_chunk *next = c->next;
        we_free(c);
        c = next;
    }
    b->head = keep;
}

bool we_tx_grow(we_work *w) {
    return we_buf_reserve(&w->tx, 64, sizeof(we_tchar));
}

// -----------------------------------------------------------------------------------------
// Normalized strings

static inline we_align al_at(const we_nstr *ns, uint32_t i) {
    we_align a = ns->al[i];
    a.s -= ns->base;
    a.e -= ns->base;
    return a;
}

wembed_status we_nstr_init(we_work *w, we_nstr *ns, const uint8_t *text, uint32_t n, uint32_t shift) {
    uint8_t *s = we_bump_alloc(&w->mem, n ? n : 1, 1);
    we_align *al = we_bump_alloc(&w->mem, (size_t)(n ? n : 1) * sizeof(we_align), 4);
    if (!s || !al) return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
    memcpy(s, text, n);
    for (uint32_t i = 0; i < n;) {
        uint32_t l = we_lead_len(text[i]);
        if (l > n - i) l = n - i;
        for (uint32_t k = 0; k < l; k++) al[i + k] = (we_align){ i, i + l };
        i += l;
    }
    ns->s = s;
    ns->al = al;
    ns->len = n;
    ns->base = 0;
    ns->orig_shift = shift;
    ns->orig_len = n;
    return WEMBED_STATUS_OK;
}

bool we_nstr_orig_range(const we_nstr *ns, uint32_t a, uint32_t b, uint32_t *os, uint32_t *oe) {
    if (a == b) { *os = a; *oe = a; return true; }    // Rust returns the target itself
    if (a > b || b > ns->len) return false;
    // (an empty normalized string was handled by a == b above)
    *os = al_at(ns, a).s;
    *oe = al_at(ns, b - 1).e;
    return true;
}

// convert_offsets(Range::Original(0..orig_len)): the normalized range a whole-string transform
// rewrites. It skips leading chars whose alignment is empty, as the Rust code does.
static bool full_original_range(const we_nstr *ns, uint32_t *na, uint32_t *nb) {
    if (ns->orig_len == 0) { *na = *nb = 0; return true; }
    bool have_start = false, have_end = false;
    uint32_t start = 0, end = 0;
    for (uint32_t i = 0; i < ns->len; i++) {
        we_align a = al_at(ns, i);
        if (a.e > ns->orig_len) break;
        if (!have_start && a.s != a.e) { start = i; have_start = true; }
        end = i + 1;
        have_end = true;
    }
    if (have_start && have_end) { *na = start; *nb = end; return true; }
    if (have_end) { *na = *nb = end; return true; }
    return false;
}

static inline int put_utf8(uint8_t *o, uint32_t c) {
    if (c < 0x80) { o[0] = (uint8_t)c; return 1; }
    if (c < 0x800) { o[0] = (uint8_t)(0xC0 | (c >> 6)); o[1] = (uint8_t)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (c >> 12)); o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F)); o[2] = (uint8_t)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (c >> 18)); o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F)); o[3] = (uint8_t)(0x80 | (c & 0x3F));
    return 4;
}

wembed_status we_nstr_transform_range(we_work *w, we_nstr *ns, uint32_t a, uint32_t b,
                                      uint32_t initial_offset) {
    const we_tchar *tx = w->tx.p;
    size_t n_tx = w->tx.n;
    if (a > b || b > ns->len) return WEMBED_STATUS_OK;
    // The exact size first, so the result is written once, straight into its arrays.
    size_t on = 0;
    for (size_t t = 0; t < n_tx; t++) on += we_cp_len(tx[t].c);
    size_t new_len = (size_t)ns->len - (b - a) + on;
    if (new_len > UINT32_MAX - 8) return we_errorf(w->err, WEMBED_STATUS_TOO_LONG, "tokenizer: text too long");
    uint8_t *s = we_bump_alloc(&w->mem, new_len ? new_len : 1, 1);
    we_align *nal = we_bump_alloc(&w->mem, (new_len ? new_len : 1) * sizeof(we_align), 4);
    if (!s || !nal) return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
    uint32_t base = ns->base;
    memcpy(s, ns->s, a);
    for (uint32_t i = 0; i < a; i++) nal[i] = (we_align){ ns->al[i].s - base, ns->al[i].e - base };

    uint8_t *os = s + a;
    we_align *oal = nal + a;
    uint32_t off = a;
    for (uint32_t k = 0; k < initial_offset && off < b; k++) off += we_lead_len(ns->s[off]);
    for (size_t t = 0; t < n_tx; t++) {
        uint32_t c = tx[t].c;
        int32_t change = tx[t].change;
        we_align al;
        if (change > 0) {
            al = off < 1 ? (we_align){ 0, 0 } : al_at(ns, off - 1);
        } else {
            // Rust indexes alignments[offset] (a panic past the end; never reached in practice)
            al = off < ns->len ? al_at(ns, off) : off > 0 ? al_at(ns, off - 1) : (we_align){ 0, 0 };
            if (off < b) off += we_lead_len(ns->s[off]);
            for (int32_t r = 0; r < -change && off < b; r++) off += we_lead_len(ns->s[off]);
        }
        int l = put_utf8(os, c);
        for (int k = 0; k < l; k++) oal[k] = al;
        os += l;
        oal += l;
    }
    memcpy(os, ns->s + b, ns->len - b);
    for (uint32_t i = b; i < ns->len; i++, oal++) *oal = (we_align){ ns->al[i].s - base, ns->al[i].e - base };
    ns->s = s;
    ns->al = nal;
    ns->len = (uint32_t)new_len;
    ns->base = 0;
    return WEMBED_STATUS_OK;
}

wembed_status we_nstr_transform(we_work *w, we_nstr *ns, uint32_t initial_offset) {
    uint32_t a, b;
    if (!full_original_range(ns, &a, &b)) return WEMBED_STATUS_OK;
    return we_nstr_transform_range(w, ns, a, b, initial_offset);
}

static bool is_boundary(const we_nstr *ns, uint32_t i) {
    return i == 0 || i == ns->len || (i < ns->len && (ns->s[i] & 0xC0) != 0x80);
}

bool we_nstr_slice(const we_nstr *ns, uint32_t a, uint32_t b, we_nstr *out) {
    if (a > ns->len || b > ns->len || !is_boundary(ns, a) || !is_boundary(ns, b)) return false;
    uint32_t os, oe;
    if (!we_nstr_orig_range(ns, a, b, &os, &oe)) return false;
    out->s = ns->s + a;
    out->al = ns->al + a;
    out->len = b > a ? b - a : 0;
    out->base = ns->base + os;
    out->orig_shift = ns->orig_shift + os;
    // Rust: original = self.original.get(original_range).unwrap_or_default()
    out->orig_len = (oe >= os && oe <= ns->orig_len) ? oe - os : 0;
    return true;
}

// -----------------------------------------------------------------------------------------
// Splitting

static wembed_status push_match(we_work *w, uint32_t s, uint32_t e, bool m) {
    if (!we_buf_reserve(&w->matches, 1, sizeof(we_match)))
        return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
    ((we_match *)w->matches.p)[w->matches.n++] = (we_match){ s, e, m };
    return WEMBED_STATUS_OK;
}

wembed_status we_find_char_matches(we_work *w, const uint8_t *s, uint32_t n, we_char_pred pred,
                                   const void *ctx) {
    w->matches.n = 0;
    if (n == 0) return push_match(w, 0, 0, false);
    uint32_t last_offset = 0, i = 0;
    wembed_status rc;
    while (i < n) {
        uint32_t b = i;
        uint32_t c = we_next_cp(s, n, &i);
        if (pred(c, ctx)) {
            if (last_offset < b && (rc = push_match(w, last_offset, b, false))) return rc;
            if ((rc = push_match(w, b, i, true))) return rc;
            last_offset = i;
        }
    }
    if (n > last_offset) return push_match(w, last_offset, n, false);
    return WEMBED_STATUS_OK;
}

static wembed_status push_split(we_work *w, const we_nstr *ns, uint32_t a, uint32_t b) {
    we_nstr piece;
    if (!we_nstr_slice(ns, a, b, &piece))
        return we_errorf(w->err, WEMBED_STATUS_INTERNAL, "tokenizer: bad split %u..%u", a, b);
    if (piece.len == 0) return WEMBED_STATUS_OK;      // PreTokenizedString::split drops these
    if (!we_buf_reserve(&w->next, 1, sizeof(we_split)))
        return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
    we_split *sp = (we_split *)w->next.p + w->next.n++;
    sp->ns = piece;
    sp->added = -1;
    return WEMBED_STATUS_OK;
}

wembed_status we_nstr_split(we_work *w, const we_nstr *ns, we_split_behavior behavior) {
    we_match *m = w->matches.p;
    size_t n = w->matches.n, k = 0;
    wembed_status rc;
    // Each case rewrites the list in place into (range, remove) entries, as Rust's fold does.
    switch (behavior) {
    case WE_SPLIT_ISOLATED:
        for (size_t i = 0; i < n; i++) m[i].is_match = false;
        k = n;
        break;
    case WE_SPLIT_REMOVED:
        k = n;
        break;
    case WE_SPLIT_CONTIGUOUS: {
        bool prev = false;
        for (size_t i = 0; i < n; i++) {
            bool is_m = m[i].is_match;
            if (is_m == prev && k > 0) m[k - 1].e = m[i].e;
            else m[k++] = (we_match){ m[i].s, m[i].e, false };
            prev = is_m;
        }
        break;
    }
    case WE_SPLIT_MERGED_WITH_PREVIOUS: {
        bool prev = false;
        for (size_t i = 0; i < n; i++) {
            bool is_m = m[i].is_match;
            if (is_m && !prev && k > 0) m[k - 1].e = m[i].e;
            else m[k++] = (we_match){ m[i].s, m[i].e, false };
            prev = is_m;
        }
        break;
    }
    case WE_SPLIT_MERGED_WITH_NEXT: {
        // Folded from the end, then reversed: done here from the end into the tail.
        bool prev = false;
        size_t out = n;
        for (size_t i = n; i-- > 0;) {
            bool is_m = m[i].is_match;
            if (is_m && !prev && out < n) m[out].s = m[i].s;
            else m[--out] = (we_match){ m[i].s, m[i].e, false };
            prev = is_m;
        }
        for (size_t i = out; i < n; i++) {
            if ((rc = push_split(w, ns, m[i].s, m[i].e))) return rc;
        }
        return WEMBED_STATUS_OK;
    }
    }
    for (size_t i = 0; i < k; i++) {
        if (m[i].is_match) continue;       // removed
        if ((rc = push_split(w, ns, m[i].s, m[i].e))) return rc;
    }
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Hash maps (open addressing, FNV-1a / a 64-bit mix)

static uint32_t hash_bytes(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) { h ^= (uint8_t)s[i]; h *= 16777619u; }
    return h;
}

// The slots to cap (a power of two), the items re-hashed.
static bool strmap_rehash(we_strmap *m, uint32_t cap) {
    uint32_t *slots = we_calloc(cap, sizeof(uint32_t));
    if (!slots) return false;
    for (uint32_t i = 0; i < m->n; i++) {
        uint32_t h = hash_bytes(m->keys[i], m->klens[i]) & (cap - 1);
        while (slots[h]) h = (h + 1) & (cap - 1);
        slots[h] = i + 1;
    }
    we_free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return true;
}

static bool strmap_items(we_strmap *m, uint32_t c) {
    const char **k = we_realloc((void *)m->keys, (size_t)c * sizeof *k);
    if (!k) return false;
    m->keys = k;
    uint32_t *l = we_realloc(m->klens, (size_t)c * sizeof *l);
    if (!l) return false;
    m->klens = l;
    int32_t *v = we_realloc(m->vals, (size_t)c * sizeof *v);
    if (!v) return false;
    m->vals = v;
    m->cap_items = c;
    return true;
}

// The smallest power of two >= 2 n (at least 64): the slots for n keys at most half full.
static uint32_t slots_for(uint32_t n) {
    uint32_t cap = 64;
    while (cap < UINT32_MAX / 2 && (uint64_t)n * 2 > cap) cap *= 2;
    return cap;
}

wembed_status we_strmap_reserve(we_strmap *m, uint32_t n) {
    if (n > UINT32_MAX / 4) return WEMBED_STATUS_ALLOC_FAILED;
    if (slots_for(n) > m->cap && !strmap_rehash(m, slots_for(n))) return WEMBED_STATUS_ALLOC_FAILED;
    if (n > m->cap_items && !strmap_items(m, n)) return WEMBED_STATUS_ALLOC_FAILED;
    return WEMBED_STATUS_OK;
}

wembed_status we_strmap_put(we_strmap *m, const char *key, uint32_t klen, int32_t val) {
    if ((m->n + 1) * 2 > m->cap && !strmap_rehash(m, m->cap ? m->cap * 2 : 64)) return WEMBED_STATUS_ALLOC_FAILED;
    uint32_t h = hash_bytes(key, klen) & (m->cap - 1);
    while (m->slots[h]) {
        uint32_t i = m->slots[h] - 1;
        if (m->klens[i] == klen && memcmp(m->keys[i], key, klen) == 0) { m->vals[i] = val; return WEMBED_STATUS_OK; }
        h = (h + 1) & (m->cap - 1);
    }
    if (m->n == m->cap_items && !strmap_items(m, m->cap_items ? m->cap_items * 2 : 64)) return WEMBED_STATUS_ALLOC_FAILED;
    m->keys[m->n] = key;
    m->klens[m->n] = klen;
    m->vals[m->n] = val;
    m->slots[h] = ++m->n;
    return WEMBED_STATUS_OK;
}

bool we_strmap_get(const we_strmap *m, const char *key, size_t klen, int32_t *val) {
    if (!m->cap) return false;
    uint32_t h = hash_bytes(key, klen) & (m->cap - 1);
    while (m->slots[h]) {
        uint32_t i = m->slots[h] - 1;
        if (m->klens[i] == klen && memcmp(m->keys[i], key, klen) == 0) { *val = m->vals[i]; return true; }
        h = (h + 1) & (m->cap - 1);
    }
    return false;
}

void we_strmap_free(we_strmap *m) {
    we_free(m->slots);
    we_free((void *)m->keys);
    we_free(m->klens);
    we_free(m->vals);
    memset(m, 0, sizeof *m);
}

static uint32_t hash_u64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return (uint32_t)x;
}

static bool pairmap_rehash(we_pairmap *m, uint32_t cap) {
    uint64_t *keys = we_calloc(cap, sizeof(uint64_t));
    uint32_t *rank = we_malloc((size_t)cap * sizeof(uint32_t));
    uint32_t *id = we_malloc((size_t)cap * sizeof(uint32_t));
    if (!keys || !rank || !id) { we_free(keys); we_free(rank); we_free(id); return false; }
    for (uint32_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        uint32_t h = hash_u64(m->keys[i]) & (cap - 1);
        while (keys[h]) h = (h + 1) & (cap - 1);
        keys[h] = m->keys[i];
        rank[h] = m->rank[i];
        id[h] = m->id[i];
    }
    we_free(m->keys); we_free(m->rank); we_free(m->id);
    m->keys = keys; m->rank = rank; m->id = id;
    m->cap = cap;
    return true;
}

wembed_status we_pairmap_reserve(we_pairmap *m, uint32_t n) {
    if (n > UINT32_MAX / 4) return WEMBED_STATUS_ALLOC_FAILED;
    if (slots_for(n) > m->cap && !pairmap_rehash(m, slots_for(n))) return WEMBED_STATUS_ALLOC_FAILED;
    return WEMBED_STATUS_OK;
}

wembed_status we_pairmap_put(we_pairmap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t id) {
    if ((m->n + 1) * 2 > m->cap && !pairmap_rehash(m, m->cap ? m->cap * 2 : 64)) return WEMBED_STATUS_ALLOC_FAILED;
    uint64_t key = (((uint64_t)a << 32) | b) + 1;
    uint32_t h = hash_u64(key) & (m->cap - 1);
    while (m->keys[h] && m->keys[h] != key) h = (h + 1) & (m->cap - 1);
    if (!m->keys[h]) m->n++;
    m->keys[h] = key;
    m->rank[h] = rank;
    m->id[h] = id;
    return WEMBED_STATUS_OK;
}

bool we_pairmap_get(const we_pairmap *m, uint32_t a, uint32_t b, uint32_t *rank, uint32_t *id) {
    if (!m->cap) return false;
    uint64_t key = (((uint64_t)a << 32) | b) + 1;
    uint32_t h = hash_u64(key) & (m->cap - 1);
    while (m->keys[h]) {
        if (m->keys[h] == key) { *rank = m->rank[h]; *id = m->id[h]; return true; }
        h = (h + 1) & (m->cap - 1);
    }
    return false;
}

void we_pairmap_free(we_pairmap *m) {
    we_free(m->keys); we_free(m->rank); we_free(m->id);
    memset(m, 0, sizeof *m);
}

// -----------------------------------------------------------------------------------------
// Byte tries

// The sort key of key k at a node of depth d: 0 when k ends there, else 1 + its next byte.
static inline uint32_t trie_key(const char *const *keys, const uint32_t *lens, uint32_t k, uint32_t d) {
    return lens[k] == d ? 0 : 1 + (uint8_t)keys[k][d];
}

typedef struct trie_builder {
    const char *const *keys;
    const uint32_t *lens;
    uint32_t *order, *sorted; // (n) key indices: order[lo[x]..hi[x]) are node x's keys; a sort buffer
    uint16_t *key;            // (n) trie_key of order[i] at the node being expanded
    uint32_t *lo, *hi;        // (cap) per node, until it is expanded
    uint32_t *first, *value;  // (cap) as in we_trie
    uint8_t *label;           // (cap)
    size_t n_nodes, cap, max_nodes;
} trie_builder;

static bool trie_grow(trie_builder *b, size_t need) {
    size_t c = WE_MIN(WE_MAX(b->cap + b->cap / 2, need), b->max_nodes);
    uint32_t **arrays[] = { &b->lo, &b->hi, &b->first, &b->value };
    for (size_t i = 0; i < WE_ARRAY_LEN(arrays); i++) {
        uint32_t *g = we_realloc(*arrays[i], c * sizeof(uint32_t));
        if (!g) return false;
        *arrays[i] = g;
    }
    uint8_t *g = we_realloc(b->label, c);
    if (!g) return false;
    b->label = g;
    b->cap = c;
    return true;
}

// Expands node x of depth d: sorts its keys by their byte at depth d (stably, keys ending there
// first), takes the last key ending there as its value and appends a child per run of one byte.
// A function of its own, called once a node: in wasm, V8 first runs code in its baseline tier
// and swaps in optimized code only at a call, so the hot loop of a one-call build would run
// unoptimized to the end.
static WE_NOINLINE bool trie_expand(trie_builder *b, size_t x, uint32_t d) {
    uint32_t lo = b->lo[x], hi = b->hi[x];
    b->first[x] = (uint32_t)b->n_nodes;
    b->value[x] = 0;
    // At most one child per key: make room for them all now.
    if (b->n_nodes + (hi - lo) > b->cap && !trie_grow(b, b->n_nodes + (hi - lo))) return false;
    uint32_t *order = b->order;
    uint16_t *key = b->key;
    for (uint32_t i = lo; i < hi; i++) key[i] = (uint16_t)trie_key(b->keys, b->lens, order[i], d);
    if (hi - lo > 32) {   // counting sort into `sorted`, then back
        uint32_t count[258] = { 0 };
        for (uint32_t i = lo; i < hi; i++) count[key[i] + 1]++;
        for (int k = 1; k < 258; k++) count[k] += count[k - 1];
        for (uint32_t i = lo; i < hi; i++) b->sorted[lo + count[key[i]]++] = order[i];
        for (uint32_t i = lo; i < hi; i++) key[i] = (uint16_t)trie_key(b->keys, b->lens, order[i] = b->sorted[i], d);
    } else {              // insertion sort (stable)
        for (uint32_t i = lo + 1; i < hi; i++) {
            uint32_t o = order[i], j = i;
            uint16_t kk = key[i];
            for (; j > lo && key[j - 1] > kk; j--) { key[j] = key[j - 1]; order[j] = order[j - 1]; }
            key[j] = kk;
            order[j] = o;
        }
    }
    uint32_t i = lo;
    for (; i < hi && key[i] == 0; i++) b->value[x] = order[i] + 1;   // the last one wins
    while (i < hi) {
        uint32_t j = i + 1;
        while (j < hi && key[j] == key[i]) j++;
        size_t c = b->n_nodes++;
        b->lo[c] = i;
        b->hi[c] = j;
        b->label[c] = (uint8_t)(key[i] - 1);
        i = j;
    }
    return true;
}

// Breadth first, as an MSD radix sort (trie_expand), each node's children appended after every
// node made so far: so the children of a node are consecutive and in byte order, the nodes'
// first children increase with the nodes, and the nodes of one depth are consecutive. Work: a
// step per byte of the keys plus a 257-bucket count for the few nodes with many keys, over
// arrays read in order (a hash of the edges costs a cache miss per byte of the keys).
wembed_status we_trie_build(we_trie *t, we_arena *arena, const char *const *keys, const uint32_t *lens, uint32_t n,
                            we_err *err) {
    memset(t, 0, sizeof *t);
    uint64_t total = 1;
    for (uint32_t k = 0; k < n; k++) total += lens[k];
    if (total > WE_TRIE_MAX_NODES)
        return we_errorf(err, WEMBED_STATUS_LIMIT, "tokenizer: %llu bytes of pieces are over the limit of %u for the trie",
                         (unsigned long long)total - 1, WE_TRIE_MAX_NODES - 1);
    size_t nn = n ? n : 1;
    trie_builder b;
    memset(&b, 0, sizeof b);
    b.keys = keys;
    b.lens = lens;
    b.max_nodes = (size_t)total;
    b.order = we_malloc(nn * sizeof(uint32_t));
    b.sorted = we_malloc(nn * sizeof(uint32_t));
    b.key = we_malloc(nn * sizeof(uint16_t));
    wembed_status rc = WEMBED_STATUS_OK;
    if (!b.order || !b.sorted || !b.key || !trie_grow(&b, (size_t)WE_MIN(total, 2 * (uint64_t)n + 64))) goto oom;
    for (uint32_t k = 0; k < n; k++) b.order[k] = k;
    b.lo[0] = 0;
    b.hi[0] = n;
    b.n_nodes = 1;
    for (size_t x = 0, depth_end = 1, d = 0; x < b.n_nodes; x++) {
        if (x == depth_end) { d++; depth_end = b.n_nodes; }   // the first node one deeper
        if (!trie_expand(&b, x, (uint32_t)d)) goto oom;
    }
    size_t nodes = b.n_nodes;
    t->first = we_arena_alloc(arena, (nodes + 1) * sizeof(uint32_t), 4);
    t->value = we_arena_alloc(arena, nodes * sizeof(uint32_t), 4);
    t->label = we_arena_alloc(arena, nodes, 1);
    if (!t->first || !t->value || !t->label) goto oom;
    memcpy(t->first, b.first, nodes * sizeof(uint32_t));
    memcpy(t->value, b.value, nodes * sizeof(uint32_t));
    memcpy(t->label, b.label, nodes);
    t->first[nodes] = (uint32_t)nodes;
    t->n_nodes = (uint32_t)nodes;
    for (uint32_t c = t->first[0]; c < t->first[1]; c++) t->root[t->label[c]] = c;
    goto done;
oom:
    memset(t, 0, sizeof *t);
    rc = we_errorf(err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
done:
    we_free(b.order);
    we_free(b.sorted);
    we_free(b.key);
    we_free(b.lo);
    we_free(b.hi);
    we_free(b.first);
    we_free(b.value);
    we_free(b.label);
    return rc;
}

uint32_t we_trie_find(const we_trie *t, const char *s, size_t n) {
    if (!t->first) return 0;
    uint32_t x = 0;
    for (size_t i = 0; i < n; i++)
        if (!(x = we_trie_child(t, x, (uint8_t)s[i]))) return 0;
    return t->value[x];
}

wembed_status we_nstr_set(we_work *w, we_nstr *ns, const uint8_t *s, const we_align *al, uint32_t n) {
    uint8_t *ns_s = we_bump_alloc(&w->mem, n ? n : 1, 1);
    we_align *ns_al = we_bump_alloc(&w->mem, (size_t)(n ? n : 1) * sizeof(we_align), 4);
    if (!ns_s || !ns_al) return we_errorf(w->err, WEMBED_STATUS_ALLOC_FAILED, "tokenizer: out of memory");
    memcpy(ns_s, s, n);
    memcpy(ns_al, al, (size_t)n * sizeof(we_align));
    ns->s = ns_s;
    ns->al = ns_al;
    ns->len = n;
    ns->base = 0;
    return WEMBED_STATUS_OK;
}
