// vec.c - elementwise activations, softmax, layer norm and RMSNorm with WebAssembly SIMD128
// (natively: the same code via SIMDe, or for the activations and layer norm the native row
// kernels of ../native_gemm.h, wider). The vector math lives in vmath.h.
//
// Threads split rows (softmax, layer norm, RMSNorm) or runs of elements (activations); a row is
// always reduced by one thread in a fixed lane order, so results do not depend on the
// thread count. Row tails go through the same vector code on padded copies.
#include "../../ops.h"

#include <math.h>

#include "../../../core/pool.h"
#include "../native_gemm.h"
#include "vmath.h"

// -----------------------------------------------------------------------------------------
// Elementwise activations

typedef struct act_ctx {
    float *y; const float *x; size_t n; we_act act;
#if defined(WE_NATIVE_GEMM)
    const we_native_vec *nv;      // the native row kernels (the same results, wider), or NULL
#endif
} act_ctx;

#define ACT_LOOP(fn)                                                                     \
    do {                                                                                 \
        for (; i + 4 <= i1; i += 4) wasm_v128_store(y + i, fn(wasm_v128_load(x + i)));   \
        if (i < i1) we_v_store_partial(y + i, fn(we_v_load_partial(x + i, (int)(i1 - i))), \
                                       (int)(i1 - i));                                   \
    } while (0)

static void act_task(void *p, int ith, int nth) {
    const act_ctx *c = p;
    int64_t i0, i1;
    we_split((int64_t)c->n, 64, ith, nth, &i0, &i1);
    float *y = c->y;
    const float *x = c->x;
    int64_t i = i0;
#if defined(WE_NATIVE_GEMM)
    if (c->nv) {
        c->nv->act(y + i0, x + i0, (size_t)(i1 - i0), c->act);
        return;
    }
#endif
    switch (c->act) {
    case WE_ACT_GELU: ACT_LOOP(we_v_gelu); break;
    case WE_ACT_GELU_QUICK: ACT_LOOP(we_v_gelu_quick); break;
    case WE_ACT_SILU: ACT_LOOP(we_v_silu); break;
    case WE_ACT_GELU_TANH: ACT_LOOP(we_v_gelu_tanh); break;
    case WE_ACT_NONE: if (y != x) memmove(y + i0, x + i0, (size_t)(i1 - i0) * sizeof(float)); break;
    }
}

static void act_run(wembed_pool *pool, float *y, const float *x, size_t n, we_act act) {
    if (n == 0) return;
    act_ctx c = {.y = y, .x = x, .n = n, .act = act};
#if defined(WE_NATIVE_GEMM)
    c.nv = we_native_vec_of(we_gemm_f32_kernel());
#endif
    we_pool_run(pool, act_task, &c);
}

void we_gelu(wembed_pool *pool, float *y, const float *x, size_t n) { act_run(pool, y, x, n, WE_ACT_GELU); }
void we_gelu_quick(wembed_pool *pool, float *y, const float *x, size_t n) { act_run(pool, y, x, n, WE_ACT_GELU_QUICK); }
void we_silu(wembed_pool *pool, float *y, const float *x, size_t n) { act_run(pool, y, x, n, WE_ACT_SILU); }
void we_gelu_tanh(wembed_pool *pool, float *y, const float *x, size_t n) { act_run(pool, y, x, n, WE_ACT_GELU_TANH); }

// -----------------------------------------------------------------------------------------
// Softmax: max (pmax; a NaN may be dropped there, but it still turns its own exp and so the
// sum into NaN), exp(x - max) with the sum, then a multiply by 1 / sum.

typedef struct rows_ctx {
    float *y; int ldy;
    const float *x; int ldx;
    const float *gamma, *beta;
    float offset;               // RMSNorm: the scale is offset + gamma
    int T, N;
    float eps;
#if defined(WE_NATIVE_GEMM)
    const we_native_vec *nv;    // layer norm: the native row kernel, or NULL
#endif
} rows_ctx;

static WE_NOINLINE void softmax_row(float *x, int N) {
    v128_t m = wasm_f32x4_splat(-INFINITY);
    int k = 0;
    for (; k + 4 <= N; k += 4) m = wasm_f32x4_pmax(m, wasm_v128_load(x + k));
    if (k < N) {
        float t[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
        memcpy(t, x + k, (size_t)(N - k) * sizeof(float));
        m = wasm_f32x4_pmax(m, wasm_v128_load(t));
    }
    const v128_t mx = wasm_f32x4_splat(we_v_hmax(m));
    v128_t s = wasm_f32x4_splat(0.0f);
    for (k = 0; k + 4 <= N; k += 4) {
        v128_t e = we_v_exp(wasm_f32x4_sub(wasm_v128_load(x + k), mx));
        wasm_v128_store(x + k, e);
        s = wasm_f32x4_add(s, e);
    }
    if (k < N) {
        float t[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};   // exp(-Inf) = 0
        memcpy(t, x + k, (size_t)(N - k) * sizeof(float));
        v128_t e = we_v_exp(wasm_f32x4_sub(wasm_v128_load(t), mx));
        we_v_store_partial(x + k, e, N - k);
        s = wasm_f32x4_add(s, e);
    }
    const v128_t inv = wasm_f32x4_splat(1.0f / we_v_hsum(s));
    for (k = 0; k + 4 <= N; k += 4) wasm_v128_store(x + k, wasm_f32x4_mul(wasm_v128_load(x + k), inv));
    if (k < N) we_v_store_partial(x + k, wasm_f32x4_mul(we_v_load_partial(x + k, N - k), inv), N - k);
}

static void softmax_task(void *p, int ith, int nth) {
    const rows_ctx *c = p;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) softmax_row(c->y + t * c->ldy, c->N);
}

void we_softmax(wembed_pool *pool, float *x, int ldx, int T, int N) {
    if (T <= 0 || N <= 0) return;
    rows_ctx c = {.y = x, .ldy = ldx, .T = T, .N = N};
    we_pool_run(pool, softmax_task, &c);
}

// -----------------------------------------------------------------------------------------
// Layer norm. Mean and variance accumulate in f64x2 and x - mean is formed in double: with
// float sums a row with a large common offset (BERT has outlier channels in the hundreds)
// would lose digits of x - mean, which the model tests cannot afford. The rest is float.

static inline void add_f64(v128_t *s0, v128_t *s1, v128_t v) {
    *s0 = wasm_f64x2_add(*s0, wasm_f64x2_promote_low_f32x4(v));
    *s1 = wasm_f64x2_add(*s1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1)));
}

static inline void add_sq_f64(v128_t *s0, v128_t *s1, v128_t v, v128_t mean) {
    v128_t d0 = wasm_f64x2_sub(wasm_f64x2_promote_low_f32x4(v), mean);
    v128_t d1 = wasm_f64x2_sub(wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1)), mean);
    *s0 = wasm_f64x2_add(*s0, wasm_f64x2_mul(d0, d0));
    *s1 = wasm_f64x2_add(*s1, wasm_f64x2_mul(d1, d1));
}

static inline double hsum_f64(v128_t s0, v128_t s1) {
    v128_t s = wasm_f64x2_add(s0, s1);
    return wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1);
}

// (x - mean) * rstd, in double, rounded to float
static inline v128_t norm4(v128_t v, v128_t mean, v128_t rstd) {
    v128_t d0 = wasm_f64x2_mul(wasm_f64x2_sub(wasm_f64x2_promote_low_f32x4(v), mean), rstd);
    v128_t d1 = wasm_f64x2_mul(wasm_f64x2_sub(
        wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1)), mean), rstd);
    return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(d0), wasm_f32x4_demote_f64x2_zero(d1),
                              0, 1, 4, 5);
}

static WE_NOINLINE void layer_norm_row(float *y, const float *x, const float *gamma,
                                       const float *beta, int N, float eps) {
    v128_t s0 = wasm_f64x2_splat(0.0), s1 = s0;
    int k = 0;
    for (; k + 4 <= N; k += 4) add_f64(&s0, &s1, wasm_v128_load(x + k));
    if (k < N) add_f64(&s0, &s1, we_v_load_partial(x + k, N - k));        // zero padded
    double mean = hsum_f64(s0, s1) / N;
    const v128_t mv = wasm_f64x2_splat(mean);
    s0 = s1 = wasm_f64x2_splat(0.0);
    for (k = 0; k + 4 <= N; k += 4) add_sq_f64(&s0, &s1, wasm_v128_load(x + k), mv);
    double var = hsum_f64(s0, s1);
    for (; k < N; k++) var += ((double)x[k] - mean) * ((double)x[k] - mean);
    var /= N;
    const v128_t rv = wasm_f64x2_splat(1.0 / sqrt(var + (double)eps));
    for (k = 0; k < N; k += 4) {
        int n = WE_MIN(4, N - k);
        v128_t v = norm4(n == 4 ? wasm_v128_load(x + k) : we_v_load_partial(x + k, n), mv, rv);
        if (gamma) v = wasm_f32x4_mul(v, n == 4 ? wasm_v128_load(gamma + k) : we_v_load_partial(gamma + k, n));
        if (beta) v = wasm_f32x4_add(v, n == 4 ? wasm_v128_load(beta + k) : we_v_load_partial(beta + k, n));
        if (n == 4) wasm_v128_store(y + k, v);
        else we_v_store_partial(y + k, v, n);
    }
}

static void layer_norm_task(void *p, int ith, int nth) {
    const rows_ctx *c = p;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    void (*row)(float *, const float *, const float *, const float *, int, float) = layer_norm_row;
#if defined(WE_NATIVE_GEMM)
    if (c->nv) row = c->nv->layer_norm_row;
#endif
    for (int64_t t = t0; t < t1; t++) row(c->y + t * c->ldy, c->x + t * c->ldx, c->gamma, c->beta, c->N, c->eps);
}

void we_layer_norm(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                   const float *gamma, const float *beta, int T, int N, float eps) {
    if (T <= 0 || N <= 0) return;
    rows_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx, .gamma = gamma, .beta = beta,
                  .T = T, .N = N, .eps = eps};
#if defined(WE_NATIVE_GEMM)
    c.nv = we_native_vec_of(we_gemm_f32_kernel());
#endif
    we_pool_run(pool, layer_norm_task, &c);
}

// -----------------------------------------------------------------------------------------
// RMSNorm. The sum of squares accumulates in f64x2 (as layer norm's statistics) and x * rstd
// is formed in double, rounded once; then the float scale (offset + gamma), as torch computes
// Gemma's (1 + w) in float.

static inline void add_sq0_f64(v128_t *s0, v128_t *s1, v128_t v) {
    v128_t d0 = wasm_f64x2_promote_low_f32x4(v);
    v128_t d1 = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    *s0 = wasm_f64x2_add(*s0, wasm_f64x2_mul(d0, d0));
    *s1 = wasm_f64x2_add(*s1, wasm_f64x2_mul(d1, d1));
}

static WE_NOINLINE void rms_norm_row(float *y, const float *x, const float *gamma, float offset,
                                     int N, float eps) {
    v128_t s0 = wasm_f64x2_splat(0.0), s1 = s0;
    int k = 0;
    for (; k + 4 <= N; k += 4) add_sq0_f64(&s0, &s1, wasm_v128_load(x + k));
    if (k < N) add_sq0_f64(&s0, &s1, we_v_load_partial(x + k, N - k));     // zero padded
    const v128_t zero = wasm_f64x2_splat(0.0);
    const v128_t rv = wasm_f64x2_splat(1.0 / sqrt(hsum_f64(s0, s1) / N + (double)eps));
    const v128_t off = wasm_f32x4_splat(offset);
    for (k = 0; k < N; k += 4) {
        int n = WE_MIN(4, N - k);
        v128_t v = norm4(n == 4 ? wasm_v128_load(x + k) : we_v_load_partial(x + k, n), zero, rv);
        if (gamma)
            v = wasm_f32x4_mul(v, wasm_f32x4_add(off, n == 4 ? wasm_v128_load(gamma + k) : we_v_load_partial(gamma + k, n)));
        if (n == 4) wasm_v128_store(y + k, v);
        else we_v_store_partial(y + k, v, n);
    }
}

static void rms_norm_task(void *p, int ith, int nth) {
    const rows_ctx *c = p;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++)
        rms_norm_row(c->y + t * c->ldy, c->x + t * c->ldx, c->gamma, c->offset, c->N, c->eps);
}

void we_rms_norm(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                 const float *gamma, float offset, int T, int N, float eps) {
    if (T <= 0 || N <= 0) return;
    rows_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx, .gamma = gamma, .offset = offset,
                  .T = T, .N = N, .eps = eps};
    we_pool_run(pool, rms_norm_task, &c);
}
