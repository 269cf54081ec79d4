// search.c - the flat vector index of search.h: storage tiers, add/remove, and the threaded
// top-k search with filters and binary candidates rescored.
//
// Layout: up to three tiers of `cap` rows each, all row-major and dense (slot = row):
//   f32    (cap, dims)  floats             storage F32, or BINARY with RESCORE_F32
//   i8     (cap, dims)  int8 codes         storage INT8, or BINARY with RESCORE_INT8
//   scale  (cap)        float per row      with i8: code * scale = the (normalized) value
//   bits   (cap, nb)    sign bits          storage BINARY; nb = ceil(dims / 8), MSB first
//
// A search splits the rows over the pool's threads (in multiples of 4, the kernels' width).
// Each thread walks its rows in blocks small enough to stay in L2 and scores every query of
// the call against a block before moving on, so a batch of queries reads memory once. Each
// (thread, query) keeps a bounded heap of its best candidates; the caller's thread then merges
// them, rescores (BINARY) and sorts. The order is total - score descending, then slot
// ascending - and NaN scores count as -Inf, so results do not depend on the thread count.
#include "search.h"

#include <math.h>
#include <string.h>
#include <stdlib.h>

#include "../core/pool.h"

struct we_vindex {
    int32_t dims, nb;          // nb: bytes of a bit row
    we_vi_metric metric;
    we_vi_storage storage;
    we_vi_rescore rescore;
    int32_t n, cap;
    float *f32;                // (cap, dims) or NULL
    int8_t *i8;                // (cap, dims) or NULL
    float *scale;              // (cap) with i8
    uint8_t *bits;             // (cap, nb) or NULL
    we_err err;
};

static bool has_f32(const we_vindex *vi) {
    return vi->storage == WE_VI_F32 || (vi->storage == WE_VI_BINARY && vi->rescore == WE_VI_RESCORE_F32);
}
static bool has_i8(const we_vindex *vi) {
    return vi->storage == WE_VI_INT8 || (vi->storage == WE_VI_BINARY && vi->rescore == WE_VI_RESCORE_INT8);
}
static bool has_bits(const we_vindex *vi) { return vi->storage == WE_VI_BINARY; }

static size_t row_bytes(const we_vindex *vi) {
    size_t b = 0;
    if (has_f32(vi)) b += (size_t)vi->dims * sizeof(float);
    if (has_i8(vi)) b += (size_t)vi->dims + sizeof(float);
    if (has_bits(vi)) b += (size_t)vi->nb;
    return b;
}

// -----------------------------------------------------------------------------------------
// Lifetime

wembed_status we_vindex_new(int32_t dims, we_vi_metric metric, we_vi_storage storage, we_vi_rescore rescore,
                            we_vindex **out) {
    if (!out) return WEMBED_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    if (dims < 1 || dims > WE_VI_MAX_DIMS) return WEMBED_STATUS_INVALID_ARGUMENT;
    if ((unsigned)metric > WE_VI_DOT || (unsigned)storage > WE_VI_BINARY || (unsigned)rescore > WE_VI_RESCORE_F32)
        return WEMBED_STATUS_INVALID_ARGUMENT;
    we_vindex *vi = we_calloc(1, sizeof *vi);
    if (!vi) return WEMBED_STATUS_ALLOC_FAILED;
    vi->dims = dims;
    vi->nb = (dims + 7) / 8;
    vi->metric = metric;
    vi->storage = storage;
    vi->rescore = storage == WE_VI_BINARY ? rescore : WE_VI_RESCORE_BITS;
    *out = vi;
    return WEMBED_STATUS_OK;
}

void we_vindex_free(we_vindex *vi) {
    if (!vi) return;
    we_free(vi->f32);
    we_free(vi->i8);
    we_free(vi->scale);
    we_free(vi->bits);
    we_free(vi);
}

const char *we_vindex_last_error(const we_vindex *vi) { return vi ? vi->err.msg : "no index"; }
int32_t we_vindex_count(const we_vindex *vi) { return vi ? vi->n : 0; }
int32_t we_vindex_dims(const we_vindex *vi) { return vi ? vi->dims : 0; }
double we_vindex_bytes(const we_vindex *vi) { return vi ? (double)vi->n * (double)row_bytes(vi) : 0; }

// Grows every tier to hold `need` rows. A tier that grew keeps its new size even if a later
// one fails (cap only moves once all have), so a failure leaves the index as it was.
static wembed_status grow(we_vindex *vi, int32_t need) {
    if (need <= vi->cap) return WEMBED_STATUS_OK;
    int64_t want = WE_MAX((int64_t)need, WE_MIN((int64_t)vi->cap * 2, (int64_t)INT32_MAX));
    want = WE_MAX(want, 16);
    size_t n = (size_t)want, fb, ib, bb;
    if (!we_mul_size(n, (size_t)vi->dims * sizeof(float), &fb) || !we_mul_size(n, (size_t)vi->dims, &ib) ||
        !we_mul_size(n, (size_t)vi->nb, &bb))
        return we_errorf(&vi->err, WEMBED_STATUS_ALLOC_FAILED, "an index of %lld rows of %d dims is too large",
                         (long long)want, vi->dims);
    if (has_f32(vi)) {
        float *p = we_realloc(vi->f32, fb);
        if (!p) goto oom;
        vi->f32 = p;
    }
    if (has_i8(vi)) {
        int8_t *p = we_realloc(vi->i8, ib);
        if (!p) goto oom;
        vi->i8 = p;
        float *s = we_realloc(vi->scale, n * sizeof(float));
        if (!s) goto oom;
        vi->scale = s;
    }
    if (has_bits(vi)) {
        uint8_t *p = we_realloc(vi->bits, bb);
        if (!p) goto oom;
        vi->bits = p;
    }
    vi->cap = (int32_t)want;
    return WEMBED_STATUS_OK;
oom:
    return we_errorf(&vi->err, WEMBED_STATUS_ALLOC_FAILED, "out of memory growing the index to %lld rows of %d dims",
                     (long long)want, vi->dims);
}

wembed_status we_vindex_reserve(we_vindex *vi, int32_t n) {
    if (!vi) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_err_clear(&vi->err);
    if (n < 0) return we_errorf(&vi->err, WEMBED_STATUS_INVALID_ARGUMENT, "cannot reserve %d rows", n);
    return grow(vi, n);
}

// -----------------------------------------------------------------------------------------
// Encoding rows: normalize (cosine), then quantize. Scalar and in a fixed order: the same
// codes natively and in wasm.

// y = x / |x| (cosine) or x (dot). A zero vector stays zero.
static void prepare(const we_vindex *vi, const float *x, float *y) {
    const int d = vi->dims;
    if (vi->metric != WE_VI_COSINE) {
        memcpy(y, x, (size_t)d * sizeof(float));
        return;
    }
    double ss = 0;
    for (int i = 0; i < d; i++) ss += (double)x[i] * x[i];
    const float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    for (int i = 0; i < d; i++) y[i] = x[i] * inv;
}

// Symmetric int8: code = round(v * 127 / max|v|), scale = max|v| / 127 (WEMBED_OUTPUT_INT8's
// rule, plus the scale, which dot products need).
static float quantize_i8(const float *x, int d, int8_t *codes) {
    float m = 0;
    for (int i = 0; i < d; i++) m = WE_MAX(m, fabsf(x[i]));
    if (!(m > 0)) {
        memset(codes, 0, (size_t)d);
        return 0;
    }
    const float inv = 127.0f / m;
    for (int i = 0; i < d; i++) {
        long v = lrintf(x[i] * inv);
        codes[i] = (int8_t)WE_MAX(-127, WE_MIN(127, v));
    }
    return m / 127.0f;
}

static void pack_bits(const float *x, int d, uint8_t *bits) {
    memset(bits, 0, (size_t)(d + 7) / 8);
    for (int i = 0; i < d; i++)
        if (x[i] > 0) bits[i >> 3] |= (uint8_t)(0x80u >> (i & 7));
}

static void encode_row(we_vindex *vi, int32_t slot, const float *y) {
    const size_t d = (size_t)vi->dims;
    if (vi->f32) memcpy(vi->f32 + (size_t)slot * d, y, d * sizeof(float));
    if (vi->i8) vi->scale[slot] = quantize_i8(y, vi->dims, vi->i8 + (size_t)slot * d);
    if (vi->bits) pack_bits(y, vi->dims, vi->bits + (size_t)slot * (size_t)vi->nb);
}

// -----------------------------------------------------------------------------------------
// Adding and removing

wembed_status we_vindex_add(we_vindex *vi, const float *x, int32_t n) {
    if (!vi) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_err_clear(&vi->err);
    if (n < 0 || (n > 0 && !x)) return we_errorf(&vi->err, WEMBED_STATUS_INVALID_ARGUMENT, "add: bad row count %d", n);
    if (n > INT32_MAX - vi->n) return we_errorf(&vi->err, WEMBED_STATUS_LIMIT, "add: more than %d rows", INT32_MAX);
    const size_t d = (size_t)vi->dims;
    for (int32_t r = 0; r < n; r++)
        for (size_t i = 0; i < d; i++)
            if (!isfinite(x[(size_t)r * d + i]))
                return we_errorf(&vi->err, WEMBED_STATUS_INVALID_ARGUMENT,
                                 "vector %d has a non-finite value (%g) at dimension %zu", r, (double)x[(size_t)r * d + i], i);
    wembed_status rc = grow(vi, vi->n + n);
    if (rc) return rc;
    float *y = we_malloc(d * sizeof(float));
    if (!y) return we_errorf(&vi->err, WEMBED_STATUS_ALLOC_FAILED, "out of memory");
    for (int32_t r = 0; r < n; r++) {
        prepare(vi, x + (size_t)r * d, y);
        encode_row(vi, vi->n + r, y);
    }
    we_free(y);
    vi->n += n;
    return WEMBED_STATUS_OK;
}

wembed_status we_vindex_remove(we_vindex *vi, int32_t slot, int32_t *moved_from) {
    if (!vi) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_err_clear(&vi->err);
    if (moved_from) *moved_from = -1;
    if (slot < 0 || slot >= vi->n)
        return we_errorf(&vi->err, WEMBED_STATUS_INVALID_ARGUMENT, "remove: slot %d is not in [0, %d)", slot, vi->n);
    const int32_t last = vi->n - 1;
    if (slot != last) {
        const size_t d = (size_t)vi->dims, nb = (size_t)vi->nb;
        if (vi->f32) memcpy(vi->f32 + (size_t)slot * d, vi->f32 + (size_t)last * d, d * sizeof(float));
        if (vi->i8) {
            memcpy(vi->i8 + (size_t)slot * d, vi->i8 + (size_t)last * d, d);
            vi->scale[slot] = vi->scale[last];
        }
        if (vi->bits) memcpy(vi->bits + (size_t)slot * nb, vi->bits + (size_t)last * nb, nb);
        if (moved_from) *moved_from = last;
    }
    vi->n = last;
    return WEMBED_STATUS_OK;
}

wembed_status we_vindex_get(we_vindex *vi, int32_t slot, float *out) {
    if (!vi) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_err_clear(&vi->err);
    if (slot < 0 || slot >= vi->n || !out)
        return we_errorf(&vi->err, WEMBED_STATUS_INVALID_ARGUMENT, "get: slot %d is not in [0, %d)", slot, vi->n);
    const size_t d = (size_t)vi->dims;
    if (vi->f32) {
        memcpy(out, vi->f32 + (size_t)slot * d, d * sizeof(float));
    } else if (vi->i8) {
        const int8_t *c = vi->i8 + (size_t)slot * d;
        for (size_t i = 0; i < d; i++) out[i] = (float)c[i] * vi->scale[slot];
    } else {
        const uint8_t *b = vi->bits + (size_t)slot * (size_t)vi->nb;
        const float one = vi->metric == WE_VI_COSINE ? (float)(1.0 / sqrt((double)d)) : 1.0f;
        for (size_t i = 0; i < d; i++) out[i] = (b[i >> 3] & (0x80u >> (i & 7))) ? one : -one;
    }
    return WEMBED_STATUS_OK;
}

const void *we_vindex_tier(const we_vindex *vi, we_vi_tier tier) {
    if (!vi) return NULL;
    switch (tier) {
    case WE_VI_TIER_F32: return vi->f32;
    case WE_VI_TIER_I8: return vi->i8;
    case WE_VI_TIER_SCALES: return vi->scale;
    case WE_VI_TIER_BITS: return vi->bits;
    }
    return NULL;
}

wembed_status we_vindex_append_raw(we_vindex *vi, int32_t n, const float *f32, const int8_t *i8,
                                   const float *scales, const uint8_t *bits) {
    if (!vi) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_err_clear(&vi->err);
    if (n < 0) return we_errorf(&vi->err, WEMBED_STATUS_INVALID_ARGUMENT, "append: bad row count %d", n);
    if (n > INT32_MAX - vi->n) return we_errorf(&vi->err, WEMBED_STATUS_LIMIT, "append: more than %d rows", INT32_MAX);
    if (n == 0) return WEMBED_STATUS_OK;
    if (!f32 != !has_f32(vi) || !i8 != !has_i8(vi) || !scales != !has_i8(vi) || !bits != !has_bits(vi))
        return we_errorf(&vi->err, WEMBED_STATUS_INVALID_ARGUMENT,
                         "append: the tiers given do not match the index's storage");
    const size_t d = (size_t)vi->dims, nb = (size_t)vi->nb;
    if (f32)
        for (size_t i = 0; i < (size_t)n * d; i++)
            if (!isfinite(f32[i]))
                return we_errorf(&vi->err, WEMBED_STATUS_BAD_FORMAT, "append: row %zu has a non-finite value", i / d);
    if (scales)
        for (int32_t r = 0; r < n; r++)
            if (!(scales[r] >= 0 && isfinite(scales[r])))
                return we_errorf(&vi->err, WEMBED_STATUS_BAD_FORMAT, "append: row %d has a bad int8 scale (%g)", r,
                                 (double)scales[r]);
    // Stored rows are what encode_row writes, so anything else is damage: a cosine row has norm 1
    // (or is the zero vector); an int8 row's largest code is +-127 (all 0 with scale 0), and in a
    // cosine index its largest value (127 x scale) is at most 1.
    if (f32 && vi->metric == WE_VI_COSINE)
        for (int32_t r = 0; r < n; r++) {
            double ss = 0;
            for (size_t i = 0; i < d; i++) ss += (double)f32[(size_t)r * d + i] * f32[(size_t)r * d + i];
            if (ss != 0 && fabs(ss - 1) > 1e-4)
                return we_errorf(&vi->err, WEMBED_STATUS_BAD_FORMAT, "append: row %d of a cosine index has norm %g, not 1", r,
                                 sqrt(ss));
        }
    if (i8)
        for (int32_t r = 0; r < n; r++) {
            int mx = 0;
            for (size_t i = 0; i < d; i++) mx = WE_MAX(mx, abs(i8[(size_t)r * d + i]));
            if (scales[r] > 0 ? mx != 127 : mx != 0)
                return we_errorf(&vi->err, WEMBED_STATUS_BAD_FORMAT, "append: row %d has int8 codes up to %d with scale %g",
                                 r, mx, (double)scales[r]);
            if (vi->metric == WE_VI_COSINE && scales[r] * 127.0 > 1.0 + 1e-4)
                return we_errorf(&vi->err, WEMBED_STATUS_BAD_FORMAT, "append: row %d of a cosine index has values up to %g, above 1",
                                 r, scales[r] * 127.0);
        }
    wembed_status rc = grow(vi, vi->n + n);
    if (rc) return rc;
    const size_t at = (size_t)vi->n;
    if (f32) memcpy(vi->f32 + at * d, f32, (size_t)n * d * sizeof(float));
    if (i8) {
        memcpy(vi->i8 + at * d, i8, (size_t)n * d);
        memcpy(vi->scale + at, scales, (size_t)n * sizeof(float));
    }
    if (bits) {
        memcpy(vi->bits + at * nb, bits, (size_t)n * nb);
        const int used = vi->dims - 8 * (int)(nb - 1);                // bits used in the last byte
        const uint8_t keep = (uint8_t)(0xFFu << (8 - used));
        for (int32_t r = 0; r < n; r++) vi->bits[(at + (size_t)r) * nb + nb - 1] &= keep;
    }
    vi->n += n;
    return WEMBED_STATUS_OK;
}

// -----------------------------------------------------------------------------------------
// Bounded heaps of candidates: the worst kept candidate on top, so a better one replaces it.

typedef struct cand { float score; int32_t slot; } cand;

static inline bool worse(cand a, cand b) {    // a ranks below b
    return a.score < b.score || (a.score == b.score && a.slot > b.slot);
}

static void sift_down(cand *h, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(h[l], h[m])) m = l;
        if (r < n && worse(h[r], h[m])) m = r;
        if (m == i) return;
        cand t = h[i]; h[i] = h[m]; h[m] = t;
        i = m;
    }
}

// Offers c to the heap h of *n candidates and capacity cap.
static inline void offer(cand *h, int *n, int cap, cand c) {
    if (*n < cap) {
        int i = (*n)++;
        h[i] = c;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!worse(h[i], h[p])) break;
            cand t = h[i]; h[i] = h[p]; h[p] = t;
            i = p;
        }
    } else if (worse(h[0], c)) {
        h[0] = c;
        sift_down(h, *n, 0);
    }
}

// Sorts the heap's candidates best first (heap sort: pop the worst to the end).
static void sort_best_first(cand *h, int n) {
    for (int end = n - 1; end > 0; end--) {
        cand t = h[0]; h[0] = h[end]; h[end] = t;
        sift_down(h, end, 0);
    }
}

// -----------------------------------------------------------------------------------------
// Search

typedef struct search_ctx {
    const we_vindex *vi;
    int32_t nq, m;            // queries, candidates kept per query
    const float *qf;          // (nq, dims) prepared float queries
    const int8_t *qi8;        // (nq, dims) int8 queries (INT8 storage)
    const float *qscale;      // (nq)
    const uint8_t *qbits;     // (nq, nb) (BINARY storage)
    const uint8_t *allow;     // (n) or NULL
    cand *heaps;              // (nth, nq, m)
    int *heap_n;              // (nth, nq)
} search_ctx;

static inline float clean(float s) { return s == s ? s : -INFINITY; }

// Rows per block: the block's rows stay in L2 (~256 KB) while every query of the call reads them.
static int32_t block_rows(const we_vindex *vi) {
    size_t rb = vi->storage == WE_VI_F32 ? (size_t)vi->dims * 4 : vi->storage == WE_VI_INT8 ? (size_t)vi->dims : (size_t)vi->nb;
    size_t b = (256u << 10) / WE_MAX(rb, (size_t)1);
    b = WE_MAX((size_t)4, WE_MIN(b, (size_t)4096)) & ~(size_t)3;
    return (int32_t)b;
}

static void search_task(void *p, int ith, int nth) {
    const search_ctx *c = p;
    const we_vindex *vi = c->vi;
    int64_t r0, r1;
    we_split(vi->n, 4, ith, nth, &r0, &r1);
    const size_t d = (size_t)vi->dims, nb = (size_t)vi->nb;
    const int32_t br = block_rows(vi);
    cand *heaps = c->heaps + (size_t)ith * (size_t)c->nq * (size_t)c->m;
    int *hn = c->heap_n + (size_t)ith * (size_t)c->nq;
    for (int32_t q = 0; q < c->nq; q++) hn[q] = 0;
    for (int64_t b0 = r0; b0 < r1; b0 += br) {
        const int64_t b1 = WE_MIN(b0 + br, r1);
        for (int32_t q = 0; q < c->nq; q++) {
            cand *h = heaps + (size_t)q * (size_t)c->m;
            for (int64_t r = b0; r < b1; r += 4) {
                const int nr = (int)WE_MIN((int64_t)4, b1 - r);
                float s[4];
                if (vi->storage == WE_VI_F32) {
                    we_search_dot_f32(c->qf + (size_t)q * d, vi->f32 + (size_t)r * d, d, nr, (int)d, s);
                } else if (vi->storage == WE_VI_INT8) {
                    int32_t t[4];
                    we_search_dot_i8(c->qi8 + (size_t)q * d, vi->i8 + (size_t)r * d, d, nr, (int)d, t);
                    for (int j = 0; j < nr; j++) s[j] = (float)t[j] * c->qscale[q] * vi->scale[r + j];
                } else {
                    int32_t t[4];
                    we_search_hamming(c->qbits + (size_t)q * nb, vi->bits + (size_t)r * nb, nb, nr, (int)nb, t);
                    for (int j = 0; j < nr; j++) s[j] = -(float)t[j];
                }
                for (int j = 0; j < nr; j++) {
                    const int32_t slot = (int32_t)(r + j);
                    if (c->allow && !c->allow[slot]) continue;
                    offer(h, &hn[q], c->m, (cand){ clean(s[j]), slot });
                }
            }
        }
    }
}

// The exact-ish score of one candidate of a BINARY index.
static float rescore_one(const we_vindex *vi, const float *qf, const int8_t *qi8, float qs, int32_t slot) {
    const size_t d = (size_t)vi->dims;
    switch (vi->rescore) {
    case WE_VI_RESCORE_F32: {
        float s;
        we_search_dot_f32(qf, vi->f32 + (size_t)slot * d, d, 1, (int)d, &s);
        return s;
    }
    case WE_VI_RESCORE_INT8: {
        int32_t t;
        we_search_dot_i8(qi8, vi->i8 + (size_t)slot * d, d, 1, (int)d, &t);
        return (float)t * qs * vi->scale[slot];
    }
    case WE_VI_RESCORE_BITS:
    default: {
        const float s = we_search_signed_sum(qf, vi->bits + (size_t)slot * (size_t)vi->nb, (int)d);
        return vi->metric == WE_VI_COSINE ? s * (float)(1.0 / sqrt((double)d)) : s;
    }
    }
}

wembed_status we_vindex_search(we_vindex *vi, wembed_pool *pool, const float *q, int32_t nq, int32_t k,
                               int32_t candidates, const uint8_t *allow, int32_t *slots, float *scores,
                               int32_t *found) {
    if (!vi) return WEMBED_STATUS_INVALID_ARGUMENT;
    we_err_clear(&vi->err);
    if (nq < 0 || nq > WE_VI_MAX_QUERIES)
        return we_errorf(&vi->err, WEMBED_STATUS_INVALID_ARGUMENT, "search: %d queries (at most %d per call)", nq, WE_VI_MAX_QUERIES);
    if (k < 1 || k > WE_VI_MAX_K)
        return we_errorf(&vi->err, WEMBED_STATUS_INVALID_ARGUMENT, "search: k must be in [1, %d], not %d", WE_VI_MAX_K, k);
    if (nq > 0 && (!q || !slots || !scores || !found))
        return we_errorf(&vi->err, WEMBED_STATUS_INVALID_ARGUMENT, "search: missing buffers");
    if (nq == 0) return WEMBED_STATUS_OK;
    const size_t d = (size_t)vi->dims, nb = (size_t)vi->nb;
    for (size_t i = 0; i < (size_t)nq * d; i++)
        if (!isfinite(q[i]))
            return we_errorf(&vi->err, WEMBED_STATUS_INVALID_ARGUMENT, "query %zu has a non-finite value at dimension %zu",
                             i / d, i % d);

    int32_t m = k;
    if (vi->storage == WE_VI_BINARY) m = WE_MAX(k, WE_MIN(candidates, (int32_t)WE_VI_MAX_K));
    m = WE_MAX(1, WE_MIN(m, vi->n));
    const int nth = vi->n >= 4096 ? we_pool_threads(pool) : 1;   // small indexes: not worth a wake-up

    float *qf = we_malloc((size_t)nq * d * sizeof(float));
    int8_t *qi8 = has_i8(vi) ? we_malloc((size_t)nq * d) : NULL;
    float *qscale = has_i8(vi) ? we_malloc((size_t)nq * sizeof(float)) : NULL;
    uint8_t *qbits = has_bits(vi) ? we_malloc((size_t)nq * nb) : NULL;
    cand *heaps = we_malloc((size_t)nth * (size_t)nq * (size_t)m * sizeof(cand));
    int *heap_n = we_malloc((size_t)nth * (size_t)nq * sizeof(int));
    cand *merged = we_malloc((size_t)m * sizeof(cand));
    wembed_status rc = WEMBED_STATUS_OK;
    if (!qf || (has_i8(vi) && (!qi8 || !qscale)) || (has_bits(vi) && !qbits) || !heaps || !heap_n || !merged) {
        rc = we_errorf(&vi->err, WEMBED_STATUS_ALLOC_FAILED, "out of memory for a search of %d queries", nq);
        goto done;
    }
    for (int32_t i = 0; i < nq; i++) {
        prepare(vi, q + (size_t)i * d, qf + (size_t)i * d);
        if (qi8) qscale[i] = quantize_i8(qf + (size_t)i * d, vi->dims, qi8 + (size_t)i * d);
        if (qbits) pack_bits(qf + (size_t)i * d, vi->dims, qbits + (size_t)i * nb);
    }

    search_ctx c = { vi, nq, m, qf, qi8, qscale, qbits, allow, heaps, heap_n };
    if (vi->n > 0) {
        if (nth > 1) we_pool_run(pool, search_task, &c);
        else search_task(&c, 0, 1);
    }

    for (int32_t i = 0; i < nq; i++) {
        int n = 0;
        if (vi->n > 0)
            for (int t = 0; t < nth; t++) {
                const cand *h = heaps + ((size_t)t * (size_t)nq + (size_t)i) * (size_t)m;
                for (int j = 0; j < heap_n[(size_t)t * (size_t)nq + (size_t)i]; j++) offer(merged, &n, m, h[j]);
            }
        if (vi->storage == WE_VI_BINARY) {
            // Rescore the Hamming candidates, then keep the best k of them.
            for (int j = 0; j < n; j++)
                merged[j].score = clean(rescore_one(vi, qf + (size_t)i * d, qi8 ? qi8 + (size_t)i * d : NULL,
                                                    qscale ? qscale[i] : 0, merged[j].slot));
            cand *all = merged;
            int kept = 0;
            // In place: rebuild a k-heap over the rescored candidates.
            for (int j = 0; j < n; j++) {
                cand x = all[j];
                offer(all, &kept, k, x);     // kept <= j, so the heap never overwrites unread entries
            }
            n = kept;
        }
        sort_best_first(merged, n);
        const int out_n = WE_MIN(n, k);
        for (int j = 0; j < out_n; j++) {
            slots[(size_t)i * (size_t)k + (size_t)j] = merged[j].slot;
            scores[(size_t)i * (size_t)k + (size_t)j] = merged[j].score;
        }
        found[i] = out_n;
    }
done:
    we_free(qf);
    we_free(qi8);
    we_free(qscale);
    we_free(qbits);
    we_free(heaps);
    we_free(heap_n);
    we_free(merged);
    return rc;
}
