// test-attention.c - the tiled online-softmax attention against the double-precision
// reference, and the rotary embedding tables and rotation.
#include "harness.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/attention.h"
#include "ops/ops.h"

// One attention call: T tokens, H query heads over Hkv key/value heads of d dims, causal
// and/or a window, an optional bias table (BIAS_RANDOM: uniform in [-3, 3); BIAS_ALIBI:
// -slope_h |i - j| with ALiBi's slopes 2^(-8 (h+1) / H)). q, k and v sit in one row of
// width `width` (a fused projection, with slack); width 0 means (H + 2 Hkv) d + 5.
enum { BIAS_NONE, BIAS_RANDOM, BIAS_ALIBI };
static const char *const BIAS_NAMES[] = { "none", "random", "alibi" };

typedef struct acase { int T, H, Hkv, d; bool causal; int window, bias, threads, width; } acase;

typedef struct adata {
    int T, E, Ekv, ld, ldo;
    float *qkv, *bias;                // (T, ld), (H, 2T - 1)
    we_attn_params p;
} adata;

static void adata_init(adata *a, const acase *c, we_rng *rng) {
    a->T = c->T;
    a->E = c->H * c->d;
    a->Ekv = c->Hkv * c->d;
    a->ld = c->width ? c->width : a->E + 2 * a->Ekv + 5;
    a->ldo = a->E + 3;
    a->qkv = malloc(sizeof(float) * (size_t)c->T * a->ld);
    // Scores of a few units, as in trained models (q.k / sqrt(d) up to ~10).
    for (size_t i = 0; i < (size_t)c->T * a->ld; i++) a->qkv[i] = we_rng_normal(rng) * 1.3f;
    a->bias = NULL;
    size_t nb = (size_t)c->H * (2 * (size_t)c->T - 1);
    if (c->bias != BIAS_NONE) {
        a->bias = malloc(sizeof(float) * nb);
        for (int h = 0; h < c->H; h++) {
            float slope = exp2f(-8.0f * (float)(h + 1) / (float)c->H);
            for (int r = 0; r < 2 * c->T - 1; r++) {
                float *b = &a->bias[(size_t)h * (2 * c->T - 1) + r];
                *b = c->bias == BIAS_RANDOM ? we_rng_uniform(rng, -3.0f, 3.0f) : -slope * (float)abs(r - (c->T - 1));
            }
        }
    }
    a->p = (we_attn_params){ .T = c->T, .n_head = c->H, .n_kv_head = c->Hkv, .head_dim = c->d,
                             .scale = 1.0f / sqrtf((float)c->d), .causal = c->causal,
                             .window = c->window, .bias = a->bias };
}

static void adata_free(adata *a) { free(a->qkv); free(a->bias); }

static float *run_opt(wembed_pool *pool, const adata *a, const we_attn_params *p) {
    float *o = malloc(sizeof(float) * (size_t)a->T * a->ldo);
    for (size_t i = 0; i < (size_t)a->T * a->ldo; i++) o[i] = 12345.0f;     // the gaps stay
    float *s = malloc(sizeof(float) * we_attention_scratch_floats(a->T, p->n_kv_head, p->head_dim,
                                                                  wembed_pool_n_threads(pool)));
    we_attention(pool, o, a->ldo, a->qkv, a->ld, a->qkv + a->E, a->ld, a->qkv + a->E + a->Ekv, a->ld, p, s);
    free(s);
    return o;
}

static void case_name(char *buf, size_t n, const acase *c) {
    int k = snprintf(buf, n, "ATTENTION(T=%d,H=%d", c->T, c->H);
    if (c->Hkv != c->H) k += snprintf(buf + k, n - (size_t)k, ",Hkv=%d", c->Hkv);
    k += snprintf(buf + k, n - (size_t)k, ",d=%d,causal=%d", c->d, c->causal);
    if (c->window) k += snprintf(buf + k, n - (size_t)k, ",window=%d", c->window);
    if (c->bias) k += snprintf(buf + k, n - (size_t)k, ",bias=%s", BIAS_NAMES[c->bias]);
    if (c->width) k += snprintf(buf + k, n - (size_t)k, ",width=%d", c->width);
    snprintf(buf + k, n - (size_t)k, ",threads=%d)", c->threads);
}

// The tiled kernel against the double reference, and against itself on one thread (bit for
// bit: each (head, row block) is one task, computed the same way by whichever thread).
static void run_case(const acase *c, wembed_pool *pool, we_rng *rng) {
    char name[160];
    case_name(name, sizeof name, c);
    adata a;
    adata_init(&a, c, rng);
    float *o = run_opt(pool, &a, &a.p), *o1 = run_opt(NULL, &a, &a.p);
    float *o_ref = malloc(sizeof(float) * (size_t)c->T * a.ldo);
    double *rs = malloc(sizeof(double) * (size_t)c->T * wembed_pool_n_threads(pool));
    we_attention_ref(pool, o_ref, a.ldo, a.qkv, a.ld, a.qkv + a.E, a.ld, a.qkv + a.E + a.Ekv, a.ld, &a.p, rs);
    double md = 0;
    bool gaps = true;
    for (int t = 0; t < c->T; t++) {
        for (int e = 0; e < a.E; e++) {
            double diff = fabs((double)o[(size_t)t * a.ldo + e] - o_ref[(size_t)t * a.ldo + e]);
            if (diff > md || diff != diff) md = diff != diff ? INFINITY : diff;
        }
        for (int e = a.E; e < a.ldo; e++) gaps &= o[(size_t)t * a.ldo + e] == 12345.0f;
    }
    bool same = memcmp(o, o1, sizeof(float) * (size_t)c->T * a.ldo) == 0;
    // Outputs are convex combinations of values |v| <= ~6 (1.3 sigma normals); each P V
    // tile sums up to 256 products in float (error ~1e-6 typically, a few e-6 at worst),
    // and exp adds 1.5 ulp per weight. The fixtures' own tolerance on hidden states is 1e-4.
    CHECKF(md < 5e-6 && gaps && same, "%s: max abs diff %g, gaps %s, vs one thread %s", name, md,
           gaps ? "intact" : "WRITTEN", same ? "bit-identical" : "DIFFER");
    free(o); free(o1); free(o_ref); free(rs);
    adata_free(&a);
}

// The reference against attention.h's definition, written out per (query, key) pair: the
// kv head h / (H / Hkv), the mask as a predicate, the bias at j - i + T - 1.
static void test_ref_definition(void) {
    enum { T = 9, H = 4, Hkv = 2, d = 8, E = H * d, Ekv = Hkv * d };
    we_rng rng = { 42 };
    float q[T * E], k[T * Ekv], v[T * Ekv], bias[H * (2 * T - 1)], o[T * E];
    we_rng_fill(&rng, q, WE_ARRAY_LEN(q), -2, 2);
    we_rng_fill(&rng, k, WE_ARRAY_LEN(k), -2, 2);
    we_rng_fill(&rng, v, WE_ARRAY_LEN(v), -2, 2);
    we_rng_fill(&rng, bias, WE_ARRAY_LEN(bias), -3, 3);
    // SelfExtend's grouped copies (any values: the reference only has to pick the right one)
    float qa[T * E], qb[T * E], kg[T * Ekv];
    we_rng_fill(&rng, qa, WE_ARRAY_LEN(qa), -2, 2);
    we_rng_fill(&rng, qb, WE_ARRAY_LEN(qb), -2, 2);
    we_rng_fill(&rng, kg, WE_ARRAY_LEN(kg), -2, 2);
    double rs[T];
    for (int se = 0; se <= 3; se += 3)
    for (int causal = 0; causal < 2; causal++) {
        for (int window = 0; window <= 2; window += 2) {
            we_attn_params p = { .T = T, .n_head = H, .n_kv_head = Hkv, .head_dim = d, .scale = 0.3f,
                                 .causal = causal, .window = window, .bias = bias,
                                 .se_window = se, .qa = qa, .qb = qb, .kg = kg, .ldqa = E, .ldqb = E, .ldkg = Ekv };
            we_attention_ref(NULL, o, E, q, E, k, Ekv, v, Ekv, &p, rs);
            double md = 0;
            for (int h = 0; h < H; h++) {
                int g = h / (H / Hkv);
                for (int i = 0; i < T; i++) {
                    double w[T], wsum = 0;
                    for (int j = 0; j < T; j++) {
                        bool seen = (!causal || j <= i) && (window == 0 || abs(i - j) <= window);
                        // SelfExtend: |i - j| >= se from qa (key at or before i) or qb (after) and kg
                        const float *qq = q, *kk = k;
                        if (se && abs(i - j) >= se) qq = j <= i ? qa : qb, kk = kg;
                        double s = 0;
                        for (int e = 0; e < d; e++) s += (double)qq[i * E + h * d + e] * kk[j * Ekv + g * d + e];
                        w[j] = seen ? exp(s * 0.3f + bias[h * (2 * T - 1) + j - i + T - 1]) : 0;
                        wsum += w[j];
                    }
                    for (int e = 0; e < d; e++) {
                        double acc = 0;
                        for (int j = 0; j < T; j++) acc += w[j] * v[j * Ekv + g * d + e];
                        md = fmax(md, fabs(acc / wsum - o[i * E + h * d + e]));
                    }
                }
            }
            CHECKF(md < 1e-6, "ATTENTION_REF(T=9,H=4,Hkv=2,causal=%d,window=%d,bias,se_window=%d): max abs diff %g from the definition",
                   causal, window, se, md);
        }
    }
}

static void test_attention(void) {
    static const acase cases[] = {
        // multi-head attention, full or causal (the encoders' and CLIP text's cases)
        { 1, 1, 1, 32, false, 0, 0, 1, 0 }, { 1, 4, 4, 64, true, 0, 0, 1, 0 }, { 5, 2, 2, 32, false, 0, 0, 1, 0 },
        { 31, 4, 4, 64, false, 0, 0, 2, 0 }, { 32, 4, 4, 64, true, 0, 0, 2, 0 }, { 33, 3, 3, 80, false, 0, 0, 3, 0 },
        { 64, 2, 2, 64, true, 0, 0, 1, 0 }, { 65, 2, 2, 64, false, 0, 0, 2, 0 }, { 77, 8, 8, 64, true, 0, 0, 2, 0 },
        { 200, 4, 4, 32, false, 0, 0, 3, 0 }, { 300, 4, 4, 16, true, 0, 0, 3, 0 }, { 1000, 2, 2, 64, false, 0, 0, 2, 0 },
        { 129, 12, 12, 64, false, 0, 0, 2, 0 }, { 17, 6, 6, 96, true, 0, 0, 2, 0 },
        // grouped-query attention: 4 and 8 query heads per kv head
        { 1, 8, 2, 64, false, 0, 0, 3, 0 }, { 7, 8, 1, 64, true, 0, 0, 2, 0 }, { 40, 8, 2, 64, false, 0, 0, 3, 0 },
        { 41, 8, 1, 64, true, 0, 0, 3, 0 }, { 300, 8, 2, 64, false, 0, 0, 3, 0 }, { 700, 8, 1, 32, true, 0, 0, 2, 0 },
        // head_dim 24, rows wider than the heads (q, k, v in a 3 x 128 row: width != H d)
        { 7, 4, 4, 24, false, 0, 0, 1, 384 }, { 41, 4, 2, 24, true, 0, 0, 3, 384 }, { 300, 4, 4, 24, false, 0, 0, 2, 384 },
        // head_dim not a multiple of the packed panel's 8 (the packed V's padding)
        { 45, 3, 3, 20, false, 0, 0, 2, 0 }, { 300, 2, 1, 12, true, 0, BIAS_ALIBI, 2, 0 },
        // sliding window, symmetric and with causal, across the 40-row and key-block edges
        { 1, 2, 2, 32, false, 1, 0, 1, 0 }, { 7, 2, 2, 32, false, 1, 0, 2, 0 }, { 40, 4, 4, 32, false, 5, 0, 3, 0 },
        { 41, 4, 4, 32, true, 5, 0, 3, 0 }, { 300, 4, 2, 64, false, 64, 0, 3, 0 }, { 700, 4, 4, 32, true, 64, 0, 2, 0 },
        { 700, 2, 2, 64, false, 1, 0, 3, 0 }, { 300, 2, 1, 24, true, 1, 0, 2, 0 }, { 700, 4, 2, 32, false, 5, 0, 3, 0 },
        { 300, 2, 2, 32, false, 200, 0, 2, 0 }, { 700, 2, 2, 32, true, 300, 0, 3, 0 },
        // bias tables
        { 1, 4, 4, 32, false, 0, BIAS_RANDOM, 1, 0 }, { 7, 4, 4, 32, false, 0, BIAS_ALIBI, 2, 0 },
        { 41, 4, 4, 64, false, 0, BIAS_RANDOM, 3, 0 }, { 300, 4, 4, 32, false, 0, BIAS_ALIBI, 3, 0 },
        { 700, 2, 2, 64, true, 0, BIAS_ALIBI, 2, 0 }, { 300, 4, 4, 24, true, 0, BIAS_RANDOM, 3, 384 },
        // bias, window and grouped-query attention together
        { 40, 8, 2, 32, false, 5, BIAS_RANDOM, 3, 0 }, { 41, 8, 1, 64, true, 64, BIAS_ALIBI, 2, 0 },
        { 300, 8, 2, 24, false, 64, BIAS_ALIBI, 3, 0 }, { 700, 8, 2, 32, true, 5, BIAS_RANDOM, 3, 0 },
        { 700, 4, 1, 64, false, 64, BIAS_RANDOM, 2, 0 },
        // a long sequence, narrow window: most key blocks are skipped
        { 4096, 2, 1, 32, false, 16, 0, 3, 0 }, { 4096, 2, 2, 32, true, 16, BIAS_ALIBI, 2, 0 },
    };
    we_rng rng = { 0x9e3779b97f4a7c15ull };
    for (size_t i = 0; i < WE_ARRAY_LEN(cases); i++) {
        wembed_pool *pool = NULL;
        CHECK(wembed_pool_new(cases[i].threads, &pool) == WEMBED_STATUS_OK);
        run_case(&cases[i], pool, &rng);
        wembed_pool_free(pool);
    }

    // Same result whatever the thread count: each (head, row block) is one task.
    int T = 150, H = 4, d = 64, E = H * d;
    float *qkv = malloc(sizeof(float) * (size_t)T * 3 * E), *o1 = malloc(sizeof(float) * (size_t)T * E), *o3 = malloc(sizeof(float) * (size_t)T * E);
    for (int i = 0; i < T * 3 * E; i++) qkv[i] = we_rng_normal(&rng);
    wembed_pool *p3 = NULL;
    CHECK(wembed_pool_new(3, &p3) == WEMBED_STATUS_OK);
    float *s = malloc(sizeof(float) * we_attention_scratch_floats(T, H, d, 3));
    we_attn_params ap = { .T = T, .n_head = H, .n_kv_head = H, .head_dim = d, .scale = 0.125f };
    we_attention(NULL, o1, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, &ap, s);
    we_attention(p3, o3, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, &ap, s);
    CHECK(memcmp(o1, o3, sizeof(float) * (size_t)T * E) == 0);
    wembed_pool_free(p3);
    free(qkv); free(o1); free(o3); free(s);

    // A window of T - 1 or more hides no key: bit for bit the unwindowed result, with or
    // without causal, bias and grouped heads.
    {
        static const acase wide[] = {
            { 7, 4, 2, 32, false, 0, BIAS_NONE, 1, 0 }, { 41, 4, 4, 64, true, 0, BIAS_ALIBI, 1, 0 },
            { 300, 8, 2, 24, false, 0, BIAS_RANDOM, 1, 0 }, { 700, 2, 1, 64, true, 0, BIAS_NONE, 1, 0 },
        };
        for (size_t i = 0; i < WE_ARRAY_LEN(wide); i++) {
            adata a;
            adata_init(&a, &wide[i], &rng);
            float *o0 = run_opt(NULL, &a, &a.p);
            const int windows[] = { wide[i].T - 1, wide[i].T, wide[i].T + 100, INT_MAX };
            for (size_t w = 0; w < WE_ARRAY_LEN(windows); w++) {
                we_attn_params pw = a.p;
                pw.window = windows[w];
                float *ow = run_opt(NULL, &a, &pw);
                CHECKF(memcmp(o0, ow, sizeof(float) * (size_t)a.T * a.ldo) == 0,
                       "ATTENTION(T=%d,H=%d,Hkv=%d,causal=%d,bias=%s): window %d differs from none",
                       wide[i].T, wide[i].H, wide[i].Hkv, wide[i].causal, BIAS_NAMES[wide[i].bias], windows[w]);
                free(ow);
            }
            // the reference too (and no overflow at i + window)
            we_attn_params pw = a.p;
            pw.window = INT_MAX;
            float *r0 = malloc(sizeof(float) * (size_t)a.T * a.ldo), *rw = malloc(sizeof(float) * (size_t)a.T * a.ldo);
            double *rs = malloc(sizeof(double) * (size_t)a.T);
            we_attention_ref(NULL, r0, a.ldo, a.qkv, a.ld, a.qkv + a.E, a.ld, a.qkv + a.E + a.Ekv, a.ld, &a.p, rs);
            we_attention_ref(NULL, rw, a.ldo, a.qkv, a.ld, a.qkv + a.E, a.ld, a.qkv + a.E + a.Ekv, a.ld, &pw, rs);
            bool same = true;
            for (int t = 0; t < a.T; t++) same &= memcmp(r0 + (size_t)t * a.ldo, rw + (size_t)t * a.ldo, sizeof(float) * (size_t)a.E) == 0;
            CHECKF(same, "ATTENTION_REF(T=%d): window INT_MAX differs from none", wide[i].T);
            free(r0); free(rw); free(rs);
            free(o0);
            adata_free(&a);
        }
    }

    // A NaN in a query row makes that row's outputs NaN (not weights of 0) and leaves the
    // other rows alone.
    {
        int Tn = 300, Hn = 2, dn = 64, En = Hn * dn;
        float *x = malloc(sizeof(float) * (size_t)Tn * 3 * En), *on = malloc(sizeof(float) * (size_t)Tn * En);
        for (int i = 0; i < Tn * 3 * En; i++) x[i] = we_rng_normal(&rng) * 4;
        x[(size_t)7 * 3 * En + 5] = NAN;                       // query row 7, head 0
        float *sn = malloc(sizeof(float) * we_attention_scratch_floats(Tn, Hn, dn, 1));
        we_attn_params pn = { .T = Tn, .n_head = Hn, .n_kv_head = Hn, .head_dim = dn, .scale = 0.125f };
        we_attention(NULL, on, En, x, 3 * En, x + En, 3 * En, x + 2 * En, 3 * En, &pn, sn);
        bool nan_row = true, others = true;
        for (int e = 0; e < dn; e++) nan_row &= isnan(on[(size_t)7 * En + e]);
        for (int t = 0; t < Tn; t++)
            for (int e = 0; e < En; e++)
                if (!(t == 7 && e < dn)) others &= isfinite(on[(size_t)t * En + e]);
        CHECKF(nan_row && others, "ATTENTION(NaN in one query): that row NaN %d, the others finite %d", nan_row, others);
        free(x); free(on); free(sn);
    }

    // Scratch grows linearly with T (this is what keeps 8k-token documents in memory), and
    // with the kv heads, not the query heads.
    size_t s1 = we_attention_scratch_floats(1024, 12, 64, 2), s8 = we_attention_scratch_floats(8192, 12, 64, 2);
    CHECKF(s8 < 8 * s1 + 100000, "scratch %zu floats at T=1024, %zu at T=8192", s1, s8);
    size_t sg = we_attention_scratch_floats(8192, 2, 64, 2);
    CHECKF(sg < s8 / 5, "scratch %zu floats with 12 kv heads, %zu with 2", s8, sg);
}

// -----------------------------------------------------------------------------------------
// SelfExtend

// A SelfExtend case: the acase's attention with neighbour window W, and the grouped copies
// either RoPE-rotated as a family makes them (G >= 1: q, k rotated in place at i, qa at
// i/G + shift, qb at i/G - shift, kg at j/G, shift = W - W/G, base 1000 on the whole head) or
// independent random values (G = 0: any mix-up of qa, qb, kg and the ordinary pair shows).
typedef struct secase { acase a; int W, G; } secase;

typedef struct sedata {
    adata a;
    float *qa, *qb, *kg;              // (T, ldqa), (T, ldqb), (T, ldkg)
    int ldqa, ldqb, ldkg;
} sedata;

// x (T rows of H heads of d; ld) rotated in place, row t at position pos(t).
static void rope_rows(float *x, int ld, int T, int H, int d, int G, int add, bool grouped) {
    float ct[64], st[64];
    for (int t = 0; t < T; t++) {
        int pos = grouped ? t / G + add : t;
        we_rope_tables(ct, st, 1, pos, d, 1000.0);
        we_rope_apply(NULL, x + (size_t)t * ld, ld, 1, H, d, d, ct, st);
    }
}

static void sedata_init(sedata *s, const secase *c, we_rng *rng) {
    adata *a = &s->a;
    adata_init(a, &c->a, rng);
    int T = c->a.T;
    s->ldqa = a->E + 1;                       // strides of their own
    s->ldqb = a->E + 7;
    s->ldkg = a->Ekv + 2;
    s->qa = malloc(sizeof(float) * (size_t)T * s->ldqa);
    s->qb = malloc(sizeof(float) * (size_t)T * s->ldqb);
    s->kg = malloc(sizeof(float) * (size_t)T * s->ldkg);
    if (c->G == 0) {
        for (size_t i = 0; i < (size_t)T * s->ldqa; i++) s->qa[i] = we_rng_normal(rng) * 1.3f;
        for (size_t i = 0; i < (size_t)T * s->ldqb; i++) s->qb[i] = we_rng_normal(rng) * 1.3f;
        for (size_t i = 0; i < (size_t)T * s->ldkg; i++) s->kg[i] = we_rng_normal(rng) * 1.3f;
    } else {
        int shift = c->W - c->W / c->G;
        for (int t = 0; t < T; t++) {
            memcpy(s->qa + (size_t)t * s->ldqa, a->qkv + (size_t)t * a->ld, sizeof(float) * (size_t)a->E);
            memcpy(s->qb + (size_t)t * s->ldqb, a->qkv + (size_t)t * a->ld, sizeof(float) * (size_t)a->E);
            memcpy(s->kg + (size_t)t * s->ldkg, a->qkv + (size_t)t * a->ld + a->E, sizeof(float) * (size_t)a->Ekv);
        }
        rope_rows(a->qkv, a->ld, T, c->a.H, c->a.d, 1, 0, false);
        rope_rows(a->qkv + a->E, a->ld, T, c->a.Hkv, c->a.d, 1, 0, false);
        rope_rows(s->qa, s->ldqa, T, c->a.H, c->a.d, c->G, shift, true);
        rope_rows(s->qb, s->ldqb, T, c->a.H, c->a.d, c->G, -shift, true);
        rope_rows(s->kg, s->ldkg, T, c->a.Hkv, c->a.d, c->G, 0, true);
    }
    a->p.se_window = c->W;
    // causal: no key after its query, so no qb (what the RoPE families pass)
    a->p.qa = s->qa, a->p.qb = c->a.causal ? NULL : s->qb, a->p.kg = s->kg;
    a->p.ldqa = s->ldqa, a->p.ldqb = s->ldqb, a->p.ldkg = s->ldkg;
}

static void sedata_free(sedata *s) { free(s->qa); free(s->qb); free(s->kg); adata_free(&s->a); }

static float *run_se(wembed_pool *pool, const adata *a, const we_attn_params *p) {
    float *o = malloc(sizeof(float) * (size_t)a->T * a->ldo);
    for (size_t i = 0; i < (size_t)a->T * a->ldo; i++) o[i] = 12345.0f;
    float *s = malloc(sizeof(float) * we_attention_scratch_floats_for(p, wembed_pool_n_threads(pool)));
    we_attention(pool, o, a->ldo, a->qkv, a->ld, a->qkv + a->E, a->ld, a->qkv + a->E + a->Ekv, a->ld, p, s);
    free(s);
    return o;
}

static bool same_rows(const float *x, const float *y, const adata *a) {
    for (int t = 0; t < a->T; t++)
        if (memcmp(x + (size_t)t * a->ldo, y + (size_t)t * a->ldo, sizeof(float) * (size_t)a->E)) return false;
    return true;
}

static void test_self_extend(void) {
    static const secase cases[] = {
        // at and around the window: W >= T is plain attention (checked bit for bit below)
        { { 1, 2, 2, 32, false, 0, 0, 1, 0 }, 1, 0 }, { { 16, 3, 3, 16, false, 0, 0, 1, 0 }, 16, 4 },
        { { 17, 3, 3, 16, false, 0, 0, 2, 0 }, 16, 4 }, { { 17, 2, 2, 32, false, 0, 0, 1, 0 }, 16, 0 },
        // W not a multiple of G, W = 1 (only the diagonal ordinary), the 40-row task edges
        { { 40, 4, 4, 32, false, 0, 0, 3, 0 }, 5, 0 }, { { 41, 4, 2, 64, false, 0, 0, 2, 0 }, 7, 3 },
        { { 80, 4, 4, 16, false, 0, 0, 3, 0 }, 40, 0 }, { { 81, 4, 4, 16, false, 0, 0, 2, 0 }, 41, 8 },
        { { 200, 3, 3, 16, false, 0, 0, 3, 0 }, 16, 4 }, { { 300, 4, 2, 64, false, 0, 0, 2, 0 }, 10, 3 },
        { { 513, 4, 4, 24, false, 0, 0, 3, 0 }, 1, 0 }, { { 300, 2, 2, 32, false, 0, 0, 2, 0 }, 1, 2 },
        // windows around the 256-key block: the band's edges inside, on and past a block edge
        { { 700, 2, 2, 32, false, 0, 0, 3, 0 }, 100, 5 }, { { 1000, 2, 1, 64, false, 0, 0, 2, 0 }, 256, 0 },
        { { 1000, 2, 2, 32, false, 0, 0, 3, 0 }, 255, 16 }, { { 600, 2, 2, 32, false, 0, 0, 2, 0 }, 257, 0 },
        { { 530, 2, 2, 32, false, 0, 0, 3, 0 }, 512, 7 }, { { 1100, 2, 2, 16, false, 0, 0, 3, 0 }, 33, 0 },
        // grouped-query heads, head_dim 24 in a wide fused row
        { { 300, 8, 2, 32, false, 0, 0, 3, 0 }, 33, 0 }, { { 300, 4, 4, 24, false, 0, 0, 2, 384 }, 20, 3 },
        // with a causal mask, a sliding window, a bias table (they apply to the merged logits)
        { { 300, 4, 4, 32, true, 0, 0, 3, 0 }, 20, 0 }, { { 700, 2, 2, 32, true, 0, 0, 2, 0 }, 64, 4 },
        { { 700, 2, 2, 32, false, 100, 0, 3, 0 }, 30, 0 }, { { 700, 2, 2, 32, false, 20, 0, 2, 0 }, 30, 0 },
        { { 300, 4, 4, 32, false, 0, BIAS_RANDOM, 3, 0 }, 50, 0 }, { { 300, 4, 4, 32, false, 0, BIAS_ALIBI, 2, 0 }, 17, 4 },
    };
    we_rng rng = { 0x5e1fe7e4d5ull };
    for (size_t ci = 0; ci < WE_ARRAY_LEN(cases); ci++) {
        const secase *c = &cases[ci];
        char name[200];
        case_name(name, sizeof name, &c->a);
        snprintf(name + strlen(name) - 1, sizeof name - strlen(name) + 1, ",se_window=%d,G=%d)", c->W, c->G);
        wembed_pool *pool = NULL;
        CHECK(wembed_pool_new(c->a.threads, &pool) == WEMBED_STATUS_OK);
        sedata s;
        sedata_init(&s, c, &rng);
        adata *a = &s.a;
        float *o = run_se(pool, a, &a->p), *o1 = run_se(NULL, a, &a->p);
        float *o_ref = malloc(sizeof(float) * (size_t)a->T * a->ldo);
        double *rs = malloc(sizeof(double) * (size_t)a->T * wembed_pool_n_threads(pool));
        we_attention_ref(pool, o_ref, a->ldo, a->qkv, a->ld, a->qkv + a->E, a->ld, a->qkv + a->E + a->Ekv, a->ld, &a->p, rs);
        double md = 0;
        bool gaps = true;
        for (int t = 0; t < a->T; t++) {
            for (int e = 0; e < a->E; e++) {
                double diff = fabs((double)o[(size_t)t * a->ldo + e] - o_ref[(size_t)t * a->ldo + e]);
                if (diff > md || diff != diff) md = diff != diff ? INFINITY : diff;
            }
            for (int e = a->E; e < a->ldo; e++) gaps &= o[(size_t)t * a->ldo + e] == 12345.0f;
        }
        bool same = memcmp(o, o1, sizeof(float) * (size_t)a->T * a->ldo) == 0;
        // The same bound as plain attention (run_case): the merged tile goes through the same
        // softmax and P V products.
        CHECKF(md < 5e-6 && gaps && same, "%s: max abs diff %g, gaps %s, vs one thread %s", name, md,
               gaps ? "intact" : "WRITTEN", same ? "bit-identical" : "DIFFER");
        // And not by chance: the reference without SelfExtend differs (T > W, random copies,
        // and no sliding window inside the neighbour window: window 20 < W 30 sees neighbours only).
        if (c->G == 0 && c->W < c->a.T && c->a.T > 8 && (c->a.window == 0 || c->a.window >= c->W)) {
            we_attn_params pp = a->p;
            pp.se_window = 0;
            we_attention_ref(pool, o_ref, a->ldo, a->qkv, a->ld, a->qkv + a->E, a->ld, a->qkv + a->E + a->Ekv, a->ld, &pp, rs);
            double dp = 0;
            for (int t = 0; t < a->T; t++)
                for (int e = 0; e < a->E; e++) dp = fmax(dp, fabs((double)o[(size_t)t * a->ldo + e] - o_ref[(size_t)t * a->ldo + e]));
            CHECKF(dp > 1e-3, "%s: SelfExtend changes nothing (max abs diff %g from plain)", name, dp);
        }
        free(o); free(o1); free(o_ref); free(rs);
        sedata_free(&s);
        wembed_pool_free(pool);
    }

    // Identities, bit for bit: a window of T or more is plain attention (SelfExtend applies
    // only past the window), and G = 1 (qa = qb = q, kg = k: shift 0, positions unchanged)
    // merges equal scores, whatever the window.
    static const secase ids[] = {
        { { 16, 3, 3, 16, false, 0, 0, 2, 0 }, 16, 0 }, { { 40, 4, 2, 32, false, 0, BIAS_ALIBI, 1, 0 }, 41, 0 },
        { { 300, 2, 2, 64, true, 0, 0, 3, 0 }, 300, 0 }, { { 700, 4, 4, 32, false, 64, 0, 2, 0 }, 1000000, 0 },
        { { 41, 4, 4, 32, false, 0, 0, 2, 0 }, 5, 1 }, { { 300, 4, 2, 32, false, 0, 0, 3, 0 }, 37, 1 },
        { { 700, 2, 2, 64, false, 0, BIAS_RANDOM, 2, 0 }, 256, 1 }, { { 600, 2, 2, 32, true, 0, 0, 3, 0 }, 1, 1 },
    };
    for (size_t ci = 0; ci < WE_ARRAY_LEN(ids); ci++) {
        const secase *c = &ids[ci];
        wembed_pool *pool = NULL;
        CHECK(wembed_pool_new(c->a.threads, &pool) == WEMBED_STATUS_OK);
        sedata s;
        sedata_init(&s, c, &rng);
        we_attn_params plain = s.a.p;
        plain.se_window = 0;
        float *o = run_se(pool, &s.a, &s.a.p), *o0 = run_opt(pool, &s.a, &plain);
        char name[200];
        case_name(name, sizeof name, &c->a);
        CHECKF(same_rows(o, o0, &s.a), "%s: SelfExtend window %d, G %d differs from plain attention", name, c->W, c->G);
        // the reference too
        float *r = malloc(sizeof(float) * (size_t)s.a.T * s.a.ldo), *r0 = malloc(sizeof(float) * (size_t)s.a.T * s.a.ldo);
        double *rs = malloc(sizeof(double) * (size_t)s.a.T * wembed_pool_n_threads(pool));
        we_attention_ref(pool, r, s.a.ldo, s.a.qkv, s.a.ld, s.a.qkv + s.a.E, s.a.ld, s.a.qkv + s.a.E + s.a.Ekv, s.a.ld, &s.a.p, rs);
        we_attention_ref(pool, r0, s.a.ldo, s.a.qkv, s.a.ld, s.a.qkv + s.a.E, s.a.ld, s.a.qkv + s.a.E + s.a.Ekv, s.a.ld, &plain, rs);
        CHECKF(same_rows(r, r0, &s.a), "ATTENTION_REF %s: SelfExtend window %d, G %d differs from plain", name, c->W, c->G);
        free(r); free(r0); free(rs); free(o); free(o0);
        sedata_free(&s);
        wembed_pool_free(pool);
    }

    // Scratch: still linear in T (one more packed K, two more tiles per thread); plain below the window.
    we_attn_params sp = { .T = 8192, .n_head = 12, .n_kv_head = 12, .head_dim = 64, .se_window = 512 };
    size_t s8 = we_attention_scratch_floats_for(&sp, 2);
    sp.T = 1024;
    size_t s1 = we_attention_scratch_floats_for(&sp, 2);
    CHECKF(s8 < 8 * s1 + 200000, "SelfExtend scratch %zu floats at T=1024, %zu at T=8192", s1, s8);
    sp.T = 512;
    CHECK(we_attention_scratch_floats_for(&sp, 2) == we_attention_scratch_floats(512, 12, 64, 2));
}

static void test_rope(void) {
    // Tables: cos/sin of p * base^(-2i/rot), in double, rounded once.
    int T = 9000, rot = 64, half = rot / 2;
    float *ct = malloc(sizeof(float) * (size_t)T * half), *st = malloc(sizeof(float) * (size_t)T * half);
    we_rope_tables(ct, st, T, 0, rot, 1000.0);
    CHECK(ct[0] == 1.0f && st[0] == 0.0f);
    CHECK(ct[(size_t)1 * half + 0] == (float)cos(1.0) && st[(size_t)1 * half + 0] == (float)sin(1.0));
    double a = 8999.0 / pow(1000.0, 2.0 * 5 / 64);
    CHECK(ct[(size_t)8999 * half + 5] == (float)cos(a) && st[(size_t)8999 * half + 5] == (float)sin(a));

    // Rotation on (T, H*d) with rot < d leaves the tail alone and preserves norms.
    int H = 2, d = 8, r = 6, E = H * d, n = 3;
    float x[3 * 16], x0[3 * 16], c6[3 * 3], s6[3 * 3];
    for (int i = 0; i < n * E; i++) x[i] = x0[i] = (float)(i % 7) - 3.0f;
    we_rope_tables(c6, s6, n, 0, r, 10000.0);
    we_rope_apply(NULL, x, E, n, H, d, r, c6, s6);
    for (int t = 0; t < n; t++)
        for (int h = 0; h < H; h++) {
            const float *a0 = x0 + t * E + h * d, *a1 = x + t * E + h * d;
            for (int i = 0; i < r / 2; i++) {
                double c = c6[t * 3 + i], s = s6[t * 3 + i];
                CHECK(a1[i] == (float)(a0[i] * c - a0[i + 3] * s));
                CHECK(a1[i + 3] == (float)(a0[i + 3] * c + a0[i] * s));
            }
            CHECK(a1[6] == a0[6] && a1[7] == a0[7]);
        }
    free(ct);
    free(st);

    // Dynamic NTK: unchanged up to Lmax; nomic's formula past it.
    CHECK(we_rope_ntk_base(1000, 64, 2.0, 2048, 2048) == 1000);
    CHECK(we_rope_ntk_base(1000, 64, 0, 9000, 2048) == 1000);
    double b = we_rope_ntk_base(1000, 16, 2.0, 300, 128);
    CHECK(fabs(b - 1000 * pow(2.0 * 300 / 128 - 1, 16.0 / 14)) < 1e-9);
}

int main(void) {
    test_ref_definition();
    // The tiled attention on every f32 kernel this build and CPU run: their GEMMs and, natively,
    // the row loops of the same instruction set (src/ops/arch/native_gemm.h), the default last.
    static const we_f32_kernel KERNELS[] = {WE_F32_KERNEL_SIMD128, WE_F32_KERNEL_AVX2, WE_F32_KERNEL_AVX512,
                                            WE_F32_KERNEL_NEON};
    const we_f32_kernel dflt = we_gemm_f32_kernel();
    for (size_t i = 0; i < WE_ARRAY_LEN(KERNELS); i++) {
        if (KERNELS[i] == dflt || !we_gemm_f32_use_kernel(KERNELS[i])) continue;
        printf("test-attention: f32 kernel %s\n", we_gemm_f32_kernel_name(KERNELS[i]));
        test_attention();
        test_self_extend();
    }
    CHECK(we_gemm_f32_use_kernel(dflt));
    printf("test-attention: f32 kernel %s (the default)\n", we_gemm_f32_kernel_name(dflt));
    test_attention();
    test_self_extend();
    test_rope();
    return we_test_finish("test-attention");
}
