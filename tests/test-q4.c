// test-q4.c - the 4-bit weights of ops.h: the block quantizer (hand-checked, and exact on
// GGUF Q4_0 blocks), the two storage layouts, and we_gemm_q4 against we_gemm_q4_ref case by
// case for each kernel this build can run (bit for bit without an activation), plus its
// error against the f32 GEMM. `test-q4 NAME` runs only the cases whose name contains NAME.
//
// The error bound against f32: weights uniform in +-a quantize with step d = a/8 (the block's
// largest magnitude maps to -8), error uniform in +-d/2: relative variance (a^2/64/12) /
// (a^2/3) = 1/256 = 3.9e-3, the activations' int8 error adding ~1e-5; measured on the
// cases below (3.7e-3 to 5.4e-3: small cases vary): bound 8e-3.
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/f16.h"
#include "core/pool.h"
#include "arch/forward.h"
#include "ops/ops.h"
#if defined(WEMBED_SIMD) && !defined(__wasm__)
#include "ops/arch/wasm/gemm_q8_dot.h"
#endif

#define NMSE_ACT 1e-12
#define NMSE_Q4_VS_F32 8e-3

static const char *filter = NULL;
static const char *kernel_tag = "";

static bool selected(const char *name) { return !filter || strstr(name, filter) != NULL; }

static void report(const char *name, bool ok, const char *msg) {
    printf("  %-70s %s %s\n", name, msg, ok ? "OK" : "FAIL");
    we_test_checkf(ok, __FILE__, __LINE__, "%s: %s", name, msg);
}

static void *xalloc(size_t n) {
    void *p = calloc(n ? n : 1, 1);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

// -----------------------------------------------------------------------------------------
// Quantizer

static void test_quantize(void) {
    if (!selected("QUANTIZE_ROW_Q4")) return;
    // Block 0: largest magnitude -4 (d = 0.5) -> q = x / 0.5; 4.0 would be +8: clamped to 7;
    // 0.25 / 0.5 = 0.5 rounds to even (0), 0.75 to 2 (1.5 -> 2). Block 1 (a tail of 3): largest
    // +2 (d = -0.25): q = x / -0.25. Block 2: NaN -> d NaN, q 0. Block 3: zeros -> d 0.
    float x[32 + 3 + 32 + 32] = {0};
    x[0] = -4.0f; x[1] = 4.0f; x[2] = 0.25f; x[3] = 0.75f; x[4] = -1.0f; x[31] = 3.4f;
    float *b1 = x + 32;
    b1[0] = 2.0f; b1[1] = -0.5f; b1[2] = 0.1f;
    // The row is 32 + 3 long for the first call (a tail block), then blocks 2 and 3 alone.
    int8_t q[64];
    float d[2];
    we_quantize_row_q4(q, d, x, 35);
    bool ok = d[0] == 0.5f && q[0] == -8 && q[1] == 7 && q[2] == 0 && q[3] == 2 && q[4] == -2 &&
              q[31] == 7 && d[1] == -0.25f && q[32] == -8 && q[33] == 2 && q[34] == 0;
    for (int k = 35; k < 64; k++) ok = ok && q[k] == 0;   // the tail block's padding
    float y[64] = {0};
    y[5] = NAN;
    we_quantize_row_q4(q, d, y, 64);
    ok = ok && isnan(d[0]) && d[1] == 0.0f;
    for (int k = 0; k < 64; k++) ok = ok && q[k] == 0;
    char msg[64];
    snprintf(msg, sizeof msg, "d=%g,%g", (double)d[0], (double)d[1]);
    report("QUANTIZE_ROW_Q4(hand-checked blocks, tail, NaN, zeros)", ok, msg);
}

// A GGUF Q4_0 block (f16 scale, a -8 among its values, as llama.cpp's quantizer makes them)
// dequantized and quantized again gives back its scale and values exactly.
static void test_q4_0_roundtrip(void) {
    if (!selected("Q4_0_ROUNDTRIP")) return;
    we_rng rng = {77};
    bool ok = true;
    for (int it = 0; it < 2000 && ok; it++) {
        int8_t q0[32];
        for (int j = 0; j < 32; j++) q0[j] = (int8_t)((int)(we_rng_next(&rng) % 16) - 8);
        q0[we_rng_next(&rng) % 32] = -8;
        float dh = we_f16_to_f32(we_f32_to_f16(we_rng_uniform(&rng, -2.0f, 2.0f)));
        if (dh == 0.0f) continue;
        float x[32];
        for (int j = 0; j < 32; j++) x[j] = (float)q0[j] * dh;
        int8_t q[32];
        float d;
        we_quantize_row_q4(q, &d, x, 32);
        ok = d == dh && memcmp(q, q0, 32) == 0;
    }
    report("Q4_0_ROUNDTRIP(2000 blocks)", ok, ok ? "exact" : "differs");
}

// Every (n, k) has its own nibble, in both layouts, and store_row keeps the neighbours'.
static void test_layouts(void) {
    if (!selected("Q4_LAYOUT")) return;
    bool ok = true;
    for (int packed = 0; packed < 2; packed++)
        for (int N = 1; N <= 19 && ok; N += 3)
            for (int K = 1; K <= 100 && ok; K += 33) {
                size_t nbytes = we_gemm_q4_data_bytes(N, K, packed), ns = we_gemm_q4_scale_floats(N, K, packed);
                uint8_t *data = xalloc(nbytes);
                float *s = xalloc(ns * sizeof(float));
                int8_t *q = xalloc((size_t)we_q4_blocks(K) * WE_Q4_BLOCK);
                float *d = xalloc((size_t)we_q4_blocks(K) * sizeof(float));
                for (int n = 0; n < N; n++) {
                    for (int k = 0; k < K; k++) q[k] = (int8_t)((n * 7 + k * 3) % 16 - 8);
                    for (int b = 0; b < we_q4_blocks(K); b++) d[b] = (float)(n * 100 + b);
                    we_gemm_q4_store_row(data, s, n, q, d, N, K, packed);
                }
                for (int n = 0; n < N && ok; n++)
                    for (int k = 0; k < K && ok; k++) {
                        bool high;
                        size_t i = we_gemm_q4_nibble(n, k, N, K, packed, &high);
                        int v = high ? data[i] >> 4 : data[i] & 15;
                        ok = i < nbytes && v - 8 == (n * 7 + k * 3) % 16 - 8;
                    }
                for (int n = 0; n < N && ok; n++)
                    for (int b = 0; b < we_q4_blocks(K) && ok; b++) {
                        size_t i = we_gemm_q4_scale_index(n, b, N, K, packed);
                        ok = i < ns && s[i] == (float)(n * 100 + b);
                    }
                free(data); free(s); free(q); free(d);
            }
    report("Q4_LAYOUT(rows and packed, N=1..19, K=1..100)", ok, ok ? "distinct, kept" : "clash");
}

// A 4-bit embedding table (rows layout) gathers each row as q * d, and adds it on request.
static void test_gather(void) {
    if (!selected("GATHER_Q4")) return;
    enum { R = 5, E = 70 };
    float x[R * E];
    we_rng rng = {9};
    we_rng_fill(&rng, x, R * E, -1, 1);
    we_weight w = {0};
    w.type = WE_WTYPE_Q4;
    w.layout = WE_LAYOUT_ROWS;
    w.n_dims = 2;
    w.N = R, w.K = E;
    w.data = xalloc(we_gemm_q4_data_bytes(R, E, false));
    w.scale = xalloc(sizeof(float) * we_gemm_q4_scale_floats(R, E, false));
    int8_t q[R][96];
    float d[R][3];
    for (int r = 0; r < R; r++) {
        we_quantize_row_q4(q[r], d[r], x + r * E, E);
        we_gemm_q4_store_row(w.data, w.scale, r, q[r], d[r], R, E, false);
    }
    int32_t ids[3] = {4, 0, 4};
    float out[3 * E];
    for (int i = 0; i < 3 * E; i++) out[i] = 1.0f;
    we_gather_rows(out, &w, ids, 3, true);
    bool ok = true;
    for (int i = 0; i < 3; i++)
        for (int e = 0; e < E; e++) ok = ok && out[i * E + e] == 1.0f + (float)q[ids[i]][e] * d[ids[i]][e / 32];
    report("GATHER_Q4(5x70 table, rows 4 0 4, added)", ok, ok ? "q * d" : "wrong");
    free(w.data);
    free(w.scale);
}

// -----------------------------------------------------------------------------------------
// GEMM cases

typedef struct q4_case {
    int T, K, N;
    we_act act;
    int threads;
    int ldx_pad, ldy_pad;
    bool bias;
} q4_case;

static const q4_case CASES[] = {
    {1, 32, 1, WE_ACT_NONE, 1, 0, 0, false},
    {1, 1024, 1024, WE_ACT_NONE, 1, 0, 0, true},            // one token
    {5, 64, 8, WE_ACT_NONE, 2, 0, 0, false},                // exactly one tile
    {13, 37, 29, WE_ACT_SILU, 3, 5, 3, true},               // K with a tail block, strided
    {7, 1, 9, WE_ACT_NONE, 1, 0, 0, true},                  // K = 1
    {33, 100, 70, WE_ACT_GELU_TANH, 4, 1, 7, true},
    {64, 768, 96, WE_ACT_GELU, 2, 0, 0, true},
    {128, 256, 128, WE_ACT_NONE, 4, 0, 0, true},            // rows split over threads
    {2, 64, 1000, WE_ACT_NONE, 4, 3, 0, true},              // many panels, few rows
    {17, 0, 5, WE_ACT_GELU, 2, 0, 0, true},                 // K = 0: y = act(b)
    {0, 32, 16, WE_ACT_NONE, 2, 0, 0, true},                // T = 0
    {50, 3072, 17, WE_ACT_NONE, 3, 0, 0, true},             // long K, odd N
};

static void case_name(char *buf, size_t n, const char *op, const q4_case *c) {
    snprintf(buf, n, "%s%s(T=%d,K=%d,N=%d,act=%s,threads=%d%s%s)", op, kernel_tag, c->T, c->K, c->N,
             we_act_name(c->act), c->threads, c->ldx_pad || c->ldy_pad ? ",strided" : "", c->bias ? "" : ",bias=no");
}

#define SENTINEL 12345.0f

static void run_case(wembed_pool *pool, const q4_case *c, uint64_t seed, bool with_f32) {
    char name[160], name_f[160];
    case_name(name, sizeof name, "GEMM_Q4", c);
    case_name(name_f, sizeof name_f, "GEMM_Q4_VS_F32", c);
    if (!selected(name) && !(with_f32 && selected(name_f))) return;
    int ldx = c->K + c->ldx_pad, ldy = c->N + c->ldy_pad, nb = we_q4_blocks(c->K);
    we_rng rng = {seed};
    float *x = xalloc(sizeof(float) * ((size_t)c->T * ldx + 1));
    we_rng_fill(&rng, x, (size_t)c->T * ldx, -1.0f, 1.0f);
    float a = c->K > 0 ? 6.0f / sqrtf((float)c->K) : 1.0f;
    float *W = xalloc(sizeof(float) * ((size_t)c->N * c->K + 1));
    we_rng_fill(&rng, W, (size_t)c->N * c->K, -a, a);
    float *bias = xalloc(sizeof(float) * ((size_t)c->N + 1));
    we_rng_fill(&rng, bias, (size_t)c->N, -0.5f, 0.5f);
    const float *b = c->bias ? bias : NULL;
    // both layouts from the same quantized rows
    uint8_t *rows = xalloc(we_gemm_q4_data_bytes(c->N, c->K, false));
    float *rs = xalloc(sizeof(float) * (we_gemm_q4_scale_floats(c->N, c->K, false) + 1));
#if defined(WEMBED_SIMD)
    const bool packed = true;
#else
    const bool packed = false;
#endif
    uint8_t *pk = xalloc(we_gemm_q4_data_bytes(c->N, c->K, packed));
    float *ps = xalloc(sizeof(float) * (we_gemm_q4_scale_floats(c->N, c->K, packed) + 1));
    int8_t *q = xalloc((size_t)nb * WE_Q4_BLOCK + 1);
    float *d = xalloc(sizeof(float) * ((size_t)nb + 1));
    for (int n = 0; n < c->N; n++) {
        we_quantize_row_q4(q, d, W + (size_t)n * c->K, c->K);
        we_gemm_q4_store_row(rows, rs, n, q, d, c->N, c->K, false);
        we_gemm_q4_store_row(pk, ps, n, q, d, c->N, c->K, packed);
    }
    void *scratch = xalloc(we_gemm_q4_scratch_bytes(c->T, c->K));
    size_t ny = (size_t)c->T * ldy;
    float *y = xalloc(sizeof(float) * (ny + 1)), *r = xalloc(sizeof(float) * (ny + 1)), *f = xalloc(sizeof(float) * (ny + 1));
    for (size_t i = 0; i < ny; i++) y[i] = r[i] = SENTINEL;
    we_gemm_q4_ref(NULL, r, ldy, x, ldx, rows, rs, b, c->T, c->K, c->N, c->act, scratch);
    we_gemm_q4(pool, y, ldy, x, ldx, pk, ps, b, c->T, c->K, c->N, c->act, scratch);
    we_gemm_f32_ref(NULL, f, ldy, x, ldx, W, b, c->T, c->K, c->N, c->act);

    bool pads = true, exact = true;
    double num = 0, den = 0, numf = 0, denf = 0;
    for (int t = 0; t < c->T; t++)
        for (int n = 0; n < ldy; n++) {
            size_t i = (size_t)t * ldy + n;
            if (n >= c->N) { pads = pads && y[i] == SENTINEL; continue; }
            exact = exact && memcmp(&y[i], &r[i], sizeof(float)) == 0;
            num += ((double)y[i] - r[i]) * ((double)y[i] - r[i]);
            den += (double)r[i] * r[i];
            numf += ((double)y[i] - f[i]) * ((double)y[i] - f[i]);
            denf += (double)f[i] * f[i];
        }
    double e = den > 0 ? num / den : num, ef = denf > 0 ? numf / denf : numf;
    char msg[96];
    if (selected(name)) {
        snprintf(msg, sizeof msg, "nmse=%.3g%s", e, exact ? " (bit-identical)" : "");
        report(name, pads && (c->act == WE_ACT_NONE ? exact : e <= NMSE_ACT), msg);
    }
    if (with_f32 && selected(name_f) && c->K > 0 && c->T > 0) {
        snprintf(msg, sizeof msg, "nmse=%.3g", ef);
        report(name_f, ef <= NMSE_Q4_VS_F32, msg);
    }
    free(x); free(W); free(bias); free(rows); free(rs); free(pk); free(ps); free(q); free(d);
    free(scratch); free(y); free(r); free(f);
}

// A NaN in one row's block makes that row NaN and no other; an Inf in a weight block makes
// its channel NaN (scale NaN) for every row.
static void test_nonfinite(wembed_pool *pool) {
    char name[96];
    snprintf(name, sizeof name, "GEMM_Q4_NONFINITE%s(T=6,K=70,N=11)", kernel_tag);
    if (!selected(name)) return;
    enum { T = 6, K = 70, N = 11 };
    float x[T * K], W[N * K], y[T * N], r[T * N];
    we_rng rng = {5};
    we_rng_fill(&rng, x, T * K, -1, 1);
    we_rng_fill(&rng, W, N * K, -1, 1);
    x[2 * K + 40] = NAN;
    W[4 * K + 3] = INFINITY;
#if defined(WEMBED_SIMD)
    const bool packed = true;
#else
    const bool packed = false;
#endif
    int nb = we_q4_blocks(K);
    uint8_t *rows = xalloc(we_gemm_q4_data_bytes(N, K, false)), *pk = xalloc(we_gemm_q4_data_bytes(N, K, packed));
    float *rs = xalloc(sizeof(float) * we_gemm_q4_scale_floats(N, K, false));
    float *ps = xalloc(sizeof(float) * we_gemm_q4_scale_floats(N, K, packed));
    int8_t q[96];
    float d[3];
    for (int n = 0; n < N; n++) {
        we_quantize_row_q4(q, d, W + n * K, K);
        we_gemm_q4_store_row(rows, rs, n, q, d, N, K, false);
        we_gemm_q4_store_row(pk, ps, n, q, d, N, K, packed);
    }
    void *scratch = xalloc(we_gemm_q4_scratch_bytes(T, K));
    we_gemm_q4_ref(NULL, r, N, x, K, rows, rs, NULL, T, K, N, WE_ACT_NONE, scratch);
    we_gemm_q4(pool, y, N, x, K, pk, ps, NULL, T, K, N, WE_ACT_NONE, scratch);
    bool ok = nb == 3;
    for (int t = 0; t < T; t++)
        for (int n = 0; n < N; n++) {
            bool want_nan = t == 2 || n == 4;
            ok = ok && (isnan(y[t * N + n]) == want_nan) && (isnan(r[t * N + n]) == want_nan);
            if (!want_nan) ok = ok && y[t * N + n] == r[t * N + n];
        }
    report(name, ok, ok ? "row 2 and channel 4 NaN only" : "wrong");
    free(rows); free(pk); free(rs); free(ps); free(scratch);
}

static void run_all(bool with_f32) {
    for (int th = 1; th <= 4; th++) {
        wembed_pool *pool = NULL;
        CHECK(wembed_pool_new(th, &pool) == WEMBED_STATUS_OK);
        for (size_t i = 0; i < WE_ARRAY_LEN(CASES); i++)
            if (CASES[i].threads == th) run_case(pool, &CASES[i], 4000 + i, with_f32);
        if (th == 2) test_nonfinite(pool);
        wembed_pool_free(pool);
    }
}

int main(int argc, char **argv) {
    if (argc > 1) filter = argv[1];
    printf("test-q4: ops = %s, 4-bit kernel %s\n", we_ops_impl(), we_gemm_q4_uses_dot() ? "dot" : "i16");
    test_quantize();
    test_q4_0_roundtrip();
    test_layouts();
    test_gather();
    bool dflt = we_gemm_q4_uses_dot();
    kernel_tag = dflt ? "[dot]" : "[i16]";
    run_all(true);
    // The other kernel where this build can run it: natively the dot is emulated, once as a
    // host that reads the 7-bit operand unsigned (x86) and once signed (Arm); same results.
    for (int signed_host = 0; signed_host < 2; signed_host++) {
#if defined(WEMBED_SIMD) && !defined(__wasm__)
        we_q8_dot_emulate_signed(signed_host);
#else
        if (signed_host) break;
#endif
        we_gemm_q4_allow_dot(!dflt);
        if (we_gemm_q4_uses_dot() == dflt) {
            printf("  the other 4-bit kernel does not run in this build\n");
            break;
        }
        kernel_tag = dflt ? "[i16]" : signed_host ? "[dot-signed-host]" : "[dot]";
        run_all(false);
        we_gemm_q4_allow_dot(dflt);
    }
#if defined(WEMBED_SIMD) && !defined(__wasm__)
    we_q8_dot_emulate_signed(false);
#endif
    we_gemm_q4_allow_dot(dflt);
    CHECK_EQ_INT(we_alloc_live(), 0);
    return we_test_finish("test-q4");
}
