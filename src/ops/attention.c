// attention.c - tiled attention with an online softmax, and rotary embeddings (attention.h).
//
// Per head, K is packed once as the "weights" of a GEMM (N = T keys, K = head_dim) and V in
// blocks of BC keys as the weights of a (N = head_dim, K = BC) GEMM. The work is split into
// tasks of BR query rows of one head; a task scales its query rows once (Q' = Q * scale) and
// walks the key blocks:
//     S  (BR, BC) = Q' K_block^T                       (GEMM, then masking for causal)
//     m' = max(m, rowmax S);  P = exp(S - m');  l = l e^(m - m') + rowsum P
//     acc = acc e^(m - m') + P V_block                 (the GEMM adds into acc)
// and writes acc / l. Memory: the packed K and V (2 T E floats) plus a few tiles per thread.
// Tasks go to whichever thread is free (we_queue); each writes its own output rows.
//
// Sizes, measured (nomic-size heads, d = 64, T = 2048, Node, one thread): the two GEMMs
// dominate; with BR = 32 and BC = 64 the softmax bookkeeping between them was scalar and the
// attention ran at ~18 GFLOP/s. BR = 40 fills the GEMM's 5-row tiles (32 left a 2-row tile,
// 9% of rows wasted), BC = 256 gives the P V GEMM a longer inner loop and the bookkeeping 4x
// fewer rescales, and the row loops are vector code.
#include "attention.h"

#include <math.h>
#include <string.h>

#include "../core/pool.h"
#include "ops.h"
#if defined(WEMBED_SIMD)
#include "arch/wasm/vmath.h"
#endif

#define BR 40      // query rows per task (a multiple of the GEMM's 5-row tile)
#define BC 256     // keys per block (a multiple of WE_GEMM_NR, so K blocks start on a panel)

static size_t kp_floats(int T, int d) { return we_gemm_f32_packed_floats(T, d); }
static size_t vblock_floats(int d) { return we_gemm_f32_packed_floats(d, BC); }
static int n_blocks(int T) { return (T + BC - 1) / BC; }
static size_t tile_floats(int d) { return (size_t)BR * BC + 2 * (size_t)BR * d + 2 * BR; }

size_t we_attention_scratch_floats(int T, int n_head, int head_dim, int n_threads) {   // TEMP shim until GQA
    if (T <= 0) return 0;
    return (size_t)n_head * (kp_floats(T, head_dim) + (size_t)n_blocks(T) * vblock_floats(head_dim)) +
           (size_t)WE_MAX(n_threads, 1) * tile_floats(head_dim);
}

// -----------------------------------------------------------------------------------------

typedef struct attn_ctx {
    float *o;
    const float *q, *k, *v;
    int ldo, ldq, ldk, ldv, T, H, d;
    float scale;
    bool causal;
    float *kp, *vp, *tiles;      // packed K per head, packed V blocks per head, thread tiles
    we_queue tasks;              // (head, block of BR query rows), whoever is free takes the next
} attn_ctx;

static void pack_task(void *p, int ith, int nth) {
    attn_ctx *c = p;
    int64_t h0, h1;
    we_split(c->H, 1, ith, nth, &h0, &h1);
    int T = c->T, d = c->d, nb = n_blocks(T);
    for (int h = (int)h0; h < (int)h1; h++) {
        float *kp = c->kp + (size_t)h * kp_floats(T, d);
        memset(kp, 0, kp_floats(T, d) * sizeof(float));        // panel padding must be 0
        for (int j = 0; j < T; j++) {
            const float *kr = c->k + (size_t)j * c->ldk + (size_t)h * d;
            for (int e = 0; e < d; e++) kp[we_gemm_f32_packed_index(j, e, T, d)] = kr[e];
        }
        for (int b = 0; b < nb; b++) {
            int j0 = b * BC, bc = WE_MIN(BC, T - j0);
            float *vp = c->vp + ((size_t)h * nb + b) * vblock_floats(d);
            memset(vp, 0, vblock_floats(d) * sizeof(float));
            for (int jj = 0; jj < bc; jj++) {
                const float *vr = c->v + (size_t)(j0 + jj) * c->ldv + (size_t)h * d;
                for (int e = 0; e < d; e++) vp[we_gemm_f32_packed_index(e, jj, d, bc)] = vr[e];
            }
        }
    }
}

// Row helpers, vector code where the build has it (the tails and the scalar build in C).

// y[0..n) = x[0..n) * a
static void mul_row(float *y, const float *x, int n, float a) {
    int i = 0;
#if defined(WEMBED_SIMD)
    v128_t va = wasm_f32x4_splat(a);
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(x + i), va));
#endif
    for (; i < n; i++) y[i] = x[i] * a;
}

// max of p[0..n), n >= 1 (a NaN may or may not win: the exp below turns it into NaN anyway
// only where it is kept, as the scalar reference of the old loop did)
static float max_row(const float *p, int n) {
    float mx = -INFINITY;
    int i = 0;
#if defined(WEMBED_SIMD)
    if (n >= 4) {
        v128_t vm = wasm_v128_load(p);
        for (i = 4; i + 4 <= n; i += 4) vm = wasm_f32x4_pmax(vm, wasm_v128_load(p + i));
        mx = we_v_hmax(vm);
    }
#endif
    for (; i < n; i++) mx = p[i] > mx ? p[i] : mx;
    return mx;
}

// p[0..n) = exp(p - m), flushed to 0 below 2^-64; returns their sum. m is finite.
// Why the flush: the largest weight of a row is exp(0) = 1, so even T = 2^30 weights below
// 2^-64 change no sum or output by as much as an ulp. But left in, they make subnormals: as
// weights (below 2^-126) and as products of the P V GEMM (a weight of 1e-30 times a value of
// 1e-9), and every multiply that produces or meets one takes a microcode assist on x86 (V8
// keeps IEEE subnormals). Sharply peaked rows are full of them: without the flush, attention
// over 2048 tokens of a random-weight nomic ran 1.4x slower.
#define EXP_FLUSH (-44.3614195558365f)   // ln(2^-64)

static float exp_sub_sum(float *p, int n, float m) {
    float sum = 0;
    int i = 0;
#if defined(WEMBED_SIMD)
    v128_t vm = wasm_f32x4_splat(m), vs = wasm_f32x4_splat(0.0f), lo = wasm_f32x4_splat(EXP_FLUSH);
    for (; i + 4 <= n; i += 4) {
        v128_t x = wasm_f32x4_sub(wasm_v128_load(p + i), vm);   // exp(pmax(x, lo)) stays normal
        v128_t e = wasm_v128_andnot(we_v_exp_neg(wasm_f32x4_pmax(x, lo)), wasm_f32x4_lt(x, lo));   // NaN stays
        wasm_v128_store(p + i, e);
        vs = wasm_f32x4_add(vs, e);
    }
    sum = we_v_hsum(vs);
#endif
    for (; i < n; i++) {
        float x = p[i] - m;
        p[i] = x < EXP_FLUSH ? 0.0f : expf(x);
        sum += p[i];
    }
    return sum;
}

static void attn_task(void *p, int ith, int nth) {
    attn_ctx *c = p;
    int T = c->T, d = c->d, nb = n_blocks(T), nqb = (T + BR - 1) / BR;
    float *S = c->tiles + (size_t)ith * tile_floats(d);                  // (BR, BC)
    float *qs = S + (size_t)BR * BC, *acc = qs + (size_t)BR * d;         // (BR, d) each
    float *m = acc + (size_t)BR * d, *l = m + BR;                        // (BR) each
    (void)nth;
    int64_t task;
    while (we_queue_take(&c->tasks, &task)) {
        int h = (int)(task / nqb), i0 = (int)(task % nqb) * BR, br = WE_MIN(BR, T - i0);
        const float *kp = c->kp + (size_t)h * kp_floats(T, d);
        for (int r = 0; r < br; r++) {
            mul_row(qs + (size_t)r * d, c->q + (size_t)(i0 + r) * c->ldq + (size_t)h * d, d, c->scale);
            m[r] = -INFINITY;
            l[r] = 0;
        }
        memset(acc, 0, sizeof(float) * (size_t)br * d);
        int bend = c->causal ? (i0 + br - 1) / BC + 1 : nb;
        for (int b = 0; b < bend; b++) {
            int j0 = b * BC, bc = WE_MIN(BC, T - j0);
            we_gemm_f32(NULL, S, BC, qs, d, kp + (size_t)(j0 / WE_GEMM_NR) * d * WE_GEMM_NR,
                        NULL, br, d, bc, WE_ACT_NONE);
            for (int r = 0; r < br; r++) {
                float *s = S + (size_t)r * BC;
                int n = bc;
                if (c->causal && j0 + bc > i0 + r + 1) n = WE_MAX(0, i0 + r + 1 - j0);   // keys past i
                float mx = n > 0 ? max_row(s, n) : -INFINITY;
                float m_new = mx > m[r] ? mx : m[r];
                if (n == 0 || m_new == -INFINITY) {
                    memset(s, 0, sizeof(float) * (size_t)bc);         // nothing seen yet: weights 0
                    continue;
                }
                memset(s + n, 0, sizeof(float) * (size_t)(bc - n));  // masked keys: weight exactly 0
                float sum = exp_sub_sum(s, n, m_new);
                if (m[r] != -INFINITY && m_new != m[r]) {             // rescale what came before
                    float alpha = m[r] - m_new >= EXP_FLUSH ? expf(m[r] - m_new) : 0.0f;
                    l[r] *= alpha;
                    mul_row(acc + (size_t)r * d, acc + (size_t)r * d, d, alpha);
                }
                l[r] += sum;
                m[r] = m_new;
            }
            const float *vp = c->vp + ((size_t)h * nb + b) * vblock_floats(d);
            we_gemm_f32_add(NULL, acc, d, S, BC, vp, br, bc, d);
        }
        for (int r = 0; r < br; r++)
            mul_row(c->o + (size_t)(i0 + r) * c->ldo + (size_t)h * d, acc + (size_t)r * d, d, 1.0f / l[r]);
    }
}

void we_attention(wembed_pool *pool, float *o, int ldo, const float *q, int ldq, const float *k, int ldk,
                  const float *v, int ldv, const we_attn_params *p, float *scratch) {
    int T = p->T, n_head = p->n_head, head_dim = p->head_dim;
    float scale = p->scale;
    bool causal = p->causal;
    if (T <= 0) return;
    attn_ctx c = { o, q, k, v, ldo, ldq, ldk, ldv, T, n_head, head_dim, scale, causal, NULL, NULL, NULL, {0} };
    we_queue_init(&c.tasks, (int64_t)n_head * ((T + BR - 1) / BR));
    c.kp = scratch;
    c.vp = c.kp + (size_t)n_head * kp_floats(T, head_dim);
    c.tiles = c.vp + (size_t)n_head * n_blocks(T) * vblock_floats(head_dim);
    we_pool_run(pool, pack_task, &c);
    we_pool_run(pool, attn_task, &c);
}

// -----------------------------------------------------------------------------------------
// Reference

typedef struct ref_ctx {
    float *o;
    const float *q, *k, *v;
    int ldo, ldq, ldk, ldv, T, H, d;
    float scale;
    bool causal;
    double *scratch;
} ref_ctx;

static void ref_task(void *p, int ith, int nth) {
    ref_ctx *c = p;
    double *sc = c->scratch + (size_t)ith * c->T;
    int64_t r0, r1;
    we_split((int64_t)c->H * c->T, 1, ith, nth, &r0, &r1);
    for (int64_t task = r0; task < r1; task++) {
        int h = (int)(task / c->T), i = (int)(task % c->T), d = c->d;
        int n = c->causal ? i + 1 : c->T;
        const float *qi = c->q + (size_t)i * c->ldq + (size_t)h * d;
        double mx = -INFINITY;
        for (int j = 0; j < n; j++) {
            const float *kj = c->k + (size_t)j * c->ldk + (size_t)h * d;
            double s = 0;
            for (int e = 0; e < d; e++) s += (double)qi[e] * kj[e];
            sc[j] = s * c->scale;
            if (sc[j] > mx) mx = sc[j];
        }
        double sum = 0;
        for (int j = 0; j < n; j++) sum += sc[j] = exp(sc[j] - mx);
        float *oi = c->o + (size_t)i * c->ldo + (size_t)h * d;
        for (int e = 0; e < d; e++) {
            double acc = 0;
            for (int j = 0; j < n; j++) acc += sc[j] * c->v[(size_t)j * c->ldv + (size_t)h * d + e];
            oi[e] = (float)(acc / sum);
        }
    }
}

void we_attention_ref(wembed_pool *pool, float *o, int ldo, const float *q, int ldq, const float *k, int ldk,
                      const float *v, int ldv, const we_attn_params *p, double *scratch) {
    int T = p->T, n_head = p->n_head, head_dim = p->head_dim;
    float scale = p->scale;
    bool causal = p->causal;
    ref_ctx c = { o, q, k, v, ldo, ldq, ldk, ldv, T, n_head, head_dim, scale, causal, scratch };
    we_pool_run(pool, ref_task, &c);
}

// -----------------------------------------------------------------------------------------
// Rotary embeddings

void we_rope_tables(float *cos_t, float *sin_t, int T, int pos0, int rot, double base) {
    int half = rot / 2;
    for (int i = 0; i < half; i++) {
        double inv_freq = 1.0 / pow(base, (2.0 * i) / rot);
        for (int t = 0; t < T; t++) {
            double a = (double)(pos0 + t) * inv_freq;
            cos_t[(size_t)t * half + i] = (float)cos(a);
            sin_t[(size_t)t * half + i] = (float)sin(a);
        }
    }
}

double we_rope_ntk_base(double base, int rot, double factor, int L, int Lmax) {
    if (factor <= 0 || L <= Lmax) return base;
    return base * pow(factor * L / Lmax - (factor - 1), (double)rot / (rot - 2));
}

typedef struct rope_ctx {
    float *x;
    int ldx, T, H, d, rot;
    const float *cos_t, *sin_t;
} rope_ctx;

static void rope_task(void *p, int ith, int nth) {
    rope_ctx *c = p;
    int half = c->rot / 2;
    int64_t t0, t1;
    we_split(c->T, 1, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const float *ct = c->cos_t + (size_t)t * half, *st = c->sin_t + (size_t)t * half;
        for (int h = 0; h < c->H; h++) {
            float *x = c->x + (size_t)t * c->ldx + (size_t)h * c->d;
            for (int i = 0; i < half; i++) {
                // In double, rounded once: x1 cos - x2 sin as the float64 reference has it.
                double x1 = x[i], x2 = x[i + half];
                x[i] = (float)(x1 * ct[i] - x2 * st[i]);
                x[i + half] = (float)(x2 * ct[i] + x1 * st[i]);
            }
        }
    }
}

void we_rope_apply(wembed_pool *pool, float *x, int ldx, int T, int n_head, int head_dim, int rot,
                   const float *cos_t, const float *sin_t) {
    rope_ctx c = { x, ldx, T, n_head, head_dim, rot, cos_t, sin_t };
    we_pool_run(pool, rope_task, &c);
}
