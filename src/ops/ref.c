// ref.c - the scalar reference of every op in ops.h: the definition of right, which the
// optimized kernels are tested against (tests/test-kernels.c).
//
// Plain C, written to be read. The GEMMs accumulate in float in k order (the optimized
// kernels do the same, so they can be compared bit for bit); activations, softmax, layer
// norm and RMSNorm compute in double and round once, so they are as exact as float allows.
// Not optimized beyond splitting rows over the pool's threads.
#include "ops.h"

#include <math.h>
#include <string.h>

#include "../core/pool.h"

// -----------------------------------------------------------------------------------------
// Activations

static float act_ref(float v, we_act act) {
    double x = v;
    switch (act) {
    case WE_ACT_NONE: return v;
    // erfc of the negated argument instead of 1 + erf: no cancellation for x << 0
    case WE_ACT_GELU: return (float)(0.5 * x * erfc(-x * 0.70710678118654752440));
    case WE_ACT_GELU_QUICK: return (float)(x / (1.0 + exp(-1.702 * x)));
    case WE_ACT_SILU: return (float)(x / (1.0 + exp(-x)));
    // 0.5 x (1 + tanh(u)) as x / (1 + exp(-2u)): 1 + tanh(u) cancels for x << 0 (in double
    // it is off in the 7th digit at x = -6, and 0 from x = -7.2, where the result is -2e-16)
    case WE_ACT_GELU_TANH: {
        double u = 0.79788456080286535588 * (x + 0.044715 * x * x * x);   // sqrt(2/pi) (...)
        return (float)(x / (1.0 + exp(-2.0 * u)));
    }
    }
    return v;
}

typedef struct act_ctx { float *y; const float *x; size_t n; we_act act; } act_ctx;

static void act_task(void *p, int ith, int nth) {
    const act_ctx *c = p;
    int64_t i0, i1;
    we_split((int64_t)c->n, 64, ith, nth, &i0, &i1);
    for (int64_t i = i0; i < i1; i++) c->y[i] = act_ref(c->x[i], c->act);
}

static void act_run(wembed_pool *pool, float *y, const float *x, size_t n, we_act act) {
    act_ctx c = {y, x, n, act};
    we_pool_run(pool, act_task, &c);
}

void we_gelu_ref(wembed_pool *pool, float *y, const float *x, size_t n) { act_run(pool, y, x, n, WE_ACT_GELU); }
void we_gelu_quick_ref(wembed_pool *pool, float *y, const float *x, size_t n) { act_run(pool, y, x, n, WE_ACT_GELU_QUICK); }
void we_silu_ref(wembed_pool *pool, float *y, const float *x, size_t n) { act_run(pool, y, x, n, WE_ACT_SILU); }
void we_gelu_tanh_ref(wembed_pool *pool, float *y, const float *x, size_t n) { act_run(pool, y, x, n, WE_ACT_GELU_TANH); }

// -----------------------------------------------------------------------------------------
// f32 GEMM

typedef struct gemm_ctx {
    float *y; int ldy;
    const float *x; int ldx;
    const float *W;             // f32: (N, K)
    const int8_t *Wq;           // q8: (N, K)
    const float *ws;            // q8: (N)
    const float *b;             // (N) or NULL
    int T, K, N;
    we_act act;
    float *sx;                  // q8: (T)
    int8_t *qx;                 // q8: (T, K)
    bool add;                   // f32: y += the sum (we_gemm_f32_add_ref)
} gemm_ctx;

static void gemm_f32_task(void *p, int ith, int nth) {
    const gemm_ctx *c = p;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const float *x = c->x + t * c->ldx;               // (K)
        for (int n = 0; n < c->N; n++) {
            const float *w = c->W + (size_t)n * c->K;    // (K)
            float s = 0.0f;
            for (int k = 0; k < c->K; k++) s += x[k] * w[k];
            if (c->add) s = c->y[t * c->ldy + n] + s;
            if (c->b) s += c->b[n];
            c->y[t * c->ldy + n] = act_ref(s, c->act);
        }
    }
}

void we_gemm_f32_ref(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                     const float *W, const float *b, int T, int K, int N, we_act act) {
    gemm_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx, .W = W, .b = b,
                  .T = T, .K = K, .N = N, .act = act};
    we_pool_run(pool, gemm_f32_task, &c);
}

void we_gemm_f32_add_ref(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                         const float *W, int T, int K, int N) {
    gemm_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx, .W = W, .T = T, .K = K, .N = N,
                  .act = WE_ACT_NONE, .add = true};
    we_pool_run(pool, gemm_f32_task, &c);
}

// -----------------------------------------------------------------------------------------
// int8 quantization and GEMM

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

// One row: returns the scale. The SIMD kernels quantize activations with the same
// arithmetic (same max, same 127/max, same ties-to-even), so both get the same integers.
static float quantize_row(int8_t *q, const float *x, int K) {
    uint32_t amax = 0;                         // max |x| compared as bits: NaN > Inf > finite
    for (int k = 0; k < K; k++) {
        uint32_t a = f32_bits(x[k]) & 0x7fffffffu;
        if (a > amax) amax = a;
    }
    if (amax >= 0x7f800000u) { memset(q, 0, (size_t)K); return NAN; }
    float m = bits_f32(amax);
    if (m < 1e-30f) { memset(q, 0, (size_t)K); return 0.0f; }
    float id = 127.0f / m;
    for (int k = 0; k < K; k++) q[k] = (int8_t)nearbyintf(x[k] * id);   // |x * id| < 127.5
    return m / 127.0f;
}

void we_quantize_rows_q8(int8_t *q, float *s, const float *x, int rows, int K) {
    for (int r = 0; r < rows; r++) s[r] = quantize_row(q + (size_t)r * K, x + (size_t)r * K, K);
}

static void quantize_task(void *p, int ith, int nth) {
    const gemm_ctx *c = p;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++)
        c->sx[t] = quantize_row(c->qx + t * c->K, c->x + t * c->ldx, c->K);
}

static void gemm_q8_task(void *p, int ith, int nth) {
    const gemm_ctx *c = p;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const int8_t *qx = c->qx + t * c->K;             // (K)
        for (int n = 0; n < c->N; n++) {
            const int8_t *w = c->Wq + (size_t)n * c->K;  // (K)
            int32_t acc = 0;
            for (int k = 0; k < c->K; k++) acc += (int32_t)qx[k] * w[k];
            float s = (float)acc * (c->sx[t] * c->ws[n]);
            if (c->b) s += c->b[n];
            c->y[t * c->ldy + n] = act_ref(s, c->act);
        }
    }
}

void we_gemm_q8_ref(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                    const int8_t *Wq, const float *ws, const float *b, int T, int K, int N,
                    we_act act, void *scratch) {
    // scratch (we_gemm_q8_scratch_bytes): sx (T) at a 16-byte boundary, then qx (T, K)
    uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 15) & ~(uintptr_t)15);
    size_t sx_bytes = ((size_t)T * sizeof(float) + 15) & ~(size_t)15;
    gemm_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx, .Wq = Wq, .ws = ws, .b = b,
                  .T = T, .K = K, .N = N, .act = act,
                  .sx = (float *)base, .qx = (int8_t *)(base + sx_bytes)};
    we_pool_run(pool, quantize_task, &c);
    we_pool_run(pool, gemm_q8_task, &c);
}

// -----------------------------------------------------------------------------------------
// 4-bit quantization and GEMM

void we_quantize_row_q4(int8_t *q, float *d, const float *x, int K) {
    for (int b = 0; b < we_q4_blocks(K); b++) {
        int k0 = b * WE_Q4_BLOCK, n = WE_MIN(WE_Q4_BLOCK, K - k0);
        int8_t *qb = q + k0;
        memset(qb, 0, WE_Q4_BLOCK);
        float m = 0.0f, am = 0.0f;
        bool finite = true;
        for (int j = 0; j < n; j++) {
            float v = x[k0 + j];
            finite = finite && isfinite(v);
            if (fabsf(v) > am) { am = fabsf(v); m = v; }
        }
        if (!finite) { d[b] = NAN; continue; }
        if (am < 1e-30f) { d[b] = 0.0f; continue; }
        d[b] = m / -8.0f;                 // exact: m's element becomes -8
        float id = 1.0f / d[b];
        for (int j = 0; j < n; j++) {
            float r = nearbyintf(x[k0 + j] * id);
            qb[j] = (int8_t)(r > 7.0f ? 7 : r < -8.0f ? -8 : r);
        }
    }
}

// q + 8 of weight (n, k) in the rows layout.
static int q4_get(const uint8_t *W4, int n, int k, int N, int K) {
    bool high;
    uint8_t b = W4[we_gemm_q4_nibble(n, k, N, K, false, &high)];
    return high ? b >> 4 : b & 0x0F;
}

typedef struct q4_ctx {
    float *y; int ldy;
    const float *x; int ldx;
    const uint8_t *W4; const float *ws; const float *b;
    int T, K, N, nb;
    we_act act;
    float *sx;                  // (T, nb)
    int8_t *qx;                 // (T, nb * WE_Q4_BLOCK)
} q4_ctx;

// Activations per block with the int8 rule of quantize_row (the SIMD kernels match it).
static void q4_quantize_task(void *p, int ith, int nth) {
    const q4_ctx *c = p;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++)
        for (int b = 0; b < c->nb; b++) {
            int k0 = b * WE_Q4_BLOCK, n = WE_MIN(WE_Q4_BLOCK, c->K - k0);
            int8_t *q = c->qx + (t * c->nb + b) * WE_Q4_BLOCK;
            memset(q, 0, WE_Q4_BLOCK);
            c->sx[t * c->nb + b] = quantize_row(q, c->x + t * c->ldx + k0, n);
        }
}

static void gemm_q4_task(void *p, int ith, int nth) {
    const q4_ctx *c = p;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        for (int n = 0; n < c->N; n++) {
            float acc = 0.0f;
            for (int b = 0; b < c->nb; b++) {
                const int8_t *q = c->qx + (t * c->nb + b) * WE_Q4_BLOCK;
                int32_t isum = 0;
                for (int j = 0; j < WE_Q4_BLOCK && b * WE_Q4_BLOCK + j < c->K; j++)
                    isum += (int32_t)q[j] * (q4_get(c->W4, n, b * WE_Q4_BLOCK + j, c->N, c->K) - 8);
                acc += (float)isum * (c->sx[t * c->nb + b] * c->ws[(size_t)n * c->nb + b]);
            }
            if (c->b) acc += c->b[n];
            c->y[t * c->ldy + n] = act_ref(acc, c->act);
        }
    }
}

void we_gemm_q4_ref(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                    const uint8_t *W4, const float *ws, const float *b, int T, int K, int N,
                    we_act act, void *scratch) {
    // scratch (we_gemm_q4_scratch_bytes): sx (T, nb) at a 16-byte boundary, then qx
    int nb = we_q4_blocks(K);
    uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 15) & ~(uintptr_t)15);
    size_t sx_bytes = ((size_t)T * (size_t)nb * sizeof(float) + 15) & ~(size_t)15;
    q4_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx, .W4 = W4, .ws = ws, .b = b,
                .T = T, .K = K, .N = N, .nb = nb, .act = act,
                .sx = (float *)base, .qx = (int8_t *)(base + 2 * sx_bytes)};
    we_pool_run(pool, q4_quantize_task, &c);
    we_pool_run(pool, gemm_q4_task, &c);
}

// -----------------------------------------------------------------------------------------
// Softmax, layer norm and RMSNorm

typedef struct rows_ctx {
    float *y; int ldy;
    const float *x; int ldx;
    const float *gamma, *beta;
    float offset;               // RMSNorm: the scale is offset + gamma
    int T, N;
    float eps;
} rows_ctx;

static void softmax_task(void *p, int ith, int nth) {
    const rows_ctx *c = p;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        float *x = c->y + t * c->ldy;                     // (N), in place
        double m = -INFINITY, sum = 0.0;
        bool nan = false;
        for (int i = 0; i < c->N; i++) {
            if (isnan(x[i])) nan = true;
            if (x[i] > m) m = x[i];
        }
        if (nan) m = NAN;
        for (int i = 0; i < c->N; i++) sum += exp((double)x[i] - m);
        for (int i = 0; i < c->N; i++) x[i] = (float)(exp((double)x[i] - m) / sum);
    }
}

void we_softmax_ref(wembed_pool *pool, float *x, int ldx, int T, int N) {
    rows_ctx c = {.y = x, .ldy = ldx, .T = T, .N = N};
    we_pool_run(pool, softmax_task, &c);
}

static void layer_norm_task(void *p, int ith, int nth) {
    const rows_ctx *c = p;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const float *x = c->x + t * c->ldx;               // (N)
        float *y = c->y + t * c->ldy;                     // (N)
        double mean = 0.0, var = 0.0;
        for (int i = 0; i < c->N; i++) mean += x[i];
        mean /= c->N;
        for (int i = 0; i < c->N; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
        var /= c->N;
        double r = 1.0 / sqrt(var + (double)c->eps);
        for (int i = 0; i < c->N; i++) {
            double v = ((double)x[i] - mean) * r;
            if (c->gamma) v *= c->gamma[i];
            if (c->beta) v += c->beta[i];
            y[i] = (float)v;
        }
    }
}

void we_layer_norm_ref(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                       const float *gamma, const float *beta, int T, int N, float eps) {
    if (N <= 0) return;
    rows_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx, .gamma = gamma, .beta = beta,
                  .T = T, .N = N, .eps = eps};
    we_pool_run(pool, layer_norm_task, &c);
}

static void rms_norm_task(void *p, int ith, int nth) {
    const rows_ctx *c = p;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const float *x = c->x + t * c->ldx;               // (N)
        float *y = c->y + t * c->ldy;                     // (N)
        double ss = 0.0;
        for (int i = 0; i < c->N; i++) ss += (double)x[i] * x[i];
        double r = 1.0 / sqrt(ss / c->N + (double)c->eps);
        for (int i = 0; i < c->N; i++) {
            double v = (double)x[i] * r;
            if (c->gamma) v *= (double)c->offset + c->gamma[i];
            y[i] = (float)v;
        }
    }
}

void we_rms_norm_ref(wembed_pool *pool, float *y, int ldy, const float *x, int ldx,
                     const float *gamma, float offset, int T, int N, float eps) {
    if (N <= 0) return;
    rows_ctx c = {.y = y, .ldy = ldy, .x = x, .ldx = ldx, .gamma = gamma, .offset = offset,
                  .T = T, .N = N, .eps = eps};
    we_pool_run(pool, rms_norm_task, &c);
}
