// test-kernels.c - every op of src/ops against its scalar `_ref`, op by op (test-backend-ops
// style): a table of cases, each compared by NMSE with a per-op threshold, each printed as
// e.g. `GEMM_F32(T=7,K=384,N=1536,act=gelu,threads=2)`. Run `test-kernels NAME` to run only
// the cases whose name contains NAME.
//
// Thresholds. NMSE = sum (out - ref)^2 / sum ref^2, so a relative error of at most r per
// element gives NMSE <= r^2.
//   - GEMMs without activation: the kernels sum in the reference's order with the same
//     roundings (f32) or in exact integers (int8), so they must agree bit for bit (memcmp).
//     Except the native f32 kernels (x86 AVX2, AVX-512, arm64 NEON: src/ops/arch/native_gemm.h),
//     which fuse each multiply into its add: one rounding fewer per k, so the difference to the reference is
//     a sum of K roundings of partial sums, each at most 2^-24 relative: NMSE ~ K * 2^-48 * c
//     for partial sums of the size of the result (measured 6e-14 at K = 1536, c < 2):
//     threshold NMSE_F32_FMA = 1e-12, which holds up to K ~ 2e4 with c = 10.
//   - Activations (and GEMMs with one): the vector approximations are within 7 ulp of the
//     exact value (src/ops/arch/wasm/vmath.h; re-measured by the "VMATH" cases below),
//     i.e. r < 7 * 2^-23 = 8.3e-7, NMSE < 7e-13: threshold 1e-12.
//   - Softmax: exp within 1 ulp, a float sum over the row (the reference sums in double)
//     and a multiply by 1/sum: a few ulp, same 1e-12.
//   - Layer norm: statistics in double like the reference, then two float roundings and the
//     float gamma/beta: a few ulp, same 1e-12. RMSNorm: the same, with the float offset + gamma.
//   - int8 GEMM against the f32 GEMM (the quantization error itself): with x and W uniform,
//     each operand carries a rounding error uniform in +-0.5 step, step = max/127, which
//     gives NMSE ~ 2 * (1/127)^2 / 12 * 3 ~ 3e-5 (measured 2-4e-5): bound 1e-4.
#include "harness.h"

#include <float.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/pool.h"
#include "ops/ops.h"
#if defined(WEMBED_SIMD) && !defined(__wasm__)
#include "ops/arch/native_gemm.h"
#include "ops/arch/wasm/gemm_q8_dot.h"
#endif
#if defined(WEMBED_SIMD)
#include "ops/arch/wasm/vmath.h"
#endif

#define NMSE_ACT 1e-12
#define NMSE_F32_FMA 1e-12
#define NMSE_Q8_VS_F32 1e-4

static const char *filter = NULL;
// The int8 kernel under test when it is not the build's default, e.g. "[relaxed-dot-u8]"
// (appended to the names of the int8 cases); q8_only: skip the f32 cases meanwhile. The same
// for the f32 kernels (f32_tag, f32_only).
static char q8_tag[32] = "";
static bool q8_only = false;
static char f32_tag[32] = "";
static bool f32_only = false;

// The f32 GEMM without activation must equal the reference bit for bit, except on the FMA
// kernels (the thresholds above).
static bool f32_exact_kernel(void) { return we_gemm_f32_kernel() == WE_F32_KERNEL_SIMD128; }

static bool selected(const char *name) { return !filter || strstr(name, filter) != NULL; }

// Prints the case and its measure; returns ok.
static bool report(const char *name, bool ok, const char *fmt, ...) WE_PRINTF(3, 4);
static bool report(const char *name, bool ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("  %-64s %s %s\n", name, msg, ok ? "OK" : "FAIL");
    we_test_checkf(ok, __FILE__, __LINE__, "%s: %s", name, msg);
    return ok;
}

static float *falloc(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

// Same class (NaN / +Inf / -Inf / finite) at every position: non-finite values must not be
// lost or invented by the kernels.
static bool same_classes(const float *a, const float *b, size_t n, size_t *first_bad) {
    for (size_t i = 0; i < n; i++) {
        bool ok = isnan(a[i]) ? isnan(b[i])
                : isinf(a[i]) ? (isinf(b[i]) && signbit(a[i]) == signbit(b[i]))
                : isfinite(b[i]);
        if (!ok) { *first_bad = i; return false; }
    }
    return true;
}

// NMSE over the finite positions only.
static double nmse_finite(const float *out, const float *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(ref[i]) || !isfinite(out[i])) continue;
        double d = (double)out[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? num / den : num;
}

// -----------------------------------------------------------------------------------------
// GEMM cases

typedef struct gemm_case {
    int T, K, N;
    we_act act;
    int threads;
    int ldx_pad, ldy_pad;      // ldx = K + ldx_pad, ldy = N + ldy_pad
    bool bias;
} gemm_case;

static const gemm_case GEMM_CASES[] = {
    {1, 1, 1, WE_ACT_NONE, 1, 0, 0, false},
    {1, 384, 384, WE_ACT_GELU, 1, 0, 0, true},            // one token (a query)
    {7, 384, 1536, WE_ACT_GELU, 2, 0, 0, true},
    {5, 1, 9, WE_ACT_NONE, 1, 0, 0, true},                 // K = 1
    {5, 8, 8, WE_ACT_NONE, 3, 0, 0, false},                // exactly one tile (5 x 8)
    {4, 8, 8, WE_ACT_NONE, 3, 0, 0, false},                // one tile, a row short
    {13, 37, 29, WE_ACT_SILU, 3, 5, 3, true},              // odd everything, strided
    {33, 100, 70, WE_ACT_GELU_QUICK, 4, 1, 7, true},
    {64, 768, 96, WE_ACT_GELU, 2, 0, 0, true},
    {128, 384, 384, WE_ACT_NONE, 4, 0, 0, true},           // rows split over threads
    {3, 17, 1, WE_ACT_SILU, 2, 0, 2, true},                // N = 1
    {9, 1536, 24, WE_ACT_NONE, 1, 0, 0, true},             // long K
    {2, 64, 1000, WE_ACT_GELU, 4, 3, 0, true},             // many panels, few rows
    {6, 2, 11, WE_ACT_GELU_QUICK, 1, 0, 0, false},
    {17, 0, 5, WE_ACT_GELU, 2, 0, 0, true},                // K = 0: y = act(b)
    {0, 16, 16, WE_ACT_NONE, 2, 0, 0, true},               // T = 0: nothing to do
    {37, 200, 83, WE_ACT_SILU, 1, 0, 0, true},
    {50, 33, 17, WE_ACT_GELU, 3, 0, 0, true},              // rows split, odd widths
    {7, 384, 1536, WE_ACT_GELU_TANH, 2, 0, 0, true},
    {13, 37, 29, WE_ACT_GELU_TANH, 3, 5, 3, true},
    {45, 64, 200, WE_ACT_GELU_TANH, 4, 0, 0, false},
    {29, 70, 77, WE_ACT_NONE, 2, 1, 5, false},             // no bias, no act: native tiles stored in place
};

typedef struct gemm_data {
    int T, K, N, ldx, ldy;
    float *x, *W, *b, *Wp, *ws;
    int8_t *Wq, *Wqp;
    void *scratch;
} gemm_data;

static void gemm_data_init(gemm_data *d, const gemm_case *c, uint64_t seed) {
    memset(d, 0, sizeof *d);
    d->T = c->T; d->K = c->K; d->N = c->N;
    d->ldx = c->K + c->ldx_pad;
    d->ldy = c->N + c->ldy_pad;
    we_rng rng = {seed};
    d->x = falloc((size_t)c->T * d->ldx);
    we_rng_fill(&rng, d->x, (size_t)c->T * d->ldx, -1.0f, 1.0f);
    // W scaled so that y has a standard deviation near 2: the activations see both tails
    float a = c->K > 0 ? 6.0f / sqrtf((float)c->K) : 1.0f;
    d->W = falloc((size_t)c->N * c->K);
    we_rng_fill(&rng, d->W, (size_t)c->N * c->K, -a, a);
    d->b = falloc((size_t)c->N);
    we_rng_fill(&rng, d->b, (size_t)c->N, -0.5f, 0.5f);
    d->Wp = falloc(we_gemm_f32_packed_floats(c->N, c->K));
    we_gemm_f32_pack(d->Wp, d->W, c->N, c->K);
    d->Wq = malloc((size_t)c->N * c->K + 1);
    d->ws = falloc((size_t)c->N);
    we_quantize_rows_q8(d->Wq, d->ws, d->W, c->N, c->K);
    d->Wqp = malloc(we_gemm_q8_packed_bytes(c->N, c->K) + 1);
    we_gemm_q8_pack(d->Wqp, d->Wq, c->N, c->K);
    d->scratch = malloc(we_gemm_q8_scratch_bytes(c->T, c->K) + 1);
}

static void gemm_data_free(gemm_data *d) {
    free(d->x); free(d->W); free(d->b); free(d->Wp); free(d->ws);
    free(d->Wq); free(d->Wqp); free(d->scratch);
}

// y buffers are (T, ldy) filled with a sentinel, so writes beyond N show.
#define SENTINEL 12345.0f

static float *y_alloc(const gemm_data *d) {
    size_t n = (size_t)d->T * d->ldy;
    float *y = falloc(n);
    for (size_t i = 0; i < n; i++) y[i] = SENTINEL;
    return y;
}

static bool pads_intact(const float *y, const gemm_data *d) {
    for (int t = 0; t < d->T; t++)
        for (int n = d->N; n < d->ldy; n++)
            if (y[(size_t)t * d->ldy + n] != SENTINEL) return false;
    return true;
}

// Packs (T, ldy) rows into (T, N).
static void compact(float *dst, const float *y, const gemm_data *d) {
    for (int t = 0; t < d->T; t++) memcpy(dst + (size_t)t * d->N, y + (size_t)t * d->ldy, (size_t)d->N * sizeof(float));
}

static void case_name(char *buf, size_t n, const char *op, const gemm_case *c) {
    int k = snprintf(buf, n, "%s(T=%d,K=%d,N=%d,act=%s,threads=%d", op, c->T, c->K, c->N,
                     we_act_name(c->act), c->threads);
    if (c->ldx_pad) k += snprintf(buf + k, n - (size_t)k, ",ldx=%d", c->K + c->ldx_pad);
    if (c->ldy_pad) k += snprintf(buf + k, n - (size_t)k, ",ldy=%d", c->N + c->ldy_pad);
    if (!c->bias) k += snprintf(buf + k, n - (size_t)k, ",bias=no");
    snprintf(buf + k, n - (size_t)k, ")");
}

static void run_gemm_case(wembed_pool *pool, const gemm_case *c, uint64_t seed) {
    char name_f32[160], name_q8[160], name_qf[160];
    char op_f32[64];
    snprintf(op_f32, sizeof op_f32, "GEMM_F32%s", f32_tag);
    case_name(name_f32, sizeof name_f32, op_f32, c);
    char op_q8[64], op_qf[64];
    snprintf(op_q8, sizeof op_q8, "GEMM_Q8%s", q8_tag);
    snprintf(op_qf, sizeof op_qf, "GEMM_Q8_VS_F32%s", q8_tag);
    case_name(name_q8, sizeof name_q8, op_q8, c);
    case_name(name_qf, sizeof name_qf, op_qf, c);
    if (q8_only) name_f32[0] = 0;
    if (f32_only) name_q8[0] = name_qf[0] = 0;
    if (!selected(name_f32) && !selected(name_q8) && !selected(name_qf)) return;

    gemm_data d;
    gemm_data_init(&d, c, seed);
    const float *b = c->bias ? d.b : NULL;
    size_t n = (size_t)c->T * c->N;
    float *y_ref = y_alloc(&d), *y = y_alloc(&d), *q_ref = y_alloc(&d), *q = y_alloc(&d);
    float *a = falloc(n), *r = falloc(n);

    we_gemm_f32_ref(NULL, y_ref, d.ldy, d.x, d.ldx, d.W, b, c->T, c->K, c->N, c->act);
    we_gemm_f32(pool, y, d.ldy, d.x, d.ldx, d.Wp, b, c->T, c->K, c->N, c->act);
    we_gemm_q8_ref(NULL, q_ref, d.ldy, d.x, d.ldx, d.Wq, d.ws, b, c->T, c->K, c->N, c->act, d.scratch);
    we_gemm_q8(pool, q, d.ldy, d.x, d.ldx, d.Wqp, d.ws, b, c->T, c->K, c->N, c->act, d.scratch);

    if (!q8_only && selected(name_f32)) {
        compact(a, y, &d); compact(r, y_ref, &d);
        double e = we_nmse(a, r, n);
        bool exact = memcmp(a, r, n * sizeof(float)) == 0;
        bool ok = pads_intact(y, &d) &&
                  (c->act == WE_ACT_NONE ? (f32_exact_kernel() ? exact : e <= NMSE_F32_FMA) : e <= NMSE_ACT + NMSE_F32_FMA);
        report(name_f32, ok, "nmse=%.3g%s", e, exact ? " (bit-identical)" : "");
    }
    if (name_q8[0] && selected(name_q8)) {
        compact(a, q, &d); compact(r, q_ref, &d);
        double e = we_nmse(a, r, n);
        bool exact = memcmp(a, r, n * sizeof(float)) == 0;
        bool ok = pads_intact(q, &d) && (c->act == WE_ACT_NONE ? exact : e <= NMSE_ACT);
        report(name_q8, ok, "nmse=%.3g%s", e, exact ? " (bit-identical)" : "");
    }
    if (name_qf[0] && selected(name_qf)) {
        compact(a, q, &d); compact(r, y_ref, &d);
        double e = we_nmse(a, r, n);
        report(name_qf, e <= NMSE_Q8_VS_F32, "nmse=%.3g", e);
    }
    free(y_ref); free(y); free(q_ref); free(q); free(a); free(r);
    gemm_data_free(&d);
}

// -----------------------------------------------------------------------------------------
// Elementwise activations

typedef void (*act_fn)(wembed_pool *, float *, const float *, size_t);

typedef struct act_op { const char *name; act_fn opt, ref; } act_op;

static const act_op ACT_OPS[] = {
    {"GELU", we_gelu, we_gelu_ref},
    {"GELU_QUICK", we_gelu_quick, we_gelu_quick_ref},
    {"SILU", we_silu, we_silu_ref},
    {"GELU_TANH", we_gelu_tanh, we_gelu_tanh_ref},
};

typedef struct act_case { size_t n; float lo, hi; int threads; bool in_place; } act_case;

static const act_case ACT_CASES[] = {
    {1, -3, 3, 1, false},
    {7, -3, 3, 2, false},
    {1000, -8, 8, 1, false},
    {4099, -20, 20, 3, true},
    {65536 + 3, -6, 6, 4, false},
    {333, -100, 100, 2, true},
};

static void run_act_case(wembed_pool *pool, const act_op *op, const act_case *c, uint64_t seed) {
    char name[160];
    snprintf(name, sizeof name, "%s%s(n=%zu,range=%g..%g,threads=%d%s)", op->name, f32_tag, c->n,
             (double)c->lo, (double)c->hi, c->threads, c->in_place ? ",in_place" : "");
    if (!selected(name)) return;
    we_rng rng = {seed};
    float *x = falloc(c->n), *y = falloc(c->n + 1), *r = falloc(c->n);
    we_rng_fill(&rng, x, c->n, c->lo, c->hi);
    y[c->n] = SENTINEL;
    op->ref(NULL, r, x, c->n);
    if (c->in_place) {
        memcpy(y, x, c->n * sizeof(float));
        op->opt(pool, y, y, c->n);
    } else {
        op->opt(pool, y, x, c->n);
    }
    double e = we_nmse(y, r, c->n);
    report(name, e <= NMSE_ACT && y[c->n] == SENTINEL, "nmse=%.3g", e);
    free(x); free(y); free(r);
}

// -----------------------------------------------------------------------------------------
// Softmax and layer norm

typedef struct rows_case { int T, N, ld_pad; float scale, offset; int threads; bool affine; } rows_case;

static const rows_case ROWS_CASES[] = {
    {1, 1, 0, 1, 0, 1, true},
    {1, 3, 0, 1, 0, 1, true},
    {5, 7, 2, 4, 0, 2, true},
    {12, 128, 0, 10, 0, 3, false},
    {64, 384, 0, 3, 0, 4, true},
    {33, 768, 5, 2, 100, 2, true},      // a large common offset (layer norm's hard case)
    {9, 1000, 0, 30, -50, 1, false},
    {128, 512, 0, 8, 0, 4, true},       // attention-sized rows
};

static void rows_name(char *buf, size_t n, const char *op, const rows_case *c) {
    int k = snprintf(buf, n, "%s%s(T=%d,N=%d", op, f32_tag, c->T, c->N);
    if (c->ld_pad) k += snprintf(buf + k, n - (size_t)k, ",ld=%d", c->N + c->ld_pad);
    k += snprintf(buf + k, n - (size_t)k, ",x=%g*u(-1,1)%+g", (double)c->scale, (double)c->offset);
    if (!strcmp(op, "LAYER_NORM")) k += snprintf(buf + k, n - (size_t)k, ",affine=%s", c->affine ? "yes" : "no");
    if (!strncmp(op, "RMS_NORM", 8)) k += snprintf(buf + k, n - (size_t)k, ",gamma=%s", c->affine ? "yes" : "no");
    snprintf(buf + k, n - (size_t)k, ",threads=%d)", c->threads);
}

static void run_rows_case(wembed_pool *pool, const rows_case *c, uint64_t seed) {
    char name_sm[160], name_ln[160], name_rms[2][160];
    rows_name(name_sm, sizeof name_sm, "SOFTMAX", c);
    rows_name(name_ln, sizeof name_ln, "LAYER_NORM", c);
    rows_name(name_rms[0], sizeof name_rms[0], "RMS_NORM", c);
    rows_name(name_rms[1], sizeof name_rms[1], "RMS_NORM_OFFSET1", c);
    int ld = c->N + c->ld_pad;
    size_t n = (size_t)c->T * ld, m = (size_t)c->T * c->N;
    we_rng rng = {seed};
    float *x = falloc(n), *y = falloc(n), *r = falloc(n), *a = falloc(m), *b = falloc(m);
    float *gamma = falloc((size_t)c->N), *beta = falloc((size_t)c->N);
    we_rng_fill(&rng, x, n, -c->scale, c->scale);
    for (size_t i = 0; i < n; i++) x[i] += c->offset;
    we_rng_fill(&rng, gamma, (size_t)c->N, 0.5f, 1.5f);
    we_rng_fill(&rng, beta, (size_t)c->N, -0.5f, 0.5f);

    if (selected(name_sm)) {
        memcpy(y, x, n * sizeof(float));
        memcpy(r, x, n * sizeof(float));
        we_softmax_ref(NULL, r, ld, c->T, c->N);
        we_softmax(pool, y, ld, c->T, c->N);
        bool pads = true;                          // the gaps between rows are not touched
        for (int t = 0; t < c->T; t++)
            for (int i = c->N; i < ld; i++) pads &= y[(size_t)t * ld + i] == x[(size_t)t * ld + i];
        for (int t = 0; t < c->T; t++) {
            memcpy(a + (size_t)t * c->N, y + (size_t)t * ld, (size_t)c->N * sizeof(float));
            memcpy(b + (size_t)t * c->N, r + (size_t)t * ld, (size_t)c->N * sizeof(float));
        }
        double e = we_nmse(a, b, m);
        report(name_sm, e <= NMSE_ACT && pads, "nmse=%.3g", e);
    }
    if (selected(name_ln)) {
        const float *g = c->affine ? gamma : NULL, *bb = c->affine ? beta : NULL;
        for (size_t i = 0; i < n; i++) y[i] = r[i] = SENTINEL;
        we_layer_norm_ref(NULL, r, ld, x, ld, g, bb, c->T, c->N, 1e-12f);
        we_layer_norm(pool, y, ld, x, ld, g, bb, c->T, c->N, 1e-12f);
        bool pads = true;
        for (int t = 0; t < c->T; t++)
            for (int i = c->N; i < ld; i++) pads &= y[(size_t)t * ld + i] == SENTINEL;
        for (int t = 0; t < c->T; t++) {
            memcpy(a + (size_t)t * c->N, y + (size_t)t * ld, (size_t)c->N * sizeof(float));
            memcpy(b + (size_t)t * c->N, r + (size_t)t * ld, (size_t)c->N * sizeof(float));
        }
        double e = we_nmse(a, b, m);
        report(name_ln, e <= NMSE_ACT && pads, "nmse=%.3g", e);
    }
    // RMSNorm with the weight as stored (offset 0) and Gemma's 1 + w (offset 1); without
    // gamma the offset must not matter. eps 1e-6 (Llama, Qwen, Gemma).
    for (int off = 0; off < 2; off++) {
        if (!selected(name_rms[off])) continue;
        const float *g = c->affine ? gamma : NULL;
        for (size_t i = 0; i < n; i++) y[i] = r[i] = SENTINEL;
        we_rms_norm_ref(NULL, r, ld, x, ld, g, (float)off, c->T, c->N, 1e-6f);
        we_rms_norm(pool, y, ld, x, ld, g, (float)off, c->T, c->N, 1e-6f);
        bool pads = true;
        for (int t = 0; t < c->T; t++)
            for (int i = c->N; i < ld; i++) pads &= y[(size_t)t * ld + i] == SENTINEL;
        for (int t = 0; t < c->T; t++) {
            memcpy(a + (size_t)t * c->N, y + (size_t)t * ld, (size_t)c->N * sizeof(float));
            memcpy(b + (size_t)t * c->N, r + (size_t)t * ld, (size_t)c->N * sizeof(float));
        }
        double e = we_nmse(a, b, m);
        bool same_no_gamma = true;
        if (!c->affine && off == 1) {                       // offset ignored: as with offset 0
            float *y0 = falloc(n);
            memcpy(y0, y, n * sizeof(float));
            we_rms_norm(pool, y0, ld, x, ld, NULL, 0.0f, c->T, c->N, 1e-6f);
            same_no_gamma = memcmp(y0, y, n * sizeof(float)) == 0;
            free(y0);
        }
        report(name_rms[off], e <= NMSE_ACT && pads && same_no_gamma, "nmse=%.3g", e);
    }
    free(x); free(y); free(r); free(a); free(b); free(gamma); free(beta);
}

// Layer norm in place (y == x), with eps mattering (a constant row: var = 0).
static void test_layer_norm_in_place(void) {
    char name[96];
    snprintf(name, sizeof name, "LAYER_NORM%s(T=3,N=10,in_place,constant_row)", f32_tag);
    if (!selected(name)) return;
    float x[30], r[30];
    we_rng rng = {7};
    we_rng_fill(&rng, x, 30, -2, 2);
    for (int i = 10; i < 20; i++) x[i] = 3.0f;        // var = 0: y = 0 * (1/sqrt(eps))
    we_layer_norm_ref(NULL, r, 10, x, 10, NULL, NULL, 3, 10, 1e-5f);
    we_layer_norm(NULL, x, 10, x, 10, NULL, NULL, 3, 10, 1e-5f);
    double e = we_nmse(x, r, 30);
    bool zeros = true;
    for (int i = 10; i < 20; i++) zeros &= x[i] == 0.0f;
    report(name, e <= NMSE_ACT && zeros, "nmse=%.3g", e);
}

// RMSNorm in place, odd N, with eps mattering (a zero row: y = 0 * (1/sqrt(eps))) and a
// row of one large value.
static void test_rms_norm_in_place(void) {
    const char *name = "RMS_NORM(T=4,N=9,in_place,zero_row,offset=1)";
    if (!selected(name)) return;
    float x[36], r[36], g[9];
    we_rng rng = {8};
    we_rng_fill(&rng, x, 36, -2, 2);
    we_rng_fill(&rng, g, 9, -0.5f, 0.5f);
    for (int i = 9; i < 18; i++) x[i] = 0.0f;
    for (int i = 27; i < 36; i++) x[i] = i == 31 ? 3e4f : 1e-3f;
    we_rms_norm_ref(NULL, r, 9, x, 9, g, 1.0f, 4, 9, 1e-6f);
    we_rms_norm(NULL, x, 9, x, 9, g, 1.0f, 4, 9, 1e-6f);
    double e = we_nmse(x, r, 36);
    bool zeros = true;
    for (int i = 9; i < 18; i++) zeros &= x[i] == 0.0f;
    report(name, e <= NMSE_ACT && zeros, "nmse=%.3g", e);
}

// -----------------------------------------------------------------------------------------
// VMATH: the approximations' error over a dense sweep, against the double-precision
// references (rounded once), in ulp of the reference. Bounds: vmath.h's measured maxima
// plus the reference's own rounding (0.5 ulp).

static float ulp_of(float v) {
    float a = fabsf(v);
    if (a < FLT_MIN) return FLT_TRUE_MIN;
    return nextafterf(a, INFINITY) - a;
}

typedef struct sweep_case { const char *name; act_fn opt, ref; float lo, hi, max_ulp; } sweep_case;

static const sweep_case SWEEPS[] = {
    {"GELU", we_gelu, we_gelu_ref, -20.0f, 20.0f, 7.5f},
    {"GELU_QUICK", we_gelu_quick, we_gelu_quick_ref, -60.0f, 60.0f, 3.0f},
    {"SILU", we_silu, we_silu_ref, -90.0f, 90.0f, 3.0f},
    {"GELU_TANH", we_gelu_tanh, we_gelu_tanh_ref, -20.0f, 20.0f, 4.0f},
};

// Every `stride`-th float of [lo, hi], ordered as integers.
static size_t sweep_fill(float *x, size_t cap, float lo, float hi, int32_t stride) {
    int32_t ilo, ihi;
    memcpy(&ilo, &lo, 4);
    memcpy(&ihi, &hi, 4);
    int32_t olo = ilo >= 0 ? ilo : -(ilo & 0x7fffffff), ohi = ihi >= 0 ? ihi : -(ihi & 0x7fffffff);
    size_t n = 0;
    for (int64_t o = olo; o <= ohi && n < cap; o += stride) {
        int32_t u = o >= 0 ? (int32_t)o : (int32_t)((uint32_t)(-o) | 0x80000000u);
        memcpy(&x[n++], &u, 4);
    }
    return n;
}

static void test_vmath_sweep(wembed_pool *pool) {
    const size_t cap = 1 << 21;
    float *x = falloc(cap), *y = falloc(cap), *r = falloc(cap);
    for (size_t s = 0; s < WE_ARRAY_LEN(SWEEPS); s++) {
        const sweep_case *c = &SWEEPS[s];
        char name[160];
        snprintf(name, sizeof name, "VMATH_%s%s(every 1024th float of %g..%g)", c->name, f32_tag, (double)c->lo, (double)c->hi);
        if (!selected(name)) continue;
        size_t n = sweep_fill(x, cap, c->lo, c->hi, 1024);
        c->ref(NULL, r, x, n);
        c->opt(pool, y, x, n);
        double max_ulp = 0, max_tiny = 0;
        float worst = 0;
        for (size_t i = 0; i < n; i++) {
            double d = fabs((double)y[i] - r[i]);
            if (fabsf(r[i]) >= 1e-30f) {
                double u = d / ulp_of(r[i]);
                if (u > max_ulp) { max_ulp = u; worst = x[i]; }
            } else if (d > max_tiny) {
                max_tiny = d;
            }
        }
        report(name, max_ulp <= c->max_ulp && max_tiny < 1e-36,
               "n=%zu max %.2f ulp (at %.7g) bound %.1f; |ref|<1e-30: max abs %.2g", n, max_ulp,
               (double)worst, (double)c->max_ulp, max_tiny);
    }
    free(x); free(y); free(r);
}

// we_v_exp_neg (attention's weights) is we_v_exp without its range handling: on its range,
// [-64 ln 2, 0], the two must agree bit for bit. Every 256th float of it.
static void test_exp_neg(void) {
#if defined(WEMBED_SIMD)
    const char *name = "VMATH_EXP_NEG(every 256th float of -44.36..0, bits against we_v_exp)";
    if (!selected(name)) return;
    const size_t cap = 1 << 23;
    float *x = falloc(cap);
    size_t n = sweep_fill(x, cap, -44.3614195558365f, 0.0f, 256), bad = n;
    for (size_t i = 0; i + 4 <= n && bad == n; i += 4) {
        v128_t v = wasm_v128_load(x + i);
        uint32_t a[4], b[4];
        wasm_v128_store(a, we_v_exp_neg(v));
        wasm_v128_store(b, we_v_exp(v));
        for (int l = 0; l < 4; l++) if (a[l] != b[l]) bad = i + (size_t)l;
    }
    report(name, bad == n, "n=%zu %s", n, bad == n ? "bit-identical" : "DIFFER");
    free(x);
#endif
}

// -----------------------------------------------------------------------------------------
// NaN / Inf: nothing crashes, and non-finite values land where the reference puts them.

// GEMMs with NaN and Inf in x: row 1 NaN, row 2 +Inf, row 3 -Inf, rows 0 and 4 finite
static void test_nonfinite_gemm(wembed_pool *pool) {
    char name[160];
    for (int q8 = q8_only; q8 < 2; q8++) {
        for (int act = WE_ACT_NONE; act <= WE_ACT_GELU_TANH; act++) {
            gemm_case c = {5, 19, 13, (we_act)act, 2, 0, 0, true};
            snprintf(name, sizeof name, "%s%s(T=5,K=19,N=13,act=%s,x has NaN/+Inf/-Inf rows)",
                     q8 ? "GEMM_Q8" : "GEMM_F32", q8 ? q8_tag : "", we_act_name(c.act));
            if (!selected(name)) continue;
            gemm_data d;
            gemm_data_init(&d, &c, 99);
            d.x[1 * d.ldx + 3] = NAN;
            d.x[2 * d.ldx + 5] = INFINITY;
            d.x[3 * d.ldx + 0] = -INFINITY;
            float *y = y_alloc(&d), *r = y_alloc(&d);
            if (q8) {
                we_gemm_q8_ref(NULL, r, d.ldy, d.x, d.ldx, d.Wq, d.ws, d.b, c.T, c.K, c.N, c.act, d.scratch);
                we_gemm_q8(pool, y, d.ldy, d.x, d.ldx, d.Wqp, d.ws, d.b, c.T, c.K, c.N, c.act, d.scratch);
            } else {
                we_gemm_f32_ref(NULL, r, d.ldy, d.x, d.ldx, d.W, d.b, c.T, c.K, c.N, c.act);
                we_gemm_f32(pool, y, d.ldy, d.x, d.ldx, d.Wp, d.b, c.T, c.K, c.N, c.act);
            }
            size_t n = (size_t)c.T * c.N, bad = 0;
            bool classes = same_classes(r, y, n, &bad);
            bool nan_row = isnan(y[1 * d.ldy]) && isnan(y[1 * d.ldy + c.N - 1]);
            double e = nmse_finite(y, r, n);
            report(name, classes && nan_row && e <= NMSE_ACT, "nmse(finite)=%.3g classes %s",
                   e, classes ? "match" : "DIFFER");
            free(y); free(r);
            gemm_data_free(&d);
        }
    }

}

static void test_nonfinite_acts(wembed_pool *pool) {
    char name[160];
    // activations on special values
    static const float special[] = {
        NAN, -NAN, INFINITY, -INFINITY, 0.0f, -0.0f, FLT_MAX, -FLT_MAX, FLT_MIN, -FLT_MIN,
        FLT_TRUE_MIN, -FLT_TRUE_MIN, 88.7f, 89.0f, -87.4f, -104.0f, -105.0f, 1e10f, -1e10f, -10.2f, -6.5f,
        13.99f, -13.99f, 14.0f, -14.0f, 0.75f, -0.75f, 0.7499999f, -0.7499999f};
    size_t ns = WE_ARRAY_LEN(special);
    for (size_t o = 0; o < WE_ARRAY_LEN(ACT_OPS); o++) {
        snprintf(name, sizeof name, "%s%s(special values: NaN, +-Inf, +-0, +-FLT_MAX, subnormals, ...)", ACT_OPS[o].name, f32_tag);
        if (!selected(name)) continue;
        float y[64], r[64];
        ACT_OPS[o].ref(NULL, r, special, ns);
        ACT_OPS[o].opt(pool, y, special, ns);
        size_t bad = 0;
        bool classes = same_classes(r, y, ns, &bad);
        bool close = true;
        for (size_t i = 0; i < ns; i++)
            if (isfinite(r[i]) && fabs((double)y[i] - r[i]) > 8 * ulp_of(r[i]) + 1e-37) { close = false; bad = i; }
        report(name, classes && close, "x=%g: ref %g got %g", (double)special[bad], (double)r[bad], (double)y[bad]);
    }
}

static void test_nonfinite(wembed_pool *pool) {
    char name[160];
    test_nonfinite_acts(pool);

    // softmax: a NaN row, a +Inf row, a row with some -Inf, an all -Inf row, a finite row
    snprintf(name, sizeof name, "SOFTMAX(T=5,N=11,rows with NaN/+Inf/-Inf/all -Inf)");
    if (selected(name)) {
        float x[55], r[55];
        we_rng rng = {5};
        we_rng_fill(&rng, x, 55, -3, 3);
        x[0 * 11 + 4] = NAN;
        x[1 * 11 + 2] = INFINITY;
        x[2 * 11 + 0] = -INFINITY; x[2 * 11 + 10] = -INFINITY;
        for (int i = 0; i < 11; i++) x[3 * 11 + i] = -INFINITY;
        memcpy(r, x, sizeof x);
        we_softmax_ref(NULL, r, 11, 5, 11);
        we_softmax(pool, x, 11, 5, 11);
        size_t bad = 0;
        bool classes = same_classes(r, x, 55, &bad);
        bool masked = x[2 * 11] == 0.0f && x[2 * 11 + 10] == 0.0f && isnan(x[0]) && isnan(x[11 + 5]);
        double e = nmse_finite(x, r, 55);
        report(name, classes && masked && e <= NMSE_ACT, "nmse(finite)=%.3g classes %s", e,
               classes ? "match" : "DIFFER");
    }
    snprintf(name, sizeof name, "LAYER_NORM(T=3,N=9,rows with NaN/Inf)");
    if (selected(name)) {
        float x[27], y[27], r[27];
        we_rng rng = {6};
        we_rng_fill(&rng, x, 27, -3, 3);
        x[4] = NAN;
        x[9 + 8] = INFINITY;
        we_layer_norm_ref(NULL, r, 9, x, 9, NULL, NULL, 3, 9, 1e-5f);
        we_layer_norm(pool, y, 9, x, 9, NULL, NULL, 3, 9, 1e-5f);
        size_t bad = 0;
        bool classes = same_classes(r, y, 27, &bad);
        double e = nmse_finite(y, r, 27);
        report(name, classes && e <= NMSE_ACT, "nmse(finite)=%.3g classes %s", e,
               classes ? "match" : "DIFFER");
    }
    snprintf(name, sizeof name, "RMS_NORM(T=3,N=9,rows with NaN/Inf)");
    if (selected(name)) {
        float x[27], y[27], r[27], g[9];
        we_rng rng = {6};
        we_rng_fill(&rng, x, 27, -3, 3);
        we_rng_fill(&rng, g, 9, 0.5f, 1.5f);
        x[4] = NAN;
        x[9 + 8] = INFINITY;
        we_rms_norm_ref(NULL, r, 9, x, 9, g, 0.0f, 3, 9, 1e-6f);
        we_rms_norm(pool, y, 9, x, 9, g, 0.0f, 3, 9, 1e-6f);
        size_t bad = 0;
        bool classes = same_classes(r, y, 27, &bad);
        double e = nmse_finite(y, r, 27);
        report(name, classes && isnan(y[0]) && e <= NMSE_ACT, "nmse(finite)=%.3g classes %s", e,
               classes ? "match" : "DIFFER");
    }
}

// we_act_apply is the elementwise op of each we_act, bit for bit (NONE copies), out of place
// and in place.
static void test_act_apply(wembed_pool *pool) {
    static const we_act ACTS[] = {WE_ACT_NONE, WE_ACT_GELU, WE_ACT_GELU_QUICK, WE_ACT_SILU, WE_ACT_GELU_TANH};
    static const act_fn FNS[] = {NULL, we_gelu, we_gelu_quick, we_silu, we_gelu_tanh};
    const size_t n = 1003;
    float *x = falloc(n), *y = falloc(n + 1), *r = falloc(n), *z = falloc(n);
    we_rng rng = {31};
    we_rng_fill(&rng, x, n, -8, 8);
    for (size_t i = 0; i < WE_ARRAY_LEN(ACTS); i++) {
        char name[96];
        snprintf(name, sizeof name, "ACT_APPLY(act=%s,n=%zu,in place and not)", we_act_name(ACTS[i]), n);
        if (!selected(name)) continue;
        if (FNS[i]) FNS[i](pool, r, x, n);
        else memcpy(r, x, n * sizeof(float));
        y[n] = SENTINEL;
        we_act_apply(pool, y, x, n, ACTS[i]);
        memcpy(z, x, n * sizeof(float));
        we_act_apply(pool, z, z, n, ACTS[i]);
        bool ok = memcmp(y, r, n * sizeof(float)) == 0 && memcmp(z, r, n * sizeof(float)) == 0 && y[n] == SENTINEL;
        report(name, ok, "%s", ok ? "bit-identical" : "DIFFER");
    }
    free(x); free(y); free(r); free(z);
}

// -----------------------------------------------------------------------------------------
// Determinism: the same output, bit for bit, for 1, 2, 3 and 4 threads (and no pool).

typedef struct det_out { float *f32, *q8, *sm, *ln, *act, *rms, *act2; } det_out;

static void det_run(wembed_pool *pool, gemm_data *d, const float *xs, size_t ns, det_out *o) {
    we_gemm_f32(pool, o->f32, d->ldy, d->x, d->ldx, d->Wp, d->b, d->T, d->K, d->N, WE_ACT_GELU);
    we_gemm_q8(pool, o->q8, d->ldy, d->x, d->ldx, d->Wqp, d->ws, d->b, d->T, d->K, d->N, WE_ACT_SILU, d->scratch);
    memcpy(o->sm, xs, ns * sizeof(float));
    we_softmax(pool, o->sm, 257, (int)(ns / 257), 257);
    we_layer_norm(pool, o->ln, 257, xs, 257, d->b, d->b, (int)(ns / 257), 257, 1e-5f);
    we_gelu(pool, o->act, xs, ns);
    we_rms_norm(pool, o->rms, 257, xs, 257, d->b, 1.0f, (int)(ns / 257), 257, 1e-6f);
    we_gelu_tanh(pool, o->act2, xs, ns);
}

static void test_determinism(void) {
    const char *name = "DETERMINISM(GEMM_F32+GEMM_Q8 T=61,K=200,N=300; SOFTMAX, LAYER_NORM, RMS_NORM, GELU, GELU_TANH 61x257; threads=none,1..4)";
    if (!selected(name)) return;
    gemm_case c = {61, 200, 300, WE_ACT_GELU, 1, 0, 0, true};   // int8: rows split for 2-3 threads, panels for 4
    gemm_data d;
    gemm_data_init(&d, &c, 1234);
    size_t ny = (size_t)c.T * c.N, ns = 61 * 257;
    float *xs = falloc(ns);
    we_rng rng = {77};
    we_rng_fill(&rng, xs, ns, -5, 5);
    det_out base = {falloc(ny), falloc(ny), falloc(ns), falloc(ns), falloc(ns), falloc(ns), falloc(ns)};
    det_out o = {falloc(ny), falloc(ny), falloc(ns), falloc(ns), falloc(ns), falloc(ns), falloc(ns)};
    det_run(NULL, &d, xs, ns, &base);
    bool ok = true;
    int got_threads[5] = {0};
    for (int th = 1; th <= 4; th++) {
        wembed_pool *pool = NULL;
        if (wembed_pool_new(th, &pool) != WEMBED_STATUS_OK) { ok = false; break; }
        got_threads[th] = wembed_pool_n_threads(pool);
        for (int rep = 0; rep < 3; rep++) {
            det_run(pool, &d, xs, ns, &o);
            ok &= memcmp(o.f32, base.f32, ny * sizeof(float)) == 0;
            ok &= memcmp(o.q8, base.q8, ny * sizeof(float)) == 0;
            ok &= memcmp(o.sm, base.sm, ns * sizeof(float)) == 0;
            ok &= memcmp(o.ln, base.ln, ns * sizeof(float)) == 0;
            ok &= memcmp(o.act, base.act, ns * sizeof(float)) == 0;
            ok &= memcmp(o.rms, base.rms, ns * sizeof(float)) == 0;
            ok &= memcmp(o.act2, base.act2, ns * sizeof(float)) == 0;
        }
        wembed_pool_free(pool);
    }
    report(name, ok, "pools of %d,%d,%d,%d threads: %s", got_threads[1], got_threads[2],
           got_threads[3], got_threads[4], ok ? "bit-identical" : "DIFFER");
    free(base.f32); free(base.q8); free(base.sm); free(base.ln); free(base.act); free(base.rms); free(base.act2);
    free(o.f32); free(o.q8); free(o.sm); free(o.ln); free(o.act); free(o.rms); free(o.act2);
    free(xs);
    gemm_data_free(&d);
}

// -----------------------------------------------------------------------------------------
// The packed index functions agree with the packers (the loader streams through them).

static void test_packed_index(void) {
    char name[96];
    snprintf(name, sizeof name, "PACKED_INDEX%s(f32 and q8, N=1..19, K=1..11)", q8_tag);
    if (!selected(name)) return;
    bool ok = true;
    for (int N = 1; N <= 19 && ok; N++) {
        for (int K = 1; K <= 11 && ok; K++) {
            size_t nf = we_gemm_f32_packed_floats(N, K), nq = we_gemm_q8_packed_bytes(N, K);
            float *W = falloc((size_t)N * K), *P = falloc(nf), *S = falloc(nf);
            int8_t *Wq = malloc((size_t)N * K), *Pq = malloc(nq), *Sq = malloc(nq);
            for (int i = 0; i < N * K; i++) { W[i] = (float)(i + 1); Wq[i] = (int8_t)(i % 250 - 125); }
            we_gemm_f32_pack(P, W, N, K);
            we_gemm_q8_pack(Pq, Wq, N, K);
            memset(S, 0, nf * sizeof(float));
            memset(Sq, 0, nq);
            for (int n = 0; n < N; n++)
                for (int k = 0; k < K; k++) {
                    size_t i = we_gemm_f32_packed_index(n, k, N, K), j = we_gemm_q8_packed_index(n, k, N, K);
                    ok &= i < nf && j < nq;
                    if (!ok) break;
                    S[i] = W[n * K + k];
                    Sq[j] = Wq[n * K + k];
                }
            // after the weights, the dot kernels' per-channel sums (ops.h): 128 * sum_k Wq
            size_t ns = we_gemm_q8_sums_offset(N, K);
            for (int n = 0; n < N && ns < nq; n++) {
                int32_t sum = 0, got;
                for (int k = 0; k < K; k++) sum += Wq[n * K + k];
                memcpy(&got, Pq + ns + (size_t)n * 4, 4);
                ok &= got == 128 * sum;
            }
            ok = ok && memcmp(P, S, nf * sizeof(float)) == 0 && memcmp(Pq, Sq, ns) == 0;
            free(W); free(P); free(S); free(Wq); free(Pq); free(Sq);
        }
    }
    report(name, ok, "%s", ok ? "consistent" : "MISMATCH");
}

// y += x W^T (attention's P V accumulation): bit for bit against the reference, on y that
// already holds values, with strides and edge tiles.
static void test_gemm_add(wembed_pool *pool) {
    static const gemm_case cases[] = {{40, 256, 64, WE_ACT_NONE, 2, 0, 0, false},
                                      {13, 37, 29, WE_ACT_NONE, 2, 3, 5, false},
                                      {1, 5, 3, WE_ACT_NONE, 2, 0, 1, false}};
    for (size_t i = 0; i < WE_ARRAY_LEN(cases); i++) {
        const gemm_case *c = &cases[i];
        char name[160];
        char op[64];
        snprintf(op, sizeof op, "GEMM_F32_ADD%s", f32_tag);
        case_name(name, sizeof name, op, c);
        if (!selected(name)) continue;
        gemm_data d;
        gemm_data_init(&d, c, 500 + i);
        float *y = y_alloc(&d), *r = y_alloc(&d);
        we_rng rng = {77 + i};
        for (int t = 0; t < c->T; t++)
            for (int n = 0; n < c->N; n++) y[(size_t)t * d.ldy + n] = r[(size_t)t * d.ldy + n] = we_rng_uniform(&rng, -2.0f, 2.0f);
        we_gemm_f32_add_ref(NULL, r, d.ldy, d.x, d.ldx, d.W, c->T, c->K, c->N);
        we_gemm_f32_add(pool, y, d.ldy, d.x, d.ldx, d.Wp, c->T, c->K, c->N);
        bool exact = memcmp(y, r, (size_t)c->T * d.ldy * sizeof(float)) == 0;
        double e = we_nmse(y, r, (size_t)c->T * d.ldy);
        bool ok = f32_exact_kernel() ? exact : e <= NMSE_F32_FMA;
        report(name, ok, "%s nmse=%.3g", exact ? "bit-identical" : "differs", e);
        free(y); free(r);
        gemm_data_free(&d);
    }
}

// Row quantization: the documented rule, on a hand-checked row.
static void test_quantize(void) {
    const char *name = "QUANTIZE_ROWS_Q8(hand-checked rows)";
    if (!selected(name)) return;
    const float x[3][5] = {{1.0f, -0.5f, 0.25f, 0.0f, -1.0f},
                           {0.0f, 1e-31f, -1e-31f, 0.0f, 0.0f},
                           {1.0f, NAN, 2.0f, 0.0f, 0.0f}};
    int8_t q[15];
    float s[3];
    we_quantize_rows_q8(q, s, &x[0][0], 3, 5);
    // 0.5 * 127 = 63.5 -> 64 (ties to even), 0.25 * 127 = 31.75 -> 32
    bool ok = q[0] == 127 && q[1] == -64 && q[2] == 32 && q[3] == 0 && q[4] == -127 &&
              s[0] == 1.0f / 127.0f && s[1] == 0.0f && isnan(s[2]);
    for (int i = 5; i < 15; i++) ok &= q[i] == 0;
    report(name, ok, "q=%d,%d,%d,%d,%d s=%g,%g,%g", q[0], q[1], q[2], q[3], q[4], (double)s[0],
           (double)s[1], (double)s[2]);
}

// -----------------------------------------------------------------------------------------
// The int8 kernels besides the build's default: natively, where relaxed SIMD's dot product is
// emulated, the dot kernel for hosts that read its operand as unsigned (x86) and as signed
// (Arm); in wasm, whatever the probe allows. Same cases, bit for bit against the reference.

static void test_other_q8_kernels(void) {
    static const struct { we_q8_kernel k; bool emulate_signed; } KERNELS[] = {
        {WE_Q8_KERNEL_I16, false}, {WE_Q8_KERNEL_DOT_U8, false}, {WE_Q8_KERNEL_DOT_S8, true},
        {WE_Q8_KERNEL_AVX2, false}, {WE_Q8_KERNEL_AVX_VNNI, false}, {WE_Q8_KERNEL_AVX512_VNNI, false},
        {WE_Q8_KERNEL_NEON_SDOT, false}, {WE_Q8_KERNEL_NEON_SMULL, false}};
    we_q8_kernel dflt = we_gemm_q8_kernel();
    for (size_t i = 0; i < WE_ARRAY_LEN(KERNELS); i++) {
        if (KERNELS[i].k == dflt) continue;
#if defined(WEMBED_SIMD) && !defined(__wasm__)
        we_q8_dot_emulate_signed(KERNELS[i].emulate_signed);
#endif
        if (!we_gemm_q8_use_kernel(KERNELS[i].k)) {
            printf("  int8 kernel %s: not available in this build\n", we_gemm_q8_kernel_name(KERNELS[i].k));
            continue;
        }
        snprintf(q8_tag, sizeof q8_tag, "[%s]", we_gemm_q8_kernel_name(KERNELS[i].k));
        q8_only = true;
        test_packed_index();
        for (int th = 1; th <= 4; th++) {
            wembed_pool *pool = NULL;
            CHECK(wembed_pool_new(th, &pool) == WEMBED_STATUS_OK);
            for (size_t j = 0; j < WE_ARRAY_LEN(GEMM_CASES); j++)
                if (GEMM_CASES[j].threads == th) run_gemm_case(pool, &GEMM_CASES[j], 1000 + j);
            if (th == 2) test_nonfinite_gemm(pool);
            wembed_pool_free(pool);
        }
    }
#if defined(WEMBED_SIMD) && !defined(__wasm__)
    we_q8_dot_emulate_signed(false);
#endif
    q8_tag[0] = 0;
    q8_only = false;
    CHECK(we_gemm_q8_use_kernel(dflt));
}

// The f32 kernels besides the build's default (natively on x86-64: SIMD128 and whichever of
// AVX2 and AVX-512 the CPU has; on arm64 SIMD128 besides NEON), on the same f32 cases. The two FMA kernels compute each
// element by the same FMA chain, so they agree bit for bit with each other.
static void test_other_f32_kernels(void) {
    static const we_f32_kernel KERNELS[] = {WE_F32_KERNEL_SIMD128, WE_F32_KERNEL_AVX2, WE_F32_KERNEL_AVX512,
                                            WE_F32_KERNEL_NEON};
    we_f32_kernel dflt = we_gemm_f32_kernel();
    for (size_t i = 0; i < WE_ARRAY_LEN(KERNELS); i++) {
        if (KERNELS[i] == dflt) continue;
        if (!we_gemm_f32_use_kernel(KERNELS[i])) {
            printf("  f32 kernel %s: not available here\n", we_gemm_f32_kernel_name(KERNELS[i]));
            continue;
        }
        snprintf(f32_tag, sizeof f32_tag, "[%s]", we_gemm_f32_kernel_name(KERNELS[i]));
        f32_only = true;
        for (int th = 1; th <= 4; th++) {
            wembed_pool *pool = NULL;
            CHECK(wembed_pool_new(th, &pool) == WEMBED_STATUS_OK);
            for (size_t j = 0; j < WE_ARRAY_LEN(GEMM_CASES); j++)
                if (GEMM_CASES[j].threads == th) run_gemm_case(pool, &GEMM_CASES[j], 1000 + j);
            // activations and row ops go with the f32 kernel (natively its instruction set's row kernels)
            for (size_t o = 0; o < WE_ARRAY_LEN(ACT_OPS); o++)
                for (size_t j = 0; j < WE_ARRAY_LEN(ACT_CASES); j++)
                    if (ACT_CASES[j].threads == th) run_act_case(pool, &ACT_OPS[o], &ACT_CASES[j], 2000 + j);
            for (size_t j = 0; j < WE_ARRAY_LEN(ROWS_CASES); j++)
                if (ROWS_CASES[j].threads == th) run_rows_case(pool, &ROWS_CASES[j], 3000 + j);
            if (th == 2) {
                test_gemm_add(pool);
                test_vmath_sweep(pool);
                test_nonfinite_acts(pool);
            }
            wembed_pool_free(pool);
        }
        test_layer_norm_in_place();
    }
    f32_tag[0] = 0;
    f32_only = false;
    CHECK(we_gemm_f32_use_kernel(dflt));
    // AVX2 and AVX-512 against each other, where both run: the tiles, and the epilogues (their
    // row kernels' activations, bit-identical to SIMD128's: test_native_vec), with y += too
    for (int act = WE_ACT_NONE; act <= WE_ACT_GELU_TANH; act++) {
        char name[128];
        snprintf(name, sizeof name, "GEMM_F32[avx2 vs avx512](T=29,K=301,N=77,act=%s,threads=1%s; and _ADD)",
                 we_act_name((we_act)act), act == WE_ACT_NONE ? ",bias=no" : "");
        if (!selected(name) || !we_gemm_f32_use_kernel(WE_F32_KERNEL_AVX2) || !we_gemm_f32_use_kernel(WE_F32_KERNEL_AVX512))
            continue;
        gemm_case c = {29, 301, 77, (we_act)act, 1, 0, 3, act != WE_ACT_NONE};   // none: tiles stored in place
        gemm_data d;
        gemm_data_init(&d, &c, 4242);
        float *y2 = y_alloc(&d), *y5 = y_alloc(&d);
        const float *b = c.bias ? d.b : NULL;
        size_t ny = (size_t)c.T * d.ldy;
        CHECK(we_gemm_f32_use_kernel(WE_F32_KERNEL_AVX2));
        we_gemm_f32(NULL, y2, d.ldy, d.x, d.ldx, d.Wp, b, c.T, c.K, c.N, c.act);
        CHECK(we_gemm_f32_use_kernel(WE_F32_KERNEL_AVX512));
        we_gemm_f32(NULL, y5, d.ldy, d.x, d.ldx, d.Wp, b, c.T, c.K, c.N, c.act);
        bool ok = memcmp(y2, y5, ny * sizeof(float)) == 0;
        we_gemm_f32_add(NULL, y5, d.ldy, d.x, d.ldx, d.Wp, c.T, c.K, c.N);
        CHECK(we_gemm_f32_use_kernel(WE_F32_KERNEL_AVX2));
        we_gemm_f32_add(NULL, y2, d.ldy, d.x, d.ldx, d.Wp, c.T, c.K, c.N);
        ok = ok && memcmp(y2, y5, ny * sizeof(float)) == 0 && pads_intact(y2, &d);
        report(name, ok, "%s", ok ? "bit-identical" : "DIFFER");
        free(y2); free(y5);
        gemm_data_free(&d);
        CHECK(we_gemm_f32_use_kernel(dflt));
    }
}

// The native row kernels (on x86-64 those of AVX2 and AVX-512, going with the f32 kernel of
// their instruction set: src/ops/arch/native_gemm.h) restate the SIMD128 code operation for
// operation, so against it they must agree bit for bit (NaN as NaN): the activations on a sweep
// of both signs with special values and a ragged tail, and the int8 GEMM's epilogue and
// activation quantization, every act, on edge tiles, strided rows and rows holding NaN / Inf.
static size_t differ_at(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(isnan(a[i]) && isnan(b[i])) && memcmp(&a[i], &b[i], sizeof(float)) != 0) return i;
    return n;
}

static void test_native_vec(void) {
    static const we_f32_kernel KERNELS[] = {WE_F32_KERNEL_AVX2, WE_F32_KERNEL_AVX512, WE_F32_KERNEL_NEON};
    static const float special[] = {NAN, -NAN, INFINITY, -INFINITY, 0.0f, -0.0f, FLT_MAX, -FLT_MAX, FLT_MIN,
                                    -FLT_MIN, FLT_TRUE_MIN, 88.7f, 89.0f, -87.4f, -104.0f, -105.0f, 14.0f, -14.0f,
                                    0.75f, -0.75f, 100.0f, -100.0f, 1e10f, -1e10f};
    static const gemm_case CASES[] = {{37, 200, 83, WE_ACT_NONE, 1, 0, 0, true},
                                      {13, 37, 29, WE_ACT_NONE, 1, 5, 3, true},
                                      {2, 64, 1000, WE_ACT_NONE, 1, 3, 0, false},
                                      {5, 19, 13, WE_ACT_NONE, 1, 0, 0, true}};   // rows of NaN, +Inf, -Inf
    const we_f32_kernel dflt = we_gemm_f32_kernel();
    const size_t cap = 1 << 18;
    float *x = falloc(cap), *y = falloc(cap), *r = falloc(cap);
    size_t n = sweep_fill(x, cap - 64, -120.0f, 120.0f, 1 << 15);
    memcpy(x + n, special, sizeof special);
    n += WE_ARRAY_LEN(special);                              // not a multiple of 16: a tail
    for (size_t ki = 0; ki < WE_ARRAY_LEN(KERNELS); ki++) {
        const we_f32_kernel k = KERNELS[ki];
        const char *kn = we_gemm_f32_kernel_name(k);
        if (!we_gemm_f32_use_kernel(k)) continue;
        for (int act = WE_ACT_GELU; act <= WE_ACT_GELU_TANH; act++) {
            char name[128];
            snprintf(name, sizeof name, "NATIVE_VEC[%s vs simd128](%s, n=%zu: every 32768th float of -120..120, special values)",
                     kn, we_act_name((we_act)act), n);
            if (!selected(name)) continue;
            CHECK(we_gemm_f32_use_kernel(WE_F32_KERNEL_SIMD128));
            we_act_apply(NULL, r, x, n, (we_act)act);
            CHECK(we_gemm_f32_use_kernel(k));
            we_act_apply(NULL, y, x, n, (we_act)act);
            size_t bad = differ_at(y, r, n);
            if (bad == n) report(name, true, "bit-identical");
            else report(name, false, "x=%.9g: %.9g vs %.9g", (double)x[bad], (double)y[bad], (double)r[bad]);
        }
#if defined(WE_NATIVE_GEMM)
        // attention's exp_sub_sum (its exps fused, so not bit for bit): every 8192nd float of
        // [-50, 0] shifted by m = 3 (a ragged length), each weight within 2 ulp of exp in double
        // and 0 below the flush at 2^-64, the sum within 1e-6 of the weights' double sum
        char ename[128];
        snprintf(ename, sizeof ename, "NATIVE_VEC[%s](exp_sub_sum: every 8192nd float of -50..0, m=3)", kn);
        const we_native_vec *nv = we_native_vec_of(k);
        if (nv && selected(ename)) {
            size_t ne = sweep_fill(r, cap, -50.0f, 0.0f, 8192);
            for (size_t i = 0; i < ne; i++) y[i] = r[i] + 3.0f;
            float got = nv->exp_sub_sum(y, (int)ne, 3.0f);
            double worst = 0, dsum = 0;
            bool flush = true;
            for (size_t i = 0; i < ne; i++) {
                double xi = (double)(r[i] + 3.0f) - 3.0;              // what the kernel subtracts, exactly
                dsum += (double)y[i];
                if (xi < -44.3614195558365) { flush &= y[i] == 0.0f; continue; }
                double u = fabs((double)y[i] - exp(xi)) / ulp_of((float)exp(xi));
                if (u > worst) worst = u;
            }
            report(ename, worst <= 2.0 && flush && fabs((double)got - dsum) <= 1e-6 * dsum,
                   "n=%zu max %.2f ulp, sum %.9g vs %.9g%s", ne, worst, (double)got, dsum, flush ? "" : ", NOT FLUSHED");
        }
#endif
        for (size_t ci = 0; ci < WE_ARRAY_LEN(CASES); ci++) {
            for (int act = WE_ACT_NONE; act <= WE_ACT_GELU_TANH; act++) {
                gemm_case c = CASES[ci];
                c.act = (we_act)act;
                char op[64], name[160];
                snprintf(op, sizeof op, "GEMM_Q8[%s vs simd128 epilogue]", kn);
                case_name(name, sizeof name, op, &c);
                if (!selected(name)) continue;
                gemm_data d;
                gemm_data_init(&d, &c, 700 + ci);
                if (ci == 3) {
                    d.x[1 * d.ldx + 3] = NAN;
                    d.x[2 * d.ldx + 5] = INFINITY;
                    d.x[3 * d.ldx + 0] = -INFINITY;
                }
                float *yq = y_alloc(&d), *rq = y_alloc(&d);
                const float *b = c.bias ? d.b : NULL;
                CHECK(we_gemm_f32_use_kernel(WE_F32_KERNEL_SIMD128));
                we_gemm_q8(NULL, rq, d.ldy, d.x, d.ldx, d.Wqp, d.ws, b, c.T, c.K, c.N, c.act, d.scratch);
                CHECK(we_gemm_f32_use_kernel(k));
                we_gemm_q8(NULL, yq, d.ldy, d.x, d.ldx, d.Wqp, d.ws, b, c.T, c.K, c.N, c.act, d.scratch);
                size_t ny = (size_t)c.T * d.ldy, bad = differ_at(yq, rq, ny);
                report(name, bad == ny && pads_intact(yq, &d), "%s", bad == ny ? "bit-identical" : "DIFFER");
                free(yq); free(rq);
                gemm_data_free(&d);
            }
        }
    }
    CHECK(we_gemm_f32_use_kernel(dflt));
    free(x); free(y); free(r);
}

// -----------------------------------------------------------------------------------------

int main(int argc, char **argv) {
    if (argc > 1) filter = argv[1];
    printf("test-kernels: ops = %s, f32 kernel %s, int8 kernel %s\n", we_ops_impl(),
           we_gemm_f32_kernel_name(we_gemm_f32_kernel()), we_gemm_q8_kernel_name(we_gemm_q8_kernel()));

    test_packed_index();
    test_quantize();
    test_exp_neg();

    // Cases grouped by thread count: one pool at a time (the wasm pthread pool has 4 workers).
    for (int th = 1; th <= 4; th++) {
        wembed_pool *pool = NULL;
        CHECK(wembed_pool_new(th, &pool) == WEMBED_STATUS_OK);
        for (size_t i = 0; i < WE_ARRAY_LEN(GEMM_CASES); i++)
            if (GEMM_CASES[i].threads == th) run_gemm_case(pool, &GEMM_CASES[i], 1000 + i);
        for (size_t o = 0; o < WE_ARRAY_LEN(ACT_OPS); o++)
            for (size_t i = 0; i < WE_ARRAY_LEN(ACT_CASES); i++)
                if (ACT_CASES[i].threads == th) run_act_case(pool, &ACT_OPS[o], &ACT_CASES[i], 2000 + i);
        for (size_t i = 0; i < WE_ARRAY_LEN(ROWS_CASES); i++)
            if (ROWS_CASES[i].threads == th) run_rows_case(pool, &ROWS_CASES[i], 3000 + i);
        if (th == 2) {
            test_nonfinite(pool);
            test_nonfinite_gemm(pool);
            test_gemm_add(pool);
            test_vmath_sweep(pool);
            test_act_apply(pool);
        }
        wembed_pool_free(pool);
    }
    test_layer_norm_in_place();
    test_rms_norm_in_place();
    test_determinism();
    test_other_q8_kernels();
    test_other_f32_kernels();
    test_native_vec();
    CHECK_EQ_INT(we_alloc_live(), 0);
    return we_test_finish("test-kernels");
}
