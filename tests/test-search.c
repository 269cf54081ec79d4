// test-search.c - the flat vector index (src/search): kernels against their references bit for
// bit, rankings against a brute-force sort, the compact storages against their own exact
// formulas and against float recall, filters, removal, raw tiers, thread invariance, bad
// input, and every allocation failing.
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/pool.h"
#include "search/search.h"

// -----------------------------------------------------------------------------------------
// Data

// n rows of d dims: uniform noise, or (clusters > 0) points around `clusters` random centres.
static float *make_rows(we_rng *rng, int n, int d, int clusters) {
    float *x = malloc((size_t)n * d * sizeof(float));
    if (clusters <= 0) {
        for (size_t i = 0; i < (size_t)n * d; i++) x[i] = we_rng_normal(rng);
        return x;
    }
    float *c = malloc((size_t)clusters * d * sizeof(float));
    for (size_t i = 0; i < (size_t)clusters * d; i++) c[i] = we_rng_normal(rng);
    for (int r = 0; r < n; r++) {
        const float *cc = c + (size_t)(we_rng_next(rng) % (uint64_t)clusters) * d;
        for (int i = 0; i < d; i++) x[(size_t)r * d + i] = cc[i] + 0.35f * we_rng_normal(rng);
    }
    free(c);
    return x;
}

typedef struct ranked { double score; int slot; } ranked;

static int by_score(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->slot - y->slot;
}

// Exact cosine top k in double precision (for recall and for checking the f32 path).
static void exact_topk(const float *x, int n, int d, const float *q, int k, int *out) {
    ranked *r = malloc((size_t)n * sizeof(ranked));
    double qq = 0;
    for (int i = 0; i < d; i++) qq += (double)q[i] * q[i];
    for (int j = 0; j < n; j++) {
        double dot = 0, xx = 0;
        for (int i = 0; i < d; i++) {
            dot += (double)q[i] * x[(size_t)j * d + i];
            xx += (double)x[(size_t)j * d + i] * x[(size_t)j * d + i];
        }
        r[j] = (ranked){ xx > 0 && qq > 0 ? dot / sqrt(xx * qq) : 0, j };
    }
    qsort(r, (size_t)n, sizeof(ranked), by_score);
    for (int i = 0; i < k; i++) out[i] = r[i].slot;
    free(r);
}

static double recall(const int *got, const int *want, int k) {
    int hit = 0;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) hit += got[i] == want[j];
    return (double)hit / k;
}

// -----------------------------------------------------------------------------------------
// Kernels: the SIMD versions equal the references bit for bit.

static void test_kernels(void) {
    we_rng rng = { 0x5eed1 };
    const int dims[] = { 1, 3, 4, 7, 15, 16, 17, 31, 32, 33, 64, 100, 384, 500, 768, 4100 };
    for (size_t t = 0; t < WE_ARRAY_LEN(dims); t++) {
        const int d = dims[t];
        const size_t ld = (size_t)d + 5;
        float *qf = malloc((size_t)d * sizeof(float)), *rf = malloc(4 * ld * sizeof(float));
        int8_t *qi = malloc((size_t)d), *ri = malloc(4 * ld);
        uint8_t *qb = malloc((size_t)d), *rb = malloc(4 * ld);
        we_rng_fill(&rng, qf, (size_t)d, -1, 1);
        we_rng_fill(&rng, rf, 4 * ld, -1, 1);
        for (size_t i = 0; i < (size_t)d; i++) { qi[i] = (int8_t)(we_rng_next(&rng) % 255 - 127); qb[i] = (uint8_t)we_rng_next(&rng); }
        for (size_t i = 0; i < 4 * ld; i++) { ri[i] = (int8_t)(we_rng_next(&rng) % 255 - 127); rb[i] = (uint8_t)we_rng_next(&rng); }
        if (d == 4100) { memset(qi, 127, (size_t)d); memset(ri, -127, 4 * ld); memset(qb, 0, (size_t)d); memset(rb, 0xff, 4 * ld); }
        for (int nr = 1; nr <= 4; nr++) {
            float a[4], b[4];
            int32_t ia[4], ib[4];
            we_search_dot_f32(qf, rf, ld, nr, d, a);
            we_search_dot_f32_ref(qf, rf, ld, nr, d, b);
            CHECKF(memcmp(a, b, (size_t)nr * sizeof(float)) == 0, "DOT_F32(d=%d,nr=%d): %.9g vs ref %.9g", d, nr, a[nr - 1], b[nr - 1]);
            we_search_dot_i8(qi, ri, ld, nr, d, ia);
            we_search_dot_i8_ref(qi, ri, ld, nr, d, ib);
            CHECKF(memcmp(ia, ib, (size_t)nr * 4) == 0, "DOT_I8(d=%d,nr=%d): %d vs ref %d", d, nr, ia[nr - 1], ib[nr - 1]);
            we_search_hamming(qb, rb, ld, nr, d, ia);
            we_search_hamming_ref(qb, rb, ld, nr, d, ib);
            CHECKF(memcmp(ia, ib, (size_t)nr * 4) == 0, "HAMMING(nbytes=%d,nr=%d): %d vs ref %d", d, nr, ia[nr - 1], ib[nr - 1]);
        }
        {
            const float a = we_search_signed_sum(qf, rb, d), b = we_search_signed_sum_ref(qf, rb, d);
            CHECKF(memcmp(&a, &b, sizeof a) == 0 || (a == 0 && b == 0), "SIGNED_SUM(d=%d): %.9g vs ref %.9g", d, a, b);
            double want = 0;
            for (int i = 0; i < d; i++) want += (rb[i >> 3] & (0x80 >> (i & 7))) ? qf[i] : -qf[i];
            CHECKF(fabs(b - want) <= 1e-5 * sqrt((double)d), "SIGNED_SUM_REF(d=%d): %.9g vs %.9g", d, b, want);
        }
        if (d == 4100) {   // extremes: every product -16129, every bit different
            int32_t v;
            we_search_dot_i8(qi, ri, ld, 1, d, &v);
            CHECK_EQ_INT(v, -16129 * 4100);
            we_search_hamming(qb, rb, ld, 1, d, &v);
            CHECK_EQ_INT(v, 8 * 4100);
        }
        // the float reference itself is close to a double dot product
        double dd = 0;
        for (int i = 0; i < d; i++) dd += (double)qf[i] * rf[i];
        float s;
        we_search_dot_f32_ref(qf, rf, ld, 1, d, &s);
        CHECKF(fabs(s - dd) <= 1e-5 * (1 + fabs(dd)) * sqrt((double)d), "DOT_F32_REF(d=%d) %.9g vs double %.9g", d, s, dd);
        free(qf); free(rf); free(qi); free(ri); free(qb); free(rb);
    }
}

// -----------------------------------------------------------------------------------------
// Float storage: the ranking is the brute-force ranking; scores are cosines.

static we_vindex *build(int d, we_vi_metric m, we_vi_storage s, we_vi_rescore r, const float *x, int n) {
    we_vindex *vi = NULL;
    CHECK(we_vindex_new(d, m, s, r, &vi) == WEMBED_STATUS_OK);
    CHECK(we_vindex_add(vi, x, n) == WEMBED_STATUS_OK);
    return vi;
}

static void test_f32_exact(void) {
    we_rng rng = { 0xf32 };
    const int n = 3001, d = 77, k = 10, nq = 5;
    float *x = make_rows(&rng, n, d, 0), *q = make_rows(&rng, nq, d, 0);
    we_vindex *vi = build(d, WE_VI_COSINE, WE_VI_F32, 0, x, n);
    CHECK_EQ_INT(we_vindex_count(vi), n);
    CHECK(we_vindex_bytes(vi) == (double)n * d * 4);
    int32_t slots[nq * k], found[nq];
    float scores[nq * k];
    CHECK(we_vindex_search(vi, NULL, q, nq, k, 0, NULL, slots, scores, found) == WEMBED_STATUS_OK);
    for (int i = 0; i < nq; i++) {
        int want[k];
        exact_topk(x, n, d, q + (size_t)i * d, k, want);
        CHECK_EQ_INT(found[i], k);
        int same = 1;
        for (int j = 0; j < k; j++) same &= slots[i * k + j] == want[j];
        CHECKF(same, "query %d: f32 ranking differs from the exact one", i);
        // the score is the cosine
        double dot = 0, xx = 0, qq = 0;
        const float *r = x + (size_t)slots[i * k] * d, *qq_ = q + (size_t)i * d;
        for (int t = 0; t < d; t++) { dot += (double)r[t] * qq_[t]; xx += (double)r[t] * r[t]; qq += (double)qq_[t] * qq_[t]; }
        CHECKF(fabs(scores[i * k] - dot / sqrt(xx * qq)) < 1e-5, "query %d: score %.7f vs cosine %.7f", i, scores[i * k], dot / sqrt(xx * qq));
        for (int j = 1; j < k; j++) CHECK(scores[i * k + j] <= scores[i * k + j - 1]);
    }
    // the query itself is its own best match, with cosine 1
    CHECK(we_vindex_search(vi, NULL, x + 1234 * d, 1, 1, 0, NULL, slots, scores, found) == WEMBED_STATUS_OK);
    CHECK_EQ_INT(slots[0], 1234);
    CHECK(fabsf(scores[0] - 1) < 1e-6f);
    // k larger than the index: every row, best first
    int32_t *all = malloc(sizeof(int32_t) * (n + 7));
    float *alls = malloc(sizeof(float) * (n + 7));
    CHECK(we_vindex_search(vi, NULL, q, 1, n + 7, 0, NULL, all, alls, found) == WEMBED_STATUS_OK);
    CHECK_EQ_INT(found[0], n);
    int sorted = 1;
    for (int j = 1; j < n; j++) sorted &= alls[j] < alls[j - 1] || (alls[j] == alls[j - 1] && all[j] > all[j - 1]);
    CHECK(sorted);
    free(all); free(alls);
    we_vindex_free(vi);

    // dot metric: raw inner products, no normalization
    vi = build(d, WE_VI_DOT, WE_VI_F32, 0, x, n);
    CHECK(we_vindex_search(vi, NULL, q, 1, 1, 0, NULL, slots, scores, found) == WEMBED_STATUS_OK);
    double best = -INFINITY;
    int bi = -1;
    for (int j = 0; j < n; j++) {
        double dot = 0;
        for (int t = 0; t < d; t++) dot += (double)x[(size_t)j * d + t] * q[t];
        if (dot > best) { best = dot; bi = j; }
    }
    CHECK_EQ_INT(slots[0], bi);
    CHECK(fabs(scores[0] - best) < 1e-4 * fabs(best));
    we_vindex_free(vi);
    free(x); free(q);
}

// -----------------------------------------------------------------------------------------
// Threads: the same rankings and scores, bit for bit, for 1, 2 and 3 threads, and for a batch
// of queries against the same queries one at a time.

static void test_threads(void) {
    we_rng rng = { 0x7123 };
    const int n = 20011, d = 48, k = 15, nq = 9;
    float *x = make_rows(&rng, n, d, 40), *q = make_rows(&rng, nq, d, 0);
    for (int s = 0; s <= WE_VI_BINARY; s++) {
        we_vindex *vi = build(d, WE_VI_COSINE, (we_vi_storage)s, WE_VI_RESCORE_INT8, x, n);
        int32_t ref_slots[nq * k], ref_found[nq];
        float ref_scores[nq * k];
        for (int i = 0; i < nq; i++)
            CHECK(we_vindex_search(vi, NULL, q + (size_t)i * d, 1, k, 60, NULL, ref_slots + i * k, ref_scores + i * k, ref_found + i) == 0);
        for (int nth = 1; nth <= 3; nth++) {
            wembed_pool *pool = NULL;
            CHECK(wembed_pool_new(nth, &pool) == WEMBED_STATUS_OK);
            int32_t slots[nq * k], found[nq];
            float scores[nq * k];
            CHECK(we_vindex_search(vi, pool, q, nq, k, 60, NULL, slots, scores, found) == WEMBED_STATUS_OK);
            CHECKF(memcmp(slots, ref_slots, sizeof slots) == 0 && memcmp(scores, ref_scores, sizeof scores) == 0 &&
                   memcmp(found, ref_found, sizeof found) == 0, "storage %d, %d threads, batch of %d: results differ", s, nth, nq);
            wembed_pool_free(pool);
        }
        we_vindex_free(vi);
    }
    free(x); free(q);
}

// -----------------------------------------------------------------------------------------
// Compact storages: each ranks by its own exact formula (recomputed here from the raw tiers),
// and recalls the float top 10 well on clustered data.

static void test_compact(void) {
    we_rng rng = { 0xc0de };
    const int n = 5000, d = 96, k = 10, nq = 20;
    float *x = make_rows(&rng, n + nq, d, 50), *q = x + (size_t)n * d;   // queries from the same clusters

    // int8: score = (q codes . row codes) * q scale * row scale
    we_vindex *vi = build(d, WE_VI_COSINE, WE_VI_INT8, 0, x, n);
    CHECK(we_vindex_bytes(vi) == (double)n * (d + 4));
    CHECK(we_vindex_tier(vi, WE_VI_TIER_F32) == NULL && we_vindex_tier(vi, WE_VI_TIER_BITS) == NULL);
    const int8_t *codes = we_vindex_tier(vi, WE_VI_TIER_I8);
    const float *sc = we_vindex_tier(vi, WE_VI_TIER_SCALES);
    double rec = 0;
    for (int i = 0; i < nq; i++) {
        const float *qq = q + (size_t)i * d;
        int32_t slots[k], found;
        float scores[k];
        CHECK(we_vindex_search(vi, NULL, qq, 1, k, 0, NULL, slots, scores, &found) == WEMBED_STATUS_OK);
        // the query's codes, as the index makes them: normalize, then round(v * 127 / max|v|)
        double ss = 0;
        for (int t = 0; t < d; t++) ss += (double)qq[t] * qq[t];
        float inv = (float)(1.0 / sqrt(ss)), qn[96], mx = 0;
        for (int t = 0; t < d; t++) { qn[t] = qq[t] * inv; mx = fmaxf(mx, fabsf(qn[t])); }
        int8_t qc[96];
        for (int t = 0; t < d; t++) qc[t] = (int8_t)lrintf(qn[t] * (127.0f / mx));
        const float qs = mx / 127.0f;
        ranked *r = malloc(sizeof(ranked) * n);
        for (int j = 0; j < n; j++) {
            int32_t dot = 0;
            for (int t = 0; t < d; t++) dot += qc[t] * codes[(size_t)j * d + t];
            r[j] = (ranked){ (float)dot * qs * sc[j], j };
        }
        qsort(r, (size_t)n, sizeof(ranked), by_score);
        int same = 1;
        for (int j = 0; j < k; j++) same &= slots[j] == r[j].slot && scores[j] == (float)r[j].score;
        CHECKF(same, "int8 query %d: ranking differs from the int8 formula", i);
        free(r);
        int want[k];
        exact_topk(x, n, d, qq, k, want);
        rec += recall(slots, want, k);
    }
    rec /= nq;
    CHECKF(rec >= 0.9, "int8 recall@10 %.3f", rec);
    printf("int8 recall@10 on clustered data: %.3f\n", rec);
    we_vindex_free(vi);

    // binary: with every row a candidate, f32 rescoring is the exact float ranking
    vi = build(d, WE_VI_COSINE, WE_VI_BINARY, WE_VI_RESCORE_F32, x, n);
    CHECK(we_vindex_bytes(vi) == (double)n * (d * 4 + d / 8));
    we_vindex *vf = build(d, WE_VI_COSINE, WE_VI_F32, 0, x, n);
    for (int i = 0; i < nq; i++) {
        int32_t a[k], b[k], fa, fb;
        float sa[k], sb[k];
        CHECK(we_vindex_search(vi, NULL, q + (size_t)i * d, 1, k, n, NULL, a, sa, &fa) == WEMBED_STATUS_OK);
        CHECK(we_vindex_search(vf, NULL, q + (size_t)i * d, 1, k, 0, NULL, b, sb, &fb) == WEMBED_STATUS_OK);
        CHECKF(fa == k && memcmp(a, b, sizeof a) == 0 && memcmp(sa, sb, sizeof sa) == 0,
               "binary + f32 rescore of all rows, query %d: differs from f32", i);
    }
    we_vindex_free(vf);

    // binary candidates are the Hamming-nearest rows: with rescore over exactly k candidates,
    // the result set is the k smallest Hamming distances (ties by slot)
    const uint8_t *bits = we_vindex_tier(vi, WE_VI_TIER_BITS);
    const int nb = d / 8;
    for (int i = 0; i < 5; i++) {
        const float *qq = q + (size_t)i * d;
        uint8_t qb[12] = {0};
        for (int t = 0; t < d; t++) if (qq[t] > 0) qb[t >> 3] |= (uint8_t)(0x80 >> (t & 7));
        ranked *r = malloc(sizeof(ranked) * n);
        for (int j = 0; j < n; j++) {
            int32_t h;
            we_search_hamming_ref(qb, bits + (size_t)j * nb, 0, 1, nb, &h);
            r[j] = (ranked){ -h, j };
        }
        qsort(r, (size_t)n, sizeof(ranked), by_score);
        int32_t slots[k], found;
        float scores[k];
        CHECK(we_vindex_search(vi, NULL, qq, 1, k, k, NULL, slots, scores, &found) == WEMBED_STATUS_OK);
        int same = 1;
        for (int j = 0; j < k; j++) {
            int in = 0;
            for (int t = 0; t < k; t++) in |= slots[t] == r[j].slot;
            same &= in;
        }
        CHECKF(same, "binary query %d: candidates are not the Hamming-nearest rows", i);
        free(r);
    }
    we_vindex_free(vi);

    // recall of each rescoring tier with 20x candidates (about two clusters' worth of rows)
    const we_vi_rescore tiers[] = { WE_VI_RESCORE_BITS, WE_VI_RESCORE_INT8, WE_VI_RESCORE_F32 };
    const double floor_[] = { 0.2, 0.9, 0.95 };
    for (int t = 0; t < 3; t++) {
        vi = build(d, WE_VI_COSINE, WE_VI_BINARY, tiers[t], x, n);
        rec = 0;
        for (int i = 0; i < nq; i++) {
            int32_t slots[k], found;
            float scores[k];
            CHECK(we_vindex_search(vi, NULL, q + (size_t)i * d, 1, k, 20 * k, NULL, slots, scores, &found) == 0);
            int want[k];
            exact_topk(x, n, d, q + (size_t)i * d, k, want);
            rec += recall(slots, want, k);
        }
        rec /= nq;
        printf("binary (rescore %d) recall@10, 200 candidates: %.3f\n", t, rec);
        CHECKF(rec >= floor_[t], "binary rescore %d: recall@10 %.3f", t, rec);
        we_vindex_free(vi);
    }

    // rescoring with the bits: the score is q . sign(row) / sqrt(d) on the normalized query
    vi = build(d, WE_VI_COSINE, WE_VI_BINARY, WE_VI_RESCORE_BITS, x, n);
    {
        int32_t slot, found;
        float score;
        CHECK(we_vindex_search(vi, NULL, q, 1, 1, 50, NULL, &slot, &score, &found) == WEMBED_STATUS_OK);
        float row[96];
        CHECK(we_vindex_get(vi, slot, row) == WEMBED_STATUS_OK);
        double dot = 0, qq = 0;
        for (int t = 0; t < d; t++) { dot += (double)q[t] * row[t]; qq += (double)q[t] * q[t]; }
        CHECKF(fabs(score - dot / sqrt(qq)) < 1e-5, "bits rescore %.7f vs %.7f", score, dot / sqrt(qq));
        CHECK(fabsf(row[0]) == (float)(1.0 / sqrt(96.0)));
    }
    we_vindex_free(vi);
    free(x);
}

// -----------------------------------------------------------------------------------------
// Filters, removal, get, raw tiers

static void test_filter_remove(void) {
    we_rng rng = { 0xf117 };
    const int n = 1000, d = 20, k = 5;
    float *x = make_rows(&rng, n, d, 0);
    for (int s = 0; s <= WE_VI_BINARY; s++) {
        we_vindex *vi = build(d, WE_VI_COSINE, (we_vi_storage)s, WE_VI_RESCORE_F32, x, n);
        uint8_t *allow = calloc(n, 1);
        for (int j = 0; j < n; j += 3) allow[j] = 1;
        int32_t slots[k], found, all_slots[n];
        float scores[k], all_scores[n];
        CHECK(we_vindex_search(vi, NULL, x, 1, k, n, allow, slots, scores, &found) == WEMBED_STATUS_OK);
        CHECK_EQ_INT(found, k);
        CHECK_EQ_INT(slots[0], 0);   // row 0 is allowed and is the query
        for (int j = 0; j < k; j++) CHECKF(slots[j] % 3 == 0, "storage %d: slot %d is filtered out", s, slots[j]);
        // the filtered ranking is the unfiltered one with the others dropped
        CHECK(we_vindex_search(vi, NULL, x, 1, n, n, NULL, all_slots, all_scores, &found) == WEMBED_STATUS_OK);
        int j = 0;
        for (int t = 0; t < n && j < k; t++)
            if (all_slots[t] % 3 == 0) { CHECKF(all_slots[t] == slots[j], "storage %d: filtered rank %d", s, j); j++; }
        // fewer allowed rows than k
        memset(allow, 0, n);
        allow[7] = allow[900] = 1;
        CHECK(we_vindex_search(vi, NULL, x, 1, k, n, allow, slots, scores, &found) == WEMBED_STATUS_OK);
        CHECK_EQ_INT(found, 2);
        memset(allow, 0, n);
        CHECK(we_vindex_search(vi, NULL, x, 1, k, n, allow, slots, scores, &found) == WEMBED_STATUS_OK);
        CHECK_EQ_INT(found, 0);
        free(allow);

        // removal moves the last row into the hole; the index then equals one built in that order
        int32_t moved;
        float *y = malloc(sizeof(float) * (size_t)n * d);
        memcpy(y, x, sizeof(float) * (size_t)n * d);
        CHECK(we_vindex_remove(vi, 10, &moved) == WEMBED_STATUS_OK);
        CHECK_EQ_INT(moved, n - 1);
        memcpy(y + 10 * d, y + (size_t)(n - 1) * d, sizeof(float) * d);
        CHECK(we_vindex_remove(vi, n - 2, &moved) == WEMBED_STATUS_OK);   // the last one now
        CHECK_EQ_INT(moved, -1);
        CHECK_EQ_INT(we_vindex_count(vi), n - 2);
        CHECK(we_vindex_remove(vi, n - 2, &moved) == WEMBED_STATUS_INVALID_ARGUMENT);
        CHECK(strstr(we_vindex_last_error(vi), "slot") != NULL);
        we_vindex *fresh = build(d, WE_VI_COSINE, (we_vi_storage)s, WE_VI_RESCORE_F32, y, n - 2);
        int32_t a[k], b[k], fa, fb;
        float sa[k], sb[k];
        CHECK(we_vindex_search(vi, NULL, x + 500 * d, 1, k, 50, NULL, a, sa, &fa) == 0);
        CHECK(we_vindex_search(fresh, NULL, x + 500 * d, 1, k, 50, NULL, b, sb, &fb) == 0);
        CHECKF(memcmp(a, b, sizeof a) == 0 && memcmp(sa, sb, sizeof sa) == 0, "storage %d: after removal", s);

        // raw tiers round trip into a new index
        we_vindex *copy = NULL;
        CHECK(we_vindex_new(d, WE_VI_COSINE, (we_vi_storage)s, WE_VI_RESCORE_F32, &copy) == WEMBED_STATUS_OK);
        const float *tf = we_vindex_tier(vi, WE_VI_TIER_F32);
        const int8_t *ti = we_vindex_tier(vi, WE_VI_TIER_I8);
        const float *ts = we_vindex_tier(vi, WE_VI_TIER_SCALES);
        const uint8_t *tb = we_vindex_tier(vi, WE_VI_TIER_BITS);
        CHECK(we_vindex_append_raw(copy, n - 2, tf, ti, ts, tb) == WEMBED_STATUS_OK);
        CHECK(we_vindex_search(copy, NULL, x + 500 * d, 1, k, 50, NULL, b, sb, &fb) == 0);
        CHECKF(memcmp(a, b, sizeof a) == 0 && memcmp(sa, sb, sizeof sa) == 0, "storage %d: raw copy", s);
        // mismatched tiers are refused and add nothing
        CHECK(we_vindex_append_raw(copy, 1, tf ? NULL : x, ti, ts, tb) == WEMBED_STATUS_INVALID_ARGUMENT);
        CHECK_EQ_INT(we_vindex_count(copy), n - 2);
        we_vindex_free(copy);

        // get: the stored (normalized) floats, or decoded codes close to them
        float row[20];
        CHECK(we_vindex_get(vi, 3, row) == WEMBED_STATUS_OK);
        double dot = 0, xx = 0, rr = 0;
        for (int t = 0; t < d; t++) { dot += (double)row[t] * y[3 * d + t]; xx += (double)y[3 * d + t] * y[3 * d + t]; rr += (double)row[t] * row[t]; }
        const double cos = dot / sqrt(xx * rr);
        CHECKF(s == WE_VI_BINARY ? cos > 0.99 : cos > 0.999, "storage %d: get cosine %.5f", s, cos);   // binary keeps f32 here
        CHECK(we_vindex_get(vi, n, row) == WEMBED_STATUS_INVALID_ARGUMENT);
        free(y);
        we_vindex_free(fresh);
        we_vindex_free(vi);
    }
    free(x);

    // bits past dims are cleared on a raw append, so they never count in a Hamming distance
    we_vindex *vi = NULL;
    CHECK(we_vindex_new(10, WE_VI_COSINE, WE_VI_BINARY, WE_VI_RESCORE_BITS, &vi) == WEMBED_STATUS_OK);
    const uint8_t raw[2] = { 0xff, 0xff };
    CHECK(we_vindex_append_raw(vi, 1, NULL, NULL, NULL, raw) == WEMBED_STATUS_OK);
    const uint8_t *b = we_vindex_tier(vi, WE_VI_TIER_BITS);
    CHECK(b[0] == 0xff && b[1] == 0xc0);
    we_vindex_free(vi);
}

// -----------------------------------------------------------------------------------------
// Bad input is refused with a message and changes nothing.

static void test_errors(void) {
    we_vindex *vi = NULL;
    CHECK(we_vindex_new(0, WE_VI_COSINE, WE_VI_F32, 0, &vi) == WEMBED_STATUS_INVALID_ARGUMENT && vi == NULL);
    CHECK(we_vindex_new(WE_VI_MAX_DIMS + 1, WE_VI_COSINE, WE_VI_F32, 0, &vi) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(we_vindex_new(4, (we_vi_metric)7, WE_VI_F32, 0, &vi) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(we_vindex_new(4, WE_VI_COSINE, (we_vi_storage)3, 0, &vi) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(we_vindex_new(4, WE_VI_COSINE, WE_VI_F32, 0, &vi) == WEMBED_STATUS_OK);
    float x[8] = { 1, 2, 3, 4, 5, NAN, 7, 8 };
    CHECK(we_vindex_add(vi, x, 2) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(we_vindex_last_error(vi), "vector 1 has a non-finite value") != NULL);
    CHECK_EQ_INT(we_vindex_count(vi), 0);
    x[5] = 6;
    CHECK(we_vindex_add(vi, x, 2) == WEMBED_STATUS_OK);
    CHECK(we_vindex_last_error(vi)[0] == 0);
    int32_t slot, found;
    float score;
    CHECK(we_vindex_search(vi, NULL, x, 1, 0, 0, NULL, &slot, &score, &found) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(we_vindex_last_error(vi), "k must be") != NULL);
    CHECK(we_vindex_search(vi, NULL, x, WE_VI_MAX_QUERIES + 1, 1, 0, NULL, &slot, &score, &found) == WEMBED_STATUS_INVALID_ARGUMENT);
    float bad[4] = { 0, INFINITY, 0, 0 };
    CHECK(we_vindex_search(vi, NULL, bad, 1, 1, 0, NULL, &slot, &score, &found) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(we_vindex_search(vi, NULL, x, 0, 1, 0, NULL, NULL, NULL, NULL) == WEMBED_STATUS_OK);
    // a zero query scores 0 everywhere; ties go to the lower slot
    float zero[4] = { 0, 0, 0, 0 };
    CHECK(we_vindex_search(vi, NULL, zero, 1, 1, 0, NULL, &slot, &score, &found) == WEMBED_STATUS_OK);
    CHECK(slot == 0 && score == 0);
    CHECK(we_vindex_reserve(vi, -1) == WEMBED_STATUS_INVALID_ARGUMENT);
    CHECK(we_vindex_append_raw(vi, 1, bad, NULL, NULL, NULL) == WEMBED_STATUS_BAD_FORMAT);
    CHECK_EQ_INT(we_vindex_count(vi), 2);
    we_vindex_free(vi);

    // an empty index finds nothing
    CHECK(we_vindex_new(4, WE_VI_DOT, WE_VI_BINARY, WE_VI_RESCORE_INT8, &vi) == WEMBED_STATUS_OK);
    CHECK(we_vindex_search(vi, NULL, x, 1, 3, 10, NULL, &slot, &score, &found) == WEMBED_STATUS_OK);
    CHECK_EQ_INT(found, 0);
    float scale_bad = -1;
    int8_t code[4] = {0};
    uint8_t bits[1] = {0};
    CHECK(we_vindex_append_raw(vi, 1, NULL, code, &scale_bad, bits) == WEMBED_STATUS_BAD_FORMAT);
    we_vindex_free(vi);

    // stored rows no encoding writes (a damaged file): a cosine row not of norm 1, int8 codes
    // not peaking at 127, a cosine int8 row above 1; nothing is added
    CHECK(we_vindex_new(4, WE_VI_COSINE, WE_VI_F32, WE_VI_RESCORE_BITS, &vi) == WEMBED_STATUS_OK);
    float unit[4] = { 0, 1, 0, 0 }, twice[4] = { 0, 2, 0, 0 };
    CHECK(we_vindex_append_raw(vi, 1, twice, NULL, NULL, NULL) == WEMBED_STATUS_BAD_FORMAT);
    CHECK(strstr(we_vindex_last_error(vi), "norm 2") != NULL);
    CHECK(we_vindex_append_raw(vi, 1, unit, NULL, NULL, NULL) == WEMBED_STATUS_OK);
    CHECK(we_vindex_append_raw(vi, 1, zero, NULL, NULL, NULL) == WEMBED_STATUS_OK);
    CHECK_EQ_INT(we_vindex_count(vi), 2);
    we_vindex_free(vi);
    CHECK(we_vindex_new(4, WE_VI_COSINE, WE_VI_INT8, WE_VI_RESCORE_BITS, &vi) == WEMBED_STATUS_OK);
    int8_t peak[4] = { 0, 127, -3, 0 }, low[4] = { 0, 63, -3, 0 };
    float s1 = 1.0f / 127, s2 = 2.0f / 127, s0 = 0;
    CHECK(we_vindex_append_raw(vi, 1, NULL, low, &s1, NULL) == WEMBED_STATUS_BAD_FORMAT);
    CHECK(we_vindex_append_raw(vi, 1, NULL, peak, &s2, NULL) == WEMBED_STATUS_BAD_FORMAT);
    CHECK(we_vindex_append_raw(vi, 1, NULL, peak, &s0, NULL) == WEMBED_STATUS_BAD_FORMAT);
    CHECK(we_vindex_append_raw(vi, 1, NULL, peak, &s1, NULL) == WEMBED_STATUS_OK);
    CHECK_EQ_INT(we_vindex_count(vi), 1);
    we_vindex_free(vi);
    we_vindex_free(NULL);
    CHECK_EQ_INT(we_alloc_live(), 0);
}

// -----------------------------------------------------------------------------------------
// Every allocation failing in turn: a clean ALLOC_FAILED, nothing leaked, the index unchanged.

static void test_alloc_failures(void) {
    we_rng rng = { 0xa110c };
    const int n = 300, d = 24;
    float *x = make_rows(&rng, n, d, 0);
    for (int s = 0; s <= WE_VI_BINARY; s++) {
        for (int fail = 0; fail < 12; fail++) {
            const int64_t live0 = we_alloc_live();
            we_vindex *vi = NULL;
            we_alloc_fail_after(fail);
            wembed_status rc = we_vindex_new(d, WE_VI_COSINE, (we_vi_storage)s, WE_VI_RESCORE_INT8, &vi);
            if (rc == WEMBED_STATUS_OK) rc = we_vindex_add(vi, x, n);
            int32_t slots[5], found;
            float scores[5];
            if (rc == WEMBED_STATUS_OK) rc = we_vindex_search(vi, NULL, x, 1, 5, 20, NULL, slots, scores, &found);
            we_alloc_fail_after(-1);
            CHECKF(rc == WEMBED_STATUS_OK || rc == WEMBED_STATUS_ALLOC_FAILED, "storage %d, failing allocation %d: status %d", s, fail, rc);
            if (vi) {
                const int32_t c = we_vindex_count(vi);
                CHECKF(c == 0 || c == n, "storage %d, failing allocation %d: %d rows", s, fail, c);
                if (rc == WEMBED_STATUS_ALLOC_FAILED) CHECK(strstr(we_vindex_last_error(vi), "memory") != NULL);
                // still usable
                CHECK(we_vindex_add(vi, x, 3) == WEMBED_STATUS_OK);
                CHECK(we_vindex_search(vi, NULL, x, 1, 1, 5, NULL, slots, scores, &found) == WEMBED_STATUS_OK && found == 1);
            }
            we_vindex_free(vi);
            CHECK_EQ_INT(we_alloc_live(), live0);
        }
    }
    free(x);
}

int main(void) {
    printf("search kernels: %s\n", we_search_impl());
    test_kernels();
    test_f32_exact();
    test_threads();
    test_compact();
    test_filter_remove();
    test_errors();
    test_alloc_failures();
    return we_test_finish("test-search");
}
