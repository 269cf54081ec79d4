// test-attention.c - the tiled online-softmax attention against the double-precision
// reference, and the rotary embedding tables and rotation.
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/attention.h"

typedef struct acase { int T, H, d; bool causal; int threads; } acase;

static void run_case(const acase *c, wembed_pool *pool, we_rng *rng) {
    int E = c->H * c->d, ld = 3 * E + 5;                 // a fused QKV row, with slack
    float *qkv = malloc(sizeof(float) * (size_t)c->T * ld);
    // Scores of a few units, as in trained models (q.k / sqrt(d) up to ~10).
    for (size_t i = 0; i < (size_t)c->T * ld; i++) qkv[i] = we_rng_normal(rng) * 1.3f;
    int ldo = E + 3;
    float *o = malloc(sizeof(float) * (size_t)c->T * ldo), *o_ref = malloc(sizeof(float) * (size_t)c->T * ldo);
    size_t ns = we_attention_scratch_floats(c->T, c->H, c->d, wembed_pool_n_threads(pool));
    float *scratch = malloc(sizeof(float) * ns);
    double *rs = malloc(sizeof(double) * (size_t)c->T * wembed_pool_n_threads(pool));
    float scale = 1.0f / sqrtf((float)c->d);
    we_attention(pool, o, ldo, qkv, ld, qkv + E, ld, qkv + 2 * E, ld, &(we_attn_params){ .T = c->T, .n_head = c->H, .n_kv_head = c->H, .head_dim = c->d, .scale = scale, .causal = c->causal }, scratch);
    we_attention_ref(pool, o_ref, ldo, qkv, ld, qkv + E, ld, qkv + 2 * E, ld, &(we_attn_params){ .T = c->T, .n_head = c->H, .n_kv_head = c->H, .head_dim = c->d, .scale = scale, .causal = c->causal }, rs);
    double md = 0;
    for (int t = 0; t < c->T; t++)
        for (int e = 0; e < E; e++) {
            double diff = fabs((double)o[(size_t)t * ldo + e] - o_ref[(size_t)t * ldo + e]);
            if (diff > md || diff != diff) md = diff != diff ? INFINITY : diff;
        }
    // Outputs are convex combinations of values |v| <= ~6 (1.3 sigma normals); each P V
    // tile sums 64 products in float (error up to ~sqrt(64) * 6 * 2^-24 = 3e-6 in the worst
    // case, ~1e-6 typically), and exp adds 1.5 ulp per weight. The fixtures' own tolerance
    // on hidden states is 1e-4.
    CHECKF(md < 5e-6, "ATTENTION(T=%d,H=%d,d=%d,causal=%d,threads=%d): max abs diff %g",
           c->T, c->H, c->d, c->causal, c->threads, md);
    free(qkv); free(o); free(o_ref); free(scratch); free(rs);
}

static void test_attention(void) {
    static const acase cases[] = {
        { 1, 1, 32, false, 1 }, { 1, 4, 64, true, 1 }, { 5, 2, 32, false, 1 }, { 31, 4, 64, false, 2 },
        { 32, 4, 64, true, 2 }, { 33, 3, 80, false, 3 }, { 64, 2, 64, true, 1 }, { 65, 2, 64, false, 2 },
        { 77, 8, 64, true, 2 }, { 200, 4, 32, false, 4 }, { 300, 4, 16, true, 3 }, { 1000, 2, 64, false, 2 },
        { 129, 12, 64, false, 2 }, { 17, 6, 96, true, 2 },
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
    we_attention(NULL, o1, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, &(we_attn_params){ .T = T, .n_head = H, .n_kv_head = H, .head_dim = d, .scale = 0.125f, .causal = false }, s);
    we_attention(p3, o3, E, qkv, 3 * E, qkv + E, 3 * E, qkv + 2 * E, 3 * E, &(we_attn_params){ .T = T, .n_head = H, .n_kv_head = H, .head_dim = d, .scale = 0.125f, .causal = false }, s);
    CHECK(memcmp(o1, o3, sizeof(float) * (size_t)T * E) == 0);
    wembed_pool_free(p3);
    free(qkv); free(o1); free(o3); free(s);

    // A NaN in a query row makes that row's outputs NaN (not weights of 0) and leaves the
    // other rows alone.
    {
        int Tn = 300, Hn = 2, dn = 64, En = Hn * dn;
        float *x = malloc(sizeof(float) * (size_t)Tn * 3 * En), *on = malloc(sizeof(float) * (size_t)Tn * En);
        for (int i = 0; i < Tn * 3 * En; i++) x[i] = we_rng_normal(&rng) * 4;
        x[(size_t)7 * 3 * En + 5] = NAN;                       // query row 7, head 0
        float *sn = malloc(sizeof(float) * we_attention_scratch_floats(Tn, Hn, dn, 1));
        we_attention(NULL, on, En, x, 3 * En, x + En, 3 * En, x + 2 * En, 3 * En, &(we_attn_params){ .T = Tn, .n_head = Hn, .n_kv_head = Hn, .head_dim = dn, .scale = 0.125f, .causal = false }, sn);
        bool nan_row = true, others = true;
        for (int e = 0; e < dn; e++) nan_row &= isnan(on[(size_t)7 * En + e]);
        for (int t = 0; t < Tn; t++)
            for (int e = 0; e < En; e++)
                if (!(t == 7 && e < dn)) others &= isfinite(on[(size_t)t * En + e]);
        CHECKF(nan_row && others, "ATTENTION(NaN in one query): that row NaN %d, the others finite %d", nan_row, others);
        free(x); free(on); free(sn);
    }

    // Scratch grows linearly with T (this is what keeps 8k-token documents in memory).
    size_t s1 = we_attention_scratch_floats(1024, 12, 64, 2), s8 = we_attention_scratch_floats(8192, 12, 64, 2);
    CHECKF(s8 < 8 * s1 + 100000, "scratch %zu floats at T=1024, %zu at T=8192", s1, s8);
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
    test_attention();
    test_rope();
    return we_test_finish("test-attention");
}
